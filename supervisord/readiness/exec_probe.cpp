#include "supervisord/readiness/exec_probe.h"

#include <fcntl.h>
#include <signal.h>

#include <cerrno>
#include <cstring>
#include <optional>

#include "common/fd.h"
#include "supervisord/process/lifecycle.h"
#include "supervisord/process/spawn.h"
#include "supervisord/readiness/probe_poll.h"

extern char** environ;

namespace gardien {

namespace {

class ExecProbe final : public Probe {
 public:
  ExecProbe(const std::vector<std::string>& command, const ProgramConfig& program,
            const std::string& instance, EventLoop& loop, ProcessHost& host)
      : program_(program),
        instance_(instance),
        host_(host),
        poll_(loop, [this] { on_deadline(); }) {
    program_.command = command;
  }

  // A poll in flight dies with the probe: its group is SIGKILLed and the pid forgotten; the
  // reaper still reaps it, as it reaps every child nobody watches.
  ~ExecProbe() override {
    if (pid_ > 0) {
      kill_group();
      host_.forget(pid_);
    }
  }

  void run(Duration timeout, Done done) override {
    if (!poll_.start(timeout, std::move(done))) return;
    std::string error;
    if (!spawn(error)) poll_.finish({false, std::move(error)});
  }

 private:
  bool spawn(std::string& error) {
    // Built once and reused; a failure (command not found) searches PATH again next time.
    if (!plan_) plan_ = make_spawn_plan(program_, instance_, environ, error);
    if (!plan_) return false;
    Fd dev_null(::open("/dev/null", O_WRONLY | O_CLOEXEC));
    if (!dev_null) {
      error = std::string("exec probe: cannot open /dev/null: ") + std::strerror(errno);
      return false;
    }
    plan_->stdout_fd = dev_null.get();
    plan_->stderr_fd = dev_null.get();
    plan_->parent_death_signal = SIGKILL;  // a probe never outlives the daemon
    std::optional<SpawnedProcess> child = host_.spawn(*plan_, error);
    if (!child) {
      plan_.reset();
      return false;
    }
    pid_ = child->pid;
    killed_ = false;
    exec_error_ = child->exec_error;
    error_pipe_ = std::move(child->error_pipe);
    host_.watch(pid_, [this](int wait_status) { on_exit(wait_status); });
    return true;
  }

  void on_exit(int wait_status) {
    host_.kill(-pid_, SIGKILL);  // what the command left in its group
    pid_ = -1;
    if (error_pipe_ && exec_error_.empty()) {
      exec_error_ = read_spawn_error(error_pipe_.get(), *plan_).value_or("");
    }
    error_pipe_.reset();
    poll_.finish(result_of(ExitStatus::from_wait_status(wait_status)));
  }

  ProbeResult result_of(const ExitStatus& status) const {
    if (killed_) return {false, poll_.timed_out()};
    if (!exec_error_.empty()) return {false, exec_error_};
    return {!status.signaled && status.code == 0, status.to_string()};
  }

  // First the deadline: kill, and wait for the reaping. Then the same again: a process that
  // does not die (uninterruptible sleep) is left to the reaper and the poll ends anyway.
  void on_deadline() {
    if (pid_ <= 0) return;
    if (!killed_) {
      killed_ = true;
      kill_group();
      poll_.extend(kKillWait);
      return;
    }
    host_.forget(pid_);
    std::string message =
        poll_.timed_out() + "; process " + std::to_string(pid_) + " did not die after SIGKILL";
    pid_ = -1;
    error_pipe_.reset();
    poll_.finish({false, std::move(message)});
  }

  // The group is the child's own (it called setsid); the pid too, in case it has not yet.
  void kill_group() {
    host_.kill(-pid_, SIGKILL);
    host_.kill(pid_, SIGKILL);
  }

  static constexpr Duration kKillWait = std::chrono::seconds(1);

  ProgramConfig program_;  // its command is the probe's
  std::string instance_;
  ProcessHost& host_;
  ProbePoll poll_;
  std::optional<SpawnPlan> plan_;
  pid_t pid_ = -1;  // the probe's process, until reaped
  bool killed_ = false;
  std::string exec_error_;
  Fd error_pipe_;
};

}  // namespace

std::unique_ptr<Probe> make_exec_probe(const std::vector<std::string>& command,
                                       const ProgramConfig& program, const std::string& instance,
                                       EventLoop& loop, ProcessHost& host) {
  return std::make_unique<ExecProbe>(command, program, instance, loop, host);
}

}  // namespace gardien
