// gardien: argv, mode choice, exit code.
#include <CLI/CLI.hpp>
#include <iostream>

#include "supervisord/check.h"

int main(int argc, char** argv) {
  CLI::App app{"gardien: a process supervisor and container init"};
  app.set_version_flag("-V,--version", "gardien " GARDIEN_VERSION);
  std::string config_path;
  app.add_option("-c,--config", config_path, "TOML config file")->check(CLI::ExistingFile);

  auto* check = app.add_subcommand("check", "Validate a config file and exit");
  std::string check_path;
  check->add_option("-c,--config", check_path, "TOML config file")->required();

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  if (check->parsed()) return gardien::run_check(check_path, std::cout, std::cerr);
  std::cerr << "gardien: supervising is not implemented yet\n";
  return 1;
}
