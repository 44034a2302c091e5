// depends-on in both forms (an array of names; a table of name = condition) and the checks that
// need every program and task: names that exist, conditions a task can meet, and no cycles.
#include <algorithm>
#include <set>
#include <tuple>

#include "common/config/loader.h"

namespace gardien::config_loader {

namespace {

// A program or a task, as depends-on names them (one namespace).
struct Dependency {
  const ProgramConfig* process;      // a program, or a task's process settings
  const TaskConfig* task = nullptr;  // set for a task
};
using DependenciesByName = std::map<std::string, Dependency>;
using PlacesByName = std::map<std::string, DependentPlaces>;

// What an array's names mean; only other conditions are kept, so both spellings compare equal.
constexpr DependencyCondition kDefaultCondition = DependencyCondition::ready;

std::string depends_on_path(const std::string& name, const PlacesByName& places) {
  return cat(places.at(name).table, ".", name, ".depends-on");
}

// "no program named "dbb"; did you mean "db"?" or the program of an instance name.
std::string unknown_dependency_message(const std::string& dep, const ProgramConfig& p,
                                       const DependenciesByName& by_name, bool any_task) {
  std::string message = any_task ? "no program or task named " : "no program named ";
  message += quote(dep);
  std::size_t dot = dep.rfind('.');
  if (dot != std::string::npos && by_name.count(dep.substr(0, dot))) {
    message += "; depends-on names programs, not instances: write ";
    message += quote(dep.substr(0, dot));
    return message;
  }
  std::vector<std::string_view> names;
  for (const auto& [name, _] : by_name) {
    if (name != p.name) names.push_back(name);
  }
  if (auto suggestion = closest(dep, names); !suggestion.empty()) {
    message += "; did you mean ";
    message += quote(suggestion);
    message += '?';
  }
  return message;
}

// A dependant waits for a task's run to complete. A plain name means that only for a task run
// at start, which is sure to run; any other task must be waited for explicitly.
std::optional<std::string> task_condition_problem(const std::string& dep, const TaskConfig& task,
                                                  const DependencyPlace& entry) {
  if (entry.plain) {
    if (task.run == TaskRunWhen::on_start) return std::nullopt;
    return cat(quote(dep), " is a task that runs on demand: write depends-on = { ", dep,
               " = \"completed\" } to wait for a run of it to succeed, or give it run = "
               "\"on-start\"");
  }
  if (!entry.condition || *entry.condition == DependencyCondition::completed) return std::nullopt;
  return cat(quote(dep),
             " is a task: a dependant waits for its run to complete, never for it to "
             "be ",
             quote(to_string(*entry.condition)), "; write { ", dep, " = \"completed\" }");
}

// Each dependency exists and, when it is a task, has a condition a task can meet.
void check_each_dependency(Loader& loader, ProgramConfig& p, const DependenciesByName& by_name,
                           const PlacesByName& places, bool any_task) {
  const DependentPlaces& where = places.at(p.name);
  for (std::size_t i = 0; i < p.depends_on.size(); ++i) {
    const std::string& dep = p.depends_on[i];
    const DependencyPlace& entry = where.depends_on[i];
    auto it = by_name.find(dep);
    if (it == by_name.end()) {
      loader.error(entry.place, depends_on_path(p.name, places),
                   unknown_dependency_message(dep, p, by_name, any_task));
      continue;
    }
    const TaskConfig* task = it->second.task;
    if (!task) continue;
    if (auto problem = task_condition_problem(dep, *task, entry)) {
      std::string path = depends_on_path(p.name, places);
      if (!entry.plain) path = cat(path, ".", dep);
      loader.error(entry.place, std::move(path), std::move(*problem));
    } else {
      p.dependency_conditions[dep] = DependencyCondition::completed;
    }
  }
}

// Depth-first search; a back edge closes a cycle, reported once from its smallest name. The
// stack is explicit: a depends-on chain of 100000 programs overflowed the call stack.
class CycleFinder {
 public:
  CycleFinder(Loader& loader, const DependenciesByName& by_name, const PlacesByName& places)
      : loader_(loader), by_name_(by_name), places_(places) {}

  void search_from(const ProgramConfig& root);
  void report_the_rest();

 private:
  enum class Mark { none, active, done };
  struct Frame {
    const ProgramConfig* program;
    std::size_t next_dependency = 0;
  };
  // Each cycle costs the stack's depth to report: past a few, they are only counted.
  static constexpr std::size_t kMaxCyclesReported = 20;

  void enter(const ProgramConfig& p);
  void report_cycle(const std::string& dep);

  Loader& loader_;
  const DependenciesByName& by_name_;
  const PlacesByName& places_;
  std::map<std::string, Mark> marks_;
  std::vector<Frame> frames_;
  std::vector<std::string> stack_;  // the frames' names, for the cycle a back edge closes
  std::set<std::vector<std::string>> reported_;
  std::size_t cycles_unreported_ = 0;
  Place last_cycle_place_;  // the count goes right after the last cycle reported
  std::string last_cycle_path_;
};

void CycleFinder::enter(const ProgramConfig& p) {
  marks_[p.name] = Mark::active;
  stack_.push_back(p.name);
  frames_.push_back({&p});
}

void CycleFinder::search_from(const ProgramConfig& root) {
  if (marks_[root.name] != Mark::none) return;
  enter(root);
  while (!frames_.empty()) {
    Frame& frame = frames_.back();
    const ProgramConfig& p = *frame.program;
    if (frame.next_dependency == p.depends_on.size()) {
      marks_[p.name] = Mark::done;
      stack_.pop_back();
      frames_.pop_back();
      continue;
    }
    const std::string& dep = p.depends_on[frame.next_dependency++];
    auto it = by_name_.find(dep);
    if (it == by_name_.end()) continue;
    Mark mark = marks_[dep];
    if (mark == Mark::active) {
      report_cycle(dep);
    } else if (mark == Mark::none) {
      enter(*it->second.process);  // `frame` is not used after this
    }
  }
}

void CycleFinder::report_cycle(const std::string& dep) {
  if (reported_.size() == kMaxCyclesReported) {
    ++cycles_unreported_;
    return;
  }
  std::vector<std::string> cycle(std::find(stack_.begin(), stack_.end(), dep), stack_.end());
  std::rotate(cycle.begin(), std::min_element(cycle.begin(), cycle.end()), cycle.end());
  if (!reported_.insert(cycle).second) return;
  std::string message = "dependency cycle: ";
  for (const std::string& name : cycle) {
    message += name;
    message += " -> ";
  }
  message += cycle.front();
  const ProgramConfig& first = *by_name_.at(cycle.front()).process;
  const std::string& next = cycle.size() > 1 ? cycle[1] : cycle[0];
  std::size_t index = static_cast<std::size_t>(
      std::find(first.depends_on.begin(), first.depends_on.end(), next) - first.depends_on.begin());
  last_cycle_place_ = places_.at(first.name).depends_on[index].place;
  last_cycle_path_ = depends_on_path(first.name, places_);
  loader_.error(last_cycle_place_, last_cycle_path_, std::move(message));
}

void CycleFinder::report_the_rest() {
  if (cycles_unreported_ == 0) return;
  std::string message = "and ";
  message += std::to_string(cycles_unreported_);
  message += " more dependency cycles; fix the ones above first";
  loader_.error(last_cycle_place_, last_cycle_path_, std::move(message));
}

}  // namespace

void Loader::read_dependencies(const Field& f, ProgramConfig& p, DependentPlaces& places) {
  if (const toml::table* table = f.node->as_table()) {
    read_dependency_table(f, *table, p, places);
    return;
  }
  if (!f.node->is_array()) {
    std::string message =
        "expected an array of program names like [\"db\"] or a table of conditions like { db = "
        "\"started\" }, got ";
    message += describe(*f.node);
    if (const auto* name = f.node->as_string())
      message += cat("; write depends-on = [", quote(name->get()), "]");
    error(f, std::move(message));
    return;
  }
  auto names = get_string_array(f);
  if (!names) return;
  const toml::array& array = *f.node->as_array();
  for (std::size_t i = 0; i < names->size(); ++i) {
    const std::string& name = (*names)[i];
    Field element{array.get(i), f.file, f.path};
    if (std::find(p.depends_on.begin(), p.depends_on.end(), name) != p.depends_on.end()) {
      warning(element, cat(quote(name), " is listed twice"));
      continue;
    }
    p.depends_on.push_back(name);
    places.depends_on.push_back({place(element), true, std::nullopt});
  }
}

// { db = "ready", migrate = "completed" }: each name in the order written, with its condition.
// A name whose condition is wrong still counts, so its other problems are reported too.
void Loader::read_dependency_table(const Field& f, const toml::table& table, ProgramConfig& p,
                                   DependentPlaces& places) {
  std::vector<std::pair<const toml::key*, const toml::node*>> entries;
  for (auto&& [key, node] : table) entries.emplace_back(&key, &node);
  // toml++ keeps a table's keys sorted; the order written is the order of their places.
  std::stable_sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) {
    const toml::source_position& x = a.first->source().begin;
    const toml::source_position& y = b.first->source().begin;
    return std::tie(x.line, x.column) < std::tie(y.line, y.column);
  });
  for (const auto& [key, node] : entries) {
    std::string name(key->str());
    Field value{node, f.file, cat(f.path, ".", name)};
    auto condition =
        get_enum<DependencyCondition>(value, {{"started", DependencyCondition::started},
                                              {"ready", DependencyCondition::ready},
                                              {"completed", DependencyCondition::completed}});
    p.depends_on.push_back(name);
    places.depends_on.push_back({place(f.file, key->source()), false, condition});
    if (condition && *condition != kDefaultCondition) p.dependency_conditions[name] = *condition;
  }
}

void Loader::check_dependencies(Config& config, const PlacesByName& places) {
  DependenciesByName by_name;
  std::vector<ProgramConfig*> dependents;
  for (ProgramConfig& p : config.programs) {
    by_name[p.name] = {&p};
    dependents.push_back(&p);
  }
  for (TaskConfig& t : config.tasks) {
    by_name[t.name()] = {&t.process, &t};
    dependents.push_back(&t.process);
  }
  for (ProgramConfig* p : dependents)
    check_each_dependency(*this, *p, by_name, places, !config.tasks.empty());
  CycleFinder cycles(*this, by_name, places);
  for (const ProgramConfig* root : dependents) cycles.search_from(*root);
  cycles.report_the_rest();
}

}  // namespace gardien::config_loader
