#pragma once
// Test and benchmark support: reading what the service stored the way the service reads it,
// through store::Connection, whichever engine holds it. Values come back as text ("" for NULL).
#include "store/database.hpp"

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace dunning::testing {

// Another connection to a store that the service (or open_store) prepared.
inline std::unique_ptr<store::Connection> connect_to_store(const std::string& path) {
    return store::connect_store({path, "normal"});
}

using Row = std::vector<std::string>;

// Every row of `sql`, its `?` parameters bound in order to `params`.
inline std::vector<Row> query_rows(store::Connection& db, const std::string& sql,
                                   const std::vector<std::string>& params = {}) {
    auto st = db.prepare(sql);
    for (std::size_t i = 0; i < params.size(); ++i)
        st->bind(static_cast<int>(i) + 1, std::string_view(params[i]));
    std::vector<Row> rows;
    while (st->step()) {
        Row row;
        for (int c = 0; c < st->column_count(); ++c)
            row.emplace_back(st->text_at(c));
        rows.push_back(std::move(row));
    }
    return rows;
}

// The first column of the first row as a number (0 when there is no row).
inline std::int64_t query_int(store::Connection& db, const std::string& sql) {
    auto st = db.prepare(sql);
    return st->step() ? st->int64_at(0) : 0;
}

} // namespace dunning::testing
