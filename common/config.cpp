#include "common/config.h"

#include <cstdlib>

namespace gardien {

const ProgramConfig* Config::find(std::string_view name) const {
  for (const ProgramConfig& p : programs) {
    if (p.name == name) return &p;
  }
  return nullptr;
}

std::string Diagnostic::to_string() const {
  std::string out = file;
  if (line > 0) {
    out += ':';
    out += std::to_string(line);
    out += ':';
    out += std::to_string(column);
  }
  out += ": ";
  if (severity == Severity::warning) out += "warning: ";
  if (!key_path.empty()) out += key_path + ": ";
  return out + message;
}

EnvLookup process_environment() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* v = std::getenv(name.c_str());
    if (!v) return std::nullopt;
    return std::string(v);
  };
}

LoadResult load_config(const std::filesystem::path& path, const EnvLookup&) {
  LoadResult r;
  r.diagnostics.push_back({Diagnostic::Severity::error, path.string(), 0, 0, "", "config loading is not implemented yet"});
  return r;
}

LoadResult load_config_string(std::string_view, const std::string& name, const EnvLookup& env) {
  return load_config(name, env);
}

}  // namespace gardien
