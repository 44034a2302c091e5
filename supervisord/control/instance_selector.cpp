#include "supervisord/control/instance_selector.h"

#include <fnmatch.h>

#include "common/suggest.h"

namespace gardien {

namespace {

bool is_glob(const std::string& name) {
  return name.find_first_of("*?[") != std::string::npos;
}

bool matches(const std::string& name, const protocol::InstanceStatus& instance) {
  if (name == "all") return true;
  if (is_glob(name)) {
    return ::fnmatch(name.c_str(), instance.name.c_str(), 0) == 0 ||
           ::fnmatch(name.c_str(), instance.program.c_str(), 0) == 0;
  }
  return name == instance.name || name == instance.program;
}

// What `name`, which selects the task or run `row`, is instead, and its verbs.
std::string not_a_program(const std::string& name, const protocol::InstanceStatus& row) {
  std::string message = protocol::quote(name);
  if (row.kind == protocol::InstanceKind::run && name == row.name) {
    message += " is a run of the task " + protocol::quote(row.program);
    message += ", not a program: gardienctl cancel " + name + " ends it";
  } else {
    message += " is a task, not a program: gardienctl run " + row.program +
               " queues a run, gardienctl cancel " + row.program + " ends its runs";
  }
  return message;
}

}  // namespace

std::variant<std::vector<std::string>, protocol::Error> select_instances(
    const std::vector<protocol::InstanceStatus>& instances, const std::vector<std::string>& names) {
  std::vector<bool> selected(instances.size(), false);
  std::vector<std::string> unknown;
  for (const std::string& name : names) {
    bool any = false;
    for (std::size_t i = 0; i < instances.size(); ++i) {
      if (matches(name, instances[i])) {
        selected[i] = true;
        any = true;
      }
    }
    // "all" with no program at all is not an unknown name: it is an empty selection.
    if (!any && name != "all") unknown.push_back(name);
  }
  if (!unknown.empty()) {
    std::vector<std::string_view> known;
    for (const protocol::InstanceStatus& s : instances) {
      known.push_back(s.name);
      if (s.program != s.name) known.push_back(s.program);
    }
    bool suggested = false;
    std::string message =
        unknown.size() == 1 ? "unknown program or instance " : "unknown programs or instances ";
    for (std::size_t i = 0; i < unknown.size(); ++i) {
      if (i > 0) message += ", ";
      message += protocol::quote(unknown[i]);
      if (std::string_view guess = closest(unknown[i], known); !guess.empty()) {
        message += " (did you mean ";
        message += protocol::quote(std::string(guess));
        message += "?)";
        suggested = true;
      }
      if (i == 7 && unknown.size() > 8) {
        message += " and ";
        message += std::to_string(unknown.size() - 8);
        message += " more";
        break;
      }
    }
    if (!suggested) message += " (see gardienctl status)";
    return protocol::Error{
        protocol::ErrorCode::unknown_program, std::move(message), {{"unknown", unknown}}};
  }
  std::vector<std::string> out;
  for (std::size_t i = 0; i < instances.size(); ++i) {
    if (selected[i]) out.push_back(instances[i].name);
  }
  return out;
}

std::variant<std::vector<std::string>, protocol::Error> select_program_instances(
    const std::vector<protocol::InstanceStatus>& instances, const std::vector<std::string>& names) {
  std::vector<protocol::InstanceStatus> programs;
  for (const protocol::InstanceStatus& s : instances) {
    if (s.kind == protocol::InstanceKind::program) {
      programs.push_back(s);
      continue;
    }
    for (const std::string& name : names) {
      if (is_glob(name) || (name != s.name && name != s.program)) continue;
      return protocol::Error{
          protocol::ErrorCode::unknown_program, not_a_program(name, s), {{"unknown", {name}}}};
    }
  }
  return select_instances(programs, names);
}

}  // namespace gardien
