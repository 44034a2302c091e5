#include "supervisord/jobs/run_history_file.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "output/output_test_util.h"
#include "supervisord/jobs/run_history.h"
#include "supervisord/loop/log.h"

using namespace gardien;
using namespace gardien::testing;
using protocol::JobOutcome;
using protocol::JobRecord;
using protocol::JobState;

namespace {

class CapturedLog {
 public:
  CapturedLog() {
    log::set_line_writer([this](std::string_view line) { lines.emplace_back(line); });
  }
  ~CapturedLog() { log::set_line_writer(nullptr); }
  int count(std::string_view needle) const {
    return static_cast<int>(std::count_if(lines.begin(), lines.end(), [&](const std::string& l) {
      return l.find(needle) != std::string::npos;
    }));
  }
  std::vector<std::string> lines;
};

// Writes past `bytes` fail with EFBIG for the life of the object, as a full disk would fail them.
class FileSizeLimit {
 public:
  explicit FileSizeLimit(rlim_t bytes) {
    ::getrlimit(RLIMIT_FSIZE, &saved_);
    saved_handler_ = ::signal(SIGXFSZ, SIG_IGN);
    rlimit limit = saved_;
    limit.rlim_cur = bytes;
    ::setrlimit(RLIMIT_FSIZE, &limit);
  }
  ~FileSizeLimit() { lift(); }
  void lift() {
    if (std::exchange(lifted_, true)) return;
    ::setrlimit(RLIMIT_FSIZE, &saved_);
    ::signal(SIGXFSZ, saved_handler_);
  }

 private:
  rlimit saved_{};
  sighandler_t saved_handler_ = SIG_DFL;
  bool lifted_ = false;
};

JobRecord running(const std::string& task, std::int64_t number, std::int64_t at_ms = 1000) {
  JobRecord r;
  r.task = task;
  r.number = number;
  r.id = task + "#" + std::to_string(number);
  r.state = JobState::running;
  r.source = protocol::JobSource::ctl;
  r.uid = 1000;
  r.args = {"--fast", "é"};
  r.queued_ms = at_ms - 10;
  r.started_ms = at_ms;
  r.attempts = 1;
  r.pid = 4242;
  return r;
}

JobRecord finished(JobRecord r, JobOutcome outcome = JobOutcome::succeeded, int exit_code = 0) {
  r.state = JobState::finished;
  r.ended_ms = *r.started_ms + 500;
  r.pid.reset();
  r.outcome = outcome;
  r.exit_code = exit_code;
  r.info = outcome == JobOutcome::succeeded ? "" : "exit code " + std::to_string(exit_code);
  return r;
}

std::vector<std::int64_t> numbers(const std::vector<JobRecord>& runs) {
  std::vector<std::int64_t> out;
  for (const auto& r : runs) out.push_back(r.number);
  return out;
}

RunHistoryFile::Options small(std::uint64_t compact_above) {
  RunHistoryFile::Options o;
  o.compact_above = compact_above;
  o.limits.retry = Duration(20);
  o.limits.failing_limit = 1024;
  return o;
}

void write(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
}

}  // namespace

TEST(RunHistoryFile, RunsSurviveARestart) {
  TempDir dir;
  EventLoop loop;
  JobRecord a = running("migrate", 1), b = running("backup", 1, 2000);
  {
    RunHistoryFile file(loop, dir / "state", {{"migrate", 20}, {"backup", 20}});
    EXPECT_EQ(file.problem(), "");
    file.started(a);
    file.ended(finished(a));
    file.started(b);
    file.ended(finished(b, JobOutcome::failed, 3));
  }
  struct stat st;
  ASSERT_EQ(::stat((dir / "state").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  LoadedHistory loaded =
      RunHistoryFile::load(dir / "state/task-runs.jsonl", {{"migrate", 20}, {"backup", 20}});
  EXPECT_TRUE(loaded.warnings.empty());
  EXPECT_TRUE(loaded.lost.empty());
  ASSERT_EQ(loaded.finished["migrate"].size(), 1u);
  EXPECT_EQ(loaded.finished["migrate"][0], finished(a));
  ASSERT_EQ(loaded.finished["backup"].size(), 1u);
  EXPECT_EQ(loaded.finished["backup"][0], finished(b, JobOutcome::failed, 3));
  EXPECT_EQ(loaded.last_number["migrate"], 1);
}

TEST(RunHistoryFile, StateDirectoryIsCreatedWithItsParents) {
  TempDir dir;
  EventLoop loop;
  RunHistoryFile file(loop, dir / "a/b/c", {{"t", 1}});
  EXPECT_EQ(file.problem(), "");
  file.ended(finished(running("t", 1)));
  EXPECT_NE(read_file(dir / "a/b/c/task-runs.jsonl").find("\"t#1\""), std::string::npos);
  struct stat st;
  ASSERT_EQ(::stat((dir / "a").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
}

TEST(RunHistoryFile, ARunThatNeverEndedComesBackLostOnce) {
  TempDir dir;
  EventLoop loop;
  {
    RunHistoryFile file(loop, dir.path().string(), {{"migrate", 5}});
    file.started(running("migrate", 7, 5000));
  }
  struct stat st;
  ASSERT_EQ(::stat((dir / "task-runs.jsonl").c_str(), &st), 0);
  std::int64_t mtime = st.st_mtim.tv_sec * 1000 + st.st_mtim.tv_nsec / 1000000;
  CapturedLog logged;
  {
    RunHistoryFile file(loop, dir.path().string(), {{"migrate", 5}});
    const LoadedHistory& loaded = file.loaded();
    ASSERT_EQ(loaded.lost.size(), 1u);
    const JobRecord& lost = loaded.lost[0];
    EXPECT_EQ(lost.id, "migrate#7");
    EXPECT_EQ(lost.state, JobState::finished);
    EXPECT_EQ(lost.outcome, JobOutcome::lost);
    EXPECT_EQ(lost.info, "the daemon ended while it ran");
    EXPECT_EQ(lost.ended_ms, mtime);  // the last time the previous daemon wrote the file
    EXPECT_FALSE(lost.pid);
    EXPECT_EQ(protocol::exit_code_of(lost), 125);
    ASSERT_EQ(loaded.finished.at("migrate").size(), 1u);
    EXPECT_EQ(loaded.finished.at("migrate")[0], lost);
    EXPECT_EQ(loaded.last_number.at("migrate"), 7);
    EXPECT_EQ(logged.count("migrate#7"), 1);
  }
  // Recorded: the next daemon finds it finished, not lost again.
  LoadedHistory again = RunHistoryFile::load(dir / "task-runs.jsonl", {{"migrate", 5}});
  EXPECT_TRUE(again.lost.empty());
  ASSERT_EQ(again.finished["migrate"].size(), 1u);
  EXPECT_EQ(again.finished["migrate"][0].outcome, JobOutcome::lost);
  EXPECT_EQ(again.finished["migrate"][0].ended_ms, mtime);
}

TEST(RunHistoryFile, NumberingGoesOnAcrossRestartsAndCompactions) {
  TempDir dir;
  EventLoop loop;
  // history = 0: no finished run is kept, yet the numbers are.
  HistoryKeep keep{{"migrate", 2}, {"ping", 0}};
  for (int life = 0; life < 3; ++life) {
    RunHistoryFile file(loop, dir.path().string(), keep, small(2048));
    std::int64_t next = file.loaded().last_number.count("migrate")
                            ? file.loaded().last_number.at("migrate") + 1
                            : 1;
    EXPECT_EQ(next, 1 + life * 12);
    for (int i = 0; i < 12; ++i) {
      file.started(running("migrate", next + i));
      file.ended(finished(running("migrate", next + i)));
      file.started(running("ping", next + i));
      file.ended(finished(running("ping", next + i)));
    }
    EXPECT_EQ(file.problem(), "");
    EXPECT_LT(file.size(), 4096u);  // compacted on the way
  }
  LoadedHistory loaded = RunHistoryFile::load(dir / "task-runs.jsonl", keep);
  EXPECT_EQ(loaded.last_number["migrate"], 36);
  EXPECT_EQ(loaded.last_number["ping"], 36);
  EXPECT_EQ(numbers(loaded.finished["migrate"]), (std::vector<std::int64_t>{35, 36}));
  EXPECT_FALSE(loaded.finished.count("ping"));
}

TEST(RunHistoryFile, CompactionKeepsTheNewestRunsOfEachTaskAndTheRunningOnes) {
  TempDir dir;
  EventLoop loop;
  HistoryKeep keep{{"often", 3}, {"rare", 2}};
  {
    RunHistoryFile file(loop, dir.path().string(), keep, small(4096));
    file.started(running("rare", 1));
    file.ended(finished(running("rare", 1)));
    file.started(running("rare", 2));
    file.ended(finished(running("rare", 2), JobOutcome::failed, 1));
    file.started(running("long", 1));  // not kept: a removed task
    file.started(running("rare", 3));  // still running across every compaction
    for (int i = 1; i <= 300; ++i) {
      file.started(running("often", i));
      file.ended(finished(running("often", i)));
      ASSERT_LT(file.size(), 2 * 4096u);
    }
    EXPECT_EQ(file.problem(), "");
  }
  LoadedHistory loaded = RunHistoryFile::load(dir / "task-runs.jsonl", keep);
  EXPECT_TRUE(loaded.warnings.empty());
  EXPECT_EQ(numbers(loaded.finished["often"]), (std::vector<std::int64_t>{298, 299, 300}));
  EXPECT_EQ(numbers(loaded.finished["rare"]), (std::vector<std::int64_t>{2, 3}));
  EXPECT_EQ(loaded.finished["rare"][0].outcome, JobOutcome::failed);
  ASSERT_EQ(loaded.lost.size(), 1u);
  EXPECT_EQ(loaded.lost[0].id, "rare#3");
  EXPECT_FALSE(loaded.finished.count("long"));
  EXPECT_EQ(loaded.last_number["long"], 1);  // a task added back goes on from its last number
  EXPECT_FALSE(std::filesystem::exists(dir / "task-runs.jsonl.new"));
}

TEST(RunHistoryFile, EachTaskKeepsItsHistorySetting) {
  TaskConfig a, b;
  a.process.name = "a";
  b.process.name = "b";
  b.history = 0;
  EXPECT_EQ(history_keep({a, b}), (HistoryKeep{{"a", 20}, {"b", 0}}));
}

TEST(RunHistoryFile, TasksOutsideTheKeptOnesAreDropped) {
  TempDir dir;
  write(dir / "task-runs.jsonl", RunHistory::ended_line(finished(running("gone", 4))) +
                                     RunHistory::started_line(running("gone", 5)) +
                                     RunHistory::ended_line(finished(running("kept", 1))));
  LoadedHistory loaded = RunHistoryFile::load(dir / "task-runs.jsonl", {{"kept", 5}});
  EXPECT_EQ(loaded.finished.size(), 1u);
  EXPECT_TRUE(loaded.lost.empty());
  EXPECT_EQ(loaded.last_number["gone"], 5);
}

TEST(RunHistoryFile, GarbageAndACutLastLineAreSkippedCountedAndRewritten) {
  TempDir dir;
  std::string cut = RunHistory::ended_line(finished(running("t", 3)));
  write(dir / "task-runs.jsonl", RunHistory::ended_line(finished(running("t", 1))) + "not json\n" +
                                     "{\"ended\": {\"task\": \"t\"}}\n" + "[1,2]\n" +
                                     "{\"other\": 1}\n" + "\n" +
                                     RunHistory::ended_line(finished(running("t", 2))) +
                                     "\xff\xfe garbage\n" + cut.substr(0, cut.size() / 2));
  LoadedHistory loaded = RunHistoryFile::load(dir / "task-runs.jsonl", {{"t", 10}});
  EXPECT_EQ(numbers(loaded.finished["t"]), (std::vector<std::int64_t>{1, 2}));
  ASSERT_EQ(loaded.warnings.size(), 2u);
  EXPECT_NE(loaded.warnings[0].find("6 unreadable line(s) skipped"), std::string::npos)
      << loaded.warnings[0];
  EXPECT_NE(loaded.warnings[1].find("no end of line"), std::string::npos) << loaded.warnings[1];

  CapturedLog logged;
  EventLoop loop;
  {
    RunHistoryFile file(loop, dir.path().string(), {{"t", 10}});
    EXPECT_EQ(logged.count("unreadable line"), 1);
    EXPECT_EQ(file.problem(), "");
    file.ended(finished(running("t", 3)));
  }
  LoadedHistory again = RunHistoryFile::load(dir / "task-runs.jsonl", {{"t", 10}});
  EXPECT_TRUE(again.warnings.empty()) << again.warnings[0];
  EXPECT_EQ(numbers(again.finished["t"]), (std::vector<std::int64_t>{1, 2, 3}));
}

TEST(RunHistoryFile, AWholeLastLineWithoutItsNewlineIsReadAndTheNextOneStartsOnItsOwn) {
  TempDir dir;
  std::string line = RunHistory::ended_line(finished(running("t", 1)));
  line.pop_back();
  write(dir / "task-runs.jsonl", line);
  EventLoop loop;
  {
    RunHistoryFile file(loop, dir.path().string(), {{"t", 10}});
    EXPECT_EQ(numbers(file.loaded().finished.at("t")), (std::vector<std::int64_t>{1}));
    file.ended(finished(running("t", 2)));
  }
  LoadedHistory again = RunHistoryFile::load(dir / "task-runs.jsonl", {{"t", 10}});
  EXPECT_TRUE(again.warnings.empty());
  EXPECT_EQ(numbers(again.finished["t"]), (std::vector<std::int64_t>{1, 2}));
}

TEST(RunHistoryFile, OverLongLinesAreSkippedWithoutBeingKept) {
  TempDir dir;
  JobRecord huge = finished(running("t", 2));
  huge.info = std::string(RunHistory::kMaxLine, 'x');
  write(dir / "task-runs.jsonl", RunHistory::ended_line(finished(running("t", 1))) +
                                     "{\"ended\":" + protocol::to_json(huge).dump() + "}\n" +
                                     std::string(3 * RunHistory::kMaxLine, '{') + "\n" +
                                     RunHistory::ended_line(finished(running("t", 3))));
  LoadedHistory loaded = RunHistoryFile::load(dir / "task-runs.jsonl", {{"t", 10}});
  EXPECT_EQ(numbers(loaded.finished["t"]), (std::vector<std::int64_t>{1, 3}));
  ASSERT_EQ(loaded.warnings.size(), 1u);
  EXPECT_NE(loaded.warnings[0].find("2 line(s) longer than 64 KiB"), std::string::npos)
      << loaded.warnings[0];
}

TEST(RunHistoryFile, ARunWithHugeArgumentsIsKeptWithTheArgumentsCut) {
  JobRecord r = finished(running("t", 1));
  r.args.assign(1000, std::string(100, 'a'));
  std::string line = RunHistory::ended_line(r);
  EXPECT_LE(line.size(), RunHistory::kMaxLine);
  RunHistory history({{"t", 10}});
  ASSERT_TRUE(history.apply_line(line.substr(0, line.size() - 1)));
  const JobRecord& kept = history.finished().at("t").at(0).record;
  EXPECT_EQ(kept.args, (std::vector<std::string>{"(1000 arguments, 100000 bytes, not kept)"}));
  EXPECT_EQ(kept.outcome, JobOutcome::succeeded);
}

TEST(RunHistoryFile, PiecesOfAnySizeReadLikeTheWhole) {
  std::string text = RunHistory::ended_line(finished(running("t", 1))) + "junk\n" +
                     std::string(RunHistory::kMaxLine + 5, 'y') + "\n" +
                     RunHistory::started_line(running("t", 2)) +
                     RunHistory::ended_line(finished(running("t", 3)));
  text.pop_back();
  for (std::size_t piece : {1ul, 7ul, 4096ul, RunHistory::kMaxLine, text.size()}) {
    RunHistory history({{"t", 10}});
    HistoryLineReader reader(history);
    for (std::size_t at = 0; at < text.size(); at += piece)
      reader.feed(std::string_view(text).substr(at, piece));
    HistoryReadCounts counts = reader.finish();
    EXPECT_EQ(counts.lines, 5u) << piece;
    EXPECT_EQ(counts.garbage, 1u) << piece;
    EXPECT_EQ(counts.too_long, 1u) << piece;
    EXPECT_TRUE(counts.unterminated) << piece;
    EXPECT_EQ(history.running(), 1u) << piece;
    EXPECT_EQ(history.finished().at("t").size(), 2u) << piece;
  }
}

TEST(RunHistoryFile, ARecordNamingAnotherRunIsReadUnderItsTaskAndNumber) {
  JobRecord r = finished(running("t", 4));
  r.id = "other#99";
  RunHistory history({{"t", 10}});
  ASSERT_TRUE(history.apply_line(RunHistory::ended_line(r)));
  EXPECT_EQ(history.finished().at("t").at(0).record.id, "t#4");
  r.number = 0;
  EXPECT_FALSE(history.apply_line(RunHistory::ended_line(r)));
  r.number = 5;
  r.task = "";
  EXPECT_FALSE(history.apply_line(RunHistory::ended_line(r)));
  r.task = "t";
  r.outcome.reset();
  EXPECT_FALSE(history.apply_line(RunHistory::ended_line(r)));  // an end says how it ended
}

TEST(RunHistoryFile, AFileWhereTheStateDirectoryShouldBeLeavesTheHistoryInMemory) {
  TempDir dir;
  write(dir / "state", "a file");
  CapturedLog logged;
  EventLoop loop;
  for (std::string state_dir : {dir / "state", dir / "state/below", std::string()}) {
    RunHistoryFile file(loop, state_dir, {{"t", 3}});
    EXPECT_NE(file.problem().find("kept in memory only"), std::string::npos) << file.problem();
    EXPECT_NE(file.problem().find("state-dir"), std::string::npos) << file.problem();
    if (!state_dir.empty()) {
      EXPECT_NE(file.problem().find(state_dir + ": Not a directory"), std::string::npos)
          << file.problem();
    }
    file.started(running("t", 1));
    file.ended(finished(running("t", 1)));
    EXPECT_EQ(file.history().finished().at("t").size(), 1u);  // kept in memory
  }
  EXPECT_EQ(logged.count("kept in memory only"), 3);
  EXPECT_EQ(read_file(dir / "state"), "a file");
}

TEST(RunHistoryFile, OneDaemonPerStateDirectory) {
  TempDir dir;
  EventLoop loop;
  CapturedLog logged;
  RunHistoryFile first(loop, dir.path().string(), {{"t", 3}});
  first.started(running("t", 1));
  RunHistoryFile second(loop, dir.path().string(), {{"t", 3}});
  EXPECT_NE(second.problem().find("another gardien daemon uses the state directory"),
            std::string::npos)
      << second.problem();
  EXPECT_TRUE(second.loaded().lost.empty());  // the first one's run is not lost
  EXPECT_EQ(first.problem(), "");
}

TEST(RunHistoryFile, AFullDiskIsReportedOnceAndNothingCrashes) {
  TempDir dir;
  std::filesystem::create_symlink("/dev/full", dir / "task-runs.jsonl");
  CapturedLog logged;
  EventLoop loop;
  RunHistoryFile file(loop, dir.path().string(), {{"t", 3}}, small(1024));
  EXPECT_EQ(file.problem(), "");
  for (int i = 1; i <= 200; ++i) {
    file.started(running("t", i));
    file.ended(finished(running("t", i)));
  }
  EXPECT_NE(file.problem().find("No space left on device"), std::string::npos) << file.problem();
  // The writer tries again now and then: still one report.
  Timer later(loop, [] {});
  later.arm(Duration(100));
  ASSERT_TRUE(run_until(loop, [&] { return !later.armed(); }));
  file.ended(finished(running("t", 201)));
  EXPECT_EQ(logged.count("No space left on device"), 1);
  EXPECT_EQ(file.history().finished().at("t").back().record.number, 201);
  EXPECT_TRUE(std::filesystem::is_symlink(dir / "task-runs.jsonl"));  // never renamed over
}

TEST(RunHistoryFile, AfterAFailingWriteTheFileIsMadeWholeFromMemory) {
  TempDir dir;
  CapturedLog logged;
  EventLoop loop;
  HistoryKeep keep{{"t", 100}};
  RunHistoryFile file(loop, dir.path().string(), keep, small(1 << 20));
  file.ended(finished(running("t", 1)));
  {
    FileSizeLimit limit(file.size() + 100);
    for (int i = 2; i <= 30; ++i) {
      file.started(running("t", i));
      file.ended(finished(running("t", i)));
    }
    EXPECT_NE(file.problem().find("File too large"), std::string::npos) << file.problem();
  }
  ASSERT_TRUE(run_until(loop, [&] {
    return file.problem().empty() &&
           RunHistoryFile::load(dir / "task-runs.jsonl", keep).finished["t"].size() == 30;
  }));
  LoadedHistory loaded = RunHistoryFile::load(dir / "task-runs.jsonl", keep);
  EXPECT_TRUE(loaded.warnings.empty());
  EXPECT_TRUE(loaded.lost.empty());
  EXPECT_EQ(logged.count("writing the task run history again"), 1);
}

TEST(RunHistoryFile, DevNullKeepsNothingQuietly) {
  TempDir dir;
  std::filesystem::create_symlink("/dev/null", dir / "task-runs.jsonl");
  EventLoop loop;
  RunHistoryFile file(loop, dir.path().string(), {{"t", 3}}, small(100));
  for (int i = 1; i <= 50; ++i) file.ended(finished(running("t", i)));
  EXPECT_EQ(file.problem(), "");
  EXPECT_TRUE(file.loaded().warnings.empty());
  EXPECT_TRUE(std::filesystem::is_symlink(dir / "task-runs.jsonl"));
}
