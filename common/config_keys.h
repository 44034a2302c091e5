// The keys the config loader accepts in each of its tables, asked of the loader itself: what
// the man page gardien.toml(5) must describe (a unit test checks it does).
#pragma once

#include <map>
#include <string>
#include <vector>

namespace gardien {

// Table path ("supervisor", "program.NAME", "program.NAME.ready", ...) -> its keys, in the order
// the loader reads them.
std::map<std::string, std::vector<std::string>> accepted_config_keys();

}  // namespace gardien
