#include "ctl/run.h"

#include <unistd.h>

#include <iostream>
#include <set>

#include "common/signals.h"
#include "common/socket_path.h"
#include "ctl/client.h"
#include "ctl/render.h"

namespace gardien::ctl {

namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

// How long a verb that does not wait may take to answer before the daemon counts as stuck.
constexpr Duration kAnswerTimeout = std::chrono::seconds(30);
// Slack over a waiting verb's own --timeout, for the daemon to send its timeout answer.
constexpr Duration kTimeoutSlack = std::chrono::seconds(10);
constexpr std::int64_t kRequestId = 1;

bool is_action(const std::string& verb) {
  return verb == "start" || verb == "stop" || verb == "restart";
}

bool waits(const Invocation& inv) {
  if (is_action(inv.verb)) return inv.args.value("wait", true);
  if (inv.verb == "wait") return true;
  if (inv.verb == "logs") return inv.args.value("follow", false);
  return false;
}

class Run {
 public:
  Run(const Invocation& inv, std::ostream& out, std::ostream& err)
      : inv_(inv), out_(out), err_(err) {
    if (inv_.verb == "signal") {
      if (auto signo = parse_signal(inv_.args.value("signal", "")))
        signal_name_ = gardien::signal_name(*signo);
    }
  }

  int operator()() {
    SocketPath socket = resolve_socket_path(socket_path_inputs(inv_.socket));
    if (!socket.ok()) return complain(kExitUsage, socket.error);
    path_ = socket.path;

    std::string error;
    auto client = Client::connect(path_, error);
    if (!client) return complain(interrupted() ? kExitInterrupted : kExitUnreachable, error);
    if (!client->send(protocol::encode_request({kRequestId, inv_.verb, inv_.args}), error)) {
      return complain(interrupted() ? kExitInterrupted : kExitUnreachable, error);
    }

    Client::Deadline deadline;
    if (!waits(inv_)) {
      deadline = Clock::now() + kAnswerTimeout;
    } else if (inv_.timeout) {
      deadline = Clock::now() + *inv_.timeout + kTimeoutSlack;
    }

    for (;;) {
      std::string line;
      switch (client->read_line(line, deadline, error)) {
        case Client::Read::line:
          break;
        case Client::Read::interrupted:
          return on_interrupt();
        case Client::Read::timeout:
          return complain(kExitUnreachable, std::string("no answer from the daemon at ") + path_ +
                                                " in time; is it stuck?");
        case Client::Read::eof:
          // `logs -f` ends when the daemon does (like `docker logs -f` with its container).
          if (inv_.verb == "logs" && inv_.args.value("follow", false)) return kExitOk;
          return complain(kExitUnreachable, std::string("the daemon at ") + path_ +
                                                " closed the connection before answering");
        case Client::Read::error:
          return complain(kExitUnreachable, error);
      }
      auto parsed = protocol::parse_response(line);
      if (auto* bad = std::get_if<std::string>(&parsed)) return complain(kExitFailed, *bad);
      protocol::Response& response = std::get<protocol::Response>(parsed);
      if (response.id && *response.id != kRequestId) continue;  // not ours
      if (inv_.json) out_ << line << '\n' << std::flush;
      if (response.more) {
        if (!inv_.json) progress(response.result);
        continue;
      }
      if (!response.ok) return failure(response);
      int code = success(response.result);
      if (inv_.verb == "shutdown" && inv_.wait_for_exit)
        return await_exit(*client, response.result);
      return code;
    }
  }

 private:
  static std::string pid_text(const json& result) {
    auto it = result.is_object() ? result.find("pid") : result.end();
    return it != result.end() && it->is_number_integer() ? std::to_string(it->get<long long>())
                                                         : "?";
  }

  int complain(int code, const std::string& message) {
    err_ << "gardienctl: " << message << '\n';
    return code;
  }

  int on_interrupt() {
    if (is_action(inv_.verb)) {
      return complain(kExitInterrupted,
                      std::string("interrupted; the ") + inv_.verb +
                          " goes on in the daemon (gardienctl status shows where it is)");
    }
    if (inv_.verb == "shutdown")
      return complain(kExitInterrupted, "interrupted; the daemon goes on shutting down");
    if (inv_.verb == "logs") return kExitInterrupted;  // Ctrl-C is how `logs -f` ends
    return complain(kExitInterrupted, "interrupted");
  }

  void print_result_line(const json& item) {
    std::string error;
    auto result = protocol::instance_result_from_json(item, error);
    if (!result) return;
    if (!printed_.insert(result->name).second) return;
    out_ << render_instance_result(*result, signal_name_) << '\n' << std::flush;
  }

  void progress(const json& result) {
    if (is_action(inv_.verb) || inv_.verb == "wait") return print_result_line(result);
    if (inv_.verb == "logs") {
      out_ << render_log_lines(result, inv_.timestamps, colour_) << std::flush;
      return;
    }
    if (!result.is_null())
      out_ << result.dump(-1, ' ', false, json::error_handler_t::replace) << '\n' << std::flush;
  }

  int failure(const protocol::Response& response) {
    if (!inv_.json) {
      const json& details = response.error_details;
      if (details.is_object()) {
        if (auto it = details.find("instances"); it != details.end() && it->is_array()) {
          for (const json& item : *it) print_result_line(item);
        }
        if (auto it = details.find("diagnostics"); it != details.end() && it->is_array()) {
          for (const json& d : *it) {
            if (d.is_string()) err_ << d.get<std::string>() << '\n';
          }
        }
      }
      err_ << "gardienctl: " << response.error_message << '\n';
    }
    return exit_code_for_error(inv_.verb, response);
  }

  int malformed(const std::string& error) {
    return complain(kExitFailed, std::string("the daemon's answer is malformed: ") + error);
  }

  int success(const json& result) {
    std::string error;
    if (inv_.verb == "status") {
      std::vector<protocol::InstanceStatus> instances;
      const json* list =
          result.is_object() && result.contains("instances") ? &result.at("instances") : nullptr;
      if (!list || !list->is_array()) return malformed("no \"instances\" list");
      for (const json& item : *list) {
        auto s = protocol::instance_status_from_json(item, error);
        if (!s) return malformed(error);
        instances.push_back(std::move(*s));
      }
      if (!inv_.json) out_ << render_status_table(instances);
      return status_exit_code(instances);
    }
    if (inv_.json) {
      if (inv_.verb == "pid" && result.is_object() && result.contains("instances"))
        return pid_exit_code(result, false);
      return kExitOk;
    }
    if (is_action(inv_.verb) || inv_.verb == "wait" || inv_.verb == "signal") {
      if (result.is_object() && result.contains("instances") && result.at("instances").is_array()) {
        for (const json& item : result.at("instances")) print_result_line(item);
      }
      return kExitOk;
    }
    if (inv_.verb == "logs") {
      out_ << render_log_lines(result, inv_.timestamps, colour_) << std::flush;
      return kExitOk;
    }
    if (inv_.verb == "pid") {
      if (result.is_object() && result.contains("pid")) {
        out_ << result.at("pid").dump() << '\n';
        return kExitOk;
      }
      return pid_exit_code(result, true);
    }
    if (inv_.verb == "reload") {
      auto plan = result.is_object() && result.contains("plan")
                      ? protocol::reload_plan_from_json(result.at("plan"), error)
                      : std::nullopt;
      if (!plan) return malformed(error.empty() ? "no \"plan\"" : error);
      if (result.contains("warnings") && result.at("warnings").is_array()) {
        for (const json& w : result.at("warnings")) {
          if (w.is_string()) err_ << w.get<std::string>() << '\n';
        }
      }
      out_ << render_reload(*plan, result.value("dry_run", false));
      return kExitOk;
    }
    if (inv_.verb == "version") {
      if (!result.is_object()) return malformed("not an object");
      out_ << "gardienctl " << GARDIEN_VERSION << '\n';
      out_ << "gardien " << result.value("daemon", std::string("?")) << " (protocol "
           << result.value("protocol", 0) << ")\n";
      return kExitOk;
    }
    if (inv_.verb == "shutdown") {
      out_ << "gardien (pid " << pid_text(result) << ") is shutting down\n" << std::flush;
      return kExitOk;
    }
    if (!result.is_null())
      out_ << result.dump(2, ' ', false, json::error_handler_t::replace) << '\n';
    return kExitOk;
  }

  // `pid NAME`: one pid per line; an instance without a process makes the exit code 1.
  int pid_exit_code(const json& result, bool print) {
    int code = kExitOk;
    if (!result.is_object() || !result.contains("instances") ||
        !result.at("instances").is_array()) {
      return malformed("no \"instances\" list");
    }
    for (const json& item : result.at("instances")) {
      if (!item.is_object()) return malformed("an instance is not an object");
      std::string name = item.value("name", std::string("?"));
      auto pid = item.find("pid");
      if (pid == item.end() || !pid->is_number_integer()) {
        if (print) err_ << "gardienctl: " << name << " is not running\n";
        code = kExitFailed;
      } else if (print) {
        out_ << pid->get<long long>() << '\n';
      }
    }
    return code;
  }

  // The daemon keeps the shutdown connection open until it exits: end-of-file means gone.
  int await_exit(Client& client, const json& result) {
    Client::Deadline deadline;
    if (inv_.timeout) deadline = Clock::now() + *inv_.timeout;
    std::string line, error;
    for (;;) {
      switch (client.read_line(line, deadline, error)) {
        case Client::Read::line:
          continue;
        case Client::Read::eof:
          if (!inv_.json) out_ << "gardien has exited\n";
          return kExitOk;
        case Client::Read::interrupted:
          return on_interrupt();
        case Client::Read::timeout:
          return complain(kExitFailed, std::string("gardien (pid ") + pid_text(result) +
                                           ") is still shutting down after " +
                                           format_duration(*inv_.timeout));
        case Client::Read::error:
          return complain(kExitUnreachable, error);
      }
    }
  }

  const Invocation& inv_;
  std::ostream& out_;
  std::ostream& err_;
  std::string path_;
  std::string signal_name_;
  // `logs` colours names like the prefix sink: only on a terminal.
  bool colour_ = &out_ == &std::cout && ::isatty(STDOUT_FILENO) == 1;
  std::set<std::string> printed_;
};

}  // namespace

int run(const Invocation& invocation, std::ostream& out, std::ostream& err) {
  try {
    return Run(invocation, out, err)();
  } catch (const std::exception& e) {
    err << "gardienctl: the daemon's answer is malformed: " << e.what() << '\n';
    return kExitFailed;
  }
}

}  // namespace gardien::ctl
