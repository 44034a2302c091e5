#include "supervisord/output/file_sink.h"

#include <gtest/gtest.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <regex>

#include "output/output_test_util.h"
#include "supervisord/loop/log.h"

using namespace gardien;
using namespace gardien::testing;

namespace {

// Collects the daemon's log lines for the life of the test.
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

FileSink::Options options(std::uint64_t max_size, int keep) {
  FileSink::Options o;
  o.max_size = max_size;
  o.keep = keep;
  o.limits.retry = Duration(20);
  o.limits.failing_limit = 4096;
  return o;
}

std::string padded(int i, std::size_t width = 50) {
  std::string line = "line ";
  line += std::to_string(i);
  line += ' ';
  line.append(width - 1 - line.size(), 'x');
  return line;  // `width` bytes with its '\n'
}

void write_lines(FileSink& sink, const std::vector<std::string>& texts, bool timestamps = false) {
  std::vector<std::string> owned;
  for (const auto& t : texts) owned.push_back(t + "\n");
  std::vector<std::string_view> views(owned.begin(), owned.end());
  sink.write(LineBatch{"prog", Stream::out, WallClock::now(), timestamps, views});
}

bool exists(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0;
}

std::uint64_t file_size(const std::string& path) {
  return std::filesystem::file_size(path);
}

std::string numbered(const std::string& path, int n) {
  std::string p = path;
  p += '.';
  p += std::to_string(n);
  return p;
}

// PATH, PATH.1, ... PATH.n as they exist, newest first.
std::vector<std::string> log_files(const std::string& path) {
  std::vector<std::string> files;
  if (exists(path)) files.push_back(path);
  for (int n = 1; exists(numbered(path, n)); ++n) files.push_back(numbered(path, n));
  return files;
}

// Every file is within `max_size` and all of them together hold lines `first`..`last` of
// `width` bytes in order, each whole; returns how many lines they hold.
std::size_t expect_rotated_in_order(const std::string& path, std::uint64_t max_size,
                                    std::size_t width) {
  std::vector<std::string> files = log_files(path);
  std::string all;
  for (auto it = files.rbegin(); it != files.rend(); ++it) {
    EXPECT_LE(file_size(*it), max_size) << *it << " passed max-size";
    all += read_file(*it);
  }
  auto lines = split_lines(all);
  int last = -1;
  for (const auto& line : lines) {
    EXPECT_EQ(line.size(), width - 1) << line;
    int n = std::stoi(line.substr(5));
    EXPECT_EQ(line, padded(n, width));
    EXPECT_GT(n, last);
    last = n;
  }
  return lines.size();
}

// The file size limit of this process for the life of the object: writes past it fail with
// EFBIG (SIGXFSZ ignored meanwhile), as a full disk would fail them.
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
    if (lifted_) return;
    lifted_ = true;
    ::setrlimit(RLIMIT_FSIZE, &saved_);
    ::signal(SIGXFSZ, saved_handler_);
  }

 private:
  rlimit saved_{};
  sighandler_t saved_handler_ = SIG_DFL;
  bool lifted_ = false;
};

}  // namespace

TEST(FileSink, AppendsAndCreatesTheFileWithMode0640) {
  TempDir dir;
  EventLoop loop;
  ::umask(022);
  std::string path = dir / "app.log";
  {
    FileSink sink(loop, path, options(0, 0));
    write_lines(sink, {"one", "two"});
  }
  struct stat st;
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0640u);
  FileSink again(loop, path, options(0, 0));
  write_lines(again, {"three"});
  EXPECT_EQ(read_file(path), "one\ntwo\nthree\n");
  EXPECT_EQ(again.problem(), "");
}

TEST(FileSink, RotationKeepsExactlyKeepFilesEachAtMostMaxSize) {
  TempDir dir;
  EventLoop loop;
  std::string path = dir / "app.log";
  FileSink sink(loop, path, options(1000, 3));
  EXPECT_TRUE(sink.rotates());
  const int kLines = 300;
  for (int i = 0; i < kLines;) {
    std::vector<std::string> batch;
    for (int j = 0; j < 7 && i < kLines; ++j) batch.push_back(padded(i++));
    write_lines(sink, batch);
  }
  ASSERT_TRUE(exists(path));
  for (int n = 1; n <= 3; ++n) {
    ASSERT_TRUE(exists(numbered(path, n))) << n;
    EXPECT_EQ(file_size(numbered(path, n)), 1000u) << n;  // 20 lines of 50 bytes each
  }
  EXPECT_FALSE(exists(numbered(path, 4)));
  EXPECT_LE(file_size(path), 1000u);
  // Oldest to newest, the files hold consecutive lines ending with the last one written.
  std::string all = read_file(numbered(path, 3)) + read_file(numbered(path, 2)) +
                    read_file(numbered(path, 1)) + read_file(path);
  auto lines = split_lines(all);
  ASSERT_FALSE(lines.empty());
  int first = kLines - static_cast<int>(lines.size());
  for (std::size_t i = 0; i < lines.size(); ++i)
    ASSERT_EQ(lines[i], padded(first + static_cast<int>(i)));
}

TEST(FileSink, AChunkOfManyLinesIsRotatedBetweenItsLines) {
  TempDir dir;
  EventLoop loop;
  std::string path = dir / "app.log";
  FileSink sink(loop, path, options(1000, 3));
  // 300 lines of 50 bytes as the reader hands them: runs of whole lines, one view per read.
  std::string all;
  for (int i = 0; i < 300; ++i) all += padded(i) + "\n";
  for (std::size_t off = 0; off < all.size(); off += 50 * 37) {
    std::string_view chunk = std::string_view(all).substr(off, 50 * 37);
    sink.write(LineBatch{"prog", Stream::out, WallClock::now(), false, std::span(&chunk, 1)});
  }
  for (int n = 1; n <= 3; ++n) EXPECT_EQ(file_size(numbered(path, n)), 1000u) << n;
  EXPECT_FALSE(exists(numbered(path, 4)));
  EXPECT_EQ(read_file(path), all.substr(all.size() - file_size(path)));
  EXPECT_EQ(file_size(path) % 50, 0u);
  EXPECT_EQ(read_file(numbered(path, 1)), all.substr(all.size() - file_size(path) - 1000, 1000));
}

TEST(FileSink, ALineLongerThanMaxSizeIsKeptWholeInAFileOfItsOwn) {
  TempDir dir;
  EventLoop loop;
  std::string path = dir / "app.log";
  FileSink sink(loop, path, options(100, 5));
  std::string big(300, 'B');
  write_lines(sink, {"short", big, "after"});
  EXPECT_EQ(read_file(numbered(path, 2)), "short\n");
  EXPECT_EQ(read_file(numbered(path, 1)), big + "\n");
  EXPECT_EQ(read_file(path), "after\n");
}

TEST(FileSink, KeepZeroStartsOverWithoutBackups) {
  TempDir dir;
  EventLoop loop;
  std::string path = dir / "app.log";
  FileSink sink(loop, path, options(200, 0));
  for (int i = 0; i < 20; ++i) write_lines(sink, {padded(i)});
  EXPECT_LE(file_size(path), 200u);
  EXPECT_FALSE(exists(numbered(path, 1)));
  EXPECT_EQ(split_lines(read_file(path)).back(), padded(19));
}

TEST(FileSink, ReopenAfterAnExternalRename) {
  TempDir dir;
  EventLoop loop;
  std::string path = dir / "app.log";
  FileSink sink(loop, path, options(0, 0));
  write_lines(sink, {"before"});
  ASSERT_EQ(::rename(path.c_str(), (dir / "app.log.old").c_str()), 0);
  write_lines(sink, {"still the old file"});
  sink.reopen();
  write_lines(sink, {"new file"});
  EXPECT_EQ(read_file(dir / "app.log.old"), "before\nstill the old file\n");
  EXPECT_EQ(read_file(path), "new file\n");
}

TEST(FileSink, AFileTruncatedBehindItsBackIsNotRotatedEarly) {
  TempDir dir;
  EventLoop loop;
  std::string path = dir / "app.log";
  FileSink sink(loop, path, options(1000, 3));
  for (int i = 0; i < 15; ++i) write_lines(sink, {padded(i)});
  ASSERT_EQ(::truncate(path.c_str(), 0), 0);  // logrotate copytruncate
  for (int i = 15; i < 30; ++i) write_lines(sink, {padded(i)});
  EXPECT_FALSE(exists(numbered(path, 1)));
  EXPECT_EQ(file_size(path), 750u);
}

TEST(FileSink, TimestampsPrefixEachLine) {
  TempDir dir;
  EventLoop loop;
  std::string path = dir / "app.log";
  FileSink sink(loop, path, options(0, 0));
  write_lines(sink, {"a", "b"}, true);
  EXPECT_TRUE(std::regex_match(
      read_file(path), std::regex(R"((\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z [ab]\n){2})")));
}

TEST(FileSink, TimestampsPrefixEachLineOfAChunk) {
  TempDir dir;
  EventLoop loop;
  std::string path = dir / "app.log";
  FileSink sink(loop, path, options(0, 0));
  std::string_view chunk = "one\ntwo\n\nfour\n";
  sink.write(LineBatch{"prog", Stream::out, WallClock::now(), true, std::span(&chunk, 1)});
  auto lines = split_lines(read_file(path));
  ASSERT_EQ(lines.size(), 4u);
  std::regex stamped(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (one|two||four))");
  for (const auto& line : lines) EXPECT_TRUE(std::regex_match(line, stamped)) << line;
}

TEST(FileSink, ATargetThatCannotSeekJustWorksWithoutRotation) {
  TempDir dir;
  EventLoop loop;
  std::string path = dir / "fifo";
  ASSERT_EQ(::mkfifo(path.c_str(), 0600), 0);
  Fd reader(::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
  ASSERT_TRUE(reader);
  FileSink sink(loop, path, options(10, 3));
  EXPECT_FALSE(sink.rotates());
  for (int i = 0; i < 5; ++i) write_lines(sink, {padded(i)});
  std::string got;
  ASSERT_TRUE(run_until(loop, [&] {
    read_available(reader.get(), got);
    return count_lines(got) == 5;
  }));
  EXPECT_EQ(split_lines(got).back(), padded(4));
  EXPECT_FALSE(exists(numbered(path, 1)));
  EXPECT_EQ(sink.problem(), "");
}

TEST(FileSink, ASymlinkLikeDevStdoutIsWrittenButNeverRenamed) {
  TempDir dir;
  EventLoop loop;
  std::string real = dir / "real.log";
  std::string link = dir / "link.log";
  ASSERT_EQ(::symlink(real.c_str(), link.c_str()), 0);
  FileSink sink(loop, link, options(60, 3));
  EXPECT_FALSE(sink.rotates());
  for (int i = 0; i < 5; ++i) write_lines(sink, {padded(i)});
  EXPECT_EQ(split_lines(read_file(real)).size(), 5u);
  EXPECT_FALSE(exists(numbered(link, 1)));
}

TEST(FileSink, DevFullIsReportedOnceAndNothingCrashesOrGrows) {
  CapturedLog logged;
  EventLoop loop;
  FileSink sink(loop, "/dev/full", options(100, 3));
  EXPECT_FALSE(sink.rotates());
  for (int i = 0; i < 2000; ++i) write_lines(sink, {padded(i)});
  EXPECT_EQ(sink.problem(), "No space left on device");
  EXPECT_LE(sink.writer().queued(), 4096u);
  EXPECT_GT(sink.writer().dropped_lines(), 1900u);
  // Let the retry timer try a few times: still one report.
  ASSERT_TRUE(run_until(loop, [&] { return sink.writer().retries() >= 3; }));
  for (int i = 0; i < 10; ++i) write_lines(sink, {padded(i)});
  EXPECT_EQ(logged.count("cannot write to log file"), 1);
  EXPECT_EQ(logged.count("No space left on device"), 1);
  EXPECT_EQ(sink.problem(), "No space left on device");
}

TEST(FileSink, AnUnopenablePathIsReportedAndRetried) {
  CapturedLog logged;
  TempDir dir;
  EventLoop loop;
  std::string blocker = dir / "not-a-dir";
  { std::ofstream(blocker) << "x"; }
  FileSink sink(loop, blocker + "/app.log", options(0, 0));
  EXPECT_EQ(sink.problem(), "Not a directory");
  write_lines(sink, {"waiting"});
  ASSERT_EQ(::unlink(blocker.c_str()), 0);
  ASSERT_EQ(::mkdir(blocker.c_str(), 0700), 0);
  ASSERT_TRUE(run_until(loop, [&] { return sink.problem().empty(); }));
  EXPECT_EQ(read_file(blocker + "/app.log"), "waiting\n");  // the line written while failing
  EXPECT_EQ(logged.count("writing to log file resumed"), 1);
}

TEST(FileSink, DirectoryGoneIsReportedAndWritingResumesWhenItIsBack) {
  TempDir dir;
  EventLoop loop;
  std::string sub = dir / "sub";
  ASSERT_EQ(::mkdir(sub.c_str(), 0700), 0);
  std::string path = sub + "/app.log";
  FileSink sink(loop, path, options(0, 0));
  write_lines(sink, {"first"});
  std::filesystem::remove_all(sub);
  int i = 0;
  // The deletion is noticed within one check interval (20 ms here) of writing.
  ASSERT_TRUE(run_until(loop, [&] {
    write_lines(sink, {padded(i++)});
    return sink.problem() == "No such file or directory";
  }));
  write_lines(sink, {"while gone"});
  ASSERT_EQ(::mkdir(sub.c_str(), 0700), 0);
  ASSERT_TRUE(run_until(loop, [&] { return sink.problem().empty(); }));
  write_lines(sink, {"back"});
  auto lines = split_lines(read_file(path));
  ASSERT_GE(lines.size(), 2u);
  EXPECT_EQ(lines[lines.size() - 2], "while gone");
  EXPECT_EQ(lines.back(), "back");
}

// A small tmpfs mounted for one test (root only); `error` says why not.
struct Tmpfs {
  std::string path;
  std::string error;
  Tmpfs(std::string where, const char* options) : path(std::move(where)) {
    if (::mkdir(path.c_str(), 0700) != 0 ||
        ::mount("tmpfs", path.c_str(), "tmpfs", 0, options) != 0)
      error = std::string("cannot mount a tmpfs here (needs root): ") + std::strerror(errno);
  }
  ~Tmpfs() {
    if (error.empty()) ::umount2(path.c_str(), MNT_DETACH);
  }
};

TEST(FileSink, TinyTmpfsFillsUpAndWritingResumesOnceSpaceIsFreed) {
  TempDir dir;
  Tmpfs tmpfs(dir / "mnt", "size=64k");
  if (!tmpfs.error.empty()) GTEST_SKIP() << tmpfs.error;
  std::string mnt = tmpfs.path;
  std::string filler = mnt + "/filler";
  { std::ofstream(filler) << std::string(40 * 1024, 'f'); }

  CapturedLog logged;
  EventLoop loop;
  std::string path = mnt + "/app.log";
  std::uint64_t dropped = 0;
  int written = 0;
  {
    FileSink sink(loop, path, options(0, 0));
    while (sink.problem().empty() && written < 10000) write_lines(sink, {padded(written++, 100)});
    ASSERT_EQ(sink.problem(), "No space left on device");
    for (int i = 0; i < 200; ++i) write_lines(sink, {padded(written++, 100)});
    EXPECT_LE(sink.writer().queued(), 4096u + 100u);
    ASSERT_EQ(::unlink(filler.c_str()), 0);
    ASSERT_TRUE(
        run_until(loop, [&] { return sink.problem().empty() && sink.writer().queued() == 0; }));
    write_lines(sink, {padded(written++, 100)});
    dropped = sink.writer().dropped_lines();
  }
  EXPECT_EQ(logged.count("cannot write to log file"), 1);
  EXPECT_EQ(logged.count("writing to log file resumed"), 1);
  // Every line in the file is whole and in order; with the dropped ones, all are accounted for.
  auto lines = split_lines(read_file(path));
  int last = -1;
  for (const auto& line : lines) {
    ASSERT_EQ(line.size(), 99u) << line;
    int n = std::stoi(line.substr(5));
    ASSERT_EQ(line, padded(n, 100));
    ASSERT_GT(n, last);
    last = n;
  }
  EXPECT_EQ(last, written - 1);
  EXPECT_EQ(lines.size() + dropped, static_cast<std::size_t>(written));
}

TEST(FileSink, LinesQueuedWhileTheDirectoryWasMissingAreRotatedIntoFilesOfMaxSize) {
  TempDir dir;
  EventLoop loop;
  std::string sub = dir / "later";
  std::string path = sub + "/app.log";
  FileSink sink(loop, path, options(1000, 20));
  for (int i = 0; i < 200; ++i) write_lines(sink, {padded(i)});
  ASSERT_EQ(sink.problem(), "No such file or directory");
  ASSERT_GT(sink.writer().queued(), 3000u) << "the queue holds several files' worth";
  ASSERT_EQ(::mkdir(sub.c_str(), 0700), 0);
  ASSERT_TRUE(
      run_until(loop, [&] { return sink.problem().empty() && sink.writer().queued() == 0; }));
  write_lines(sink, {padded(200)});
  EXPECT_GE(log_files(path).size(), 4u);
  std::size_t lines = expect_rotated_in_order(path, 1000, 50);
  EXPECT_EQ(lines + sink.writer().dropped_lines(), 201u);
}

TEST(FileSink, LinesQueuedBehindANearlyFullFileGoToTheNextFile) {
  TempDir dir;
  EventLoop loop;
  std::string path = dir / "app.log";
  FileSink sink(loop, path, options(1000, 20));
  for (int i = 0; i < 16; ++i) write_lines(sink, {padded(i)});
  ASSERT_EQ(file_size(path), 800u);
  int written = 16;
  {
    FileSizeLimit full(800);  // the disk fills up
    for (int i = 0; i < 100; ++i) write_lines(sink, {padded(written++)});
    ASSERT_EQ(sink.problem(), "File too large");
    ASSERT_GT(sink.writer().queued(), 3000u);
  }
  ASSERT_TRUE(
      run_until(loop, [&] { return sink.problem().empty() && sink.writer().queued() == 0; }));
  write_lines(sink, {padded(written++)});
  EXPECT_GE(log_files(path).size(), 4u);
  std::size_t lines = expect_rotated_in_order(path, 1000, 50);
  EXPECT_EQ(lines + sink.writer().dropped_lines(), static_cast<std::size_t>(written));
}

TEST(FileSink, ALongLineQueuedGetsAFileOfItsOwnAndTheNextLinesTheFileAfter) {
  TempDir dir;
  EventLoop loop;
  std::string sub = dir / "later";
  std::string path = sub + "/app.log";
  FileSink sink(loop, path, options(100, 5));
  std::string big(300, 'B');
  write_lines(sink, {"short", big, "after", "again"});
  ASSERT_EQ(sink.problem(), "No such file or directory");
  ASSERT_EQ(::mkdir(sub.c_str(), 0700), 0);
  ASSERT_TRUE(
      run_until(loop, [&] { return sink.problem().empty() && sink.writer().queued() == 0; }));
  EXPECT_EQ(read_file(numbered(path, 2)), "short\n");
  EXPECT_EQ(read_file(numbered(path, 1)), big + "\n");
  EXPECT_EQ(read_file(path), "after\nagain\n");
}

TEST(FileSink, FullTmpfsFreedAgainKeepsEveryFileWithinMaxSize) {
  TempDir dir;
  Tmpfs tmpfs(dir / "mnt", "size=1m");
  if (!tmpfs.error.empty()) GTEST_SKIP() << tmpfs.error;
  std::string mnt = tmpfs.path;
  std::string filler = mnt + "/filler";
  // Room for about 3.9 files of 100 KB: the disk fills up near the end of the fourth one.
  { std::ofstream(filler) << std::string(636 * 1024, 'f'); }

  EventLoop loop;
  std::string path = mnt + "/app.log";
  FileSink::Options o = options(100 * 1000, 100);
  o.limits.failing_limit = 128 * 1024;
  int written = 0;
  std::uint64_t dropped = 0;
  {
    FileSink sink(loop, path, o);
    while (sink.problem().empty() && written < 100000) write_lines(sink, {padded(written++, 100)});
    ASSERT_EQ(sink.problem(), "No space left on device");
    for (int i = 0; i < 1500; ++i) write_lines(sink, {padded(written++, 100)});
    ASSERT_GT(sink.writer().queued(), 120u * 1024);
    ASSERT_EQ(::unlink(filler.c_str()), 0);
    ASSERT_TRUE(
        run_until(loop, [&] { return sink.problem().empty() && sink.writer().queued() == 0; }));
    write_lines(sink, {padded(written++, 100)});
    dropped = sink.writer().dropped_lines();
  }
  std::size_t lines = expect_rotated_in_order(path, 100 * 1000, 100);
  EXPECT_EQ(lines + dropped, static_cast<std::size_t>(written));
}
