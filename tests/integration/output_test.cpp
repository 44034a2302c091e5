// Program output through the real daemon: the prefix sink on its stdout, files with rotation and
// reopen, back-pressure from a stalled reader, a failing file, and `gardienctl logs`.
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <cstring>

#include <algorithm>

#include "common/fd.h"
#include "harness.h"

namespace gardien::test {
namespace {

class Output : public ::testing::Test {
 protected:
  TempDir dir;
  Daemon daemon{dir};

  static std::string writer(const std::string& mode, const std::string& arg) {
    return helper("output_writer") + " " + mode + " " + arg;  // for sh -c
  }
  static std::vector<std::string> writer_argv(const std::string& mode, const std::string& arg) {
    return {helper("output_writer"), mode, arg};
  }

  void start(const std::string& toml) {
    daemon.write_config(toml);
    daemon.start();
  }

  // The control socket exists (it is created before the first spawn).
  void wait_ready() {
    ASSERT_TRUE(poll_until([&] { return fs::exists(daemon.socket_path()); }, 5s)) << daemon.log();
  }

  std::string out() const { return read_file(daemon.out_path()); }

  bool out_has(const std::string& text, Ms timeout = 5s) const {
    return poll_until([&] { return out().find(text) != std::string::npos; }, timeout);
  }

  static std::size_t count(const std::string& haystack, const std::string& needle) {
    std::size_t n = 0;
    for (auto p = haystack.find(needle); p != std::string::npos; p = haystack.find(needle, p + 1))
      ++n;
    return n;
  }
};

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

TEST_F(Output, PrefixFormatAlignsNamesOfDifferentLengths) {
  start(program("a", {"/bin/sh", "-c", "echo hello from a; sleep 30"}) +
        program("longname", {"/bin/sh", "-c", "echo hello from longname; echo oops >&2; sleep 30"},
                "instances = 2\n"));
  ASSERT_TRUE(out_has("longname.1 | hello from longname\n")) << out();
  EXPECT_TRUE(out_has("a          | hello from a\n")) << out();
  EXPECT_TRUE(out_has("longname.0 | hello from longname\n")) << out();
  // stderr lines go to the daemon's stderr, prefixed the same way, never coloured (not a tty).
  EXPECT_TRUE(
      poll_until([&] { return daemon.log().find("longname.0 | oops\n") != std::string::npos; }, 5s))
      << daemon.log();
  EXPECT_EQ(out().find("\x1b["), std::string::npos);
}

TEST_F(Output, LineSplitAcrossManyWritesArrivesWhole) {
  start(program("p", writer_argv("split", "a line written one byte at a time"),
                "restart = \"never\"\nstart-seconds = \"0\"\n"));
  ASSERT_TRUE(out_has("p | a line written one byte at a time\n")) << out();
  EXPECT_EQ(count(out(), "p | "), 1u) << out();
}

TEST_F(Output, MegabyteLineArrivesSplitAndComplete) {
  start(program("big", writer_argv("big", "1000000"), "restart = \"never\"\n"));
  ASSERT_TRUE(daemon.wait_state("big", "exited", 10s)) << daemon.log();
  std::size_t xs = 0, pieces = 0;
  for (const std::string& line : lines_of(out())) {
    ASSERT_EQ(line.rfind("big | ", 0), 0u) << line.substr(0, 40);
    std::size_t n = line.size() - 6;
    EXPECT_LE(n, 65536u);
    EXPECT_EQ(line.find_first_not_of('x', 6), std::string::npos);
    xs += n;
    ++pieces;
  }
  EXPECT_EQ(xs, 1000000u);
  EXPECT_EQ(pieces, (1000000u + 65535u) / 65536u);
}

TEST_F(Output, FinalLineWithoutNewlineArrivesBeforeTheExitIsReported) {
  start(program("p", writer_argv("last", "last words"), "restart = \"never\"\n"));
  ASSERT_TRUE(daemon.wait_state("p", "exited", 5s)) << daemon.log();
  // The exit is reported only once the pipe is drained: the line is there already.
  EXPECT_NE(out().find("p | last words\n"), std::string::npos) << out();
}

TEST_F(Output, ShutdownDrainsEveryPipe) {
  start(program("p",
                {"/bin/sh", "-c",
                 "trap 'printf \"bye\"; exit 0' TERM; echo ready; while :; do sleep 0.05; done"}));
  ASSERT_TRUE(out_has("p | ready\n")) << out();  // the trap is installed
  daemon.signal(SIGTERM);
  ASSERT_EQ(daemon.wait_exit(10s), 0) << daemon.log();
  EXPECT_NE(out().find("p | bye\n"), std::string::npos) << out();
}

TEST_F(Output, RotationKeepsExactlyKeepFilesOfAtMostMaxSize) {
  fs::path log = dir / "p.log";
  start(program("p", writer_argv("count", "5000"),
                "restart = \"never\"\nstdout = { file = " + toml_string(log.string()) +
                    ", max-size = \"4KB\", keep = 3 }\n"));
  ASSERT_TRUE(daemon.wait_state("p", "exited", 10s)) << daemon.log();
  ASSERT_TRUE(
      poll_until([&] { return read_file(log).find("line 5000\n") != std::string::npos; }, 5s));
  std::set<std::string> files;
  for (const auto& entry : fs::directory_iterator(dir.path)) {
    std::string name = entry.path().filename().string();
    if (name.rfind("p.log", 0) != 0) continue;
    files.insert(name);
    EXPECT_LE(fs::file_size(entry.path()), 4000u) << name;
  }
  EXPECT_EQ(files, (std::set<std::string>{"p.log", "p.log.1", "p.log.2", "p.log.3"}));
  // The newest lines survive, in order, across the kept files.
  std::string all = read_file(dir / "p.log.3") + read_file(dir / "p.log.2") +
                    read_file(dir / "p.log.1") + read_file(log);
  auto lines = lines_of(all);
  ASSERT_FALSE(lines.empty());
  EXPECT_EQ(lines.back(), "line 5000");
  for (std::size_t i = 1; i < lines.size(); ++i) {
    EXPECT_EQ(std::stol(lines[i].substr(5)), std::stol(lines[i - 1].substr(5)) + 1) << i;
  }
}

TEST_F(Output, ReopenAfterExternalRenameWithSigusr1AndReopenLogs) {
  fs::path log = dir / "t.log";
  start(program("t", writer_argv("ticks", "10"),
                "stdout = { file = " + toml_string(log.string()) + " }\n"));
  ASSERT_TRUE(poll_until([&] { return read_file(log).find("tick 2\n") != std::string::npos; }, 5s));

  fs::rename(log, dir / "t.log.old");
  daemon.signal(SIGUSR1);
  ASSERT_TRUE(poll_until([&] { return fs::exists(log) && !read_file(log).empty(); }, 5s))
      << daemon.log();
  EXPECT_EQ(read_file(log).rfind("tick ", 0), 0u);

  fs::path old2 = dir / "t.log.old2";
  fs::rename(log, old2);
  // Until told, the daemon keeps writing to the file it has open, under its new name.
  std::size_t renamed_size = read_file(old2).size();
  ASSERT_TRUE(poll_until([&] { return read_file(old2).size() > renamed_size; }, 5s))
      << daemon.log();
  EXPECT_FALSE(fs::exists(log));
  RunResult r = daemon.ctl({"reopen-logs"});
  EXPECT_EQ(r.status, 0) << r.output;
  ASSERT_TRUE(poll_until([&] { return fs::exists(log) && !read_file(log).empty(); }, 5s))
      << daemon.log();
  // New lines land in the new file at the original path; the renamed one keeps the old lines
  // and gets no more.
  std::string kept = read_file(old2);
  std::size_t new_lines = lines_of(read_file(log)).size();
  ASSERT_TRUE(poll_until([&] { return lines_of(read_file(log)).size() >= new_lines + 3; }, 5s))
      << daemon.log();
  EXPECT_EQ(read_file(old2), kept);
  ASSERT_FALSE(lines_of(kept).empty());
  EXPECT_EQ(std::stol(lines_of(read_file(log)).front().substr(5)),
            std::stol(lines_of(kept).back().substr(5)) + 1);
  // Nothing lost between the three files: the ticks follow each other.
  auto lines =
      lines_of(read_file(dir / "t.log.old") + read_file(dir / "t.log.old2") + read_file(log));
  for (std::size_t i = 1; i < lines.size(); ++i)
    ASSERT_EQ(std::stol(lines[i].substr(5)), std::stol(lines[i - 1].substr(5)) + 1) << i;
}

// The daemon's stdout is a pipe the test stops reading: the program is slowed, not the daemon.
TEST_F(Output, StalledStdoutReaderBlocksTheProgramNotTheDaemon) {
  int fds[2];
  ASSERT_EQ(::pipe2(fds, O_CLOEXEC), 0);
  Fd read_end(fds[0]), write_end(fds[1]);
  daemon.stdout_fd = write_end.get();
  constexpr long kLines = 200000;  // ~2.3 MB: far more than the pipe and the queue hold
  start(program("w", writer_argv("count", std::to_string(kLines)), "restart = \"never\"\n"));
  write_end.reset();

  // Wait until the pipe is full: the daemon has stopped reading the program. (Its capacity may
  // be small: the kernel gives 2 pages once the user's pipes use too much memory.)
  int capacity = ::fcntl(read_end.get(), F_GETPIPE_SZ);
  ASSERT_GT(capacity, 0);
  ASSERT_TRUE(poll_until(
      [&] {
        int n = 0;
        return ::ioctl(read_end.get(), FIONREAD, &n) == 0 && n >= capacity / 2;
      },
      10s))
      << "pipe capacity " << capacity;
  ASSERT_TRUE(daemon.wait_event([](const Json& e) { return e.value("event", "") == "spawn"; }, 5s));
  EXPECT_TRUE(daemon.states("w", "exited").empty()) << "the program must be blocked on its pipe";

  // The loop is free: the control socket answers at once. Timed on the socket itself, so that
  // starting a (sanitized) gardienctl under load is not what is measured.
  auto answer_time = [&](const std::string& request, std::string& answer) {
    Fd sock(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::string path = daemon.socket_path().string();
    std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
    auto t0 = std::chrono::steady_clock::now();
    if (::connect(sock.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) return Ms(-1);
    std::string line = request + "\n";
    if (::write(sock.get(), line.data(), line.size()) != static_cast<ssize_t>(line.size()))
      return Ms(-1);
    answer.clear();
    while (answer.find('\n') == std::string::npos) {
      pollfd p{sock.get(), POLLIN, 0};
      if (::poll(&p, 1, 5000) <= 0) return Ms(-1);
      char buffer[4096];
      ssize_t n = ::read(sock.get(), buffer, sizeof buffer);
      if (n <= 0) return Ms(-1);
      answer.append(buffer, static_cast<std::size_t>(n));
    }
    return std::chrono::duration_cast<Ms>(std::chrono::steady_clock::now() - t0);
  };
  std::string answer;
  Ms took = answer_time(R"({"v":1,"id":1,"cmd":"status"})", answer);
  EXPECT_GE(took, Ms(0));
  EXPECT_LT(took, 2s) << "a blocked loop would not answer within the poll's 5 s";
  EXPECT_NE(answer.find("\"id\":1"), std::string::npos) << answer;
  took = answer_time(R"({"v":1,"id":2,"cmd":"logs","args":{"names":["w"],"lines":1}})", answer);
  EXPECT_GE(took, Ms(0));
  EXPECT_LT(took, 2s) << "a blocked loop would not answer within the poll's 5 s";
  EXPECT_NE(answer.find("line "), std::string::npos) << answer;
  RunResult r = daemon.ctl({"logs", "-n", "1", "w"});
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(r.output.rfind("w | line ", 0), 0u) << r.output;

  // Resume reading: every line arrives, in order, exactly once.
  std::string data;
  long next = 1;
  std::string pending;
  auto deadline = std::chrono::steady_clock::now() + 30s;
  while (next <= kLines && std::chrono::steady_clock::now() < deadline) {
    pollfd p{read_end.get(), POLLIN, 0};
    if (::poll(&p, 1, 1000) <= 0) continue;
    char buffer[65536];
    ssize_t n = ::read(read_end.get(), buffer, sizeof buffer);
    if (n <= 0) break;
    pending.append(buffer, static_cast<std::size_t>(n));
    std::size_t start = 0;
    for (std::size_t nl; (nl = pending.find('\n', start)) != std::string::npos; start = nl + 1) {
      std::string line = pending.substr(start, nl - start);
      ASSERT_EQ(line, "w | line " + std::to_string(next)) << "line " << next;
      ++next;
    }
    pending.erase(0, start);
  }
  EXPECT_EQ(next, kLines + 1) << "lines missing";
  EXPECT_TRUE(daemon.wait_state("w", "exited", 10s));
}

TEST_F(Output, DevFullFileTargetIsReportedAndTheDaemonSurvives) {
  start(program("full", writer_argv("ticks", "20"), "stdout = { file = \"/dev/full\" }\n") +
        program("ok", writer_argv("ticks", "20")));
  auto error = daemon.wait_event(
      [](const Json& e) {
        return e.value("file", "") == "/dev/full" && e.value("level", "") == "error";
      },
      5s);
  ASSERT_TRUE(error) << daemon.log();
  EXPECT_EQ(error->value("error", ""), "No space left on device");
  // Everything else keeps working: the other program's lines, the socket, the failing one's ring.
  ASSERT_TRUE(out_has("ok   | tick 3\n")) << out();
  RunResult logs = daemon.ctl({"logs", "-n", "1", "full"});
  EXPECT_EQ(logs.status, 0) << logs.output;
  EXPECT_EQ(logs.output.rfind("full | tick ", 0), 0u) << logs.output;
  RunResult status = daemon.ctl({"status", "--json", "full"});
  EXPECT_NE(status.output.find("No space left on device"), std::string::npos) << status.output;
  EXPECT_TRUE(daemon.states("full", "exited").empty());
  daemon.signal(SIGTERM);
  EXPECT_TRUE(daemon.wait_exit(10s)) << daemon.log();
}

// Runs `gardienctl logs -f ...` in the background and collects what it prints.
class Follower {
 public:
  Follower(const Daemon& daemon, const std::vector<std::string>& args) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe2");
    read_end_.reset(fds[0]);
    std::vector<std::string> argv = {GARDIENCTL_BIN, "--socket", daemon.socket_path().string(),
                                     "logs", "-f"};
    argv.insert(argv.end(), args.begin(), args.end());
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
    std::vector<char*> raw;
    for (std::string& a : argv) raw.push_back(a.data());
    raw.push_back(nullptr);
    ::posix_spawn(&pid_, raw[0], &actions, nullptr, raw.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    ::close(fds[1]);
    ::fcntl(read_end_.get(), F_SETFL, O_NONBLOCK);
  }
  ~Follower() {
    ::kill(pid_, SIGINT);
    ::waitpid(pid_, nullptr, 0);
  }
  const std::string& text() {
    char buffer[4096];
    for (ssize_t n; (n = ::read(read_end_.get(), buffer, sizeof buffer)) > 0;)
      text_.append(buffer, static_cast<std::size_t>(n));
    return text_;
  }
  bool has(const std::string& s, Ms timeout = 5s) {
    return poll_until([&] { return text().find(s) != std::string::npos; }, timeout);
  }

 private:
  Fd read_end_;
  pid_t pid_ = -1;
  std::string text_;
};

TEST_F(Output, LogsFollowShowsTwoProgramsAndKeepsFollowingAcrossRestarts) {
  start(program("a", writer_argv("ticks", "20")) +
        program("b", {"/bin/sh", "-c", "echo b run; sleep 0.2"},
                "restart = \"always\"\nbackoff = \"100ms\"\nstart-seconds = \"0\"\n"));
  ASSERT_TRUE(daemon.wait_spawn("b", 5s));
  wait_ready();
  Follower follower(daemon, {"-n", "0", "a", "b"});
  ASSERT_TRUE(follower.has("a | tick ")) << follower.text();
  std::size_t spawns = daemon.events("spawn", "b").size();
  // Lines of b from two more runs after the follower started.
  ASSERT_TRUE(daemon.wait_spawn("b", 10s, spawns + 2)) << daemon.log();
  ASSERT_TRUE(poll_until([&] { return count(follower.text(), "b | b run\n") >= 2; }, 5s))
      << follower.text();
}

TEST_F(Output, LogsFollowPicksUpAProgramStartedLater) {
  start(program("late", writer_argv("ticks", "20"), "autostart = false\n") +
        program("x", {"/bin/sh", "-c", "sleep 30"}));
  wait_ready();
  Follower follower(daemon, {"late"});
  // Started by another client: the follower finds its ring when it appears.
  ASSERT_TRUE(daemon.wait_state("x", "starting", 5s));
  RunResult r = daemon.ctl({"start", "--no-wait", "late"});
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_TRUE(follower.has("late | tick 1\n")) << follower.text();
}

TEST_F(Output, LogsLinesAreMergedInTimeOrder) {
  start(program("a", {"/bin/sh", "-c", "echo a1; sleep 0.3; echo a2; sleep 30"}) +
        program("b", {"/bin/sh", "-c", "sleep 0.15; echo b1; sleep 0.3; echo b2; sleep 30"}));
  ASSERT_TRUE(out_has("b | b2\n")) << out();
  RunResult r = daemon.ctl({"logs", "-n", "3", "a", "b"});
  EXPECT_EQ(r.status, 0);
  EXPECT_EQ(r.output, "b | b1\na | a2\nb | b2\n");
  r = daemon.ctl({"logs", "all"});
  EXPECT_EQ(r.output, "a | a1\nb | b1\na | a2\nb | b2\n");
  r = daemon.ctl({"logs", "-t", "-n", "1", "b*"});
  EXPECT_EQ(lines_of(r.output).size(), 1u);
  EXPECT_EQ(r.output.substr(24), " b | b2\n") << r.output;
  r = daemon.ctl({"logs", "nosuch"});
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.output.find("nosuch"), std::string::npos) << r.output;
}

TEST_F(Output, LogsStreamFilterAndMergedStderr) {
  start(program("p", writer_argv("both", "3"), "restart = \"never\"\n") +
        program("m", writer_argv("both", "2"), "restart = \"never\"\nstderr = \"stdout\"\n"));
  ASSERT_TRUE(daemon.wait_state("p", "exited", 5s));
  ASSERT_TRUE(daemon.wait_state("m", "exited", 5s));
  RunResult r = daemon.ctl({"logs", "--stream", "stderr", "p"});
  EXPECT_EQ(r.output, "p | err 1\np | err 2\np | err 3\n");
  r = daemon.ctl({"logs", "--stream", "stdout", "p"});
  EXPECT_EQ(r.output, "p | out 1\np | out 2\np | out 3\n");
  // Merged: stderr lines go down the stdout pipe, in the order written, on the daemon's stdout.
  r = daemon.ctl({"logs", "m"});
  EXPECT_EQ(r.output, "m | out 1\nm | err 1\nm | out 2\nm | err 2\n");
  std::string m_lines;  // p's lines may come between m's
  for (const std::string& line : lines_of(out())) {
    if (line.rfind("m | ", 0) == 0) m_lines += line + "\n";
  }
  EXPECT_EQ(m_lines, "m | out 1\nm | err 1\nm | out 2\nm | err 2\n") << out();
  EXPECT_EQ(daemon.log().find("m | err"), std::string::npos);
  r = daemon.ctl({"logs", "--stream", "stderr", "m"});
  EXPECT_EQ(r.output, "");
}

TEST_F(Output, InheritWritesStraightThrough) {
  start(program("i", {"/bin/sh", "-c", "echo straight; echo through >&2; sleep 30"},
                "stdout = \"inherit\"\nstderr = \"inherit\"\n"));
  ASSERT_TRUE(out_has("straight\n")) << out();
  EXPECT_EQ(out().find("| straight"), std::string::npos);
  auto pid = daemon.wait_spawn("i", 5s);
  ASSERT_TRUE(pid);
  // The child's fd 1 is the daemon's stdout file itself, not a pipe.
  EXPECT_EQ(fs::read_symlink("/proc/" + std::to_string(*pid) + "/fd/1"), daemon.out_path());
  EXPECT_TRUE(poll_until([&] { return daemon.log().find("through\n") != std::string::npos; }, 5s));
  // No ring for an inherited program.
  RunResult r = daemon.ctl({"logs", "i"});
  EXPECT_EQ(r.output, "");
}

}  // namespace
}  // namespace gardien::test
