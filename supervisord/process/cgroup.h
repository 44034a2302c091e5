// Per-instance cgroups for kill-mode = "cgroup": a tree that double-forks and setsid() can't leave.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "common/fd.h"

namespace gardien {

class Cgroup;

// The daemon's own subtree in a writable cgroup v2 hierarchy: <own cgroup>/gardien.<pid>.
class CgroupTree {
 public:
  // Creates the subtree; nullptr and `why` set when no writable cgroup v2 hierarchy is usable.
  static std::unique_ptr<CgroupTree> create(std::string& why);
  ~CgroupTree();  // removes the subtree (only empty cgroups can be removed; best effort)
  CgroupTree(const CgroupTree&) = delete;
  CgroupTree& operator=(const CgroupTree&) = delete;

  const std::filesystem::path& path() const { return path_; }
  // A cgroup for one program instance; nullptr (and `why`) on failure.
  std::unique_ptr<Cgroup> make_child(const std::string& instance, std::string& why);

 private:
  explicit CgroupTree(std::filesystem::path path) : path_(std::move(path)) {}
  std::filesystem::path path_;
};

class Cgroup {
 public:
  ~Cgroup();  // removes the directory when empty (best effort)
  Cgroup(const Cgroup&) = delete;
  Cgroup& operator=(const Cgroup&) = delete;

  const std::filesystem::path& path() const { return path_; }
  // An O_WRONLY fd on cgroup.procs: a child writes "0" to it between fork and exec to join.
  int join_fd() const { return procs_.get(); }
  // An inotify fd that becomes readable whenever cgroup.events changes (e.g. it empties).
  int events_fd() const { return inotify_.get(); }
  // Drains pending inotify events after events_fd() became readable.
  void consume_events() const;

  std::vector<pid_t> pids() const;
  bool populated() const;
  // Sends `signo` to every process in the cgroup; returns how many were signalled.
  int signal_all(int signo) const;
  // SIGKILLs everything at once through cgroup.kill (Linux >= 5.14), else process by process.
  void kill_all() const;

 private:
  friend class CgroupTree;
  Cgroup(std::filesystem::path path, Fd procs, Fd inotify)
      : path_(std::move(path)), procs_(std::move(procs)), inotify_(std::move(inotify)) {}
  std::filesystem::path path_;
  Fd procs_;
  Fd inotify_;
};

}  // namespace gardien
