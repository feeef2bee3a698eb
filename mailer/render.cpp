#include "mailer/render.hpp"

#include "core/html.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <kainjow/mustache.hpp>
#include <optional>
#include <sstream>
#include <string_view>

namespace dunning::mailer {
namespace detail {
// Generated at build time from mailer/templates/ (embed_templates.cmake).
std::optional<std::string_view> builtin_template(std::string_view name);
} // namespace detail

namespace {

namespace mst = kainjow::mustache;

const std::vector<std::string>& locale_names() {
    static const std::vector<std::string> names = {"de", "en"};
    return names;
}

bool is_one_of(const std::vector<std::string>& names, const std::string& value) {
    return std::find(names.begin(), names.end(), value) != names.end();
}

std::string joined(const std::vector<std::string>& names) {
    std::string out;
    for (const auto& name : names)
        out += (out.empty() ? "\"" : ", \"") + name + "\"";
    return out;
}

// Marks where a standalone tag line stood; see normalize(). Never part of a template or value.
constexpr char line_marker = '\x01';

// Every value is one line: control characters (CR, LF, TAB, …) become spaces. This is what
// keeps a name like "x\r\nBcc: …" out of the subject header, and stray breaks out of the body.
std::string flatten(std::string_view value) {
    std::string out(value);
    for (auto& c : out)
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
    return out;
}

using Escape = std::function<std::string(std::string_view)>;

mst::data flag(bool value) {
    return mst::data(value ? mst::data::type::bool_true : mst::data::type::bool_false);
}

mst::data fee_list(const std::vector<FeeLine>& fees, const Escape& escape) {
    mst::data list(mst::data::type::list);
    for (const auto& fee : fees) {
        mst::data line;
        line.set("label", escape(flatten(fee.label)));
        line.set("amount", escape(flatten(fee.amount)));
        list.push_back(line);
    }
    return list;
}

// The values as templates see them, each escaped with `escape` (HTML) or not at all (subject,
// text). Escaping here rather than in the renderer means {{{x}}} and {{&x}} escape too.
mst::data template_values(const MessageData& d, const Escape& escape) {
    mst::data v;
    const auto set = [&](const std::string& key, const std::string& value) {
        v.set(key, escape(flatten(value)));
    };
    set("creator_name", d.creator_name);
    set("creator_email", d.creator_email);
    set("member_name", d.member_name);
    set("invoice_number", d.invoice_number);
    set("invoice_date", d.invoice_date);
    set("amount_due", d.amount_due);
    set("total_due", d.total_due);
    set("product_names", d.product_names);
    set("pay_url", d.pay_url);
    set("update_payment_url", d.update_payment_url);
    set("promise_url", d.promise_url);
    set("payment_method_url", d.update_payment_url.empty() ? d.pay_url : d.update_payment_url);
    set("deadline", d.deadline);
    set("card_expiry", d.card_expiry);
    v.set("fees", fee_list(d.fees, escape));
    v.set("has_member_name", flag(!d.member_name.empty()));
    v.set("has_products", flag(!d.product_names.empty()));
    v.set("has_invoice_date", flag(!d.invoice_date.empty()));
    v.set("has_fees", flag(!d.fees.empty()));
    v.set("has_deadline", flag(!d.deadline.empty()));
    v.set("has_update_url", flag(!d.update_payment_url.empty()));
    v.set("has_promise_url", flag(!d.promise_url.empty()));
    v.set("has_amount", flag(!d.amount_due.empty()));
    v.set("access_will_be_locked", flag(d.access_will_be_locked));
    v.set("handover_announced", flag(d.handover_announced));
    v.set("has_consequences", flag(d.access_will_be_locked || d.handover_announced));
    return v;
}

// Lookups answer data only: a partial tag ({{>member_name}}) would otherwise render a value as
// a template, and a member could put template syntax in their name.
class ValuesOnly final : public mst::context<std::string> {
  public:
    using mst::context<std::string>::context;
    const mst::data* get_partial(const std::string&) const override { return nullptr; }
};

// A line holding only a section, inverted-section, end or comment tag.
std::optional<std::string_view> standalone_tag(std::string_view line) {
    const auto first = line.find_first_not_of(" \t");
    if (first == std::string_view::npos) return std::nullopt;
    line = line.substr(first, line.find_last_not_of(" \t") - first + 1);
    if (line.size() < 5 || !line.starts_with("{{") || !line.ends_with("}}")) return std::nullopt;
    if (line.find("{{", 2) != std::string_view::npos) return std::nullopt;
    if (std::string_view("#^/!").find(line[2]) == std::string_view::npos) return std::nullopt;
    return line;
}

// UTF-8 BOM and CR LF from an editor go; a standalone tag line is removed whole, as the
// Mustache spec asks (kainjow 4.1 leaves an empty line behind a skipped section). The marker
// keeps kainjow from also dropping a blank line that directly follows such a tag.
std::string normalize(std::string_view source) {
    if (source.starts_with("\xEF\xBB\xBF")) source.remove_prefix(3);
    std::string clean(source);
    std::erase(clean, line_marker);
    const std::string_view text = clean;
    std::string out;
    std::size_t pos = 0;
    while (pos < text.size()) {
        const auto end = std::min(text.find('\n', pos), text.size());
        std::string_view line = text.substr(pos, end - pos);
        if (line.ends_with('\r')) line.remove_suffix(1);
        if (const auto tag = standalone_tag(line)) {
            out.append(*tag).push_back(line_marker);
        } else {
            out.append(line);
            if (end < text.size()) out.push_back('\n');
        }
        pos = end + 1;
    }
    std::erase(out, '\r');
    return out;
}

struct Template {
    std::string name; // for messages: the override's path or "built-in de/reminder.html.mustache"
    std::string text;
};

Result<Template, std::string> load_template(const std::string& template_dir,
                                            const std::string& relative) {
    if (!template_dir.empty()) {
        const auto path = std::filesystem::path(template_dir) / relative;
        std::error_code error;
        if (std::filesystem::is_regular_file(path, error)) {
            std::ifstream file(path, std::ios::binary);
            std::ostringstream text;
            text << file.rdbuf();
            if (!file || file.bad()) return err(path.string() + ": cannot read the template");
            return Template{path.string(), text.str()};
        }
    }
    const auto builtin = detail::builtin_template(relative);
    if (!builtin) return err("no built-in template " + relative);
    return Template{"built-in " + relative, std::string(*builtin)};
}

Result<std::string, std::string> render_template(const Template& source, const mst::data& values) {
    mst::mustache tmpl(normalize(source.text));
    if (!tmpl.is_valid()) return err(source.name + ": " + tmpl.error_message());
    tmpl.set_custom_escape([](const std::string& s) { return s; }); // values come escaped
    ValuesOnly context(&values);
    std::string out = tmpl.render(context);
    if (!tmpl.is_valid()) return err(source.name + ": " + tmpl.error_message());
    std::erase(out, line_marker);
    return out;
}

// One header line: breaks and other controls become spaces, runs of spaces collapse.
std::string subject_line(std::string_view rendered) {
    std::string out;
    for (char c : flatten(rendered))
        if (c != ' ' || (!out.empty() && out.back() != ' ')) out += c;
    while (!out.empty() && out.back() == ' ')
        out.pop_back();
    return out;
}

bool is_web_url(const std::string& url) {
    return url.empty() || url.starts_with("https://") || url.starts_with("http://");
}

std::optional<std::string> check_request(const std::string& message, const std::string& locale,
                                         const MessageData& data) {
    if (!is_one_of(message_names(), message))
        return "unknown message \"" + message + "\"; expected one of " + joined(message_names());
    if (!is_one_of(locale_names(), locale))
        return "unknown locale \"" + locale + "\"; expected one of " + joined(locale_names());
    if (!is_web_url(data.pay_url)) return "pay_url must start with https:// or http://";
    if (!is_web_url(data.update_payment_url))
        return "update_payment_url must start with https:// or http://";
    if (!is_web_url(data.promise_url)) return "promise_url must start with https:// or http://";
    return std::nullopt;
}

} // namespace

const std::vector<std::string>& message_names() {
    static const std::vector<std::string> names = {
        "reminder",        "formal_reminder",       "final_notice",
        "action_required", "update_payment_method", "payment_received",
        "card_expiring"};
    return names;
}

Result<RenderedMessage, std::string> render_message(const std::string& message,
                                                    const std::string& locale,
                                                    const MessageData& data,
                                                    const std::string& template_dir) {
    if (auto problem = check_request(message, locale, data)) return err(*problem);
    const auto identity = [](std::string_view s) { return std::string(s); };
    const mst::data plain = template_values(data, identity);
    const mst::data html = template_values(data, html_escape);
    std::string parts[3];
    const char* names[3] = {"subject", "text", "html"};
    for (int i = 0; i < 3; ++i) {
        auto source =
            load_template(template_dir, locale + "/" + message + "." + names[i] + ".mustache");
        if (!source) return err(source.error());
        auto rendered = render_template(source.value(), i == 2 ? html : plain);
        if (!rendered) return err(rendered.error());
        parts[i] = std::move(rendered).value();
    }
    return RenderedMessage{subject_line(parts[0]), std::move(parts[1]), std::move(parts[2])};
}

} // namespace dunning::mailer
