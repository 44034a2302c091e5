// Control protocol encode and decode (`make microbench`): a request, a status answer with 100
// instances (the daemon encodes, gardienctl decodes and reads the schema), and one `logs` line.
#include <benchmark/benchmark.h>

#include <string>
#include <variant>

#include "common/protocol.h"

namespace {

using nlohmann::json;
namespace protocol = gardien::protocol;

protocol::Request stop_request() {
  protocol::Request request;
  request.id = 42;
  request.cmd = "stop";
  request.args = {{"names", {"web", "worker.*"}}, {"timeout_ms", 10000}};
  return request;
}

json status_result() {
  json instances = json::array();
  for (int i = 0; i < 100; ++i) {
    protocol::InstanceStatus s;
    s.name = "worker.";
    s.name += std::to_string(i);
    s.program = "worker";
    s.state = protocol::InstanceState::running;
    s.pid = 10000 + i;
    s.uptime = gardien::Duration(123456 + i);
    s.restarts = i % 3;
    s.info = i % 10 == 0 ? "exit code 1" : "";
    s.wanted = true;
    s.processes = 1;
    instances.push_back(protocol::to_json(s));
  }
  return {{"instances", std::move(instances)}};
}

json logs_line() {
  json line = {{"time", "2026-11-28T07:30:00.123Z"},
               {"name", "web.1"},
               {"stream", "stdout"},
               {"text", "GET /api/v1/items?page=2 200 1532 bytes in 3.2 ms \"curl/7.88.1\""}};
  return {{"name_width", 8}, {"lines", json::array({std::move(line)})}};
}

std::string without_newline(std::string line) {
  line.pop_back();
  return line;
}

void BM_EncodeRequest(benchmark::State& state) {
  const protocol::Request request = stop_request();
  for (auto _ : state) benchmark::DoNotOptimize(protocol::encode_request(request));
}
BENCHMARK(BM_EncodeRequest);

void BM_ParseRequest(benchmark::State& state) {
  const std::string line = without_newline(protocol::encode_request(stop_request()));
  for (auto _ : state) {
    auto parsed = protocol::parse_request(line);
    if (!std::holds_alternative<protocol::Request>(parsed)) state.SkipWithError("not a request");
    benchmark::DoNotOptimize(parsed);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * line.size()));
}
BENCHMARK(BM_ParseRequest);

// The daemon's side: the result is already JSON; encoding is the dump into one line.
void BM_EncodeStatus100(benchmark::State& state) {
  const json result = status_result();
  for (auto _ : state) benchmark::DoNotOptimize(protocol::encode_result(7, result));
}
BENCHMARK(BM_EncodeStatus100);

// gardienctl's side: parse the line, then read every instance with the schema.
void BM_DecodeStatus100(benchmark::State& state) {
  const std::string line = without_newline(protocol::encode_result(7, status_result()));
  for (auto _ : state) {
    auto parsed = protocol::parse_response(line);
    auto* response = std::get_if<protocol::Response>(&parsed);
    if (!response) {
      state.SkipWithError("not a response");
      break;
    }
    std::size_t read = 0;
    std::string error;
    for (const json& item : response->result["instances"])
      read += protocol::instance_status_from_json(item, error).has_value();
    if (read != 100) state.SkipWithError("an instance did not read back");
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * line.size()));
}
BENCHMARK(BM_DecodeStatus100);

void BM_EncodeLogsLine(benchmark::State& state) {
  const json result = logs_line();
  for (auto _ : state) benchmark::DoNotOptimize(protocol::encode_progress(7, result));
}
BENCHMARK(BM_EncodeLogsLine);

void BM_DecodeLogsLine(benchmark::State& state) {
  const std::string line = without_newline(protocol::encode_progress(7, logs_line()));
  for (auto _ : state) {
    auto parsed = protocol::parse_response(line);
    if (!std::holds_alternative<protocol::Response>(parsed)) state.SkipWithError("not a response");
    benchmark::DoNotOptimize(parsed);
  }
}
BENCHMARK(BM_DecodeLogsLine);

}  // namespace
