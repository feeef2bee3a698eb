// Dunning emails with hostile values (a member's name, Stripe's strings): every message renders
// with the built-in templates, the subject stays one line, and no value adds markup to the HTML
// part: it has as many '<' as the same email rendered with harmless values.
#include "mailer/render.hpp"
#include "check.hpp"

#include <algorithm>
#include <fuzzer/FuzzedDataProvider.h>

using namespace dunning;
using dunning::fuzz::check;

namespace {

std::string harmless(const std::string& value) {
    return value.empty() ? "" : "x";
}

std::string harmless_url(const std::string& url) {
    return url.empty() ? "" : "https://x.example/";
}

mailer::MessageData harmless(const mailer::MessageData& d) {
    mailer::MessageData h = d;
    for (std::string* field :
         {&h.creator_name, &h.creator_email, &h.member_name, &h.invoice_number, &h.invoice_date,
          &h.amount_due, &h.total_due, &h.product_names, &h.deadline, &h.card_expiry})
        *field = harmless(*field);
    h.pay_url = harmless_url(d.pay_url);
    h.update_payment_url = harmless_url(d.update_payment_url);
    for (auto& fee : h.fees)
        fee = {harmless(fee.label), harmless(fee.amount)};
    return h;
}

std::string url(FuzzedDataProvider& in) {
    const char* schemes[] = {"", "https://", "http://"};
    std::string scheme = schemes[in.ConsumeIntegralInRange(0, 2)];
    std::string rest = in.ConsumeRandomLengthString(80);
    return scheme.empty() && in.ConsumeBool() ? std::string{} : scheme + rest;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const unsigned char* data, std::size_t size) {
    FuzzedDataProvider in(data, size);
    const auto& messages = mailer::message_names();
    const std::string message =
        messages[in.ConsumeIntegralInRange<std::size_t>(0, messages.size() - 1)];
    const std::string locale = in.ConsumeBool() ? "de" : "en";
    mailer::MessageData d;
    d.access_will_be_locked = in.ConsumeBool();
    d.handover_announced = in.ConsumeBool();
    d.pay_url = url(in);
    d.update_payment_url = url(in);
    for (int fees = in.ConsumeIntegralInRange(0, 3); fees > 0; --fees)
        d.fees.push_back({in.ConsumeRandomLengthString(40), in.ConsumeRandomLengthString(20)});
    for (std::string* field :
         {&d.creator_name, &d.creator_email, &d.member_name, &d.invoice_number, &d.invoice_date,
          &d.amount_due, &d.total_due, &d.product_names, &d.deadline, &d.card_expiry})
        *field = in.ConsumeRandomLengthString(120);

    const auto rendered = mailer::render_message(message, locale, d);
    const auto web = [](const std::string& u) {
        return u.empty() || u.starts_with("https://") || u.starts_with("http://");
    };
    if (!web(d.pay_url) || !web(d.update_payment_url)) {
        check(!rendered, "a pay link that is no web URL is refused");
        return 0;
    }
    check(rendered.ok(), "every message renders with the built-in templates",
          rendered ? "" : rendered.error());
    const auto& r = rendered.value();
    check(std::none_of(r.subject.begin(), r.subject.end(),
                       [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; }),
          "the subject is one line without controls", r.subject);

    const auto reference = mailer::render_message(message, locale, harmless(d));
    check(reference.ok(), "harmless values render");
    check(std::count(r.html.begin(), r.html.end(), '<') ==
              std::count(reference.value().html.begin(), reference.value().html.end(), '<'),
          "no value adds markup to the HTML part", r.html);
    return 0;
}
