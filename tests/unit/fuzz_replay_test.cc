// Every seed of the fuzz corpora and every saved crash input, run through the fuzzing entry
// points in the normal build: a crash the fuzzer once found stays a test.
//
// Inputs live in tests/fuzz/corpus/<target>/ (seeds) and tests/fuzz/regressions/<target>/
// (inputs that once crashed or broke a property, kept for ever).
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <ostream>
#include <sstream>
#include <string>
#include <vector>

#include "tests/fuzz/fuzz_entries.h"

namespace rms::fuzz {

// Test names show the target's name, not the bytes of the struct.
void PrintTo(const FuzzTarget& target, std::ostream* os) {
    *os << target.name;
}

namespace {

namespace fs = std::filesystem;

const fs::path kFuzzDir = fs::path(RMS_SOURCE_DIR) / "tests" / "fuzz";

std::vector<fs::path> FilesIn(const fs::path& dir) {
    std::vector<fs::path> files;
    if (!fs::is_directory(dir)) {
        return files;
    }
    for (const fs::directory_entry& entry : fs::directory_iterator(dir)) {
        if (entry.is_regular_file()) {
            files.push_back(entry.path());
        }
    }
    std::sort(files.begin(), files.end());
    return files;
}

std::string ReadBytes(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

class FuzzReplayTest : public ::testing::TestWithParam<FuzzTarget> {};

TEST_P(FuzzReplayTest, EverySeedAndSavedCrashPassesItsProperties) {
    const FuzzTarget& target = GetParam();
    std::vector<fs::path> seeds = FilesIn(kFuzzDir / "corpus" / target.name);
    ASSERT_FALSE(seeds.empty()) << "no seed corpus in " << (kFuzzDir / "corpus" / target.name);
    std::vector<fs::path> inputs = seeds;
    std::vector<fs::path> saved = FilesIn(kFuzzDir / "regressions" / target.name);
    inputs.insert(inputs.end(), saved.begin(), saved.end());
    for (const fs::path& input : inputs) {
        SCOPED_TRACE(input.string());
        Status s = target.run(ReadBytes(input));
        EXPECT_TRUE(s.ok()) << s.message();
    }
}

INSTANTIATE_TEST_SUITE_P(Targets, FuzzReplayTest, ::testing::ValuesIn(FuzzTargets()),
                         [](const auto& info) { return std::string(info.param.name); });

// Valid inputs and well-refused ones both pass: a rejection with its code is no failure.
TEST(FuzzEntriesTest, AcceptedAndRefusedInputsBothPass) {
    using namespace std::string_view_literals;
    for (std::string_view money : {"\x00"
                                   "12.50"sv,
                                   "\x00"
                                   "12.345"sv,
                                   "\x00"
                                   "-1"sv}) {
        EXPECT_TRUE(FuzzMoney(money).ok()) << money.substr(1);
    }
    for (std::string_view date : {"2024-02-29", "2023-02-29", "1/2/2013", ""}) {
        EXPECT_TRUE(FuzzDate(date).ok()) << date;
    }
    EXPECT_TRUE(FuzzEventLine(R"({"id":"E1","type":"clock.advanced","date":"2024-01-01"})").ok());
    EXPECT_TRUE(FuzzEventLine(R"({"id":"E1","id":"E1"})").ok());
    EXPECT_TRUE(FuzzRules("").ok());
    EXPECT_TRUE(FuzzRules("[[strategy]]\nname = 3\n").ok());
    EXPECT_TRUE(FuzzConfig("fsync = true\n").ok());
    EXPECT_TRUE(FuzzConfig("fsync = \"yes\"\n").ok());
}

}  // namespace
}  // namespace rms::fuzz
