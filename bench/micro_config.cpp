// Config loading (`make microbench`): a generated config of 1000 programs, from memory with
// load_config_string and from a file with load_config.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "common/config.h"

namespace {

// Appends every part (GCC 12 warns falsely on `"literal" + std::string`).
template <typename... Parts>
void append(std::string& out, const Parts&... parts) {
  (out += ... += parts);
}

// 1000 programs using most keys, as a large real config would.
std::string thousand_programs() {
  std::string text = "[supervisor]\nlog-level = \"info\"\nshutdown-timeout = \"30s\"\n\n";
  for (int i = 0; i < 1000; ++i) {
    const std::string n = std::to_string(i);
    append(text, "[program.program-", n, "]\n");
    append(text, "command = [\"/usr/bin/app\", \"--port\", \"", std::to_string(8000 + i), "\"]\n");
    append(text, "directory = \"/srv/program-", n, "\"\n");
    append(text, "environment = { APP_NAME = \"program-", n, "\", HOME = \"${HOME:-/root}\" }\n");
    append(text, "instances = ", std::to_string(1 + i % 4), "\n");
    append(text, "restart = \"always\"\nbackoff = \"500ms\"\nbackoff-max = \"1m\"\n");
    append(text, "stop-signal = \"TERM\"\nstop-timeout = \"10s\"\n");
    if (i > 0) append(text, "depends-on = [\"program-", std::to_string(i - 1), "\"]\n");
    append(text, "stdout = { file = \"/var/log/program-", n,
           ".log\", max-size = \"10MiB\", keep = 3 }\n");
    append(text, "stderr = \"stdout\"\nrlimits = { nofile = 4096 }\n\n");
  }
  return text;
}

const gardien::EnvLookup& no_environment() {
  static const gardien::EnvLookup env = [](const std::string&) -> std::optional<std::string> {
    return std::nullopt;
  };
  return env;
}

void check_loaded(benchmark::State& state, const gardien::LoadResult& result) {
  if (!result.ok() || result.config->programs.size() != 1000)
    state.SkipWithError("the generated config did not load");
}

void BM_LoadConfigString1000Programs(benchmark::State& state) {
  const std::string text = thousand_programs();
  for (auto _ : state) {
    gardien::LoadResult result = gardien::load_config_string(text, "bench.toml", no_environment());
    check_loaded(state, result);
    benchmark::DoNotOptimize(result);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * text.size()));
  state.counters["programs/s"] = benchmark::Counter(
      1000.0 * static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_LoadConfigString1000Programs)->Unit(benchmark::kMillisecond);

void BM_LoadConfigFile1000Programs(benchmark::State& state) {
  namespace fs = std::filesystem;
  std::string dir = (fs::temp_directory_path() / "gardien-micro-config.XXXXXX").string();
  if (!::mkdtemp(dir.data())) {
    state.SkipWithError("mkdtemp failed");
    return;
  }
  const std::string text = thousand_programs();
  const fs::path path = fs::path(dir) / "gardien.toml";
  std::ofstream(path) << text;
  for (auto _ : state) {
    gardien::LoadResult result = gardien::load_config(path, no_environment());
    check_loaded(state, result);
    benchmark::DoNotOptimize(result);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * text.size()));
  std::error_code ec;
  fs::remove_all(dir, ec);
}
BENCHMARK(BM_LoadConfigFile1000Programs)->Unit(benchmark::kMillisecond);

}  // namespace
