// The file probe: a path exists (stat(2) succeeds; any type of file).
#pragma once

#include <memory>
#include <string>

#include "supervisord/loop/event_loop.h"
#include "supervisord/readiness/probe.h"

namespace gardien {

std::unique_ptr<Probe> make_file_probe(const std::string& path, EventLoop& loop);

}  // namespace gardien
