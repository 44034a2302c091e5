#include "ctl/run.h"

#include <sys/stat.h>
#include <unistd.h>

#include <iostream>
#include <set>

#include "common/config.h"
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

// What a path that cannot be a socket is instead, for the error message; empty for a socket or
// a path that does not exist (connect says why then).
std::string not_a_socket(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0 || S_ISSOCK(st.st_mode)) return {};
  if (S_ISREG(st.st_mode)) return "a regular file";
  if (S_ISDIR(st.st_mode)) return "a directory";
  return "not a socket";
}

// `-c FILE`: the socket that config gives the daemon (nullopt, with `error`, when it can't be
// read); empty when the config sets none.
std::optional<std::string> socket_of_config(const std::string& path, std::string& error) {
  LoadResult loaded = load_config(path);
  if (loaded.ok()) return loaded.config->supervisor.socket;
  for (const Diagnostic& d : loaded.diagnostics) error += d.to_string() + "\n";
  error += "gardienctl: " + path + ": cannot take the socket path from this config";
  if (!loaded.unreadable) error += " (it has errors; gardien check -c " + path + " lists them)";
  return std::nullopt;
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
    context_.verb = inv_.verb;
    if (inv_.verb == "signal") {
      if (auto signo = parse_signal(inv_.args.value("signal", "")))
        context_.signal_name = gardien::signal_name(*signo);
    }
    if (inv_.verb == "wait") context_.goal = inv_.args.value("for", std::string());
  }

  int operator()() {
    std::string error;
    std::string config_socket;
    if (!inv_.config.empty()) {
      auto from_config = socket_of_config(inv_.config, error);
      if (!from_config) {
        err_ << error << '\n';
        return kExitUsage;
      }
      config_socket = *from_config;
    }
    SocketPath socket = resolve_socket_path(socket_path_inputs(inv_.socket, config_socket));
    if (!socket.ok()) return complain(kExitUsage, socket.error);
    path_ = socket.path;

    if (std::string what = not_a_socket(path_); !what.empty()) {
      return complain(kExitUnreachable, "cannot connect to the daemon at " + path_ + ": " + what +
                                            ", not a socket (--socket, -c or GARDIEN_SOCKET " +
                                            "must name gardien's control socket)");
    }
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
    out_ << for_terminal(render_instance_result(*result, context_), out_tty_) << '\n' << std::flush;
  }

  void progress(const json& result) {
    if (is_action(inv_.verb) || inv_.verb == "wait") return print_result_line(result);
    if (inv_.verb == "logs") {
      out_ << render_log_lines(result, inv_.timestamps, colour_, out_tty_) << std::flush;
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
            if (d.is_string()) err_ << for_terminal(d.get<std::string>(), err_tty_) << '\n';
          }
        }
      }
      err_ << "gardienctl: " << for_terminal(response.error_message, err_tty_) << '\n';
    }
    return exit_code_for_error(inv_.pids_only ? "pid" : inv_.verb, response);
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
      if (inv_.pids_only) return print_pids(instances);
      if (!inv_.json) out_ << for_terminal(render_status_table(instances), out_tty_);
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
      out_ << render_log_lines(result, inv_.timestamps, colour_, out_tty_) << std::flush;
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
          if (w.is_string()) err_ << for_terminal(w.get<std::string>(), err_tty_) << '\n';
        }
      }
      out_ << for_terminal(render_reload(*plan, result.value("dry_run", false)), out_tty_);
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

  // `pid NAME...`: one pid per line; an instance without a process makes the exit code 1.
  int print_pids(const std::vector<protocol::InstanceStatus>& instances) {
    int code = kExitOk;
    for (const protocol::InstanceStatus& s : instances) {
      if (!s.pid) {
        if (!inv_.json) err_ << "gardienctl: " << s.name << " is not running\n";
        code = kExitFailed;
      } else if (!inv_.json) {
        out_ << *s.pid << '\n';
      }
    }
    return code;
  }

  // `pid NAME` answered by the daemon's own pid verb.
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
  ResultContext context_;
  // Program output and daemon text reach a terminal with their control characters escaped.
  bool out_tty_ = &out_ == &std::cout && ::isatty(STDOUT_FILENO) == 1;
  bool err_tty_ = &err_ == &std::cerr && ::isatty(STDERR_FILENO) == 1;
  // `logs` colours names like the prefix sink: only on a terminal.
  bool colour_ = out_tty_;
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
