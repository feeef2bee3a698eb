#pragma once
// Test support: SQLite's plans of statements, read for the searches whose cost grows with what is
// stored rather than with what they return.
#include "store/database.hpp"

#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace dunning::testing {

// The columns of the index a plan line names ("USING [COVERING ]INDEX name (…)"); 0 for none.
inline std::int64_t index_columns(store::Connection& db, const std::string& detail) {
    const auto at = detail.find("INDEX ");
    if (at == std::string::npos) return 0;
    const auto name = detail.substr(at + 6, detail.find(' ', at + 6) - (at + 6));
    auto st = db.prepare("SELECT count(*) FROM pragma_index_info(?)");
    st->bind(1, std::string_view(name));
    return st->step() ? st->int64_at(0) : 0;
}

// SQLite's plan of one statement prepared on `db`: its lines' details, each ending in a newline.
inline std::string plan_details(store::Connection& db, const std::string& sql) {
    auto plan = db.prepare("EXPLAIN QUERY PLAN " + sql);
    std::string details;
    while (plan->step())
        details += std::string(plan->text_at(3)) + "\n";
    return details;
}

// A scan that stays small whatever the volume: of a partial index holding only the work still
// to do (its statements stop at their LIMIT), or of a constant row.
inline bool small_scan(const std::string& detail) {
    for (const char* queue : {"USING INDEX inbox_pending", "USING COVERING INDEX inbox_pending"})
        if (detail.find(queue) != std::string::npos) return true;
    return detail.find("CONSTANT ROW") != std::string::npos;
}

// The plan lines of `sqls` (prepared on `db`, a SQLite store of the latest schema) that read a
// whole table or all of a creator's rows, each with its statement:
// - a SCAN, unless small_scan;
// - a search on the creator alone in an index of more columns, or in the primary key of a
//   WITHOUT ROWID table (whose key has more columns: one that had only the creator's would be
//   unique): it reads every row of the creator.
inline std::set<std::string> creator_wide_reads(store::Connection& db,
                                                const std::vector<std::string>& sqls) {
    std::set<std::string> found;
    for (const auto& sql : sqls) {
        auto plan = db.prepare("EXPLAIN QUERY PLAN " + sql);
        while (plan->step()) {
            const std::string detail(plan->text_at(3));
            const bool on_creator = detail.ends_with("(creator_id=?)");
            if ((detail.starts_with("SCAN ") && !small_scan(detail)) ||
                (on_creator && detail.find("USING PRIMARY KEY") != std::string::npos) ||
                (on_creator && index_columns(db, detail) > 1))
                found.insert(detail + "   <- " + sql);
        }
    }
    return found;
}

} // namespace dunning::testing
