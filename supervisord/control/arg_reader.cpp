#include "supervisord/control/arg_reader.h"

#include <algorithm>

#include "common/signals.h"

namespace gardien {

using nlohmann::json;
using protocol::Error;
using protocol::ErrorCode;

namespace {
// A wait longer than this is a mistake (and would overflow timers): 30 days.
constexpr std::int64_t kMaxTimeoutMs = 30LL * 24 * 3600 * 1000;
}  // namespace

Error bad_request(std::string message) {
  return Error{ErrorCode::bad_request, std::move(message), nullptr};
}

ArgReader::ArgReader(const protocol::Request& request,
                     std::initializer_list<std::string_view> allowed)
    : cmd_(request.cmd), args_(request.args) {
  for (const auto& [key, value] : args_.items()) {
    if (std::find(allowed.begin(), allowed.end(), key) != allowed.end()) continue;
    std::string message = "unknown argument ";
    message += protocol::quote(key);
    message += " for ";
    message += cmd_;
    if (allowed.size() == 0) {
      message += " (it takes none)";
    } else {
      message += " (arguments: ";
      bool first = true;
      for (std::string_view a : allowed) {
        if (!first) message += ", ";
        message += a;
        first = false;
      }
      message += ")";
    }
    fail(std::move(message));
    break;
  }
}

std::vector<std::string> ArgReader::names(bool required) {
  std::vector<std::string> out;
  const json* v = find("names");
  if (!v) {
    if (required)
      fail(cmd_ + " needs at least one NAME in \"names\" (a program, an instance, a glob or all)");
    return out;
  }
  if (!v->is_array()) {
    wrong("names", "an array of strings");
    return out;
  }
  for (const json& item : *v) {
    if (!item.is_string() || item.get_ref<const std::string&>().empty()) {
      wrong("names", "an array of non-empty strings");
      return {};
    }
    out.push_back(item.get<std::string>());
  }
  if (required && out.empty())
    fail(cmd_ + " needs at least one NAME in \"names\" (a program, an instance, a glob or all)");
  return out;
}

std::optional<std::string> ArgReader::string(const char* key, bool required) {
  const json* v = find(key);
  if (!v) {
    if (required) fail(cmd_ + " needs the argument \"" + key + "\"");
    return std::nullopt;
  }
  if (!v->is_string()) {
    wrong(key, "a string");
    return std::nullopt;
  }
  return v->get<std::string>();
}

std::vector<std::string> ArgReader::strings(const char* key) {
  std::vector<std::string> out;
  const json* v = find(key);
  if (!v) return out;
  if (!v->is_array()) {
    wrong(key, "an array of strings");
    return out;
  }
  for (const json& item : *v) {
    if (!item.is_string()) {
      wrong(key, "an array of strings");
      return {};
    }
    out.push_back(item.get<std::string>());
  }
  return out;
}

bool ArgReader::boolean(const char* key, bool fallback) {
  const json* v = find(key);
  if (!v) return fallback;
  if (!v->is_boolean()) {
    wrong(key, "true or false");
    return fallback;
  }
  return v->get<bool>();
}

std::int64_t ArgReader::integer(const char* key, std::int64_t min, std::int64_t max,
                                std::int64_t fallback) {
  const json* v = find(key);
  if (!v) return fallback;
  // The parser reads a non-negative number as unsigned, which may not fit in int64.
  bool in_range = v->is_number_unsigned()
                      ? max >= 0 && v->get<std::uint64_t>() <= static_cast<std::uint64_t>(max) &&
                            v->get<std::int64_t>() >= min
                  : v->is_number_integer()
                      ? v->get<std::int64_t>() >= min && v->get<std::int64_t>() <= max
                      : false;
  if (!in_range) {
    std::string expected =
        "a whole number from " + std::to_string(min) + " to " + std::to_string(max);
    wrong(key, expected.c_str());
    return fallback;
  }
  return v->get<std::int64_t>();
}

std::optional<Duration> ArgReader::timeout() {
  const json* v = find("timeout_ms");
  if (!v) return std::nullopt;
  bool in_range = v->is_number_unsigned() ? v->get<std::uint64_t>() <= std::uint64_t(kMaxTimeoutMs)
                  : v->is_number_integer()
                      ? v->get<std::int64_t>() >= 0 && v->get<std::int64_t>() <= kMaxTimeoutMs
                      : false;
  if (!in_range) {
    wrong("timeout_ms", "a whole number of milliseconds between 0 and 30 days");
    return std::nullopt;
  }
  return Duration(v->get<std::int64_t>());
}

std::optional<int> ArgReader::signal() {
  const json* v = find("signal");
  if (!v) {
    fail(cmd_ + " needs the argument \"signal\" (a name like \"HUP\" or a number)");
    return std::nullopt;
  }
  std::optional<int> signo;
  if (v->is_string()) {
    signo = parse_signal(v->get<std::string>());
  } else if (v->is_number_integer()) {
    signo = v->is_number_unsigned()
                ? signal_from_number(static_cast<long long>(
                      std::min<std::uint64_t>(v->get<std::uint64_t>(), 1u << 20)))
                : signal_from_number(v->get<std::int64_t>());
  } else {
    wrong("signal", "a signal name or number");
    return std::nullopt;
  }
  if (!signo) {
    std::string message = "unknown signal ";
    message += protocol::quote(v->is_string() ? v->get<std::string>() : v->dump());
    message += " (a name like HUP or SIGHUP, or a number)";
    fail(std::move(message));
  }
  return signo;
}

const json* ArgReader::find(const char* key) {
  if (!ok()) return nullptr;
  auto it = args_.find(key);
  return it == args_.end() ? nullptr : &*it;
}

void ArgReader::wrong(const char* key, const char* expected) {
  std::string message = "argument \"";
  message += key;
  message += "\" of ";
  message += cmd_;
  message += " must be ";
  message += expected;
  fail(std::move(message));
}

void ArgReader::fail(std::string message) {
  if (!error_) error_ = bad_request(std::move(message));
}

}  // namespace gardien
