#include "supervisord/output/logs_command.h"

#include <algorithm>
#include <deque>
#include <memory>
#include <optional>
#include <string>

#include "supervisord/control/instance_selector.h"

namespace gardien {

using nlohmann::json;
using protocol::Error;
using protocol::ErrorCode;

namespace {

// Text per answer line: a few of these are in flight per client, whatever `lines` asks for.
constexpr std::size_t kLinesPerAnswerBytes = 64u << 10;
// Text copied out of one ring at a time while merging.
constexpr std::size_t kReadBytes = 16u << 10;
// How often a follower looks for rings that appeared (a first start) or were replaced (a reload).
constexpr Duration kRingPoll = std::chrono::milliseconds(200);

Error bad_request(std::string message) {
  return Error{ErrorCode::bad_request, std::move(message), nullptr};
}

struct LogsArgs {
  std::vector<std::string> names;  // empty: all
  std::size_t lines = kDefaultLogLines;
  bool follow = false;
  std::optional<Stream> only;
};

std::optional<Error> read_args(const json& args, LogsArgs& out) {
  for (const auto& [key, value] : args.items()) {
    if (key == "names") {
      if (!value.is_array())
        return bad_request("argument \"names\" of logs must be an array of strings");
      for (const json& item : value) {
        if (!item.is_string() || item.get_ref<const std::string&>().empty())
          return bad_request("argument \"names\" of logs must be an array of non-empty strings");
        out.names.push_back(item.get<std::string>());
      }
    } else if (key == "lines") {
      if (!value.is_number_integer() ||
          (!value.is_number_unsigned() && value.get<std::int64_t>() < 0))
        return bad_request("argument \"lines\" of logs must be a whole number >= 0");
      out.lines = static_cast<std::size_t>(
          std::min<std::uint64_t>(value.get<std::uint64_t>(), std::uint64_t(1) << 32));
    } else if (key == "follow") {
      if (!value.is_boolean())
        return bad_request("argument \"follow\" of logs must be true or false");
      out.follow = value.get<bool>();
    } else if (key == "stream") {
      auto stream = value.is_string() ? parse_stream(value.get<std::string>()) : std::nullopt;
      if (!stream)
        return bad_request("argument \"stream\" of logs must be \"stdout\" or \"stderr\"");
      out.only = stream;
    } else {
      return bad_request("unknown argument " + protocol::quote(key) +
                         " for logs (arguments: names, lines, follow, stream)");
    }
  }
  return std::nullopt;
}

// `logs`: the recent lines of the selected rings merged by time, read out of the rings piece by
// piece as the client takes them (never more than a few answer lines in memory, whatever
// `lines` asks for); with "follow", then every new line, until the client goes.
class LogStream final : public PendingCall {
 public:
  LogStream(EventLoop& loop, OutputHub& hub, Responder& responder, std::vector<std::string> names,
            const LogsArgs& args, std::size_t name_width)
      : hub_(hub),
        responder_(responder),
        only_(args.only),
        follow_(args.follow),
        name_width_(name_width),
        again_(loop, [this] { pump(); }),
        poll_(loop, [this] { find_rings(); }) {
    std::vector<std::shared_ptr<LogRing>> rings;
    for (std::string& name : names) {
      Source& source = sources_.emplace_back();
      source.name = std::move(name);
      source.ring = hub.ring(source.name);
      if (source.ring) rings.push_back(source.ring);
    }
    std::vector<LogCursor> starts = LogRing::tail_cursors(rings, args.lines, only_);
    std::size_t next = 0;
    for (Source& source : sources_) {
      if (!source.ring) continue;
      source.cursor = starts[next++];
      // Without "follow" the answer ends with the lines there were when it was asked.
      source.end = follow_ ? kLive : source.ring->end();
    }
  }

  // Following: the names the request's NAMEs select now, asked again on every look for rings,
  // so that a task's next run (or an instance a reload added) is followed too.
  void reselect(std::function<std::vector<std::string>()> names) { reselect_ = std::move(names); }

  // Sends what it can now; false when the answer is complete already.
  bool start() {
    if (follow_) find_rings();
    pump();
    return !done_;
  }

 private:
  static constexpr std::uint64_t kLive = ~std::uint64_t(0);

  struct Source {
    std::string name;
    std::shared_ptr<LogRing> ring;  // null until the instance has one
    LogCursor cursor;
    std::uint64_t end = kLive;
    std::deque<LogRecord> ahead;  // read, not sent yet
    LogSubscription wakeup;       // following: a new line in `ring` wakes the pump
    bool subscribed = false;
  };

  // Lines out until the client's buffer is full (then again when it has read) or nothing is left.
  void pump() {
    while (!done_) {
      if (responder_.backlogged()) return responder_.when_drained([this] { pump(); });
      json lines = json::array();
      std::size_t bytes = 0;
      while (bytes < kLinesPerAnswerBytes) {
        Source* oldest = next_source();
        if (!oldest) break;
        LogRecord& r = oldest->ahead.front();
        bytes += r.text.size() + 64;
        lines.push_back(log_line_json(r.time, r.instance, r.stream, r.text));
        oldest->ahead.pop_front();
      }
      bool more = bytes >= kLinesPerAnswerBytes;
      if (!follow_ && !more) {
        done_ = true;
        return responder_.reply({{"name_width", name_width_}, {"lines", std::move(lines)}});
      }
      if (!lines.empty() &&
          !responder_.progress({{"name_width", name_width_}, {"lines", std::move(lines)}})) {
        return stop();  // the client left or was dropped for not reading
      }
      if (!more) return;  // caught up: a new line wakes the pump
    }
  }

  // The source whose next line is the oldest (on equal times the first source), after reading
  // ahead in each; null when every source is exhausted for now.
  Source* next_source() {
    Source* oldest = nullptr;
    for (Source& s : sources_) {
      if (s.ahead.empty() && s.ring) {
        for (LogRecord& r : s.ring->read(s.cursor, s.end, kReadBytes, only_))
          s.ahead.push_back(std::move(r));
      }
      if (!s.ahead.empty() && (!oldest || s.ahead.front().time < oldest->ahead.front().time))
        oldest = &s;
    }
    return oldest;
  }

  // Follows rings that appeared (a first start) or were replaced (a reload): all of a new ring
  // is new.
  void find_rings() {
    if (done_) return;
    if (reselect_) {
      for (std::string& name : reselect_()) {
        bool known = std::any_of(sources_.begin(), sources_.end(),
                                 [&](const Source& s) { return s.name == name; });
        if (!known) sources_.emplace_back().name = std::move(name);
      }
    }
    for (Source& s : sources_) {
      std::shared_ptr<LogRing> ring = hub_.ring(s.name);
      if (!ring || (ring == s.ring && s.subscribed)) continue;
      if (ring != s.ring) {
        s.ring = ring;
        s.cursor = ring->begin();
        s.ahead.clear();
      }
      s.wakeup = ring->subscribe([this](const LogEntry&) { wake(); });
      s.subscribed = true;
    }
    poll_.arm(kRingPoll);
    wake();
  }

  void wake() {
    if (!done_ && !again_.armed()) again_.arm(Duration(0));
  }

  void stop() {
    done_ = true;
    again_.cancel();
    poll_.cancel();
    for (Source& s : sources_) s.wakeup.reset();
  }

  OutputHub& hub_;
  Responder& responder_;
  std::optional<Stream> only_;
  bool follow_;
  std::size_t name_width_;
  std::vector<Source> sources_;
  std::function<std::vector<std::string>()> reselect_;  // null: the names are fixed
  Timer again_;  // a new line: pump on the next loop turn, once per batch of lines
  Timer poll_;
  bool done_ = false;
};

// A finished run leaves `status` but keeps its ring while its task's history keeps it: its id
// ("migrate#12") names that ring when no instance has the name.
bool names_a_finished_run(const OutputHub& hub, const std::vector<protocol::InstanceStatus>& all,
                          const std::string& name) {
  if (name.find('#') == std::string::npos || !hub.ring(name)) return false;
  return std::none_of(all.begin(), all.end(),
                      [&](const protocol::InstanceStatus& s) { return s.name == name; });
}

void logs(EventLoop& loop, OutputHub& hub, const OutputVerbs& verbs,
          const protocol::Request& request, Responder& responder) {
  LogsArgs args;
  if (auto error = read_args(request.args, args)) return responder.fail(std::move(*error));
  std::vector<std::string> names;
  std::vector<protocol::InstanceStatus> all = verbs.instances();
  if (args.names.empty()) {
    for (const protocol::InstanceStatus& s : all) names.push_back(s.name);
  } else {
    std::vector<std::string> selectors, finished_runs;
    for (const std::string& name : args.names)
      (names_a_finished_run(hub, all, name) ? finished_runs : selectors).push_back(name);
    if (!selectors.empty()) {
      auto selected = select_instances(all, selectors);
      if (auto* error = std::get_if<Error>(&selected)) return responder.fail(std::move(*error));
      names = std::get<std::vector<std::string>>(std::move(selected));
    }
    for (std::string& run : finished_runs) {
      if (std::find(names.begin(), names.end(), run) == names.end())
        names.push_back(std::move(run));
    }
  }
  std::size_t width = hub.prefix_stdout().style().name_width;
  auto stream = std::make_unique<LogStream>(loop, hub, responder, std::move(names), args, width);
  if (args.follow) {
    stream->reselect([&verbs, selectors = args.names] {
      std::vector<protocol::InstanceStatus> now = verbs.instances();
      std::vector<std::string> names;
      if (selectors.empty()) {
        for (const protocol::InstanceStatus& s : now) names.push_back(s.name);
      }
      // One NAME at a time: one that matches nothing now (a run that has ended) hides no other.
      for (const std::string& selector : selectors) {
        auto selected = select_instances(now, {selector});
        if (auto* found = std::get_if<std::vector<std::string>>(&selected))
          names.insert(names.end(), found->begin(), found->end());
      }
      return names;
    });
  }
  if (stream->start()) responder.keep(std::move(stream));
}

}  // namespace

json log_line_json(WallClock::time_point time, std::string_view name, Stream stream,
                   std::string_view text) {
  return {{"time", format_rfc3339(time)},
          {"name", name},
          {"stream", stream_name(stream)},
          {"text", text}};
}

void add_output_verbs(Commands& commands, EventLoop& loop, OutputHub& hub, OutputVerbs verbs) {
  auto shared = std::make_shared<OutputVerbs>(std::move(verbs));
  commands.add(Verb{"logs", true,
                    "logs [-n LINES] [-f] [--stream S] [NAME...]: recent output of instances",
                    [&loop, &hub, shared](const protocol::Request& request, Responder& responder) {
                      logs(loop, hub, *shared, request, responder);
                    }});
  commands.add(Verb{
      "reopen-logs", false, "reopen-logs: reopen the log files (after an external rotation)",
      [&hub, shared](const protocol::Request& request, Responder& responder) {
        if (!request.args.empty()) {
          return responder.fail(bad_request("unknown argument for reopen-logs (it takes none)"));
        }
        shared->reopen_logs();
        responder.reply({{"files", hub.file_count()}});
      }});
}

}  // namespace gardien
