#include "plugin/preview.hpp"

#include "config/base_rates.hpp"
#include "jobs/mail_jobs.hpp"
#include "mailer/mime.hpp"
#include "mailer/render.hpp"
#include "plugin/creator_seed.hpp"
#include "plugin/secrets.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <ostream>
#include <stdexcept>

namespace dunning::plugin {

using jobs::BaseRateTables;
using jobs::message_data;

namespace {

// A member three weeks into dunning for 49 € (in the creator's currency would be unknown: euro).
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

std::pair<std::string, int> message_for(const config::CreatorConfig& c, const std::string& stage) {
    const auto& names = mailer::message_names();
    if (std::find(names.begin(), names.end(), stage) != names.end()) {
        for (std::size_t i = 0; i < c.dunning.stages.size(); ++i)
            if (c.dunning.stages[i].name == stage) return {stage, static_cast<int>(i) + 1};
        return {stage, 0};
    }
    if (!stage.empty() && std::all_of(stage.begin(), stage.end(), ::isdigit)) {
        const auto n = std::stoul(stage);
        if (n >= 1 && n <= c.dunning.stages.size())
            return {c.dunning.stages[n - 1].name, static_cast<int>(n)};
    }
    std::string known;
    for (const auto& n : names)
        known += " " + n;
    throw std::runtime_error("unknown stage \"" + stage + "\": give 1.." +
                             std::to_string(c.dunning.stages.size()) + " or one of:" + known);
}

// A creator of the file, else one made through the admin API (kept in the store, with the file's
// defaults), as `dunning replay` finds them.
config::CreatorConfig creator_named(const config::Config& config, const std::string& id) {
    if (const auto* found = config.find_creator(id)) return *found;
    const auto unknown = std::runtime_error("unknown creator \"" + id + "\"");
    if (!std::filesystem::exists(config.storage.sqlite_path)) throw unknown;
    auto db = store::open_store({config.storage.sqlite_path, config.storage.synchronous});
    config::CreatorRegistry creators;
    add_api_creators(*db, config, creators, secret_box(config.storage));
    const auto found = creators.find(id);
    if (!found) throw unknown;
    return *found;
}

} // namespace

void preview(const config::Config& config, const PreviewOptions& o, std::ostream& out) {
    config::CreatorConfig creator = creator_named(config, o.creator);
    if (!o.locale.empty()) creator.locale = o.locale;
    const auto [message, stage] = message_for(creator, o.stage);
    const BaseRateTables rates(config);
    const auto now =
        std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
    const auto data = message_data(config, creator, sample_case(now), stage, now, rates);
    auto r = mailer::render_message(message, creator.locale, data, creator.dunning.template_dir);
    if (!r) throw std::runtime_error(r.error());
    out << "From: " << config.mail.from << "\nTo: Mia Muster <mia@example.org>\n";
    if (!creator.reply_to.empty()) out << "Reply-To: " << creator.reply_to << '\n';
    out << "Subject: " << r.value().subject << "\n\n" << r.value().text;
    if (!r.value().text.ends_with('\n')) out << '\n';
    if (o.html_path.empty()) return;
    std::ofstream html(o.html_path, std::ios::binary);
    if (!(html << r.value().html)) throw std::runtime_error("cannot write " + o.html_path);
    out << "\n(HTML part written to " << o.html_path << ")\n";
}

} // namespace dunning::plugin
