// The `logs` and `reopen-logs` verbs against an OutputHub with real rings (no processes), and
// gardienctl's rendering of their lines.
#include "supervisord/output/logs_command.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "ctl/render.h"

namespace gardien {
namespace {

using nlohmann::json;

class Recorder : public Responder {
 public:
  void reply(const json& r) override {
    if (!done()) result = r;
  }
  void fail(protocol::Error e) override {
    if (!done()) error = std::move(e);
  }
  bool progress(const json& r) override {
    if (done() || gone) return false;
    lines.push_back(r);
    return true;
  }
  void keep(std::unique_ptr<PendingCall> p) override { kept = std::move(p); }
  void linger() override {}
  bool answered() const override { return done(); }
  // The client "reads" only this many progress lines: past them, the stream must wait.
  bool backlogged() const override { return lines.size() >= readable_lines; }
  void when_drained(std::function<void()> fn) override { drained = std::move(fn); }
  bool done() const { return result.has_value() || error.has_value(); }

  std::optional<json> result;
  std::optional<protocol::Error> error;
  std::vector<json> lines;
  std::unique_ptr<PendingCall> kept;
  bool gone = false;
  std::size_t readable_lines = SIZE_MAX;
  std::function<void()> drained;
};

class LogsCommand : public ::testing::Test {
 protected:
  LogsCommand() {
    OutputHub::Settings settings;
    settings.stdout_fd = null_.get();
    settings.stderr_fd = null_.get();
    settings.route_daemon_log = false;
    hub_ = std::make_unique<OutputHub>(loop_, settings);
    hub_->set_name_width(5);
    for (const char* n : {"a", "b", "web.0"}) {
      protocol::InstanceStatus s;
      s.name = n;
      s.program = std::string(n).substr(0, std::string(n).find('.'));
      instances_.push_back(s);
    }
    add_output_verbs(commands_, loop_, *hub_,
                     {[this] { return instances_; }, [this] { ++reopened_; }});
  }

  std::shared_ptr<LogRing> ring(const std::string& name) {
    OutputSink null_sink;
    null_sink.kind = OutputSink::Kind::null;
    auto opened = hub_->open(name, null_sink, null_sink);  // a null sink still gets a ring
    EXPECT_TRUE(opened.output) << opened.error;
    return hub_->ring(name);
  }

  Recorder call(json args, Access access = Access::read) {
    Recorder r;
    commands_.dispatch(protocol::Request{1, "logs", std::move(args)}, access, r);
    return r;
  }

  bool run_until(const std::function<bool()>& done) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (!done()) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      event_base_loop(loop_.base(), EVLOOP_ONCE | EVLOOP_NONBLOCK);
    }
    return true;
  }

  static std::vector<std::string> texts(const json& result) {
    std::vector<std::string> out;
    for (const json& l : result.at("lines"))
      out.push_back(l.at("name").get<std::string>() + ":" + l.at("text").get<std::string>());
    return out;
  }

  EventLoop loop_;
  Fd null_{::open("/dev/null", O_WRONLY | O_CLOEXEC)};
  std::unique_ptr<OutputHub> hub_;
  Commands commands_{loop_};
  std::vector<protocol::InstanceStatus> instances_;  // what `status` would list
  int reopened_ = 0;
};

TEST_F(LogsCommand, MergesInTimeOrderAndFiltersStreams) {
  auto a = ring("a");
  auto b = ring("b");
  auto t = WallClock::now();
  a->append(t, Stream::out, "a1");
  b->append(t + std::chrono::milliseconds(1), Stream::err, "b1");
  a->append(t + std::chrono::milliseconds(2), Stream::out, "a2");
  Recorder r = call({{"names", {"a", "b"}}, {"lines", 2}});
  ASSERT_TRUE(r.result) << (r.error ? r.error->message : "");
  EXPECT_EQ(texts(*r.result), (std::vector<std::string>{"b:b1", "a:a2"}));
  EXPECT_EQ(r.result->at("name_width"), 5);
  EXPECT_EQ(r.result->at("lines")[0].at("stream"), "stderr");
  r = call({{"stream", "stderr"}});
  EXPECT_EQ(texts(*r.result), (std::vector<std::string>{"b:b1"}));
  r = call({{"lines", 0}});
  EXPECT_TRUE(r.result->at("lines").empty());
}

TEST_F(LogsCommand, RefusesBadArgumentsAndUnknownNames) {
  EXPECT_EQ(call({{"lines", -1}}).error->code, protocol::ErrorCode::bad_request);
  EXPECT_EQ(call({{"stream", "both"}}).error->code, protocol::ErrorCode::bad_request);
  EXPECT_EQ(call({{"follow", "yes"}}).error->code, protocol::ErrorCode::bad_request);
  EXPECT_EQ(call({{"tail", 3}}).error->code, protocol::ErrorCode::bad_request);
  Recorder r = call({{"names", {"nosuch"}}});
  EXPECT_EQ(r.error->code, protocol::ErrorCode::unknown_program);
}

// A finished run is no longer an instance, but its ring stays in the hub under its id.
TEST_F(LogsCommand, AFinishedRunsIdNamesItsRing) {
  auto run = ring("migrate#12");
  auto a = ring("a");
  auto t = WallClock::now();
  run->append(t, Stream::out, "migrated");
  a->append(t + std::chrono::milliseconds(1), Stream::out, "a1");
  Recorder r = call({{"names", {"migrate#12"}}});
  ASSERT_TRUE(r.result) << r.error->message;
  EXPECT_EQ(texts(*r.result), (std::vector<std::string>{"migrate#12:migrated"}));
  r = call({{"names", {"a", "migrate#12", "migrate#12"}}});
  ASSERT_TRUE(r.result) << r.error->message;
  EXPECT_EQ(texts(*r.result), (std::vector<std::string>{"migrate#12:migrated", "a:a1"}));

  // An id without a ring is unknown like any name; `#` alone does not make a glob or a run.
  r = call({{"names", {"migrate#13"}}});
  ASSERT_TRUE(r.error);
  EXPECT_EQ(r.error->code, protocol::ErrorCode::unknown_program);
  auto plain = ring("plain");  // a ring without '#' and without an instance: still unknown
  r = call({{"names", {"plain"}}});
  ASSERT_TRUE(r.error);
}

// `logs migrate -f` follows the task's runs, those that start later included.
TEST_F(LogsCommand, FollowingATaskPicksUpItsNextRun) {
  protocol::InstanceStatus task;
  task.name = task.program = "migrate";
  task.kind = protocol::InstanceKind::task;
  instances_.push_back(task);
  Recorder r = call({{"names", {"migrate"}}, {"follow", true}});
  ASSERT_TRUE(r.kept);
  protocol::InstanceStatus run = task;
  run.name = "migrate#1";
  run.kind = protocol::InstanceKind::run;
  instances_.push_back(run);
  auto ring1 = ring("migrate#1");
  ring1->append(WallClock::now(), Stream::out, "first line");
  ASSERT_TRUE(run_until([&] { return !r.lines.empty(); }));
  EXPECT_EQ(texts(r.lines[0]), (std::vector<std::string>{"migrate#1:first line"}));
  ring1->append(WallClock::now(), Stream::out, "second line");
  ASSERT_TRUE(run_until([&] { return r.lines.size() == 2; }));
  EXPECT_EQ(texts(r.lines[1]), (std::vector<std::string>{"migrate#1:second line"}));
  r.gone = true;
  ring1->append(WallClock::now(), Stream::out, "unsent");
  EXPECT_TRUE(run_until([&] { return ring1->subscriber_count() == 0; }));
}

TEST_F(LogsCommand, FollowStreamsNewLinesAcrossRingsAndStopsWhenTheClientGoes) {
  auto a = ring("a");
  a->append(WallClock::now(), Stream::out, "old");
  Recorder r = call({{"names", {"a"}}, {"follow", true}, {"lines", 5}});
  EXPECT_FALSE(r.done());
  ASSERT_TRUE(r.kept);
  ASSERT_EQ(r.lines.size(), 1u);
  EXPECT_EQ(texts(r.lines[0]), (std::vector<std::string>{"a:old"}));
  a->append(WallClock::now(), Stream::out, "new");
  ASSERT_TRUE(run_until([&] { return r.lines.size() == 2; }));
  EXPECT_EQ(texts(r.lines[1]), (std::vector<std::string>{"a:new"}));
  r.gone = true;
  a->append(WallClock::now(), Stream::out, "unsent");
  EXPECT_TRUE(run_until([&] { return a->subscriber_count() == 0; }));
}

// A huge "lines" is read out of the rings as the client takes it, in answer lines of bounded
// size, never copied whole; the merge by time holds across pieces.
TEST_F(LogsCommand, HugeLineCountsStreamInPiecesAsTheClientReads) {
  auto a = ring("a");
  auto b = ring("b");
  auto t = WallClock::now();
  std::string filler(200, 'x');
  for (int i = 0; i < 6000; ++i) {
    auto& r = i % 2 ? b : a;
    r->append(t + std::chrono::microseconds(i), Stream::out, std::to_string(i) + filler);
  }
  Recorder r;
  r.readable_lines = 1;
  commands_.dispatch(protocol::Request{1, "logs", {{"lines", 100000000}}}, Access::read, r);
  ASSERT_TRUE(r.kept);
  EXPECT_EQ(r.lines.size(), 1u);  // one piece, then it waits for the client
  EXPECT_LT(r.lines[0].at("lines").dump().size(), 200u << 10);
  for (int turns = 0; !r.done() && turns < 1000; ++turns) {
    ASSERT_TRUE(r.drained);
    r.readable_lines = r.lines.size() + 1;  // the client read: one more piece
    std::exchange(r.drained, nullptr)();
  }
  ASSERT_TRUE(r.result);
  std::vector<json> pieces = r.lines;
  pieces.push_back(*r.result);
  EXPECT_GT(pieces.size(), 10u);
  int expected = 0;
  for (const json& piece : pieces) {
    for (const json& line : piece.at("lines")) {
      ASSERT_EQ(line.at("text"), std::to_string(expected) + filler);
      ++expected;
    }
  }
  EXPECT_EQ(expected, 6000);
  Recorder tail = call({{"lines", 3}});
  ASSERT_TRUE(tail.result);
  EXPECT_EQ(texts(*tail.result),
            (std::vector<std::string>{"b:5997" + filler, "a:5998" + filler, "b:5999" + filler}));
}

TEST_F(LogsCommand, ReopenLogsNeedsControlAccess) {
  Recorder r;
  commands_.dispatch(protocol::Request{1, "reopen-logs", json::object()}, Access::read, r);
  EXPECT_EQ(r.error->code, protocol::ErrorCode::permission_denied);
  Recorder ok;
  commands_.dispatch(protocol::Request{2, "reopen-logs", json::object()}, Access::control, ok);
  EXPECT_TRUE(ok.result);
  EXPECT_EQ(reopened_, 1);
}

// The answer says how many files were reopened: a file both streams write to counts once, a
// file no running instance writes to any more does not count.
TEST_F(LogsCommand, ReopenLogsCountsTheOpenLogFiles) {
  char tmpl[] = "/tmp/reopen-logs-test-XXXXXX";
  std::filesystem::path dir = ::mkdtemp(tmpl);
  auto file = [&](const char* name) {
    OutputSink sink;
    sink.kind = OutputSink::Kind::file;
    sink.path = (dir / name).string();
    return sink;
  };
  auto reopen = [&] {
    Recorder r;
    commands_.dispatch(protocol::Request{1, "reopen-logs", json::object()}, Access::control, r);
    EXPECT_TRUE(r.result) << (r.error ? r.error->message : "");
    return r.result.value_or(json());
  };
  EXPECT_EQ(reopen(), json({{"files", 0}}));
  auto a = hub_->open("a", file("a.log"), file("a.log"));
  auto b = hub_->open("b", file("b.log"), file("b.err"));
  ASSERT_TRUE(a.output) << a.error;
  ASSERT_TRUE(b.output) << b.error;
  EXPECT_EQ(reopen(), json({{"files", 3}}));
  b.output.reset();
  EXPECT_EQ(reopen(), json({{"files", 1}}));
  EXPECT_EQ(reopened_, 3);
  std::filesystem::remove_all(dir);
}

TEST(RenderLogLines, PrefixesLikeThePrefixSink) {
  json result = {{"name_width", 5},
                 {"lines",
                  {log_line_json(WallClock::time_point{}, "a", Stream::out, "hello"),
                   log_line_json(WallClock::time_point{}, "web.0", Stream::err, "x")}}};
  EXPECT_EQ(ctl::render_log_lines(result, false, false), "a     | hello\nweb.0 | x\n");
  EXPECT_EQ(ctl::render_log_lines(result, true, false),
            "1970-01-01T00:00:00.000Z a     | hello\n1970-01-01T00:00:00.000Z web.0 | x\n");
  EXPECT_EQ(ctl::render_log_lines(json::object(), false, false), "");
}

}  // namespace
}  // namespace gardien
