// Every gardienctl verb against a live gardien: output, --json, exit codes, permissions, reload,
// concurrency and hostile clients.
#include <grp.h>
#include <pwd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "harness.h"

namespace gardien::test {
namespace {

std::string sleeper(const std::string& name, const std::string& extra = {}) {
  std::string t = "[program." + name + "]\n";
  t += "command = [\"sleep\", \"600\"]\n";
  t += "start-seconds = \"0\"\nstop-timeout = \"2s\"\nbackoff = \"50ms\"\n";
  return t + extra;
}

bool contains(const std::string& text, const std::string& what) {
  return text.find(what) != std::string::npos;
}

// Every line of `text` is a JSON object.
bool all_json(const std::string& text) {
  std::istringstream in(text);
  std::string line;
  int lines = 0;
  while (std::getline(in, line)) {
    Json j = Json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object()) return false;
    ++lines;
  }
  return lines > 0;
}

std::optional<pid_t> pid_of(const Daemon& d, const std::string& name) {
  RunResult r = d.ctl({"--json", "pid", name});
  Json j = Json::parse(r.output, nullptr, false);
  if (j.is_discarded() || !j["result"]["instances"][0]["pid"].is_number()) return std::nullopt;
  return j["result"]["instances"][0]["pid"].get<pid_t>();
}

std::map<std::string, Json> status_map(const Daemon& d) {
  std::map<std::string, Json> out;
  Json j = Json::parse(d.ctl({"status", "--json"}).output, nullptr, false);
  if (j.is_discarded()) return out;
  for (const Json& i : j["result"]["instances"]) out[i["name"]] = i;
  return out;
}

// name -> "state pid", what a reload must leave alone.
std::map<std::string, std::string> pids(const Daemon& d) {
  std::map<std::string, std::string> out;
  for (auto& [name, j] : status_map(d)) out[name] = j["state"].dump() + " " + j["pid"].dump();
  return out;
}

int fd_count(pid_t pid) {
  int n = 0;
  for ([[maybe_unused]] const auto& e :
       fs::directory_iterator("/proc/" + std::to_string(pid) + "/fd"))
    ++n;
  return n;
}

class CtlTest : public ::testing::Test {
 protected:
  TempDir dir;
  Daemon daemon{dir};
  void start(const std::string& toml, const std::string& supervisor = {}) {
    daemon.write_config("[supervisor]\nshutdown-timeout = \"5s\"\n" + supervisor + toml);
    daemon.start();
    ASSERT_TRUE(daemon.wait_ready()) << daemon.log();
  }
};

TEST_F(CtlTest, EveryVerbWithItsExitCodes) {
  start(sleeper("a") + sleeper("b", "instances = 2\n") + sleeper("c", "autostart = false\n") +
        "[program.bad]\ncommand = [\"/nonexistent/x\"]\nautostart = false\nstart-retries = 1\n"
        "backoff = \"20ms\"\n");
  ASSERT_TRUE(poll_until([&] { return daemon.ctl({"status"}).status == 0; }, 10s));
  RunResult st = daemon.ctl({"status"});
  EXPECT_TRUE(contains(st.output, "NAME")) << st.output;
  EXPECT_TRUE(contains(st.output, "b.1")) << st.output;
  EXPECT_TRUE(all_json(daemon.ctl({"status", "--json"}).output));
  EXPECT_EQ(daemon.ctl({"status", "c"}).status, 0) << "autostart = false does not count";
  RunResult unknown = daemon.ctl({"status", "nope"});
  EXPECT_EQ(unknown.status, 4);
  EXPECT_TRUE(contains(unknown.output, "nope")) << unknown.output;

  // start / stop with one line per instance, globs, --no-wait.
  RunResult started = daemon.ctl({"start", "c"});
  EXPECT_EQ(started.status, 0) << started.output;
  EXPECT_TRUE(contains(started.output, "c: running (pid ")) << started.output;
  RunResult stopped = daemon.ctl({"stop", "b*"});
  EXPECT_EQ(stopped.status, 0) << stopped.output;
  EXPECT_TRUE(contains(stopped.output, "b.0: stopped") && contains(stopped.output, "b.1: stopped"))
      << stopped.output;
  EXPECT_EQ(daemon.ctl({"status"}).status, 0) << "stopped on purpose does not count";
  EXPECT_EQ(daemon.ctl({"start", "b.1", "--no-wait"}).status, 0);
  EXPECT_EQ(daemon.ctl({"wait", "b.1", "--for", "running", "--timeout", "5s"}).status, 0);
  EXPECT_TRUE(all_json(daemon.ctl({"--json", "stop", "b.1"}).output));

  // A failed start: exit 1, and status says 3 until it is stopped on purpose.
  RunResult bad = daemon.ctl({"start", "bad", "--timeout", "5s"});
  EXPECT_EQ(bad.status, 1) << bad.output;
  EXPECT_TRUE(contains(bad.output, "bad")) << bad.output;
  ASSERT_TRUE(poll_until([&] { return status_map(daemon)["bad"]["state"] == "fatal"; }, 5s));
  EXPECT_EQ(daemon.ctl({"status"}).status, 3);
  EXPECT_EQ(daemon.ctl({"status", "a"}).status, 0) << "with names, only those count";
  EXPECT_EQ(daemon.ctl({"stop", "bad"}).status, 0);

  // restart gives a new pid; signal; pid.
  std::optional<pid_t> a1 = pid_of(daemon, "a");
  ASSERT_TRUE(a1);
  RunResult restarted = daemon.ctl({"restart", "a", "--timeout", "10s"});
  EXPECT_EQ(restarted.status, 0) << restarted.output;
  std::optional<pid_t> a2 = pid_of(daemon, "a");
  ASSERT_TRUE(a2);
  EXPECT_NE(*a1, *a2);
  RunResult sig = daemon.ctl({"signal", "STOP", "a"});
  EXPECT_EQ(sig.status, 0) << sig.output;
  EXPECT_TRUE(contains(sig.output, "SIGSTOP")) << sig.output;
  EXPECT_EQ(daemon.ctl({"signal", "CONT", "a"}).status, 0);
  EXPECT_EQ(daemon.ctl({"signal", "HUP", "b.0"}).status, 1) << "no process";
  EXPECT_EQ(daemon.ctl({"signal", "NOPE", "a"}).status, 2);
  RunResult dpid = daemon.ctl({"pid"});
  EXPECT_EQ(dpid.status, 0);
  EXPECT_EQ(std::atoi(dpid.output.c_str()), daemon.pid());
  EXPECT_EQ(daemon.ctl({"pid", "b.0"}).status, 1) << "no process";
  EXPECT_EQ(daemon.ctl({"wait", "b.0", "--for", "running", "--timeout", "100ms"}).status, 1);
  EXPECT_EQ(daemon.ctl({"wait", "a", "--for", "running"}).status, 0);

  // Unknown names and usage errors.
  RunResult nope = daemon.ctl({"stop", "nope", "a"});
  EXPECT_EQ(nope.status, 1);
  EXPECT_TRUE(contains(nope.output, "\"nope\"")) << nope.output;
  EXPECT_EQ(status_map(daemon)["a"]["state"], "running") << "nothing is done";
  EXPECT_EQ(daemon.ctl({"frobnicate"}).status, 2);
  EXPECT_EQ(daemon.ctl({"start"}).status, 2);
  EXPECT_EQ(daemon.ctl({"wait", "a", "--for", "sleeping"}).status, 2);
  RunResult version = daemon.ctl({"version"});
  EXPECT_EQ(version.status, 0);
  EXPECT_TRUE(contains(version.output, "protocol 1")) << version.output;
  EXPECT_TRUE(all_json(daemon.ctl({"version", "--json"}).output));
  EXPECT_EQ(daemon.ctl({"logs", "a"}).status, 0);
  EXPECT_EQ(daemon.ctl({"logs", "nosuch"}).status, 1);

  // shutdown waits until the daemon is gone; then the socket is unreachable.
  RunResult down = daemon.ctl({"shutdown"});
  EXPECT_EQ(down.status, 0) << down.output;
  EXPECT_TRUE(contains(down.output, "gardien has exited")) << down.output;
  EXPECT_EQ(daemon.wait_exit(5s), 0);
  EXPECT_FALSE(fs::exists(daemon.socket_path())) << "removed on exit";
  RunResult gone = daemon.ctl({"status"});
  EXPECT_EQ(gone.status, 69);
  EXPECT_TRUE(contains(gone.output, daemon.socket_path().string())) << gone.output;
}

TEST_F(CtlTest, ASecondDaemonOnTheSameSocketIsRefused) {
  start(sleeper("a"));
  Daemon second(dir);
  RunResult r = run_command({GARDIEN_BIN, "-c", daemon.config_path().string(), "--socket",
                             daemon.socket_path().string()});
  EXPECT_EQ(r.status, 1);
  EXPECT_TRUE(contains(r.output, daemon.socket_path().string())) << r.output;
  EXPECT_EQ(daemon.ctl({"status"}).status, 0) << "the first one still answers";
  EXPECT_EQ(daemon.ctl({"shutdown", "--no-wait"}).status, 0);
  EXPECT_EQ(daemon.wait_exit(5s), 0);
}

TEST_F(CtlTest, NoNewWorkWhileShuttingDown) {
  start(
      "[program.stubborn]\ncommand = " + toml_argv({helper("stubborn"), (dir / "pids").string()}) +
      "\nstart-seconds = \"0\"\nstop-timeout = \"60s\"\n");
  ASSERT_TRUE(poll_until([&] { return fs::exists(dir / "pids"); }, 5s));
  EXPECT_EQ(daemon.ctl({"shutdown", "--no-wait"}).status, 0);
  RunResult reload = daemon.ctl({"reload"});
  EXPECT_EQ(reload.status, 1);
  EXPECT_TRUE(contains(reload.output, "shutting down")) << reload.output;
  EXPECT_EQ(daemon.ctl({"start", "stubborn"}).status, 1);
  EXPECT_EQ(daemon.ctl({"status"}).status, 0) << "status still answers";
  // The shutdown waits for the program that ignores SIGTERM: end it here, not by the grace.
  std::istringstream pids(read_file(dir / "pids"));
  for (pid_t pid; pids >> pid;) ::kill(pid, SIGKILL);
  EXPECT_EQ(daemon.wait_exit(10s), 0);
}

TEST_F(CtlTest, ReloadAddsRemovesChangesAndScales) {
  start(sleeper("keep") + sleeper("gone") + sleeper("change") +
        sleeper("scale", "instances = 2\n"));
  ASSERT_TRUE(poll_until([&] { return daemon.ctl({"status"}).status == 0; }, 10s));
  auto before = status_map(daemon);
  auto before_pids = pids(daemon);
  ASSERT_EQ(before.size(), 5u);

  // A broken file changes nothing and names FILE:LINE:COL.
  std::string good = read_file(daemon.config_path());
  daemon.write_config(good + "[program.broken]\ncommand = 42\n");
  RunResult broken = daemon.ctl({"reload"});
  EXPECT_EQ(broken.status, 1) << broken.output;
  EXPECT_TRUE(contains(broken.output, daemon.config_path().string() + ":")) << broken.output;
  EXPECT_EQ(pids(daemon), before_pids) << "pids identical";

  std::string next = "[supervisor]\nshutdown-timeout = \"5s\"\n" + sleeper("keep") +
                     sleeper("change", "stop-signal = \"INT\"\n") +
                     sleeper("scale", "instances = 3\n") + sleeper("added");
  daemon.write_config(next);
  RunResult dry = daemon.ctl({"reload", "--dry-run"});
  EXPECT_EQ(dry.status, 0) << dry.output;
  EXPECT_TRUE(contains(dry.output, "would add added")) << dry.output;
  EXPECT_TRUE(contains(dry.output, "would remove gone")) << dry.output;
  EXPECT_TRUE(contains(dry.output, "would restart change")) << dry.output;
  EXPECT_TRUE(contains(dry.output, "would scale scale 2 -> 3")) << dry.output;
  EXPECT_TRUE(all_json(daemon.ctl({"reload", "--dry-run", "--json"}).output));
  EXPECT_EQ(pids(daemon), before_pids) << "a dry run changes nothing";

  RunResult applied = daemon.ctl({"reload"});
  EXPECT_EQ(applied.status, 0) << applied.output;
  ASSERT_TRUE(poll_until(
      [&] {
        auto s = status_map(daemon);
        return s.size() == 6 && !s.count("gone") && s["added"]["state"] == "running" &&
               s["scale.2"]["state"] == "running" && s["change"]["state"] == "running" &&
               s["change"]["pid"] != before["change"]["pid"];
      },
      10s))
      << daemon.ctl({"status"}).output;
  auto after = status_map(daemon);
  EXPECT_EQ(after["keep"]["pid"], before["keep"]["pid"]);
  EXPECT_EQ(after["scale.0"]["pid"], before["scale.0"]["pid"]);
  EXPECT_EQ(after["scale.1"]["pid"], before["scale.1"]["pid"]);
  EXPECT_FALSE(process_alive(before["gone"]["pid"].get<pid_t>()));

  // Scale down by SIGHUP: only scale.2 goes.
  daemon.write_config("[supervisor]\nshutdown-timeout = \"5s\"\n" + sleeper("keep") +
                      sleeper("change", "stop-signal = \"INT\"\n") +
                      sleeper("scale", "instances = 2\n") + sleeper("added"));
  daemon.signal(SIGHUP);
  ASSERT_TRUE(poll_until([&] { return !status_map(daemon).count("scale.2"); }, 10s));
  auto down = status_map(daemon);
  EXPECT_EQ(down.size(), 5u);
  EXPECT_EQ(down["scale.0"]["pid"], before["scale.0"]["pid"]);
  EXPECT_EQ(down["keep"]["pid"], before["keep"]["pid"]);
  EXPECT_EQ(down["change"]["pid"], after["change"]["pid"]);
  EXPECT_FALSE(process_alive(after["scale.2"]["pid"].get<pid_t>()));
}

// Runs `ctl` (a gardienctl that `uid` may execute) as `uid`/`gid` (root only).
RunResult ctl_as(const fs::path& ctl, const Daemon& d, uid_t uid, gid_t gid,
                 const std::vector<std::string>& args) {
  std::vector<std::string> argv = {ctl.string(), "--socket", d.socket_path().string()};
  argv.insert(argv.end(), args.begin(), args.end());
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe2");
  pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(fds[1], 1);
    ::dup2(fds[1], 2);
    gid_t groups[] = {gid};
    if (::setgroups(1, groups) != 0 || ::setgid(gid) != 0 || ::setuid(uid) != 0) ::_exit(120);
    std::vector<char*> a;
    for (auto& s : argv) a.push_back(s.data());
    a.push_back(nullptr);
    ::execv(a[0], a.data());
    ::_exit(127);
  }
  ::close(fds[1]);
  RunResult r;
  char buf[4096];
  for (ssize_t n; (n = ::read(fds[0], buf, sizeof buf)) > 0;) r.output.append(buf, n);
  ::close(fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  r.status = shell_status(status);
  return r;
}

TEST_F(CtlTest, StrangersAreRefusedAndReadersMayOnlyRead) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to run a client as another user";
  group* readers = ::getgrnam("users");
  passwd* nobody = ::getpwnam("nobody");
  if (!readers || !nobody) GTEST_SKIP() << "needs the group users and the user nobody";
  uid_t nobody_uid = nobody->pw_uid;
  gid_t nobody_gid = nobody->pw_gid;
  gid_t readers_gid = readers->gr_gid;
  fs::permissions(dir.path, fs::perms(0755));
  // A copy in the test's own dir: the build tree may sit in a directory nobody cannot enter.
  fs::path ctl = dir.path / "gardienctl";
  fs::copy_file(GARDIENCTL_BIN, ctl);
  fs::permissions(ctl, fs::perms(0755));
  start(sleeper("a"), "socket-mode = \"0666\"\nsocket-readers = \"users\"\n");
  ASSERT_TRUE(poll_until([&] { return daemon.ctl({"status"}).status == 0; }, 10s));

  RunResult stranger = ctl_as(ctl, daemon, nobody_uid, nobody_gid, {"status"});
  EXPECT_EQ(stranger.status, 1) << stranger.output;
  EXPECT_TRUE(contains(stranger.output, "permission denied")) << stranger.output;
  EXPECT_TRUE(contains(stranger.output, std::to_string(nobody_uid))) << stranger.output;

  RunResult read = ctl_as(ctl, daemon, nobody_uid, readers_gid, {"status"});
  EXPECT_EQ(read.status, 0) << read.output;
  RunResult stop = ctl_as(ctl, daemon, nobody_uid, readers_gid, {"stop", "a"});
  EXPECT_EQ(stop.status, 1) << stop.output;
  EXPECT_TRUE(contains(stop.output, "permission denied")) << stop.output;
  EXPECT_EQ(status_map(daemon)["a"]["state"], "running");
}

// A raw client: connect, optionally send, read until a full line or EOF.
int connect_raw(const fs::path& path) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  timeval tv{10, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  return fd;
}

std::string read_line_raw(int fd) {
  std::string out;
  char c;
  while (::read(fd, &c, 1) == 1) {
    if (c == '\n') return out;
    out += c;
  }
  return out;
}

void send_all(int fd, const std::string& data) {
  std::size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::send(fd, data.data() + off, data.size() - off, MSG_NOSIGNAL);
    if (n <= 0) return;
    off += static_cast<std::size_t>(n);
  }
}

TEST_F(CtlTest, TwoHundredConcurrentClientsWhileProgramsCrashLoop) {
  std::string crash;
  for (int i = 0; i < 3; ++i) {
    crash += "[program.crash" + std::to_string(i) +
             "]\ncommand = [\"sh\", \"-c\", \"exit 1\"]\nstart-seconds = \"0\"\n"
             "restart = \"always\"\nbackoff = \"10ms\"\nbackoff-max = \"10ms\"\n";
  }
  start(sleeper("a") + crash);
  ASSERT_TRUE(daemon.wait_event([](const Json& e) { return e.value("event", "") == "exit"; }, 5s));
  int baseline = fd_count(daemon.pid());
  std::vector<int> fds;
  for (int i = 0; i < 200; ++i) {
    int fd = connect_raw(daemon.socket_path());
    ASSERT_GE(fd, 0) << "client " << i;
    fds.push_back(fd);
  }
  for (std::size_t i = 0; i < fds.size(); ++i)
    send_all(fds[i], "{\"v\":1,\"id\":" + std::to_string(i) + ",\"cmd\":\"status\"}\n");
  int answered = 0;
  for (std::size_t i = 0; i < fds.size(); ++i) {
    Json j = Json::parse(read_line_raw(fds[i]), nullptr, false);
    if (!j.is_discarded() && j.value("ok", false) && j.value("id", -1) == int(i) &&
        j["result"]["instances"].size() == 4)
      ++answered;
    ::close(fds[i]);
  }
  EXPECT_EQ(answered, 200);
  EXPECT_TRUE(poll_until([&] { return fd_count(daemon.pid()) <= baseline + 2; }, 5s))
      << "baseline " << baseline << ", now " << fd_count(daemon.pid());
  // Pipes of crash-looping children come and go: compare once more with some settling.
  EXPECT_EQ(daemon.ctl({"status", "a"}).status, 0);
}

TEST_F(CtlTest, HostileClientsDoNotHurtTheDaemon) {
  start(sleeper("a"));
  ASSERT_TRUE(poll_until([&] { return daemon.ctl({"status"}).status == 0; }, 10s));
  int baseline = fd_count(daemon.pid());
  {  // garbage: an error answer per line, the connection stays usable
    int fd = connect_raw(daemon.socket_path());
    send_all(fd, "this is not json\n");
    Json j = Json::parse(read_line_raw(fd), nullptr, false);
    EXPECT_EQ(j["error"]["code"], "bad_request");
    send_all(fd, "{\"v\":1,\"id\":2,\"cmd\":\"nope\"}\n");
    j = Json::parse(read_line_raw(fd), nullptr, false);
    EXPECT_EQ(j["error"]["code"], "unknown_command");
    send_all(fd, "{\"v\":1,\"id\":3,\"cmd\":\"status\"}\n");
    j = Json::parse(read_line_raw(fd), nullptr, false);
    EXPECT_TRUE(j.value("ok", false));
    ::close(fd);
  }
  {  // a huge line: line_too_long, then closed
    int fd = connect_raw(daemon.socket_path());
    send_all(fd, std::string(200 * 1024, 'x'));
    Json j = Json::parse(read_line_raw(fd), nullptr, false);
    EXPECT_EQ(j["error"]["code"], "line_too_long");
    ::close(fd);
  }
  for (int i = 0; i < 20; ++i) {  // half lines and abrupt disconnects
    int fd = connect_raw(daemon.socket_path());
    send_all(fd,
             i % 2 ? "{\"v\":1,\"id\":1,\"cmd\":\"sta" : "{\"v\":1,\"id\":1,\"cmd\":\"status\"}\n");
    ::close(fd);
  }
  {  // binary junk with NULs
    int fd = connect_raw(daemon.socket_path());
    std::string junk;
    for (int i = 0; i < 4096; ++i) junk += static_cast<char>((i * 131) & 0xff);
    send_all(fd, junk + "\n");
    ::close(fd);
  }
  EXPECT_EQ(daemon.ctl({"status"}).status, 0);
  EXPECT_TRUE(poll_until([&] { return fd_count(daemon.pid()) <= baseline; }, 5s))
      << "baseline " << baseline << ", now " << fd_count(daemon.pid());
}

}  // namespace
}  // namespace gardien::test

namespace gardien::test {
namespace {

// The daemon raises its soft fd limit to the hard one; its programs get the original back.
TEST_F(CtlTest, TheDaemonRaisesItsFdLimitAndItsProgramsGetTheOriginal) {
  rlimit original{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &original), 0);
  if (original.rlim_max != RLIM_INFINITY && original.rlim_max <= 256)
    GTEST_SKIP() << "the hard fd limit leaves no room to raise the soft one";
  rlimit lowered{256, original.rlim_max};
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &lowered), 0);
  fs::path out = dir / "limit";
  start("[program.show]\ncommand = \"ulimit -Sn > " + out.string() +
        "; exec sleep 600\"\nstart-seconds = \"0\"\n");
  ::setrlimit(RLIMIT_NOFILE, &original);
  ASSERT_TRUE(poll_until([&] { return read_file(out).find('\n') != std::string::npos; }, 10s));
  EXPECT_EQ(read_file(out), "256\n");
  std::string limits = read_file("/proc/" + std::to_string(daemon.pid()) + "/limits");
  std::string hard =
      original.rlim_max == RLIM_INFINITY ? "unlimited" : std::to_string(original.rlim_max);
  std::istringstream in(limits);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("Max open files", 0) != 0) continue;
    std::istringstream fields(line.substr(14));
    std::string soft_text, hard_text;
    fields >> soft_text >> hard_text;
    EXPECT_EQ(soft_text, hard) << line;
    EXPECT_EQ(hard_text, hard) << line;
  }
}

// Counting processes walks /proc, so the daemon does it when asked: `status --json` asks.
TEST_F(CtlTest, StatusCountsProcessesOnlyForJsonOrWhenAsked) {
  start(sleeper("a"));
  ASSERT_TRUE(poll_until([&] { return status_map(daemon)["a"]["state"] == "running"; }, 10s));
  EXPECT_EQ(status_map(daemon)["a"]["processes"], 1);
  EXPECT_FALSE(contains(daemon.ctl({"status"}).output, "PROCS"));
  RunResult counted = daemon.ctl({"status", "--processes"});
  EXPECT_TRUE(contains(counted.output, "PROCS")) << counted.output;
}

}  // namespace
}  // namespace gardien::test
