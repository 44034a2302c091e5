// `gardienctl reopen-logs` against a live gardien: a person reads how many log files were
// reopened, a script gets the daemon's answer.
#include "harness.h"

namespace gardien::test {
namespace {

std::string sleeper_to_files(const std::string& name, const std::string& out,
                             const std::string& err) {
  std::string t = "[program." + name + "]\n";
  t += "command = [\"sleep\", \"600\"]\n";
  t += "start-seconds = \"0\"\nstop-timeout = \"2s\"\n";
  t += "stdout = { file = " + toml_string(out) + " }\n";
  t += "stderr = { file = " + toml_string(err) + " }\n";
  return t;
}

TEST(CtlReopenLogs, SaysHowManyLogFilesItReopened) {
  TempDir dir;
  Daemon daemon{dir};
  std::string both = (dir / "a.log").string();
  daemon.write_config(sleeper_to_files("a", both, both) +
                      sleeper_to_files("b", (dir / "b.log").string(), (dir / "b.err").string()));
  daemon.start();
  ASSERT_TRUE(daemon.wait_ready()) << daemon.log();
  ASSERT_TRUE(poll_until(
      [&] {
        return daemon.ctl({"wait", "all", "--for", "running"}).status == 0;
      },
      10s))
      << daemon.log();

  RunResult r = daemon.ctl({"reopen-logs"});
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(r.output, "reopened 3 log files\n");

  r = daemon.ctl({"--json", "reopen-logs"});
  EXPECT_EQ(r.status, 0) << r.output;
  Json line = Json::parse(r.output, nullptr, false);
  ASSERT_FALSE(line.is_discarded()) << r.output;
  EXPECT_EQ(line["result"], Json({{"files", 3}})) << r.output;
}

}  // namespace
}  // namespace gardien::test
