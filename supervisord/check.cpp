#include "supervisord/check.h"

#include "common/config.h"

namespace gardien {

int run_check(const std::filesystem::path& config_path, std::ostream& out, std::ostream& err) {
  LoadResult result = load_config(config_path);
  for (const Diagnostic& d : result.diagnostics) err << d.to_string() << '\n';
  if (!result.ok()) return kCheckInvalid;
  const Config& config = *result.config;
  std::size_t programs = config.programs.size();
  out << "ok: " << programs << (programs == 1 ? " program" : " programs");
  int instances = config.instance_count();
  if (instances != static_cast<int>(programs)) {
    out << " (" << instances << (instances == 1 ? " instance)" : " instances)");
  }
  out << '\n';
  return kCheckOk;
}

}  // namespace gardien
