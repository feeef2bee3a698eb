// Runs after the tests that keep their services' logs under the build folder (ctest fixture
// test_logs): no secret those tests configure (tests/support/secrets.hpp) appears in any of them.
#include "support/files.hpp"
#include "support/secrets.hpp"

#include <gtest/gtest.h>

#include <sstream>

using namespace dunning::testing;

namespace {

TEST(SecretsInLogs, NoConfiguredSecretInAnyServiceLog) {
    const std::filesystem::path dir = DUNNING_TEST_LOG_DIR;
    ASSERT_TRUE(std::filesystem::is_directory(dir))
        << dir << " does not exist: run the end-to-end tests first";
    int files = 0;
    std::size_t bytes = 0;
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
        if (entry.path().extension() != ".log") continue;
        ++files;
        const auto text = read_file(entry.path());
        bytes += text.size();
        std::istringstream lines(text);
        std::string line;
        for (int number = 1; std::getline(lines, line); ++number)
            for (const auto& secret : configured_secrets())
                EXPECT_EQ(line.find(secret), std::string::npos)
                    << entry.path().string() << ":" << number << ": shows a configured secret ("
                    << secret.substr(0, 6) << "…): " << line;
    }
    ASSERT_GT(files, 0) << "no service log in " << dir << ": nothing was checked";
    std::cout << "checked " << files << " log(s), " << bytes << " bytes, for "
              << configured_secrets().size() << " secrets\n";
}

} // namespace
