// The tcp probe: a connect to the address succeeds; the connection is closed at once.
#pragma once

#include <memory>

#include "supervisord/loop/event_loop.h"
#include "supervisord/readiness/probe.h"
#include "supervisord/readiness/probe_address.h"

namespace gardien {

std::unique_ptr<Probe> make_tcp_probe(const ProbeAddress& address, EventLoop& loop);

}  // namespace gardien
