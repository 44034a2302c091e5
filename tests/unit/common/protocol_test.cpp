#include "common/protocol.h"

#include <gtest/gtest.h>

#include <random>

using namespace gardien;
using namespace gardien::protocol;
using nlohmann::json;

namespace {

Request parse_ok(std::string_view line) {
  auto parsed = parse_request(line);
  if (auto* e = std::get_if<RequestError>(&parsed)) {
    ADD_FAILURE() << "unexpected error for " << line << ": " << e->error.message;
    return {};
  }
  return std::get<Request>(parsed);
}

RequestError parse_error(std::string_view line) {
  auto parsed = parse_request(line);
  if (std::holds_alternative<Request>(parsed)) {
    ADD_FAILURE() << "expected an error for " << line;
    return {};
  }
  return std::get<RequestError>(parsed);
}

Response response_ok(std::string_view line) {
  auto parsed = parse_response(line);
  if (auto* e = std::get_if<std::string>(&parsed)) {
    ADD_FAILURE() << "unexpected error for " << line << ": " << *e;
    return {};
  }
  return std::get<Response>(parsed);
}

}  // namespace

TEST(Protocol, ParsesAFullRequest) {
  Request r = parse_ok(R"({"v":1,"id":7,"cmd":"stop","args":{"names":["web"],"wait":false}})");
  EXPECT_EQ(r.id, 7);
  EXPECT_EQ(r.cmd, "stop");
  EXPECT_EQ(r.args, json({{"names", {"web"}}, {"wait", false}}));
}

TEST(Protocol, ArgsAreOptionalAndFieldOrderFree) {
  Request r = parse_ok(R"({"cmd":"version","id":-3,"v":1})");
  EXPECT_EQ(r.id, -3);
  EXPECT_TRUE(r.args.is_object());
  EXPECT_TRUE(r.args.empty());
}

TEST(Protocol, ToleratesCarriageReturnAndSpaces) {
  Request r = parse_ok("  {\"v\":1, \"id\":1, \"cmd\":\"status\"}  \r");
  EXPECT_EQ(r.cmd, "status");
}

TEST(Protocol, IdBoundaries) {
  EXPECT_EQ(parse_ok(R"({"v":1,"id":9223372036854775807,"cmd":"x"})").id, INT64_MAX);
  EXPECT_EQ(parse_ok(R"({"v":1,"id":-9223372036854775808,"cmd":"x"})").id, INT64_MIN);
  RequestError e = parse_error(R"({"v":1,"id":9223372036854775808,"cmd":"x"})");
  EXPECT_EQ(e.error.code, ErrorCode::bad_request);
  EXPECT_FALSE(e.id);
}

TEST(Protocol, EveryMalformedLineGetsAPreciseError) {
  struct Case {
    std::string line;
    ErrorCode code;
    std::string message_part;
    std::optional<std::int64_t> id;
  };
  std::vector<Case> cases = {
      {"", ErrorCode::bad_request, "empty request line", std::nullopt},
      {"   ", ErrorCode::bad_request, "empty request line", std::nullopt},
      {"hello", ErrorCode::bad_request, "invalid JSON", std::nullopt},
      {"{\"v\":1,", ErrorCode::bad_request, "invalid JSON", std::nullopt},
      {"{\"v\":1}{}", ErrorCode::bad_request, "invalid JSON", std::nullopt},
      {"{'v':1}", ErrorCode::bad_request, "invalid JSON", std::nullopt},
      {"{\"cmd\":\"\xff\xfe\"}", ErrorCode::bad_request, "invalid JSON", std::nullopt},
      {"[1,2]", ErrorCode::bad_request, "must be a JSON object, got array", std::nullopt},
      {"\"status\"", ErrorCode::bad_request, "got string", std::nullopt},
      {"42", ErrorCode::bad_request, "got number", std::nullopt},
      {"null", ErrorCode::bad_request, "got null", std::nullopt},
      {R"({"v":1,"cmd":"status"})", ErrorCode::bad_request, "missing field \"id\"", std::nullopt},
      {R"({"v":1,"id":"7","cmd":"status"})", ErrorCode::bad_request,
       "\"id\" must be an integer, got string", std::nullopt},
      {R"({"v":1,"id":7.5,"cmd":"status"})", ErrorCode::bad_request, "\"id\" must be an integer",
       std::nullopt},
      {R"({"v":1,"id":null,"cmd":"status"})", ErrorCode::bad_request,
       "\"id\" must be an integer, got null", std::nullopt},
      {R"({"id":4,"cmd":"status"})", ErrorCode::bad_request, "missing field \"v\"", 4},
      {R"({"v":"1","id":4,"cmd":"status"})", ErrorCode::bad_request, "\"v\" must be an integer", 4},
      {R"({"v":2,"id":4,"cmd":"status"})", ErrorCode::unsupported_version,
       "protocol version 2 is not supported", 4},
      {R"({"v":0,"id":4,"cmd":"status"})", ErrorCode::unsupported_version, "speaks version 1", 4},
      {R"({"v":1,"id":5})", ErrorCode::bad_request, "missing field \"cmd\"", 5},
      {R"({"v":1,"id":5,"cmd":3})", ErrorCode::bad_request, "\"cmd\" must be a string, got number",
       5},
      {R"({"v":1,"id":5,"cmd":""})", ErrorCode::bad_request, "\"cmd\" is empty", 5},
      {R"({"v":1,"id":5,"cmd":"status","args":[]})", ErrorCode::bad_request,
       "\"args\" must be an object, got array", 5},
      {R"({"v":1,"id":5,"cmd":"status","args":null})", ErrorCode::bad_request,
       "\"args\" must be an object", 5},
      {R"({"v":1,"id":5,"cmd":"status","arg":{}})", ErrorCode::bad_request, "unknown field \"arg\"",
       5},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.line);
    RequestError e = parse_error(c.line);
    EXPECT_EQ(e.error.code, c.code) << e.error.message;
    EXPECT_NE(e.error.message.find(c.message_part), std::string::npos) << e.error.message;
    EXPECT_EQ(e.id, c.id);
  }
}

// A NUL byte must not end the parse early: what follows it would be silently ignored.
TEST(Protocol, NulByteIsAnErrorNotTheEndOfInput) {
  using namespace std::string_literals;
  for (std::string line : {"{\"v\":1,\"id\":3,\"cmd\":\"status\"}\0garbage"s,
                           "{\"v\":1,\"id\":3,\"cmd\":\"status\"}\0"s,
                           "{\"v\":1,\"id\":3,\"cmd\":\"sta\0tus\"}"s, "\0"s}) {
    SCOPED_TRACE(json(line).dump());
    RequestError e = parse_error(line);
    EXPECT_EQ(e.error.code, ErrorCode::bad_request);
    EXPECT_NE(e.error.message.find("NUL byte"), std::string::npos) << e.error.message;
  }
}

// Numbers too large for a double are the client's mistake, not the daemon's.
TEST(Protocol, OverflowingNumbersAreBadRequests) {
  for (std::string line :
       {std::string(R"({"v":1,"id":1e999999,"cmd":"status"})"),
        R"({"v":1,"id":)" + std::string(60000, '9') + R"(,"cmd":"status"})",
        std::string(R"({"v":1,"id":1,"cmd":"wait","args":{"timeout_ms":-1e400}})")}) {
    SCOPED_TRACE(line.substr(0, 60));
    RequestError e = parse_error(line);
    EXPECT_EQ(e.error.code, ErrorCode::bad_request) << e.error.message;
    EXPECT_NE(e.error.message.find("number"), std::string::npos) << e.error.message;
    EXPECT_LT(e.error.message.size(), 300u);
  }
}

TEST(Protocol, LineLimitIsExact) {
  std::string prefix = R"({"v":1,"id":1,"cmd":"status")";
  std::string at_limit = prefix + std::string(kMaxLineBytes - prefix.size() - 1, ' ') + "}";
  ASSERT_EQ(at_limit.size(), kMaxLineBytes);
  EXPECT_EQ(parse_ok(at_limit).cmd, "status");

  std::string over = prefix + std::string(kMaxLineBytes - prefix.size(), ' ') + "}";
  RequestError e = parse_error(over);
  EXPECT_EQ(e.error.code, ErrorCode::line_too_long);
  EXPECT_NE(e.error.message.find("65537 bytes; the limit is 65536"), std::string::npos)
      << e.error.message;
}

TEST(Protocol, DeepNestingIsRefusedBeforeItCostsAnything) {
  std::string ok_args = std::string(kMaxDepth - 2, '[') + std::string(kMaxDepth - 2, ']');
  EXPECT_EQ(parse_ok(R"({"v":1,"id":1,"cmd":"x","args":{"a":)" + ok_args + "}}").cmd, "x");

  std::string deep = std::string(100000, '[');
  RequestError e = parse_error(deep.substr(0, kMaxLineBytes));
  EXPECT_EQ(e.error.code, ErrorCode::bad_request);
  EXPECT_NE(e.error.message.find("nested deeper than 32"), std::string::npos) << e.error.message;
}

TEST(Protocol, ParseErrorMessagesAreShort) {
  std::string line =
      "{\"v\":1,\"id\":1,\"cmd\":\"" + std::string(60000, 'x');  // unterminated string
  RequestError e = parse_error(line);
  EXPECT_EQ(e.error.code, ErrorCode::bad_request);
  EXPECT_LT(e.error.message.size(), 300u);
}

TEST(Protocol, ErrorCodeNamesAreStable) {
  // Scripts match on these strings: renaming one is a protocol change.
  std::vector<std::pair<ErrorCode, std::string>> names = {
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
  };
  for (const auto& [code, name] : names) {
    EXPECT_EQ(error_code_name(code), name);
    EXPECT_EQ(parse_error_code(name), code);
  }
  EXPECT_EQ(parse_error_code("nope"), std::nullopt);
}

TEST(Protocol, StatesRoundTrip) {
  for (const char* name :
       {"stopped", "starting", "running", "backoff", "stopping", "exited", "fatal"}) {
    auto s = parse_state(name);
    ASSERT_TRUE(s) << name;
    EXPECT_EQ(state_name(*s), name);
  }
  EXPECT_EQ(parse_state("Running"), std::nullopt);
}

TEST(Protocol, RequestsRoundTrip) {
  Request r{42, "wait", {{"names", {"web", "db.1"}}, {"for", "running"}, {"timeout_ms", 5000}}};
  std::string line = encode_request(r);
  ASSERT_EQ(line.back(), '\n');
  EXPECT_EQ(line.find('\n'), line.size() - 1);
  Request back = parse_ok(std::string_view(line).substr(0, line.size() - 1));
  EXPECT_EQ(back.id, r.id);
  EXPECT_EQ(back.cmd, r.cmd);
  EXPECT_EQ(back.args, r.args);
}

TEST(Protocol, ResponsesRoundTrip) {
  std::string ok = encode_result(3, {{"pid", 12}});
  Response r = response_ok(ok.substr(0, ok.size() - 1));
  EXPECT_EQ(r.id, 3);
  EXPECT_TRUE(r.ok);
  EXPECT_FALSE(r.more);
  EXPECT_EQ(r.result, json({{"pid", 12}}));

  std::string progress = encode_progress(3, {{"name", "web"}});
  r = response_ok(progress.substr(0, progress.size() - 1));
  EXPECT_TRUE(r.ok);
  EXPECT_TRUE(r.more);

  std::string error = encode_error(
      std::nullopt, Error{ErrorCode::invalid_config, "2 errors", {{"diagnostics", {"a"}}}});
  EXPECT_NE(error.find(R"("id":null)"), std::string::npos) << error;
  r = response_ok(error.substr(0, error.size() - 1));
  EXPECT_FALSE(r.id);
  EXPECT_FALSE(r.ok);
  EXPECT_FALSE(r.more);
  EXPECT_TRUE(r.is(ErrorCode::invalid_config));
  EXPECT_EQ(r.error_message, "2 errors");
  EXPECT_EQ(r.error_details, json({{"diagnostics", {"a"}}}));

  std::string plain = encode_error(1, Error{ErrorCode::failed, "x", nullptr});
  EXPECT_EQ(plain.find("details"), std::string::npos) << plain;
}

TEST(Protocol, EncodingNeverThrowsOnInvalidUtf8) {
  std::string bad = "exec /bin/\xff\xfe: No such file";
  std::string line;
  EXPECT_NO_THROW(line = encode_error(1, Error{ErrorCode::failed, bad, nullptr}));
  EXPECT_NO_THROW(line = encode_result(1, {{"info", bad}}));
  Response r = response_ok(line.substr(0, line.size() - 1));
  EXPECT_TRUE(r.ok);
}

TEST(Protocol, MalformedResponsesAreReported) {
  for (const char* line :
       {"", "nope", "[]", R"({"ok":true})", R"({"id":1})", R"({"id":"1","ok":true})",
        R"({"id":1,"ok":"yes"})", R"({"id":1,"ok":false})", R"({"id":1,"ok":false,"error":{}})",
        R"({"id":1,"ok":false,"error":{"code":1,"message":"x"}})",
        R"({"id":1,"ok":true,"more":1})"}) {
    auto parsed = parse_response(line);
    ASSERT_TRUE(std::holds_alternative<std::string>(parsed)) << line;
    EXPECT_FALSE(std::get<std::string>(parsed).empty());
  }
}

TEST(Protocol, UnknownErrorCodesFromNewerDaemonsAreKept) {
  Response r = response_ok(R"({"id":1,"ok":false,"error":{"code":"brand_new","message":"m"}})");
  EXPECT_EQ(r.error_code, "brand_new");
  EXPECT_FALSE(r.is(ErrorCode::failed));
}

TEST(Protocol, LineBufferSplitsAndCaps) {
  LineBuffer buffer(8);
  buffer.append("ab\ncd");
  EXPECT_EQ(buffer.next_line(), "ab");
  EXPECT_EQ(buffer.next_line(), std::nullopt);
  buffer.append("e\n\nf");
  EXPECT_EQ(buffer.next_line(), "cde");
  EXPECT_EQ(buffer.next_line(), "");
  EXPECT_EQ(buffer.next_line(), std::nullopt);
  EXPECT_FALSE(buffer.overflowed());
  buffer.append("12345678");
  EXPECT_TRUE(buffer.overflowed());
  buffer.append("\n");
  EXPECT_FALSE(buffer.overflowed());
  EXPECT_EQ(buffer.next_line(), "f12345678");
  EXPECT_EQ(buffer.buffered(), 0u);
}

TEST(Protocol, InstanceStatusSchemaRoundTrips) {
  InstanceStatus s{"web.2",
                   "web",
                   InstanceState::backoff,
                   std::nullopt,
                   std::nullopt,
                   3,
                   "exit code 1, retry in 2s",
                   true,
                   {}};
  json j = to_json(s);
  EXPECT_EQ(j, json::parse(
                   R"({"name":"web.2","program":"web","state":"backoff","pid":null,"uptime_ms":null,
                               "restarts":3,"info":"exit code 1, retry in 2s","wanted":true,
                               "processes":null,"ready":false,"health":"none",
                               "health_failures":0,"health_threshold":0,"status_text":"",
                               "exit_code":null,"signal":null,"reloading":false})"));
  std::string error;
  EXPECT_EQ(instance_status_from_json(j, error), s);

  InstanceStatus running{"db", "db", InstanceState::running, 77, Duration(1500), 0, "", true, {}};
  EXPECT_EQ(instance_status_from_json(to_json(running), error), running);

  json broken = j;
  broken["state"] = "sleeping";
  EXPECT_EQ(instance_status_from_json(broken, error), std::nullopt);
  EXPECT_NE(error.find("not a state"), std::string::npos) << error;
  error.clear();
  broken = j;
  broken.erase("restarts");
  EXPECT_EQ(instance_status_from_json(broken, error), std::nullopt);
  EXPECT_NE(error.find("missing field \"restarts\""), std::string::npos) << error;
  error.clear();
  EXPECT_EQ(instance_status_from_json(json::array(), error), std::nullopt);
}

TEST(Protocol, InstanceStatusReadinessHealthAndExitFieldsRoundTrip) {
  InstanceStatus s{"kv", "kv", InstanceState::running, 40, Duration(2000), 0, "", true, {}};
  s.ready = true;
  s.health = Health::unhealthy;
  s.health_failures = 2;
  s.health_threshold = 3;
  s.status_text = "Loading 12% \xc3\xa9";
  s.reloading = true;
  std::string error;
  json j = to_json(s);
  EXPECT_EQ(j.at("ready"), true);
  EXPECT_EQ(j.at("health"), "unhealthy");
  EXPECT_EQ(j.at("health_failures"), 2);
  EXPECT_EQ(j.at("health_threshold"), 3);
  EXPECT_EQ(j.at("reloading"), true);
  EXPECT_EQ(instance_status_from_json(j, error), s) << error;

  InstanceStatus ended{"job", "job", InstanceState::exited, {}, {}, 0, "exit code 3", false, {}};
  ended.exit_code = 3;
  EXPECT_EQ(to_json(ended).at("exit_code"), 3);
  EXPECT_EQ(instance_status_from_json(to_json(ended), error), ended);
  InstanceStatus killed = ended;
  killed.exit_code.reset();
  killed.signal = 9;
  EXPECT_EQ(to_json(killed).at("signal"), 9);
  EXPECT_TRUE(to_json(killed).at("exit_code").is_null());
  EXPECT_EQ(instance_status_from_json(to_json(killed), error), killed);

  // An older daemon's answer without the fields reads as their zero values.
  json old = to_json(ended);
  for (const char* key : {"ready", "health_failures", "health_threshold", "status_text",
                          "reloading", "exit_code", "signal"})
    old.erase(key);
  auto read = instance_status_from_json(old, error);
  ASSERT_TRUE(read) << error;
  EXPECT_FALSE(read->reloading);
  EXPECT_EQ(read->exit_code, std::nullopt);

  json bad = j;
  bad["reloading"] = "yes";
  EXPECT_EQ(instance_status_from_json(bad, error), std::nullopt);
  EXPECT_NE(error.find("reloading"), std::string::npos) << error;
  error.clear();
  bad = j;
  bad["health"] = "sickly";
  EXPECT_EQ(instance_status_from_json(bad, error), std::nullopt);
  EXPECT_NE(error.find("not a health"), std::string::npos) << error;
}

TEST(Protocol, RunOutcomesRoundTrip) {
  for (const char* name :
       {"exited", "stopped by operator", "timed out", "failed to start", "unhealthy", "fatal"}) {
    auto o = parse_outcome(name);
    ASSERT_TRUE(o) << name;
    EXPECT_EQ(outcome_name(*o), name);
  }
  EXPECT_EQ(parse_outcome("killed"), std::nullopt);
  EXPECT_EQ(kRunOutcomes.size(), 6u);
}

TEST(Protocol, InstanceStatusCarriesHowItsLastRunEnded) {
  InstanceStatus s{"job", "job", InstanceState::backoff, {}, {}, 1, "timed out after 5s", true, {}};
  std::string error;
  EXPECT_FALSE(to_json(s).contains("last_run")) << "absent until a run has ended";
  s.last_run = RunOutcome::timed_out;
  json j = to_json(s);
  EXPECT_EQ(j.at("last_run"), "timed out");
  EXPECT_EQ(instance_status_from_json(j, error), s);

  j["last_run"] = nullptr;  // null reads as absent
  auto read = instance_status_from_json(j, error);
  ASSERT_TRUE(read) << error;
  EXPECT_EQ(read->last_run, std::nullopt);

  j["last_run"] = "vanished";
  EXPECT_EQ(instance_status_from_json(j, error), std::nullopt);
  EXPECT_NE(error.find("\"last_run\" is not a run outcome: \"vanished\""), std::string::npos)
      << error;
  error.clear();
  j["last_run"] = 3;
  EXPECT_EQ(instance_status_from_json(j, error), std::nullopt);
  EXPECT_NE(error.find("last_run"), std::string::npos) << error;
}

TEST(Protocol, InstanceResultAndReloadPlanRoundTrip) {
  InstanceResult r{"web.0", InstanceState::running, 12, true, "already running"};
  std::string error;
  EXPECT_EQ(instance_result_from_json(to_json(r), error), r);

  ReloadPlan plan;
  plan.added = {"new"};
  plan.removed = {"old"};
  plan.changed = {"web"};
  plan.scaled = {{"worker", 2, 4}};
  plan.unchanged = {"db"};
  EXPECT_FALSE(plan.empty());
  EXPECT_EQ(reload_plan_from_json(to_json(plan), error), plan);
  json bad = to_json(plan);
  bad["scale"][0]["to"] = "four";
  EXPECT_EQ(reload_plan_from_json(bad, error), std::nullopt);
  EXPECT_TRUE(ReloadPlan{}.empty());
}

TEST(Protocol, InstanceStatusKindIsAbsentForProgramsAndReadBack) {
  InstanceStatus program{"web", "web", InstanceState::running, 7, Duration(10), 0, "", true, {}};
  std::string error;
  json j = to_json(program);
  EXPECT_FALSE(j.contains("kind")) << "older clients see only programs";
  EXPECT_FALSE(j.contains("next_fire_ms"));

  InstanceStatus task{"backup", "backup", InstanceState::stopped, {}, {}, 0, "", false, {}};
  task.kind = InstanceKind::task;
  task.next_fire_ms = 1'780'000'000'000;
  j = to_json(task);
  EXPECT_EQ(j.at("kind"), "task");
  EXPECT_EQ(j.at("next_fire_ms"), 1'780'000'000'000);
  EXPECT_EQ(instance_status_from_json(j, error), task) << error;

  InstanceStatus run{"migrate#12", "migrate", InstanceState::running, 9, Duration(5), 0, "",
                     true,         {}};
  run.kind = InstanceKind::run;
  EXPECT_EQ(instance_status_from_json(to_json(run), error), run) << error;

  j["next_fire_ms"] = nullptr;
  auto read = instance_status_from_json(j, error);
  ASSERT_TRUE(read) << error;
  EXPECT_EQ(read->next_fire_ms, std::nullopt);
  j["kind"] = "daemon";
  EXPECT_EQ(instance_status_from_json(j, error), std::nullopt);
  EXPECT_NE(error.find("\"kind\" is not an instance kind: \"daemon\""), std::string::npos) << error;
  error.clear();
  j["kind"] = 2;
  EXPECT_EQ(instance_status_from_json(j, error), std::nullopt);
  error.clear();
  j["kind"] = "task";
  j["next_fire_ms"] = "soon";
  EXPECT_EQ(instance_status_from_json(j, error), std::nullopt);
  EXPECT_NE(error.find("next_fire_ms"), std::string::npos) << error;
}

TEST(Protocol, JobNamesRoundTrip) {
  for (const auto& [value, name] : kJobStates) EXPECT_EQ(parse_job_state(name), value);
  for (const auto& [value, name] : kJobOutcomes) EXPECT_EQ(parse_job_outcome(name), value);
  for (const auto& [value, name] : kJobSources) EXPECT_EQ(parse_job_source(name), value);
  for (const auto& [value, name] : kInstanceKinds) EXPECT_EQ(parse_kind(name), value);
  EXPECT_EQ(job_outcome_name(JobOutcome::timed_out), "timed out");
  EXPECT_EQ(parse_job_state("done"), std::nullopt);
}

namespace {
JobRecord finished_run() {
  JobRecord r;
  r.id = "migrate#12";
  r.task = "migrate";
  r.number = 12;
  r.state = JobState::finished;
  r.source = JobSource::ctl;
  r.uid = 1000;
  r.args = {"--to", "v3 \xc3\xa9"};
  r.queued_ms = 1'780'000'000'000;
  r.started_ms = r.queued_ms + 5;
  r.ended_ms = r.queued_ms + 2500;
  r.attempts = 2;
  r.outcome = JobOutcome::failed;
  r.exit_code = 3;
  r.info = "exit code 3; 2 attempts";
  return r;
}
}  // namespace

TEST(Protocol, JobRecordRoundTrips) {
  std::string error;
  JobRecord r = finished_run();
  json j = to_json(r);
  EXPECT_EQ(j, json::parse(R"({"id":"migrate#12","task":"migrate","number":12,"state":"finished",
      "source":"ctl","uid":1000,"args":["--to","v3 é"],"queued_ms":1780000000000,
      "started_ms":1780000000005,"ended_ms":1780000002500,"attempts":2,"pid":null,
      "outcome":"failed","exit_code":3,"signal":null,"info":"exit code 3; 2 attempts"})"));
  EXPECT_EQ(job_record_from_json(j, error), r) << error;

  JobRecord queued;
  queued.id = "backup#1";
  queued.task = "backup";
  queued.number = 1;
  queued.source = JobSource::schedule;
  queued.queued_ms = 5;
  j = to_json(queued);
  EXPECT_TRUE(j.at("outcome").is_null());
  EXPECT_TRUE(j.at("uid").is_null());
  EXPECT_EQ(job_record_from_json(j, error), queued) << error;

  // Optional fields may be absent as well as null.
  for (const char* key :
       {"uid", "args", "started_ms", "ended_ms", "pid", "outcome", "exit_code", "signal", "info"})
    j.erase(key);
  EXPECT_EQ(job_record_from_json(j, error), queued) << error;

  JobRecord killed = finished_run();
  killed.exit_code.reset();
  killed.signal = 9;
  killed.outcome = JobOutcome::timed_out;
  EXPECT_EQ(to_json(killed).at("signal"), 9);
  EXPECT_EQ(to_json(killed).at("outcome"), "timed out");
  EXPECT_EQ(job_record_from_json(to_json(killed), error), killed) << error;
}

TEST(Protocol, HostileJobRecordsAreRefusedByName) {
  const json good = to_json(finished_run());
  struct Case {
    const char* key;
    json value;
    const char* expected;
  };
  const Case cases[] = {
      {"state", "done", "\"state\" is not a job state: \"done\""},
      {"state", nullptr, "\"state\" must be a string"},
      {"source", "cron", "\"source\" is not a job source"},
      {"outcome", "exploded", "\"outcome\" is not a job outcome"},
      {"outcome", 1, "\"outcome\" must be a string"},
      {"number", 1.5, "\"number\""},
      {"number", "12", "\"number\""},
      {"attempts", 1e12, "\"attempts\""},
      {"attempts", 4'294'967'296LL, "\"attempts\" must be an integer in range"},
      {"pid", -1'000'000'000'000LL, "\"pid\" must be an integer in range"},
      {"exit_code", "3", "\"exit_code\""},
      {"signal", json::array(), "\"signal\""},
      {"uid", true, "\"uid\""},
      {"queued_ms", 18'446'744'073'709'551'615ULL, "\"queued_ms\""},
      {"args", "--to v3", "\"args\" must be an array of strings"},
      {"args", json::array({"a", 1}), "\"args\" must be an array of strings"},
      {"id", nullptr, "\"id\" must be a string"},
      {"info", json::object(), "\"info\" must be a string"},
  };
  for (const Case& c : cases) {
    json j = good;
    j[c.key] = c.value;
    std::string error;
    EXPECT_EQ(job_record_from_json(j, error), std::nullopt) << c.key << " = " << c.value.dump();
    EXPECT_NE(error.find(c.expected), std::string::npos) << error;
  }
  for (const char* key : {"id", "task", "number", "state", "source", "queued_ms", "attempts"}) {
    json j = good;
    j.erase(key);
    std::string error;
    EXPECT_EQ(job_record_from_json(j, error), std::nullopt) << key;
    EXPECT_NE(error.find(std::string("missing field \"") + key + "\""), std::string::npos) << error;
  }
  std::string error;
  EXPECT_EQ(job_record_from_json(json::array(), error), std::nullopt);
  EXPECT_EQ(job_record_from_json(json(nullptr), error), std::nullopt);
}

TEST(Protocol, TaskScheduleRoundTripsAndRefusesHostileInput) {
  TaskSchedule s{"backup", "*/15 * * * *", "Europe/Paris", {1'000, 2'000, 3'000}};
  std::string error;
  json j = to_json(s);
  EXPECT_EQ(j, json::parse(R"({"task":"backup","schedule":"*/15 * * * *",
                               "time_zone":"Europe/Paris","next_ms":[1000,2000,3000]})"));
  EXPECT_EQ(task_schedule_from_json(j, error), s) << error;
  TaskSchedule none{"idle", "@reboot", "UTC", {}};
  EXPECT_EQ(task_schedule_from_json(to_json(none), error), none) << error;

  for (json bad : {json(1), json::array({1, "2"}), json::array({1.5}), json(nullptr)}) {
    json k = j;
    k["next_ms"] = bad;
    EXPECT_EQ(task_schedule_from_json(k, error), std::nullopt) << bad.dump();
    EXPECT_NE(error.find("next_ms"), std::string::npos) << error;
    error.clear();
  }
  json k = j;
  k.erase("time_zone");
  EXPECT_EQ(task_schedule_from_json(k, error), std::nullopt);
  EXPECT_NE(error.find("missing field \"time_zone\""), std::string::npos) << error;
}

TEST(Protocol, RunWaitExitCodesFollowTimeout1) {
  JobRecord r = finished_run();
  EXPECT_EQ(exit_code_of(r), 3);
  r.outcome = JobOutcome::succeeded;
  r.exit_code = 0;
  EXPECT_EQ(exit_code_of(r), 0);
  r.outcome = JobOutcome::failed;
  r.exit_code.reset();
  r.signal = 9;
  EXPECT_EQ(exit_code_of(r), 137);
  r.outcome = JobOutcome::timed_out;
  EXPECT_EQ(exit_code_of(r), 124);
  r.outcome = JobOutcome::cancelled;
  EXPECT_EQ(exit_code_of(r), 125);
  r.outcome = JobOutcome::lost;
  EXPECT_EQ(exit_code_of(r), 125);
  r.outcome = JobOutcome::failed_to_start;
  EXPECT_EQ(exit_code_of(r), 126);
  r.outcome.reset();
  EXPECT_EQ(exit_code_of(r), 125);
}

TEST(Protocol, QuoteEscapesAndCuts) {
  EXPECT_EQ(quote("web"), "\"web\"");
  EXPECT_EQ(quote("a\"b\n"), "\"a\\\"b\\n\"");
  EXPECT_EQ(quote(std::string(100, 'x'), 4), "\"xxxx\"...");
}

// Thousands of random and mutated lines: the parser never crashes, never throws, and always
// gives either a well-formed request or an error with a known code and a message.
TEST(Protocol, RandomizedLinesAlwaysYieldARequestOrAnError) {
  std::mt19937 rng(20240917);
  const std::vector<std::string> seeds = {
      R"({"v":1,"id":1,"cmd":"status","args":{"names":["web","db.1","w*"]}})",
      R"({"v":1,"id":2,"cmd":"start","args":{"names":["all"],"wait":true,"timeout_ms":5000}})",
      R"({"v":1,"id":3,"cmd":"signal","args":{"signal":"HUP","names":["web"]}})",
      R"({"v":1,"id":4,"cmd":"reload","args":{"dry_run":true}})",
      R"({"v":1,"id":-5,"cmd":"wait","args":{"names":["x"],"for":"running"}})",
  };
  const std::string alphabet = "{}[]\":,0123456789-+.eE truefalsnul\\/\x01\x7f\xc3\xa9\xff\xfe\t\r";
  auto pick = [&](std::size_t n) {
    return std::uniform_int_distribution<std::size_t>(0, n - 1)(rng);
  };

  int requests = 0;
  int errors = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string line;
    switch (pick(4)) {
      case 0: {  // random bytes
        std::size_t n = pick(200);
        for (std::size_t k = 0; k < n; ++k) line += static_cast<char>(pick(256));
        break;
      }
      case 1: {  // random JSON-ish tokens
        std::size_t n = pick(120);
        for (std::size_t k = 0; k < n; ++k) line += alphabet[pick(alphabet.size())];
        break;
      }
      default: {  // mutations of valid requests
        line = seeds[pick(seeds.size())];
        std::size_t mutations = 1 + pick(4);
        for (std::size_t m = 0; m < mutations && !line.empty(); ++m) {
          std::size_t at = pick(line.size());
          switch (pick(5)) {
            case 0:
              line[at] = static_cast<char>(pick(256));
              break;
            case 1:
              line.erase(at, 1 + pick(8));
              break;
            case 2:
              line.insert(at, 1, alphabet[pick(alphabet.size())]);
              break;
            case 3:
              line.insert(at, line.substr(pick(line.size()), pick(20)));
              break;
            case 4:
              line.resize(at);
              break;
          }
        }
        break;
      }
    }
    if (pick(200) == 0) line.append(kMaxLineBytes, ' ');  // now and then, too long

    std::variant<Request, RequestError> parsed;
    ASSERT_NO_THROW(parsed = parse_request(line));
    if (auto* r = std::get_if<Request>(&parsed)) {
      ++requests;
      EXPECT_FALSE(r->cmd.empty());
      EXPECT_TRUE(r->args.is_object());
      EXPECT_LE(line.size(), kMaxLineBytes);
      // What the daemon would answer is itself a valid response line.
      std::string answer = encode_result(r->id, r->args);
      EXPECT_TRUE(
          std::holds_alternative<Response>(parse_response(answer.substr(0, answer.size() - 1))));
    } else {
      ++errors;
      const RequestError& e = std::get<RequestError>(parsed);
      EXPECT_FALSE(e.error.message.empty());
      EXPECT_NE(e.error.code, ErrorCode::internal) << e.error.message;
      std::string answer = encode_error(e.id, e.error);
      auto back = parse_response(answer.substr(0, answer.size() - 1));
      ASSERT_TRUE(std::holds_alternative<Response>(back)) << answer;
      EXPECT_EQ(std::get<Response>(back).error_code, error_code_name(e.error.code));
    }
    ASSERT_NO_THROW((void)parse_response(line));
  }
  EXPECT_GT(requests, 100);  // the mutations keep some lines valid
  EXPECT_GT(errors, 10000);
}

// ---- Inputs found by fuzz/protocol_fuzz (docs/fuzzing.md); each is also in fuzz/corpus/protocol.

// A response nested a million levels deep parses fine, then overflows the stack wherever it is
// copied, compared or dumped (gardienctl --json prints the result): responses have the
// requests' depth limit, and a response at the limit still round-trips.
TEST(ProtocolFuzzRegression, DeeplyNestedResponseIsRefusedNotAStackOverflow) {
  std::string deep = R"({"id":1,"ok":true,"result":)";
  deep += std::string(1'000'000, '[');
  deep += std::string(1'000'000, ']');
  deep += '}';
  auto parsed = parse_response(deep);
  ASSERT_TRUE(std::holds_alternative<std::string>(parsed));
  EXPECT_EQ(std::get<std::string>(parsed), "the daemon sent JSON nested deeper than 32 levels");

  std::string at_limit = R"({"id":1,"ok":true,"result":)";
  at_limit += std::string(kMaxDepth - 1, '[');
  at_limit += std::string(kMaxDepth - 1, ']');
  at_limit += '}';
  Response r = response_ok(at_limit);
  EXPECT_EQ(response_ok(encode_result(r.id, r.result)).result, r.result);
}
