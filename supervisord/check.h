// `gardien check -c FILE`: validate a config and report, without running anything.
#pragma once

#include <filesystem>
#include <ostream>

namespace gardien {

// Exit codes of `gardien check` (docs/config.md).
inline constexpr int kCheckOk = 0;
inline constexpr int kCheckInvalid = 1;

// With `verbose`, each scheduled task's schedule, zone and next fire times follow the ok line.
int run_check(const std::filesystem::path& config_path, std::ostream& out, std::ostream& err,
              bool verbose = false);

}  // namespace gardien
