// Parses a gardienctl command line as main() would, keeping what it printed.
#pragma once

#include <sstream>
#include <string>
#include <vector>

#include "ctl/cli.h"

namespace gardien::ctl::testing {

struct Parsed {
  CommandLine command_line;
  std::string out;
  std::string err;
  const Invocation& inv() const { return *command_line.invocation; }
};

inline Parsed parse(std::vector<std::string> args) {
  args.insert(args.begin(), "gardienctl");
  std::vector<const char*> argv;
  for (const auto& a : args) argv.push_back(a.c_str());
  std::ostringstream out, err;
  Parsed p{parse_command_line(static_cast<int>(argv.size()), argv.data(), out, err), {}, {}};
  p.out = out.str();
  p.err = err.str();
  return p;
}

}  // namespace gardien::ctl::testing
