// `gardienctl status --json` says how each instance's last run ended, apart from its state.
#include "harness.h"

namespace gardien::test {
namespace {

Json last_runs(const Daemon& d) {
  Json out = Json::object();
  Json j = Json::parse(d.ctl({"status", "--json"}).output, nullptr, false);
  if (j.is_discarded()) return out;
  for (const Json& i : j["result"]["instances"])
    out[i["name"].get<std::string>()] = i.contains("last_run") ? i["last_run"] : Json();
  return out;
}

TEST(LastRun, StatusJsonSaysHowTheLastRunEnded) {
  TempDir dir;
  Daemon daemon{dir};
  daemon.write_config(
      "[program.job]\ncommand = [\"sh\", \"-c\", \"exit 0\"]\nrestart = \"never\"\n"
      "start-seconds = \"0\"\n"
      "[program.server]\ncommand = [\"sleep\", \"600\"]\nstart-seconds = \"0\"\n"
      "stop-timeout = \"2s\"\n"
      "[program.broken]\ncommand = [\"/nonexistent/x\"]\nrestart = \"never\"\n");
  daemon.start();
  ASSERT_TRUE(daemon.wait_ready()) << daemon.log();
  ASSERT_TRUE(poll_until([&] { return last_runs(daemon)["job"] == "exited"; }, 10s))
      << last_runs(daemon).dump();
  EXPECT_TRUE(last_runs(daemon)["server"].is_null()) << "no run of it has ended yet";
  ASSERT_TRUE(poll_until([&] { return last_runs(daemon)["broken"] == "fatal"; }, 10s))
      << last_runs(daemon).dump();

  RunResult stopped = daemon.ctl({"stop", "server"});
  ASSERT_EQ(stopped.status, 0) << stopped.output;
  EXPECT_EQ(last_runs(daemon)["server"], "stopped by operator");

  RunResult table = daemon.ctl({"status"});
  EXPECT_EQ(table.output.find("stopped by operator"), std::string::npos)
      << "the table stays as it was:\n"
      << table.output;
}

}  // namespace
}  // namespace gardien::test
