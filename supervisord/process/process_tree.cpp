#include "supervisord/process/process_tree.h"

#include <dirent.h>

#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>

namespace gardien {

std::optional<ProcStat> read_proc_stat(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(in, line)) return std::nullopt;
  // The command name may contain spaces and parentheses: the fields start after the last ')'.
  auto close = line.rfind(')');
  if (close == std::string::npos) return std::nullopt;
  std::istringstream rest(line.substr(close + 1));
  std::string state, skip;
  long ppid = 0, pgrp = 0;
  if (!(rest >> state >> ppid >> pgrp) || state.empty()) return std::nullopt;
  ProcStat stat{state[0], static_cast<pid_t>(ppid), static_cast<pid_t>(pgrp), 0};
  for (int field = 6; field < 22 && rest >> skip; ++field) {
  }
  rest >> stat.start_ticks;  // field 22
  return stat;
}

void for_each_process(const std::function<void(pid_t, const ProcStat&)>& fn) {
  std::unique_ptr<DIR, int (*)(DIR*)> proc(::opendir("/proc"), ::closedir);
  if (!proc) return;
  while (dirent* d = ::readdir(proc.get())) {
    if (d->d_name[0] < '0' || d->d_name[0] > '9') continue;
    pid_t pid = static_cast<pid_t>(std::atol(d->d_name));
    if (auto stat = read_proc_stat(pid)) fn(pid, *stat);
  }
}

std::unordered_map<pid_t, int> processes_by_group() {
  std::unordered_map<pid_t, int> out;
  for_each_process([&](pid_t, const ProcStat& s) {
    if (!s.zombie() && s.pgrp > 0) ++out[s.pgrp];
  });
  return out;
}

}  // namespace gardien
