// What a reload changes: the running config and the new one in, the plan out. Pure: the
// supervisor applies the plan, `reload --dry-run` only shows it.
#pragma once

#include "common/config.h"
#include "common/protocol.h"

namespace gardien {

// Programs by name: added, removed, changed (restarted with the new settings), scaled (only
// `instances` differs, and neither side is 1: the instance names "web" vs "web.0" differ, so
// 1 <-> N is a change) and unchanged; plus one line per [supervisor] change, saying which ones
// take a daemon restart (socket path, mode, groups).
protocol::ReloadPlan plan_reload(const Config& running, const Config& next);

// True when `a` and `b` differ only in `instances`.
bool differs_only_in_instances(const ProgramConfig& a, const ProgramConfig& b);

}  // namespace gardien
