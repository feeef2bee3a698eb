#include "http/handover_bodies.hpp"

#include "core/promise.hpp"

#include <nlohmann/json.hpp>

namespace dunning::http {

namespace {

using nlohmann::json;

std::optional<json> parse_object(std::string_view body) {
    if (body.find_first_not_of(" \t\r\n") == std::string_view::npos) return json::object();
    auto j = json::parse(body, nullptr, false);
    if (j.is_discarded() || !j.is_object()) return std::nullopt;
    return j;
}

std::string joined(const std::vector<std::string>& problems) {
    std::string out;
    for (const auto& p : problems)
        out += (out.empty() ? "" : "; ") + p;
    return out;
}

// "2027-03-01": four digits, two, two (no sign: "-001-01-01" is no year), a real day.
bool valid_date(const std::string& s) {
    return parse_iso_date(s).has_value();
}

void text_field(const json& body, const char* key, std::size_t max, std::string& out,
                std::vector<std::string>& problems) {
    const auto it = body.find(key);
    if (it == body.end() || it->is_null()) return;
    if (!it->is_string() || it->get_ref<const std::string&>().size() > max)
        return problems.push_back(std::string(key) + " must be a string of at most " +
                                  std::to_string(max) + " bytes");
    out = it->get<std::string>();
}

} // namespace

Result<HandoverRequest, std::string> read_handover_request(std::string_view body) {
    const auto j = parse_object(body);
    if (!j) return err(std::string("body must be a JSON object"));
    HandoverRequest r;
    std::vector<std::string> problems;
    for (const auto& [key, value] : j->items())
        if (key != "cases" && key != "agency") problems.push_back("unknown field " + key);
    if (const auto it = j->find("cases"); it != j->end() && !it->is_null()) {
        if (!it->is_array() || it->size() > 1000)
            problems.push_back("cases must be a list of at most 1000 case ids");
        else
            for (const auto& id : *it) {
                if (!id.is_number_integer() || id.get<std::int64_t>() <= 0) {
                    problems.push_back("cases must hold case ids (positive integers), not " +
                                       id.dump());
                    break;
                }
                r.cases.push_back(id.get<std::int64_t>());
            }
    }
    text_field(*j, "agency", 200, r.agency, problems);
    if (!problems.empty()) return err(joined(problems));
    return r;
}

Result<CollectionReport, std::string> read_collection_result(std::string_view body) {
    const auto j = parse_object(body);
    if (!j) return err(std::string("body must be a JSON object"));
    using Kind = CollectionReport::Kind;
    CollectionReport r;
    std::vector<std::string> problems;
    for (const auto& [key, value] : j->items())
        if (key != "result" && key != "amount" && key != "date" && key != "reference" &&
            key != "note")
            problems.push_back("unknown field " + key);
    const auto result =
        j->value("result", json()).is_string() ? j->at("result").get<std::string>() : std::string();
    if (result == "paid")
        r.kind = Kind::paid;
    else if (result == "uncollectible")
        r.kind = Kind::uncollectible;
    else if (result == "returned")
        r.kind = Kind::returned;
    else
        problems.push_back("result must be paid, uncollectible or returned");
    if (const auto it = j->find("amount"); it != j->end() && !it->is_null()) {
        if (!it->is_number_integer() || it->get<std::int64_t>() <= 0)
            problems.push_back("amount must be a positive whole number of minor units, e.g. 4900");
        else if (result != "paid")
            problems.push_back("amount goes only with result paid");
        else
            r.amount_minor = it->get<std::int64_t>();
    }
    text_field(*j, "date", 10, r.date, problems);
    if (!r.date.empty() && !valid_date(r.date)) problems.push_back("date must be YYYY-MM-DD");
    text_field(*j, "reference", 200, r.reference, problems);
    text_field(*j, "note", 1000, r.note, problems);
    if (!problems.empty()) return err(joined(problems));
    return r;
}

} // namespace dunning::http
