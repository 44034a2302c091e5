// The keys a [program.NAME] and a [task.NAME] share, one reader per key (or per pair checked
// together), so that both tables read them the same way.
#pragma once

#include <string>
#include <string_view>

#include "common/config/loader.h"

namespace gardien::config_loader {

class ProcessKeys {
 public:
  ProcessKeys(Loader& loader, TableReader& table, ProgramConfig& process)
      : l_(loader), r_(table), p_(process) {}

  // `command` (required; `at` and `path` name the table when it is missing) and `directory`.
  void command(const Place& at, const std::string& path);
  void environment();
  void identity();  // user, group, umask
  void success_exit_codes();
  void backoff();  // backoff and backoff-max, which must not be shorter
  void stop_signal();
  void stop_timeout();
  void kill_mode();
  void depends_on(DependentPlaces& places);
  void output();  // stdout, stderr, timestamps
  // The ring kept for `gardienctl logs`: a program's `log-buffer-size`, a task's `max-output`.
  void buffer_size(std::string_view key);
  void rlimits();

 protected:
  Loader& l_;
  TableReader& r_;
  ProgramConfig& p_;
};

}  // namespace gardien::config_loader
