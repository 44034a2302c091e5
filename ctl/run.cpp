#include "ctl/run.h"

#include <sys/stat.h>
#include <unistd.h>

#include <iostream>

#include "common/config.h"
#include "common/socket_path.h"
#include "ctl/client.h"
#include "ctl/render.h"
#include "ctl/verbs.h"

namespace gardien::ctl {

namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

// How long a verb that does not wait may take to answer before the daemon counts as stuck.
constexpr Duration kAnswerTimeout = std::chrono::seconds(30);
// Slack over a waiting verb's own --timeout, for the daemon to send its timeout answer.
constexpr Duration kTimeoutSlack = std::chrono::seconds(10);
constexpr std::int64_t kRequestId = 1;

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
  // Only the socket is wanted: the tz library (for tasks' time zones) is not loaded for it.
  LoadResult loaded = load_config(path, process_environment(), any_time_zone());
  if (loaded.ok()) return loaded.config->supervisor.socket;
  for (const Diagnostic& d : loaded.diagnostics) error += d.to_string() + "\n";
  error += "gardienctl: " + path + ": cannot take the socket path from this config";
  if (!loaded.unreadable) error += " (it has errors; gardien check -c " + path + " lists them)";
  return std::nullopt;
}

// Whether the answer may take as long as what the verb waits for (else it is due in seconds).
bool waits(const VerbSpec& spec, const Invocation& inv) {
  switch (spec.wait) {
    case Wait::states:
      return inv.args.value("wait", true);
    case Wait::states_when_named:
      return inv.args.contains("names") && inv.args.value("wait", true);
    case Wait::new_lines:
      return inv.args.value("follow", false);
    case Wait::run_end:
      return inv.args.value("wait", false);
    case Wait::nothing:
    case Wait::daemon_exit:
      break;
  }
  return false;
}

class Run {
 public:
  Run(const Invocation& inv, const VerbSpec& spec, std::ostream& out, std::ostream& err)
      : inv_(inv), spec_(spec), out_(out), err_(err), printer_(inv, out, err) {}

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
    if (!waits(spec_, inv_)) {
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
          if (spec_.wait == Wait::new_lines && waits(spec_, inv_)) return kExitOk;
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
        if (!inv_.json && spec_.progress) spec_.progress(response.result, printer_);
        continue;
      }
      if (!response.ok) return failure(response);
      int code = spec_.render(response.result, printer_);
      if (spec_.wait == Wait::daemon_exit && inv_.wait_for_exit)
        return await_exit(*client, response.result);
      return code;
    }
  }

 private:
  int complain(int code, const std::string& message) {
    err_ << "gardienctl: " << message << '\n';
    return code;
  }

  int on_interrupt() {
    if (spec_.on_interrupt.empty()) return kExitInterrupted;
    return complain(kExitInterrupted, std::string(spec_.on_interrupt));
  }

  // An error answer: the instances that got somewhere, the config's diagnostics, the message.
  int failure(const protocol::Response& response) {
    const json& details = response.error_details;
    if (details.is_object()) {
      if (auto it = details.find("instances"); it != details.end() && it->is_array()) {
        for (const json& item : *it) printer_.instance_result(item);
      }
      if (auto it = details.find("diagnostics"); it != details.end() && it->is_array()) {
        for (const json& d : *it) {
          if (d.is_string())
            printer_.err << for_terminal(d.get<std::string>(), printer_.err_terminal) << '\n';
        }
      }
    }
    printer_.err << "gardienctl: " << for_terminal(response.error_message, printer_.err_terminal)
                 << '\n';
    if (response.is(protocol::ErrorCode::timeout) && !spec_.on_timeout.empty())
      printer_.err << "gardienctl: " << spec_.on_timeout << '\n';
    return exit_code_for_error(std::string(spec_.name), response);
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
          printer_.out << "gardien has exited\n";
          return kExitOk;
        case Client::Read::interrupted:
          return on_interrupt();
        case Client::Read::timeout:
          return complain(kExitFailed, std::string("gardien (pid ") + daemon_pid_text(result) +
                                           ") is still shutting down after " +
                                           format_duration(*inv_.timeout));
        case Client::Read::error:
          return complain(kExitUnreachable, error);
      }
    }
  }

  const Invocation& inv_;
  const VerbSpec& spec_;
  std::ostream& out_;  // the daemon's lines with --json; the rest goes through printer_
  std::ostream& err_;
  std::string path_;
  Printer printer_;
};

}  // namespace

int run(const Invocation& invocation, std::ostream& out, std::ostream& err) {
  try {
    const VerbSpec* spec = invocation.spec ? invocation.spec : find_verb(invocation.verb);
    if (!spec) {
      err << "gardienctl: unknown verb " << protocol::quote(invocation.verb) << '\n';
      return kExitUsage;
    }
    return Run(invocation, *spec, out, err)();
  } catch (const std::exception& e) {
    err << "gardienctl: the daemon's answer is malformed: " << e.what() << '\n';
    return kExitFailed;
  }
}

}  // namespace gardien::ctl
