// Counting processes by process group, for `status` (kill-mode group/process).
#pragma once

#include <sys/types.h>

#include <unordered_map>

namespace gardien {

// pgid -> number of live (not zombie) processes, from one pass over /proc.
std::unordered_map<pid_t, int> processes_by_group();

}  // namespace gardien
