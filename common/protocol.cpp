#include "common/protocol.h"

#include <array>
#include <limits>

namespace gardien::protocol {

using nlohmann::json;

namespace {

constexpr std::array<std::pair<ErrorCode, std::string_view>, 13> kErrorCodes = {{
    {ErrorCode::bad_request, "bad_request"},
    {ErrorCode::line_too_long, "line_too_long"},
    {ErrorCode::unsupported_version, "unsupported_version"},
    {ErrorCode::unknown_command, "unknown_command"},
    {ErrorCode::unknown_program, "unknown_program"},
    {ErrorCode::permission_denied, "permission_denied"},
    {ErrorCode::too_many_clients, "too_many_clients"},
    {ErrorCode::timeout, "timeout"},
    {ErrorCode::failed, "failed"},
    {ErrorCode::shutting_down, "shutting_down"},
    {ErrorCode::invalid_config, "invalid_config"},
    {ErrorCode::unavailable, "unavailable"},
    {ErrorCode::internal, "internal"},
}};

// Thrown by the parser callback to stop at the depth limit; never escapes the parse functions.
struct TooDeep {};

// Parses one line, refusing nesting deeper than kMaxDepth before building it: a deeper document
// would cost recursion later (copying, comparing or dumping it overflows the stack). Throws
// json::parse_error or TooDeep.
json parse_limited(std::string_view line) {
  auto limit_depth = [](int depth, json::parse_event_t event, json&) {
    if ((event == json::parse_event_t::object_start || event == json::parse_event_t::array_start) &&
        depth >= kMaxDepth) {
      throw TooDeep{};
    }
    return true;
  };
  return json::parse(line.begin(), line.end(), limit_depth);
}

std::string dump(const json& j) {
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

json id_json(std::optional<std::int64_t> id) {
  return id ? json(*id) : json(nullptr);
}

std::string line_of(json object) {
  std::string line = dump(object);
  line += '\n';
  return line;
}

// Reads an integer that fits in int64; nullopt for any other JSON value (1.0 included).
std::optional<std::int64_t> as_int64(const json& j) {
  if (j.is_number_unsigned()) {
    auto u = j.get<std::uint64_t>();
    if (u > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
      return std::nullopt;
    return static_cast<std::int64_t>(u);
  }
  if (j.is_number_integer()) return j.get<std::int64_t>();
  return std::nullopt;
}

RequestError bad(std::optional<std::int64_t> id, ErrorCode code, std::string message) {
  return RequestError{id, Error{code, std::move(message), nullptr}};
}

// nlohmann's messages start with "[json.exception.parse_error.101] "; the user needs the rest.
std::string describe_parse_error(const json::exception& e) {
  std::string what = e.what();
  if (auto close = what.find("] ");
      what.rfind("[json.exception", 0) == 0 && close != std::string::npos) {
    what.erase(0, close + 2);
  }
  if (what.size() > 200) {
    what.resize(200);
    what += "...";
  }
  return what;
}

// ---- A small non-throwing reader for result schemas ----
class Fields {
 public:
  Fields(const json& j, std::string& error, const char* what) : j_(j), error_(error) {
    if (!j.is_object()) fail(std::string(what) + " must be an object");
  }
  bool ok() const { return error_.empty(); }

  void string(const char* key, std::string& out, bool required = true) {
    const json* v = find(key, required);
    if (!v) return;
    if (!v->is_string()) return wrong(key, "a string");
    out = v->get<std::string>();
  }
  void boolean(const char* key, bool& out, bool required = true) {
    const json* v = find(key, required);
    if (!v) return;
    if (!v->is_boolean()) return wrong(key, "a boolean");
    out = v->get<bool>();
  }
  template <typename Int>
  void integer(const char* key, Int& out, bool required = true) {
    const json* v = find(key, required);
    if (!v) return;
    auto i = as_int64(*v);
    if (!i || *i < std::numeric_limits<Int>::min() || *i > std::numeric_limits<Int>::max()) {
      return wrong(key, "an integer in range");
    }
    out = static_cast<Int>(*i);
  }
  // Absent or null: nullopt.
  template <typename Int>
  void optional_integer(const char* key, std::optional<Int>& out) {
    auto it = j_.find(key);
    if (!ok() || it == j_.end() || it->is_null()) return;
    Int value{};
    integer(key, value);
    if (ok()) out = value;
  }
  // A name from one of the protocol's lists, read back with `parse`; `what` names the list.
  template <typename Enum>
  void named(const char* key, Enum& out, std::optional<Enum> (*parse)(std::string_view) noexcept,
             const char* what, bool required = true) {
    const json* v = find(key, required);
    if (!v) return;
    if (!v->is_string()) return wrong(key, "a string");
    const auto& name = v->get_ref<const std::string&>();
    auto value = parse(name);
    if (!value)
      return fail(std::string("field \"") + key + "\" is not " + what + ": " + quote(name));
    out = *value;
  }
  // Absent or null: nullopt.
  template <typename Enum>
  void optional_named(const char* key, std::optional<Enum>& out,
                      std::optional<Enum> (*parse)(std::string_view) noexcept, const char* what) {
    auto it = j_.find(key);
    if (!ok() || it == j_.end() || it->is_null()) return;
    Enum value{};
    named(key, value, parse, what);
    if (ok()) out = value;
  }
  void strings(const char* key, std::vector<std::string>& out, bool required = true) {
    const json* v = find(key, required);
    if (!v) return;
    if (!v->is_array()) return wrong(key, "an array of strings");
    for (const json& item : *v) {
      if (!item.is_string()) return wrong(key, "an array of strings");
      out.push_back(item.get<std::string>());
    }
  }
  void integers(const char* key, std::vector<std::int64_t>& out) {
    const json* v = find(key, true);
    if (!v) return;
    if (!v->is_array()) return wrong(key, "an array of integers");
    for (const json& item : *v) {
      auto i = as_int64(item);
      if (!i) return wrong(key, "an array of integers");
      out.push_back(*i);
    }
  }
  const json* array(const char* key, bool required = true) {
    const json* v = find(key, required);
    if (v && !v->is_array()) {
      wrong(key, "an array");
      return nullptr;
    }
    return v;
  }

 private:
  const json* find(const char* key, bool required) {
    if (!ok()) return nullptr;
    auto it = j_.find(key);
    if (it == j_.end()) {
      if (required) fail(std::string("missing field \"") + key + "\"");
      return nullptr;
    }
    return &*it;
  }
  void wrong(const char* key, const char* expected) {
    fail(std::string("field \"") + key + "\" must be " + expected);
  }
  void fail(std::string message) {
    if (ok()) error_ = std::move(message);
  }
  const json& j_;
  std::string& error_;
};

}  // namespace

std::string_view error_code_name(ErrorCode code) noexcept {
  for (const auto& [c, name] : kErrorCodes) {
    if (c == code) return name;
  }
  return "internal";
}

std::optional<ErrorCode> parse_error_code(std::string_view name) noexcept {
  for (const auto& [c, n] : kErrorCodes) {
    if (n == name) return c;
  }
  return std::nullopt;
}

namespace {
// The name of `value` in one of the protocol's (value, name) tables; the first entry's name for a
// value the table lacks.
template <typename Enum, std::size_t N>
std::string_view name_in(const std::array<std::pair<Enum, std::string_view>, N>& table,
                         Enum value) noexcept {
  for (const auto& [v, name] : table) {
    if (v == value) return name;
  }
  return table.front().second;
}
template <typename Enum, std::size_t N>
std::optional<Enum> value_in(const std::array<std::pair<Enum, std::string_view>, N>& table,
                             std::string_view name) noexcept {
  for (const auto& [v, n] : table) {
    if (n == name) return v;
  }
  return std::nullopt;
}
}  // namespace

std::string_view kind_name(InstanceKind kind) noexcept {
  return name_in(kInstanceKinds, kind);
}
std::optional<InstanceKind> parse_kind(std::string_view name) noexcept {
  return value_in(kInstanceKinds, name);
}
std::string_view job_state_name(JobState state) noexcept {
  return name_in(kJobStates, state);
}
std::optional<JobState> parse_job_state(std::string_view name) noexcept {
  return value_in(kJobStates, name);
}
std::string_view job_outcome_name(JobOutcome outcome) noexcept {
  return name_in(kJobOutcomes, outcome);
}
std::optional<JobOutcome> parse_job_outcome(std::string_view name) noexcept {
  return value_in(kJobOutcomes, name);
}
std::string_view job_source_name(JobSource source) noexcept {
  return name_in(kJobSources, source);
}
std::optional<JobSource> parse_job_source(std::string_view name) noexcept {
  return value_in(kJobSources, name);
}

int exit_code_of(const JobRecord& record) noexcept {
  if (!record.outcome) return 125;
  switch (*record.outcome) {
    case JobOutcome::succeeded:
    case JobOutcome::failed:
      if (record.signal) return 128 + *record.signal;
      return record.exit_code.value_or(1);
    case JobOutcome::timed_out:
      return 124;
    case JobOutcome::cancelled:
    case JobOutcome::lost:
      return 125;
    case JobOutcome::failed_to_start:
      return 126;
  }
  return 125;
}

std::string_view state_name(InstanceState state) noexcept {
  for (const auto& [s, name] : kInstanceStates) {
    if (s == state) return name;
  }
  return "stopped";
}

std::optional<InstanceState> parse_state(std::string_view name) noexcept {
  for (const auto& [s, n] : kInstanceStates) {
    if (n == name) return s;
  }
  return std::nullopt;
}

std::string_view health_name(Health health) noexcept {
  for (const auto& [h, name] : kHealthNames) {
    if (h == health) return name;
  }
  return "none";
}

std::optional<Health> parse_health(std::string_view name) noexcept {
  for (const auto& [h, n] : kHealthNames) {
    if (n == name) return h;
  }
  return std::nullopt;
}

std::string_view outcome_name(RunOutcome outcome) noexcept {
  for (const auto& [o, name] : kRunOutcomes) {
    if (o == outcome) return name;
  }
  return "exited";
}

std::optional<RunOutcome> parse_outcome(std::string_view name) noexcept {
  for (const auto& [o, n] : kRunOutcomes) {
    if (n == name) return o;
  }
  return std::nullopt;
}

std::string quote(std::string_view text, std::size_t max) {
  std::string cut(text.substr(0, max));
  std::string out = dump(json(cut));
  if (text.size() > max) out += "...";
  return out;
}

std::variant<Request, RequestError> parse_request(std::string_view line) noexcept {
  try {
    if (line.size() > kMaxLineBytes) {
      std::string message = "request line is ";
      message += std::to_string(line.size());
      message += " bytes; the limit is ";
      message += std::to_string(kMaxLineBytes);
      return bad(std::nullopt, ErrorCode::line_too_long, std::move(message));
    }
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    // The JSON parser would take a NUL for the end of input and ignore what follows it.
    if (auto nul = line.find('\0'); nul != std::string_view::npos) {
      std::string message = "request contains a NUL byte (at byte ";
      message += std::to_string(nul);
      message += "); send one JSON object per line, without NUL bytes";
      return bad(std::nullopt, ErrorCode::bad_request, std::move(message));
    }
    if (line.find_first_not_of(" \t") == std::string_view::npos) {
      return bad(std::nullopt, ErrorCode::bad_request,
                 "empty request line: send one JSON object per line");
    }

    json doc;
    try {
      doc = parse_limited(line);
    } catch (const json::parse_error& e) {
      std::string message = "invalid JSON: ";
      message += describe_parse_error(e);
      return bad(std::nullopt, ErrorCode::bad_request, std::move(message));
    } catch (const json::out_of_range& e) {
      // A number beyond a double's range (1e999999, a 60,000-digit integer).
      std::string message = "invalid JSON: a number is out of range: ";
      message += describe_parse_error(e);
      return bad(std::nullopt, ErrorCode::bad_request, std::move(message));
    } catch (const TooDeep&) {
      std::string message = "invalid request: JSON nested deeper than ";
      message += std::to_string(kMaxDepth);
      message += " levels";
      return bad(std::nullopt, ErrorCode::bad_request, std::move(message));
    }

    if (!doc.is_object()) {
      std::string message = "a request must be a JSON object, got ";
      message += doc.type_name();
      return bad(std::nullopt, ErrorCode::bad_request, std::move(message));
    }

    // The id first, so that every later error can carry it.
    Request request;
    auto id_it = doc.find("id");
    if (id_it == doc.end()) {
      return bad(std::nullopt, ErrorCode::bad_request,
                 "missing field \"id\" (an integer the response repeats)");
    }
    auto id = as_int64(*id_it);
    if (!id) {
      std::string message = "field \"id\" must be an integer, got ";
      message += id_it->type_name();
      return bad(std::nullopt, ErrorCode::bad_request, std::move(message));
    }
    request.id = *id;

    auto v_it = doc.find("v");
    if (v_it == doc.end()) {
      return bad(id, ErrorCode::bad_request, "missing field \"v\" (the protocol version, 1)");
    }
    auto v = as_int64(*v_it);
    if (!v) {
      std::string message = "field \"v\" must be an integer, got ";
      message += v_it->type_name();
      return bad(id, ErrorCode::bad_request, std::move(message));
    }
    if (*v != kVersion) {
      std::string message = "protocol version ";
      message += std::to_string(*v);
      message += " is not supported; this daemon speaks version ";
      message += std::to_string(kVersion);
      return bad(id, ErrorCode::unsupported_version, std::move(message));
    }

    auto cmd_it = doc.find("cmd");
    if (cmd_it == doc.end())
      return bad(id, ErrorCode::bad_request, "missing field \"cmd\" (the verb, e.g. \"status\")");
    if (!cmd_it->is_string()) {
      std::string message = "field \"cmd\" must be a string, got ";
      message += cmd_it->type_name();
      return bad(id, ErrorCode::bad_request, std::move(message));
    }
    request.cmd = cmd_it->get<std::string>();
    if (request.cmd.empty()) return bad(id, ErrorCode::bad_request, "field \"cmd\" is empty");

    if (auto args_it = doc.find("args"); args_it != doc.end()) {
      if (!args_it->is_object()) {
        std::string message = "field \"args\" must be an object, got ";
        message += args_it->type_name();
        return bad(id, ErrorCode::bad_request, std::move(message));
      }
      request.args = std::move(*args_it);
    }

    for (const auto& [key, value] : doc.items()) {
      if (key != "v" && key != "id" && key != "cmd" && key != "args") {
        std::string message = "unknown field ";
        message += quote(key);
        message += "; a request has v, id, cmd and args";
        return bad(id, ErrorCode::bad_request, std::move(message));
      }
    }
    return request;
  } catch (const std::exception& e) {
    return bad(std::nullopt, ErrorCode::internal,
               std::string("could not read the request: ") + e.what());
  } catch (...) {
    return bad(std::nullopt, ErrorCode::internal, "could not read the request");
  }
}

std::string encode_request(const Request& request) {
  return line_of(
      {{"v", kVersion}, {"id", request.id}, {"cmd", request.cmd}, {"args", request.args}});
}

namespace {
// The envelope is written around the result's own text, in the order a json object keeps its
// keys: a big result (10,000 runs) is never copied into a second tree.
std::string encode_answer(std::optional<std::int64_t> id, bool more, const json& result) {
  std::string line = R"({"id":)";
  line += dump(id_json(id));
  if (more) line += R"(,"more":true)";
  line += R"(,"ok":true,"result":)";
  line += dump(result);
  line += "}\n";
  return line;
}
}  // namespace

std::string encode_result(std::optional<std::int64_t> id, const json& result) {
  return encode_answer(id, false, result);
}

std::string encode_progress(std::optional<std::int64_t> id, const json& result) {
  return encode_answer(id, true, result);
}

std::string encode_error(std::optional<std::int64_t> id, const Error& error) {
  json e = {{"code", error_code_name(error.code)}, {"message", error.message}};
  if (error.details.is_object()) e["details"] = error.details;
  return line_of({{"id", id_json(id)}, {"ok", false}, {"error", std::move(e)}});
}

std::variant<Response, std::string> parse_response(std::string_view line) noexcept {
  try {
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    json doc;
    try {
      doc = parse_limited(line);
    } catch (const json::parse_error&) {
      return std::string("the daemon sent a line that is not JSON");
    } catch (const TooDeep&) {
      std::string message = "the daemon sent JSON nested deeper than ";
      message += std::to_string(kMaxDepth);
      message += " levels";
      return message;
    }
    if (!doc.is_object()) return std::string("the daemon sent JSON that is not an object");
    Response r;
    auto id_it = doc.find("id");
    if (id_it == doc.end()) return std::string("the daemon's response has no \"id\"");
    if (!id_it->is_null()) {
      r.id = as_int64(*id_it);
      if (!r.id) return std::string("the daemon's response has a non-integer \"id\"");
    }
    auto ok_it = doc.find("ok");
    if (ok_it == doc.end() || !ok_it->is_boolean())
      return std::string("the daemon's response has no boolean \"ok\"");
    r.ok = ok_it->get<bool>();
    if (auto more_it = doc.find("more"); more_it != doc.end()) {
      if (!more_it->is_boolean())
        return std::string("the daemon's response has a non-boolean \"more\"");
      r.more = more_it->get<bool>();
    }
    if (r.ok) {
      auto result_it = doc.find("result");
      if (result_it != doc.end()) r.result = std::move(*result_it);
      return r;
    }
    auto err_it = doc.find("error");
    if (err_it == doc.end() || !err_it->is_object())
      return std::string("the daemon's error response has no \"error\" object");
    std::string error;
    Fields f(*err_it, error, "error");
    f.string("code", r.error_code);
    f.string("message", r.error_message);
    if (!f.ok()) return std::string("the daemon's error response is malformed: ") += error;
    if (auto d = err_it->find("details"); d != err_it->end()) r.error_details = *d;
    r.more = false;  // an error always ends the answer
    return r;
  } catch (const std::exception& e) {
    return std::string("could not read the daemon's response: ") + e.what();
  } catch (...) {
    return std::string("could not read the daemon's response");
  }
}

std::optional<std::string> LineBuffer::next_line() {
  auto nl = data_.find('\n', start_);
  if (nl == std::string::npos) {
    // Reclaim the consumed prefix so the buffer never holds more than one partial line of waste.
    if (start_ > 0) {
      data_.erase(0, start_);
      start_ = 0;
    }
    return std::nullopt;
  }
  std::string line = data_.substr(start_, nl - start_);
  start_ = nl + 1;
  if (start_ == data_.size()) {
    data_.clear();
    start_ = 0;
  }
  return line;
}

bool LineBuffer::overflowed() const {
  return data_.find('\n', start_) == std::string::npos && data_.size() - start_ > max_line_;
}

json to_json(const InstanceStatus& s) {
  json j = {{"name", s.name},
            {"program", s.program},
            {"state", state_name(s.state)},
            {"pid", s.pid ? json(*s.pid) : json(nullptr)},
            {"uptime_ms", s.uptime ? json(s.uptime->count()) : json(nullptr)},
            {"restarts", s.restarts},
            {"info", s.info},
            {"wanted", s.wanted},
            {"processes", s.processes ? json(*s.processes) : json(nullptr)}};
  if (s.last_run) j["last_run"] = outcome_name(*s.last_run);  // absent until a run has ended
  j["ready"] = s.ready;
  j["health"] = health_name(s.health);
  j["health_failures"] = s.health_failures;
  j["health_threshold"] = s.health_threshold;
  j["status_text"] = s.status_text;
  j["exit_code"] = s.exit_code ? json(*s.exit_code) : json(nullptr);
  j["signal"] = s.signal ? json(*s.signal) : json(nullptr);
  j["reloading"] = s.reloading;
  if (s.kind != InstanceKind::program) j["kind"] = kind_name(s.kind);  // old clients see programs
  if (s.next_fire_ms) j["next_fire_ms"] = *s.next_fire_ms;
  return j;
}

std::optional<InstanceStatus> instance_status_from_json(const json& j, std::string& error) {
  InstanceStatus s;
  Fields f(j, error, "an instance status");
  f.string("name", s.name);
  f.string("program", s.program);
  f.named("state", s.state, parse_state, "a state");
  f.optional_integer("pid", s.pid);
  std::optional<std::int64_t> uptime_ms;
  f.optional_integer("uptime_ms", uptime_ms);
  if (uptime_ms) s.uptime = Duration(*uptime_ms);
  f.integer("restarts", s.restarts);
  f.string("info", s.info);
  f.boolean("wanted", s.wanted);
  f.optional_integer("processes", s.processes);
  f.optional_named("last_run", s.last_run, parse_outcome,
                   "a run outcome");  // absent from older daemons
  f.boolean("ready", s.ready, false);
  f.named("health", s.health, parse_health, "a health", false);
  f.integer("health_failures", s.health_failures, false);
  f.integer("health_threshold", s.health_threshold, false);
  f.string("status_text", s.status_text, false);
  f.optional_integer("exit_code", s.exit_code);
  f.optional_integer("signal", s.signal);
  f.boolean("reloading", s.reloading, false);
  f.named("kind", s.kind, parse_kind, "an instance kind", false);
  f.optional_integer("next_fire_ms", s.next_fire_ms);
  if (!f.ok()) return std::nullopt;
  return s;
}

json to_json(const InstanceResult& r) {
  return {{"name", r.name},
          {"state", state_name(r.state)},
          {"pid", r.pid ? json(*r.pid) : json(nullptr)},
          {"ok", r.ok},
          {"info", r.info}};
}

std::optional<InstanceResult> instance_result_from_json(const json& j, std::string& error) {
  InstanceResult r;
  Fields f(j, error, "an instance result");
  f.string("name", r.name);
  f.named("state", r.state, parse_state, "a state");
  f.optional_integer("pid", r.pid);
  f.boolean("ok", r.ok);
  f.string("info", r.info);
  if (!f.ok()) return std::nullopt;
  return r;
}

json to_json(const ReloadPlan& plan) {
  json scaled = json::array();
  for (const ScaleChange& s : plan.scaled)
    scaled.push_back({{"program", s.program}, {"from", s.from}, {"to", s.to}});
  return {{"add", plan.added},           {"remove", plan.removed},
          {"restart", plan.changed},     {"scale", std::move(scaled)},
          {"unchanged", plan.unchanged}, {"supervisor", plan.supervisor},
          {"tasks", plan.tasks}};
}

std::optional<ReloadPlan> reload_plan_from_json(const json& j, std::string& error) {
  ReloadPlan plan;
  Fields f(j, error, "a reload plan");
  f.strings("add", plan.added);
  f.strings("remove", plan.removed);
  f.strings("restart", plan.changed);
  f.strings("unchanged", plan.unchanged);
  f.strings("supervisor", plan.supervisor, false);  // absent from older daemons
  f.strings("tasks", plan.tasks, false);
  if (const json* scaled = f.array("scale")) {
    for (const json& item : *scaled) {
      ScaleChange s;
      Fields g(item, error, "a scale change");
      g.string("program", s.program);
      g.integer("from", s.from);
      g.integer("to", s.to);
      if (!g.ok()) return std::nullopt;
      plan.scaled.push_back(std::move(s));
    }
  }
  if (!f.ok()) return std::nullopt;
  return plan;
}

namespace {
template <typename Value>
json or_null(const std::optional<Value>& value) {
  return value ? json(*value) : json(nullptr);
}
}  // namespace

json to_json(const JobRecord& r) {
  return {{"id", r.id},
          {"task", r.task},
          {"number", r.number},
          {"state", job_state_name(r.state)},
          {"source", job_source_name(r.source)},
          {"uid", or_null(r.uid)},
          {"args", r.args},
          {"queued_ms", r.queued_ms},
          {"started_ms", or_null(r.started_ms)},
          {"ended_ms", or_null(r.ended_ms)},
          {"attempts", r.attempts},
          {"pid", or_null(r.pid)},
          {"outcome", r.outcome ? json(job_outcome_name(*r.outcome)) : json(nullptr)},
          {"exit_code", or_null(r.exit_code)},
          {"signal", or_null(r.signal)},
          {"info", r.info}};
}

std::optional<JobRecord> job_record_from_json(const json& j, std::string& error) {
  JobRecord r;
  Fields f(j, error, "a job record");
  f.string("id", r.id);
  f.string("task", r.task);
  f.integer("number", r.number);
  f.named("state", r.state, parse_job_state, "a job state");
  f.named("source", r.source, parse_job_source, "a job source");
  f.optional_integer("uid", r.uid);
  f.strings("args", r.args, false);
  f.integer("queued_ms", r.queued_ms);
  f.optional_integer("started_ms", r.started_ms);
  f.optional_integer("ended_ms", r.ended_ms);
  f.integer("attempts", r.attempts);
  f.optional_integer("pid", r.pid);
  f.optional_named("outcome", r.outcome, parse_job_outcome, "a job outcome");
  f.optional_integer("exit_code", r.exit_code);
  f.optional_integer("signal", r.signal);
  f.string("info", r.info, false);
  if (!f.ok()) return std::nullopt;
  return r;
}

json to_json(const TaskSchedule& s) {
  return {{"task", s.task},
          {"schedule", s.schedule},
          {"time_zone", s.time_zone},
          {"next_ms", s.next_ms}};
}

std::optional<TaskSchedule> task_schedule_from_json(const json& j, std::string& error) {
  TaskSchedule s;
  Fields f(j, error, "a task schedule");
  f.string("task", s.task);
  f.string("schedule", s.schedule);
  f.string("time_zone", s.time_zone);
  f.integers("next_ms", s.next_ms);
  if (!f.ok()) return std::nullopt;
  return s;
}

}  // namespace gardien::protocol
