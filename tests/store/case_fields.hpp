#pragma once
// The fields of CaseState and of the structs in it, in declaration order, as tuples of
// references with their names, so tests can check each field by name. Like the guard in
// store/case_json.cpp, each decomposition stops compiling when its struct gains or loses a
// field: the sample in case_json_test.cpp then cannot leave a new field at its default.
#include "core/case.hpp"

#include <gtest/gtest.h>

#include <array>
#include <concepts>
#include <cstddef>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>

namespace dunning::testing {

template <class S, class T>
concept either_const = std::same_as<std::remove_const_t<S>, T>;

struct CaseFields {
    static constexpr std::array names{"creator_id",
                                      "invoice",
                                      "invoice_as_of",
                                      "failed",
                                      "opened_at",
                                      "last_failure",
                                      "action_required",
                                      "resolution",
                                      "resolved_at",
                                      "resolution_reason",
                                      "payment_processing",
                                      "new_payment_method",
                                      "new_payment_method_at",
                                      "mandate_inactive",
                                      "paid_with",
                                      "dispute",
                                      "attempts",
                                      "stage_queued",
                                      "stage_sent",
                                      "failure_email_sent",
                                      "confirmation_queued",
                                      "final_notice_at",
                                      "failure_notified",
                                      "paused",
                                      "paused_at",
                                      "paused_seconds",
                                      "stripe_disconnected_at",
                                      "promise",
                                      "objection",
                                      "escalated_at",
                                      "handover_pending_at",
                                      "collection",
                                      "limitation_warned",
                                      "first_seen_at",
                                      "opened_announced",
                                      "resolved_announced",
                                      "next_wakeup"};
    template <either_const<CaseState> S> static auto tie(S& s) {
        auto& [a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12, a13, a14, a15, a16, a17, a18, a19,
               a20, a21, a22, a23, a24, a25, a26, a27, a28, a29, a30, a31, a32, a33, a34, a35, a36,
               a37] = s;
        return std::tie(a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12, a13, a14, a15, a16, a17,
                        a18, a19, a20, a21, a22, a23, a24, a25, a26, a27, a28, a29, a30, a31, a32,
                        a33, a34, a35, a36, a37);
    }
};

struct InvoiceFields {
    static constexpr std::array names{"invoice_id",
                                      "number",
                                      "customer_id",
                                      "customer_email",
                                      "customer_name",
                                      "subscription_id",
                                      "payment_intent_id",
                                      "charge_id",
                                      "status",
                                      "billing_reason",
                                      "currency",
                                      "amount_due",
                                      "amount_remaining",
                                      "attempt_count",
                                      "next_payment_attempt",
                                      "due_date",
                                      "hosted_invoice_url",
                                      "products",
                                      "plan_instalments",
                                      "created",
                                      "customer_address",
                                      "description",
                                      "period_start"};
    template <either_const<InvoiceFacts> S> static auto tie(S& s) {
        auto& [a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12, a13, a14, a15, a16, a17, a18, a19,
               a20, a21, a22, a23] = s;
        return std::tie(a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12, a13, a14, a15, a16, a17,
                        a18, a19, a20, a21, a22, a23);
    }
};

struct FailureFields {
    static constexpr std::array names{"error", "method", "payment_method_id", "card_brand", "at"};
    template <either_const<PaymentFailure> S> static auto tie(S& s) {
        auto& [a1, a2, a3, a4, a5] = s;
        return std::tie(a1, a2, a3, a4, a5);
    }
};

struct ErrorFields {
    static constexpr std::array names{"code", "decline_code", "advice_code", "network_advice_code",
                                      "message"};
    template <either_const<PaymentError> S> static auto tie(S& s) {
        auto& [a1, a2, a3, a4, a5] = s;
        return std::tie(a1, a2, a3, a4, a5);
    }
};

struct AttemptFields {
    static constexpr std::array names{"number", "at", "payment_method_id", "network", "outcome"};
    template <either_const<ChargeAttempt> S> static auto tie(S& s) {
        auto& [a1, a2, a3, a4, a5] = s;
        return std::tie(a1, a2, a3, a4, a5);
    }
};

struct DisputeFields {
    static constexpr std::array names{"dispute_id", "status",    "opened_at",
                                      "lost_at",    "repaid_at", "as_of"};
    template <either_const<DisputeRecord> S> static auto tie(S& s) {
        auto& [a1, a2, a3, a4, a5, a6] = s;
        return std::tie(a1, a2, a3, a4, a5, a6);
    }
};

template <class Fields, class T, class Check>
void for_each_field(const T& a, const T& b, Check check) {
    const auto x = Fields::tie(a);
    const auto y = Fields::tie(b);
    static_assert(std::tuple_size_v<decltype(x)> == Fields::names.size());
    [&]<std::size_t... I>(std::index_sequence<I...>) {
        (check(Fields::names[I], std::get<I>(x) == std::get<I>(y)), ...);
    }
    (std::make_index_sequence<Fields::names.size()>{});
}

// Names the fields that differ, so a failure says which one was lost.
template <class Fields, class T>
void expect_fields_equal(const T& got, const T& want, const std::string& where = "") {
    for_each_field<Fields>(got, want, [&](const char* name, bool same) {
        EXPECT_TRUE(same) << where << name << " differs";
    });
}

// Names the fields still at their default value.
template <class Fields, class T>
void expect_no_field_at_default(const T& sample, const std::string& where = "") {
    for_each_field<Fields>(sample, T{}, [&](const char* name, bool same) {
        EXPECT_FALSE(same) << where << name << " is at its default";
    });
}

struct PromiseFields {
    static constexpr std::array names{"until", "made_at", "holds_pause"};
    template <either_const<PromiseToPay> S> static auto tie(S& s) {
        auto& [a1, a2, a3] = s;
        return std::tie(a1, a2, a3);
    }
};

struct ObjectionFields {
    static constexpr std::array names{"at", "note", "actor", "withdrawn_at"};
    template <either_const<Objection> S> static auto tie(S& s) {
        auto& [a1, a2, a3, a4] = s;
        return std::tie(a1, a2, a3, a4);
    }
};

struct MandateFields {
    static constexpr std::array names{"mandate_id", "payment_method_id", "at"};
    template <either_const<InactiveMandate> S> static auto tie(S& s) {
        auto& [a1, a2, a3] = s;
        return std::tie(a1, a2, a3);
    }
};

// Field by field, down into the nested structs.
inline void expect_states_equal(const CaseState& got, const CaseState& want) {
    expect_fields_equal<CaseFields>(got, want);
    expect_fields_equal<InvoiceFields>(got.invoice, want.invoice, "invoice.");
    if (got.last_failure && want.last_failure) {
        expect_fields_equal<FailureFields>(*got.last_failure, *want.last_failure, "last_failure.");
        expect_fields_equal<ErrorFields>(got.last_failure->error, want.last_failure->error,
                                         "last_failure.error.");
    }
    for (std::size_t i = 0; i < got.attempts.size() && i < want.attempts.size(); ++i)
        expect_fields_equal<AttemptFields>(got.attempts[i], want.attempts[i],
                                           "attempts[" + std::to_string(i) + "].");
    if (got.dispute && want.dispute)
        expect_fields_equal<DisputeFields>(*got.dispute, *want.dispute, "dispute.");
    EXPECT_TRUE(got == want);
}

} // namespace dunning::testing
