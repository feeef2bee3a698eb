// [dunning] and [creators.dunning] (stages, deadline, templates, interest), the [mail] keys the
// mailer needs (sender, SMTP login, TLS), the creators' reply_to and update_payment_url, and the
// key a creator needs when this module charges (retry mode "plugin").
#include "config/config.hpp"
#include "tests/config/support.hpp"

#include <filesystem>
#include <fstream>
#include <functional>
#include <gtest/gtest.h>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <unistd.h>

namespace dunning::config {
namespace {

using namespace std::chrono_literals;
using namespace testing;

// Relative paths resolve against this directory, which does not exist.
const std::string base = "/nonexistent-dunning-config";

Problems problems_of(const std::string& text, const std::string& base_dir = base,
                     const EnvLookup& env = no_env) {
    return problems_in(text, base_dir, env);
}

Config parsed(const std::string& text, const std::string& base_dir = base,
              const EnvLookup& env = no_env) {
    return parsed_in(text, base_dir, env);
}

const std::string valid_creator = "\n" + creator("acme");

// Every field, so a failing comparison shows what differs.
std::string describe(const DunningConfig& d) {
    std::ostringstream out;
    out << "stages=[";
    for (std::size_t i = 0; i < d.stages.size(); ++i)
        out << (i ? ", " : "") << d.stages[i].name << "@" << d.stages[i].after.count() << "s+"
            << d.stages[i].fee_minor;
    out << "] final_notice_deadline=" << d.final_notice_deadline.count() << "s"
        << " template_dir=" << d.template_dir << " interest=" << d.interest
        << " business_debtor=" << d.business_debtor << " base_rates_file=" << d.base_rates_file;
    return out.str();
}

DunningStage stage(std::string name, std::chrono::seconds after, std::int64_t fee_minor = 0) {
    return DunningStage{std::move(name), after, fee_minor};
}

// A directory of its own for tests that need files on disk; removed afterwards.
class TempDir {
  public:
    TempDir() {
        static int count = 0;
        path_ = std::filesystem::temp_directory_path() /
                ("dunning-config-" + std::to_string(::getpid()) + "-" + std::to_string(++count));
        std::filesystem::create_directories(path_);
    }
    ~TempDir() {
        std::error_code ignored;
        std::filesystem::remove_all(path_, ignored);
    }
    std::string path() const { return path_.string(); }
    std::string file(const std::string& name, const std::string& text = "") const {
        const auto at = path_ / name;
        std::filesystem::create_directories(at.parent_path());
        std::ofstream(at) << text;
        return at.string();
    }
    std::string dir(const std::string& name) const {
        std::filesystem::create_directories(path_ / name);
        return (path_ / name).string();
    }

  private:
    std::filesystem::path path_;
};

// ---------------------------------------------------------------------------------------------
// Defaults

TEST(DunningConfig, Defaults) {
    const Config config = parsed(creator("acme"));
    DunningConfig expected;
    expected.stages = {stage("reminder", std::chrono::days(3)),
                       stage("formal_reminder", std::chrono::days(10)),
                       stage("final_notice", std::chrono::days(20))};
    expected.final_notice_deadline = std::chrono::days(14);
    expected.template_dir = "";
    expected.interest = false;
    expected.business_debtor = false;
    expected.base_rates_file = base + "/base_rates.toml"; // next to the config file
    EXPECT_EQ(describe(config.dunning), describe(expected));
    ASSERT_EQ(config.creators.size(), 1u);
    EXPECT_EQ(describe(config.creators[0].dunning), describe(expected));
    // The same as the case engine's own defaults.
    const CasePolicy policy;
    DunningConfig from_policy = expected;
    from_policy.stages = policy.stages;
    from_policy.final_notice_deadline = policy.final_notice_deadline;
    EXPECT_EQ(describe(from_policy), describe(expected));

    // Empty tables change nothing.
    const Config empty = parsed("[dunning]\n\n" + creator("acme", "[creators.dunning]\n"));
    EXPECT_EQ(describe(empty.dunning), describe(expected));
    EXPECT_EQ(describe(empty.creators[0].dunning), describe(expected));

    // Without a directory, the default stays relative (to the working directory).
    EXPECT_EQ(parsed(creator("acme"), "").dunning.base_rates_file, "base_rates.toml");
}

TEST(MailConfig, DefaultsOfTheNewKeys) {
    const Config config = parsed(creator("acme"));
    EXPECT_EQ(config.mail.from, "Acme <billing@acme.example>");
    EXPECT_EQ(config.mail.smtp_username, "");
    EXPECT_EQ(config.mail.smtp_password, "");
    EXPECT_FALSE(config.mail.smtp_allow_plaintext);
    EXPECT_EQ(config.mail.smtp_ca_file, "");
    EXPECT_EQ(config.mail.message_id_domain, "acme.example"); // from's domain
    EXPECT_EQ(config.creators[0].reply_to, "");
    EXPECT_EQ(config.creators[0].update_payment_url, "");
    // A bare address has a domain too.
    EXPECT_EQ(parsed(creator("acme") + "[mail]\nfrom = \"billing@mail.acme.example\"\n")
                  .mail.message_id_domain,
              "mail.acme.example");
}

// ---------------------------------------------------------------------------------------------
// Every key

TEST(DunningConfig, ReadsEveryKey) {
    TempDir dir;
    dir.dir("templates/de");
    const auto rates = dir.file("rates/base_rates.toml", "# rates\n");
    const Config config = parsed(R"([dunning]
stages = [
  { message = "reminder", after_days = 2 },
  { message = "formal_reminder", after_days = 7.5, fee = 2.5 },
  { message = "final_notice", after_days = 14, fee = 3 },
]
final_notice_deadline_days = 60
template_dir = "templates"
interest = true
debtor = "business"
base_rates_file = "rates/base_rates.toml"
)" + valid_creator,
                                 dir.path());
    DunningConfig expected;
    expected.stages = {stage("reminder", std::chrono::days(2)), stage("formal_reminder", 180h, 250),
                       stage("final_notice", std::chrono::days(14), 300)};
    expected.final_notice_deadline = std::chrono::days(60);
    expected.template_dir = dir.path() + "/templates";
    expected.interest = true;
    expected.business_debtor = true;
    expected.base_rates_file = rates;
    EXPECT_EQ(describe(config.dunning), describe(expected));
    ASSERT_EQ(config.creators.size(), 1u);
    EXPECT_EQ(describe(config.creators[0].dunning), describe(expected));
}

TEST(DunningConfig, StagesAsArrayOfTables) {
    const Config config = parsed(R"([dunning]
final_notice_deadline_days = 7

[[dunning.stages]]
message = "formal_reminder"
after_days = 0.5

[[dunning.stages]]
message = "final_notice"
after_days = 365
fee = 0.015
)" + valid_creator);
    ASSERT_EQ(config.dunning.stages.size(), 2u);
    EXPECT_EQ(config.dunning.stages[0].name, "formal_reminder");
    EXPECT_EQ(config.dunning.stages[0].after, 12h);
    EXPECT_EQ(config.dunning.stages[0].fee_minor, 0);
    EXPECT_EQ(config.dunning.stages[1].name, "final_notice");
    EXPECT_EQ(config.dunning.stages[1].after, std::chrono::days(365));
    EXPECT_EQ(config.dunning.stages[1].fee_minor, 2); // 1.5 cents, rounded
    EXPECT_EQ(config.dunning.final_notice_deadline, std::chrono::days(7));

    // And per creator.
    const Config own = parsed(creator("acme", "[[creators.dunning.stages]]\nmessage = "
                                              "\"reminder\"\nafter_days = 1\nfee = 0\n"));
    ASSERT_EQ(own.creators[0].dunning.stages.size(), 1u);
    EXPECT_EQ(own.creators[0].dunning.stages[0].name, "reminder");
    EXPECT_EQ(own.creators[0].dunning.stages[0].after, 24h);
}

TEST(DunningConfig, FeesAreRoundedToMinorUnitsAndTenIsTheMost) {
    const auto fees = [](const std::string& second, const std::string& third) {
        const Config config = parsed("[dunning]\nstages = [{ message = \"reminder\", after_days = "
                                     "3, fee = 0 }, { message = \"formal_reminder\", after_days = "
                                     "10, fee = " +
                                     second +
                                     " }, { message = \"final_notice\", after_days = 20, "
                                     "fee = " +
                                     third + " }]\n" + valid_creator);
        std::vector<std::int64_t> out;
        for (const auto& s : config.dunning.stages)
            out.push_back(s.fee_minor);
        return out;
    };
    EXPECT_EQ(fees("1", "10"), (std::vector<std::int64_t>{0, 100, 1000}));
    EXPECT_EQ(fees("2.99", "0.005"), (std::vector<std::int64_t>{0, 299, 1}));
    EXPECT_EQ(fees("0", "10.0"), (std::vector<std::int64_t>{0, 0, 1000}));
}

TEST(MailConfig, ReadsEveryKey) {
    TempDir dir;
    const auto ca = dir.file("certs/ca.pem", "-----BEGIN CERTIFICATE-----\n");
    const auto env = env_of({{"SMTP_USER", "billing"}, {"SMTP_PASS", "hunter2"}});
    const Config config = parsed(R"([mail]
transport = "smtp"
smtp_url = "smtp://127.0.0.1:2525"
from = "Acme Kurse GmbH <billing@acme.example>"
smtp_username = "${SMTP_USER}"
smtp_password = "${SMTP_PASS}"
smtp_allow_plaintext = true
smtp_ca_file = "certs/ca.pem"
message_id_domain = "mail.acme.example"
)" + valid_creator,
                                 dir.path(), env);
    EXPECT_EQ(config.mail.transport, "smtp");
    EXPECT_EQ(config.mail.smtp_url, "smtp://127.0.0.1:2525");
    EXPECT_EQ(config.mail.from, "Acme Kurse GmbH <billing@acme.example>");
    EXPECT_EQ(config.mail.smtp_username, "billing");
    EXPECT_EQ(config.mail.smtp_password, "hunter2");
    EXPECT_TRUE(config.mail.smtp_allow_plaintext);
    EXPECT_EQ(config.mail.smtp_ca_file, ca);
    EXPECT_EQ(config.mail.message_id_domain, "mail.acme.example");

    // An absolute CA file stays as it is; "" means the system's CAs.
    EXPECT_EQ(parsed("[mail]\n" + sender + "smtp_ca_file = \"" + ca + "\"\n" + valid_creator)
                  .mail.smtp_ca_file,
              ca);
    EXPECT_EQ(
        parsed("[mail]\n" + sender + "smtp_ca_file = \"\"\n" + valid_creator).mail.smtp_ca_file,
        "");
}

TEST(CreatorConfig, ReadsReplyToAndUpdatePaymentUrl) {
    const Config config =
        parsed(creator("acme", R"(reply_to = "Acme Support <help@acme.example>"
update_payment_url = "https://courses.acme.example/account/billing?tab=card"
)") + "\n" +
               creator("beta", "reply_to = \"help@beta.example\"\nupdate_payment_url = "
                               "\"http://localhost:3000/billing\"\n"));
    ASSERT_EQ(config.creators.size(), 2u);
    EXPECT_EQ(config.creators[0].reply_to, "Acme Support <help@acme.example>");
    EXPECT_EQ(config.creators[0].update_payment_url,
              "https://courses.acme.example/account/billing?tab=card");
    EXPECT_EQ(config.creators[1].reply_to, "help@beta.example");
    EXPECT_EQ(config.creators[1].update_payment_url, "http://localhost:3000/billing");
    // Empty: not set.
    const Config empty = parsed(creator("acme", "reply_to = \"\"\nupdate_payment_url = \"\"\n"));
    EXPECT_EQ(empty.creators[0].reply_to, "");
    EXPECT_EQ(empty.creators[0].update_payment_url, "");
}

// ---------------------------------------------------------------------------------------------
// Every invalid value, with its exact message and line

// One bad value: `body` follows the table's header line (line 1); `line` is where the problem is
// reported, counted from that header. In body and problem, "{H}" stands for the table as its
// header spells it ("dunning" or "creators.dunning") and "{K}" for its key ("dunning" or
// "creators[0].dunning").
struct Rule {
    std::string body;
    int line;
    std::string key;
    std::string problem;
};

std::string substituted(std::string text, const std::string& header, const std::string& key) {
    for (auto at = text.find("{H}"); at != std::string::npos; at = text.find("{H}"))
        text.replace(at, 3, header);
    for (auto at = text.find("{K}"); at != std::string::npos; at = text.find("{K}"))
        text.replace(at, 3, key);
    return text;
}

const std::string messages = R"(must be "reminder", "formal_reminder" or "final_notice")";
const std::string days_type = "must be a number of days, e.g. 3 or 0.5";
const std::string fee_type =
    "must be a number: the fee in the invoice currency's major unit, e.g. 2.50";
const std::string fee_too_high = "must be at most 10: German courts accept only the real "
                                 "material costs of a reminder, a few euros";
const std::string first_fee = "the first reminder puts the member in default and may carry no fee";
const std::string not_increasing = "must be greater than the previous stage's after_days (stages "
                                   "are listed in the order they are sent)";

// `{ message = "reminder", after_days = 3 }, ` and so on, for the stages before a bad one.
const std::string reminder = R"({ message = "reminder", after_days = 3 }, )";

std::vector<Rule> dunning_rules() {
    return {
        {"stages = 3\n", 2, "stages",
         R"(must be an array of tables: stages = [{ message = "reminder", after_days = 3 }] or )"
         "[[{H}.stages]]"},
        {"stages = { message = \"reminder\", after_days = 3 }\n", 2, "stages",
         R"(must be an array of tables: stages = [{ message = "reminder", after_days = 3 }] or )"
         "[[{H}.stages]]"},
        {"stages = []\n", 2, "stages", "must list at least one stage"},
        {"stages = [\"reminder\"]\n", 2, "stages[0]", "must be a table"},
        {"stages = [{ after_days = 3 }]\n", 2, "stages[0].message", "is required"},
        {"stages = [{ message = \"warning\", after_days = 3 }]\n", 2, "stages[0].message",
         messages},
        {"stages = [{ message = \"Reminder\", after_days = 3 }]\n", 2, "stages[0].message",
         messages},
        {"stages = [{ message = 1, after_days = 3 }]\n", 2, "stages[0].message",
         "must be a string"},
        {"stages = [" + reminder + "{ message = \"reminder\", after_days = 5 }]\n", 2,
         "stages[1].message", "already used by {K}.stages[0]"},
        {"stages = [{ message = \"final_notice\", after_days = 3 }, { message = \"reminder\", "
         "after_days = 5 }]\n",
         2, "stages[0].message",
         R"("final_notice" must be the last stage: its deadline runs from the last stage sent)"},
        {"stages = [{ message = \"reminder\" }]\n", 2, "stages[0].after_days", "is required"},
        {"stages = [{ message = \"reminder\", after_days = 0 }]\n", 2, "stages[0].after_days",
         "must be greater than 0"},
        {"stages = [{ message = \"reminder\", after_days = -1 }]\n", 2, "stages[0].after_days",
         "must be greater than 0"},
        {"stages = [{ message = \"reminder\", after_days = 1e-9 }]\n", 2, "stages[0].after_days",
         "must be greater than 0"}, // less than half a second
        {"stages = [{ message = \"reminder\", after_days = nan }]\n", 2, "stages[0].after_days",
         days_type},
        {"stages = [{ message = \"reminder\", after_days = \"3\" }]\n", 2, "stages[0].after_days",
         days_type},
        {"stages = [{ message = \"reminder\", after_days = 366 }]\n", 2, "stages[0].after_days",
         "must be at most 365 (days)"},
        {"stages = [{ message = \"reminder\", after_days = inf }]\n", 2, "stages[0].after_days",
         "must be at most 365 (days)"},
        {"stages = [" + reminder + "{ message = \"formal_reminder\", after_days = 3 }]\n", 2,
         "stages[1].after_days", not_increasing},
        {"stages = [\n  { message = \"reminder\", after_days = 5 },\n  { message = "
         "\"formal_reminder\", after_days = 4.5 },\n]\n",
         4, "stages[1].after_days", not_increasing},
        {"stages = [{ message = \"reminder\", after_days = 3, fee = 1 }]\n", 2, "stages[0].fee",
         first_fee},
        {"stages = [{ message = \"formal_reminder\", after_days = 3, fee = 0.01 }]\n", 2,
         "stages[0].fee", first_fee}, // whichever message comes first
        {"stages = [" + reminder + "{ message = \"formal_reminder\", after_days = 9, fee = -1 }]\n",
         2, "stages[1].fee", "must not be negative"},
        {"stages = [" + reminder +
             "{ message = \"formal_reminder\", after_days = 9, fee = 10.01 }]\n",
         2, "stages[1].fee", fee_too_high},
        {"stages = [" + reminder + "{ message = \"formal_reminder\", after_days = 9, fee = 40 }]\n",
         2, "stages[1].fee", fee_too_high},
        {"stages = [" + reminder +
             "{ message = \"formal_reminder\", after_days = 9, fee = \"2.50\" }]\n",
         2, "stages[1].fee", fee_type},
        {"stages = [" + reminder +
             "{ message = \"formal_reminder\", after_days = 9, fee = nan }]\n",
         2, "stages[1].fee", fee_type},
        {"stages = [{ message = \"reminder\", after_days = 3, fees = 0 }]\n", 2, "stages[0].fees",
         R"(unknown key, did you mean "fee"?)"},
        {"stages = [{ message = \"reminder\", days = 3 }]\n", 2, "stages[0].days",
         "unknown key"}, // and after_days is missing:
        {"[[{H}.stages]]\nmessage = \"reminder\"\nafter_days = 0\n", 4, "stages[0].after_days",
         "must be greater than 0"},
        {"[[{H}.stages]]\nmessage = \"reminder\"\nafter_days = 2\n[[{H}.stages]]\nmessage = "
         "\"final_notice\"\nafter_days = 5\nfee = 11\n",
         8, "stages[1].fee", fee_too_high},
        {"final_notice_deadline_days = 0\n", 2, "final_notice_deadline_days",
         "must be between 1 and 60"},
        {"final_notice_deadline_days = 61\n", 2, "final_notice_deadline_days",
         "must be between 1 and 60"},
        {"final_notice_deadline_days = 14.5\n", 2, "final_notice_deadline_days",
         "must be an integer"},
        {"template_dir = \"templates\"\n", 2, "template_dir", base + "/templates does not exist"},
        {"template_dir = \"/nonexistent-dunning-templates\"\n", 2, "template_dir",
         "/nonexistent-dunning-templates does not exist"},
        {"template_dir = 1\n", 2, "template_dir", "must be a string"},
        {"interest = \"yes\"\n", 2, "interest", "must be true or false"},
        {"interest = 1\n", 2, "interest", "must be true or false"},
        {"debtor = \"company\"\n", 2, "debtor", R"(must be "consumer" or "business")"},
        {"debtor = \"\"\n", 2, "debtor", R"(must be "consumer" or "business")"},
        {"base_rates_file = \"\"\n", 2, "base_rates_file", "must not be empty"},
        {"base_rates_file = [\"a\"]\n", 2, "base_rates_file", "must be a string"},
        {"interest = true\n", 2, "interest",
         "needs the table of base rates, but " + base +
             "/base_rates.toml does not exist (set base_rates_file)"},
        {"interest = true\nbase_rates_file = \"rates.toml\"\n", 3, "base_rates_file",
         base + "/rates.toml does not exist (interest = true needs the table of base rates)"},
        {"stage = []\n", 2, "stage", R"(unknown key, did you mean "stages"?)"},
        {"deadline_days = 14\n", 2, "deadline_days", "unknown key"},
    };
}

// The rule "stages = [{ message = "reminder", days = 3 }]" reports two problems.
std::vector<std::string> expected_problems(const Rule& rule, int offset, const std::string& header,
                                           const std::string& key) {
    const std::string at = "t.toml:" + std::to_string(rule.line + offset) + ": " + key + ".";
    std::vector<std::string> out = {at + rule.key + ": " + substituted(rule.problem, header, key)};
    if (rule.key == "stages[0].days") out.push_back(at + "stages[0].after_days: is required");
    return out;
}

TEST(DunningConfig, EachRuleInDunning) {
    for (const auto& rule : dunning_rules()) {
        const auto body = substituted(rule.body, "dunning", "dunning");
        SCOPED_TRACE(body);
        EXPECT_EQ(problems_of("[dunning]\n" + body + valid_creator),
                  expected_problems(rule, 0, "dunning", "dunning"));
    }
}

TEST(DunningConfig, EachRuleInCreatorsDunning) {
    for (const auto& rule : dunning_rules()) {
        const auto body = substituted(rule.body, "creators.dunning", "creators[0].dunning");
        SCOPED_TRACE(body);
        // [creators.dunning] is on line 6.
        EXPECT_EQ(problems_of(creator("acme", "[creators.dunning]\n" + body)),
                  expected_problems(rule, 5, "creators.dunning", "creators[0].dunning"));
    }
}

TEST(DunningConfig, ExactMessages) {
    // The rules above, spelled out once.
    EXPECT_EQ(
        problems_of(
            "[dunning]\nstages = [{ message = \"reminder\", after_days = 3, fee = 2.5 }]\n" +
            valid_creator),
        Problems{"t.toml:2: dunning.stages[0].fee: the first reminder puts the member in default "
                 "and may carry no fee"});
    EXPECT_EQ(problems_of(creator("acme", "[creators.dunning]\nstages = [\n  { message = "
                                          "\"reminder\", after_days = 3 },\n  { message = "
                                          "\"formal_reminder\", after_days = 9, fee = 15 },\n]\n")),
              Problems{"t.toml:9: creators[0].dunning.stages[1].fee: must be at most 10: German "
                       "courts accept only the real material costs of a reminder, a few euros"});
    EXPECT_EQ(problems_of("[dunning]\nfinal_notice_deadline_days = 90\n" + valid_creator),
              Problems{"t.toml:2: dunning.final_notice_deadline_days: must be between 1 and 60"});
    EXPECT_EQ(problems_of("dunning = 1\n" + valid_creator),
              Problems{"t.toml:1: dunning: must be a table ([dunning])"});
    EXPECT_EQ(problems_of(creator("acme", "dunning = \"off\"\n")),
              Problems{"t.toml:6: creators[0].dunning: must be a table ([creators.dunning])"});
}

TEST(DunningConfig, ReportsEveryProblemInLineOrder) {
    const std::string text = "[dunning]\n"
                             "debtor = \"b2b\"\n"
                             "stages = [\n"
                             "  { message = \"reminder\", after_days = 3, fee = 1 },\n"
                             "  { message = \"reminder\", after_days = 2 },\n"
                             "  { message = \"final_notice\", after_days = 400 },\n"
                             "]\n"
                             "interest = \"no\"\n" +
                             valid_creator;
    EXPECT_EQ(problems_of(text),
              (Problems{
                  R"(t.toml:2: dunning.debtor: must be "consumer" or "business")",
                  "t.toml:4: dunning.stages[0].fee: " + first_fee,
                  "t.toml:5: dunning.stages[1].message: already used by dunning.stages[0]",
                  "t.toml:5: dunning.stages[1].after_days: " + not_increasing,
                  "t.toml:6: dunning.stages[2].after_days: must be at most 365 (days)",
                  "t.toml:8: dunning.interest: must be true or false",
              }));
}

TEST(DunningConfig, PathsMustExistAndBeOfTheRightKind) {
    TempDir dir;
    dir.dir("templates");
    dir.dir("rates_dir");
    dir.file("not_a_dir.txt");
    dir.file("base_rates.toml", "# rates\n");
    EXPECT_EQ(
        problems_of("[dunning]\ntemplate_dir = \"not_a_dir.txt\"\n" + valid_creator, dir.path()),
        Problems{"t.toml:2: dunning.template_dir: " + dir.path() +
                 "/not_a_dir.txt is not a directory"});
    EXPECT_EQ(
        problems_of("[dunning]\ninterest = true\nbase_rates_file = \"rates_dir\"\n" + valid_creator,
                    dir.path()),
        Problems{"t.toml:3: dunning.base_rates_file: " + dir.path() +
                 "/rates_dir is not a file (interest = true needs the table of base rates)"});
    // The default file next to the config is found.
    const Config config = parsed("[dunning]\ninterest = true\n" + valid_creator, dir.path());
    EXPECT_TRUE(config.dunning.interest);
    EXPECT_EQ(config.dunning.base_rates_file, dir.path() + "/base_rates.toml");
    // Without interest, a missing table is no problem: nothing reads it.
    EXPECT_EQ(parsed("[dunning]\nbase_rates_file = \"absent.toml\"\n" + valid_creator)
                  .dunning.base_rates_file,
              base + "/absent.toml");
    // template_dir = "" is the built-in templates, also to undo a global one.
    const Config reset = parsed("[dunning]\ntemplate_dir = \"templates\"\n\n" +
                                    creator("acme", "[creators.dunning]\ntemplate_dir = \"\"\n"),
                                dir.path());
    EXPECT_EQ(reset.dunning.template_dir, dir.path() + "/templates");
    EXPECT_EQ(reset.creators[0].dunning.template_dir, "");
}

TEST(DunningConfig, ABadValueKeepsTheInheritedOne) {
    // Reported, and the value in force stays the global one (no half-read list of stages).
    auto result = parse_config(
        with_sender("[dunning]\nstages = [{ message = \"reminder\", after_days = 4 }]\n\n" +
                    creator("acme", "[creators.dunning]\nstages = [{ message = \"reminder\", "
                                    "after_days = 1 }, { message = \"final_notice\", after_days "
                                    "= 0 }]\n")),
        "t.toml", base, no_env);
    ASSERT_FALSE(result.ok());
    EXPECT_EQ(result.error(),
              Problems{"t.toml:10: creators[0].dunning.stages[1].after_days: must be greater "
                       "than 0"});
}

// ---------------------------------------------------------------------------------------------
// Creators override [dunning] key by key

TEST(DunningConfig, CreatorOverridesKeyByKey) {
    TempDir dir;
    dir.dir("global_templates");
    dir.dir("acme_templates");
    dir.file("base_rates.toml", "# rates\n");
    dir.file("other_rates.toml", "# rates\n");
    // Every key set to something other than its default.
    const std::string global = R"([dunning]
stages = [
  { message = "reminder", after_days = 5 },
  { message = "formal_reminder", after_days = 12, fee = 1.5 },
  { message = "final_notice", after_days = 25, fee = 2.5 },
]
final_notice_deadline_days = 21
template_dir = "global_templates"
interest = true
debtor = "business"
base_rates_file = "base_rates.toml"

)";
    const Config base_config = parsed(global + creator("acme"), dir.path());
    const DunningConfig globals = base_config.dunning;
    ASSERT_EQ(globals.stages.size(), 3u);
    ASSERT_EQ(globals.stages[1].fee_minor, 150);
    ASSERT_EQ(globals.final_notice_deadline, std::chrono::days(21));
    ASSERT_EQ(globals.template_dir, dir.path() + "/global_templates");
    ASSERT_TRUE(globals.interest);
    ASSERT_TRUE(globals.business_debtor);
    ASSERT_EQ(globals.base_rates_file, dir.path() + "/base_rates.toml");
    EXPECT_EQ(describe(base_config.creators[0].dunning), describe(globals)); // all inherited

    const std::vector<std::pair<std::string, std::function<void(DunningConfig&)>>> overrides = {
        // A creator's stages replace the global list as a whole: one stage is all it has.
        {"stages = [{ message = \"final_notice\", after_days = 30 }]",
         [](DunningConfig& d) { d.stages = {stage("final_notice", std::chrono::days(30))}; }},
        {"stages = [{ message = \"reminder\", after_days = 5 }, { message = \"formal_reminder\", "
         "after_days = 12, fee = 1 }]",
         [](DunningConfig& d) {
             d.stages = {stage("reminder", std::chrono::days(5)),
                         stage("formal_reminder", std::chrono::days(12), 100)};
         }},
        {"final_notice_deadline_days = 1",
         [](DunningConfig& d) { d.final_notice_deadline = std::chrono::days(1); }},
        {"template_dir = \"acme_templates\"",
         [&](DunningConfig& d) { d.template_dir = dir.path() + "/acme_templates"; }},
        {"template_dir = \"\"", [](DunningConfig& d) { d.template_dir = ""; }},
        {"interest = false", [](DunningConfig& d) { d.interest = false; }},
        {"debtor = \"consumer\"", [](DunningConfig& d) { d.business_debtor = false; }},
        {"base_rates_file = \"other_rates.toml\"",
         [&](DunningConfig& d) { d.base_rates_file = dir.path() + "/other_rates.toml"; }},
    };
    for (const auto& [line, apply] : overrides) {
        SCOPED_TRACE(line);
        // The overriding creator comes first, so the second one shows nothing leaks over.
        const Config config = parsed(
            global + creator("acme", "[creators.dunning]\n" + line + "\n") + "\n" + creator("beta"),
            dir.path());
        DunningConfig expected = globals;
        apply(expected);
        EXPECT_NE(describe(expected), describe(globals));
        ASSERT_EQ(config.creators.size(), 2u);
        EXPECT_EQ(describe(config.creators[0].dunning), describe(expected));
        EXPECT_EQ(describe(config.creators[1].dunning), describe(globals));
        EXPECT_EQ(describe(config.dunning), describe(globals));
    }
}

TEST(DunningConfig, CreatorStagesAsArrayOfTablesReplaceTheGlobalOnes) {
    const Config config = parsed("[dunning]\nfinal_notice_deadline_days = 10\n\n" +
                                 creator("acme", R"([creators.dunning]
debtor = "business"
[[creators.dunning.stages]]
message = "formal_reminder"
after_days = 7
[[creators.dunning.stages]]
message = "final_notice"
after_days = 21
fee = 5
)") + "\n" + creator("beta"));
    DunningConfig expected = config.dunning;
    expected.stages = {stage("formal_reminder", std::chrono::days(7)),
                       stage("final_notice", std::chrono::days(21), 500)};
    expected.business_debtor = true;
    EXPECT_EQ(describe(config.creators[0].dunning), describe(expected));
    EXPECT_EQ(config.creators[0].dunning.final_notice_deadline, std::chrono::days(10));
    EXPECT_EQ(describe(config.creators[1].dunning), describe(config.dunning));
    EXPECT_EQ(config.dunning.stages.size(), 3u);
}

TEST(DunningConfig, CreatorWithoutGlobalTableStartsFromTheDefaults) {
    const Config config =
        parsed(creator("acme", "[creators.dunning]\nfinal_notice_deadline_days = 30\n"));
    DunningConfig expected = config.dunning;
    expected.final_notice_deadline = std::chrono::days(30);
    EXPECT_EQ(describe(config.creators[0].dunning), describe(expected));
    EXPECT_EQ(config.dunning.final_notice_deadline, std::chrono::days(14));
}

TEST(DunningConfig, InterestIsCheckedWhereItIsTurnedOn) {
    // Global interest without the table: reported once, at [dunning], not again per creator.
    EXPECT_EQ(
        problems_of("[dunning]\ninterest = true\n\n" + creator("acme") + "\n" + creator("beta")),
        Problems{"t.toml:2: dunning.interest: needs the table of base rates, but " + base +
                 "/base_rates.toml does not exist (set base_rates_file)"});
    // A creator turning it on.
    EXPECT_EQ(problems_of(creator("acme", "[creators.dunning]\ninterest = true\n")),
              Problems{"t.toml:7: creators[0].dunning.interest: needs the table of base rates, "
                       "but " +
                       base + "/base_rates.toml does not exist (set base_rates_file)"});
    // A creator pointing an inherited interest = true at another (missing) table.
    TempDir dir;
    dir.file("base_rates.toml", "# rates\n");
    EXPECT_EQ(problems_of("[dunning]\ninterest = true\n\n" +
                              creator("acme", "[creators.dunning]\nbase_rates_file = \"x.toml\"\n"),
                          dir.path()),
              Problems{"t.toml:10: creators[0].dunning.base_rates_file: " + dir.path() +
                       "/x.toml does not exist (interest = true needs the table of base rates)"});
    // A creator turning it off needs no table.
    const Config off = parsed("[dunning]\ninterest = true\n\n" +
                                  creator("acme", "[creators.dunning]\ninterest = false\n"),
                              dir.path());
    EXPECT_TRUE(off.dunning.interest);
    EXPECT_FALSE(off.creators[0].dunning.interest);
}

TEST(DunningConfig, UnknownKeysSuggestTheClosestKnownOne) {
    EXPECT_EQ(problems_of(creator("acme", "[creators.dunning]\nintrest = true\n")),
              Problems{R"(t.toml:7: creators[0].dunning.intrest: unknown key, did you mean )"
                       R"("interest"?)"});
    EXPECT_EQ(problems_of("[dunning]\ntemplates_dir = \"t\"\n" + valid_creator),
              Problems{R"(t.toml:2: dunning.templates_dir: unknown key, did you mean )"
                       R"("template_dir"?)"});
    EXPECT_EQ(problems_of("[dunnings]\n" + valid_creator),
              Problems{R"(t.toml:1: dunnings: unknown table, did you mean "dunning"?)"});
    EXPECT_EQ(problems_of(creator("acme", "[creators.dunning.fees]\nx = 1\n")),
              Problems{"t.toml:6: creators[0].dunning.fees: unknown table"});
}

// ---------------------------------------------------------------------------------------------
// [mail] and the creators' new keys

TEST(MailConfig, FromIsRequiredOnceThereIsACreator) {
    const std::string required = R"(is required: the sender of the dunning emails, e.g. )"
                                 R"("Acme Courses <billing@acme.example>")";
    // No [mail] at all: line 1.
    auto result = parse_config(creator("acme"), "t.toml", base, no_env);
    ASSERT_FALSE(result.ok());
    EXPECT_EQ(result.error(), Problems{"t.toml:1: mail.from: " + required});
    // [mail] without from: at [mail].
    EXPECT_EQ(
        problems_of("[server]\nthreads = 4\n[mail]\ntransport = \"outbox\"\n" + valid_creator),
        Problems{"t.toml:3: mail.from: " + required});
    // Without creators there is nothing to send (and that is the problem reported).
    EXPECT_EQ(problems_of("[mail]\ntransport = \"outbox\"\n"),
              Problems{"t.toml:1: creators: at least one [[creators]] table is required"});
}

std::vector<Rule> mail_rules() {
    const std::string mailbox = R"(must be an email address or "Name <address>", e.g. )"
                                R"("Acme Courses <billing@acme.example>")";
    return {
        {"from = \"\"\n", 2, "from", mailbox},
        {"from = \"Acme\"\n", 2, "from", mailbox},
        {"from = \"billing@localhost\"\n", 2, "from", mailbox},
        {"from = \"Acme <billing@acme.example\"\n", 2, "from", mailbox},
        {"from = \"Acme <billing@acme.example>\\r\\nBcc: x@y.example\"\n", 2, "from", mailbox},
        {"from = \"Acme billing@acme.example\"\n", 2, "from", mailbox},
        {"from = \"Acme <@acme.example>\"\n", 2, "from", mailbox},
        {"from = \"Acme <billing@acme..example>\"\n", 2, "from", mailbox},
        {"from = \"Acme <billing@-acme.example>\"\n", 2, "from", mailbox},
        {"from = 1\n", 2, "from", "must be a string"},
        {"smtp_username = 1\n", 2, "smtp_username", "must be a string"},
        {"smtp_password = [\"x\"]\n", 2, "smtp_password", "must be a string"},
        {"smtp_allow_plaintext = \"true\"\n", 2, "smtp_allow_plaintext", "must be true or false"},
        {"smtp_ca_file = \"ca.pem\"\n", 2, "smtp_ca_file", base + "/ca.pem does not exist"},
        {"smtp_ca_file = 1\n", 2, "smtp_ca_file", "must be a string"},
        {"message_id_domain = \"localhost\"\n", 2, "message_id_domain",
         R"(must be a domain name, e.g. "acme.example")"},
        {"message_id_domain = \"\"\n", 2, "message_id_domain",
         R"(must be a domain name, e.g. "acme.example")"},
        {"message_id_domain = \"<id@acme.example>\"\n", 2, "message_id_domain",
         R"(must be a domain name, e.g. "acme.example")"},
        {"smtp_pasword = \"x\"\n", 2, "smtp_pasword",
         R"(unknown key, did you mean "smtp_password"?)"},
    };
}

TEST(MailConfig, EachRule) {
    for (const auto& rule : mail_rules()) {
        SCOPED_TRACE(rule.body);
        // The sender comes last so that a bad one replaces it (a key only once per table).
        const std::string mail = rule.key == "from" ? rule.body : rule.body + sender;
        EXPECT_EQ(problems_of("[mail]\n" + mail + valid_creator),
                  Problems{"t.toml:" + std::to_string(rule.line) + ": mail." + rule.key + ": " +
                           rule.problem});
    }
}

TEST(MailConfig, FromMayCarryADisplayNameWithUmlauts) {
    const Config config = parsed(
        "[mail]\nfrom = \"Müller Akademie <rechnung@mueller-akademie.example>\"\n" + valid_creator);
    EXPECT_EQ(config.mail.from, "Müller Akademie <rechnung@mueller-akademie.example>");
    EXPECT_EQ(config.mail.message_id_domain, "mueller-akademie.example");
    EXPECT_EQ(parsed("[mail]\nfrom = \"<billing@acme.example>\"\n" + valid_creator)
                  .mail.message_id_domain,
              "acme.example");
}

TEST(MailConfig, PlaintextSmtpOnlyToThisMachine) {
    const auto plaintext = [](const std::string& url) {
        return problems_of("[mail]\ntransport = \"smtp\"\nsmtp_url = \"" + url +
                           "\"\nsmtp_allow_plaintext = true\n" + sender + valid_creator);
    };
    for (const char* url : {"smtp://127.0.0.1", "smtp://127.0.0.1:2525", "smtp://localhost:25",
                            "smtp://LocalHost", "smtp://[::1]:2525", "smtp://[::1]",
                            "smtp://billing:secret@localhost:25/", "smtps://127.0.0.1:465"}) {
        SCOPED_TRACE(url);
        EXPECT_EQ(plaintext(url), Problems{});
    }
    for (const char* url :
         {"smtp://mail.example.com", "smtp://mail.example.com:25", "smtp://127.0.0.2",
          "smtp://127.0.0.1.example.com", "smtp://localhost@mail.example.com", "smtp://[::2]:25",
          "smtp://0.0.0.0:25", "smtps://mail.example.com:465"}) {
        SCOPED_TRACE(url);
        EXPECT_EQ(plaintext(url),
                  Problems{"t.toml:4: mail.smtp_allow_plaintext: plaintext SMTP is only allowed "
                           "to a server on this machine"});
    }
    // false: any server (TLS is required then).
    EXPECT_EQ(problems_of("[mail]\ntransport = \"smtp\"\nsmtp_url = \"smtp://mail.example.com\"\n"
                          "smtp_allow_plaintext = false\n" +
                          sender + valid_creator),
              Problems{});
    // No smtp_url (the outbox): nothing to check; a bad smtp_url is reported once.
    EXPECT_EQ(problems_of("[mail]\nsmtp_allow_plaintext = true\n" + sender + valid_creator),
              Problems{});
    EXPECT_EQ(problems_of("[mail]\nsmtp_url = \"http://mail.example.com\"\nsmtp_allow_plaintext = "
                          "true\n" +
                          sender + valid_creator),
              Problems{R"(t.toml:2: mail.smtp_url: must start with "smtp://" or "smtps://")"});
}

TEST(CreatorConfig, EachReplyToAndUpdatePaymentUrlRule) {
    const std::string mailbox = R"(must be empty, an email address or "Name <address>", e.g. )"
                                R"("Acme Courses <billing@acme.example>")";
    const std::string url = R"(must be empty or an "https://" or "http://" URL, e.g. )"
                            R"("https://courses.example.com/billing")";
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"reply_to = \"support\"\n", "t.toml:6: creators[0].reply_to: " + mailbox},
        {"reply_to = \"Support <support@acme>\"\n", "t.toml:6: creators[0].reply_to: " + mailbox},
        {"reply_to = \"a@acme.example\\nBcc: b@acme.example\"\n",
         "t.toml:6: creators[0].reply_to: " + mailbox},
        {"reply_to = 1\n", "t.toml:6: creators[0].reply_to: must be a string"},
        {"update_payment_url = \"courses.acme.example/billing\"\n",
         "t.toml:6: creators[0].update_payment_url: " + url},
        {"update_payment_url = \"ftp://acme.example\"\n",
         "t.toml:6: creators[0].update_payment_url: " + url},
        {"update_payment_url = \"https://\"\n", "t.toml:6: creators[0].update_payment_url: " + url},
        {"update_payment_url = \"https:///billing\"\n",
         "t.toml:6: creators[0].update_payment_url: " + url},
        {"update_payment_url = \"https://acme.example/my billing\"\n",
         "t.toml:6: creators[0].update_payment_url: " + url},
        {"update_payment_url = true\n",
         "t.toml:6: creators[0].update_payment_url: must be a string"},
        {"reply_too = \"a@acme.example\"\n",
         R"(t.toml:6: creators[0].reply_too: unknown key, did you mean "reply_to"?)"},
    };
    for (const auto& [extra, message] : cases) {
        SCOPED_TRACE(extra);
        EXPECT_EQ(problems_of(creator("acme", extra)), Problems{message});
    }
}

// ---------------------------------------------------------------------------------------------
// Retry mode "plugin" needs a Stripe API key

const std::string needs_key = R"("plugin" charges through Stripe's API and needs )"
                              "stripe_secret_key, or stripe_account with [stripe] "
                              "platform_secret_key";

TEST(RetryConfig, PluginModeNeedsAStripeKey) {
    // Inherited from [retry]: at the creator, which is where the key goes.
    EXPECT_EQ(problems_of("[retry]\nmode = \"plugin\"\n\n" + creator("acme")),
              Problems{"t.toml:4: creators[0].retry.mode: " + needs_key});
    // Its own [creators.retry]: at its mode line.
    EXPECT_EQ(problems_of(creator("acme", "[creators.retry]\nsepa_max_retries = 1\nmode = "
                                          "\"plugin\"\n")),
              Problems{"t.toml:8: creators[0].retry.mode: " + needs_key});
    // A [creators.retry] without mode inherits "plugin": at the creator.
    EXPECT_EQ(problems_of("[retry]\nmode = \"plugin\"\n\n" +
                          creator("acme", "[creators.retry]\nsepa_max_retries = 1\n")),
              Problems{"t.toml:4: creators[0].retry.mode: " + needs_key});
    // Connected, but the platform has no key.
    EXPECT_EQ(problems_of("[retry]\nmode = \"plugin\"\n\n" +
                          creator("acme", "stripe_account = \"acct_1\"\n")),
              Problems{"t.toml:4: creators[0].retry.mode: " + needs_key});
    // Only the creators that lack one.
    EXPECT_EQ(problems_of("[retry]\nmode = \"plugin\"\n\n" +
                          creator("acme", "stripe_secret_key = \"sk_test_1\"\n") + "\n" +
                          creator("beta")),
              Problems{"t.toml:11: creators[1].retry.mode: " + needs_key});
}

TEST(RetryConfig, PluginModeWithAKeyIsFine) {
    const Config own = parsed("[retry]\nmode = \"plugin\"\n\n" +
                              creator("acme", "stripe_secret_key = \"rk_test_1\"\n"));
    EXPECT_EQ(own.creators[0].retry.mode, RetryMode::plugin);
    const Config platform =
        parsed("[stripe]\nplatform_secret_key = \"sk_test_platform\"\n[retry]\nmode = "
               "\"plugin\"\n\n" +
               creator("acme", "stripe_account = \"acct_1\"\n"));
    EXPECT_EQ(platform.creators[0].retry.mode, RetryMode::plugin);
    // Mode "stripe" charges nothing itself: no key needed, also when the global one is "plugin".
    EXPECT_EQ(parsed(creator("acme")).creators[0].retry.mode, RetryMode::stripe);
    const Config opted_out = parsed("[retry]\nmode = \"plugin\"\n\n" +
                                    creator("acme", "[creators.retry]\nmode = \"stripe\"\n"));
    EXPECT_EQ(opted_out.creators[0].retry.mode, RetryMode::stripe);
}

TEST(RetryConfig, PluginModeKeyProblemIsNotPiledOnABadKey) {
    // The key that is there but wrong was reported; no second message about it.
    EXPECT_EQ(problems_of("[retry]\nmode = \"plugin\"\n\n" +
                          creator("acme", "stripe_secret_key = \"pk_live_1\"\n")),
              Problems{R"(t.toml:9: creators[0].stripe_secret_key: must be empty or start with )"
                       R"("sk_" or "rk_")"});
    EXPECT_EQ(problems_of("[stripe]\nplatform_secret_key = \"pk_1\"\n[retry]\nmode = "
                          "\"plugin\"\n\n" +
                          creator("acme", "stripe_account = \"acct_1\"\n")),
              Problems{R"(t.toml:2: stripe.platform_secret_key: must be empty or start with )"
                       R"("sk_" or "rk_")"});
}

// ---------------------------------------------------------------------------------------------
// config/example.toml

TEST(ExampleConfig, LoadsWithTheSenderAndTheDunningDefaults) {
    auto result = load_config(example, demo_env);
    ASSERT_TRUE(result.ok()) << joined(result.error());
    const Config& config = result.value();
    EXPECT_EQ(config.mail.from, "Demo Academy <billing@demo-academy.example>");
    EXPECT_EQ(config.mail.message_id_domain, "demo-academy.example");
    DunningConfig expected;
    expected.base_rates_file = std::string(DUNNING_SOURCE_DIR) + "/config/base_rates.toml";
    EXPECT_EQ(describe(config.dunning), describe(expected));
    ASSERT_EQ(config.creators.size(), 1u);
    EXPECT_EQ(describe(config.creators[0].dunning), describe(expected));
}

TEST(ExampleConfig, ItsDunningKeysAreEveryKeyWithItsDefault) {
    std::string text = read_example();
    EXPECT_EQ(uncomment_from(text, "[dunning]"),
              (std::set<std::string>{"stages", "final_notice_deadline_days", "template_dir",
                                     "interest", "debtor", "base_rates_file"}));
    auto result = parse_config(text, example, base, demo_env);
    ASSERT_TRUE(result.ok()) << joined(result.error());
    DunningConfig expected;
    expected.base_rates_file = base + "/base_rates.toml";
    EXPECT_EQ(describe(result.value().dunning), describe(expected));
}

TEST(ExampleConfig, ItsCreatorDunningExampleLoads) {
    std::string text = read_example();
    const auto keys = uncomment_from(text, "# [creators.dunning]");
    EXPECT_EQ(keys, (std::set<std::string>{"final_notice_deadline_days", "debtor", "message",
                                           "after_days", "fee"}));
    auto result = parse_config(text, example, base, demo_env);
    ASSERT_TRUE(result.ok()) << joined(result.error());
    const Config& config = result.value();
    ASSERT_EQ(config.creators.size(), 1u);
    DunningConfig expected = config.dunning;
    expected.stages = {stage("reminder", std::chrono::days(2)),
                       stage("formal_reminder", std::chrono::days(9), 250),
                       stage("final_notice", std::chrono::days(16), 250)};
    expected.final_notice_deadline = std::chrono::days(10);
    expected.business_debtor = true;
    EXPECT_EQ(describe(config.creators[0].dunning), describe(expected));
    EXPECT_EQ(describe(config.dunning), describe([] {
                  DunningConfig d;
                  d.base_rates_file = base + "/base_rates.toml";
                  return d;
              }()));
}

TEST(ExampleConfig, ItsCreatorKeysLoad) {
    std::string text = read_example();
    for (const std::string key : {"# reply_to = ", "# update_payment_url = "}) {
        const auto at = text.find(key);
        ASSERT_NE(at, std::string::npos) << key;
        text.erase(at, 2);
    }
    auto result = parse_config(text, example, base, demo_env);
    ASSERT_TRUE(result.ok()) << joined(result.error());
    EXPECT_EQ(result.value().creators[0].reply_to,
              "Demo Academy Support <support@demo-academy.example>");
    EXPECT_EQ(result.value().creators[0].update_payment_url,
              "https://courses.example.com/account/billing");
}

} // namespace
} // namespace dunning::config
