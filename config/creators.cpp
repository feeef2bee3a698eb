// [[creators]]: each creator's own settings, product mappings and the checks across creators.
// [creators.retry], [creators.dunning], [creators.access] and [creators.escalation] start from
// the global [retry], [dunning], [access] and [escalation].
#include "config/reader.hpp"

#include <map>
#include <sstream>

namespace dunning::config::detail {

namespace {

bool is_creator_id(const std::string& id) {
    if (id.empty() || id.size() > 64) return false;
    auto lower_or_digit = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
    if (!lower_or_digit(id[0])) return false;
    for (char c : id)
        if (!lower_or_digit(c) && c != '_' && c != '-') return false;
    return true;
}

std::optional<std::string> check_creator_id(const std::string& id) {
    if (is_creator_id(id)) return std::nullopt;
    return R"(must be 1 to 64 characters of a-z, 0-9, "_" and "-", starting with a )"
           "letter or digit";
}

std::optional<std::string> check_api_token(const std::string& token) {
    if (token.size() >= 16) return std::nullopt;
    return "must be at least 16 characters";
}

std::optional<std::string> check_course(const std::string& course) {
    if (!course.empty()) return std::nullopt;
    return "must not contain an empty course id";
}

// Values already taken by an earlier creator; the messages name that creator, never the value,
// because api_token is a secret.
struct Seen {
    std::map<std::string, std::string> ids, tokens, accounts, products;

    static void claim(std::map<std::string, std::string>& taken, const std::string& value,
                      Reader& reader, std::string_view name, const char* what) {
        if (value.empty()) return;
        auto [it, fresh] = taken.emplace(value, reader.path());
        if (!fresh) reader.problem(name, std::string(what) + it->second);
    }
};

void read_products(Reader& creator, const Problems& problems, std::vector<ProductMapping>& out) {
    auto products = creator.tables("products");
    if (!products) return;
    Seen seen;
    for (auto& product : *products) {
        ProductMapping mapping;
        product.allow_only({"stripe_product", "courses", "court_claim_type"});
        product.required_string("stripe_product", mapping.stripe_product, starts_with({"prod_"}));
        Seen::claim(seen.products, mapping.stripe_product, product, "stripe_product",
                    "already mapped in ");
        if (!product.strings("courses", mapping.courses, check_course))
            product.problem("courses", "is required");
        else if (mapping.courses.empty() && !problems.has(product.key("courses")))
            product.problem("courses", "must list at least one course");
        std::int64_t claim_type = 0;
        if (product.integer("court_claim_type", claim_type, 1, 99) && claim_type > 0)
            mapping.court_claim_type = static_cast<int>(claim_type);
        out.push_back(std::move(mapping));
    }
}

void check_reachable(Reader& creator, const Problems& problems, const CreatorConfig& settings,
                     const StripeConfig& stripe) {
    if (!settings.webhook_secrets.empty()) return;
    if (!settings.stripe_account.empty() && !stripe.connect_webhook_secrets.empty()) return;
    // A value that failed its own check was reported already; don't pile a second error on it.
    if (problems.has(creator.key("webhook_secrets")) ||
        problems.has(creator.key("stripe_account")) ||
        problems.has("stripe.connect_webhook_secrets"))
        return;
    creator.problem_here("no way to receive its webhooks: set webhook_secrets, or stripe_account "
                         "with [stripe] connect_webhook_secrets");
}

// Mode "plugin" charges invoices through Stripe's API, on the creator's account.
void check_charges(Reader& creator, const Problems& problems, const CreatorConfig& settings,
                   const StripeConfig& stripe) {
    if (settings.retry.mode != RetryMode::plugin || !settings.stripe_secret_key.empty()) return;
    if (!settings.stripe_account.empty() && !stripe.platform_secret_key.empty()) return;
    if (problems.has(creator.key("stripe_secret_key")) ||
        problems.has(creator.key("stripe_account")) || problems.has("stripe.platform_secret_key"))
        return;
    const char* text = R"("plugin" charges through Stripe's API and needs stripe_secret_key, or )"
                       "stripe_account with [stripe] platform_secret_key";
    // At the creator's own mode = "plugin" when it has one, else at the creator.
    const toml::node* retry = creator.get("retry");
    const toml::node* mode = retry && retry->is_table() ? retry->as_table()->get("mode") : nullptr;
    if (mode)
        creator.problem_at(*mode, "retry.mode", text);
    else
        creator.problem("retry.mode", text);
}

// The creator's own keys as JSON for the store, its secrets left out; "${…}" kept as written.
std::string settings_json(const toml::table& table) {
    toml::table copy = table;
    for (const char* secret : {"api_token", "webhook_secrets", "stripe_secret_key"})
        copy.erase(secret);
    std::ostringstream out;
    out << toml::json_formatter{copy};
    return out.str();
}

} // namespace

CreatorConfig read_creator(Reader& creator, const Problems& problems, const std::string& base_dir,
                           const Config& config, bool from_api) {
    CreatorConfig out;
    out.retry = config.retry;
    out.dunning = config.dunning;
    out.access = config.access;
    out.escalation = config.escalation;
    creator.allow_only({"id", "name", "locale", "stripe_account", "webhook_secrets",
                        "stripe_secret_key", "api_token", "reply_to", "update_payment_url",
                        "products", "retry", "dunning", "access", "escalation", "legal_name",
                        "address"});
    creator.required_string("id", out.id, check_creator_id);
    creator.required_string("name", out.name, not_empty());
    creator.string("locale", out.locale, one_of({"de", "en"}));
    creator.string("stripe_account", out.stripe_account, starts_with({"acct_"}, true));
    creator.strings("webhook_secrets", out.webhook_secrets, starts_with({"whsec_"}));
    creator.string("stripe_secret_key", out.stripe_secret_key, starts_with({"sk_", "rk_"}, true));
    if (from_api)
        out.source = "api";
    else
        creator.required_string("api_token", out.api_token, check_api_token);
    creator.string("reply_to", out.reply_to, mailbox(true));
    creator.string("update_payment_url", out.update_payment_url, http_url(true));
    creator.string("legal_name", out.legal_name);
    creator.string("address", out.address);
    read_products(creator, problems, out.products);
    if (auto retry = creator.table("retry")) read_retry(*retry, out.retry);
    if (auto dunning = creator.table("dunning"))
        read_dunning(*dunning, problems, base_dir, out.dunning);
    if (auto access = creator.table("access")) read_access(*access, problems, out.access);
    if (auto escalation = creator.table("escalation")) read_escalation(*escalation, out.escalation);
    // A creator of the admin API may be made first and connect to Stripe afterwards (OAuth, its
    // own key): its routes say so then.
    if (!from_api) check_reachable(creator, problems, out, config.stripe);
    if (!from_api && !problems.has(creator.key("retry.mode")) && !problems.has("retry.mode"))
        check_charges(creator, problems, out, config.stripe);
    out.settings_json = settings_json(creator.raw());
    return out;
}

void read_creators(Reader& root, const Problems& problems, const std::string& base_dir,
                   Config& config) {
    auto creators = root.tables("creators");
    // With the admin API, creators may all be made through it.
    const bool required = config.platform.admin_token.empty();
    if (!creators) {
        if (!root.contains("creators") && required)
            root.problem("creators", "at least one [[creators]] table is required");
        return;
    }
    if (creators->empty() && required)
        root.problem("creators", "at least one [[creators]] table is required");
    Seen seen;
    for (auto& creator : *creators) {
        config.creators.push_back(read_creator(creator, problems, base_dir, config, false));
        const auto& added = config.creators.back();
        Seen::claim(seen.ids, added.id, creator, "id", "already used by ");
        Seen::claim(seen.tokens, added.api_token, creator, "api_token", "already used by ");
        Seen::claim(seen.accounts, added.stripe_account, creator, "stripe_account",
                    "already used by ");
    }
}

} // namespace dunning::config::detail
