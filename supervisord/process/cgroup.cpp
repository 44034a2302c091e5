#include "supervisord/process/cgroup.h"

#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <fstream>
#include <sstream>

namespace gardien {

namespace {

namespace fs = std::filesystem;

std::string errno_text(int err) {
  return std::strerror(err);
}

// The mount point of the cgroup v2 hierarchy, from /proc/self/mountinfo.
fs::path cgroup2_mount() {
  std::ifstream in("/proc/self/mountinfo");
  std::string line;
  while (std::getline(in, line)) {
    // "ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPEROPTS"
    std::size_t dash = line.find(" - ");
    if (dash == std::string::npos) continue;
    std::istringstream fields(line.substr(0, dash));
    std::string id, parent, dev, root, mountpoint;
    fields >> id >> parent >> dev >> root >> mountpoint;
    std::istringstream rest(line.substr(dash + 3));
    std::string fstype;
    rest >> fstype;
    if (fstype == "cgroup2") return mountpoint;
  }
  return {};
}

// The daemon's own cgroup v2 path, from the "0::/path" line of /proc/self/cgroup.
std::string own_cgroup() {
  std::ifstream in("/proc/self/cgroup");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("0::", 0) == 0) return line.substr(3);
  }
  return {};
}

bool write_file(const fs::path& path, std::string_view text) {
  Fd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
  if (!fd) return false;
  return ::write(fd.get(), text.data(), text.size()) == static_cast<ssize_t>(text.size());
}

}  // namespace

std::unique_ptr<CgroupTree> CgroupTree::create(std::string& why) {
  fs::path mount = cgroup2_mount();
  if (mount.empty()) {
    why = "no cgroup v2 hierarchy is mounted";
    return nullptr;
  }
  std::string own = own_cgroup();
  if (own.empty()) {
    why = "this process is not in a cgroup v2 hierarchy (/proc/self/cgroup has no 0:: line)";
    return nullptr;
  }
  fs::path path = mount / fs::path(own).relative_path() / ("gardien." + std::to_string(::getpid()));
  if (::mkdir(path.c_str(), 0755) != 0 && errno != EEXIST) {
    why = "cannot create " + path.string() + ": " + errno_text(errno);
    return nullptr;
  }
  return std::unique_ptr<CgroupTree>(new CgroupTree(std::move(path)));
}

CgroupTree::~CgroupTree() {
  ::rmdir(path_.c_str());
}

std::unique_ptr<Cgroup> CgroupTree::make_child(const std::string& instance, std::string& why) {
  fs::path path = path_ / instance;
  if (::mkdir(path.c_str(), 0755) != 0 && errno != EEXIST) {
    why = "cannot create " + path.string() + ": " + errno_text(errno);
    return nullptr;
  }
  Fd procs(::open((path / "cgroup.procs").c_str(), O_WRONLY | O_CLOEXEC));
  if (!procs) {
    why = "cannot open " + (path / "cgroup.procs").string() + ": " + errno_text(errno);
    ::rmdir(path.c_str());
    return nullptr;
  }
  Fd inotify(::inotify_init1(IN_NONBLOCK | IN_CLOEXEC));
  if (!inotify ||
      ::inotify_add_watch(inotify.get(), (path / "cgroup.events").c_str(), IN_MODIFY) < 0) {
    why = "cannot watch " + (path / "cgroup.events").string() + ": " + errno_text(errno);
    ::rmdir(path.c_str());
    return nullptr;
  }
  return std::unique_ptr<Cgroup>(new Cgroup(std::move(path), std::move(procs), std::move(inotify)));
}

Cgroup::~Cgroup() {
  procs_.reset();
  inotify_.reset();
  ::rmdir(path_.c_str());
}

void Cgroup::consume_events() const {
  char buf[4096];
  while (::read(inotify_.get(), buf, sizeof buf) > 0) {
  }
}

std::vector<pid_t> Cgroup::pids() const {
  std::vector<pid_t> out;
  std::ifstream in(path_ / "cgroup.procs");
  pid_t pid;
  while (in >> pid) out.push_back(pid);
  return out;
}

bool Cgroup::populated() const {
  std::ifstream in(path_ / "cgroup.events");
  std::string key;
  int value = 0;
  while (in >> key >> value) {
    if (key == "populated") return value != 0;
  }
  return !pids().empty();  // no cgroup.events: ask the list itself
}

int Cgroup::signal_all(int signo) const {
  int count = 0;
  for (pid_t pid : pids()) {
    // Racy only if a member is reaped by another parent between the read and kill(); cgroup.kill
    // (kill_all) has no such window.
    if (::kill(pid, signo) == 0) ++count;
  }
  return count;
}

void Cgroup::kill_all() const {
  if (write_file(path_ / "cgroup.kill", "1")) return;
  // Before Linux 5.14: kill what is listed until nothing new appears (forks race the loop).
  for (int round = 0; round < 16 && signal_all(SIGKILL) > 0; ++round) {
  }
}

}  // namespace gardien
