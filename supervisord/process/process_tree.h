// What /proc says about processes: one reader of /proc/PID/stat for the daemon and its tests.
#pragma once

#include <sys/types.h>

#include <functional>
#include <optional>
#include <unordered_map>

namespace gardien {

// The fields of /proc/PID/stat that come after the parenthesised command name.
struct ProcStat {
  char state = '?';  // 'R', 'S', 'Z' (zombie), ...
  pid_t ppid = 0;
  pid_t pgrp = 0;
  unsigned long long start_ticks = 0;  // when it started, in clock ticks after boot
  bool zombie() const { return state == 'Z'; }
};

// nullopt when the process is gone (or /proc is not mounted).
std::optional<ProcStat> read_proc_stat(pid_t pid);

// Calls `fn` for every process /proc lists, in one pass.
void for_each_process(const std::function<void(pid_t, const ProcStat&)>& fn);

// pgid -> number of live (not zombie) processes, from one pass over /proc.
std::unordered_map<pid_t, int> processes_by_group();

}  // namespace gardien
