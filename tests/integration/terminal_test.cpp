// Single-command mode on a terminal (a pty): CMD's group owns the foreground, so Ctrl-C and
// Ctrl-Z reach it straight from the terminal, as without gardien; Ctrl-Z stops gardien too.
#include <pty.h>
#include <termios.h>

#include "harness.h"

namespace gardien::test {
namespace {

char proc_state(pid_t pid) {
  auto stat = read_proc_stat(pid);
  return stat ? stat->state : '?';
}

// `gardien -- HELPER FILE` on a new pty, its controlling terminal (stdin from /dev/null when
// `null_stdin`); -1 when no pty can be had.
pid_t gardien_on_pty(int& master, const std::string& helper_name, const std::string& file,
                     bool null_stdin = false) {
  ::prctl(PR_SET_CHILD_SUBREAPER, 1);
  pid_t pid = ::forkpty(&master, nullptr, nullptr, nullptr);
  if (pid == 0) {
    if (null_stdin) ::dup2(::open("/dev/null", O_RDONLY), STDIN_FILENO);
    ::execl(GARDIEN_BIN, GARDIEN_BIN, "--", helper(helper_name).c_str(), file.c_str(), nullptr);
    ::_exit(127);
  }
  return pid;
}

TEST(Terminal, CtrlCAndCtrlZReachTheCommandAsWithoutGardien) {
  TempDir dir;
  std::string file = (dir / "signals").string();
  int master = -1;
  pid_t pid = gardien_on_pty(master, "siglog", file);
  if (pid < 0) GTEST_SKIP() << "no pty: " << std::strerror(errno);
  ASSERT_TRUE(poll_until([&] { return fs::exists(file + ".ready"); }, 5s));
  // The command's group is the terminal's foreground, gardien's is not.
  pid_t fg = ::tcgetpgrp(master);
  EXPECT_NE(fg, pid);
  EXPECT_NE(fg, 0);

  ASSERT_EQ(::write(master, "\x03", 1), 1);  // Ctrl-C
  ASSERT_TRUE(poll_until([&] { return read_file(file) == "INT\n"; }, 5s)) << read_file(file);

  ASSERT_EQ(::write(master, "\x1a", 1), 1);  // Ctrl-Z: siglog stops (default action)
  EXPECT_TRUE(poll_until([&] { return proc_state(fg) == 'T'; }, 5s));
  EXPECT_TRUE(poll_until([&] { return proc_state(pid) == 'T'; }, 5s))
      << "gardien stops with its command, so a shell would see the job stopped";

  ::kill(pid, SIGCONT);  // what `fg` does
  EXPECT_TRUE(poll_until([&] { return proc_state(fg) != 'T' && proc_state(pid) != 'T'; }, 5s));
  EXPECT_TRUE(poll_until([&] { return read_file(file).find("CONT\n") != std::string::npos; }, 5s));

  ::kill(pid, SIGTERM);
  int status = 0;
  ASSERT_TRUE(poll_until([&] { return ::waitpid(pid, &status, WNOHANG) == pid; }, 5s));
  EXPECT_EQ(shell_status(status), 0);
  // Only one INT: gardien did not forward a second copy.
  std::string got = read_file(file);
  EXPECT_EQ(got.find("INT\n"), got.rfind("INT\n")) << got;
  ::close(master);
  kill_all_descendants();
}

TEST(Terminal, WithStdinRedirectedTheCommandStaysInGardiensSession) {
  TempDir dir;
  std::string report = (dir / "report").string();
  int master = -1;
  // The pty stays gardien's controlling terminal; only stdin is not a terminal.
  pid_t pid = gardien_on_pty(master, "probe", report, true);
  if (pid < 0) GTEST_SKIP() << "no pty: " << std::strerror(errno);
  ASSERT_TRUE(poll_until([&] { return fs::exists(report); }, 5s));
  auto kv = read_key_values(report);
  EXPECT_EQ(kv["pgid"], kv["pid"]) << "its own process group";
  EXPECT_EQ(kv["sid"], std::to_string(pid)) << "gardien's session: /dev/tty still works";
  ::kill(pid, SIGTERM);
  int status = 0;
  ASSERT_TRUE(poll_until([&] { return ::waitpid(pid, &status, WNOHANG) == pid; }, 5s));
  ::close(master);
  kill_all_descendants();
}

}  // namespace
}  // namespace gardien::test
