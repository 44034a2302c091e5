// The `logs` and `reopen-logs` verbs against an OutputHub with real rings (no processes), and
// gardienctl's rendering of their lines.
#include "supervisord/logs_command.h"

#include <gtest/gtest.h>

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
  bool done() const { return result.has_value() || error.has_value(); }

  std::optional<json> result;
  std::optional<protocol::Error> error;
  std::vector<json> lines;
  std::unique_ptr<PendingCall> kept;
  bool gone = false;
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
    add_output_verbs(commands_, loop_, *hub_,
                     {[] {
                        std::vector<protocol::InstanceStatus> all;
                        for (const char* n : {"a", "b", "web.0"}) {
                          protocol::InstanceStatus s;
                          s.name = n;
                          s.program = std::string(n).substr(0, std::string(n).find('.'));
                          all.push_back(s);
                        }
                        return all;
                      },
                      [this] { ++reopened_; }});
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

TEST_F(LogsCommand, FollowStreamsNewLinesAcrossRingsAndStopsWhenTheClientGoes) {
  auto a = ring("a");
  a->append(WallClock::now(), Stream::out, "old");
  Recorder r = call({{"names", {"a"}}, {"follow", true}, {"lines", 5}});
  EXPECT_FALSE(r.done());
  ASSERT_TRUE(r.kept);
  ASSERT_EQ(r.lines.size(), 1u);
  EXPECT_EQ(texts(r.lines[0]), (std::vector<std::string>{"a:old"}));
  a->append(WallClock::now(), Stream::out, "new");
  ASSERT_EQ(r.lines.size(), 2u);
  EXPECT_EQ(texts(r.lines[1]), (std::vector<std::string>{"a:new"}));
  r.gone = true;
  a->append(WallClock::now(), Stream::out, "unsent");
  EXPECT_EQ(a->subscriber_count(), 0u);
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
