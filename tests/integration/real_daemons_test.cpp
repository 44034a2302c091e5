// Real daemons that speak sd_notify, as Debian builds them: PostgreSQL and Redis under the real
// gardien with `ready = "notify"`, each with a dependant client that must succeed on its first
// try (it runs once, restart = "never"). Each test skips, saying why, when its daemon is not
// installed (`make test` installs them: TEST_PACKAGES in the Makefile).
#include <glob.h>
#include <grp.h>
#include <gtest/gtest.h>
#include <pwd.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "harness.h"

namespace gardien::test {
namespace {

// The newest /usr/lib/postgresql/N/bin with a server and psql, or empty.
fs::path postgres_bin_dir() {
  glob_t found{};
  std::vector<fs::path> dirs;
  if (::glob("/usr/lib/postgresql/*/bin/postgres", 0, nullptr, &found) == 0) {
    for (std::size_t i = 0; i < found.gl_pathc; ++i) {
      fs::path bin = fs::path(found.gl_pathv[i]).parent_path();
      if (::access((bin / "initdb").c_str(), X_OK) == 0 &&
          ::access((bin / "psql").c_str(), X_OK) == 0)
        dirs.push_back(bin);
    }
  }
  ::globfree(&found);
  // "9.6" < "15": compare the version as a number.
  std::sort(dirs.begin(), dirs.end(), [](const fs::path& a, const fs::path& b) {
    return std::stod(a.parent_path().filename().string()) <
           std::stod(b.parent_path().filename().string());
  });
  return dirs.empty() ? fs::path{} : dirs.back();
}

// The first executable `name` on PATH, or empty.
fs::path on_path(const std::string& name) {
  const char* path = ::getenv("PATH");
  std::stringstream dirs(path ? path : "/usr/local/bin:/usr/bin:/bin");
  for (std::string dir; std::getline(dirs, dir, ':');) {
    fs::path candidate = fs::path(dir.empty() ? "." : dir) / name;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return {};
}

// Who runs a daemon that refuses root (PostgreSQL): the test's own user, or, when the test runs
// as root, the `postgres` account the Debian package creates.
struct RunAs {
  std::optional<passwd> account;  // nullopt: the test's own user
  std::string config_line() const {
    return account ? "user = " + toml_string(account->pw_name) + "\n" : "";
  }
  // argv run as that user: through runuser when the test is root.
  std::vector<std::string> argv(std::vector<std::string> command) const {
    if (!account) return command;
    command.insert(command.begin(), {"/usr/sbin/runuser", "-u", account->pw_name, "--"});
    return command;
  }
  // A directory the user owns, mode 0700 (PostgreSQL's rule for its data directory).
  void own(const fs::path& dir) const {
    if (account && ::chown(dir.c_str(), account->pw_uid, account->pw_gid) != 0)
      throw std::runtime_error("chown " + dir.string() + " failed");
    ::chmod(dir.c_str(), 0700);
  }
};

// nullopt with `why` set when PostgreSQL cannot be run here.
std::optional<RunAs> postgres_user(std::string& why) {
  if (::geteuid() != 0) return RunAs{};
  passwd* pw = ::getpwnam("postgres");
  if (!pw) {
    why = "running as root and there is no `postgres` account to run PostgreSQL as";
    return std::nullopt;
  }
  if (::access("/usr/sbin/runuser", X_OK) != 0) {
    why = "running as root and /usr/sbin/runuser (util-linux) is missing for initdb";
    return std::nullopt;
  }
  return RunAs{*pw};
}

// One initdb per test binary (it takes seconds), copied into each test's own directory.
class PostgresTemplate {
 public:
  // The template's data directory, or empty with `why` set.
  static fs::path data(const fs::path& bin, const RunAs& as, std::string& why) {
    static PostgresTemplate instance(bin, as);
    why = instance.error_;
    return instance.error_.empty() ? instance.dir_.path / "data" : fs::path{};
  }

 private:
  PostgresTemplate(const fs::path& bin, const RunAs& as) {
    ::chmod(dir_.path.c_str(), 0755);  // the account must reach its data directory inside
    fs::path data = dir_ / "data";
    fs::create_directory(data);
    as.own(data);
    RunResult init =
        run_command(as.argv({(bin / "initdb").string(), "-D", data.string(), "-A", "trust", "-U",
                             "postgres", "-E", "UTF8", "--locale=C", "--no-sync"}),
                    120s, RunIn{.cwd = dir_.path});
    if (init.status != 0)
      error_ = "initdb failed (" + std::to_string(init.status) + "): " + init.output;
  }
  TempDir dir_;
  std::string error_;
};

// `cp -a`: the copy keeps the owner and the modes PostgreSQL checks.
void copy_tree(const fs::path& from, const fs::path& to) {
  RunResult cp = run_command({"/bin/cp", "-a", from.string(), to.string()}, 60s);
  if (cp.status != 0) throw std::runtime_error("cp -a failed: " + cp.output);
}

// name -> the instance's line of `status --json`.
std::map<std::string, Json> status_of(const Daemon& d) {
  std::map<std::string, Json> out;
  Json j = Json::parse(d.ctl({"status", "--json"}).output, nullptr, false);
  if (j.is_discarded()) return out;
  for (const Json& i : j["result"]["instances"]) out[i.value("name", "")] = i;
  return out;
}

// The position in the log of the first event that satisfies `pred` (npos: none).
std::size_t first_event(const Daemon& d, const std::function<bool(const Json&)>& pred) {
  std::vector<Json> all = d.events();
  for (std::size_t i = 0; i < all.size(); ++i)
    if (pred(all[i])) return i;
  return std::string::npos;
}

bool state_event(const Json& e, const std::string& program, const std::string& to) {
  return e.value("event", "") == "state" && e.value("program", "") == program &&
         e.value("to", "") == to;
}

class RealDaemons : public DaemonTest {
 protected:
  void SetUp() override { ::chmod(dir.path.c_str(), 0755); }

  // The dependant `client` ran once, exited 0, and was spawned only after `server` was running.
  void expect_client_succeeded_first_time(const std::string& server) {
    ASSERT_TRUE(daemon.wait_state("client", "exited", 60s)) << daemon.log();
    EXPECT_EQ(daemon.events("spawn", "client").size(), 1u) << daemon.log();
    EXPECT_TRUE(daemon.states("client", "fatal").empty()) << daemon.log();
    auto status = status_of(daemon);
    EXPECT_EQ(status["client"].value("exit_code", -1), 0) << status["client"].dump();
    std::size_t running =
        first_event(daemon, [&](const Json& e) { return state_event(e, server, "running"); });
    std::size_t spawned = first_event(daemon, [](const Json& e) {
      return e.value("event", "") == "spawn" && e.value("program", "") == "client";
    });
    ASSERT_NE(running, std::string::npos) << daemon.log();
    EXPECT_LT(running, spawned) << "the client was spawned before " << server << " was ready\n"
                                << daemon.log();
  }

  // SIGTERM to gardien: it stops the daemon cleanly (no SIGKILL) and exits 0.
  void shut_down() {
    daemon.signal(SIGTERM);
    EXPECT_EQ(daemon.wait_exit(60s), 0) << daemon.log();
  }
};

TEST_F(RealDaemons, PostgresNotifyThenPsqlSucceedsFirstTime) {
  fs::path bin = postgres_bin_dir();
  if (bin.empty()) GTEST_SKIP() << "PostgreSQL is not installed (Debian package postgresql)";
  std::string why;
  std::optional<RunAs> as = postgres_user(why);
  if (!as) GTEST_SKIP() << why;
  fs::path data_template = PostgresTemplate::data(bin, *as, why);
  if (data_template.empty()) GTEST_SKIP() << why;

  fs::path run = dir / "pg";  // the server's Unix socket lives here
  fs::create_directory(run);
  as->own(run);
  copy_tree(data_template, run / "data");
  start(program("db",
                {(bin / "postgres").string(), "-D", (run / "data").string(), "-k", run.string(),
                 "-c", "listen_addresses=", "-c", "fsync=off"},
                as->config_line() +
                    "ready = \"notify\"\nready-timeout = \"60s\"\nstop-signal = \"INT\"\n"
                    "stop-timeout = \"20s\"\n") +
        program("client",
                {(bin / "psql").string(), "-X", "-h", run.string(), "-U", "postgres", "-d",
                 "postgres", "-v", "ON_ERROR_STOP=1", "-c", "select 1"},
                as->config_line() +
                    "restart = \"never\"\nstart-seconds = \"0\"\ndepends-on = [\"db\"]\n"));
  ASSERT_TRUE(daemon.wait_ready()) << daemon.log();
  expect_client_succeeded_first_time("db");
  auto status = status_of(daemon);
  EXPECT_EQ(status["db"].value("state", ""), "running") << status["db"].dump();
  EXPECT_TRUE(status["db"].value("ready", false)) << status["db"].dump();
  shut_down();
  EXPECT_TRUE(daemon.states("db", "stopped").size() == 1) << daemon.log();
}

// The same server without sd_notify, as for an upstream build: `pg_isready` as an exec probe.
TEST_F(RealDaemons, PostgresExecProbePgIsReady) {
  fs::path bin = postgres_bin_dir();
  if (bin.empty()) GTEST_SKIP() << "PostgreSQL is not installed (Debian package postgresql)";
  if (::access((bin / "pg_isready").c_str(), X_OK) != 0) GTEST_SKIP() << "no pg_isready in " << bin;
  std::string why;
  std::optional<RunAs> as = postgres_user(why);
  if (!as) GTEST_SKIP() << why;
  fs::path data_template = PostgresTemplate::data(bin, *as, why);
  if (data_template.empty()) GTEST_SKIP() << why;

  fs::path run = dir / "pg";
  fs::create_directory(run);
  as->own(run);
  copy_tree(data_template, run / "data");
  std::string probe = toml_argv({(bin / "pg_isready").string(), "-q", "-h", run.string()});
  start(program("db",
                {(bin / "postgres").string(), "-D", (run / "data").string(), "-k", run.string(),
                 "-c", "listen_addresses=", "-c", "fsync=off"},
                as->config_line() + "ready = { exec = " + probe +
                    ", period = \"100ms\", timeout = \"5s\" }\nready-timeout = \"60s\"\n"
                    "stop-signal = \"INT\"\nstop-timeout = \"20s\"\n") +
        program("client",
                {(bin / "psql").string(), "-X", "-h", run.string(), "-U", "postgres", "-d",
                 "postgres", "-v", "ON_ERROR_STOP=1", "-c", "select 1"},
                as->config_line() +
                    "restart = \"never\"\nstart-seconds = \"0\"\ndepends-on = [\"db\"]\n"));
  ASSERT_TRUE(daemon.wait_ready()) << daemon.log();
  expect_client_succeeded_first_time("db");
  shut_down();
}

TEST_F(RealDaemons, RedisSupervisedSystemdIsReady) {
  fs::path server = on_path("redis-server");
  fs::path cli = on_path("redis-cli");
  if (server.empty() || cli.empty())
    GTEST_SKIP() << "redis-server or redis-cli is not installed (Debian package redis-server)";
  fs::path socket = dir / "redis.sock";
  start(program("kv",
                {server.string(), "--port", "0", "--unixsocket", socket.string(), "--save", "",
                 "--appendonly", "no", "--dir", dir.path.string(), "--logfile", "", "--daemonize",
                 "no", "--supervised", "systemd"},
                "ready = \"notify\"\nready-timeout = \"60s\"\nstop-timeout = \"20s\"\n") +
        program("client", {cli.string(), "-s", socket.string(), "ping"},
                "restart = \"never\"\nstart-seconds = \"0\"\ndepends-on = [\"kv\"]\n"));
  ASSERT_TRUE(daemon.wait_ready()) << daemon.log();
  expect_client_succeeded_first_time("kv");
  auto status = status_of(daemon);
  EXPECT_TRUE(status["kv"].value("ready", false)) << status["kv"].dump();
  EXPECT_EQ(status["kv"].value("status_text", ""), "Ready to accept connections")
      << status["kv"].dump();
  shut_down();
}

}  // namespace
}  // namespace gardien::test
