// gardienctl: the thin client of the control socket (docs/ctl.md).
#include <iostream>

#include "ctl/cli.h"
#include "ctl/client.h"
#include "ctl/run.h"

int main(int argc, char** argv) {
  using namespace gardien::ctl;
  CommandLine command_line = parse_command_line(argc, argv, std::cout, std::cerr);
  if (!command_line.invocation) return command_line.exit_code;
  install_interrupt_handlers();
  return run(*command_line.invocation, std::cout, std::cerr);
}
