// gardienctl: the thin client of the control socket.
#include <CLI/CLI.hpp>

int main(int argc, char** argv) {
  CLI::App app{"gardienctl: control a running gardien"};
  app.set_version_flag("-V,--version", "gardienctl " GARDIEN_VERSION);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  return 0;
}
