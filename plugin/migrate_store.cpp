#include "plugin/migrate_store.hpp"

#include "store/database.hpp"
#include "store/migrate_store.hpp"
#include "store/postgres_connection.hpp"

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <iomanip>
#include <memory>
#include <ostream>
#include <stdexcept>

namespace dunning::plugin {

namespace {

bool is_postgres_url(const std::string& url) {
    return (url.starts_with("postgresql://") && url.size() > 13) ||
           (url.starts_with("postgres://") && url.size() > 11);
}

void print_counts(const store::CopyReport& report, std::ostream& out) {
    std::size_t width = 5;
    for (const auto& t : report.tables)
        width = std::max(width, t.table.size());
    const auto line = [&](const std::string& table, const std::string& source,
                          const std::string& target, const std::string& written,
                          const std::string& deleted) {
        out << std::left << std::setw(static_cast<int>(width)) << table << std::right << "  "
            << std::setw(10) << source << "  " << std::setw(10) << target << "  " << std::setw(10)
            << written << "  " << std::setw(10) << deleted << '\n';
    };
    line("table", "sqlite", "postgresql", "written", "deleted");
    std::int64_t source = 0, target = 0, written = 0, deleted = 0;
    for (const auto& t : report.tables) {
        line(t.table, std::to_string(t.source), std::to_string(t.target), std::to_string(t.written),
             std::to_string(t.deleted));
        source += t.source;
        target += t.target;
        written += t.written;
        deleted += t.deleted;
    }
    line("total", std::to_string(source), std::to_string(target), std::to_string(written),
         std::to_string(deleted));
}

} // namespace

int migrate_store_command(const MigrateStoreOptions& options, std::ostream& out, std::ostream& err,
                          const config::EnvLookup& env) {
    if (!options.from.starts_with("sqlite:") || options.from.size() == 7) {
        err << "dunning: --from must be sqlite:PATH, the SQLite store to copy (e.g. "
               "sqlite:/var/lib/dunning/dunning.db)\n";
        return 2;
    }
    const auto path = options.from.substr(7);
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec)) {
        err << "dunning: " << path
            << (std::filesystem::exists(path, ec) ? " is not a file" : " does not exist")
            << ": --from names the SQLite store to copy\n";
        return 2;
    }
    auto expanded = config::expand_environment(options.to, env);
    if (!expanded) {
        err << "dunning: --to: " << expanded.error() << '\n';
        return 2;
    }
    const auto url = std::move(expanded).value();
    if (!is_postgres_url(url)) {
        // Not echoed: it may hold a password.
        err << "dunning: --to must be a \"postgresql://\" or \"postgres://\" URL, e.g. "
               "postgresql://dunning:${PGPASSWORD}@db.example/dunning\n";
        return 2;
    }
    const auto where = store::redacted_postgres_url(url);
    const auto shown = [&](const std::string& message) {
        return store::without_postgres_password(message, url);
    };

    std::unique_ptr<store::Connection> from, to;
    // Either store may be of an older schema: it is upgraded first, which takes a while when large.
    const auto told_upgrade = [&err](const std::string& line) {
        err << "dunning: " << line << '\n';
    };
    try {
        store::StoreOptions source;
        source.path = path;
        source.on_upgrade = told_upgrade;
        from = store::open_store(source);
    } catch (const std::exception& e) {
        err << "dunning: " << shown(e.what()) << '\n';
        return 1;
    }
    try {
        store::StoreOptions target;
        target.postgres_url = url;
        target.on_upgrade = told_upgrade;
        to = store::open_store(target);
    } catch (const std::exception& e) {
        err << "dunning: " << shown(e.what()) << '\n';
        return 1;
    }

    out << "Copying " << path << " into " << where << '\n' << std::flush;
    store::CopyReport report;
    try {
        report = store::copy_store(*from, *to, [&](const store::TableCopy& t) {
            err << t.table << ": " << t.source << " rows (" << t.written << " written)\n"
                << std::flush;
        });
    } catch (const std::exception& e) {
        err << "dunning: the copy failed: " << shown(e.what()) << "; " << where
            << " was left as it was\n";
        return 1;
    }
    if (report.events_only_in_target > 0) {
        err << "dunning: " << where << " holds " << report.events_only_in_target
            << " event(s) that " << path
            << " does not: a service has received webhooks on it, and a copy would delete "
               "them; nothing was written. Copy into a database no service has used.\n";
        return 1;
    }
    print_counts(report, out);
    if (!report.committed) {
        std::string names;
        for (const auto& t : report.short_tables())
            names += (names.empty() ? "" : ", ") + t;
        err << "dunning: " << where << " would hold other numbers of rows than " << path << " in "
            << names << "; the copy was rolled back, nothing was written\n";
        return 1;
    }
    // The planner's statistics of the database, gathered now rather than at autovacuum's first
    // ANALYZE: until then PostgreSQL plans the service's statements without knowing how the rows
    // are spread (which creator holds how many cases), and a plan made then is kept.
    out << "Gathering PostgreSQL's statistics of the database (ANALYZE)\n" << std::flush;
    try {
        to->exec("ANALYZE");
    } catch (const std::exception& e) {
        err << "dunning: warning: ANALYZE failed (autovacuum gathers the statistics later, or "
               "run ANALYZE yourself): "
            << shown(e.what()) << '\n';
    }
    out << "Done: every table of " << where << " holds the rows of " << path
        << ". Run this again to bring over what the old installation wrote meanwhile.\n";
    return 0;
}

} // namespace dunning::plugin
