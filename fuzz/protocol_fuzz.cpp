// libFuzzer target for the control protocol (docs/fuzzing.md): each input is read as a request
// line (the daemon's side) and as a response line (gardienctl's side, with the result schemas),
// and whatever parses must survive an encode/parse round trip unchanged.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <variant>

#include "common/protocol.h"

namespace {

using nlohmann::json;
namespace protocol = gardien::protocol;

void check(bool condition, const char* what) {
  if (!condition) {
    std::fprintf(stderr, "protocol_fuzz: invariant broken: %s\n", what);
    std::abort();
  }
}

std::string_view without_newline(const std::string& line) {
  check(!line.empty() && line.back() == '\n', "an encoded line ends with a newline");
  std::string_view body(line);
  body.remove_suffix(1);
  check(body.find('\n') == std::string_view::npos, "an encoded line has one newline");
  return body;
}

void fuzz_request(std::string_view line) {
  auto parsed = protocol::parse_request(line);
  if (auto* error = std::get_if<protocol::RequestError>(&parsed)) {
    check(!error->error.message.empty(), "a request error has a message");
    std::string encoded = protocol::encode_error(error->id, error->error);
    auto reply = protocol::parse_response(without_newline(encoded));
    auto* response = std::get_if<protocol::Response>(&reply);
    check(response != nullptr, "an encoded error parses as a response");
    check(!response->ok && response->id == error->id, "the error keeps its id");
    check(response->is(error->error.code), "the error keeps its code");
    return;
  }
  const auto& request = std::get<protocol::Request>(parsed);
  check(!request.cmd.empty() && request.args.is_object(), "a request has a verb and args");
  std::string encoded = protocol::encode_request(request);
  auto again = protocol::parse_request(without_newline(encoded));
  const auto* same = std::get_if<protocol::Request>(&again);
  check(same != nullptr, "an encoded request parses again");
  check(same->id == request.id && same->cmd == request.cmd && same->args == request.args,
        "a request survives the round trip");
}

void fuzz_instances(const json& result) {
  auto it = result.find("instances");
  if (it == result.end() || !it->is_array()) return;
  for (const json& item : *it) {
    std::string error;
    if (auto status = protocol::instance_status_from_json(item, error)) {
      std::string again_error;
      auto again = protocol::instance_status_from_json(protocol::to_json(*status), again_error);
      check(again && *again == *status, "an instance status survives the round trip");
    } else {
      check(!error.empty(), "a rejected instance status says why");
    }
    error.clear();
    if (auto one = protocol::instance_result_from_json(item, error)) {
      std::string again_error;
      auto again = protocol::instance_result_from_json(protocol::to_json(*one), again_error);
      check(again && *again == *one, "an instance result survives the round trip");
    } else {
      check(!error.empty(), "a rejected instance result says why");
    }
  }
}

void fuzz_plan(const json& result) {
  auto it = result.find("plan");
  if (it == result.end()) return;
  std::string error;
  if (auto plan = protocol::reload_plan_from_json(*it, error)) {
    std::string again_error;
    auto again = protocol::reload_plan_from_json(protocol::to_json(*plan), again_error);
    check(again && *again == *plan, "a reload plan survives the round trip");
  } else {
    check(!error.empty(), "a rejected reload plan says why");
  }
}

void fuzz_response(std::string_view line) {
  auto parsed = protocol::parse_response(line);
  if (auto* error = std::get_if<std::string>(&parsed)) {
    check(!error->empty(), "a response error says why");
    return;
  }
  const auto& response = std::get<protocol::Response>(parsed);
  if (!response.ok) {
    check(!response.more, "an error ends the answer");
    return;
  }
  if (response.result.is_object()) {
    fuzz_instances(response.result);
    fuzz_plan(response.result);
  }
  std::string encoded = response.more ? protocol::encode_progress(response.id, response.result)
                                      : protocol::encode_result(response.id, response.result);
  auto again = protocol::parse_response(without_newline(encoded));
  const auto* same = std::get_if<protocol::Response>(&again);
  check(same != nullptr, "an encoded result parses again");
  check(same->ok && same->id == response.id && same->more == response.more &&
            same->result == response.result,
        "a result survives the round trip");
}

// The client's line splitter: every byte comes out again, in lines no longer than the cap.
void fuzz_line_buffer(std::string_view bytes) {
  constexpr std::size_t kCap = 64;
  protocol::LineBuffer buffer(kCap);
  std::size_t consumed = 0;
  for (std::size_t at = 0; at < bytes.size(); at += 7) {
    buffer.append(bytes.substr(at, 7));
    while (auto line = buffer.next_line()) consumed += line->size() + 1;
    if (buffer.overflowed()) return;
  }
  check(consumed + buffer.buffered() == bytes.size(), "the line buffer loses no byte");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  fuzz_request(input);
  fuzz_response(input);
  fuzz_line_buffer(input);
  (void)protocol::quote(input, size % 97);
  return 0;
}
