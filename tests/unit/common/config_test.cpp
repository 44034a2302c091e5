// The config loader: every key and default, ${VAR} expansion, includes, and one test per
// error class checking file, line, column and message.
#include "common/config.h"

#include <gtest/gtest.h>
#include <pthread.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <map>

namespace gardien {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

EnvLookup env_of(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

LoadResult load(std::string_view text, const EnvLookup& env = env_of({})) {
  return load_config_string(text, "test.toml", env);
}

std::vector<std::string> messages(const LoadResult& r) {
  std::vector<std::string> out;
  for (const Diagnostic& d : r.diagnostics) out.push_back(d.to_string());
  return out;
}

// Loads `text`, expects it to fail with exactly `expected` as the diagnostics.
void expect_errors(std::string_view text, const std::vector<std::string>& expected,
                   const EnvLookup& env = env_of({})) {
  LoadResult r = load(text, env);
  EXPECT_FALSE(r.ok()) << text;
  EXPECT_EQ(messages(r), expected) << text;
}

// Loads `text`, expects success without any diagnostic, returns the config.
Config expect_ok(std::string_view text, const EnvLookup& env = env_of({})) {
  LoadResult r = load(text, env);
  EXPECT_TRUE(r.ok()) << text;
  EXPECT_EQ(messages(r), std::vector<std::string>{}) << text;
  return r.config.value_or(Config{});
}

// A temporary directory with files in it, removed at the end of the test.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "gardien-config-test.XXXXXX").string();
    if (!::mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }
  fs::path write(const std::string& name, std::string_view text) const {
    fs::path p = path_ / name;
    fs::create_directories(p.parent_path());
    std::ofstream(p) << text;
    return p;
  }

 private:
  fs::path path_;
};

// Runs `body` with the current directory set to `dir`, so diagnostics show relative names.
template <typename Body>
void in_directory(const fs::path& dir, Body body) {
  fs::path old = fs::current_path();
  fs::current_path(dir);
  body();
  fs::current_path(old);
}

// ---------------------------------------------------------------------------------------------
// Happy paths

TEST(ConfigTest, MinimalProgramGetsEveryDefault) {
  Config c = expect_ok(R"([program.web]
command = ["/bin/sleep", "10"]
)");
  EXPECT_EQ(c.supervisor, SupervisorConfig{});
  ASSERT_EQ(c.programs.size(), 1u);
  ProgramConfig expected;
  expected.name = "web";
  expected.command = {"/bin/sleep", "10"};
  EXPECT_EQ(c.programs[0], expected);
  const ProgramConfig& p = c.programs[0];
  EXPECT_EQ(p.restart, RestartPolicy::on_failure);
  EXPECT_EQ(p.start_seconds, 1s);
  EXPECT_EQ(p.start_retries, 3);
  EXPECT_EQ(p.backoff, 1s);
  EXPECT_EQ(p.backoff_max, 30s);
  EXPECT_EQ(p.stop_signal, SIGTERM);
  EXPECT_EQ(p.reload_signal, SIGHUP);
  EXPECT_EQ(p.stop_timeout, 5s);
  EXPECT_EQ(p.kill_mode, KillMode::group);
  EXPECT_EQ(p.instances, 1);
  EXPECT_TRUE(p.autostart);
  EXPECT_EQ(p.success_exit_codes, std::vector<int>{0});
  EXPECT_EQ(p.stdout_sink.kind, OutputSink::Kind::prefix);
  EXPECT_EQ(p.stderr_sink.kind, OutputSink::Kind::prefix);
  EXPECT_FALSE(p.timestamps);
  EXPECT_EQ(p.log_buffer_size, 1u << 20);
  EXPECT_FALSE(p.critical);
  EXPECT_FALSE(p.exit_code);
  EXPECT_FALSE(p.run_as);
  EXPECT_FALSE(p.group);
  EXPECT_FALSE(p.umask);
  EXPECT_TRUE(p.rlimits.empty());
  EXPECT_FALSE(p.ready);
  EXPECT_EQ(p.ready_timeout, 60s);
  EXPECT_FALSE(p.health);
  EXPECT_EQ(p.watchdog, 0s);
  EXPECT_EQ(p.health_restarts, 5);
  EXPECT_FALSE(p.uses_notify_socket());
  EXPECT_EQ(c.supervisor.socket_mode, 0600u);
  EXPECT_EQ(c.supervisor.shutdown_timeout, 30s);
  EXPECT_EQ(c.supervisor.log_level, LogLevel::info);
  EXPECT_EQ(c.supervisor.log_format, LogFormat::text);
}

TEST(ConfigTest, EveryKeyIsRead) {
  TempDir dir;
  fs::path file = dir.write("gardien.toml", R"(
[supervisor]
socket = "run/gardien.sock"
socket-mode = "0660"
socket-group = "nogroup"
socket-readers = 0
log-level = "debug"
log-format = "json"
shutdown-timeout = "1m30s"

[program.web]
command = ["/bin/sleep", "100"]
directory = "www"
environment = { PORT = "8080", MODE = "prod" }
user = "nobody"
group = "root"
umask = 0o027
instances = 3
autostart = false
restart = "always"
success-exit-codes = [0, 2]
start-seconds = "250ms"
start-retries = 0
backoff = "2s"
backoff-max = "1m"
stop-signal = "SIGINT"
stop-timeout = "10s"
kill-mode = "process"
depends-on = ["db"]
critical = true
exit-code = 3
stdout = { file = "logs/web.log", max-size = "10MB", keep = 2 }
stderr = "stdout"
timestamps = true
log-buffer-size = "64KiB"
rlimits = { nofile = 4096, core = "unlimited", nproc = { soft = 10, hard = "unlimited" } }

[program.db]
command = "exec sleep 100"
kill-mode = "cgroup"
restart = "never"
stop-signal = 1
stdout = "null"
stderr = "inherit"
)");
  LoadResult r = load_config(file, env_of({}));
  ASSERT_TRUE(r.ok()) << testing::PrintToString(messages(r));
  EXPECT_TRUE(r.diagnostics.empty());
  const Config& c = *r.config;
  EXPECT_EQ(c.supervisor.socket, (dir.path() / "run/gardien.sock").string());
  EXPECT_EQ(c.supervisor.socket_mode, 0660u);
  EXPECT_EQ(c.supervisor.socket_group, gid_t{65534});
  EXPECT_EQ(c.supervisor.socket_readers, gid_t{0});
  EXPECT_EQ(c.supervisor.log_level, LogLevel::debug);
  EXPECT_EQ(c.supervisor.log_format, LogFormat::json);
  EXPECT_EQ(c.supervisor.shutdown_timeout, 90s);

  ASSERT_EQ(c.programs.size(), 2u);
  EXPECT_EQ(c.programs[0].name, "db");  // sorted by name
  const ProgramConfig& db = c.programs[0];
  EXPECT_EQ(db.command, (std::vector<std::string>{"/bin/sh", "-c", "exec sleep 100"}));
  EXPECT_EQ(db.kill_mode, KillMode::cgroup);
  EXPECT_EQ(db.restart, RestartPolicy::never);
  EXPECT_EQ(db.stop_signal, SIGHUP);
  EXPECT_EQ(db.stdout_sink.kind, OutputSink::Kind::null);
  EXPECT_EQ(db.stderr_sink.kind, OutputSink::Kind::inherit);

  const ProgramConfig& web = c.programs[1];
  EXPECT_EQ(web.name, "web");
  EXPECT_EQ(web.command, (std::vector<std::string>{"/bin/sleep", "100"}));
  EXPECT_EQ(web.directory, (dir.path() / "www").string());
  EXPECT_EQ(web.environment,
            (std::map<std::string, std::string>{{"MODE", "prod"}, {"PORT", "8080"}}));
  ASSERT_TRUE(web.run_as);
  EXPECT_EQ(web.run_as->user, "nobody");
  EXPECT_EQ(web.run_as->uid, uid_t{65534});
  EXPECT_EQ(web.run_as->gid, gid_t{0});  // `group` overrides the primary group
  EXPECT_EQ(web.run_as->home, "/nonexistent");
  EXPECT_FALSE(web.run_as->shell.empty());
  EXPECT_FALSE(web.group);
  EXPECT_EQ(web.umask, mode_t{027});
  EXPECT_EQ(web.instances, 3);
  EXPECT_FALSE(web.autostart);
  EXPECT_EQ(web.restart, RestartPolicy::always);
  EXPECT_EQ(web.success_exit_codes, (std::vector<int>{0, 2}));
  EXPECT_EQ(web.start_seconds, 250ms);
  EXPECT_EQ(web.start_retries, 0);
  EXPECT_EQ(web.backoff, 2s);
  EXPECT_EQ(web.backoff_max, 60s);
  EXPECT_EQ(web.stop_signal, SIGINT);
  EXPECT_EQ(web.stop_timeout, 10s);
  EXPECT_EQ(web.kill_mode, KillMode::process);
  EXPECT_EQ(web.depends_on, std::vector<std::string>{"db"});
  EXPECT_TRUE(web.critical);
  EXPECT_EQ(web.exit_code, 3);
  EXPECT_EQ(web.stdout_sink.kind, OutputSink::Kind::file);
  EXPECT_EQ(web.stdout_sink.path, (dir.path() / "logs/web.log").string());
  EXPECT_EQ(web.stdout_sink.max_size, 10'000'000u);
  EXPECT_EQ(web.stdout_sink.keep, 2);
  EXPECT_EQ(web.stderr_sink.kind, OutputSink::Kind::merge);
  EXPECT_TRUE(web.timestamps);
  EXPECT_EQ(web.log_buffer_size, 64u * 1024);
  ASSERT_EQ(web.rlimits.size(), 3u);  // in key order: core, nofile, nproc
  EXPECT_EQ(web.rlimits[0], (ResourceLimit{RLIMIT_CORE, RLIM_INFINITY, RLIM_INFINITY}));
  EXPECT_EQ(web.rlimits[1], (ResourceLimit{RLIMIT_NOFILE, 4096, 4096}));
  EXPECT_EQ(web.rlimits[2], (ResourceLimit{RLIMIT_NPROC, 10, RLIM_INFINITY}));

  EXPECT_EQ(web.instance_names(), (std::vector<std::string>{"web.0", "web.1", "web.2"}));
  EXPECT_EQ(db.instance_names(), std::vector<std::string>{"db"});
  EXPECT_EQ(c.instance_count(), 4);
  EXPECT_EQ(c.find("web"), &c.programs[1]);
  EXPECT_EQ(c.find("nope"), nullptr);
}

TEST(ConfigTest, UsersAndGroupsByNameOrId) {
  Config c = expect_ok(R"(
[program.a]
command = "true"
user = "nobody"
[program.b]
command = "true"
user = 0
[program.c]
command = "true"
group = "nogroup"
[program.d]
command = "true"
user = "65534"
group = 0
)");
  ASSERT_EQ(c.programs.size(), 4u);
  EXPECT_EQ(c.programs[0].run_as->uid, uid_t{65534});
  EXPECT_EQ(c.programs[0].run_as->gid, gid_t{65534});  // nobody's primary group
  EXPECT_FALSE(c.programs[0].run_as->groups.empty());
  EXPECT_EQ(c.programs[1].run_as->user, "root");
  EXPECT_EQ(c.programs[1].run_as->home, "/root");
  EXPECT_FALSE(c.programs[2].run_as);
  EXPECT_EQ(c.programs[2].group, gid_t{65534});
  EXPECT_EQ(c.programs[3].run_as->user, "nobody");
  EXPECT_EQ(c.programs[3].run_as->gid, gid_t{0});
}

TEST(ConfigTest, SizesModesSignalsAndLimits) {
  Config c = expect_ok(R"(
[program.a]
command = "true"
umask = "022"
stop-signal = "usr1"
log-buffer-size = 4096
stdout = { file = "/tmp/a.log", max-size = 0 }
stderr = { file = "/tmp/b.log", max-size = "1GiB", keep = 0 }
rlimits = { memlock = "64MiB", stack = { soft = "8MB", hard = "unlimited" }, nice = 0 }
[program.b]
command = "true"
umask = 0
stop-signal = "RTMIN+2"
log-buffer-size = "2 MB"
stdout = { file = "/tmp/c.log", max-size = "1kb" }
)");
  ASSERT_EQ(c.programs.size(), 2u);
  const ProgramConfig& a = c.programs[0];
  EXPECT_EQ(a.umask, mode_t{022});
  EXPECT_EQ(a.stop_signal, SIGUSR1);
  EXPECT_EQ(a.log_buffer_size, 4096u);
  EXPECT_EQ(a.stdout_sink.max_size, 0u);
  EXPECT_EQ(a.stdout_sink.keep, 10);
  EXPECT_EQ(a.stderr_sink.max_size, 1ull << 30);
  EXPECT_EQ(a.stderr_sink.keep, 0);
  ASSERT_EQ(a.rlimits.size(), 3u);
  EXPECT_EQ(a.rlimits[0], (ResourceLimit{RLIMIT_MEMLOCK, 64u << 20, 64u << 20}));
  EXPECT_EQ(a.rlimits[1], (ResourceLimit{RLIMIT_NICE, 0, 0}));
  EXPECT_EQ(a.rlimits[2], (ResourceLimit{RLIMIT_STACK, 8'000'000, RLIM_INFINITY}));
  const ProgramConfig& b = c.programs[1];
  EXPECT_EQ(b.umask, mode_t{0});
  EXPECT_EQ(b.stop_signal, SIGRTMIN + 2);
  EXPECT_EQ(b.log_buffer_size, 2'000'000u);
  EXPECT_EQ(b.stdout_sink.max_size, 1000u);
}

TEST(ConfigTest, EnumsPrintAsWritten) {
  EXPECT_EQ(to_string(RestartPolicy::on_failure), "on-failure");
  EXPECT_EQ(to_string(KillMode::cgroup), "cgroup");
  EXPECT_EQ(to_string(LogFormat::json), "json");
  EXPECT_EQ(to_string(LogLevel::warn), "warn");
}

// ---------------------------------------------------------------------------------------------
// ${VAR} expansion

TEST(ConfigTest, ExpandsVariablesInEveryStringValue) {
  auto env = env_of({{"APP", "/opt/app"}, {"PORT", "8080"}, {"EMPTY", ""}, {"RUN", "/run"}});
  Config c = expect_ok(R"(
[supervisor]
socket = "${RUN}/${NAME:-gardien}.sock"
[program.web]
command = ["${APP}/bin/web", "--port=${PORT}", "--mode=${MODE:-dev}", "--x=${EMPTY:-fallback}"]
directory = "${APP}"
environment = { URL = "http://localhost:${PORT}/", COST = "$$5", SHELL_VAR = "$HOME and $", NESTED = "${MISSING:-${PORT}}" }
stop-signal = "${SIG:-TERM}"
stop-timeout = "${STOP:-7s}"
[program.sh]
command = "echo $$HOME ${PORT}"
)",
                       env);
  const ProgramConfig& web = *c.find("web");
  EXPECT_EQ(c.supervisor.socket, "/run/gardien.sock");
  EXPECT_EQ(web.command, (std::vector<std::string>{"/opt/app/bin/web", "--port=8080", "--mode=dev",
                                                   "--x=fallback"}));
  EXPECT_EQ(web.directory, "/opt/app");
  EXPECT_EQ(web.environment.at("URL"), "http://localhost:8080/");
  EXPECT_EQ(web.environment.at("COST"), "$5");
  EXPECT_EQ(web.environment.at("SHELL_VAR"), "$HOME and $");
  EXPECT_EQ(web.environment.at("NESTED"), "8080");
  EXPECT_EQ(web.stop_signal, SIGTERM);
  EXPECT_EQ(web.stop_timeout, 7s);
  EXPECT_EQ(c.find("sh")->command[2], "echo $HOME 8080");
}

TEST(ConfigTest, UndefinedVariableIsAnErrorAtItsValue) {
  expect_errors(R"([program.web]
command = ["/bin/web", "--db=${DATABASE_URL}"]
)",
                {"test.toml:2:24: program.web.command[1]: ${DATABASE_URL} is not set in "
                 "gardien's environment when the config is loaded; set it, give a default "
                 "(${DATABASE_URL:-default}), or write $DATABASE_URL or $${DATABASE_URL} to leave "
                 "it to the program's shell"});
}

// The variables gardien sets for each program exist only in the program's environment.
TEST(ConfigTest, UndefinedInstanceVariableSaysHowToLeaveItToTheProgram) {
  expect_errors(R"([program.web]
command = "exec web --port-file=/run/${GARDIEN_INSTANCE}"
)",
                {"test.toml:2:11: program.web.command: ${GARDIEN_INSTANCE} is not set in "
                 "gardien's environment when the config is loaded (gardien sets it for each "
                 "program); set it, give a default (${GARDIEN_INSTANCE:-default}), or write "
                 "$GARDIEN_INSTANCE or $${GARDIEN_INSTANCE} to leave it to the program's shell"});
  Config c = expect_ok(R"([program.web]
command = "exec web --port-file=/run/$${GARDIEN_INSTANCE}"
)");
  ASSERT_EQ(c.programs.size(), 1u);
  EXPECT_EQ(c.programs[0].command[2], "exec web --port-file=/run/${GARDIEN_INSTANCE}");
}

// Written as compose writes them: the program sees the text.
TEST(ConfigTest, EnvironmentValuesMayBeIntegersOrBooleans) {
  Config c = expect_ok(R"([program.web]
command = "true"
environment = { PORT = 8080, DEBUG = true, QUIET = false, NAME = "web", NEG = -1 }
)");
  ASSERT_EQ(c.programs.size(), 1u);
  EXPECT_EQ(c.programs[0].environment, (std::map<std::string, std::string>{{"DEBUG", "true"},
                                                                           {"NAME", "web"},
                                                                           {"NEG", "-1"},
                                                                           {"PORT", "8080"},
                                                                           {"QUIET", "false"}}));
  expect_errors(R"([program.web]
command = "true"
environment = { RATIO = 0.5, LIST = [1] }
)",
                {"test.toml:3:25: program.web.environment.RATIO: expected a string, an integer or "
                 "true/false (write other values in quotes), got float 0.5",
                 "test.toml:3:37: program.web.environment.LIST: expected a string, an integer or "
                 "true/false (write other values in quotes), got an array"});
}

TEST(ConfigTest, DurationsTakeSpacesAndDaysAndSayOutOfRange) {
  Config c = expect_ok(R"([program.web]
command = "true"
stop-timeout = "10 s"
start-seconds = "1m 30s"
backoff-max = "2d"
)");
  ASSERT_EQ(c.programs.size(), 1u);
  EXPECT_EQ(c.programs[0].stop_timeout, 10s);
  EXPECT_EQ(c.programs[0].start_seconds, 90s);
  EXPECT_EQ(c.programs[0].backoff_max, 48h);
  expect_errors(R"([program.web]
command = "true"
stop-timeout = "9999999999h"
)",
                {"test.toml:3:16: program.web.stop-timeout: duration out of range: at most about "
                 "35,000 years, got \"9999999999h\""});
}

TEST(ConfigTest, MalformedVariableReferenceIsAnError) {
  expect_errors(R"([program.web]
command = "echo ${PORT"
environment = { A = "${1X}", B = "${X-y}" }
)",
                {"test.toml:2:11: program.web.command: malformed variable reference \"${PORT\": "
                 "write ${NAME} or ${NAME:-default}, and $$ for a literal $",
                 "test.toml:3:21: program.web.environment.A: malformed variable reference "
                 "\"${1X}\": write ${NAME} or ${NAME:-default}, and $$ for a literal $",
                 "test.toml:3:34: program.web.environment.B: malformed variable reference "
                 "\"${X-y}\": write ${NAME} or ${NAME:-default}, and $$ for a literal $"});
}

// ---------------------------------------------------------------------------------------------
// One test per error class

TEST(ConfigTest, TomlSyntaxError) {
  LoadResult r = load("[program.web]\ncommand = [\"a\",\n  oops\n");
  ASSERT_EQ(r.diagnostics.size(), 1u);
  const Diagnostic& d = r.diagnostics[0];
  EXPECT_EQ(d.file, "test.toml");
  EXPECT_EQ(d.line, 3);
  EXPECT_EQ(d.column, 3);
  EXPECT_NE(d.message.find("invalid TOML: "), std::string::npos) << d.message;
  EXPECT_FALSE(r.ok());
}

TEST(ConfigTest, UnknownKeyWithSuggestion) {
  expect_errors(R"([supervisor]
shutdown-timout = "10s"
[program.web]
command = "true"
stop_timeout = "5s"
[programs.x]
)",
                {"test.toml:2:1: supervisor.shutdown-timout: unknown key; did you mean "
                 "\"shutdown-timeout\"?",
                 "test.toml:5:1: program.web.stop_timeout: unknown key; did you mean "
                 "\"stop-timeout\"?",
                 "test.toml:6:2: programs: unknown key; did you mean \"program\"?"});
}

TEST(ConfigTest, UnknownKeyWithoutSuggestion) {
  expect_errors(R"([supervisor]
colour = "blue"
[program.web]
command = "true"
frobnicate = true
)",
                {"test.toml:2:1: supervisor.colour: unknown key; expected one of \"socket\", "
                 "\"socket-mode\", \"socket-group\", \"socket-readers\", \"log-level\", "
                 "\"log-format\", \"shutdown-timeout\", \"max-concurrent-jobs\", "
                 "\"max-queued-jobs\", \"state-dir\" or \"include\"",
                 "test.toml:5:1: program.web.frobnicate: unknown key; see docs/config.md for the "
                 "keys of this table"});
}

TEST(ConfigTest, WrongTypesAreErrorsNeverDefaults) {
  expect_errors(R"([program.web]
command = 42
autostart = "yes"
instances = "3"
environment = ["A=B"]
depends-on = "db"
critical = 1
success-exit-codes = 0
)",
                {"test.toml:2:11: program.web.command: expected an array like [\"/usr/bin/app\", "
                 "\"--flag\"] or a shell command string, got integer 42",
                 "test.toml:3:13: program.web.autostart: expected true or false, got string "
                 "\"yes\"",
                 "test.toml:4:13: program.web.instances: expected an integer 1..1000, got string "
                 "\"3\"",
                 "test.toml:5:15: program.web.environment: expected a table like { NAME = "
                 "\"value\" }, got an array",
                 "test.toml:6:14: program.web.depends-on: expected an array of program names like "
                 "[\"db\"] or a table of conditions like { db = \"started\" }, got string \"db\"; "
                 "write depends-on = [\"db\"]",
                 "test.toml:7:12: program.web.critical: expected true or false, got integer 1",
                 "test.toml:8:22: program.web.success-exit-codes: expected an array of exit codes "
                 "like [0, 2], got integer 0"});
}

TEST(ConfigTest, BadDuration) {
  expect_errors(R"([program.web]
command = "true"
stop-timeout = 10
start-seconds = "10 seconds"
)",
                {"test.toml:3:16: program.web.stop-timeout: expected a duration like \"10s\", got "
                 "integer 10",
                 "test.toml:4:17: program.web.start-seconds: expected a duration like \"10s\", "
                 "\"250ms\" or \"1m30s\" (units ms, s, m, h, d), got \"10 seconds\""});
}

TEST(ConfigTest, BadSignal) {
  expect_errors(R"([program.web]
command = "true"
stop-signal = "TERMINATE"
[program.db]
command = "true"
stop-signal = 99
)",
                {"test.toml:3:15: program.web.stop-signal: expected a signal like \"TERM\", "
                 "\"SIGTERM\" or 15, got string \"TERMINATE\"",
                 "test.toml:6:15: program.db.stop-signal: expected a signal like \"TERM\", "
                 "\"SIGTERM\" or 15, got integer 99"});
}

TEST(ConfigTest, ReloadSignalIsReadLikeStopSignal) {
  Config c = expect_ok(R"(
[program.a]
command = "true"
reload-signal = "usr2"
[program.b]
command = "true"
reload-signal = 10
[program.c]
command = "true"
reload-signal = "SIGRTMIN+1"
)");
  ASSERT_EQ(c.programs.size(), 3u);
  EXPECT_EQ(c.programs[0].reload_signal, SIGUSR2);
  EXPECT_EQ(c.programs[1].reload_signal, 10);
  EXPECT_EQ(c.programs[2].reload_signal, SIGRTMIN + 1);
  EXPECT_EQ(c.programs[0].stop_signal, SIGTERM) << "each signal has its own key";
}

TEST(ConfigTest, BadReloadSignal) {
  expect_errors(R"([program.web]
command = "true"
reload-signal = "RELOAD"
[program.db]
command = "true"
reload-signal = 0
[program.kv]
command = "true"
reload_signal = "HUP"
)",
                {"test.toml:3:17: program.web.reload-signal: expected a signal like \"TERM\", "
                 "\"SIGTERM\" or 15, got string \"RELOAD\"",
                 "test.toml:6:17: program.db.reload-signal: expected a signal like \"TERM\", "
                 "\"SIGTERM\" or 15, got integer 0",
                 "test.toml:9:1: program.kv.reload_signal: unknown key; did you mean "
                 "\"reload-signal\"?"});
}

TEST(ConfigTest, ChangingTheReloadSignalIsAChange) {
  Config a = expect_ok("[program.web]\ncommand = \"true\"\n");
  Config b = expect_ok("[program.web]\ncommand = \"true\"\nreload-signal = \"USR1\"\n");
  EXPECT_NE(a.programs[0], b.programs[0]) << "a reload restarts it with the new signal";
}

TEST(ConfigTest, BadOctalMode) {
  expect_errors(R"([supervisor]
socket-mode = 660
[program.web]
command = "true"
umask = "0999"
[program.db]
command = "true"
umask = 0o1777
)",
                {"test.toml:2:15: supervisor.socket-mode: expected an octal mode like \"0640\" or "
                 "0o640, got decimal integer 660 (octal needs a 0o prefix or quotes)",
                 "test.toml:5:9: program.web.umask: expected an octal mode like \"0640\" or 0o640, "
                 "got string \"0999\"",
                 "test.toml:8:9: program.db.umask: expected an octal mode from 0 to 0777, got "
                 "0o1777"});
}

TEST(ConfigTest, BadSize) {
  expect_errors(R"([program.web]
command = "true"
log-buffer-size = "10 parsecs"
stdout = { file = "/tmp/x", max-size = -1 }
)",
                {"test.toml:3:19: program.web.log-buffer-size: expected a size like \"50MB\", "
                 "\"1MiB\" or a number of bytes (units B, KB, MB, GB, KiB, MiB, GiB), got \"10 "
                 "parsecs\"",
                 "test.toml:4:40: program.web.stdout.max-size: expected a size like \"50MB\", "
                 "\"1MiB\" or a number of bytes, got integer -1"});
}

TEST(ConfigTest, OutOfRangeNumbers) {
  expect_errors(R"([program.web]
command = "true"
instances = 1001
start-retries = -1
exit-code = 256
critical = true
success-exit-codes = [0, 300]
)",
                {"test.toml:3:13: program.web.instances: expected an integer 1..1000, got 1001",
                 "test.toml:4:17: program.web.start-retries: expected an integer 0..1000000, got "
                 "-1",
                 "test.toml:5:13: program.web.exit-code: expected an integer 0..255, got 256",
                 "test.toml:7:26: program.web.success-exit-codes[1]: expected an integer 0..255, "
                 "got 300"});
}

TEST(ConfigTest, EnumValueWithSuggestion) {
  expect_errors(R"([program.web]
command = "true"
restart = "on_failure"
kill-mode = "everything"
)",
                {"test.toml:3:11: program.web.restart: expected one of \"always\", \"on-failure\" "
                 "or \"never\", got \"on_failure\"; did you mean \"on-failure\"?",
                 "test.toml:4:13: program.web.kill-mode: expected one of \"group\", \"process\" "
                 "or \"cgroup\", got \"everything\""});
}

TEST(ConfigTest, UnknownUserAndGroup) {
  expect_errors(R"([supervisor]
socket-group = "no-such-group-x"
[program.web]
command = "true"
user = "no-such-user-x"
group = 4000000000
)",
                {"test.toml:2:16: supervisor.socket-group: unknown group \"no-such-group-x\" (not "
                 "in the group database: create it or use another group)",
                 "test.toml:5:8: program.web.user: unknown user \"no-such-user-x\" (not in the "
                 "password database: create it or use another user)",
                 "test.toml:6:9: program.web.group: unknown group \"4000000000\" (not in the group "
                 "database: create it or use another group)"});
}

TEST(ConfigTest, NumericIdsNeverWrapAround) {
  // 2^32 would wrap to uid 0 (root) if it were truncated.
  expect_errors(R"([program.web]
command = "true"
user = "4294967296"
group = -1
)",
                {"test.toml:3:8: program.web.user: unknown user \"4294967296\" (not in the "
                 "password database: create it or use another user)",
                 "test.toml:4:9: program.web.group: expected a group name or numeric id, got "
                 "integer -1"});
}

TEST(ConfigTest, HostileStrings) {
  expect_errors(R"([program.web]
command = ["/bin/echo", "a\u0000b"]
environment = { X = "${A:-${B:-${C:-${D:-${E:-${F:-${G:-${H:-${I:-${J:-x}}}}}}}}}}" }
)",
                {"test.toml:2:25: program.web.command[1]: a NUL character cannot be passed to a "
                 "program; remove the \\u0000",
                 "test.toml:3:21: program.web.environment.X: variable defaults nested more than 8 "
                 "deep; simplify the value"});
}

TEST(ConfigTest, OutputSinks) {
  expect_errors(
      R"([program.web]
command = "true"
stdout = "stdout"
stderr = "/var/log/web.log"
[program.db]
command = "true"
stdout = "nul"
stderr = { max-size = "1MB", rotate = 3 }
)",
      {"test.toml:3:10: program.web.stdout: expected one of \"prefix\", \"inherit\" or "
       "\"null\", or a table like { file = \"PATH\" }, got \"stdout\"; \"stdout\" is only "
       "valid for stderr (merging it into stdout)",
       "test.toml:4:10: program.web.stderr: expected one of \"prefix\", \"inherit\", "
       "\"null\" or \"stdout\", or a table like { file = \"PATH\" }, got "
       "\"/var/log/web.log\"; for a file write { file = \"/var/log/web.log\" }",
       "test.toml:7:10: program.db.stdout: expected one of \"prefix\", \"inherit\" or "
       "\"null\", or a table like { file = \"PATH\" }, got \"nul\"; did you mean "
       "\"null\"?",
       "test.toml:8:10: program.db.stderr: missing key \"file\": the log file's path, "
       "e.g. { file = \"/var/log/app.log\" }",
       "test.toml:8:30: program.db.stderr.rotate: unknown key; expected one of \"file\", "
       "\"max-size\" or \"keep\""});
}

TEST(ConfigTest, RlimitErrors) {
  expect_errors(R"([program.web]
command = "true"
rlimits = { nofile = { soft = 4096, hard = 1024 }, cpu = "1MiB", cores = 10, nproc = { soft = 1 } }
)",
                {"test.toml:3:31: program.web.rlimits.nofile.soft: the soft limit is above the "
                 "hard limit; make soft <= hard",
                 "test.toml:3:58: program.web.rlimits.cpu: expected an integer or \"unlimited\", "
                 "got string \"1MiB\"",
                 "test.toml:3:66: program.web.rlimits.cores: unknown key; did you mean "
                 "\"core\"?",
                 "test.toml:3:86: program.web.rlimits.nproc: expected both soft and hard, like { "
                 "soft = 1024, hard = 4096 }"});
}

TEST(ConfigTest, BackoffMaxBelowBackoff) {
  expect_errors(R"([program.web]
command = "true"
backoff = "10s"
backoff-max = "5s"
[program.db]
command = "true"
backoff = "1m"
)",
                {"test.toml:4:15: program.web.backoff-max: backoff-max (5s) is shorter than "
                 "backoff (10s); make backoff-max >= backoff",
                 "test.toml:7:11: program.db.backoff: backoff-max (30s) is shorter than backoff "
                 "(1m); make backoff-max >= backoff"});
}

TEST(ConfigTest, CommandAndProgramShape) {
  expect_errors(R"([program.empty]
command = []
[program.blank]
command = "  "
[program.nocommand]
directory = "/tmp"
[program."has space"]
command = "true"
[program.flat]
)"
                R"([program.x]
command = ["", "-v"]
[program.mixed]
command = ["/bin/echo", 1]
)",
                {"test.toml:2:11: program.empty.command: expected a non-empty array like "
                 "[\"/usr/bin/app\", \"--flag\"], got an empty array",
                 "test.toml:4:11: program.blank.command: expected a command, got an empty string",
                 "test.toml:5:10: program.nocommand: missing key \"command\": the program to run, "
                 "e.g. command = [\"/usr/bin/app\", \"--flag\"]",
                 "test.toml:7:10: program.has space: invalid program name \"has space\": use "
                 "letters, digits, '_' and '-' (at most 64 characters)",
                 "test.toml:9:10: program.flat: missing key \"command\": the program to run, e.g. "
                 "command = [\"/usr/bin/app\", \"--flag\"]",
                 "test.toml:11:11: program.x.command: the program to run (the first element) is an "
                 "empty string",
                 "test.toml:13:25: program.mixed.command[1]: expected a string, got integer 1"});
  auto named = [](std::size_t length) {
    std::string text = "[program.";
    text += std::string(length, 'a');
    text += "]\ncommand = \"true\"\n";
    return text;
  };
  LoadResult r = load(named(65));
  ASSERT_EQ(r.diagnostics.size(), 1u);
  EXPECT_NE(r.diagnostics[0].message.find("at most 64 characters"), std::string::npos);
  EXPECT_TRUE(load(named(64)).ok());
}

// `all` and globs name programs on gardienctl's command line: no program may be called so.
TEST(ConfigTest, ReservedAndGlobProgramNamesAreRefused) {
  expect_errors(R"([program.all]
command = "true"
[program."web*"]
command = "true"
[program."w?b"]
command = "true"
[program."[ab]"]
command = "true"
)",
                {"test.toml:1:10: program.all: the program name \"all\" is reserved (gardienctl's "
                 "`all` names every program); pick another name",
                 "test.toml:3:10: program.web*: invalid program name \"web*\": use letters, "
                 "digits, '_' and '-' (at most 64 characters)",
                 "test.toml:5:10: program.w?b: invalid program name \"w?b\": use letters, digits, "
                 "'_' and '-' (at most 64 characters)",
                 "test.toml:7:10: program.[ab]: invalid program name \"[ab]\": use letters, "
                 "digits, '_' and '-' (at most 64 characters)"});
  expect_ok("[program.all-web]\ncommand = \"true\"\n[program.ALL]\ncommand = \"true\"\n");
}

TEST(ConfigTest, DependsOnMissingProgram) {
  expect_errors(R"([program.web]
command = "true"
depends-on = ["dbb", "cache.0", "web2"]
[program.db]
command = "true"
[program.cache]
command = "true"
instances = 2
)",
                {"test.toml:3:15: program.web.depends-on: no program named \"dbb\"; did you mean "
                 "\"db\"?",
                 "test.toml:3:22: program.web.depends-on: no program named \"cache.0\"; depends-on "
                 "names programs, not instances: write \"cache\"",
                 "test.toml:3:33: program.web.depends-on: no program named \"web2\""});
}

TEST(ConfigTest, DependencyCyclesPrintTheCycleOnce) {
  expect_errors(R"([program.a]
command = "true"
depends-on = ["b"]
[program.b]
command = "true"
depends-on = ["c"]
[program.c]
command = "true"
depends-on = ["a"]
[program.self]
command = "true"
depends-on = ["self"]
)",
                {"test.toml:3:15: program.a.depends-on: dependency cycle: a -> b -> c -> a",
                 "test.toml:12:15: program.self.depends-on: dependency cycle: self -> self"});
}

TEST(ConfigTest, DependsOnAnInvalidProgramIsNotReportedAsMissing) {
  LoadResult r = load(R"([program.web]
command = "true"
depends-on = ["db"]
[program.db]
command = 1
)");
  EXPECT_EQ(messages(r), std::vector<std::string>{"test.toml:5:11: program.db.command: expected an "
                                                  "array like [\"/usr/bin/app\", \"--flag\"] or a "
                                                  "shell command string, got integer 1"});
}

TEST(ConfigTest, DependsOnTableKeepsTheOrderWrittenAndEachCondition) {
  Config c = expect_ok(R"([program.web]
command = "true"
depends-on = { migrate = "completed", db = "ready", cache = "started" }
[program.db]
command = "true"
[program.migrate]
command = "true"
[program.cache]
command = "true"
)");
  ASSERT_EQ(c.programs.size(), 4u);
  const ProgramConfig& web = *c.find("web");
  EXPECT_EQ(web.depends_on, (std::vector<std::string>{"migrate", "db", "cache"}));
  EXPECT_EQ(web.dependency_conditions, (std::map<std::string, DependencyCondition>{
                                           {"cache", DependencyCondition::started},
                                           {"migrate", DependencyCondition::completed}}));
  EXPECT_EQ(web.condition_on("migrate"), DependencyCondition::completed);
  EXPECT_EQ(web.condition_on("db"), DependencyCondition::ready);
  EXPECT_EQ(web.condition_on("cache"), DependencyCondition::started);
}

TEST(ConfigTest, DependsOnArrayMeansReadyAndATableMayBeWrittenOnLines) {
  Config c = expect_ok(R"([program.web]
command = "true"
depends-on = ["db", "cache"]
[program.api]
command = "true"
depends-on.db = "ready"
depends-on.cache = "started"
[program.worker]
command = "true"
[program.worker.depends-on]
web = "started"
api = "completed"
[program.db]
command = "true"
[program.cache]
command = "true"
)");
  ASSERT_EQ(c.programs.size(), 5u);
  const ProgramConfig& web = *c.find("web");
  EXPECT_EQ(web.depends_on, (std::vector<std::string>{"db", "cache"}));
  EXPECT_TRUE(web.dependency_conditions.empty());
  EXPECT_EQ(web.condition_on("db"), DependencyCondition::ready);
  EXPECT_EQ(web.condition_on("cache"), DependencyCondition::ready);
  const ProgramConfig& api = *c.find("api");
  EXPECT_EQ(api.depends_on, (std::vector<std::string>{"db", "cache"}));
  EXPECT_EQ(api.dependency_conditions,
            (std::map<std::string, DependencyCondition>{{"cache", DependencyCondition::started}}));
  const ProgramConfig& worker = *c.find("worker");
  EXPECT_EQ(worker.depends_on, (std::vector<std::string>{"web", "api"}));
  EXPECT_EQ(worker.condition_on("api"), DependencyCondition::completed);
  EXPECT_TRUE(expect_ok("[program.web]\ncommand = \"true\"\ndepends-on = {}\n")
                  .programs[0]
                  .depends_on.empty());
}

TEST(ConfigTest, DependsOnTableRefusesAnUnknownConditionOrAValueThatIsNotAString) {
  expect_errors(R"([program.web]
command = "true"
depends-on = { db = "redy", cache = 1, queue = "healthy" }
[program.db]
command = "true"
[program.cache]
command = "true"
[program.queue]
command = "true"
)",
                {"test.toml:3:21: program.web.depends-on.db: expected one of \"started\", "
                 "\"ready\" or \"completed\", got \"redy\"; did you mean \"ready\"?",
                 "test.toml:3:37: program.web.depends-on.cache: expected one of \"started\", "
                 "\"ready\" or \"completed\", got integer 1",
                 "test.toml:3:48: program.web.depends-on.queue: expected one of \"started\", "
                 "\"ready\" or \"completed\", got \"healthy\""});
}

TEST(ConfigTest, DependsOnTableNamesMissingProgramsAndCyclesAtTheEntry) {
  expect_errors(R"([program.web]
command = "true"
depends-on = { dbb = "ready", "cache.0" = "started" }
[program.db]
command = "true"
[program.cache]
command = "true"
instances = 2
[program.a]
command = "true"
depends-on = { b = "completed" }
[program.b]
command = "true"
depends-on = { a = "ready" }
)",
                {"test.toml:3:16: program.web.depends-on: no program named \"dbb\"; did you mean "
                 "\"db\"?",
                 "test.toml:3:31: program.web.depends-on: no program named \"cache.0\"; depends-on "
                 "names programs, not instances: write \"cache\"",
                 "test.toml:11:16: program.a.depends-on: dependency cycle: a -> b -> a"});
}

// The reload diff compares whole programs: a changed condition is a changed program.
TEST(ConfigTest, DependencyConditionsTakePartInTheProgramComparison) {
  auto web_with = [](std::string_view depends_on) {
    std::string text = "[program.web]\ncommand = \"true\"\ndepends-on = ";
    text += depends_on;
    text += "\n[program.db]\ncommand = \"true\"\n";
    Config c = expect_ok(text);
    return c.programs.empty() ? ProgramConfig{} : *c.find("web");
  };
  EXPECT_EQ(web_with(R"(["db"])"), web_with(R"({ db = "ready" })"));
  EXPECT_NE(web_with(R"(["db"])"), web_with(R"({ db = "started" })"));
  EXPECT_NE(web_with(R"({ db = "ready" })"), web_with(R"({ db = "completed" })"));
}

// ---------------------------------------------------------------------------------------------
// Checks: ready, ready-timeout, health, watchdog, health-restarts

TEST(ConfigTest, ReadyTakesEveryKindWithItsDefaults) {
  Config c = expect_ok(R"([program.notify]
command = "true"
ready = "notify"
[program.fd]
command = "true"
ready = { fd = 3 }
[program.tcp]
command = "true"
ready = { tcp = "127.0.0.1:5432" }
[program.tcp6]
command = "true"
ready = { tcp = "[::1]:80" }
[program.local]
command = "true"
ready = { tcp = "localhost:6379" }
[program.http]
command = "true"
ready = { http = "http://127.0.0.1:8080/healthz" }
[program.exec]
command = "true"
ready = { exec = ["pg_isready", "-q"] }
[program.shell]
command = "true"
ready = { exec = "test -S /run/app.sock" }
[program.file]
command = "true"
ready = { file = "/run/app/ready" }
)");
  using Kind = ProbeConfig::Kind;
  auto ready_of = [&](std::string_view name) {
    const ProgramConfig* p = c.find(name);
    EXPECT_TRUE(p && p->ready) << name;
    return p && p->ready ? *p->ready : ProbeConfig{};
  };
  EXPECT_EQ(ready_of("notify").kind, Kind::notify);
  EXPECT_TRUE(c.find("notify")->uses_notify_socket());
  EXPECT_EQ(ready_of("fd").kind, Kind::fd);
  EXPECT_EQ(ready_of("fd").fd, 3);
  EXPECT_FALSE(c.find("fd")->uses_notify_socket());
  EXPECT_EQ(ready_of("tcp").kind, Kind::tcp);
  EXPECT_EQ(ready_of("tcp").target, "127.0.0.1:5432");
  EXPECT_EQ(ready_of("tcp6").target, "[::1]:80");
  EXPECT_EQ(ready_of("local").target, "localhost:6379");
  EXPECT_EQ(ready_of("http").kind, Kind::http);
  EXPECT_EQ(ready_of("http").target, "http://127.0.0.1:8080/healthz");
  EXPECT_EQ(ready_of("exec").kind, Kind::exec);
  EXPECT_EQ(ready_of("exec").command, (std::vector<std::string>{"pg_isready", "-q"}));
  EXPECT_EQ(ready_of("shell").command,
            (std::vector<std::string>{"/bin/sh", "-c", "test -S /run/app.sock"}));
  EXPECT_EQ(ready_of("file").kind, Kind::file);
  EXPECT_EQ(ready_of("file").target, "/run/app/ready");
  for (const ProgramConfig& p : c.programs) {
    SCOPED_TRACE(p.name);
    EXPECT_EQ(p.ready_timeout, 60s);
    ASSERT_TRUE(p.ready);
    EXPECT_EQ(p.ready->period, 1s);
    EXPECT_EQ(p.ready->timeout, 1s);
    EXPECT_FALSE(p.health);
  }
}

TEST(ConfigTest, ReadyTimingAndReadyTimeout) {
  Config c = expect_ok(R"([program.web]
command = "true"
ready = { http = "http://[::1]:8080", period = "250ms", timeout = "2s" }
ready-timeout = "2m"
[program.slow]
command = "true"
ready = { http = "http://localhost/" }
ready-timeout = "0"
)");
  const ProgramConfig& web = *c.find("web");
  ASSERT_TRUE(web.ready);
  EXPECT_EQ(web.ready->target, "http://[::1]:8080");
  EXPECT_EQ(web.ready->period, 250ms);
  EXPECT_EQ(web.ready->timeout, 2s);
  EXPECT_EQ(web.ready_timeout, 120s);
  EXPECT_EQ(c.find("slow")->ready_timeout, 0s);  // no limit
}

TEST(ConfigTest, HealthWatchdogAndHealthRestarts) {
  Config c = expect_ok(R"([program.web]
command = "true"
health = { http = "http://127.0.0.1:8080/healthz" }
[program.api]
command = "true"
health = { tcp = "127.0.0.1:9000", period = "5s", timeout = "2s", failure-threshold = 1, start-period = "30s" }
health-restarts = 0
[program.kv]
command = "true"
ready = "notify"
watchdog = "30s"
health-restarts = 2
)");
  const ProgramConfig& web = *c.find("web");
  ASSERT_TRUE(web.health);
  EXPECT_EQ(web.health->kind, ProbeConfig::Kind::http);
  EXPECT_EQ(web.health->period, 10s);
  EXPECT_EQ(web.health->timeout, 1s);
  EXPECT_EQ(web.health->failure_threshold, 3);
  EXPECT_EQ(web.health->start_period, 0s);
  EXPECT_EQ(web.health_restarts, 5);
  EXPECT_FALSE(web.ready);
  EXPECT_FALSE(web.uses_notify_socket());
  const ProgramConfig& api = *c.find("api");
  ASSERT_TRUE(api.health);
  EXPECT_EQ(api.health->kind, ProbeConfig::Kind::tcp);
  EXPECT_EQ(api.health->period, 5s);
  EXPECT_EQ(api.health->timeout, 2s);
  EXPECT_EQ(api.health->failure_threshold, 1);
  EXPECT_EQ(api.health->start_period, 30s);
  EXPECT_EQ(api.health_restarts, 0);
  const ProgramConfig& kv = *c.find("kv");
  EXPECT_EQ(kv.watchdog, 30s);
  EXPECT_EQ(kv.health_restarts, 2);
  EXPECT_TRUE(kv.uses_notify_socket());
  // A watchdog alone gives the program a notify socket too.
  Config alone = expect_ok("[program.kv]\ncommand = \"true\"\nwatchdog = \"1m\"\n");
  EXPECT_TRUE(alone.programs.at(0).uses_notify_socket());
  EXPECT_FALSE(alone.programs.at(0).ready);
}

TEST(ConfigTest, ChecksExpandVariables) {
  Config c = expect_ok(R"([program.web]
command = "true"
ready = { tcp = "127.0.0.1:${PORT}" }
health = { exec = ["${BIN:-/usr/bin}/check", "${PORT}"], period = "${PERIOD}" }
[program.db]
command = "true"
ready = { file = "${RUN}/ready" }
)",
                       env_of({{"PORT", "8080"}, {"PERIOD", "3s"}, {"RUN", "/run/db"}}));
  const ProgramConfig& web = *c.find("web");
  ASSERT_TRUE(web.ready && web.health);
  EXPECT_EQ(web.ready->target, "127.0.0.1:8080");
  EXPECT_EQ(web.health->command, (std::vector<std::string>{"/usr/bin/check", "8080"}));
  EXPECT_EQ(web.health->period, 3s);
  ASSERT_TRUE(c.find("db")->ready);
  EXPECT_EQ(c.find("db")->ready->target, "/run/db/ready");
}

// The reload diff compares whole programs: a changed check is a changed program.
TEST(ConfigTest, ChecksTakePartInTheProgramComparison) {
  auto web_with = [](std::string_view keys) {
    std::string text = "[program.web]\ncommand = \"true\"\n";
    text += keys;
    Config c = expect_ok(text);
    return c.programs.empty() ? ProgramConfig{} : c.programs[0];
  };
  EXPECT_EQ(web_with("ready = { fd = 3 }\n"), web_with("ready = { fd = 3 }\n"));
  EXPECT_NE(web_with("ready = { fd = 3 }\n"), web_with("ready = { fd = 4 }\n"));
  EXPECT_NE(web_with(""), web_with("ready = \"notify\"\n"));
  EXPECT_NE(web_with("health = { tcp = \"127.0.0.1:1\" }\n"),
            web_with("health = { tcp = \"127.0.0.1:1\", failure-threshold = 4 }\n"));
  EXPECT_NE(web_with(""), web_with("watchdog = \"10s\"\n"));
}

TEST(ConfigTest, ReadyShapeErrors) {
  expect_errors(
      R"([program.a]
command = "true"
ready = "notfy"
[program.b]
command = "true"
ready = "tcp"
[program.c]
command = "true"
ready = 3
[program.d]
command = "true"
ready = { tcp = "127.0.0.1:1", http = "http://127.0.0.1/" }
[program.e]
command = "true"
ready = { period = "1s" }
[program.f]
command = "true"
ready = { tpc = "127.0.0.1:1" }
[program.g]
command = "true"
ready = { fd = 3, colour = "blue" }
[program.h]
command = "true"
ready = { tcp = "127.0.0.1:1", failure-threshold = 2 }
)",
      {"test.toml:3:9: program.a.ready: expected \"notify\" or a table with one of \"fd\", "
       "\"tcp\", \"http\", \"exec\" or \"file\", like { tcp = \"127.0.0.1:5432\" }, got \"notfy\"; "
       "did you mean \"notify\"?",
       "test.toml:6:9: program.b.ready: expected \"notify\" or a table with one of \"fd\", "
       "\"tcp\", \"http\", \"exec\" or \"file\", like { tcp = \"127.0.0.1:5432\" }, got \"tcp\"; "
       "write ready = { tcp = \"127.0.0.1:5432\" }",
       "test.toml:9:9: program.c.ready: expected \"notify\" or a table with one of \"fd\", "
       "\"tcp\", \"http\", \"exec\" or \"file\", like { tcp = \"127.0.0.1:5432\" }, got integer 3",
       "test.toml:12:39: program.d.ready.http: a check has one kind, and \"tcp\" is set too; keep "
       "one",
       "test.toml:15:9: program.e.ready: missing the kind of check: one of \"fd\", \"tcp\", "
       "\"http\", \"exec\" or \"file\", like { tcp = \"127.0.0.1:5432\" }",
       "test.toml:18:11: program.f.ready.tpc: unknown key; did you mean \"tcp\"? (valid keys: "
       "\"fd\", \"tcp\", \"http\", \"exec\", \"file\", \"period\" or \"timeout\")",
       "test.toml:21:19: program.g.ready.colour: unknown key; expected one of \"fd\", \"tcp\", "
       "\"http\", \"exec\", \"file\", \"period\" or \"timeout\"",
       "test.toml:24:52: program.h.ready.failure-threshold: failure-threshold is a health key: a "
       "ready check is tried every period until it passes or ready-timeout ends the start"});
}

TEST(ConfigTest, ReadyTargetErrors) {
  expect_errors(
      R"([program.a]
command = "true"
ready = { fd = 2 }
[program.b]
command = "true"
ready = { fd = 1024 }
[program.c]
command = "true"
ready = { fd = "3" }
[program.d]
command = "true"
ready = { tcp = "127.0.0.1" }
[program.e]
command = "true"
ready = { tcp = "db.internal:5432" }
[program.f]
command = "true"
ready = { tcp = "::1:80" }
[program.g]
command = "true"
ready = { tcp = "127.0.0.1:0" }
[program.h]
command = "true"
ready = { tcp = "127.0.0.1:65536" }
[program.i]
command = "true"
ready = { tcp = "[::g]:80" }
[program.j]
command = "true"
ready = { http = "https://127.0.0.1/healthz" }
[program.k]
command = "true"
ready = { http = "ftp://127.0.0.1/" }
[program.l]
command = "true"
ready = { http = "http://example.com/healthz" }
[program.m]
command = "true"
ready = { http = "http://127.0.0.1:http/" }
[program.n]
command = "true"
ready = { http = "http://127.0.0.1/a b" }
[program.o]
command = "true"
ready = { file = "run/ready" }
[program.p]
command = "true"
ready = { exec = [] }
[program.q]
command = "true"
ready = { exec = " " }
[program.r]
command = "true"
ready = { tcp = 5432 }
)",
      {"test.toml:3:16: program.a.ready.fd: fd 2 is one of the program's stdin, stdout and stderr "
       "(0, 1, 2); use 3 or above (s6 programs usually write to 3)",
       "test.toml:6:16: program.b.ready.fd: expected a file descriptor from 3 to 1023, got 1024",
       "test.toml:9:16: program.c.ready.fd: expected a file descriptor number like 3, got string "
       "\"3\"",
       "test.toml:12:17: program.d.ready.tcp: expected HOST:PORT like \"127.0.0.1:5432\" or "
       "\"[::1]:5432\", got \"127.0.0.1\": the port is missing, as in \"127.0.0.1:5432\"",
       "test.toml:15:17: program.e.ready.tcp: expected HOST:PORT like \"127.0.0.1:5432\" or "
       "\"[::1]:5432\", got \"db.internal:5432\": \"db.internal\" is not an IP address: write a "
       "numeric one (\"127.0.0.1\", \"[::1]\") or \"localhost\" (checks do not look names up)",
       "test.toml:18:17: program.f.ready.tcp: expected HOST:PORT like \"127.0.0.1:5432\" or "
       "\"[::1]:5432\", got \"::1:80\": an IPv6 address goes in brackets: write \"[::1]:80\"",
       "test.toml:21:17: program.g.ready.tcp: expected HOST:PORT like \"127.0.0.1:5432\" or "
       "\"[::1]:5432\", got \"127.0.0.1:0\": the port must be a number from 1 to 65535, got \"0\"",
       "test.toml:24:17: program.h.ready.tcp: expected HOST:PORT like \"127.0.0.1:5432\" or "
       "\"[::1]:5432\", got \"127.0.0.1:65536\": the port must be a number from 1 to 65535, got "
       "\"65536\"",
       "test.toml:27:17: program.i.ready.tcp: expected HOST:PORT like \"127.0.0.1:5432\" or "
       "\"[::1]:5432\", got \"[::g]:80\": \"::g\" is not an IPv6 address",
       "test.toml:30:18: program.j.ready.http: https is not supported: gardien has no TLS library; "
       "check a plain http port (a health endpoint on 127.0.0.1), or run a client: { exec = "
       "[\"curl\", \"-fsS\", \"https://127.0.0.1/healthz\"] }",
       "test.toml:33:18: program.k.ready.http: expected a URL like "
       "\"http://127.0.0.1:8080/healthz\", got \"ftp://127.0.0.1/\": the URL must start with "
       "http://",
       "test.toml:36:18: program.l.ready.http: expected a URL like "
       "\"http://127.0.0.1:8080/healthz\", got \"http://example.com/healthz\": \"example.com\" is "
       "not an IP address: write a numeric one (\"127.0.0.1\", \"[::1]\") or \"localhost\" (checks "
       "do not look names up)",
       "test.toml:39:18: program.m.ready.http: expected a URL like "
       "\"http://127.0.0.1:8080/healthz\", got \"http://127.0.0.1:http/\": the port must be a "
       "number from 1 to 65535, got \"http\"",
       "test.toml:42:18: program.n.ready.http: expected a URL like "
       "\"http://127.0.0.1:8080/healthz\", got \"http://127.0.0.1/a b\": the path may not contain "
       "spaces or control characters; percent-encode them",
       "test.toml:45:18: program.o.ready.file: expected an absolute path like \"/run/app/ready\", "
       "got \"run/ready\"",
       "test.toml:48:18: program.p.ready.exec: expected a non-empty array like [\"/usr/bin/app\", "
       "\"--flag\"], got an empty array",
       "test.toml:51:18: program.q.ready.exec: expected a command, got an empty string",
       "test.toml:54:17: program.r.ready.tcp: expected a string \"HOST:PORT\" like "
       "\"127.0.0.1:5432\", got integer 5432"});
}

TEST(ConfigTest, HealthAndTimingErrors) {
  expect_errors(
      R"([program.a]
command = "true"
health = "notify"
[program.b]
command = "true"
health = { fd = 3 }
[program.c]
command = "true"
health = { tcp = "127.0.0.1:1", period = "0", timeout = "0s" }
[program.d]
command = "true"
health = { tcp = "127.0.0.1:1", failure-threshold = 0, start-period = "soon" }
[program.e]
command = "true"
health = { tcp = "127.0.0.1:1", periodd = "1s" }
[program.f]
command = "true"
ready-timeout = 60
watchdog = "often"
health-restarts = -1
[program.g]
command = "true"
health = {}
)",
      {"test.toml:3:10: program.a.health: \"notify\" is a readiness protocol, not a health check; "
       "a program that keeps telling it is alive sends WATCHDOG=1: set watchdog = \"30s\" "
       "(docs/readiness.md)",
       "test.toml:6:17: program.b.health.fd: fd is a readiness protocol, not a health check; a "
       "program that keeps telling it is alive sends WATCHDOG=1: set watchdog = \"30s\" "
       "(docs/readiness.md)",
       "test.toml:9:42: program.c.health.period: must be longer than 0; leave the key out for the "
       "default",
       "test.toml:9:57: program.c.health.timeout: must be longer than 0; leave the key out for the "
       "default",
       "test.toml:12:53: program.d.health.failure-threshold: expected an integer 1..1000000, got 0",
       "test.toml:12:71: program.d.health.start-period: expected a duration like \"10s\", "
       "\"250ms\" or \"1m30s\" (units ms, s, m, h, d), got \"soon\"",
       "test.toml:15:33: program.e.health.periodd: unknown key; did you mean \"period\"? (valid "
       "keys: \"tcp\", \"http\", \"exec\", \"file\", \"period\", \"timeout\", "
       "\"failure-threshold\" or \"start-period\")",
       "test.toml:18:17: program.f.ready-timeout: expected a duration like \"10s\", got integer 60",
       "test.toml:19:12: program.f.watchdog: expected a duration like \"10s\", \"250ms\" or "
       "\"1m30s\" (units ms, s, m, h, d), got \"often\"",
       "test.toml:20:19: program.f.health-restarts: expected an integer 0..1000000, got -1",
       "test.toml:23:10: program.g.health: missing the kind of check: one of \"tcp\", \"http\", "
       "\"exec\" or \"file\", like { http = \"http://127.0.0.1:8080/healthz\" }"});
}

// Keys that do nothing where they are are warnings, as exit-code without critical is.
TEST(ConfigTest, CheckKeysThatDoNothingAreWarnings) {
  LoadResult r = load(R"([program.a]
command = "true"
ready-timeout = "10s"
health-restarts = 3
[program.b]
command = "true"
ready = { fd = 3, period = "1s" }
)");
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(
      messages(r),
      (std::vector<std::string>{
          "test.toml:3:17: warning: program.a.ready-timeout: ready-timeout only matters with a "
          "ready check; add ready = ... or remove it",
          "test.toml:4:19: warning: program.a.health-restarts: health-restarts only matters with a "
          "health check or a watchdog; add health = ... or watchdog = ..., or remove it",
          "test.toml:7:28: warning: program.b.ready.period: period does nothing for an fd check "
          "(the program writes when it is ready); remove it"}));
}

TEST(ConfigTest, WarningsDoNotFailTheLoad) {
  LoadResult r = load(R"([program.web]
command = "true"
exit-code = 3
depends-on = ["db", "db"]
[program.db]
command = "true"
)");
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(messages(r),
            (std::vector<std::string>{
                "test.toml:3:13: warning: program.web.exit-code: exit-code only matters for a "
                "critical program; add critical = true or remove it",
                "test.toml:4:21: warning: program.web.depends-on: \"db\" is listed twice"}));
  LoadResult empty = load("");
  EXPECT_TRUE(empty.ok());
  EXPECT_EQ(messages(empty),
            std::vector<std::string>{"test.toml: warning: no programs defined; add a "
                                     "[program.NAME] table with a command"});
}

TEST(ConfigTest, EveryErrorIsReportedSortedByPosition) {
  LoadResult r = load(R"([program.b]
command = "true"
stop-timeout = 1
[program.a]
command = "true"
instances = 0
[supervisor]
log-level = "loud"
)");
  ASSERT_EQ(r.diagnostics.size(), 3u);
  EXPECT_EQ(r.diagnostics[0].line, 3);
  EXPECT_EQ(r.diagnostics[1].line, 6);
  EXPECT_EQ(r.diagnostics[2].line, 8);
}

TEST(ConfigTest, SocketPathTooLong) {
  std::string text = "[supervisor]\nsocket = \"/tmp/";
  text += std::string(110, 's');
  text += "\"\n";
  LoadResult r = load(text);
  ASSERT_EQ(r.diagnostics.size(), 1u);
  EXPECT_EQ(r.diagnostics[0].line, 2);
  EXPECT_EQ(r.diagnostics[0].column, 10);
  EXPECT_NE(r.diagnostics[0].message.find("must be shorter than 108 bytes"), std::string::npos);
}

TEST(ConfigTest, MissingMainFile) {
  LoadResult r = load_config("/nonexistent/gardien.toml", env_of({}));
  EXPECT_EQ(messages(r), std::vector<std::string>{"/nonexistent/gardien.toml: cannot read the "
                                                  "config file: No such file or directory"});
}

// ---------------------------------------------------------------------------------------------
// Includes

TEST(ConfigTest, IncludesAreRelativeToTheIncludingFile) {
  TempDir dir;
  dir.write("etc/gardien.toml", R"([supervisor]
include = ["conf.d/*.toml"]
[program.main]
command = "true"
)");
  dir.write("etc/conf.d/web.toml", R"(include = ["more/*.toml"]
[program.web]
command = "true"
stdout = { file = "web.log" }
)");
  dir.write("etc/conf.d/more/db.toml", "[program.db]\ncommand = \"true\"\n");
  dir.write("etc/conf.d/ignored.txt", "not toml");
  in_directory(dir.path(), [&] {
    LoadResult r = load_config("etc/gardien.toml", env_of({}));
    ASSERT_TRUE(r.ok()) << testing::PrintToString(messages(r));
    EXPECT_TRUE(r.diagnostics.empty());
    ASSERT_EQ(r.config->programs.size(), 3u);
    EXPECT_EQ(r.config->programs[0].name, "db");
    EXPECT_EQ(r.config->programs[1].name, "main");
    EXPECT_EQ(r.config->programs[2].name, "web");
    EXPECT_EQ(r.config->programs[2].stdout_sink.path, (dir.path() / "etc/conf.d/web.log").string());
  });
}

TEST(ConfigTest, IncludeErrors) {
  TempDir dir;
  dir.write("main.toml", R"([supervisor]
include = ["conf.d/*.toml", "nothing/*.toml", "dangling.toml", "adir"]
[program.web]
command = "true"
)");
  dir.write("conf.d/a.toml", R"(include = ["../main.toml"]
[program.web]
command = "true"
)");
  dir.write("conf.d/b.toml", R"([supervisor]
log-level = "info"
[program.b]
command = "true"
)");
  dir.write("conf.d/c.toml", "[program.c]\ncommand = [\n");
  fs::create_directory(dir.path() / "adir");
  fs::create_symlink("/nonexistent/file.toml", dir.path() / "dangling.toml");
  in_directory(dir.path(), [&] {
    LoadResult r = load_config("main.toml", env_of({}));
    EXPECT_FALSE(r.ok());
    std::vector<std::string> got = messages(r);
    ASSERT_EQ(got.size(), 7u) << testing::PrintToString(got);
    EXPECT_EQ(got[0],
              "main.toml:2:29: warning: supervisor.include: include pattern \"nothing/*.toml\" "
              "matches no file");
    EXPECT_EQ(got[1],
              "main.toml:2:47: supervisor.include: cannot read \"dangling.toml\": No such file or "
              "directory");
    EXPECT_EQ(got[2],
              "main.toml:2:64: supervisor.include: cannot read \"adir\": it is a directory");
    EXPECT_EQ(got[3],
              "conf.d/a.toml:1:12: include: \"conf.d/../main.toml\" is already loaded: a file may "
              "be included only once (an include cycle, or two patterns matching it)");
    EXPECT_EQ(got[4],
              "conf.d/a.toml:2:10: program.web: program \"web\" is already defined at "
              "main.toml:3:10; rename one of them");
    EXPECT_EQ(got[5],
              "conf.d/b.toml:1:1: supervisor: [supervisor] is only allowed in the main config "
              "file \"main.toml\"; an included file may define [program.*] and [task.*] tables and "
              "include "
              "only");
    EXPECT_EQ(got[6].rfind("conf.d/c.toml:2:13: invalid TOML: ", 0), 0u) << got[6];
  });
}

TEST(ConfigTest, IncludedFifoIsRejectedWithoutBlocking) {
  TempDir dir;
  ASSERT_EQ(::mkfifo((dir.path() / "pipe.toml").c_str(), 0600), 0);
  in_directory(dir.path(), [&] {
    LoadResult r = load(R"([supervisor]
include = ["pipe.toml"]
)");
    EXPECT_EQ(messages(r), std::vector<std::string>{"test.toml:2:12: supervisor.include: cannot "
                                                    "read \"pipe.toml\": not a regular file"});
  });
}

TEST(ConfigTest, IncludeGlobMatchingNothingIsOnlyAWarning) {
  TempDir dir;
  in_directory(dir.path(), [&] {
    LoadResult r = load(R"([supervisor]
include = ["conf.d/*.toml"]
[program.web]
command = "true"
)");
    EXPECT_TRUE(r.ok());
    EXPECT_EQ(messages(r), std::vector<std::string>{"test.toml:2:12: warning: supervisor.include: "
                                                    "include pattern \"conf.d/*.toml\" matches no "
                                                    "file"});
  });
}

// ---- Inputs found by fuzz/config_fuzz or while writing it (docs/fuzzing.md); each is also in
// fuzz/corpus/config/regression-*.

// toml++ 3.3.0 reaches __builtin_unreachable() (undefined behaviour: under UBSan an abort, in a
// Release build whatever the optimizer made of it) on a non-ASCII character where whitespace may
// be, e.g. in a bare key: each must be a plain TOML syntax error, and valid text keep working.
TEST(ConfigFuzzRegression, NonAsciiCharacterOutsideAStringIsASyntaxError) {
  for (const char* text : {
           "[program.web]\ncommand = \"true\"\nexefizeit\xca\x9code = 3\n",  // the fuzzer's U+029C
           "[program.caf\xc3\xa9]\ncommand = \"true\"\n",                    // U+00E9 in a key
           "[program.web]\ncommand = \"true\" \xc2\xa7\n",                   // U+00A7 after a value
           "[program.web]\ncommand = \"true\"\n\xef\xad\x90 = 1\n",          // U+FB50
       }) {
    LoadResult r = load(text);
    EXPECT_FALSE(r.ok()) << text;
    ASSERT_EQ(r.diagnostics.size(), 1u) << text;
    EXPECT_NE(r.diagnostics[0].message.find("invalid TOML"), std::string::npos)
        << r.diagnostics[0].to_string();
  }
}

// The same toml++ code path inside a multi-line string, after a line-ending backslash: there the
// character is text and stays in the string.
TEST(ConfigFuzzRegression, NonAsciiAfterLineEndingBackslashStaysInTheString) {
  Config c = expect_ok("[program.web]\ncommand = \"\"\"\\\n\xc2\xa7 x\"\"\"\n");
  ASSERT_EQ(c.programs.size(), 1u);
  EXPECT_EQ(c.programs[0].command, (std::vector<std::string>{"/bin/sh", "-c", "\xc2\xa7 x"}));
  Config utf8 = expect_ok("[program.web]\ncommand = [\"echo\", \"caf\xc3\xa9\"]\n");
  ASSERT_EQ(utf8.programs.size(), 1u);
  EXPECT_EQ(utf8.programs[0].command[1], "caf\xc3\xa9");
}

TEST(ConfigFuzzRegression, HugeDurationIsAnErrorNotAnOverflow) {
  LoadResult r = load("[program.web]\ncommand = \"x\"\nstop-timeout = \"1125899906842624h\"\n");
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(messages(r), std::vector<std::string>{
                             "test.toml:3:16: program.web.stop-timeout: duration out of range: "
                             "at most about 35,000 years, got \"1125899906842624h\""});
}

TEST(ConfigFuzzRegression, HugeRealtimeSignalOffsetIsAnErrorNotAnOverflow) {
  LoadResult r = load("[program.web]\ncommand = \"x\"\nstop-signal = \"RTMIN+2147483647\"\n");
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(messages(r), std::vector<std::string>{
                             "test.toml:3:15: program.web.stop-signal: expected a signal like "
                             "\"TERM\", \"SIGTERM\" or 15, got string \"RTMIN+2147483647\""});
}

// Every unknown depends-on name was compared in full with every program name for a "did you
// mean": 2000 programs each naming a missing dependency took minutes under the sanitizers.
TEST(ConfigFuzzRegression, ManyUnknownDependenciesAreReportedQuickly) {
  std::string text;
  for (int i = 0; i < 2000; ++i) {
    std::string n = std::to_string(i);
    text += "[program.p";
    text += n;
    text += "]\ncommand = \"x\"\ndepends-on = [\"missing";
    text += n;
    text += "\"]\n";
  }
  auto start = std::chrono::steady_clock::now();
  LoadResult r = load(text);
  auto took = std::chrono::steady_clock::now() - start;
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.diagnostics.size(), 2000u);
  EXPECT_LT(took, 20s) << "quadratic suggestions are back";  // ~0.1 s; quadratic: minutes
  // Suggestions still work: a near miss gets one.
  EXPECT_EQ(messages(load("[program.web]\ncommand = \"x\"\ndepends-on = [\"dbb\"]\n[program.db]\n"
                          "command = \"x\"\n")),
            std::vector<std::string>{"test.toml:3:15: program.web.depends-on: no program named "
                                     "\"dbb\"; did you mean \"db\"?"});
}

// Runs `fn` on a thread with a 256 KiB stack, so that a test of deep recursion does not depend on
// the environment's stack limit.
void on_small_stack(const std::function<void()>& fn) {
  pthread_attr_t attr;
  ASSERT_EQ(::pthread_attr_init(&attr), 0);
  ASSERT_EQ(::pthread_attr_setstacksize(&attr, 256 << 10), 0);
  pthread_t thread;
  auto run = [](void* arg) -> void* {
    (*static_cast<const std::function<void()>*>(arg))();
    return nullptr;
  };
  ASSERT_EQ(::pthread_create(&thread, &attr, run, const_cast<std::function<void()>*>(&fn)), 0);
  ::pthread_join(thread, nullptr);
  ::pthread_attr_destroy(&attr);
}

// A dependency search that recursed once per program of a depends-on chain would overflow the
// stack (SIGSEGV) on a 50000-program chain: the search must keep its own stack.
TEST(ConfigFuzzRegression, LongDependencyChainDoesNotOverflowTheStack) {
  constexpr int kChain = 5000;  // about 1 MiB of stack recursing
  std::string text;
  for (int i = 0; i <= kChain; ++i) {
    text += "[program.p";
    text += std::to_string(i);
    text += "]\ncommand = \"x\"\n";
    if (i < kChain) {
      text += "depends-on = [\"p";
      text += std::to_string(i + 1);
      text += "\"]\n";
    }
  }
  LoadResult r;
  on_small_stack([&] { r = load(text); });
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.config.value_or(Config{}).programs.size(), static_cast<std::size_t>(kChain + 1));
}

// A chain where every program also depends on the first has one cycle per program, each as long
// as its depth: reporting them all took quadratic time and memory. Past 20 they are counted.
TEST(ConfigFuzzRegression, ManyDependencyCyclesAreCappedAndCounted) {
  constexpr int kChain = 3000;
  std::string text;
  for (int i = 0; i < kChain; ++i) {
    text += "[program.p";
    text += std::to_string(i);
    text += "]\ncommand = \"x\"\ndepends-on = [";
    if (i + 1 < kChain) {
      text += "\"p";
      text += std::to_string(i + 1);
      text += "\", ";
    }
    text += "\"p0\"]\n";
  }
  LoadResult r = load(text);
  EXPECT_FALSE(r.ok());
  std::vector<std::string> got = messages(r);
  ASSERT_EQ(got.size(), 21u) << testing::PrintToString(got);
  EXPECT_NE(got[0].find("dependency cycle: p0 -> p1 -> p2 -> "), std::string::npos) << got[0];
  EXPECT_NE(got[20].find("and 2980 more dependency cycles; fix the ones above first"),
            std::string::npos)
      << got[20];
}

}  // namespace
}  // namespace gardien

namespace gardien {
namespace {

TEST(TaskConfigTest, DefaultsAndTheSettingsARunNeeds) {
  LoadResult r = load(R"([task.migrate]
command = ["/srv/migrate"]
)");
  ASSERT_TRUE(r.ok()) << ::testing::PrintToString(messages(r));
  ASSERT_EQ(r.config->tasks.size(), 1u);
  const TaskConfig& t = r.config->tasks[0];
  EXPECT_EQ(t.name(), "migrate");
  EXPECT_EQ(t.run, TaskRunWhen::on_demand);
  EXPECT_EQ(t.timeout, Duration{0});
  EXPECT_EQ(t.retries, 0);
  EXPECT_EQ(t.history, 20);
  EXPECT_EQ(t.max_concurrent, 1);
  EXPECT_TRUE(t.args);
  EXPECT_EQ(t.concurrency, ScheduleConcurrency::forbid);
  EXPECT_EQ(t.process.restart, RestartPolicy::never);
  EXPECT_EQ(t.process.start_seconds, Duration{0});
  EXPECT_FALSE(t.process.autostart);
  EXPECT_EQ(t.process.log_buffer_size, 1u << 20);
  EXPECT_EQ(r.config->supervisor.max_queued_jobs, 1000);
  EXPECT_EQ(r.config->supervisor.max_concurrent_jobs, 0);
}

TEST(TaskConfigTest, EveryOwnKeyAndTheSharedOnes) {
  LoadResult r = load(R"([supervisor]
max-concurrent-jobs = 4
max-queued-jobs = 10
state-dir = "/var/lib/gardien"

[task.backup]
command = "pg_dump app"
user = "root"
environment = { PGHOST = "/run/postgresql" }
stop-signal = "INT"
stop-timeout = "20s"
success-exit-codes = [0, 2]
backoff = "3s"
timeout = "1h"
retries = 2
deadline = "3h"
schedule = "30 3 * * *"
time-zone = "Europe/Paris"
concurrency = "replace"
history = 5
max-output = "64KiB"
max-concurrent = 2
args = false
)");
  ASSERT_TRUE(r.ok()) << ::testing::PrintToString(messages(r));
  const TaskConfig& t = r.config->tasks.at(0);
  EXPECT_EQ(r.config->supervisor.max_concurrent_jobs, 4);
  EXPECT_EQ(r.config->supervisor.max_queued_jobs, 10);
  EXPECT_EQ(r.config->supervisor.state_dir, "/var/lib/gardien");
  EXPECT_EQ(t.process.command, (std::vector<std::string>{"/bin/sh", "-c", "pg_dump app"}));
  EXPECT_EQ(t.process.environment.at("PGHOST"), "/run/postgresql");
  EXPECT_EQ(t.process.stop_signal, 2);
  EXPECT_EQ(t.process.stop_timeout, std::chrono::seconds(20));
  EXPECT_EQ(t.process.success_exit_codes, (std::vector<int>{0, 2}));
  EXPECT_EQ(t.process.backoff, std::chrono::seconds(3));
  EXPECT_EQ(t.timeout, std::chrono::hours(1));
  EXPECT_EQ(t.retries, 2);
  EXPECT_EQ(t.deadline, std::chrono::hours(3));
  EXPECT_EQ(t.schedule, "30 3 * * *");
  EXPECT_EQ(t.time_zone, "Europe/Paris");
  EXPECT_EQ(t.concurrency, ScheduleConcurrency::replace);
  EXPECT_EQ(t.history, 5);
  EXPECT_EQ(t.process.log_buffer_size, 64u * 1024);
  EXPECT_EQ(t.max_concurrent, 2);
  EXPECT_FALSE(t.args);
}

TEST(TaskConfigTest, RebootMeansOnStart) {
  LoadResult r = load("[task.warm]\ncommand = \"true\"\nschedule = \"@reboot\"\n");
  ASSERT_TRUE(r.ok()) << ::testing::PrintToString(messages(r));
  EXPECT_EQ(r.config->tasks.at(0).run, TaskRunWhen::on_start);
}

TEST(TaskConfigTest, ErrorsNameTheKeyThePlaceAndTheFix) {
  LoadResult r = load(R"([task.a]
command = "true"
schedule = "*/0 * * * *"
restart = "always"
time-zone = "Mars/Olympus"
[program.a]
command = "true"
)");
  ASSERT_FALSE(r.ok());
  std::vector<std::string> got = messages(r);
  auto has = [&](const std::string& part) {
    return std::any_of(got.begin(), got.end(),
                       [&](const std::string& m) { return m.find(part) != std::string::npos; });
  };
  EXPECT_TRUE(has("test.toml:3:12: task.a.schedule: schedule \"*/0 * * * *\": minute step 0"))
      << ::testing::PrintToString(got);
  EXPECT_TRUE(has("task.a.restart: restart applies only to programs"))
      << ::testing::PrintToString(got);
  EXPECT_TRUE(has("task.a.time-zone: unknown time zone \"Mars/Olympus\""))
      << ::testing::PrintToString(got);
  EXPECT_TRUE(has("program \"a\" has the name of the task")) << ::testing::PrintToString(got);
}

TEST(TaskConfigTest, DependenciesOnTasksTakeOnlyCompleted) {
  LoadResult ok = load(R"([task.migrate]
command = "true"
run = "on-start"
[task.report]
command = "true"
[program.web]
command = "true"
depends-on = ["migrate"]
[program.api]
command = "true"
depends-on = { report = "completed" }
)");
  ASSERT_TRUE(ok.ok()) << ::testing::PrintToString(messages(ok));
  const ProgramConfig* web = ok.config->find("web");
  ASSERT_NE(web, nullptr);
  EXPECT_EQ(web->condition_on("migrate"), DependencyCondition::completed)
      << "a plain name of an on-start task means completed";

  LoadResult bad = load(R"([task.report]
command = "true"
[program.web]
command = "true"
depends-on = ["report"]
[program.api]
command = "true"
depends-on = { report = "ready" }
)");
  ASSERT_FALSE(bad.ok());
  std::vector<std::string> got = messages(bad);
  ASSERT_EQ(got.size(), 2u) << ::testing::PrintToString(got);
  EXPECT_NE(got[0].find("is a task that runs on demand: write depends-on = { report = "
                        "\"completed\" }"),
            std::string::npos)
      << got[0];
  EXPECT_NE(got[1].find("program.api.depends-on.report: \"report\" is a task"), std::string::npos)
      << got[1];
}

TEST(TaskConfigTest, ACycleThroughATaskIsFound) {
  LoadResult r = load(R"([task.migrate]
command = "true"
run = "on-start"
depends-on = ["web"]
[program.web]
command = "true"
depends-on = ["migrate"]
)");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(messages(r).at(0).find("cycle"), std::string::npos)
      << ::testing::PrintToString(messages(r));
}

}  // namespace
}  // namespace gardien
