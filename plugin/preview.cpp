#include "plugin/preview.hpp"

#include "config/base_rates.hpp"
#include "jobs/email_preview.hpp"
#include "jobs/mail_jobs.hpp"
#include "plugin/creator_seed.hpp"
#include "plugin/module.hpp"
#include "plugin/secrets.hpp"

#include <filesystem>
#include <fstream>
#include <ostream>
#include <stdexcept>

namespace dunning::plugin {

using jobs::BaseRateTables;

namespace {

// A creator of the file, else one made through the admin API (kept in the store, with the file's
// defaults), as `dunning replay` finds them.
config::CreatorConfig creator_named(const config::Config& config, const std::string& id) {
    if (const auto* found = config.find_creator(id)) return *found;
    const auto unknown = std::runtime_error("unknown creator \"" + id + "\"");
    if (config.storage.postgres_url.empty() && !std::filesystem::exists(config.storage.sqlite_path))
        throw unknown;
    auto db = store::open_store(store_options(config.storage));
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
    const BaseRateTables rates(config);
    const auto now =
        std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
    const auto r = jobs::preview_email(config, creator, o.stage, now, rates);
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
