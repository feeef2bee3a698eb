#pragma once
// The open-items list (Offene-Posten-Liste) as the API and the dashboard both read it: one query
// reader, one computation, one CSV writer.
#include "core/open_items.hpp"
#include "http/services.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace dunning::http {

struct OpenItemsQuery {
    OpenItemFilter filter;
    OpenItemOrder order = OpenItemOrder::case_id;
    bool descending = false;
    int limit = 100;
    std::int64_t offset = 0;
    bool csv = false;
    char delimiter = ',';
};

// ?status=&stage=&age=&amount_gte=&…&sort=&limit=&offset=&format=&delimiter=: the problem with
// the query, or nothing (then `out` is filled).
std::optional<std::string> read_open_items_query(const httplib::Request& req, OpenItemsQuery& out);
// The creator's outstanding claims that match, in the query's order (every page), as one moment
// of the store; the second reads through the caller's connection (a page that shows more).
std::vector<OpenItem> open_items_of(Services& m, const std::string& creator,
                                    const OpenItemsQuery& query);
std::vector<OpenItem> open_items_of(Services& m, store::Connection& db, const std::string& creator,
                                    const OpenItemsQuery& query);
// One page of the list, found and counted in SQL (store/case_figures.hpp): only the page's cases
// are read; the count and the totals are the whole list's, equal to open_items_of's.
struct OpenItemsPage {
    std::vector<OpenItem> items; // [offset, offset + limit) of the list
    std::int64_t total_count = 0;
    std::map<std::string, CurrencyTotals> totals;
};
OpenItemsPage open_items_page_of(Services& m, const std::string& creator,
                                 const OpenItemsQuery& query);
// RFC 4180 CSV with CRLF line ends, amounts in the major unit.
std::string open_items_csv(const std::vector<OpenItem>& items, char delimiter);
// Per currency: count, principal, fees, interest.
nlohmann::json open_items_totals(const std::map<std::string, CurrencyTotals>& totals);

} // namespace dunning::http
