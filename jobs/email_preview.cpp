#include "jobs/email_preview.hpp"

#include "mailer/render.hpp"

#include <algorithm>
#include <cctype>

namespace dunning::jobs {

namespace {

// A member three weeks into dunning for 49 € (the creator's currency would be unknown: euro).
CaseState sample_case(Timestamp now) {
    CaseState s;
    s.failed = true;
    s.opened_at = now - std::chrono::days{21};
    s.invoice.invoice_id = "in_sample";
    s.invoice.number = "DEMO-0042";
    s.invoice.customer_name = "Mia Muster";
    s.invoice.customer_email = "mia@example.org";
    s.invoice.amount_due = 4900;
    s.invoice.currency = "eur";
    s.invoice.hosted_invoice_url = "https://invoice.stripe.com/i/acct_sample/test_sample";
    return s;
}

Result<std::pair<std::string, int>, std::string> message_for(const config::CreatorConfig& c,
                                                             const std::string& stage) {
    const auto& names = mailer::message_names();
    if (std::find(names.begin(), names.end(), stage) != names.end()) {
        for (std::size_t i = 0; i < c.dunning.stages.size(); ++i)
            if (c.dunning.stages[i].name == stage) return std::pair{stage, static_cast<int>(i) + 1};
        return std::pair{stage, 0};
    }
    if (!stage.empty() && stage.size() < 4 &&
        std::all_of(stage.begin(), stage.end(),
                    [](unsigned char ch) { return std::isdigit(ch); })) {
        const auto n = std::stoul(stage);
        if (n >= 1 && n <= c.dunning.stages.size())
            return std::pair{c.dunning.stages[n - 1].name, static_cast<int>(n)};
    }
    std::string known;
    for (const auto& n : names)
        known += " " + n;
    return err("unknown stage \"" + stage + "\": give 1.." +
               std::to_string(c.dunning.stages.size()) + " or one of:" + known);
}

} // namespace

Result<EmailPreview, std::string> preview_email(const config::Config& config,
                                                const config::CreatorConfig& creator,
                                                const std::string& stage, Timestamp now,
                                                const BaseRateTables& base_rates) {
    const auto found = message_for(creator, stage);
    if (!found) return err(found.error());
    const auto& [message, number] = found.value();
    const auto data = message_data(config, creator, sample_case(now), number, now, base_rates);
    auto r = mailer::render_message(message, creator.locale, data, creator.dunning.template_dir);
    if (!r) return err(r.error());
    return EmailPreview{message, number, r.value().subject, r.value().text, r.value().html};
}

} // namespace dunning::jobs
