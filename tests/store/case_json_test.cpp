// The stored case state: every field survives a write and a read, enums are stored by name,
// numbers from before still read, and a value this binary does not know is an error naming the
// field, never a default.
#include "case_fields.hpp"
#include "store/case_json.hpp"
#include "store/json_text.hpp"

#include <gtest/gtest.h>

#include <limits>
#include <span>
#include <string>

using namespace dunning;
using namespace dunning::testing;
using dunning::store::CaseStateError;
using dunning::store::state_from_json;
using dunning::store::state_from_text;
using dunning::store::state_to_json;
using nlohmann::json;

namespace {

Timestamp t(int n) {
    return from_unix(1'800'000'000 + n * 1000);
}

// Every field set, every optional present, every vector non-empty, every enum past its first
// value, and no two timestamps, strings or numbers alike, so a value written under another
// field's key comes back in the wrong place.
CaseState full_sample() {
    CaseState s;
    s.creator_id = "creator_sample";
    s.invoice = {.invoice_id = "in_sample",
                 .number = "N-0042",
                 .customer_id = "cus_sample",
                 .customer_email = "zoe@example.org",
                 .customer_name = "Zoë Ünal",
                 .subscription_id = "sub_sample",
                 .payment_intent_id = "pi_sample",
                 .charge_id = "ch_sample",
                 .status = "uncollectible",
                 .billing_reason = "subscription_cycle",
                 .currency = "eur",
                 .amount_due = 4900,
                 .amount_remaining = 4100,
                 .attempt_count = 3,
                 .next_payment_attempt = t(1),
                 .due_date = t(2),
                 .hosted_invoice_url = "https://invoice.example/in_sample",
                 .products = {"prod_a", "prod_b"},
                 .plan_instalments = 6,
                 .created = t(20),
                 .customer_address = {"Hauptstr. 1", "c/o Ünal", "10115", "Berlin", "BE", "DE"},
                 .description = "1 × Membership",
                 .period_start = t(21)};
    s.invoice_as_of = t(3);
    s.failed = true;
    s.opened_at = t(4);
    s.last_failure = PaymentFailure{{.code = "account_closed",
                                     .decline_code = "generic_decline",
                                     .advice_code = "do_not_try_again",
                                     .network_advice_code = "03",
                                     .message = "The account is closed."},
                                    PaymentMethodKind::sepa_debit,
                                    "pm_failed",
                                    "girocard",
                                    t(5)};
    s.action_required = true;
    s.resolution = Resolution::uncollectible;
    s.resolved_at = t(6);
    s.resolution_reason = "below_write_off_threshold";
    s.payment_processing = true;
    s.new_payment_method = "pm_new";
    s.new_payment_method_at = t(7);
    s.mandate_inactive = InactiveMandate{"mandate_sample", "pm_failed", t(25)};
    s.paid_with = PaymentMethodKind::other;
    s.dispute = DisputeRecord{"dp_sample", "lost", t(8), t(9), t(10), t(11)};
    s.attempts = {{1, t(12), "pm_first", CardNetwork::mastercard, ChargeAttempt::Outcome::rejected},
                  {2, t(13), "pm_second", CardNetwork::visa, ChargeAttempt::Outcome::abandoned}};
    s.stage_queued = 3;
    s.stage_sent = 2;
    s.failure_email_sent = true;
    s.confirmation_queued = true;
    s.final_notice_at = t(14);
    s.failure_notified = "generic_decline#2";
    s.paused = true;
    s.paused_at = t(15);
    s.paused_seconds = 86'401;
    s.stripe_disconnected_at = t(26);
    s.promise = PromiseToPay{t(20), t(21), true};
    s.objection = Objection{t(22), "member disputes the claim", "anna", t(23)};
    s.escalated_at = t(16);
    s.handover_pending_at = t(19);
    s.collection = {t(22),
                    "7",
                    "AG-1",
                    800,
                    {{"handed_over", t(23), "7", 0, "", "", ""},
                     {"partial_payment", t(24), "", 800, "2027-03-01", "AG-1", "first rate"}}};
    s.limitation_warned = 90;
    s.first_seen_at = t(17);
    s.opened_announced = true;
    s.resolved_announced = true;
    s.next_wakeup = t(18);
    return s;
}

// As the store does it: to text and back.
CaseState round_trip(const CaseState& s) {
    return state_from_text(store::state_text(s));
}

TEST(CaseJson, TheSampleSetsEveryField) {
    const auto s = full_sample();
    expect_no_field_at_default<CaseFields>(s);
    expect_no_field_at_default<InvoiceFields>(s.invoice, "invoice.");
    expect_no_field_at_default<FailureFields>(*s.last_failure, "last_failure.");
    expect_no_field_at_default<ErrorFields>(s.last_failure->error, "last_failure.error.");
    expect_no_field_at_default<DisputeFields>(*s.dispute, "dispute.");
    expect_no_field_at_default<PromiseFields>(*s.promise, "promise.");
    expect_no_field_at_default<ObjectionFields>(*s.objection, "objection.");
    expect_no_field_at_default<MandateFields>(*s.mandate_inactive, "mandate_inactive.");
    for (const auto& a : s.attempts)
        expect_no_field_at_default<AttemptFields>(a, "attempts[].");
}

TEST(CaseJson, EveryFieldSurvivesAWriteAndARead) {
    const auto s = full_sample();
    expect_states_equal(round_trip(s), s);
}

TEST(CaseJson, AnEmptyStateSurvivesAWriteAndARead) {
    expect_states_equal(round_trip(CaseState{}), CaseState{});
}

// The sample sets every flag, so a flag written under another flag's key would pass there.
TEST(CaseJson, EachFlagIsStoredUnderItsOwnKey) {
    CaseState defaults;
    const auto flags = CaseFields::tie(defaults);
    [&]<std::size_t... I>(std::index_sequence<I...>) {
        auto check = [&]<std::size_t N>(std::integral_constant<std::size_t, N>) {
            if constexpr (std::is_same_v<std::tuple_element_t<N, decltype(flags)>, bool&>) {
                CaseState s;
                std::get<N>(CaseFields::tie(s)) = true;
                SCOPED_TRACE(CaseFields::names[N]);
                expect_states_equal(round_trip(s), s);
            }
        };
        (check(std::integral_constant<std::size_t, I>{}), ...);
    }
    (std::make_index_sequence<CaseFields::names.size()>{});
}

TEST(CaseJson, EnumsAreWrittenByName) {
    const auto j = state_to_json(full_sample());
    EXPECT_EQ(j["resolution"], "uncollectible");
    EXPECT_EQ(j["paid_with"], "other");
    EXPECT_EQ(j["last_failure"]["method"], "sepa_debit");
    EXPECT_EQ(j["attempts"][0]["network"], "mastercard");
    EXPECT_EQ(j["attempts"][0]["outcome"], "rejected");
    EXPECT_EQ(j["attempts"][1]["network"], "visa");
    EXPECT_EQ(j["attempts"][1]["outcome"], "abandoned");
}

TEST(CaseJson, EveryEnumValueReadsBackByName) {
    auto s = full_sample();
    for (auto r : {Resolution::none, Resolution::written_off, Resolution::uncollectible,
                   Resolution::voided, Resolution::paid}) {
        s.resolution = r;
        EXPECT_EQ(round_trip(s).resolution, r) << to_string(r);
    }
    for (auto m : {PaymentMethodKind::unknown, PaymentMethodKind::card,
                   PaymentMethodKind::sepa_debit, PaymentMethodKind::other}) {
        s.paid_with = m;
        s.last_failure->method = m;
        EXPECT_EQ(round_trip(s).paid_with, m) << to_string(m);
        EXPECT_EQ(round_trip(s).last_failure->method, m) << to_string(m);
    }
    for (auto n :
         {CardNetwork::unknown, CardNetwork::visa, CardNetwork::mastercard, CardNetwork::other}) {
        s.attempts[0].network = n;
        EXPECT_EQ(round_trip(s).attempts[0].network, n) << to_string(n);
    }
    using O = ChargeAttempt::Outcome;
    for (auto o :
         {O::pending, O::processing, O::succeeded, O::declined, O::rejected, O::abandoned}) {
        s.attempts[0].outcome = o;
        EXPECT_EQ(round_trip(s).attempts[0].outcome, o) << to_string(o);
    }
}

// The numbers the previous version wrote: the enum's order at the time.
TEST(CaseJson, NetworksStoredAsNumbersStillRead) {
    auto j = state_to_json(full_sample());
    const std::pair<int, CardNetwork> numbered[] = {{0, CardNetwork::unknown},
                                                    {1, CardNetwork::visa},
                                                    {2, CardNetwork::mastercard},
                                                    {3, CardNetwork::other}};
    for (const auto& [number, network] : numbered) {
        j["attempts"][1]["network"] = number;
        EXPECT_EQ(state_from_json(j).attempts[1].network, network) << number;
    }
}

struct BadValue {
    json::json_pointer where;
    json value;
    std::string message;
};

// Reading `j` fails with `message`; `change` says what was done to the sample.
void expect_refused(const json& j, const std::string& change, const std::string& message) {
    try {
        state_from_json(j);
        ADD_FAILURE() << change << ", and the state was read";
    } catch (const CaseStateError& e) {
        EXPECT_EQ(std::string(e.what()), message) << change;
    }
}

// Each value set alone in the sample makes the read fail with its message.
void expect_each_refused(std::span<const BadValue> bad) {
    for (const auto& b : bad) {
        auto j = state_to_json(full_sample());
        j[b.where] = b.value;
        expect_refused(j, b.where.to_string() + " = " + b.value.dump(), b.message);
    }
}

TEST(CaseJson, AnUnknownValueIsAnErrorNamingTheFieldAndTheValue) {
    const BadValue bad[] = {
        {json::json_pointer("/resolution"), "settled", R"(resolution: unknown value "settled")"},
        {json::json_pointer("/paid_with"), "ideal", R"(paid_with: unknown value "ideal")"},
        {json::json_pointer("/last_failure/method"), "Card",
         R"(last_failure.method: unknown value "Card")"},
        {json::json_pointer("/attempts/1/outcome"), "bounced",
         R"(attempts[1].outcome: unknown value "bounced")"},
        {json::json_pointer("/attempts/0/network"), "amex",
         R"(attempts[0].network: unknown value "amex")"},
        {json::json_pointer("/attempts/0/network"), 4, "attempts[0].network: unknown value 4"},
        {json::json_pointer("/attempts/1/network"), -1, "attempts[1].network: unknown value -1"},
        {json::json_pointer("/resolution"), "", R"(resolution: unknown value "")"},
    };
    expect_each_refused(bad);
}

TEST(CaseJson, AWrongTypeOrAMissingKeyIsAnErrorNamingTheField) {
    const BadValue bad[] = {
        {json::json_pointer("/resolution"), 4, "resolution: expected a string"},
        {json::json_pointer("/failed"), nullptr, "failed: expected true or false"},
        {json::json_pointer("/invoice"), "in_1", "invoice: expected an object"},
        {json::json_pointer("/invoice/amount_due"), "5900",
         "invoice.amount_due: expected an integer"},
        {json::json_pointer("/invoice/attempt_count"), 10'000'000'000,
         "invoice.attempt_count: out of range"},
        {json::json_pointer("/invoice/products/0"), 7, "invoice.products[0]: expected a string"},
        {json::json_pointer("/attempts/1/number"), 1.5, "attempts[1].number: expected an integer"},
        {json::json_pointer("/attempts/1"), json::array(), "attempts[1]: expected an object"},
        {json::json_pointer("/collection/steps"), json::object(),
         "collection.steps: expected an array"},
        {json::json_pointer("/dispute/lost_at"), "yesterday",
         "dispute.lost_at: expected an integer"},
        {json::json_pointer("/invoice/amount_due"), std::numeric_limits<std::uint64_t>::max(),
         "invoice.amount_due: out of range"},
        {json::json_pointer("/paused"), nullptr, "paused: expected true or false"},
        {json::json_pointer("/attempts"), nullptr, "attempts: expected an array"},
    };
    expect_each_refused(bad);
    for (const auto& [where, message] :
         {std::pair{"/invoice/currency", "invoice.currency: missing"},
          std::pair{"/last_failure", "last_failure: missing"},
          std::pair{"/attempts/0/outcome", "attempts[0].outcome: missing"}}) {
        auto j = state_to_json(full_sample());
        const json::json_pointer p(where);
        j[p.parent_pointer()].erase(p.back());
        expect_refused(j, std::string(where) + " removed", message);
    }
}

TEST(CaseJson, TextThatIsNotAJsonObjectIsAnError) {
    const std::pair<std::string, bool> texts[] = {
        {"", true}, {"{", true}, {R"({"creator_id":"a",})", true}, {"[]", false}, {"null", false}};
    for (const auto& [text, malformed] : texts) {
        try {
            state_from_text(text);
            ADD_FAILURE() << text << " was read";
        } catch (const CaseStateError& e) {
            const std::string message = e.what();
            if (malformed)
                EXPECT_TRUE(message.starts_with("not JSON: ")) << text << ": " << message;
            else
                EXPECT_EQ(message, "the state: expected an object") << text;
        }
    }
}

// As nlohmann's reader, before, skipped it.
TEST(CaseJson, OneByteOrderMarkBeforeTheStateIsSkipped) {
    const auto text = store::state_text(full_sample());
    expect_states_equal(state_from_text("\xEF\xBB\xBF" + text), full_sample());
    EXPECT_THROW(state_from_text("\xEF\xBB\xBF\xEF\xBB\xBF" + text), CaseStateError);
}

// As nlohmann's DOM, which read the states before, kept it.
TEST(CaseJson, AKeyGivenTwiceReadsAsItsLastValue) {
    const auto text = store::state_text(full_sample()); // stage_sent 2
    const std::string key = R"("stage_sent":2,)";
    const auto at = text.find(key);
    ASSERT_NE(at, std::string::npos);
    auto nine_first = text;
    nine_first.insert(at, R"("stage_sent":9,)");
    auto nine_last = text;
    nine_last.insert(at + key.size(), R"("stage_sent":9,)");
    EXPECT_EQ(state_from_text(nine_first).stage_sent, 2);
    EXPECT_EQ(state_from_text(nine_last).stage_sent, 9);
    // Far from its place in byte order too: the fields are sorted, and the last one still wins.
    auto nine_at_the_end = text;
    nine_at_the_end.insert(nine_at_the_end.size() - 1, R"(,"stage_sent":9)");
    auto nine_at_the_start = text;
    nine_at_the_start.insert(1, R"("stage_sent":9,)");
    EXPECT_EQ(state_from_text(nine_at_the_end).stage_sent, 9);
    EXPECT_EQ(state_from_text(nine_at_the_start).stage_sent, 2);
}

// The store writes keys in byte order; a row edited by hand need not keep them so.
TEST(CaseJson, KeysInAnotherOrderReadTheSame) {
    const auto sorted = json::parse(store::state_text(full_sample()));
    const auto reversed = [](const json& object) {
        nlohmann::ordered_json out = nlohmann::ordered_json::object();
        for (auto it = object.rbegin(); it != object.rend(); ++it)
            out[it.key()] = it.value();
        return out;
    };
    auto j = reversed(sorted);
    j["invoice"] = reversed(sorted["invoice"]);
    ASSERT_TRUE(j.dump().starts_with(R"({"stripe_disconnected_at":)"));
    expect_states_equal(state_from_text(j.dump()), full_sample());
}

// Before emails were counted when they went out, "stage_sent" held the stages queued, and a
// resolved case had queued its confirmation with the resolution.
TEST(CaseJson, StatesFromBeforeSentEmailsWereCountedRead) {
    auto j = state_to_json(full_sample());
    for (const char* key : {"stage_queued", "failure_email_sent", "confirmation_queued"})
        j.erase(key);
    j["stage_sent"] = 2;
    j["resolved_announced"] = true;
    auto s = state_from_json(j);
    EXPECT_EQ(s.stage_queued, 2);
    EXPECT_EQ(s.stage_sent, 2);
    EXPECT_FALSE(s.failure_email_sent);
    EXPECT_TRUE(s.confirmation_queued);
    j["resolved_announced"] = false;
    EXPECT_FALSE(state_from_json(j).confirmation_queued);
}

// Rows written before the access controller have neither key.
TEST(CaseJson, StatesFromBeforeDisputesReadWithoutThem) {
    auto j = state_to_json(full_sample());
    j.erase("paid_with");
    j.erase("dispute");
    const auto s = state_from_json(j);
    EXPECT_EQ(s.paid_with, PaymentMethodKind::unknown);
    EXPECT_FALSE(s.dispute);
}

} // namespace

// Rows written before hold this text, and a human reads it with sqlite3: the writer keeps it as
// it was (nlohmann's dump of the state: keys in byte order, no spaces).
TEST(CaseJson, TheStoredTextIsAsItWas) {
    EXPECT_EQ(
        dunning::store::state_text(full_sample()),
        R"({"action_required":true,"attempts":[{"at":1800012000,"network":"mastercard","number")"
        R"(:1,"outcome":"rejected","payment_method_id":"pm_first"},{"at":1800013000,"network":")"
        R"(visa","number":2,"outcome":"abandoned","payment_method_id":"pm_second"}],"collection)"
        R"(":{"agency_reference":"AG-1","batch":"7","collected_minor":800,"handed_over_at":1800)"
        R"(022000,"steps":[{"amount_minor":0,"at":1800023000,"batch":"7","date":"","note":"","r)"
        R"(eference":"","what":"handed_over"},{"amount_minor":800,"at":1800024000,"batch":"","d)"
        R"(ate":"2027-03-01","note":"first rate","reference":"AG-1","what":"partial_payment"}]})"
        R"(,"confirmation_queued":true,"creator_id":"creator_sample","dispute":{"as_of":1800011)"
        R"(000,"dispute_id":"dp_sample","lost_at":1800009000,"opened_at":1800008000,"repaid_at")"
        R"(:1800010000,"status":"lost"},"escalated_at":1800016000,"failed":true,"failure_email_)"
        R"(sent":true,"failure_notified":"generic_decline#2","final_notice_at":1800014000,"firs)"
        R"(t_seen_at":1800017000,"handover_pending_at":1800019000,"invoice":{"amount_due":4900,)"
        R"("amount_remaining":4100,"attempt_count":3,"billing_reason":"subscription_cycle","cha)"
        R"(rge_id":"ch_sample","created":1800020000,"currency":"eur","customer_address":{"city")"
        R"(:"Berlin","country":"DE","line1":"Hauptstr. 1","line2":"c/o Ünal","postal_code":"101)"
        R"(15","state":"BE"},"customer_email":"zoe@example.org","customer_id":"cus_sample","cus)"
        R"(tomer_name":"Zoë Ünal","description":"1 × Membership","due_date":1800002000,"hosted_)"
        R"(invoice_url":"https://invoice.example/in_sample","invoice_id":"in_sample","next_paym)"
        R"(ent_attempt":1800001000,"number":"N-0042","payment_intent_id":"pi_sample","period_st)"
        R"(art":1800021000,"plan_instalments":6,"products":["prod_a","prod_b"],"status":"uncoll)"
        R"(ectible","subscription_id":"sub_sample"},"invoice_as_of":1800003000,"last_failure":{)"
        R"("advice_code":"do_not_try_again","at":1800005000,"card_brand":"girocard","code":"acc)"
        R"(ount_closed","decline_code":"generic_decline","message":"The account is closed.","me)"
        R"(thod":"sepa_debit","network_advice_code":"03","payment_method_id":"pm_failed"},"limi)"
        R"(tation_warned":90,"mandate_inactive":{"at":1800025000,"mandate":"mandate_sample","pa)"
        R"(yment_method":"pm_failed"},"new_payment_method":"pm_new","new_payment_method_at":180)"
        R"(0007000,"next_wakeup":1800018000,"objection":{"actor":"anna","at":1800022000,"note":)"
        R"("member disputes the claim","withdrawn_at":1800023000},"opened_announced":true,"open)"
        R"(ed_at":1800004000,"paid_with":"other","paused":true,"paused_at":1800015000,"paused_s)"
        R"(econds":86401,"payment_processing":true,"promise":{"holds_pause":true,"made_at":1800)"
        R"(021000,"until":1800020000},"resolution":"uncollectible","resolution_reason":"below_w)"
        R"(rite_off_threshold","resolved_announced":true,"resolved_at":1800006000,"stage_queued)"
        R"(":3,"stage_sent":2,"stripe_disconnected_at":1800026000})");
    EXPECT_EQ(
        dunning::store::state_text(CaseState{}),
        R"({"action_required":false,"attempts":[],"collection":{"agency_reference":"","batch":")"
        R"(","collected_minor":0,"handed_over_at":null,"steps":[]},"confirmation_queued":false,)"
        R"("creator_id":"","dispute":null,"escalated_at":null,"failed":false,"failure_email_sen)"
        R"(t":false,"failure_notified":"","final_notice_at":null,"first_seen_at":null,"handover)"
        R"(_pending_at":null,"invoice":{"amount_due":0,"amount_remaining":0,"attempt_count":0,")"
        R"(billing_reason":"","charge_id":"","created":null,"currency":"","customer_address":{")"
        R"(city":"","country":"","line1":"","line2":"","postal_code":"","state":""},"customer_e)"
        R"(mail":"","customer_id":"","customer_name":"","description":"","due_date":null,"hoste)"
        R"(d_invoice_url":"","invoice_id":"","next_payment_attempt":null,"number":"","payment_i)"
        R"(ntent_id":"","period_start":null,"plan_instalments":0,"products":[],"status":"","sub)"
        R"(scription_id":""},"invoice_as_of":0,"last_failure":null,"limitation_warned":0,"manda)"
        R"(te_inactive":null,"new_payment_method":"","new_payment_method_at":null,"next_wakeup")"
        R"(:null,"objection":null,"opened_announced":false,"opened_at":null,"paid_with":"unknow)"
        R"(n","paused":false,"paused_at":null,"paused_seconds":0,"payment_processing":false,"pr)"
        R"(omise":null,"resolution":"none","resolution_reason":"","resolved_announced":false,"r)"
        R"(esolved_at":null,"stage_queued":0,"stage_sent":0,"stripe_disconnected_at":null})");
}

// Whatever a member's name or a creator's note holds is written as nlohmann writes it, and reads
// back as it was.
TEST(CaseJson, StringsAreEscapedAsNlohmannEscapesThem) {
    for (const std::string text :
         {"plain", "quote \" inside", "back\\slash", "line\nbreak\ttab\r\b\f", "\x01\x1f",
          "del \x7f", "slash /", "Zoë Ünal", "1 × 9 €", "\xf0\x9f\x8e\x93 course", ""}) {
        CaseState s;
        s.creator_id = text;
        s.invoice.customer_name = text;
        s.invoice.products = {text, "prod"};
        const auto stored = dunning::store::state_text(s);
        EXPECT_EQ(stored, json::parse(stored).dump()) << text;
        const auto back = state_from_json(json::parse(stored));
        EXPECT_EQ(back.creator_id, text);
        EXPECT_EQ(back.invoice.customer_name, text);
        EXPECT_EQ(back.invoice.products, s.invoice.products);
    }
}

TEST(CaseJson, AStringThatIsNotUtf8IsRefused) {
    CaseState s;
    s.invoice.customer_name = "M\xfcller"; // Latin-1
    EXPECT_THROW(dunning::store::state_text(s), json::exception);
}

TEST(CaseJson, NumbersAreWrittenInFull) {
    CaseState s;
    s.invoice.amount_due = std::numeric_limits<std::int64_t>::min();
    s.invoice.amount_remaining = std::numeric_limits<std::int64_t>::max();
    s.paused_seconds = -1;
    s.stage_sent = std::numeric_limits<int>::min();
    const auto stored = dunning::store::state_text(s);
    EXPECT_EQ(stored, json::parse(stored).dump());
    expect_states_equal(state_from_json(json::parse(stored)), s);
}

TEST(JsonText, AKeyOutOfOrderIsRefused) {
    std::string out;
    dunning::store::JsonText w(out);
    dunning::store::JsonText::Object o(w);
    o.put("b", 1);
    EXPECT_THROW(o.put("a", 2), std::logic_error);
    EXPECT_THROW(o.put("b", 3), std::logic_error) << "a key twice";
    o.put("c", true);
}
