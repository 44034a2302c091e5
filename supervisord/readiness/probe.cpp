#include "supervisord/readiness/probe.h"

#include "supervisord/readiness/exec_probe.h"
#include "supervisord/readiness/file_probe.h"
#include "supervisord/readiness/http_probe.h"
#include "supervisord/readiness/probe_poll.h"
#include "supervisord/readiness/tcp_probe.h"

namespace gardien {

namespace {

// A probe whose config cannot work (a name where an address goes, a relative path): each poll
// fails with why, so the instance is not ready, or unhealthy, with a reason that says the fix.
class UnusableProbe final : public Probe {
 public:
  UnusableProbe(std::string why, EventLoop& loop) : why_(std::move(why)), poll_(loop, [] {}) {}
  void run(Duration timeout, Done done) override {
    if (poll_.start(timeout, std::move(done))) poll_.finish({false, why_});
  }

 private:
  std::string why_;
  ProbePoll poll_;
};

std::unique_ptr<Probe> unusable(const ProbeConfig& config, const std::string& why,
                                EventLoop& loop) {
  std::string message(to_string(config.kind));
  message += " probe \"" + config.target + "\": " + why;
  return std::make_unique<UnusableProbe>(std::move(message), loop);
}

}  // namespace

std::unique_ptr<Probe> make_probe(const ProbeConfig& config, const ProgramConfig& program,
                                  const std::string& instance, EventLoop& loop, ProcessHost& host) {
  std::string error;
  switch (config.kind) {
    case ProbeConfig::Kind::notify:
    case ProbeConfig::Kind::fd:
      return nullptr;
    case ProbeConfig::Kind::tcp: {
      auto address = parse_probe_address(config.target, std::nullopt, error);
      if (!address) return unusable(config, error, loop);
      return make_tcp_probe(*address, loop);
    }
    case ProbeConfig::Kind::http: {
      auto target = parse_http_target(config.target, error);
      if (!target) return unusable(config, error, loop);
      return make_http_probe(*target, loop);
    }
    case ProbeConfig::Kind::exec:
      if (config.command.empty() || config.command[0].empty()) {
        return std::make_unique<UnusableProbe>(
            "exec probe: the command is empty: set it to an argv array", loop);
      }
      return make_exec_probe(config.command, program, instance, loop, host);
    case ProbeConfig::Kind::file:
      if (config.target.empty() || config.target.front() != '/') {
        return unusable(config, "not an absolute path: write \"/run/app/ready\"", loop);
      }
      return make_file_probe(config.target, loop);
  }
  return nullptr;
}

}  // namespace gardien
