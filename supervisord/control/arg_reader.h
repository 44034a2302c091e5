// A verb's "args" object read field by field: unknown keys and wrong types are refused with a
// message naming the verb, the key and what it takes.
#pragma once

#include <initializer_list>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/duration.h"
#include "common/protocol.h"

namespace gardien {

protocol::Error bad_request(std::string message);

class ArgReader {
 public:
  ArgReader(const protocol::Request& request, std::initializer_list<std::string_view> allowed);

  // False after the first refusal; later reads then return their fallbacks.
  bool ok() const { return !error_; }
  protocol::Error error() const { return *error_; }

  // "names": NAMEs of programs, instances, globs or all.
  std::vector<std::string> names(bool required);
  std::optional<std::string> string(const char* key, bool required);
  // An array of strings (empty ones included); absent: empty.
  std::vector<std::string> strings(const char* key);
  bool boolean(const char* key, bool fallback);
  // A whole number in [min, max]; absent: `fallback`.
  std::int64_t integer(const char* key, std::int64_t min, std::int64_t max, std::int64_t fallback);
  // "timeout_ms": a whole number of milliseconds; absent means no timeout.
  std::optional<Duration> timeout();
  // "signal": a name ("HUP", "SIGHUP") or a number.
  std::optional<int> signal();

 private:
  const nlohmann::json* find(const char* key);
  void wrong(const char* key, const char* expected);
  void fail(std::string message);

  std::string cmd_;
  const nlohmann::json& args_;
  std::optional<protocol::Error> error_;
};

}  // namespace gardien
