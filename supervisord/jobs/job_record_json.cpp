// protocol::to_json(JobRecord) and protocol::job_record_from_json, declared in common/protocol.h:
// kept here until common/protocol.cpp defines them, then this file goes.
#include <cstdint>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>

#include "common/protocol.h"

namespace gardien::protocol {

namespace {

using json = nlohmann::json;

json or_null(const auto& value) {
  return value ? json(*value) : json(nullptr);
}

// Reads a JobRecord's fields one by one; the first wrong one is the error.
class RecordReader {
 public:
  RecordReader(const json& j, std::string& error) : j_(j), error_(error) {
    if (!j.is_object()) error_ = "a job record must be an object";
  }
  bool ok() const { return error_.empty(); }

  void string(const char* key, std::string& out) {
    const json* v = find(key);
    if (!v) return;
    if (!v->is_string()) return wrong(key, "a string");
    out = v->get<std::string>();
  }
  void strings(const char* key, std::vector<std::string>& out) {
    const json* v = find(key);
    if (!v) return;
    if (!v->is_array()) return wrong(key, "an array of strings");
    for (const json& item : *v) {
      if (!item.is_string()) return wrong(key, "an array of strings");
      out.push_back(item.get<std::string>());
    }
  }
  template <typename Int>
  void integer(const char* key, Int& out) {
    const json* v = find(key);
    if (!v) return;
    std::optional<std::int64_t> i;
    if (v->is_number_integer() &&
        !(v->is_number_unsigned() && v->get<std::uint64_t>() > std::uint64_t(INT64_MAX)))
      i = v->get<std::int64_t>();
    if (!i || *i < std::numeric_limits<Int>::min() || *i > std::numeric_limits<Int>::max())
      return wrong(key, "an integer in range");
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
  // A name of one of the protocol's (value, name) tables.
  template <typename Enum, typename Parse>
  void name(const char* key, Enum& out, Parse parse) {
    std::string text;
    string(key, text);
    if (!ok()) return;
    auto value = parse(text);
    if (!value) return wrong(key, "a known name");
    out = *value;
  }

 private:
  const json* find(const char* key) {
    if (!ok()) return nullptr;
    auto it = j_.find(key);
    if (it == j_.end()) {
      error_ = std::string("a job record lacks \"") + key + "\"";
      return nullptr;
    }
    return &*it;
  }
  void wrong(const char* key, const char* what) {
    error_ = std::string("a job record's \"") + key + "\" must be " + what;
  }
  const json& j_;
  std::string& error_;
};

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
  RecordReader f(j, error);
  f.string("id", r.id);
  f.string("task", r.task);
  f.integer("number", r.number);
  f.name("state", r.state, parse_job_state);
  f.name("source", r.source, parse_job_source);
  f.optional_integer("uid", r.uid);
  f.strings("args", r.args);
  f.integer("queued_ms", r.queued_ms);
  f.optional_integer("started_ms", r.started_ms);
  f.optional_integer("ended_ms", r.ended_ms);
  f.integer("attempts", r.attempts);
  f.optional_integer("pid", r.pid);
  if (f.ok() && j.contains("outcome") && !j["outcome"].is_null()) {
    JobOutcome outcome{};
    f.name("outcome", outcome, parse_job_outcome);
    r.outcome = outcome;
  }
  f.optional_integer("exit_code", r.exit_code);
  f.optional_integer("signal", r.signal);
  f.string("info", r.info);
  if (!f.ok()) return std::nullopt;
  return r;
}

}  // namespace gardien::protocol
