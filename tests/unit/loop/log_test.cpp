// The daemon's own log lines: fields in the order written, the text form without `event`.
#include "supervisord/loop/log.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace gardien {
namespace {

class LogLines : public ::testing::Test {
 protected:
  void SetUp() override {
    log::set_line_writer([this](std::string_view line) { lines.emplace_back(line); });
  }
  void TearDown() override {
    log::set_line_writer(nullptr);
    log::configure(LogLevel::info, LogFormat::text);
  }
  // The line without its timestamp (the first word).
  std::string last() const { return lines.back().substr(lines.back().find(' ') + 1); }
  std::vector<std::string> lines;
};

TEST_F(LogLines, TextNamesTheProgramFirstAndKeepsTheFieldsInOrder) {
  log::configure(LogLevel::info, LogFormat::text);
  log::info("exited", {{"event", "exit"}, {"program", "web.0"}, {"pid", 42}, {"code", 1}});
  EXPECT_EQ(last(), "info: web.0: exited pid=42 code=1\n");
  log::warn("state changed", {{"event", "state"},
                              {"program", "flaky"},
                              {"from", "running"},
                              {"to", "backoff"},
                              {"reason", "exit code 1"},
                              {"delay", "1s"}});
  EXPECT_EQ(last(),
            "warn: flaky: state changed from=running to=backoff reason=\"exit code 1\" delay=1s\n");
  log::info("gardien started", {{"event", "daemon_start"}, {"pid", 7}, {"config", "g.toml"}});
  EXPECT_EQ(last(), "info: gardien started pid=7 config=g.toml\n");
}

TEST_F(LogLines, JsonKeepsEveryFieldInOrderAfterTimeLevelAndMessage) {
  log::configure(LogLevel::info, LogFormat::json);
  log::info("spawned", {{"event", "spawn"}, {"program", "web"}, {"pid", 42}});
  std::string line = lines.back();
  std::size_t time = line.find("\"time\"");
  ASSERT_EQ(time, 1u) << line;
  EXPECT_NE(
      line.find(R"("level":"info","msg":"spawned","event":"spawn","program":"web","pid":42})"),
      std::string::npos)
      << line;
}

}  // namespace
}  // namespace gardien
