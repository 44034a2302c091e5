#include "supervisord/process/spawn.h"

#include <grp.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>
#include <set>

#include "supervisord/process/start_directory.h"

namespace gardien {

namespace {

// Where the child failed; the parent turns it into a message.
enum class Stage : int {
  setsid,
  cgroup,
  stdio,
  close_fds,
  chdir,
  setrlimit,
  setgroups,
  setgid,
  setuid,
  exec
};

struct ChildReport {
  Stage stage;
  int error;  // errno
  int index;  // which rlimit, for Stage::setrlimit
};

constexpr const char* kDefaultPath = "/usr/local/bin:/usr/bin:/bin";

const char* rlimit_name(int resource) {
  switch (resource) {
    case RLIMIT_AS:
      return "RLIMIT_AS";
    case RLIMIT_CORE:
      return "RLIMIT_CORE";
    case RLIMIT_CPU:
      return "RLIMIT_CPU";
    case RLIMIT_DATA:
      return "RLIMIT_DATA";
    case RLIMIT_FSIZE:
      return "RLIMIT_FSIZE";
    case RLIMIT_LOCKS:
      return "RLIMIT_LOCKS";
    case RLIMIT_MEMLOCK:
      return "RLIMIT_MEMLOCK";
    case RLIMIT_MSGQUEUE:
      return "RLIMIT_MSGQUEUE";
    case RLIMIT_NICE:
      return "RLIMIT_NICE";
    case RLIMIT_NOFILE:
      return "RLIMIT_NOFILE";
    case RLIMIT_NPROC:
      return "RLIMIT_NPROC";
    case RLIMIT_RSS:
      return "RLIMIT_RSS";
    case RLIMIT_RTPRIO:
      return "RLIMIT_RTPRIO";
    case RLIMIT_RTTIME:
      return "RLIMIT_RTTIME";
    case RLIMIT_SIGPENDING:
      return "RLIMIT_SIGPENDING";
    case RLIMIT_STACK:
      return "RLIMIT_STACK";
    default:
      return "RLIMIT_?";
  }
}

// The pointers and numbers the child reads: built before fork, only read after.
struct ChildArgs {
  const SpawnPlan& plan;
  std::vector<char*> argv;
  std::vector<char*> envp;
  std::vector<rlimit> limits;
  int stdin_fd;
  int error_fd;
  int max_fd;                    // for the close() fallback
  pid_t parent;                  // the daemon, for PR_SET_PDEATHSIG
  std::optional<rlimit> nofile;  // the daemon's original RLIMIT_NOFILE, when it raised its own
  // plan.pid_variable's entry, copied: the child writes its pid's digits after the '='.
  std::string pid_entry;
  char* pid_digits = nullptr;
};

std::vector<char*> pointers(const std::vector<std::string>& strings) {
  std::vector<char*> out;
  out.reserve(strings.size() + 1);
  for (const std::string& s : strings) out.push_back(const_cast<char*>(s.c_str()));
  out.push_back(nullptr);
  return out;
}

// --- Child side: async-signal-safe calls only from here to execve. ---

// The kernel's struct sigaction (not glibc's), for rt_sigaction(2).
struct kernel_sigaction {
  void (*handler)(int);
  unsigned long flags;
  void (*restorer)();
  unsigned long mask;
};
constexpr int kMaxSignal = 64;

[[noreturn]] void child_fail(int error_fd, Stage stage, int index = 0) noexcept {
  ChildReport report{stage, errno, index};
  const char* p = reinterpret_cast<const char*>(&report);
  std::size_t left = sizeof report;
  while (left > 0) {
    ssize_t n = ::write(error_fd, p, left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    p += n;
    left -= static_cast<std::size_t>(n);
  }
  ::_exit(127);
}

// dup2 that also works when `from` already is `to` (dup2 would keep FD_CLOEXEC).
bool child_move_fd(int from, int to) noexcept {
  if (from == to) return ::fcntl(to, F_SETFD, 0) == 0;
  return ::dup2(from, to) == to;
}

// Writes the caller's pid in decimal, then a NUL, at `out` (room for 10 digits).
void child_write_pid(char* out) noexcept {
  char digits[16];
  int n = 0;
  for (unsigned long pid = static_cast<unsigned long>(::getpid()); pid > 0 || n == 0; pid /= 10)
    digits[n++] = static_cast<char>('0' + pid % 10);
  while (n > 0) *out++ = digits[--n];
  *out = '\0';
}

bool child_close_from_3(int error_fd, int max_fd) noexcept {
  // Marking them close-on-exec keeps the error pipe usable until execve.
  if (::close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) == 0) return true;
  if (errno == EINVAL) {  // kernel < 5.11: no CLOEXEC flag, close around the error pipe
    bool ok = error_fd <= 3 || ::close_range(3, static_cast<unsigned>(error_fd - 1), 0) == 0;
    return ok && ::close_range(static_cast<unsigned>(error_fd + 1), ~0U, 0) == 0;
  }
  if (errno != ENOSYS) return false;
  for (int fd = 3; fd < max_fd; ++fd) {
    if (fd != error_fd) ::close(fd);
  }
  return true;
}

[[noreturn]] void child_main(const ChildArgs& a) noexcept {
  const SpawnPlan& plan = a.plan;
  // Handlers would be reset by exec anyway, but SIG_IGN survives it (SIGPIPE in the daemon).
  // The raw syscall also reaches 32 and 33, which glibc's sigaction() refuses to touch.
  kernel_sigaction dfl{};  // SIG_DFL, no flags, empty mask
  // SIG_IGN first discards a SIGPIPE the child raised itself, still blocked, before this point
  // (a sanitizer's warning written to a closed stderr): it would kill the program at exec.
  kernel_sigaction ign{SIG_IGN, 0, nullptr, 0};
  ::syscall(SYS_rt_sigaction, SIGPIPE, &ign, nullptr, sizeof ign.mask);
  for (int sig = 1; sig <= kMaxSignal; ++sig) {
    if (sig != SIGKILL && sig != SIGSTOP)
      ::syscall(SYS_rt_sigaction, sig, &dfl, nullptr, sizeof dfl.mask);
  }
  if (plan.cgroup_fd >= 0 && ::write(plan.cgroup_fd, "0", 1) != 1)
    child_fail(a.error_fd, Stage::cgroup);
  if (plan.new_session) {
    if (::setsid() < 0) child_fail(a.error_fd, Stage::setsid);
  } else {
    if (::setpgid(0, 0) < 0) child_fail(a.error_fd, Stage::setsid);
    // Still with every signal blocked: SIGTTOU cannot stop a background group taking the tty.
    // Best effort: a terminal that is not the daemon's controlling one is no reason to fail.
    if (plan.take_terminal) (void)::tcsetpgrp(STDIN_FILENO, ::getpid());
  }
  sigset_t empty;
  sigemptyset(&empty);
  ::sigprocmask(SIG_SETMASK, &empty, nullptr);
  if (!child_move_fd(a.stdin_fd, STDIN_FILENO)) child_fail(a.error_fd, Stage::stdio, 0);
  if (plan.stdout_fd >= 0 && !child_move_fd(plan.stdout_fd, STDOUT_FILENO))
    child_fail(a.error_fd, Stage::stdio, 1);
  if (plan.stderr_fd >= 0 && !child_move_fd(plan.stderr_fd, STDERR_FILENO))
    child_fail(a.error_fd, Stage::stdio, 2);
  if (!child_close_from_3(a.error_fd, a.max_fd)) child_fail(a.error_fd, Stage::close_fds);
  for (const auto& [from, to] : plan.pass_fds) {
    if (!child_move_fd(from, to)) child_fail(a.error_fd, Stage::stdio, to);
  }
  if (a.pid_digits) child_write_pid(a.pid_digits);

  if (!plan.directory.empty() && ::chdir(plan.directory.c_str()) != 0)
    child_fail(a.error_fd, Stage::chdir);
  if (plan.umask) ::umask(*plan.umask);
  if (a.nofile && ::setrlimit(RLIMIT_NOFILE, &*a.nofile) != 0)
    child_fail(a.error_fd, Stage::setrlimit, -1);
  for (std::size_t i = 0; i < a.limits.size(); ++i) {
    if (::setrlimit(static_cast<__rlimit_resource_t>(plan.rlimits[i].resource), &a.limits[i]) != 0)
      child_fail(a.error_fd, Stage::setrlimit, static_cast<int>(i));
  }
  if (plan.identity) {
    const SpawnIdentity& id = *plan.identity;
    if (::setgroups(id.groups.size(), id.groups.data()) != 0)
      child_fail(a.error_fd, Stage::setgroups);
    if (::setgid(id.gid) != 0) child_fail(a.error_fd, Stage::setgid);
    if (id.set_uid && ::setuid(id.uid) != 0) child_fail(a.error_fd, Stage::setuid);
  }
  // After the credential change, which would clear it. Best effort: without it, the next
  // daemon still stops what a killed one left (run_record.h).
  if (plan.parent_death_signal != 0 && ::prctl(PR_SET_PDEATHSIG, plan.parent_death_signal) == 0 &&
      ::getppid() != a.parent)
    ::kill(::getpid(), plan.parent_death_signal);  // the daemon died before: as if just now
  ::execve(plan.path.c_str(), a.argv.data(), a.envp.data());
  child_fail(a.error_fd, Stage::exec);
}

// --- Parent side. ---

// Children's stdin: opened once (close-on-exec), shared by every spawn.
int dev_null() {
  static Fd fd(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  if (!fd) fd.reset(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  return fd.get();
}

// What raise_fd_limit() found: the children start with it again.
std::optional<rlimit> g_original_nofile;

// The highest fd number + 1 the close() fallback has to cover (kernels without close_range).
int fd_limit() {
  static const int limit = [] {
    rlimit nofile{};
    ::getrlimit(RLIMIT_NOFILE, &nofile);
    return nofile.rlim_cur == RLIM_INFINITY || nofile.rlim_cur > (1u << 20)
               ? (1 << 20)
               : static_cast<int>(nofile.rlim_cur);
  }();
  return limit;
}

int child_entry(void* args) {
  child_main(*static_cast<const ChildArgs*>(args));
}

// The stack of a CLONE_VFORK child: allocated once and reused, since the parent waits for each
// child to exec before it can spawn the next. nullptr if it cannot be had (then: fork()).
char* child_stack_top() {
  constexpr std::size_t kSize = 256 * 1024;  // only the pages a child touches become resident
  static char* top = [] {
    void* p = ::mmap(nullptr, kSize, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK | MAP_NORESERVE, -1, 0);
    return p == MAP_FAILED ? nullptr : static_cast<char*>(p) + kSize;
  }();
  return top;
}

std::string describe(const ChildReport& r, const SpawnPlan& plan) {
  std::string out;
  switch (r.stage) {
    case Stage::setsid:
      out = plan.new_session ? "setsid" : "setpgid";
      break;
    case Stage::cgroup:
      out = "join the cgroup";
      break;

    case Stage::stdio:
      out = "redirect ";
      out += r.index == 0   ? "stdin"
             : r.index == 1 ? "stdout"
             : r.index == 2 ? "stderr"
                            : "fd " + std::to_string(r.index);
      break;
    case Stage::close_fds:
      out = "close inherited fds";
      break;
    case Stage::chdir:
      out = "chdir " + plan.directory;
      break;
    case Stage::setrlimit:
      out = "setrlimit ";
      out += r.index >= 0 && static_cast<std::size_t>(r.index) < plan.rlimits.size()
                 ? rlimit_name(plan.rlimits[static_cast<std::size_t>(r.index)].resource)
                 : "RLIMIT_NOFILE (back to the daemon's original soft limit)";
      break;
    case Stage::setgroups:
      out = "setgroups";
      break;
    case Stage::setgid:
      out = "setgid ";
      out += plan.identity ? std::to_string(plan.identity->gid) : "?";
      break;
    case Stage::setuid:
      out = "setuid ";
      out += plan.identity ? std::to_string(plan.identity->uid) : "?";
      break;
    case Stage::exec:
      out = "exec " + plan.path;
      break;
  }
  out += ": ";
  out += std::strerror(r.error);
  return out;
}

std::optional<SpawnIdentity> identity_for(const ProgramConfig& config) {
  SpawnIdentity id;
  if (config.run_as) {
    const RunAs& u = *config.run_as;
    id.uid = u.uid;
    id.gid = u.gid;
    id.set_uid = true;
    // Looked up when the config was loaded: no NSS call on the loop.
    id.groups = u.groups.empty() ? std::vector<gid_t>{u.gid} : u.groups;
  } else if (config.group) {
    id.uid = ::geteuid();
    id.gid = *config.group;
    id.groups = {*config.group};
  } else {
    return std::nullopt;
  }
  // Not root: switching to who we already are needs no privilege, so skip it.
  if (::geteuid() != 0 && id.uid == ::geteuid() && id.gid == ::getegid()) return std::nullopt;
  return id;
}

}  // namespace

void set_environment(SpawnPlan& plan, const std::string& key, const std::string& value) {
  std::string entry = key + '=' + value;
  auto at = std::lower_bound(plan.envp.begin(), plan.envp.end(), entry);
  // The entry for `key`, if any, sorts just before or at `at` ("K=v" sorts by key first).
  for (auto it = plan.envp.begin(); it != plan.envp.end(); ++it) {
    if (it->size() > key.size() && it->compare(0, key.size(), key) == 0 &&
        (*it)[key.size()] == '=') {
      plan.envp.erase(it);
      at = std::lower_bound(plan.envp.begin(), plan.envp.end(), entry);
      break;
    }
  }
  plan.envp.insert(at, std::move(entry));
}

std::vector<std::string> build_environment(const ProgramConfig& config, const std::string& instance,
                                           char* const* daemon_environ) {
  // The daemon's own notification socket and watchdog are its init's business, not its
  // programs': a program that speaks sd_notify gets a socket of its own (docs/readiness.md).
  static const std::set<std::string_view> kNotInherited = {"NOTIFY_SOCKET", "WATCHDOG_USEC",
                                                           "WATCHDOG_PID"};
  std::map<std::string, std::string> env;
  for (char* const* e = daemon_environ; e && *e; ++e) {
    std::string_view kv(*e);
    auto eq = kv.find('=');
    if (eq == std::string_view::npos || eq == 0) continue;
    if (kNotInherited.count(kv.substr(0, eq))) continue;
    env[std::string(kv.substr(0, eq))] = std::string(kv.substr(eq + 1));
  }
  if (config.run_as) {
    env["HOME"] = config.run_as->home;
    env["USER"] = config.run_as->user;
    env["LOGNAME"] = config.run_as->user;
    env["SHELL"] = config.run_as->shell;
  }
  for (const auto& [key, value] : config.environment) env[key] = value;
  env["GARDIEN_PROGRAM"] = config.name;
  env["GARDIEN_INSTANCE"] = instance;
  env["GARDIEN_INSTANCE_INDEX"] = std::to_string(config.instance_index(instance));
  std::vector<std::string> out;
  out.reserve(env.size());
  for (const auto& [key, value] : env) {
    std::string kv = key;
    kv += '=';
    kv += value;
    out.push_back(std::move(kv));
  }
  return out;
}

std::optional<std::string> find_executable(const std::string& name,
                                           const std::optional<std::string>& path_var,
                                           std::string& error) {
  if (name.find('/') != std::string::npos) return name;
  std::string path = path_var ? *path_var : kDefaultPath;
  bool denied = false;
  std::size_t begin = 0;
  while (begin <= path.size()) {
    std::size_t end = path.find(':', begin);
    if (end == std::string::npos) end = path.size();
    std::string dir = path.substr(begin, end - begin);
    std::string candidate = dir.empty() ? name : dir + "/" + name;
    struct stat st {};
    if (::stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode)) {
      if (::access(candidate.c_str(), X_OK) == 0) return candidate;
      denied = true;
    }
    begin = end + 1;
  }
  error = "exec ";
  error += name;
  // The errno's text stays first: the exit code 127 vs 126 of `gardien -- CMD` reads it.
  error += denied ? ": Permission denied (found in PATH, not executable)"
                  : ": No such file or directory (not found in PATH)";
  return std::nullopt;
}

void raise_fd_limit() noexcept {
  rlimit nofile{};
  if (::getrlimit(RLIMIT_NOFILE, &nofile) != 0 || nofile.rlim_cur >= nofile.rlim_max) return;
  rlimit raised{nofile.rlim_max, nofile.rlim_max};
  if (::setrlimit(RLIMIT_NOFILE, &raised) == 0) g_original_nofile = nofile;
}

std::optional<SpawnPlan> make_spawn_plan(const ProgramConfig& config, const std::string& instance,
                                         char* const* daemon_environ, std::string& error) {
  if (config.command.empty() || config.command[0].empty()) {
    error = "the command is empty: set `command` to an argv array";
    return std::nullopt;
  }
  SpawnPlan plan;
  plan.argv = config.command;
  plan.envp = build_environment(config, instance, daemon_environ);
  std::optional<std::string> path_var;
  for (const std::string& kv : plan.envp) {
    if (kv.starts_with("PATH=")) path_var = kv.substr(5);
  }
  auto path = find_executable(config.command[0], path_var, error);
  if (!path) return std::nullopt;
  plan.path = std::move(*path);
  plan.directory = config.directory.empty() ? start_directory() : config.directory;
  plan.umask = config.umask;
  plan.rlimits = config.rlimits;
  plan.identity = identity_for(config);
  return plan;
}

std::optional<SpawnedProcess> spawn_process(const SpawnPlan& plan, std::string& error) {
  FdPair report;
  if (!make_pipe(report, O_NONBLOCK)) {
    error = "spawn: cannot create a pipe: ";
    error += std::strerror(errno);
    return std::nullopt;
  }
  int stdin_fd = plan.stdin_fd >= 0 ? plan.stdin_fd : dev_null();
  if (stdin_fd < 0) {
    error = "spawn: cannot open /dev/null: ";
    error += std::strerror(errno);
    return std::nullopt;
  }
  // The child moves passed fds onto their numbers: the error pipe must not be one of them.
  for (const auto& [from, to] : plan.pass_fds) {
    if (report.write.get() != to) continue;
    Fd moved(::fcntl(report.write.get(), F_DUPFD_CLOEXEC, to + 1));
    if (!moved) {
      error = "spawn: cannot move the error pipe: ";
      error += std::strerror(errno);
      return std::nullopt;
    }
    report.write = std::move(moved);
  }
  ChildArgs args{
      plan,       pointers(plan.argv), pointers(plan.envp), {}, stdin_fd, report.write.get(),
      fd_limit(), ::getpid(),          g_original_nofile,   {}, nullptr};
  for (const ResourceLimit& l : plan.rlimits) args.limits.push_back(rlimit{l.soft, l.hard});
  if (!plan.pid_variable.empty()) {
    std::string prefix = plan.pid_variable + '=';
    for (std::size_t i = 0; i < plan.envp.size(); ++i) {
      if (plan.envp[i].compare(0, prefix.size(), prefix) != 0) continue;
      args.pid_entry = prefix + std::string(11, '0');  // 10 digits and the NUL
      args.pid_digits = args.pid_entry.data() + prefix.size();
      args.envp[i] = args.pid_entry.data();
    }
  }

  // With every signal blocked, libevent's handler cannot run in the child before it resets them.
  sigset_t all, old;
  sigfillset(&all);
  ::pthread_sigmask(SIG_SETMASK, &all, &old);
  // CLONE_VM | CLONE_VFORK (what posix_spawn does): no page tables to copy, no copy-on-write
  // faults afterwards, and this returns once the child has exec'd or failed.
  char* stack = child_stack_top();
  bool vforked = stack != nullptr;
  pid_t pid =
      vforked ? ::clone(child_entry, stack, CLONE_VM | CLONE_VFORK | SIGCHLD, &args) : ::fork();
  if (pid == 0) child_main(args);  // fork() fallback only
  int fork_errno = errno;
  ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
  if (pid < 0) {
    error = vforked ? "clone: " : "fork: ";
    error += std::strerror(fork_errno);
    errno = fork_errno;
    return std::nullopt;
  }
  SpawnedProcess spawned{pid, {}, {}};
  if (vforked) {
    // The child is past execve's point of no return (nothing to read yet, or EOF) or it wrote
    // its report and exited: the outcome is known now.
    spawned.exec_error = read_spawn_error(report.read.get(), plan).value_or("");
  } else {
    spawned.error_pipe = std::move(report.read);
  }
  return spawned;
}

std::optional<std::string> read_spawn_error(int error_pipe, const SpawnPlan& plan) {
  ChildReport report{};
  ssize_t n;
  do {
    n = ::read(error_pipe, &report, sizeof report);
  } while (n < 0 && errno == EINTR);
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return std::nullopt;
  if (n == 0) return std::string();  // closed by a successful exec
  // The report is smaller than PIPE_BUF, so it arrives whole or not at all.
  if (n != static_cast<ssize_t>(sizeof report))
    return std::string("spawn: the child sent a broken error report");
  return describe(report, plan);
}

}  // namespace gardien
