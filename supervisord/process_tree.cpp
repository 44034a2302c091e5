#include "supervisord/process_tree.h"

#include <dirent.h>

#include <fstream>
#include <memory>
#include <sstream>
#include <string>

namespace gardien {

std::unordered_map<pid_t, int> processes_by_group() {
  std::unordered_map<pid_t, int> out;
  std::unique_ptr<DIR, int (*)(DIR*)> proc(::opendir("/proc"), ::closedir);
  if (!proc) return out;
  while (dirent* d = ::readdir(proc.get())) {
    if (d->d_name[0] < '0' || d->d_name[0] > '9') continue;
    std::ifstream in(std::string("/proc/") + d->d_name + "/stat");
    std::string line;
    if (!std::getline(in, line)) continue;
    auto close = line.rfind(')');
    if (close == std::string::npos) continue;
    // "STATE PPID PGRP ..." after the parenthesised command name.
    std::istringstream rest(line.substr(close + 1));
    std::string state;
    long ppid = 0, pgrp = 0;
    rest >> state >> ppid >> pgrp;
    if (state != "Z" && pgrp > 0) ++out[static_cast<pid_t>(pgrp)];
  }
  return out;
}

}  // namespace gardien
