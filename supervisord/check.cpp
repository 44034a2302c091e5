#include "supervisord/check.h"

#include "common/config.h"

namespace gardien {

int run_check(const std::filesystem::path& config_path, std::ostream& out, std::ostream& err) {
  LoadResult result = load_config(config_path);
  for (const Diagnostic& d : result.diagnostics) err << d.to_string() << '\n';
  if (!result.ok()) return kCheckInvalid;
  out << "ok: " << result.config->programs.size() << " programs\n";
  return kCheckOk;
}

}  // namespace gardien
