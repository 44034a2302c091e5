// `gardien check` as a user runs it: golden output for the broken configs in tests/data/check,
// the shipped example configs pass, and --help/--version work for both binaries.
#include <filesystem>
#include <iostream>
#include <optional>
#include <sstream>
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
  EXPECT_EQ(demo.output, "ok: 5 programs (7 instances), 2 tasks\n");
}

// The ```toml blocks of a Markdown file, each with whether it is marked as a partial snippet
// (an HTML comment "<!-- partial config -->" on the line before its fence).
struct TomlBlock {
  int line = 0;
  std::string text;
  bool partial = false;
};

std::vector<TomlBlock> toml_blocks(const fs::path& markdown) {
  std::vector<TomlBlock> blocks;
  std::istringstream in(read_file(markdown));
  std::string line, previous;
  std::optional<TomlBlock> open;
  for (int number = 1; std::getline(in, line); ++number) {
    if (open && line.rfind("```", 0) == 0) {
      blocks.push_back(std::move(*open));
      open.reset();
    } else if (open) {
      open->text += line + "\n";
    } else if (line == "```toml") {
      open = TomlBlock{number, "", previous == "<!-- partial config -->"};
    }
    previous = line;
  }
  return blocks;
}

// Every complete config in the docs passes `gardien check`; partial snippets are marked so.
TEST(CheckTest, DocsExampleConfigsPass) {
  TempDir dir;
  int checked = 0, partial = 0;
  for (const fs::directory_entry& entry : fs::directory_iterator(kSource / "docs")) {
    if (entry.path().extension() != ".md") continue;
    for (const TomlBlock& block : toml_blocks(entry.path())) {
      std::string where = entry.path().filename().string() + ":" + std::to_string(block.line);
      if (block.partial) {
        ++partial;
        continue;
      }
      fs::path config = dir / "example.toml";
      write_file(config, block.text);
      RunResult got = run({GARDIEN_BIN, "check", "-c", config.string()}, dir.path);
      EXPECT_EQ(got.status, 0) << where << "\n" << block.text << got.output;
      ++checked;
    }
  }
  EXPECT_GE(checked, 4);
  std::cout << checked << " configs checked, " << partial << " partial snippets skipped\n";
}

// A dependency without a `ready` check counts as ready after its start-seconds: check says so for
// each dependant that waits for `ready` (the default), and stays valid.
TEST(CheckTest, WarnsWhenADependencyIsReadyOnlyByStartSeconds) {
  TempDir dir;
  write_file(dir / "gardien.toml", R"([program.db]
command = "exec sleep 100"
start-seconds = "2s"
[program.cache]
command = "exec sleep 100"
ready = { tcp = "127.0.0.1:6379" }
[program.log]
command = "exec sleep 100"
[program.migrate]
command = "true"
restart = "never"
[program.web]
command = "exec sleep 100"
depends-on = ["db", "cache"]
[program.api]
command = "exec sleep 100"
depends-on = { db = "started", log = "ready", migrate = "completed" }
)");
  RunResult got = run({GARDIEN_BIN, "check", "gardien.toml"}, dir.path);
  EXPECT_EQ(got.status, 0) << got.output;
  EXPECT_EQ(got.output,
            "gardien.toml: warning: program.api.depends-on: api depends on log, which has no "
            "`ready` check: it counts as ready after start-seconds (1s); add `ready = ...` to log "
            "(docs/readiness.md)\n"
            "gardien.toml: warning: program.web.depends-on: web depends on db, which has no "
            "`ready` check: it counts as ready after start-seconds (2s); add `ready = ...` to db "
            "(docs/readiness.md)\n"
            "gardien.toml: warning: program.api.depends-on: api waits for the program migrate to "
            "complete: one-shot work is a task's; make it [task.migrate] (docs/config.md, Tasks)\n"
            "ok: 6 programs\n");
}

TEST(CheckTest, UnreadableConfigIsInvalid) {
  RunResult got = run({GARDIEN_BIN, "check", "-c", "no/such/gardien.toml"}, kData);
  EXPECT_EQ(got.status, 1);
  EXPECT_EQ(got.output,
            "no/such/gardien.toml: cannot read the config file: No such file or directory\n");
}

// The daemon says what is wrong with a file it cannot read, not that the config has errors.
TEST(CheckTest, DaemonWithAMissingConfigSaysSo) {
  RunResult got = run({GARDIEN_BIN, "-c", "no/such/gardien.toml"}, kData);
  EXPECT_EQ(got.status, 1);
  EXPECT_EQ(got.output,
            "gardien: no/such/gardien.toml: cannot read the config file: No such file or "
            "directory\n");
}

TEST(CheckTest, CheckTakesTheFileWithOrWithoutDashC) {
  for (auto argv :
       std::vector<std::vector<std::string>>{{GARDIEN_BIN, "check", "etc/gardien.toml"},
                                             {GARDIEN_BIN, "check", "-c", "etc/gardien.toml"},
                                             {GARDIEN_BIN, "check", "--config=etc/gardien.toml"}}) {
    RunResult got = run(argv, kSource);
    EXPECT_EQ(got.status, 0) << argv.back() << "\n" << got.output;
    EXPECT_EQ(got.output, "ok: 5 programs (7 instances), 2 tasks\n");
  }
  RunResult none = run({GARDIEN_BIN, "check"}, kSource);
  EXPECT_EQ(none.status, 2);
  EXPECT_EQ(none.output, "gardien check: give one config file: gardien check FILE\n");
}

// --log-level takes the words only, and --help lists them as words.
TEST(CheckTest, LogLevelTakesWordsNotNumbers) {
  RunResult numeric = run({GARDIEN_BIN, "--log-level", "3", "-c", "etc/gardien.toml"}, kSource);
  EXPECT_EQ(numeric.status, 2);
  EXPECT_EQ(numeric.output.rfind("gardien: --log-level: 3 not in {debug,info,warn,error}", 0), 0u)
      << numeric.output;
  RunResult help = run({GARDIEN_BIN, "--help"}, kSource);
  EXPECT_EQ(help.output.find("ENUM"), std::string::npos) << help.output;
  EXPECT_EQ(help.output.find("->"), std::string::npos) << help.output;
  EXPECT_NE(help.output.find("{debug,info,warn,error}"), std::string::npos) << help.output;
}

// CLI11's own errors start with the program's name, as gardien's other errors do.
TEST(CheckTest, UsageErrorsStartWithTheProgramName) {
  for (auto argv : std::vector<std::vector<std::string>>{{GARDIEN_BIN, "--bogus"},
                                                         {GARDIEN_BIN, "--forward-to", "x"},
                                                         {GARDIEN_BIN, "check", "--bogus"}}) {
    RunResult got = run(argv, kSource);
    EXPECT_EQ(got.status, 2) << got.output;
    EXPECT_EQ(got.output.rfind("gardien: ", 0), 0u) << got.output;
  }
}

// `make run` builds the daemon and the client, never the test suite.
TEST(CheckTest, MakeRunBuildsOnlyTheTwoBinaries) {
  if (::access("/usr/bin/make", X_OK) != 0) GTEST_SKIP() << "no make here";
  TempDir dir;
  RunResult got = run_command({"/usr/bin/make", "-n", "-C", kSource.string(), "run",
                               "BUILD=" + (dir / "build").string(), "CONFIG=x.toml"},
                              30s, {kSource, {"PATH=/usr/bin:/bin"}});
  ASSERT_EQ(got.status, 0) << got.output;
  std::istringstream lines(got.output);
  std::vector<std::string> builds;
  for (std::string line; std::getline(lines, line);) {
    if (line.find("cmake --build") != std::string::npos) builds.push_back(line);
  }
  ASSERT_EQ(builds.size(), 1u) << got.output;
  EXPECT_NE(builds[0].find("--target gardien gardienctl"), std::string::npos) << builds[0];
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

namespace gardien::test {
namespace {

TEST(CheckTest, VerbosePrintsEachScheduleWithItsZoneAndNextFires) {
  TempDir dir;
  write_file(dir / "gardien.toml", R"([task.backup]
command = "true"
schedule = "30 3 * * *"
time-zone = "Europe/Paris"
)");
  RunResult got = run({GARDIEN_BIN, "check", "--verbose", "gardien.toml"}, dir.path);
  EXPECT_EQ(got.status, 0) << got.output;
  EXPECT_NE(got.output.find("task backup: schedule \"30 3 * * *\" in Europe/Paris:"),
            std::string::npos)
      << got.output;
  std::size_t fires = 0;
  for (std::size_t at = 0; (at = got.output.find(" 03:30:00 +0", at)) != std::string::npos; ++at)
    ++fires;
  EXPECT_EQ(fires, 3u) << got.output;
  RunResult bad = run({GARDIEN_BIN, "check", "gardien.toml"}, dir.path);
  EXPECT_EQ(bad.output.find("03:30"), std::string::npos) << "only with --verbose";
}

}  // namespace
}  // namespace gardien::test
