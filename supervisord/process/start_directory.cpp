#include "supervisord/process/start_directory.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "supervisord/loop/log.h"

namespace gardien {

namespace {

std::string& recorded_start_directory() {
  static std::string dir;
  return dir;
}

}  // namespace

void record_start_directory() {
  std::error_code ec;
  std::filesystem::path here = std::filesystem::current_path(ec);
  if (ec) {
    log::warn("cannot read the working directory: programs without `directory` start in /",
              {{"error", ec.message()}});
    return;
  }
  recorded_start_directory() = here.string();
}

void leave_start_directory() {
  if (::chdir("/") != 0)
    log::warn("cannot change to /: the start directory stays busy",
              {{"error", std::strerror(errno)}});
}

const std::string& start_directory() {
  return recorded_start_directory();
}

}  // namespace gardien
