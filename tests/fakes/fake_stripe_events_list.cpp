// The list endpoints: GET /v1/events (the account's events of the last 30 days, as Stripe keeps
// them) and GET /v1/invoices, newest first, paged with limit, starting_after and ending_before.
#include "tests/fakes/fake_stripe_internal.hpp"

#include <algorithm>
#include <cstdlib>

namespace dunning::fakes::detail {

namespace {

constexpr std::chrono::days retention{30};

struct Item {
    std::string id;
    const void* source = nullptr;
};

ApiAnswer invalid(const std::string& message, const std::string& param, const std::string& code) {
    return reply(400, error_json("invalid_request_error", message, code, param), false);
}

bool matches_created(const httplib::Request& req, std::int64_t created) {
    for (const auto& [key, value] : req.params) {
        std::int64_t bound = std::atoll(value.c_str());
        if ((key == "created" && created != bound) || (key == "created[gte]" && created < bound) ||
            (key == "created[gt]" && created <= bound) ||
            (key == "created[lte]" && created > bound) ||
            (key == "created[lt]" && created >= bound))
            return false;
    }
    return true;
}

// One page of `items` (newest first) in Stripe's list shape; `render` turns an item into JSON.
template <class Render>
ApiAnswer page(const httplib::Request& req, const std::vector<Item>& items, const std::string& url,
               const std::string& what, Render render) {
    int limit = req.has_param("limit") ? std::atoi(req.get_param_value("limit").c_str()) : 10;
    if (limit < 1 || limit > 100)
        return invalid("Invalid integer: limit must be between 1 and 100", "limit",
                       "parameter_invalid_integer");
    std::string after = req.get_param_value("starting_after");
    std::string before = req.get_param_value("ending_before");
    auto position = [&](const std::string& id) {
        return std::find_if(items.begin(), items.end(), [&](const Item& i) { return i.id == id; });
    };
    auto first = items.begin();
    auto last = items.end();
    bool has_more = false;
    if (!after.empty() || !before.empty()) {
        const std::string& cursor = after.empty() ? before : after;
        auto at = position(cursor);
        if (at == items.end())
            return reply(404,
                         error_json("invalid_request_error",
                                    "No such " + what + ": '" + cursor + "'", "resource_missing",
                                    after.empty() ? "ending_before" : "starting_after"),
                         false);
        if (after.empty()) { // the `limit` newer ones just before the cursor, still newest first
            last = at;
            first = at - std::min<std::ptrdiff_t>(limit, at - items.begin());
            has_more = first != items.begin();
        } else {
            first = at + 1;
        }
    }
    if (before.empty()) {
        has_more = last - first > limit;
        last = first + std::min<std::ptrdiff_t>(limit, last - first);
    }
    json data = json::array();
    for (auto it = first; it != last; ++it)
        data.push_back(render(*it));
    return reply(200, {{"object", "list"}, {"data", data}, {"has_more", has_more}, {"url", url}});
}

bool type_matches(const std::string& type, const std::string& wanted) {
    if (wanted.ends_with(".*")) return type.starts_with(wanted.substr(0, wanted.size() - 1));
    return type == wanted;
}

} // namespace

ApiAnswer list_events(State& state, const httplib::Request& req, const RequestContext& ctx) {
    std::string type = req.get_param_value("type");
    std::vector<std::string> types = array_param(req, "types");
    if (!type.empty() && !types.empty())
        return invalid("You may only specify one of these parameters: type, types.", "type",
                       "parameters_exclusive");
    if (!type.empty()) types.push_back(type);
    const std::int64_t oldest = to_unix(state.now() - retention);
    std::vector<Item> newest_first;
    for (auto it = state.log.rbegin(); it != state.log.rend(); ++it) {
        std::int64_t created = to_unix(it->created);
        bool wanted = types.empty() || std::any_of(types.begin(), types.end(), [&](auto& t) {
                          return type_matches(it->type, t);
                      });
        if (it->account == ctx.account && created >= oldest && wanted &&
            matches_created(req, created))
            newest_first.push_back({it->id, &*it});
    }
    return page(req, newest_first, "/v1/events", "event", [](const Item& i) {
        return json::parse(static_cast<const StoredEvent*>(i.source)->body);
    });
}

ApiAnswer list_invoices(State& state, const httplib::Request& req, const RequestContext& ctx) {
    std::string status = req.get_param_value("status");
    static const std::vector<std::string> statuses = {"draft", "open", "paid", "uncollectible",
                                                      "void"};
    if (!status.empty() && std::find(statuses.begin(), statuses.end(), status) == statuses.end())
        return invalid("Invalid status: must be one of draft, open, paid, uncollectible, or void",
                       "status", "");
    std::vector<const InvoiceRecord*> matching;
    for (const auto& [id, record] : state.invoices) {
        const FakeInvoice& in = record.invoice;
        auto param_is = [&](const char* name, const std::string& value) {
            return !req.has_param(name) || req.get_param_value(name) == value;
        };
        if (in.account == ctx.account && (status.empty() || in.status == status) &&
            param_is("customer", in.customer) && param_is("subscription", in.subscription) &&
            param_is("collection_method", in.collection_method) &&
            matches_created(req, to_unix(record.created)))
            matching.push_back(&record);
    }
    // Newest first; invoices made in the same second by their number.
    std::sort(matching.begin(), matching.end(), [](const auto* a, const auto* b) {
        return a->created != b->created ? a->created > b->created : a->number > b->number;
    });
    std::vector<Item> items;
    for (const InvoiceRecord* r : matching)
        items.push_back({r->invoice.id, r});
    return page(req, items, "/v1/invoices", "invoice", [&](const Item& i) {
        return invoice_json(*static_cast<const InvoiceRecord*>(i.source), ctx.basil);
    });
}

} // namespace dunning::fakes::detail
