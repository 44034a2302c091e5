#include "supervisord/readiness/tcp_probe.h"

#include "supervisord/readiness/probe_connect.h"
#include "supervisord/readiness/probe_poll.h"

namespace gardien {

namespace {

class TcpProbe final : public Probe {
 public:
  TcpProbe(const ProbeAddress& address, EventLoop& loop)
      : address_(address), connect_(loop), poll_(loop, [this] { on_deadline(); }) {}

  void run(Duration timeout, Done done) override {
    if (!poll_.start(timeout, std::move(done))) return;
    std::string error;
    auto connected = [this](Fd socket, std::string failure) {
      poll_.finish({static_cast<bool>(socket), std::move(failure)});
    };  // `socket` closes here: a connect was all this probe asks for
    if (!connect_.start(address_, connected, error)) poll_.finish({false, std::move(error)});
  }

 private:
  void on_deadline() {
    connect_.cancel();
    poll_.finish({false, poll_.timed_out()});
  }

  ProbeAddress address_;
  ProbeConnect connect_;
  ProbePoll poll_;
};

}  // namespace

std::unique_ptr<Probe> make_tcp_probe(const ProbeAddress& address, EventLoop& loop) {
  return std::make_unique<TcpProbe>(address, loop);
}

}  // namespace gardien
