// The record a daemon keeps of what it runs: its text, and what a hostile or stale file does.
#include "supervisord/process/run_record.h"

#include <event2/event.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

namespace gardien {
namespace {

RunRecordContent sample() {
  RunRecordContent c;
  c.daemon_pid = 4242;
  c.daemon_start_ticks = 123456;
  c.boot_id = "0b5c1a52-6f3e-4b7e-9c1e-0d4e2f6a7b8c";
  c.trees.push_back({"web.0", 5000, "", SIGTERM, std::chrono::seconds(10)});
  c.trees.push_back(
      {"db", 6000, "/sys/fs/cgroup/x/gardien.4242/db", SIGINT, std::chrono::milliseconds(1500)});
  return c;
}

TEST(RunRecord, TextRoundTrips) {
  RunRecordContent c = sample();
  EXPECT_EQ(parse_run_record(to_text(c)), c);
}

TEST(RunRecord, AnythingElseIsRefused) {
  for (
      const std::string& text : std::vector<std::string>{
          "", "{", "[]", "null", "{\"format\":2}", "{\"format\":1}",
          R"({"format":1,"daemon_pid":1,"daemon_start_ticks":1,"boot_id":"b","trees":[{}]})",
          R"({"format":1,"daemon_pid":1,"daemon_start_ticks":1,"boot_id":"b","trees":[{"instance":"a","pgid":-5,"stop_signal":15,"stop_timeout_ms":1}]})",
          R"({"format":1,"daemon_pid":1,"daemon_start_ticks":1,"boot_id":"b","trees":[{"instance":"a","pgid":5,"stop_signal":999,"stop_timeout_ms":1}]})",
          R"({"format":1,"daemon_pid":"x","daemon_start_ticks":1,"boot_id":"b","trees":[]})",
          std::string("{\"format\":1,\0}", 13)}) {
    EXPECT_FALSE(parse_run_record(text)) << text;
  }
}

class RecordFile : public ::testing::Test {
 protected:
  std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("run_record_test." + std::to_string(::getpid()));
  std::filesystem::path path = dir / "gardien.sock.pids";
  void SetUp() override { std::filesystem::create_directories(dir); }
  void TearDown() override { std::filesystem::remove_all(dir); }
  void write(const std::string& text) { std::ofstream(path) << text; }
};

std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// Long and short records in turn: the file always parses to the latest, a short one is written
// in place (same file) and a long one replaces the file whole.
TEST_F(RecordFile, EachRewriteLeavesTheLatestRecordWhateverItsLength) {
  EventLoop loop;
  std::vector<RecordedTree> trees;
  RunRecord record(loop, path, [&] { return trees; });
  auto ino = [&] {
    struct stat st {};
    EXPECT_EQ(::stat(path.c_str(), &st), 0);
    return st.st_ino;
  };
  auto rewrite = [&](std::size_t count) {
    trees.clear();
    for (std::size_t i = 0; i < count; ++i)
      trees.push_back({"task#" + std::to_string(i), static_cast<pid_t>(1000 + i), "", SIGTERM,
                       std::chrono::seconds(10)});
    record.mark_changed();
    event_base_loop(loop.base(), EVLOOP_ONCE);  // the write happens on a later turn
    std::optional<RunRecordContent> read = parse_run_record(read_file(path));
    EXPECT_TRUE(read) << count << " trees: " << read_file(path);
    return read ? read->trees.size() : std::size_t(-1);
  };
  auto first = ino();
  EXPECT_EQ(rewrite(20), 20u);
  EXPECT_EQ(rewrite(1), 1u);
  EXPECT_EQ(ino(), first) << "a record within a page is rewritten in place";
  EXPECT_EQ(rewrite(200), 200u);
  EXPECT_GT(std::filesystem::file_size(path), 4096u);
  EXPECT_EQ(rewrite(0), 0u);
  EXPECT_EQ(rewrite(3), 3u);
  EXPECT_EQ(rewrite(2), 2u);
}

TEST_F(RecordFile, AnUnreadableRecordIsRemovedAndNothingIsSignalled) {
  write("not json at all");
  EXPECT_EQ(stop_leftovers_of_predecessor(path), 0);
  EXPECT_FALSE(std::filesystem::exists(path));
}

TEST_F(RecordFile, ARecordOfAnotherBootOrOfALiveDaemonIsLeftAlone) {
  RunRecordContent c = sample();
  c.trees = {{"self", ::getpgrp(), "", SIGKILL, std::chrono::seconds(1)}};  // would kill us
  c.boot_id = "another-boot";
  c.daemon_start_ticks = 0;
  write(to_text(c));
  EXPECT_EQ(stop_leftovers_of_predecessor(path), 0);

  c.boot_id = current_boot_id();
  c.daemon_pid = ::getppid();  // alive: its start time is read from /proc
  std::ifstream stat("/proc/" + std::to_string(::getppid()) + "/stat");
  std::string line;
  std::getline(stat, line);
  std::istringstream rest(line.substr(line.rfind(')') + 2));
  std::string field;
  for (int i = 3; i < 22; ++i) rest >> field;
  rest >> c.daemon_start_ticks;
  write(to_text(c));
  EXPECT_EQ(stop_leftovers_of_predecessor(path), 0);
}

TEST_F(RecordFile, ProcessesOlderThanTheRecordingDaemonAreStrangers) {
  RunRecordContent c = sample();
  c.boot_id = current_boot_id();
  c.daemon_pid = 999999999;      // gone
  c.daemon_start_ticks = ~0ULL;  // "started after everything now running": nobody qualifies
  c.trees = {{"self", ::getpgrp(), "", SIGKILL, std::chrono::seconds(1)}};
  write(to_text(c));
  EXPECT_EQ(stop_leftovers_of_predecessor(path), 0);
  EXPECT_FALSE(std::filesystem::exists(path));
}

}  // namespace
}  // namespace gardien
