#include "supervisord/jobs/run_history_file.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <utility>

#include "common/replace_file.h"
#include "supervisord/loop/log.h"

namespace gardien {

namespace {

constexpr std::size_t kReadChunk = 64 * 1024;
constexpr const char* kFix =
    "set [supervisor] state-dir to a directory the daemon may create and write";

struct ReadResult {
  HistoryReadCounts counts;
  std::optional<std::int64_t> changed_ms;  // the file's mtime: the last time a daemon wrote it
  // A character device (/dev/null: no history kept) is appended to, never read nor rewritten.
  enum class Kind { missing, regular, device, other } kind = Kind::missing;
  std::uint64_t size = 0;
};

std::int64_t mtime_ms(const struct stat& st) {
  return static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000 + st.st_mtim.tv_nsec / 1000000;
}

// Feeds `path` to `history` in pieces: memory stays bounded whatever the file holds.
ReadResult read_history(const std::string& path, RunHistory& history) {
  ReadResult result;
  // O_NONBLOCK: a FIFO put in the file's place must not hang the daemon's start.
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY));
  struct stat st;
  if (!fd || ::fstat(fd.get(), &st) != 0) return result;
  if (!S_ISREG(st.st_mode)) {
    result.kind = S_ISCHR(st.st_mode) ? ReadResult::Kind::device : ReadResult::Kind::other;
    return result;
  }
  result.kind = ReadResult::Kind::regular;
  result.changed_ms = mtime_ms(st);
  HistoryLineReader reader(history);
  std::string chunk(kReadChunk, '\0');
  for (;;) {
    ssize_t n = ::read(fd.get(), chunk.data(), chunk.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    result.size += static_cast<std::uint64_t>(n);
    reader.feed(std::string_view(chunk.data(), static_cast<std::size_t>(n)));
  }
  result.counts = reader.finish();
  return result;
}

LoadedHistory loaded_from(RunHistory& history, const ReadResult& read, const std::string& path) {
  LoadedHistory loaded;
  loaded.lost = history.end_running_as_lost(read.changed_ms);
  for (const auto& [task, runs] : history.finished()) {
    for (const RunHistory::Kept& k : runs) loaded.finished[task].push_back(k.record);
  }
  for (const auto& [task, number] : history.last_numbers()) loaded.last_number[task] = number;
  loaded.warnings = describe(read.counts, history, path);
  if (read.kind == ReadResult::Kind::other)
    loaded.warnings.push_back("the task run history " + path +
                              " is not a regular file: not read (remove it, or " + kFix + ")");
  return loaded;
}

// mkdir -p, each directory it makes 0700: what is in it is the daemon's alone.
int make_directories(const std::filesystem::path& dir) {
  std::filesystem::path at;
  for (const auto& part : dir) {
    at /= part;
    if (::mkdir(at.c_str(), 0700) == 0 || errno == EEXIST) continue;
    return errno;
  }
  struct stat st;
  if (::stat(dir.c_str(), &st) != 0) return errno;
  return S_ISDIR(st.st_mode) ? 0 : ENOTDIR;
}

std::string lost_ids(const std::vector<protocol::JobRecord>& lost) {
  std::string ids;
  for (const auto& r : lost) ids += (ids.empty() ? "" : ", ") + r.id;
  return ids;
}

}  // namespace

LoadedHistory RunHistoryFile::load(const std::string& path, const HistoryKeep& keep) {
  RunHistory history(keep);
  ReadResult read = read_history(path, history);
  return loaded_from(history, read, path);
}

RunHistoryFile::RunHistoryFile(EventLoop& loop, std::string state_dir, HistoryKeep keep,
                               Options options)
    : path_((std::filesystem::path(state_dir) / kFileName).string()),
      options_(options),
      history_(std::move(keep)),
      writer_(loop, options.limits),
      rewrite_soon_(loop, [this] { compact(); }),
      next_compaction_(options.compact_above) {
  writer_.on_error_change([this](int err, std::uint64_t dropped) { on_write_error(err, dropped); });
  if (!take_state_dir(state_dir)) return;
  ReadResult read = read_history(path_, history_);
  loaded_ = loaded_from(history_, read, path_);
  for (const std::string& warning : loaded_.warnings)
    log::warn(warning, {{"event", "run_history"}, {"path", path_}});
  if (!loaded_.lost.empty())
    log::warn("task runs were running when the previous daemon ended: recorded as lost",
              {{"event", "run_history"}, {"runs", lost_ids(loaded_.lost)}});
  persistent_ = true;
  rewritable_ = read.kind == ReadResult::Kind::missing || read.kind == ReadResult::Kind::regular;
  bool damaged = read.counts.garbage > 0 || read.counts.too_long > 0 || read.counts.unterminated ||
                 history_.running_dropped() > 0;
  // A damaged file is rewritten whole, the lost runs with it; else they are appended.
  if ((damaged || !loaded_.lost.empty() || read.size > options_.compact_above) && compact()) return;
  open_for_append(read.counts.unterminated);
  for (const auto& record : loaded_.lost) append(RunHistory::ended_line(record));
}

bool RunHistoryFile::take_state_dir(const std::string& state_dir) {
  std::string why;
  if (state_dir.empty()) {
    why = "no state directory is set";
  } else if (int err = make_directories(state_dir)) {
    why = "cannot use the state directory " + state_dir + ": " + std::strerror(err);
  } else {
    // One daemon per state directory: another one's running runs are not lost.
    dir_lock_.reset(::open(state_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!dir_lock_ || ::flock(dir_lock_.get(), LOCK_EX | LOCK_NB) != 0) {
      why = errno == EWOULDBLOCK
                ? "another gardien daemon uses the state directory " + state_dir
                : "cannot lock the state directory " + state_dir + ": " + std::strerror(errno);
      dir_lock_.reset();
    }
  }
  if (why.empty()) return true;
  setup_problem_ = why + " (" + kFix + "); task runs are kept in memory only";
  log::error(setup_problem_, {{"event", "run_history"}, {"path", path_}});
  return false;
}

void RunHistoryFile::open_for_append(bool needs_newline) {
  // O_NONBLOCK: opening a FIFO without a reader fails instead of waiting for one.
  Fd fd(::open(path_.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY | O_NONBLOCK,
               0600));
  struct stat st;
  int err = !fd || ::fstat(fd.get(), &st) != 0 ? errno : 0;
  if (!err && !S_ISREG(st.st_mode) && !S_ISCHR(st.st_mode)) err = EINVAL;
  if (err) {
    persistent_ = false;
    setup_problem_ = "cannot open the task run history " + path_ + ": " +
                     (err == EINVAL ? "not a regular file" : std::strerror(err)) + " (" + kFix +
                     "); task runs are kept in memory only";
    log::error(setup_problem_, {{"event", "run_history"}, {"path", path_}});
    return;
  }
  rewritable_ = S_ISREG(st.st_mode);
  size_at_open_ = rewritable_ ? static_cast<std::uint64_t>(st.st_size) : 0;
  written_at_open_ = writer_.written_bytes();
  // A regular file's write(2) waits for the page cache, never for a reader: the program log
  // files are written the same way (QueuedWriter's blocking mode).
  writer_.set_target({std::move(fd), QueuedWriter::Mode::blocking});
  if (needs_newline) writer_.write("\n");
}

std::uint64_t RunHistoryFile::size() const noexcept {
  return size_at_open_ + (writer_.written_bytes() - written_at_open_) + writer_.queued();
}

void RunHistoryFile::started(const protocol::JobRecord& record) {
  append(history_.started(record));
}

void RunHistoryFile::ended(const protocol::JobRecord& record) {
  append(history_.ended(record));
}

void RunHistoryFile::append(const std::string& line) {
  if (!persistent_) return;
  writer_.write(line);
  if (size() > next_compaction_ && writer_.queued() == 0 && writer_.error() == 0) compact();
}

bool RunHistoryFile::compact() {
  if (!persistent_ || !rewritable_) return false;
  // Lines still queued are in memory too: written after the rewrite, they would count twice.
  if (writer_.queued() > 0) {
    rewrite_soon_.arm(options_.limits.retry);
    return false;
  }
  // Written at once on the loop, like a program log file: at most what is kept, to the cache.
  std::string text = history_.text();
  if (int err = replace_file(path_, text, options_.sync)) {
    next_compaction_ = size() + options_.compact_above / 4;
    set_problem("cannot rewrite the task run history " + path_ + ": " + std::strerror(err) +
                "; appending to it meanwhile");
    return false;
  }
  Fd fd(::open(path_.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC | O_NOCTTY));
  if (!fd) {
    int err = errno;
    writer_.fail(err);
    set_problem("cannot open the rewritten task run history " + path_ + ": " + std::strerror(err));
    return false;
  }
  size_at_open_ = text.size();
  written_at_open_ = writer_.written_bytes();
  writer_.set_target({std::move(fd), QueuedWriter::Mode::blocking});
  // Never rewrite at every run when what is kept is itself near the limit.
  next_compaction_ = std::max<std::uint64_t>(options_.compact_above, 2 * text.size());
  set_problem("");
  return true;
}

void RunHistoryFile::on_write_error(int err, std::uint64_t dropped) {
  if (err != 0) {
    set_problem("cannot write the task run history " + path_ + ": " + std::strerror(err) +
                "; the newest runs wait in memory and are written when it works again");
    return;
  }
  set_problem("");
  // Lines dropped meanwhile: memory has them all, so the file is made whole again.
  if (dropped > 0) rewrite_soon_.arm(Duration{0});
}

void RunHistoryFile::set_problem(std::string problem) {
  if (problem == write_problem_) return;
  if (!problem.empty()) {
    log::error(problem, {{"event", "run_history"}, {"path", path_}});
  } else {
    log::info("writing the task run history again", {{"event", "run_history"}, {"path", path_}});
  }
  write_problem_ = std::move(problem);
}

std::string RunHistoryFile::problem() const {
  return setup_problem_.empty() ? write_problem_ : setup_problem_;
}

}  // namespace gardien
