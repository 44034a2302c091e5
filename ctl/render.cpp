#include "ctl/render.h"

#include <algorithm>
#include <array>
#include <ctime>

#include "common/line_prefix.h"
#include "ctl/cli.h"

namespace gardien::ctl {

using protocol::InstanceState;

std::string for_terminal(std::string text, bool terminal) {
  if (!terminal) return text;
  auto is_c1 = [&](std::size_t i) {
    return static_cast<unsigned char>(text[i]) == 0xc2 && i + 1 < text.size() &&
           static_cast<unsigned char>(text[i + 1]) >= 0x80 &&
           static_cast<unsigned char>(text[i + 1]) <= 0x9f;
  };
  auto is_control = [&](std::size_t i) {
    auto c = static_cast<unsigned char>(text[i]);
    return (c < 0x20 && c != '\t' && c != '\n') || c == 0x7f || is_c1(i);
  };
  std::size_t first = 0;
  while (first < text.size() && !is_control(first)) ++first;
  if (first == text.size()) return text;  // the usual case: nothing to escape, no copy
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = text.substr(0, first);
  for (std::size_t i = first; i < text.size(); ++i) {
    if (!is_control(i)) {
      out += text[i];
      continue;
    }
    auto c = static_cast<unsigned char>(text[i]);
    if (is_c1(i)) {
      c = static_cast<unsigned char>(text[++i]);
      out += "\\u00";
    } else {
      out += "\\x";
    }
    out += kHex[c >> 4];
    out += kHex[c & 0xf];
  }
  return out;
}

std::string render_log_lines(const nlohmann::json& result, bool timestamps, bool colour,
                             bool terminal) {
  std::string out;
  if (!result.is_object()) return out;
  auto lines = result.find("lines");
  if (lines == result.end() || !lines->is_array()) return out;
  LinePrefixStyle style;
  style.colour = colour;
  auto width = result.find("name_width");
  if (width != result.end() && width->is_number_integer() && width->get<std::int64_t>() > 0)
    style.name_width =
        static_cast<std::size_t>(std::min<std::int64_t>(width->get<std::int64_t>(), 256));
  for (const nlohmann::json& line : *lines) {
    if (!line.is_object()) continue;
    auto name = line.find("name");
    auto text = line.find("text");
    if (name == line.end() || !name->is_string() || text == line.end() || !text->is_string())
      continue;
    if (timestamps) {
      out += line.value("time", std::string(kRfc3339Length, '?'));
      out += ' ';
    }
    append_line_prefix(out, style, name->get_ref<const std::string&>(), nullptr);
    out += for_terminal(text->get_ref<const std::string&>(), terminal);
    out += '\n';
  }
  return out;
}

std::string render_uptime(const std::optional<Duration>& uptime) {
  if (!uptime) return "-";
  auto seconds = std::chrono::duration_cast<std::chrono::seconds>(*uptime);
  return format_duration(std::chrono::duration_cast<Duration>(seconds));
}

std::string truncate_text(std::string text, std::size_t max) {
  if (text.size() <= max) return text;
  std::size_t cut = max;
  // Not inside a UTF-8 sequence: back up over continuation bytes.
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xc0) == 0x80) --cut;
  text.resize(cut);
  return text + "\u2026";
}

std::string render_state(const protocol::InstanceStatus& s) {
  std::string state(protocol::state_name(s.state));
  std::vector<std::string> notes;
  if (s.reloading) notes.emplace_back("reloading");
  if (s.health == protocol::Health::healthy) notes.emplace_back("healthy");
  if (s.health == protocol::Health::unhealthy) {
    notes.push_back("unhealthy " + std::to_string(s.health_failures) + "/" +
                    std::to_string(s.health_threshold));
  }
  for (std::size_t i = 0; i < notes.size(); ++i) {
    state += i == 0 ? " (" : ", ";
    state += notes[i];
  }
  if (!notes.empty()) state += ")";
  return state;
}

std::string render_info(const protocol::InstanceStatus& s) {
  if (s.status_text.empty()) return s.info;
  std::string text = truncate_text(s.status_text, kStatusTextColumns);
  return s.info.empty() ? text : s.info + "; " + text;
}

namespace {

// Rows as aligned columns, two spaces apart, without trailing spaces.
std::string render_table(const std::vector<std::vector<std::string>>& rows) {
  std::vector<std::size_t> width(rows.front().size());
  for (const auto& row : rows) {
    for (std::size_t c = 0; c < row.size(); ++c) width[c] = std::max(width[c], row[c].size());
  }
  std::string out;
  for (const auto& row : rows) {
    std::string line;
    for (std::size_t c = 0; c < row.size(); ++c) {
      line += row[c];
      if (c + 1 < row.size()) line.append(width[c] - row[c].size() + 2, ' ');
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line;
    out += '\n';
  }
  return out;
}

std::string status_name_cell(const protocol::InstanceStatus& s) {
  return s.kind == protocol::InstanceKind::run ? "  " + s.name : s.name;
}

std::string status_info_cell(const protocol::InstanceStatus& s, std::int64_t now_ms) {
  std::string info = render_info(s);
  if (s.kind != protocol::InstanceKind::task || !s.next_fire_ms) return info;
  std::string next = "next " + render_local_time(*s.next_fire_ms, now_ms, false);
  return info.empty() ? next : info + "; " + next;
}

}  // namespace

std::string render_status_table(const std::vector<protocol::InstanceStatus>& instances,
                                std::int64_t now_ms) {
  // PROCS only when the daemon counted them (`status --processes`): counting walks /proc.
  bool procs = std::any_of(instances.begin(), instances.end(),
                           [](const auto& s) { return s.processes.has_value(); });
  std::vector<std::vector<std::string>> rows;
  rows.push_back({"NAME", "STATE", "PID"});
  if (procs) rows.back().push_back("PROCS");
  rows.back().insert(rows.back().end(), {"UPTIME", "RESTARTS", "INFO"});
  for (const auto& s : instances) {
    std::vector<std::string> row = {status_name_cell(s), render_state(s),
                                    s.pid ? std::to_string(*s.pid) : "-"};
    if (procs) row.push_back(s.processes ? std::to_string(*s.processes) : "-");
    row.insert(row.end(),
               {render_uptime(s.uptime), std::to_string(s.restarts), status_info_cell(s, now_ms)});
    rows.push_back(std::move(row));
  }
  return render_table(rows);
}

int status_exit_code(const std::vector<protocol::InstanceStatus>& instances) {
  bool all_up =
      std::all_of(instances.begin(), instances.end(), [](const protocol::InstanceStatus& s) {
        return s.kind != protocol::InstanceKind::program || !s.wanted ||
               s.state == InstanceState::running;
      });
  return all_up ? kExitOk : kExitNotRunning;
}

namespace {

// "it is running", "it has exited": the state as the end of a sentence.
std::string state_phrase(InstanceState state) {
  switch (state) {
    case InstanceState::exited:
      return "it has exited";
    case InstanceState::backoff:
      return "it is in backoff";
    case InstanceState::fatal:
    case InstanceState::stopped:
    case InstanceState::starting:
    case InstanceState::running:
    case InstanceState::stopping:
      break;
  }
  return "it is " + std::string(protocol::state_name(state));
}

// "did not start", "did not become stopped": what a failed result did not do.
std::string missed(const ResultContext& context) {
  const std::string& verb = context.verb;
  if (verb == "start" || verb == "restart" || verb == "stop" || verb == "reload")
    return "did not " + verb;
  if (verb == "wait" && !context.goal.empty()) return "did not become " + context.goal;
  return "did not get there";
}

std::string render_failure(const protocol::InstanceResult& r, const ResultContext& context) {
  if (!context.signal_name.empty()) {
    std::string line = r.name + ": " + context.signal_name + " not sent";
    if (!r.info.empty()) line += ": " + r.info;
    return line;
  }
  std::string line = r.name + " " + missed(context);
  // "timed out", or "timed out: waiting for db" with what it was still at.
  constexpr std::string_view kTimedOut = "timed out";
  bool timed_out = r.info == kTimedOut || r.info.starts_with(std::string(kTimedOut) + ": ");
  // A reload's reasons read after the name: "web is stopped: nothing to reload".
  if (context.verb == "reload" && !timed_out && !r.info.empty()) return r.name + " " + r.info;
  if (timed_out) {
    line += " in time: " + state_phrase(r.state);
    std::string_view still = std::string_view(r.info).substr(kTimedOut.size());
    if (still.size() > 2) {
      line += " (";
      line += still.substr(2);
      line += ")";
    }
    return line;
  }
  line += ": ";
  line += state_phrase(r.state);
  if (!r.info.empty()) line += " (" + r.info + ")";
  return line;
}

}  // namespace

std::string render_instance_result(const protocol::InstanceResult& r,
                                   const ResultContext& context) {
  if (!r.ok) return render_failure(r, context);
  std::string line = r.name;
  line += ": ";
  if (!context.signal_name.empty()) {
    line += context.signal_name;
    line += " sent";
  } else {
    line += protocol::state_name(r.state);
  }
  if (r.pid) {
    line += " (pid ";
    line += std::to_string(*r.pid);
    line += ")";
  }
  if (!r.info.empty()) {
    line += ": ";
    line += r.info;
  }
  return line;
}

std::string render_reload(const protocol::ReloadPlan& plan, bool dry_run) {
  std::string out;
  if (plan.empty()) {
    out = "nothing to do: the config did not change";
    if (!plan.unchanged.empty()) {
      out += " (";
      out += std::to_string(plan.unchanged.size());
      out += " programs unchanged)";
    }
    return out + "\n";
  }
  const char* prefix = dry_run ? "would " : "";
  auto list = [&](const std::vector<std::string>& names, const char* verb) {
    for (const std::string& name : names) {
      out += prefix;
      out += verb;
      out += ' ';
      out += name;
      out += '\n';
    }
  };
  list(plan.added, "add");
  list(plan.removed, "remove");
  list(plan.changed, "restart");
  for (const protocol::ScaleChange& s : plan.scaled) {
    out += prefix;
    out += "scale ";
    out += s.program;
    out += ' ';
    out += std::to_string(s.from);
    out += " -> ";
    out += std::to_string(s.to);
    out += '\n';
  }
  for (const std::string& line : plan.supervisor) {
    out += "[supervisor] ";
    out += line;
    out += '\n';
  }
  for (const std::string& line : plan.tasks) {
    out += prefix;
    out += line;
    out += '\n';
  }
  out += std::to_string(plan.unchanged.size());
  out += plan.unchanged.size() == 1 ? " program unchanged" : " programs unchanged";
  if (dry_run) out += " (dry run: nothing was changed)";
  out += '\n';
  return out;
}

std::string daemon_pid_text(const nlohmann::json& result) {
  auto it = result.is_object() ? result.find("pid") : result.end();
  return it != result.end() && it->is_number_integer() ? std::to_string(it->get<long long>()) : "?";
}

std::string render_reopened(const nlohmann::json& result) {
  auto it = result.is_object() ? result.find("files") : result.end();
  // A daemon that does not count says only that it reopened them.
  if (it == result.end() || !it->is_number_integer() || it->get<std::int64_t>() < 0)
    return "reopened the log files";
  auto files = it->get<std::int64_t>();
  if (files == 0) return "no log files to reopen";
  return "reopened " + std::to_string(files) + (files == 1 ? " log file" : " log files");
}

std::string render_local_time(std::int64_t ms, std::int64_t now_ms, bool seconds) {
  auto local = [](std::int64_t at) {
    std::time_t t = static_cast<std::time_t>(at / 1000);
    std::tm tm{};
    ::localtime_r(&t, &tm);
    return tm;
  };
  std::tm at = local(ms);
  std::tm now = local(now_ms);
  const char* clock = seconds || at.tm_sec != 0 ? "%H:%M:%S" : "%H:%M";
  std::string format;
  if (at.tm_year != now.tm_year) {
    format = "%Y-%m-%d ";
  } else if (at.tm_yday != now.tm_yday) {
    format = "%b %d ";
  }
  format += clock;
  char text[64];
  std::size_t n = std::strftime(text, sizeof text, format.c_str(), &at);
  return std::string(text, n);
}

namespace {

// Whole seconds past 10s; tenths below (a run of /bin/true takes milliseconds).
std::string render_run_duration(std::int64_t ms) {
  if (ms < 0) ms = 0;
  if (ms >= 10'000) return format_duration(std::chrono::seconds(ms / 1000));
  if (ms >= 1000) return std::to_string(ms / 1000) + "." + std::to_string(ms / 100 % 10) + "s";
  return std::to_string(ms) + "ms";
}

std::string job_outcome_cell(const protocol::JobRecord& r) {
  std::string text;
  if (r.outcome) {
    text = protocol::job_outcome_name(*r.outcome);
    if (!r.info.empty() && r.info != text) text += ": " + r.info;
    return text;
  }
  if (r.pid) text = "pid " + std::to_string(*r.pid);
  if (!r.info.empty()) text += (text.empty() ? "" : "; ") + r.info;
  return text.empty() ? "-" : text;
}

std::string job_source_cell(const protocol::JobRecord& r) {
  if (r.source == protocol::JobSource::ctl && r.uid) return "uid " + std::to_string(*r.uid);
  return std::string(protocol::job_source_name(r.source));
}

}  // namespace

std::string render_jobs_table(const std::vector<protocol::JobRecord>& records,
                              std::int64_t now_ms) {
  std::vector<std::vector<std::string>> rows;
  rows.push_back({"ID", "STATE", "OUTCOME", "QUEUED", "STARTED", "DURATION", "ATTEMPTS", "BY"});
  for (const protocol::JobRecord& r : records) {
    std::string started = r.started_ms ? render_local_time(*r.started_ms, now_ms) : "-";
    std::string duration = "-";
    if (r.started_ms) duration = render_run_duration(r.ended_ms.value_or(now_ms) - *r.started_ms);
    rows.push_back({r.id, std::string(protocol::job_state_name(r.state)), job_outcome_cell(r),
                    render_local_time(r.queued_ms, now_ms), std::move(started), std::move(duration),
                    std::to_string(r.attempts), job_source_cell(r)});
  }
  return render_table(rows);
}

std::string render_job_line(const protocol::JobRecord& r) {
  std::string line = r.id;
  line += ' ';
  if (!r.outcome) {
    line += protocol::job_state_name(r.state);
    if (r.pid) line += " (pid " + std::to_string(*r.pid) + ")";
    return line;
  }
  line += protocol::job_outcome_name(*r.outcome);
  std::string why = r.info;
  if (why.empty() && r.signal) why = "signal " + std::to_string(*r.signal);
  if (why.empty() && r.exit_code && *r.outcome != protocol::JobOutcome::succeeded)
    why = "exit code " + std::to_string(*r.exit_code);
  if (!why.empty()) line += ": " + why;
  return line;
}

std::string render_schedules_table(const std::vector<protocol::TaskSchedule>& schedules,
                                   std::int64_t now_ms) {
  std::vector<std::vector<std::string>> rows;
  rows.push_back({"TASK", "SCHEDULE", "ZONE", "NEXT FIRES"});
  for (const protocol::TaskSchedule& s : schedules) {
    std::string fires;
    for (std::int64_t ms : s.next_ms) {
      if (!fires.empty()) fires += ", ";
      fires += render_local_time(ms, now_ms, false);
    }
    rows.push_back({s.task, s.schedule, s.time_zone, fires.empty() ? "-" : fires});
  }
  return render_table(rows);
}

int exit_code_for_error(const std::string& verb, const protocol::Response& response) {
  if (response.is(protocol::ErrorCode::unknown_program) && verb == "status") return kExitUnknown;
  if (response.is(protocol::ErrorCode::too_many_clients)) return kExitUnreachable;
  return kExitFailed;
}

}  // namespace gardien::ctl
