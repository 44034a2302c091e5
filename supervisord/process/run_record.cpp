#include "supervisord/process/run_record.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "common/fd.h"
#include "common/replace_file.h"
#include "common/signals.h"
#include "supervisord/loop/log.h"
#include "supervisord/process/cgroup.h"
#include "supervisord/process/process_tree.h"

namespace gardien {

namespace {

constexpr int kFormat = 1;
// Leftovers are not our children: their end is seen by looking, this often.
constexpr auto kLookEvery = std::chrono::milliseconds(10);

std::string read_whole(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

unsigned long long own_start_ticks() {
  auto stat = read_proc_stat(::getpid());
  return stat ? stat->start_ticks : 0;
}

}  // namespace

std::string current_boot_id() {
  std::string id = read_whole("/proc/sys/kernel/random/boot_id");
  while (!id.empty() && (id.back() == '\n' || id.back() == ' ')) id.pop_back();
  return id;
}

std::string to_text(const RunRecordContent& content) {
  nlohmann::ordered_json trees = nlohmann::ordered_json::array();
  for (const RecordedTree& t : content.trees) {
    nlohmann::ordered_json tree = {{"instance", t.instance}, {"pgid", t.pgid}};
    if (!t.cgroup.empty()) tree["cgroup"] = t.cgroup;
    tree["stop_signal"] = t.stop_signal;
    tree["stop_timeout_ms"] =
        std::chrono::duration_cast<std::chrono::milliseconds>(t.stop_timeout).count();
    trees.push_back(std::move(tree));
  }
  nlohmann::ordered_json j = {{"format", kFormat},
                              {"daemon_pid", content.daemon_pid},
                              {"daemon_start_ticks", content.daemon_start_ticks},
                              {"boot_id", content.boot_id},
                              {"trees", std::move(trees)}};
  return j.dump() + "\n";
}

std::optional<RunRecordContent> parse_run_record(std::string_view text) {
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object() || j.value("format", 0) != kFormat) return std::nullopt;
  try {
    RunRecordContent c;
    c.daemon_pid = j.at("daemon_pid").get<pid_t>();
    c.daemon_start_ticks = j.at("daemon_start_ticks").get<unsigned long long>();
    c.boot_id = j.at("boot_id").get<std::string>();
    for (const auto& t : j.at("trees")) {
      RecordedTree tree;
      tree.instance = t.at("instance").get<std::string>();
      tree.pgid = t.at("pgid").get<pid_t>();
      tree.cgroup = t.value("cgroup", "");
      tree.stop_signal = t.at("stop_signal").get<int>();
      tree.stop_timeout = std::chrono::milliseconds(t.at("stop_timeout_ms").get<long long>());
      if (tree.pgid < 0 || tree.stop_signal <= 0 || tree.stop_signal >= NSIG) return std::nullopt;
      c.trees.push_back(std::move(tree));
    }
    return c;
  } catch (const nlohmann::json::exception&) {
    return std::nullopt;
  }
}

RunRecord::RunRecord(EventLoop& loop, std::filesystem::path path,
                     std::function<std::vector<RecordedTree>()> snapshot)
    : path_(std::move(path)),
      snapshot_(std::move(snapshot)),
      write_soon_(loop, [this] { write(); }) {
  content_.daemon_pid = ::getpid();
  content_.daemon_start_ticks = own_start_ticks();
  content_.boot_id = current_boot_id();
  write();
}

RunRecord::~RunRecord() {
  std::error_code ignored;
  std::filesystem::remove(path_, ignored);
}

void RunRecord::mark_changed() {
  if (!write_soon_.armed()) write_soon_.arm(Duration{0});
}

void RunRecord::write() {
  std::vector<RecordedTree> trees = snapshot_();
  // Most changes (a state, a task run queued or finished) leave the trees as they were.
  if (written_ && !failing_ && trees == content_.trees) return;
  content_.trees = std::move(trees);
  std::string text = to_text(content_);
  int error = 0;
  if (!write_in_place(text)) {
    file_.reset();  // replaced (or gone): the next write in place opens the new file
    error = replace_file(path_.string(), text);
  }
  bool ok = error == 0;
  written_ = written_ || ok;
  if (!ok && !std::exchange(failing_, true)) {
    log::warn("cannot record what runs: a daemon killed now would leave its programs running",
              {{"event", "run_record"}, {"path", path_.string()}, {"error", std::strerror(error)}});
  } else if (ok && std::exchange(failing_, false)) {
    log::info("recording what runs again", {{"event", "run_record"}, {"path", path_.string()}});
  }
}

// A record that fits in one page is rewritten in place, padded with spaces (which JSON ignores)
// to the file's length: the writer's death never tears a write of one page, while ext4 starts a
// write-back on every rename over a file (0.3 to 0.6 ms, twice per task run). A longer record
// goes through replace_file.
bool RunRecord::write_in_place(std::string text) {
  constexpr std::size_t kPage = 4096;
  if (text.size() > kPage) return false;
  if (!file_) {
    file_.reset(::open(path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600));
    struct stat st {};
    if (!file_ || ::fstat(file_.get(), &st) != 0 || !S_ISREG(st.st_mode)) {
      file_.reset();
      return false;
    }
    file_length_ = static_cast<std::size_t>(st.st_size);
  }
  if (file_length_ > kPage) return false;
  if (text.size() < file_length_) text.append(file_length_ - text.size(), ' ');
  if (::pwrite(file_.get(), text.data(), text.size(), 0) != static_cast<ssize_t>(text.size())) {
    file_.reset();
    return false;
  }
  file_length_ = text.size();
  return true;
}

namespace {

// The live processes of the recorded groups that started after the recording daemon did.
std::map<pid_t, std::vector<pid_t>> live_members(const RunRecordContent& record) {
  std::map<pid_t, std::vector<pid_t>> out;
  for (const RecordedTree& t : record.trees) {
    if (t.pgid > 0) out[t.pgid];
  }
  for_each_process([&](pid_t pid, const ProcStat& s) {
    auto it = out.find(s.pgrp);
    if (it == out.end() || s.zombie() || s.start_ticks < record.daemon_start_ticks) return;
    it->second.push_back(pid);
  });
  std::erase_if(out, [](const auto& entry) { return entry.second.empty(); });
  return out;
}

bool predecessor_alive(const RunRecordContent& record) {
  if (record.daemon_pid <= 0 || record.daemon_pid == ::getpid()) return false;
  auto stat = read_proc_stat(record.daemon_pid);
  return stat && !stat->zombie() && stat->start_ticks == record.daemon_start_ticks;
}

std::vector<pid_t> cgroup_pids(const std::string& cgroup) {
  std::vector<pid_t> pids;
  std::ifstream in(std::filesystem::path(cgroup) / "cgroup.procs");
  for (pid_t pid; in >> pid;) pids.push_back(pid);
  return pids;
}

void signal_tree(const RecordedTree& t, bool group_alive, int signo) {
  if (group_alive) ::kill(-t.pgid, signo);
  if (!t.cgroup.empty()) {
    for (pid_t pid : cgroup_pids(t.cgroup)) ::kill(pid, signo);
  }
}

}  // namespace

int stop_leftovers_of_predecessor(const std::filesystem::path& path) {
  std::string text = read_whole(path);
  if (text.empty()) return 0;
  std::optional<RunRecordContent> record = parse_run_record(text);
  std::error_code ignored;
  if (!record) {
    log::warn("ignoring an unreadable record of a previous daemon",
              {{"event", "predecessor"}, {"path", path.string()}});
    std::filesystem::remove(path, ignored);
    return 0;
  }
  if (predecessor_alive(*record) || record->boot_id != current_boot_id()) return 0;
  std::map<pid_t, std::vector<pid_t>> groups = live_members(*record);
  int found = 0;
  auto deadline = std::chrono::steady_clock::now();
  for (const RecordedTree& t : record->trees) {
    bool group_alive = t.pgid > 0 && groups.count(t.pgid);
    int count = group_alive ? static_cast<int>(groups[t.pgid].size()) : 0;
    if (!t.cgroup.empty()) count += static_cast<int>(cgroup_pids(t.cgroup).size());
    if (count == 0) continue;
    found += count;
    log::warn("stopping what a killed daemon left running",
              {{"event", "predecessor"},
               {"program", t.instance},
               {"processes", count},
               {"pgid", t.pgid},
               {"previous_daemon", record->daemon_pid},
               {"signal", signal_name(t.stop_signal)}});
    signal_tree(t, group_alive, t.stop_signal);
    signal_tree(t, group_alive, SIGCONT);
    deadline = std::max(deadline, std::chrono::steady_clock::now() + t.stop_timeout);
  }
  auto anything_left = [&] {
    if (!live_members(*record).empty()) return true;
    return std::any_of(record->trees.begin(), record->trees.end(), [](const RecordedTree& t) {
      return !t.cgroup.empty() && !cgroup_pids(t.cgroup).empty();
    });
  };
  while (found > 0 && anything_left() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(kLookEvery);
  if (found > 0 && anything_left()) {
    std::map<pid_t, std::vector<pid_t>> left = live_members(*record);
    for (const RecordedTree& t : record->trees) {
      bool group_alive = t.pgid > 0 && left.count(t.pgid);
      if (!group_alive && (t.cgroup.empty() || cgroup_pids(t.cgroup).empty())) continue;
      log::warn("killing what a killed daemon left running after its stop-timeout",
                {{"event", "predecessor"}, {"program", t.instance}, {"signal", "SIGKILL"}});
      signal_tree(t, group_alive, SIGKILL);
    }
    // Gone in a moment: their ports and files are free before anything new starts.
    auto killed_by = std::chrono::steady_clock::now() + std::chrono::seconds(1);
    while (anything_left() && std::chrono::steady_clock::now() < killed_by)
      std::this_thread::sleep_for(kLookEvery);
  }
  for (const RecordedTree& t : record->trees) {
    if (t.cgroup.empty()) continue;
    std::filesystem::remove(t.cgroup, ignored);  // empty by now, or it stays
    std::filesystem::remove(std::filesystem::path(t.cgroup).parent_path(), ignored);
  }
  std::filesystem::remove(path, ignored);
  return found;
}

}  // namespace gardien
