// `gardien check` as a user runs it: golden output for the broken configs in tests/data/check,
// the shipped example configs pass, and --help/--version work for both binaries.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;

struct Outcome {
  int exit_code = -1;
  std::string output;  // stderr and stdout together, in the order written
};

// Runs argv in `cwd` with a minimal fixed environment, so ${VAR} expansion is the same
// everywhere; collects stdout and stderr through one pipe.
Outcome run(const std::vector<std::string>& argv, const fs::path& cwd) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe2 failed");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, fds[1], STDERR_FILENO);
  posix_spawn_file_actions_addchdir_np(&actions, cwd.c_str());
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  char path_env[] = "PATH=/usr/bin:/bin";
  char* envp[] = {path_env, nullptr};
  pid_t pid = -1;
  int rc = ::posix_spawn(&pid, args[0], &actions, nullptr, args.data(), envp);
  posix_spawn_file_actions_destroy(&actions);
  ::close(fds[1]);
  Outcome out;
  if (rc != 0) {
    ::close(fds[0]);
    std::string message = "posix_spawn failed: ";
    message += argv[0];
    throw std::runtime_error(message);
  }
  char buffer[4096];
  for (;;) {
    ssize_t n = ::read(fds[0], buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    out.output.append(buffer, static_cast<std::size_t>(n));
  }
  ::close(fds[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  out.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return out;
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
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
    Outcome got = run({GARDIEN_BIN, "check", "-c", relative.string()}, kData);
    SCOPED_TRACE(relative.string());
    EXPECT_EQ(got.output, expected);
    // A golden output ending with the ok line is a valid config (warnings only).
    bool valid = expected.find("\nok: ") != std::string::npos || expected.rfind("ok: ", 0) == 0;
    EXPECT_EQ(got.exit_code, valid ? 0 : 1);
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
    Outcome got = run({GARDIEN_BIN, "check", "-c", config.string()}, kSource);
    EXPECT_EQ(got.exit_code, 0) << config << "\n" << got.output;
    EXPECT_EQ(got.output.rfind("ok: ", 0), 0u) << config << " printed warnings:\n" << got.output;
  }
  // The demo: six programs, worker with three instances.
  Outcome demo = run({GARDIEN_BIN, "check", "-c", "etc/gardien.toml"}, kSource);
  EXPECT_EQ(demo.output, "ok: 6 programs (8 instances)\n");
}

TEST(CheckTest, UnreadableConfigIsInvalid) {
  Outcome got = run({GARDIEN_BIN, "check", "-c", "no/such/gardien.toml"}, kData);
  EXPECT_EQ(got.exit_code, 1);
  EXPECT_EQ(got.output,
            "no/such/gardien.toml: cannot read the config file: No such file or directory\n");
}

TEST(CheckTest, HelpAndVersion) {
  for (const char* binary : {GARDIEN_BIN, GARDIENCTL_BIN}) {
    std::string name = fs::path(binary).filename().string();
    Outcome help = run({binary, "--help"}, kData);
    EXPECT_EQ(help.exit_code, 0) << name << "\n" << help.output;
    EXPECT_NE(help.output.find("Usage"), std::string::npos) << name << "\n" << help.output;
    Outcome version = run({binary, "--version"}, kData);
    EXPECT_EQ(version.exit_code, 0) << name << "\n" << version.output;
    std::string expected = name;
    expected += ' ';
    expected += GARDIEN_VERSION;
    EXPECT_NE(version.output.find(expected), std::string::npos) << version.output;
  }
  Outcome check_help = run({GARDIEN_BIN, "check", "--help"}, kData);
  EXPECT_EQ(check_help.exit_code, 0);
  EXPECT_NE(check_help.output.find("--config"), std::string::npos) << check_help.output;
}

}  // namespace
