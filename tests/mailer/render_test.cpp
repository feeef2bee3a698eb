#include "mailer/render.hpp"
#include "tests/support/files.hpp"

#include <filesystem>
#include <fstream>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

namespace dunning::mailer {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

const std::string pay_url = "https://invoice.stripe.com/i/acct_1/test_x?s=ap&lang=de";
const std::string update_url = "https://billing.stripe.com/p/session/test_y";

MessageData sample() {
    MessageData d;
    d.creator_name = "Yoga mit Anna";
    d.creator_email = "anna@example.com";
    d.member_name = "Jürgen Müßig";
    d.invoice_number = "RE-2027-0042";
    d.invoice_date = "3. März 2027";
    d.amount_due = "49,00\u00A0€";
    d.total_due = "52,50\u00A0€";
    d.product_names = "Yoga Basics";
    d.pay_url = pay_url;
    d.update_payment_url = update_url;
    d.deadline = "24. März 2027";
    d.card_expiry = "03/2027";
    d.handover_announced = true;
    return d;
}

RenderedMessage render(const std::string& message, const std::string& locale,
                       const MessageData& data = sample(), const std::string& dir = "") {
    auto result = render_message(message, locale, data, dir);
    EXPECT_TRUE(result) << message << "/" << locale << ": " << (result ? "" : result.error());
    return result ? result.value() : RenderedMessage{};
}

// A scratch directory for override templates, removed afterwards.
class TemplateDir {
  public:
    TemplateDir() {
        path_ = std::filesystem::temp_directory_path() /
                ("render_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter_++));
        std::filesystem::create_directories(path_);
    }
    ~TemplateDir() {
        std::error_code ignored;
        std::filesystem::remove_all(path_, ignored);
    }
    void write(const std::string& relative, const std::string& text) const {
        std::filesystem::create_directories((path_ / relative).parent_path());
        std::ofstream(path_ / relative, std::ios::binary) << text;
    }
    std::string path() const { return path_.string(); }

  private:
    static inline int counter_ = 0;
    std::filesystem::path path_;
};

TEST(Render, MessageNames) {
    EXPECT_EQ(message_names(), (std::vector<std::string>{
                                   "reminder", "formal_reminder", "final_notice", "action_required",
                                   "update_payment_method", "payment_received", "card_expiring"}));
}

TEST(Render, EveryMessageAndLocaleMentionsAmountAndLink) {
    for (const auto& locale : {"de", "en"}) {
        for (const auto& message : message_names()) {
            SCOPED_TRACE(message + "/" + locale);
            const auto m = render(message, locale);
            EXPECT_FALSE(m.subject.empty());
            EXPECT_FALSE(m.text.empty());
            EXPECT_FALSE(m.html.empty());
            EXPECT_THAT(m.text, HasSubstr("49,00\u00A0€"));
            EXPECT_THAT(m.html, HasSubstr("49,00\u00A0€"));
            // card_expiring links to the payment-method update; every other message to the invoice.
            const std::string link = message == "card_expiring" ? update_url : pay_url;
            EXPECT_THAT(m.text, HasSubstr(link));
            std::string escaped = link;
            if (auto amp = escaped.find('&'); amp != std::string::npos)
                escaped.replace(amp, 1, "&amp;");
            EXPECT_THAT(m.html, HasSubstr("href=\"" + escaped + "\""));
            EXPECT_THAT(m.text, HasSubstr("anna@example.com"));
            EXPECT_THAT(m.text, HasSubstr("Jürgen Müßig"));
            EXPECT_THAT(m.text, Not(HasSubstr("<"))) << "the text part carries no HTML";
            EXPECT_THAT(m.text, Not(HasSubstr("\n\n\n"))) << "no stray blank lines";
            EXPECT_THAT(m.text + m.html, Not(HasSubstr("{{")));
            EXPECT_THAT(m.text + m.html, Not(HasSubstr("\x01")));
            EXPECT_EQ(m.subject.find('\n'), std::string::npos);
            EXPECT_THAT(m.html, HasSubstr("<html lang=\"" + std::string(locale) + "\">"));
        }
    }
}

TEST(Render, LadderStagesCarryThePromiseLinkOnlyWhenGiven) {
    auto d = sample();
    d.promise_url = "https://pay.example/promise/alpha.7.1800000000.ab&cd";
    for (const std::string locale : {"de", "en"})
        for (const std::string message : {"reminder", "formal_reminder", "final_notice"}) {
            SCOPED_TRACE(locale + "/" + message);
            const auto with = render(message, locale, d);
            EXPECT_NE(with.text.find(d.promise_url), std::string::npos);
            EXPECT_NE(
                with.html.find("href=\"https://pay.example/promise/alpha.7.1800000000.ab&amp;cd\""),
                std::string::npos);
            const auto without = render(message, locale);
            EXPECT_EQ(without.text.find("/promise/"), std::string::npos);
            EXPECT_EQ(without.html.find("/promise/"), std::string::npos);
        }
    d.promise_url = "javascript:alert(1)";
    EXPECT_FALSE(render_message("reminder", "en", d));
}

TEST(Render, Subjects) {
    EXPECT_EQ(render("reminder", "de").subject, "Zahlungserinnerung: Rechnung RE-2027-0042");
    EXPECT_EQ(render("formal_reminder", "de").subject, "1. Mahnung: Rechnung RE-2027-0042");
    EXPECT_EQ(render("final_notice", "de").subject, "Letzte Mahnung: Rechnung RE-2027-0042");
    EXPECT_EQ(render("reminder", "en").subject, "Payment reminder: invoice RE-2027-0042");
    EXPECT_EQ(render("final_notice", "en").subject, "Final notice: invoice RE-2027-0042");
    EXPECT_EQ(render("card_expiring", "de").subject, "Ihre Karte läuft bald ab");
}

TEST(Render, CardExpiringFallsBackToThePayLinkWithoutAnUpdateUrl) {
    auto data = sample();
    data.update_payment_url.clear();
    const auto m = render("card_expiring", "de", data);
    EXPECT_THAT(m.text, HasSubstr(pay_url));
    EXPECT_THAT(m.text, HasSubstr("03/2027"));
    const auto update = render("update_payment_method", "en", data);
    EXPECT_THAT(update.text, HasSubstr(pay_url));
}

TEST(Render, FinalNoticeStatesDeadlineLockHandoverAndTheRightToObject) {
    const auto de = render("final_notice", "de");
    for (const auto* part : {&de.text, &de.html}) {
        EXPECT_THAT(*part, HasSubstr("24. März 2027"));
        EXPECT_THAT(*part, HasSubstr("sperren Ihren Zugang"));
        EXPECT_THAT(*part, HasSubstr("Inkassounternehmen"));
        EXPECT_THAT(
            *part,
            HasSubstr("Sollten Sie die Forderung für unberechtigt halten, antworten Sie bitte"));
        EXPECT_THAT(*part, HasSubstr("anna@example.com"));
    }
    const auto en = render("final_notice", "en");
    EXPECT_THAT(en.text, HasSubstr("by 24. März 2027 at the latest"));
    EXPECT_THAT(en.text, HasSubstr("suspend your access"));
    EXPECT_THAT(en.text, HasSubstr("debt collection agency"));
    EXPECT_THAT(en.text, HasSubstr("If you believe this charge is not justified, please reply"));
}

TEST(Render, FinalNoticeOnlyAnnouncesWhatTheRulesWillDo) {
    auto data = sample();
    data.handover_announced = false;
    auto m = render("final_notice", "de", data);
    EXPECT_THAT(m.text, HasSubstr("sperren Ihren Zugang"));
    EXPECT_THAT(m.text + m.html, Not(HasSubstr("Inkasso")));
    data.access_will_be_locked = false;
    m = render("final_notice", "de", data);
    EXPECT_THAT(m.text + m.html, Not(HasSubstr("sperren")));
    EXPECT_THAT(m.text + m.html, Not(HasSubstr("Wenn bis")));
    EXPECT_THAT(m.text, HasSubstr("unberechtigt")); // the right to object stays
}

TEST(Render, TextLayoutKeepsParagraphsApart) {
    const auto m = render("final_notice", "de");
    EXPECT_THAT(m.text, HasSubstr("Guten Tag Jürgen Müßig,\n\ntrotz unserer"));
    EXPECT_THAT(m.text, HasSubstr("Rechnung: RE-2027-0042\nRechnungsdatum: 3. März 2027\n"
                                  "Offener Betrag: 49,00\u00A0€\nZahlbar bis: 24. März 2027\n\n"));
    EXPECT_THAT(m.text, HasSubstr("über diesen Link:\n" + pay_url + "\n\n"));
    EXPECT_THAT(m.text, HasSubstr("wieder frei.\n- Wir übergeben"));
    EXPECT_THAT(m.text, HasSubstr("ersparen möchten.\n\nKönnen Sie"));
    EXPECT_THAT(m.text, HasSubstr("Mit freundlichen Grüßen\nYoga mit Anna\n"));
}

TEST(Render, FeesAppearOnlyWhenPresent) {
    auto data = sample();
    for (const auto& message : {"reminder", "formal_reminder", "final_notice"}) {
        SCOPED_TRACE(message);
        const auto without = render(message, "de", data);
        EXPECT_THAT(without.text + without.html, Not(HasSubstr("Gesamtbetrag")));
        EXPECT_THAT(without.text, HasSubstr("Offener Betrag: 49,00\u00A0€"));
    }
    data.fees = {{"Mahngebühr 1. Mahnung", "2,50\u00A0€"},
                 {"Verzugszinsen (6,27 %)", "1,00\u00A0€"}};
    for (const auto& message : {"reminder", "formal_reminder", "final_notice"}) {
        SCOPED_TRACE(message);
        const auto with = render(message, "de", data);
        EXPECT_THAT(with.text, HasSubstr("Rechnungsbetrag: 49,00\u00A0€\n"
                                         "Mahngebühr 1. Mahnung: 2,50\u00A0€\n"
                                         "Verzugszinsen (6,27 %): 1,00\u00A0€\n"
                                         "Gesamtbetrag: 52,50\u00A0€\n"));
        EXPECT_THAT(with.html, HasSubstr(">Mahngebühr 1. Mahnung</td>"));
        EXPECT_THAT(with.html, HasSubstr(">52,50\u00A0€</td>"));
        EXPECT_THAT(with.text, Not(HasSubstr("Offener Betrag:")));
    }
    const auto en = render("final_notice", "en", data);
    EXPECT_THAT(en.text, HasSubstr("Total due: 52,50\u00A0€"));
}

TEST(Render, NeutralGreetingWithoutAName) {
    auto data = sample();
    data.member_name.clear();
    EXPECT_THAT(render("reminder", "de", data).text, ::testing::StartsWith("Guten Tag,\n\n"));
    EXPECT_THAT(render("reminder", "en", data).text, ::testing::StartsWith("Hello,\n\n"));
}

TEST(Render, HostileValuesAreEscapedInHtmlLiteralInTextNeverInterpreted) {
    auto data = sample();
    data.member_name = "<script>alert(1)</script>";
    data.invoice_number = "}}{{";
    data.product_names = "{{creator_name}} 🎓";
    data.creator_name = "Anna \"A&B\" O'Neil";
    data.fees = {{"{{#fees}}<b>", "{{amount}}"}};
    for (const auto& locale : {"de", "en"}) {
        for (const auto& message : message_names()) {
            SCOPED_TRACE(message + "/" + locale);
            const auto m = render(message, locale, data);
            EXPECT_THAT(m.html, Not(HasSubstr("<script>")));
            EXPECT_THAT(m.html, HasSubstr("&lt;script&gt;alert(1)&lt;/script&gt;"));
            EXPECT_THAT(m.html, HasSubstr("Anna &quot;A&amp;B&quot; O&#39;Neil"));
            EXPECT_THAT(m.text, HasSubstr("<script>alert(1)</script>"));
            EXPECT_THAT(m.text, HasSubstr("Anna \"A&B\" O'Neil"));
            EXPECT_THAT(m.text, HasSubstr("{{creator_name}} 🎓"));
            EXPECT_THAT(m.html, HasSubstr("{{creator_name}} 🎓"));
            if (message != "card_expiring") {
                EXPECT_THAT(m.text, HasSubstr("}}{{")); // the invoice number, literally
            }
        }
    }
    const auto reminder = render("reminder", "de", data);
    EXPECT_EQ(reminder.subject, "Zahlungserinnerung: Rechnung }}{{");
    EXPECT_THAT(reminder.text, HasSubstr("{{#fees}}<b>: {{amount}}\n"));
    EXPECT_THAT(reminder.html, HasSubstr("{{#fees}}&lt;b&gt;"));
}

TEST(Render, TemplateSyntaxInAMemberNameStaysLiteral) {
    auto data = sample();
    data.member_name = "{{creator_name}}";
    const auto m = render("reminder", "de", data);
    EXPECT_THAT(m.text, HasSubstr("Guten Tag {{creator_name}},"));
    EXPECT_THAT(m.html, HasSubstr("Guten Tag <bdi>{{creator_name}}</bdi>,"));
}

TEST(Render, UnicodeStaysUnchanged) {
    auto data = sample();
    data.member_name = "مرحبا";
    data.product_names = "Yoga 🎓 Basics";
    data.creator_name = "Jürgen Müßig";
    const auto m = render("payment_received", "de", data);
    for (const auto* part : {&m.text, &m.html}) {
        EXPECT_THAT(*part, HasSubstr("مرحبا"));
        EXPECT_THAT(*part, HasSubstr("Yoga 🎓 Basics"));
        EXPECT_THAT(*part, HasSubstr("Jürgen Müßig"));
    }
    EXPECT_THAT(m.html, HasSubstr("<bdi>مرحبا</bdi>")); // isolates right-to-left names
}

TEST(Render, LineBreaksInValuesNeverReachTheSubject) {
    auto data = sample();
    data.invoice_number = "RE-1\r\nBcc: victim@example.com\r\n\r\n<b>body</b>";
    data.member_name = "Eve\nX-Injected: yes";
    for (const auto& locale : {"de", "en"}) {
        for (const auto& message : message_names()) {
            const auto m = render(message, locale, data);
            EXPECT_EQ(m.subject.find_first_of("\r\n"), std::string::npos) << message;
        }
    }
    EXPECT_EQ(render("reminder", "de", data).subject,
              "Zahlungserinnerung: Rechnung RE-1 Bcc: victim@example.com <b>body</b>");
    TemplateDir dir;
    dir.write("de/reminder.subject.mustache", "Hallo {{member_name}}\r\n\r\nzweite Zeile\n");
    EXPECT_EQ(render("reminder", "de", data, dir.path()).subject,
              "Hallo Eve X-Injected: yes zweite Zeile");
}

TEST(Render, OverrideDirectoryWinsPerFile) {
    TemplateDir dir;
    dir.write("de/reminder.subject.mustache", "Kurze Erinnerung von {{creator_name}}\n");
    const auto overridden = render("reminder", "de", sample(), dir.path());
    const auto builtin = render("reminder", "de");
    EXPECT_EQ(overridden.subject, "Kurze Erinnerung von Yoga mit Anna");
    EXPECT_EQ(overridden.text, builtin.text);
    EXPECT_EQ(overridden.html, builtin.html);
    EXPECT_EQ(render("reminder", "en", sample(), dir.path()).subject,
              "Payment reminder: invoice RE-2027-0042");
}

TEST(Render, OverridesHandleEditorArtefacts) {
    TemplateDir dir;
    dir.write("de/reminder.text.mustache",
              "\xEF\xBB\xBFHallo {{member_name}},\r\n{{#has_fees}}\r\nGebühren\r\n{{/has_fees}}\r\n"
              "Betrag: {{amount_due}}\r\n");
    EXPECT_EQ(render("reminder", "de", sample(), dir.path()).text,
              "Hallo Jürgen Müßig,\nBetrag: 49,00\u00A0€\n");
}

TEST(Render, OverridesCannotUnescapeOrInterpretValues) {
    TemplateDir dir;
    dir.write("de/reminder.html.mustache",
              "<p>{{{member_name}}}|{{&member_name}}|{{>member_name}}</p>");
    auto data = sample();
    data.member_name = "<i>{{creator_name}}</i>";
    EXPECT_EQ(render("reminder", "de", data, dir.path()).html,
              "<p>&lt;i&gt;{{creator_name}}&lt;/i&gt;|&lt;i&gt;{{creator_name}}&lt;/i&gt;|</p>");
}

TEST(Render, BrokenOverrideNamesTheFile) {
    TemplateDir dir;
    dir.write("en/final_notice.text.mustache", "Hello {{#has_fees}}never closed\n");
    const auto result = render_message("final_notice", "en", sample(), dir.path());
    ASSERT_FALSE(result);
    EXPECT_THAT(result.error(), HasSubstr(dir.path() + "/en/final_notice.text.mustache: "));
}

TEST(Render, UnknownMessageOrLocaleIsAnError) {
    auto result = render_message("gentle_nudge", "de", sample());
    ASSERT_FALSE(result);
    EXPECT_THAT(result.error(), HasSubstr("unknown message \"gentle_nudge\""));
    result = render_message("reminder", "fr", sample());
    ASSERT_FALSE(result);
    EXPECT_THAT(result.error(), HasSubstr("unknown locale \"fr\""));
    result = render_message("../de/reminder", "de", sample());
    EXPECT_FALSE(result);
}

TEST(Render, LinksMustBeWebUrls) {
    auto data = sample();
    data.pay_url = "javascript:alert(1)";
    auto result = render_message("reminder", "de", data);
    ASSERT_FALSE(result);
    EXPECT_THAT(result.error(), HasSubstr("pay_url"));
    data = sample();
    data.update_payment_url = "data:text/html,x";
    EXPECT_FALSE(render_message("reminder", "de", data));
}

TEST(Render, BuiltInTemplatesExistAndNeverUnescapeData) {
    const std::filesystem::path root =
        std::filesystem::path(DUNNING_SOURCE_DIR) / "mailer/templates";
    for (const auto& locale : {"de", "en"}) {
        for (const auto& message : message_names()) {
            for (const auto& part : {"subject", "text", "html"}) {
                const auto path = root / locale / (message + "." + part + ".mustache");
                const std::string text = dunning::testing::read_file(path);
                EXPECT_EQ(text.find("{{{"), std::string::npos) << path;
                EXPECT_EQ(text.find("{{&"), std::string::npos) << path;
                EXPECT_EQ(text.find("{{>"), std::string::npos) << path;
            }
        }
    }
}

} // namespace
} // namespace dunning::mailer
