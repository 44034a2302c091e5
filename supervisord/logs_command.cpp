#include "supervisord/logs_command.h"

#include <algorithm>
#include <memory>
#include <optional>
#include <string>

#include "supervisord/instance_selector.h"

namespace gardien {

using nlohmann::json;
using protocol::Error;
using protocol::ErrorCode;

namespace {

// One answer line must stay well under what a client accepts (protocol::kMaxResponseBytes).
constexpr std::size_t kMaxSnapshotBytes = 8u << 20;
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

// The last lines of `rings` merged by time, newest kept within kMaxSnapshotBytes.
json snapshot(const std::vector<std::shared_ptr<LogRing>>& rings, const LogsArgs& args) {
  json lines = json::array();
  if (args.lines == 0) return lines;
  std::vector<LogRecord> records = merge_tails(rings, args.lines, args.only);
  std::size_t first = records.size();
  std::size_t bytes = 0;
  while (first > 0 && bytes + records[first - 1].text.size() + 64 <= kMaxSnapshotBytes) {
    --first;
    bytes += records[first].text.size() + 64;
  }
  for (std::size_t i = first; i < records.size(); ++i) {
    const LogRecord& r = records[i];
    lines.push_back(log_line_json(r.time, r.instance, r.stream, r.text));
  }
  return lines;
}

// `logs` with "follow": streams every new line of the selected instances until the client goes.
class LogFollower final : public PendingCall {
 public:
  LogFollower(EventLoop& loop, OutputHub& hub, Responder& responder, std::vector<std::string> names,
              std::optional<Stream> only, std::size_t name_width)
      : hub_(hub), responder_(responder), only_(only), name_width_(name_width), poll_(loop, [this] {
          watch_rings(false);
        }) {
    for (std::string& name : names) watched_.push_back(Watched{std::move(name), {}, {}});
  }

  // Subscribes to the rings that exist now; the others are looked for every kRingPoll.
  void start() { watch_rings(true); }

 private:
  struct Watched {
    std::string name;
    std::weak_ptr<LogRing> ring;
    LogSubscription subscription;
  };

  void watch_rings(bool first) {
    if (gone_) return;
    for (Watched& w : watched_) {
      std::shared_ptr<LogRing> ring = hub_.ring(w.name);
      if (!ring || ring == w.ring.lock()) continue;
      // A ring that appeared after the request (a first start, a reload): all of it is new.
      if (!first) {
        LogsArgs all;
        all.lines = ring->size();
        all.only = only_;
        if (all.lines > 0 && !send(snapshot({ring}, all))) return;
      }
      w.ring = ring;
      w.subscription = ring->subscribe([this](const LogEntry& e) { on_line(e); });
    }
    poll_.arm(kRingPoll);
  }

  void on_line(const LogEntry& e) {
    if (gone_ || (only_ && e.stream != *only_)) return;
    json lines = json::array();
    lines.push_back(log_line_json(e.time, e.instance, e.stream, e.text));
    send(std::move(lines));
  }

  bool send(json lines) {
    if (responder_.progress({{"name_width", name_width_}, {"lines", std::move(lines)}}))
      return true;
    // The client left or was dropped for not reading: stop producing.
    gone_ = true;
    poll_.cancel();
    for (Watched& w : watched_) w.subscription.reset();
    return false;
  }

  OutputHub& hub_;
  Responder& responder_;
  std::optional<Stream> only_;
  std::size_t name_width_;
  std::vector<Watched> watched_;
  Timer poll_;
  bool gone_ = false;
};

void logs(EventLoop& loop, OutputHub& hub, const OutputVerbs& verbs,
          const protocol::Request& request, Responder& responder) {
  LogsArgs args;
  if (auto error = read_args(request.args, args)) return responder.fail(std::move(*error));
  std::vector<std::string> names;
  if (args.names.empty()) {
    for (const protocol::InstanceStatus& s : verbs.instances()) names.push_back(s.name);
  } else {
    auto selected = select_instances(verbs.instances(), args.names);
    if (auto* error = std::get_if<Error>(&selected)) return responder.fail(std::move(*error));
    names = std::get<std::vector<std::string>>(std::move(selected));
  }
  std::vector<std::shared_ptr<LogRing>> rings;
  for (const std::string& name : names) {
    if (auto ring = hub.ring(name)) rings.push_back(std::move(ring));
  }
  std::size_t width = hub.prefix_stdout().style().name_width;
  json lines = snapshot(rings, args);
  if (!args.follow) return responder.reply({{"name_width", width}, {"lines", std::move(lines)}});
  if (!lines.empty() && !responder.progress({{"name_width", width}, {"lines", std::move(lines)}}))
    return;
  auto follower =
      std::make_unique<LogFollower>(loop, hub, responder, std::move(names), args.only, width);
  follower->start();
  responder.keep(std::move(follower));
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
      [shared](const protocol::Request& request, Responder& responder) {
        if (!request.args.empty()) {
          return responder.fail(bad_request("unknown argument for reopen-logs (it takes none)"));
        }
        shared->reopen_logs();
        responder.reply(json::object());
      }});
}

}  // namespace gardien
