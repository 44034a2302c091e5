// `gardien check` as a user runs it: golden output for the broken configs in tests/data/check,
// the shipped example configs pass, and --help/--version work for both binaries.
#include <filesystem>
#include <string>
#include <vector>

#include "harness.h"

namespace gardien::test {
namespace {

// A minimal fixed environment, so ${VAR} expansion in the configs is the same everywhere.
RunResult run(const std::vector<std::string>& argv, const fs::path& cwd) {
  return run_command(argv, 10s, {cwd, {"PATH=/usr/bin:/bin"}});
}

const fs::path kData = GARDIEN_TEST_DATA;
const fs::path kSource = GARDIEN_SOURCE_DIR;

TEST(CheckTest, BrokenConfigsMatchTheirGoldenOutput) {
  int checked = 0;
  for (const fs::directory_entry& entry : fs::directory_iterator(kData / "check")) {
    if (entry.path().extension() != ".toml") continue;
    fs::path relative = fs::path("check") / entry.path().filename();
    fs::path golden = entry.path();
    golden.replace_extension(".expected");
    ASSERT_TRUE(fs::exists(golden)) << "missing golden file " << golden;
    std::string expected = read_file(golden);
    RunResult got = run({GARDIEN_BIN, "check", "-c", relative.string()}, kData);
    SCOPED_TRACE(relative.string());
    EXPECT_EQ(got.output, expected);
    // A golden output ending with the ok line is a valid config (warnings only).
    bool valid = expected.find("\nok: ") != std::string::npos || expected.rfind("ok: ", 0) == 0;
    EXPECT_EQ(got.status, valid ? 0 : 1);
    ++checked;
  }
  EXPECT_GE(checked, 5);
}

TEST(CheckTest, ShippedExampleConfigsPass) {
  std::vector<fs::path> configs = {kSource / "etc/gardien.toml"};
  for (const fs::directory_entry& entry : fs::directory_iterator(kSource / "etc/examples")) {
    if (entry.path().extension() == ".toml") configs.push_back(entry.path());
  }
  ASSERT_GE(configs.size(), 3u);
  for (const fs::path& config : configs) {
    RunResult got = run({GARDIEN_BIN, "check", "-c", config.string()}, kSource);
    EXPECT_EQ(got.status, 0) << config << "\n" << got.output;
    EXPECT_EQ(got.output.rfind("ok: ", 0), 0u) << config << " printed warnings:\n" << got.output;
  }
  // The demo: six programs, worker with three instances.
  RunResult demo = run({GARDIEN_BIN, "check", "-c", "etc/gardien.toml"}, kSource);
  EXPECT_EQ(demo.output, "ok: 6 programs (8 instances)\n");
}

TEST(CheckTest, UnreadableConfigIsInvalid) {
  RunResult got = run({GARDIEN_BIN, "check", "-c", "no/such/gardien.toml"}, kData);
  EXPECT_EQ(got.status, 1);
  EXPECT_EQ(got.output,
            "no/such/gardien.toml: cannot read the config file: No such file or directory\n");
}

TEST(CheckTest, HelpAndVersion) {
  for (const char* binary : {GARDIEN_BIN, GARDIENCTL_BIN}) {
    std::string name = fs::path(binary).filename().string();
    RunResult help = run({binary, "--help"}, kData);
    EXPECT_EQ(help.status, 0) << name << "\n" << help.output;
    EXPECT_NE(help.output.find("Usage"), std::string::npos) << name << "\n" << help.output;
    RunResult version = run({binary, "--version"}, kData);
    EXPECT_EQ(version.status, 0) << name << "\n" << version.output;
    std::string expected = name;
    expected += ' ';
    expected += GARDIEN_VERSION;
    EXPECT_NE(version.output.find(expected), std::string::npos) << version.output;
  }
  RunResult check_help = run({GARDIEN_BIN, "check", "--help"}, kData);
  EXPECT_EQ(check_help.status, 0);
  EXPECT_NE(check_help.output.find("--config"), std::string::npos) << check_help.output;
}

}  // namespace
}  // namespace gardien::test
