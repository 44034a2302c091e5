// A daemon short of fds: the programs it cannot start yet wait in backoff, say why, never go
// fatal, and start once fds are free again.
#include "harness.h"

namespace gardien::test {
namespace {

TEST(Resources, ProgramsThatCannotStartForWantOfFdsRetryUntilFdsAreFree) {
  if (::access("/usr/bin/prlimit", X_OK) != 0) GTEST_SKIP() << "no /usr/bin/prlimit";
  TempDir dir;
  Daemon d(dir);
  std::string toml;
  for (const char* group : {"a", "b"}) {
    toml += program(group, {"sleep", "600"},
                    "instances = 10\nautostart = false\nstart-seconds = \"0\"\n"
                    "backoff = \"50ms\"\nbackoff-max = \"200ms\"\nstart-retries = 1\n");
  }
  d.write_config(toml);
  d.start();
  ASSERT_TRUE(d.wait_ready()) << d.log();
  // Room for the ten programs of one group, not for both. Each running program holds the read
  // ends of its stdout and stderr pipes; a spawn briefly holds four more (their write ends and
  // the exec-report pipe); the slack covers this test's own `gardienctl status` connections.
  int open_now = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator("/proc/" + std::to_string(d.pid()) + "/fd"))
    ++open_now;
  constexpr int kPerProgram = 2, kPerSpawn = 4, kSlack = 8;
  std::string limit = std::to_string(open_now + 10 * kPerProgram + kPerSpawn + kSlack);
  ASSERT_EQ(run_command({"/usr/bin/prlimit", "--pid", std::to_string(d.pid()),
                         "--nofile=" + limit + ":" + limit})
                .status,
            0);
  d.ctl({"start", "--no-wait", "a", "b"});
  auto short_of_fds = d.wait_event(
      [](const Json& e) {
        return e.value("event", "") == "state" && e.value("to", "") == "backoff" &&
               e.value("reason", "").find("Too many open files; retrying") != std::string::npos;
      },
      10s);
  ASSERT_TRUE(short_of_fds) << d.log();
  ASSERT_EQ(d.ctl({"stop", "a"}).status, 0) << d.log();
  auto b_running = [&] {
    Json j = Json::parse(d.ctl({"status", "--json", "b"}).output, nullptr, false);
    if (j.is_discarded()) return false;
    for (const Json& i : j["result"]["instances"]) {
      if (i["state"] != "running") return false;
    }
    return true;
  };
  EXPECT_TRUE(poll_until(b_running, 10s, 50ms)) << d.ctl({"status"}).output;
  for (const Json& e : d.events("state")) EXPECT_NE(e.value("to", ""), "fatal") << e.dump();
}

}  // namespace
}  // namespace gardien::test
