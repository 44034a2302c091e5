// Shared harness for integration tests: a temp dir, a config file, the real `gardien` with
// its JSON log captured to a file, polling with deadlines, and a cleanup that kills every
// process a test started (the test process is a child subreaper, so orphans come back to it).
#pragma once

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

#include "supervisord/process/process_tree.h"

namespace gardien::test {

namespace fs = std::filesystem;
using Json = nlohmann::json;
using namespace std::chrono_literals;
using Ms = std::chrono::milliseconds;

// The helper program `name` from tests/helpers (built next to the tests).
inline std::string helper(const std::string& name) {
  return std::string(GARDIEN_HELPERS) + "/" + name;
}

// Quotes a string for TOML (basic string).
inline std::string toml_string(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

// A TOML array of strings: ["a", "b"].
inline std::string toml_argv(const std::vector<std::string>& argv) {
  std::string out = "[";
  for (std::size_t i = 0; i < argv.size(); ++i) {
    if (i) out += ", ";
    out += toml_string(argv[i]);
  }
  return out + "]";
}

// A [program.NAME] table; `extra` holds more key = value lines.
inline std::string program(const std::string& name, const std::vector<std::string>& argv,
                           const std::string& extra = "") {
  return "[program." + name + "]\ncommand = " + toml_argv(argv) + "\n" + extra + "\n";
}

inline std::string read_file(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline void write_file(const fs::path& path, const std::string& text) {
  fs::path tmp = path;
  tmp += ".tmp";
  {
    std::ofstream out(tmp);
    out << text;
  }
  fs::rename(tmp, path);  // atomic: a reader never sees half a file
}

// key=value lines (as the probe helper writes them).
inline std::map<std::string, std::string> read_key_values(const fs::path& path) {
  std::map<std::string, std::string> out;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    auto eq = line.find('=');
    if (eq != std::string::npos) out[line.substr(0, eq)] = line.substr(eq + 1);
  }
  return out;
}

// Polls `condition` every `every` until it holds or `timeout` passes. No fixed sleeps in tests.
template <typename Condition>
bool poll_until(Condition condition, Ms timeout, Ms every = 5ms) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (condition()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(every);
  }
}

inline bool process_alive(pid_t pid) {
  if (pid <= 0) return false;
  if (::kill(pid, 0) != 0) return false;
  // A zombie is not alive (its parent may not have reaped it yet).
  auto stat = read_proc_stat(pid);
  return !stat || !stat->zombie();
}

// Every descendant of this process (from /proc).
inline std::vector<pid_t> descendants() {
  std::map<pid_t, std::vector<pid_t>> children;
  for_each_process([&](pid_t pid, const ProcStat& s) { children[s.ppid].push_back(pid); });
  std::vector<pid_t> out;
  std::vector<pid_t> todo = {::getpid()};
  while (!todo.empty()) {
    pid_t p = todo.back();
    todo.pop_back();
    for (pid_t c : children[p]) {
      out.push_back(c);
      todo.push_back(c);
    }
  }
  return out;
}

// Kills and reaps every descendant of the test process.
inline void kill_all_descendants() {
  auto deadline = std::chrono::steady_clock::now() + 5s;
  for (;;) {
    auto pids = descendants();
    while (::waitpid(-1, nullptr, WNOHANG) > 0) {
    }
    if (pids.empty() || std::chrono::steady_clock::now() > deadline) return;
    for (pid_t p : pids) ::kill(p, SIGKILL);
    std::this_thread::sleep_for(2ms);
  }
}

// A directory removed with everything in it when the test ends.
struct TempDir {
  fs::path path;
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "gardien-test-XXXXXX").string();
    if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
    path = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  fs::path operator/(const std::string& name) const { return path / name; }
};

// Milliseconds since the epoch of a log event's "time" ("2026-01-02T03:04:05.678Z").
inline long long event_ms(const Json& event) {
  std::string t = event.value("time", "");
  std::tm tm{};
  int ms = 0;
  if (std::sscanf(t.c_str(), "%d-%d-%dT%d:%d:%d.%dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                  &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &ms) != 7)
    return 0;
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return static_cast<long long>(::timegm(&tm)) * 1000 + ms;
}

inline long long now_ms() {
  return std::chrono::duration_cast<Ms>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The exit of a process as a shell reports it: the code, or 128 + the signal.
inline int shell_status(int wait_status) {
  if (WIFEXITED(wait_status)) return WEXITSTATUS(wait_status);
  if (WIFSIGNALED(wait_status)) return 128 + WTERMSIG(wait_status);
  return -1;
}

struct RunResult {
  int status = -1;     // shell_status
  std::string output;  // stdout and stderr together
};

// Where and with what environment run_command runs; by default the test's own.
struct RunIn {
  fs::path cwd;                       // empty: the test's working directory
  std::vector<std::string> env = {};  // empty: the test's environment
};

// Runs a command to completion (for CLI checks), capturing its output.
inline RunResult run_command(const std::vector<std::string>& argv, Ms timeout = 10s,
                             const RunIn& in = {}) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe2 failed");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, fds[1], STDERR_FILENO);
  if (!in.cwd.empty()) posix_spawn_file_actions_addchdir_np(&actions, in.cwd.c_str());
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  std::vector<char*> env;
  for (const std::string& e : in.env) env.push_back(const_cast<char*>(e.c_str()));
  env.push_back(nullptr);
  pid_t pid = -1;
  int rc = ::posix_spawn(&pid, args[0], &actions, nullptr, args.data(),
                         in.env.empty() ? environ : env.data());
  posix_spawn_file_actions_destroy(&actions);
  ::close(fds[1]);
  RunResult result;
  if (rc != 0) {
    ::close(fds[0]);
    throw std::runtime_error("posix_spawn failed: " + argv[0]);
  }
  char buffer[4096];
  for (ssize_t n; (n = ::read(fds[0], buffer, sizeof buffer)) != 0;) {
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;
    result.output.append(buffer, static_cast<std::size_t>(n));
  }
  ::close(fds[0]);
  int status = 0;
  poll_until([&] { return ::waitpid(pid, &status, WNOHANG) == pid; }, timeout);
  result.status = shell_status(status);
  return result;
}

// The real daemon in a temp dir. Its stderr (the JSON log) goes to `log_path()`, its stdout to
// `out_path()`. Destruction kills it and every process it left, whatever the test did.
class Daemon {
 public:
  explicit Daemon(const TempDir& dir) : dir_(dir.path) {
    // Orphans of the daemon's programs come back to the test, which can then reap them all.
    ::prctl(PR_SET_CHILD_SUBREAPER, 1);
  }
  ~Daemon() {
    if (pid_ > 0 && !exit_status_) ::kill(pid_, SIGKILL);
    kill_all_descendants();
  }
  Daemon(const Daemon&) = delete;
  Daemon& operator=(const Daemon&) = delete;

  fs::path config_path() const { return dir_ / "gardien.toml"; }
  fs::path log_path() const { return dir_ / "gardien.log"; }
  fs::path out_path() const { return dir_ / "gardien.out"; }
  // Each test's own control socket (given with --socket), never the system's.
  fs::path socket_path() const { return dir_ / "gardien.sock"; }
  pid_t pid() const { return pid_; }

  // When the daemon's stdout is not the default file: an fd to dup2 as its fd 1 (-1: the file).
  int stdout_fd = -1;

  void write_config(const std::string& toml) { write_file(config_path(), toml); }

  // Starts `gardien -c CONFIG --log-format json --log-level debug` (every state change is an
  // event) plus `extra` arguments.
  void start(const std::vector<std::string>& extra = {}) {
    std::vector<std::string> argv = {GARDIEN_BIN,    "-c",       config_path().string(),
                                     "--log-format", "json",     "--log-level",
                                     "debug",        "--socket", socket_path().string()};
    argv.insert(argv.end(), extra.begin(), extra.end());
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    if (stdout_fd >= 0) {
      posix_spawn_file_actions_adddup2(&actions, stdout_fd, STDOUT_FILENO);
    } else {
      posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, out_path().c_str(),
                                       O_WRONLY | O_CREAT | O_TRUNC, 0644);
    }
    posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, log_path().c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0644);
    std::vector<char*> args;
    for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    started_ms_ = now_ms();
    int rc = ::posix_spawn(&pid_, args[0], &actions, nullptr, args.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) throw std::runtime_error("cannot start " + std::string(GARDIEN_BIN));
  }

  long long started_ms() const { return started_ms_; }

  void signal(int signo) const { ::kill(pid_, signo); }

  // The daemon's exit (code, or 128 + signal) once it has exited within `timeout`.
  std::optional<int> wait_exit(Ms timeout) {
    if (exit_status_) return exit_status_;
    int status = 0;
    if (poll_until([&] { return ::waitpid(pid_, &status, WNOHANG) == pid_; }, timeout)) {
      exit_status_ = shell_status(status);
    }
    return exit_status_;
  }

  // Every JSON line logged so far.
  std::vector<Json> events() const {
    std::vector<Json> out;
    std::ifstream in(log_path());
    std::string line;
    while (std::getline(in, line)) {
      Json j = Json::parse(line, nullptr, false);
      if (!j.is_discarded() && j.is_object()) out.push_back(std::move(j));
    }
    return out;
  }

  // Events with this "event" field (and "program", when given).
  std::vector<Json> events(const std::string& event, const std::string& program = "") const {
    std::vector<Json> out;
    for (Json& e : events()) {
      if (e.value("event", "") == event && (program.empty() || e.value("program", "") == program))
        out.push_back(std::move(e));
    }
    return out;
  }

  // State changes of `program` into `state`.
  std::vector<Json> states(const std::string& program, const std::string& state) const {
    std::vector<Json> out;
    for (Json& e : events("state", program)) {
      if (e.value("to", "") == state) out.push_back(std::move(e));
    }
    return out;
  }

  // Waits until `program` has entered `state` `count` times; returns the last such event.
  std::optional<Json> wait_state(const std::string& program, const std::string& state, Ms timeout,
                                 std::size_t count = 1) const {
    std::optional<Json> found;
    poll_until(
        [&] {
          auto s = states(program, state);
          if (s.size() < count) return false;
          found = s[count - 1];
          return true;
        },
        timeout);
    return found;
  }

  // Waits until some event satisfies `pred`.
  std::optional<Json> wait_event(const std::function<bool(const Json&)>& pred, Ms timeout) const {
    std::optional<Json> found;
    poll_until(
        [&] {
          for (const Json& e : events()) {
            if (pred(e)) {
              found = e;
              return true;
            }
          }
          return false;
        },
        timeout);
    return found;
  }

  // The pid of the latest spawn of `program`, once there are at least `count` spawns.
  std::optional<pid_t> wait_spawn(const std::string& program, Ms timeout,
                                  std::size_t count = 1) const {
    std::optional<pid_t> pid;
    poll_until(
        [&] {
          auto s = events("spawn", program);
          if (s.size() < count) return false;
          pid = s.back().value("pid", 0);
          return true;
        },
        timeout);
    return pid;
  }

  // Runs the real gardienctl against this daemon's socket.
  RunResult ctl(std::vector<std::string> args, Ms timeout = 20s) const {
    args.insert(args.begin(), {GARDIENCTL_BIN, "--socket", socket_path().string()});
    return run_command(args, timeout);
  }

  // Waits until the control socket answers `status` (any answer but "unreachable").
  bool wait_ready(Ms timeout = 10s) const {
    return poll_until([&] { return ctl({"version"}).status == 0; }, timeout, 10ms);
  }

  // The whole log, for failure messages.
  std::string log() const { return read_file(log_path()); }

 private:
  fs::path dir_;
  pid_t pid_ = -1;
  std::optional<int> exit_status_;
  long long started_ms_ = 0;
};

// Every instance of `gardienctl status --json`, by name (empty when the daemon does not answer).
inline std::map<std::string, Json> statuses_of(const Daemon& d) {
  std::map<std::string, Json> out;
  Json j = Json::parse(d.ctl({"status", "--json"}).output, nullptr, false);
  if (j.is_discarded() || !j.contains("result")) return out;
  for (const Json& i : j["result"]["instances"]) out[i.value("name", "")] = i;
  return out;
}

// One instance's status (an empty object when absent).
inline Json status_of(const Daemon& d, const std::string& name) {
  auto all = statuses_of(d);
  auto it = all.find(name);
  return it == all.end() ? Json::object() : it->second;
}

// The pid in an instance's status (0 when it has none).
inline pid_t status_pid(const Json& status) {
  auto it = status.find("pid");
  return it != status.end() && it->is_number_integer() ? it->get<pid_t>() : 0;
}

// Polls `status --json` until `name`'s status satisfies `pred`; returns the last one seen.
inline Json wait_status(const Daemon& d, const std::string& name,
                        const std::function<bool(const Json&)>& pred, Ms timeout) {
  Json last;
  poll_until(
      [&] {
        last = status_of(d, name);
        return last.is_object() && pred(last);
      },
      timeout, 10ms);
  return last;
}

// Polls until `name` is in `state`; returns the last status seen.
inline Json wait_status(const Daemon& d, const std::string& name, const std::string& state,
                        Ms timeout) {
  return wait_status(
      d, name, [&](const Json& s) { return s.value("state", "") == state; }, timeout);
}

// Polls until there are `count` instances and each one's status satisfies `pred`.
inline bool wait_statuses(const Daemon& d, std::size_t count,
                          const std::function<bool(const Json&)>& pred, Ms timeout) {
  return poll_until(
      [&] {
        auto all = statuses_of(d);
        return all.size() == count &&
               std::all_of(all.begin(), all.end(), [&](const auto& s) { return pred(s.second); });
      },
      timeout, 10ms);
}

// A TCP port on 127.0.0.1 that was free a moment ago (the kernel's pick).
inline int free_tcp_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof sa;
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &length) != 0) {
    if (fd >= 0) ::close(fd);
    throw std::runtime_error("no free TCP port");
  }
  ::close(fd);
  return ntohs(sa.sin_port);
}

// The command line of a process, its arguments joined by spaces ("" once it is gone).
inline std::string process_cmdline(pid_t pid) {
  std::string text = read_file("/proc/" + std::to_string(pid) + "/cmdline");
  for (char& c : text) {
    if (c == '\0') c = ' ';
  }
  if (!text.empty() && text.back() == ' ') text.pop_back();
  return text;
}

// A test with its own temp dir and daemon; start() writes the config and starts it.
class DaemonTest : public ::testing::Test {
 protected:
  TempDir dir;
  Daemon daemon{dir};

  void start(const std::string& toml) {
    daemon.write_config(toml);
    daemon.start();
  }
};

}  // namespace gardien::test
