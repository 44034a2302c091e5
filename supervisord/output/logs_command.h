// The output module's control verbs: `logs` (recent lines of instances from their ring buffers,
// merged by time, and with "follow" a stream of new ones) and `reopen-logs`.
// docs/protocol.md describes their arguments and results.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <vector>

#include "common/protocol.h"
#include "supervisord/control/commands.h"
#include "supervisord/loop/event_loop.h"
#include "supervisord/output/log_ring.h"
#include "supervisord/output/output_hub.h"

namespace gardien {

// Lines `logs` sends when the request does not say ("lines").
inline constexpr std::size_t kDefaultLogLines = 10;

struct OutputVerbs {
  // Every instance in display order, for NAME resolution (select_instances).
  std::function<std::vector<protocol::InstanceStatus>()> instances;
  // SIGUSR1's work: log it and reopen every log file.
  std::function<void()> reopen_logs;
};

// Replaces the `logs` and `reopen-logs` placeholders of `commands`. `hub` must outlive them.
void add_output_verbs(Commands& commands, EventLoop& loop, OutputHub& hub, OutputVerbs verbs);

// One line on the wire: {"time": RFC 3339, "name", "stream": "stdout"|"stderr", "text"}.
nlohmann::json log_line_json(WallClock::time_point time, std::string_view name, Stream stream,
                             std::string_view text);

}  // namespace gardien
