// gardienctl and readiness against a live gardien: a start whose dependency never comes gives up
// and says what it waits for, `wait --for ready`, and the status fields of an ended run.
#include "harness.h"

namespace gardien::test {
namespace {

bool contains(const std::string& text, const std::string& what) {
  return text.find(what) != std::string::npos;
}

Json instance_json(const Daemon& d, const std::string& name) {
  Json j = Json::parse(d.ctl({"--json", "status", name}).output, nullptr, false);
  if (j.is_discarded() || !j["result"]["instances"].is_array() || j["result"]["instances"].empty())
    return Json();
  return j["result"]["instances"][0];
}

// db exits 3 before its start-seconds, every time: after one retry it is fatal. api needs db.
// web needs nothing.
constexpr const char* kConfig = R"([supervisor]
shutdown-timeout = "5s"

[program.db]
command = ["/bin/sh", "-c", "exit 3"]
start-seconds = "1s"
start-retries = 1
backoff = "20ms"

[program.api]
command = ["sleep", "600"]
depends-on = ["db"]
autostart = false
start-seconds = "0"
stop-timeout = "2s"

[program.web]
command = ["sleep", "600"]
start-seconds = "0"
stop-timeout = "2s"
)";

class CtlReadyTest : public ::testing::Test {
 protected:
  TempDir dir;
  Daemon daemon{dir};
  void SetUp() override {
    daemon.write_config(kConfig);
    daemon.start();
    ASSERT_TRUE(daemon.wait_ready()) << daemon.log();
    ASSERT_TRUE(poll_until([&] { return instance_json(daemon, "db")["state"] == "fatal"; }, 10s))
        << daemon.log();
  }
};

TEST_F(CtlReadyTest, AStartWhoseDependencyNeverComesTimesOutAndSaysWhatItWaitsFor) {
  RunResult r = daemon.ctl({"start", "api", "--timeout", "1s"});
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_TRUE(contains(r.output, "api did not start in time: it is stopped (waiting for db"))
      << r.output;
  EXPECT_TRUE(contains(r.output, "timed out after 1s waiting for api (stopped)")) << r.output;
  EXPECT_TRUE(contains(r.output, "gardienctl: the start goes on in the daemon")) << r.output;
  // It does go on: api still wants to run, waiting for db.
  Json api = instance_json(daemon, "api");
  EXPECT_EQ(api["wanted"], true) << api.dump();
  EXPECT_TRUE(contains(api["info"].get<std::string>(), "waiting for db")) << api.dump();
  EXPECT_EQ(api["ready"], false);
}

TEST_F(CtlReadyTest, WaitForReadyAndTheFieldsOfAnEndedRun) {
  RunResult web = daemon.ctl({"wait", "web", "--for", "ready", "--timeout", "10s"});
  EXPECT_EQ(web.status, 0) << web.output;
  EXPECT_TRUE(contains(web.output, "web: running (pid ")) << web.output;
  EXPECT_EQ(instance_json(daemon, "web")["ready"], true);
  EXPECT_EQ(instance_json(daemon, "web")["health"], "none");

  RunResult all = daemon.ctl({"wait", "--for", "ready", "--timeout", "300ms", "all"});
  EXPECT_EQ(all.status, 1) << "db is fatal: not everything is ready\n" << all.output;
  EXPECT_TRUE(contains(all.output, "db did not become ready in time: it is fatal")) << all.output;

  Json db = instance_json(daemon, "db");
  EXPECT_EQ(db["exit_code"], 3) << db.dump();
  EXPECT_TRUE(db["signal"].is_null()) << db.dump();
  EXPECT_EQ(db["ready"], false);
  EXPECT_TRUE(instance_json(daemon, "web")["exit_code"].is_null()) << "still running";
}

}  // namespace
}  // namespace gardien::test
