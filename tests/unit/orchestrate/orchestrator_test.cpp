// The orchestrator without processes: facts in, decision out. Every daemon mode against every
// dependency condition and every state a dependency can be in; critical programs and exit
// codes; reloads' restarts and removals; the shutdown order and the forceful switch.
#include "supervisord/orchestrate/orchestrator.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

namespace gardien {
namespace {

using Names = std::vector<std::string>;
using Cond = DependencyCondition;

ProgramConfig program(const std::string& name, Names depends_on = {}) {
  ProgramConfig p;
  p.name = name;
  p.command = {"/bin/true"};
  p.depends_on = std::move(depends_on);
  return p;
}

Config config_of(std::vector<ProgramConfig> programs) {
  Config c;
  std::sort(programs.begin(), programs.end(),
            [](const ProgramConfig& a, const ProgramConfig& b) { return a.name < b.name; });
  c.programs = std::move(programs);
  return c;
}

// An instance in `state`, through facts_of like the Supervisor's snapshot, ready when running.
InstanceFacts instance(const Config& config, const std::string& name, State state,
                       std::optional<ExitStatus> last_exit = std::nullopt,
                       std::string reason = {}) {
  std::string program_name = name.substr(0, name.find('.'));
  const ProgramConfig* p = config.find(program_name);
  LifecycleStatus status;
  status.state = state;
  status.main_alive = has_process(state);  // starting: spawned
  status.last_exit = last_exit;
  // As the lifecycle records it: a run with an exit status ended by exiting, unless fatal.
  if (last_exit) status.last_run = state == State::fatal ? RunOutcome::fatal : RunOutcome::exited;
  status.reason = std::move(reason);
  InstanceFacts f = facts_of(name, p ? *p : program(program_name), status);
  f.ready = state == State::running;
  f.wanted = true;
  return f;
}

bool has(const Names& names, const std::string& name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

std::string waiting_of(const OrchestratorDecision& d, const std::string& name) {
  for (const Waiting& w : d.waiting)
    if (w.instance == name) return w.info;
  return "(not waiting)";
}

DaemonFacts in_mode(DaemonMode mode) {
  DaemonFacts d;
  d.mode = mode;
  return d;
}

// --- Every mode x every condition x every state of the dependency. ---

enum class DepState {
  stopped,
  starting,
  running,
  backoff,
  stopping,
  exited_success,
  exited_failure,
  fatal
};

const char* name_of(DepState s) {
  switch (s) {
    case DepState::stopped:
      return "stopped";
    case DepState::starting:
      return "starting";
    case DepState::running:
      return "running";
    case DepState::backoff:
      return "backoff";
    case DepState::stopping:
      return "stopping";
    case DepState::exited_success:
      return "exited-success";
    case DepState::exited_failure:
      return "exited-failure";
    case DepState::fatal:
      return "fatal";
  }
  return "?";
}

InstanceFacts dep_in(const Config& config, DepState s) {
  switch (s) {
    case DepState::stopped:
      return instance(config, "dep", State::stopped);
    case DepState::starting:
      return instance(config, "dep", State::starting);
    case DepState::running:
      return instance(config, "dep", State::running);
    case DepState::backoff:
      return instance(config, "dep", State::backoff, ExitStatus::exited(1));
    case DepState::stopping:
      return instance(config, "dep", State::stopping);
    case DepState::exited_success:
      return instance(config, "dep", State::exited, ExitStatus::exited(0));
    case DepState::exited_failure:
      return instance(config, "dep", State::exited, ExitStatus::exited(3));
    case DepState::fatal:
      return instance(config, "dep", State::fatal, ExitStatus::exited(3),
                      "exit code 3; not retried: restart = never");
  }
  return {};
}

struct ConditionRow {
  DepState dep;
  // Per condition (started, ready, completed): what a start-requested dependent reads.
  const char* waiting[3];  // nullptr: it starts now
  bool pulled[3];          // starting the dependent starts the dependency too
};

constexpr const char* kStarts = nullptr;

// clang-format off
const ConditionRow kConditionRows[] = {
  // dep state              started                                   ready                                     completed
  {DepState::stopped,        {"dep", "dep", "dep"},                                                                                     {true, true, true}},
  {DepState::starting,       {kStarts, "dep", "dep"},                                                                                   {false, false, false}},
  {DepState::running,        {kStarts, kStarts, "dep"},                                                                                 {false, false, false}},
  {DepState::backoff,        {"dep", "dep", "dep"},                                                                                     {true, true, true}},
  {DepState::stopping,       {"dep", "dep", "dep"},                                                                                     {true, true, true}},
  {DepState::exited_success, {"dep, which exited: exit code 0", "dep, which exited: exit code 0", kStarts},                             {true, true, false}},
  {DepState::exited_failure, {"dep, which failed: exit code 3", "dep, which failed: exit code 3", "dep, which failed: exit code 3"},    {true, true, true}},
  {DepState::fatal,          {"dep (fatal): exit code 3; not retried: restart = never",
                              "dep (fatal): exit code 3; not retried: restart = never",
                              "dep (fatal): exit code 3; not retried: restart = never"},                                                {true, true, true}},
};
// clang-format on

const Cond kConditions[] = {Cond::started, Cond::ready, Cond::completed};

Config web_on_dep(Cond condition) {
  ProgramConfig web = program("web", {"dep"});
  web.dependency_conditions["dep"] = condition;
  return config_of({program("dep"), web});
}

TEST(Orchestrator, RunningModeStartsOrWaitsByConditionAndDependencyState) {
  for (const ConditionRow& row : kConditionRows) {
    for (int c = 0; c < 3; ++c) {
      SCOPED_TRACE(std::string(name_of(row.dep)) + " / " + std::string(to_string(kConditions[c])));
      Config config = web_on_dep(kConditions[c]);
      InstanceFacts web = instance(config, "web", State::stopped);
      web.start_requested = true;
      std::vector<InstanceFacts> facts = {dep_in(config, row.dep), web};
      OrchestratorDecision d = orchestrate(facts, config, in_mode(DaemonMode::running));
      if (row.waiting[c] == kStarts) {
        EXPECT_EQ(d.start, Names{"web"});
        EXPECT_TRUE(d.waiting.empty());
        EXPECT_EQ(waiting_for(facts, config, web), "");
      } else {
        EXPECT_TRUE(d.start.empty());
        EXPECT_EQ(waiting_of(d, "web"), row.waiting[c]);
        EXPECT_EQ(waiting_for(facts, config, web), row.waiting[c]);
      }
      EXPECT_TRUE(d.stop.empty());
      EXPECT_TRUE(d.kill.empty());
      EXPECT_FALSE(d.end);
      EXPECT_FALSE(d.programs_down) << "only a shutdown says so";

      facts[1].start_requested = false;
      Names closure = start_closure(facts, config, {"web"});
      EXPECT_EQ(closure.front(), "web");
      EXPECT_EQ(has(closure, "dep"), row.pulled[c]);
    }
  }
}

TEST(Orchestrator, AStartRequestedDependencyIsNotCalledFailedWhileItIsBeingRerun) {
  Config config = web_on_dep(Cond::completed);
  InstanceFacts dep = dep_in(config, DepState::exited_failure);
  dep.start_requested = true;
  InstanceFacts web = instance(config, "web", State::stopped);
  web.start_requested = true;
  OrchestratorDecision d = orchestrate({dep, web}, config, in_mode(DaemonMode::running));
  EXPECT_EQ(d.start, Names{"dep"});
  EXPECT_EQ(waiting_of(d, "web"), "dep");
}

TEST(Orchestrator, ShutdownModesStopOrKillWhateverTheConditionAndNeverStart) {
  for (const ConditionRow& row : kConditionRows) {
    for (Cond condition : kConditions) {
      for (DaemonMode mode : {DaemonMode::graceful_shutdown, DaemonMode::forceful_shutdown}) {
        for (State web_state : {State::stopped, State::running}) {
          SCOPED_TRACE(std::string(name_of(row.dep)) + " / " + std::string(to_string(condition)) +
                       " / " + std::string(to_string(mode)) + " / web " +
                       std::string(to_string(web_state)));
          Config config = web_on_dep(condition);
          InstanceFacts web = instance(config, "web", web_state);
          web.start_requested = web_state == State::stopped;
          InstanceFacts dep = dep_in(config, row.dep);
          OrchestratorDecision d = orchestrate({dep, web}, config, in_mode(mode));
          EXPECT_TRUE(d.start.empty());
          EXPECT_TRUE(d.waiting.empty());
          EXPECT_TRUE(d.request_start.empty());
          bool up = dep.state == State::starting || dep.state == State::running;
          bool web_up = web_state == State::running;
          if (mode == DaemonMode::graceful_shutdown) {
            EXPECT_TRUE(d.kill.empty());
            // Reverse dependency order: dep only once web has no process; backoff at once.
            bool dep_stops = dep.state == State::backoff || (up && !web_up);
            EXPECT_EQ(has(d.stop, "dep"), dep_stops);
            EXPECT_EQ(has(d.stop, "web"), web_up);
          } else {
            EXPECT_TRUE(d.stop.empty());
            bool dep_killed = has_process(dep.state) || dep.state == State::backoff;
            EXPECT_EQ(has(d.kill, "dep"), dep_killed);
            EXPECT_EQ(has(d.kill, "web"), web_up);
          }
          EXPECT_EQ(d.programs_down, !has_process(dep.state) && !web_up);
          EXPECT_EQ(d.exit_code, mode == DaemonMode::forceful_shutdown ? 1 : 0);
        }
      }
    }
  }
}

// --- Start order. ---

TEST(Orchestrator, WaitingNamesEveryMissingDependencyAsStatusAlwaysShowedThem) {
  Config config = config_of({program("db"), program("cache"), program("web", {"db", "cache"})});
  InstanceFacts web = instance(config, "web", State::stopped);
  web.start_requested = true;
  OrchestratorDecision d = orchestrate(
      {instance(config, "cache", State::starting), instance(config, "db", State::stopped), web},
      config, in_mode(DaemonMode::running));
  EXPECT_EQ(waiting_of(d, "web"), "db cache");

  // With an annotated one, items are separated more firmly.
  d = orchestrate({instance(config, "cache", State::starting),
                   instance(config, "db", State::fatal, std::nullopt, "exec db: not found"), web},
                  config, in_mode(DaemonMode::running));
  EXPECT_EQ(waiting_of(d, "web"), "db (fatal): exec db: not found; cache");
}

TEST(Orchestrator, EveryInstanceOfADependencyMustMeetTheCondition) {
  ProgramConfig db = program("db");
  db.instances = 2;
  Config config = config_of({db, program("web", {"db"})});
  InstanceFacts web = instance(config, "web", State::stopped);
  web.start_requested = true;
  std::vector<InstanceFacts> facts = {instance(config, "db.0", State::running),
                                      instance(config, "db.1", State::starting), web};
  EXPECT_EQ(waiting_of(orchestrate(facts, config, in_mode(DaemonMode::running)), "web"), "db");
  facts[1].state = State::running;
  facts[1].ready = true;
  EXPECT_EQ(orchestrate(facts, config, in_mode(DaemonMode::running)).start, Names{"web"});
}

TEST(Orchestrator, ReadyFollowsTheReadyFactNotTheState) {
  Config config = web_on_dep(Cond::ready);
  InstanceFacts dep = instance(config, "dep", State::running);
  dep.ready = false;  // running but not reported ready
  InstanceFacts web = instance(config, "web", State::stopped);
  web.start_requested = true;
  OrchestratorDecision d = orchestrate({dep, web}, config, in_mode(DaemonMode::running));
  EXPECT_EQ(waiting_of(d, "web"), "dep");
  EXPECT_FALSE(has(start_closure({dep, web}, config, {"web"}), "dep")) << "on its way";
}

TEST(Orchestrator, CompletedNeedsOneOfTheSuccessExitCodes) {
  ProgramConfig migrate = program("migrate");
  migrate.success_exit_codes = {0, 3};
  ProgramConfig web = program("web", {"migrate"});
  web.dependency_conditions["migrate"] = Cond::completed;
  Config config = config_of({migrate, web});
  EXPECT_TRUE(instance(config, "migrate", State::exited, ExitStatus::exited(3)).completed);
  EXPECT_FALSE(instance(config, "migrate", State::exited, ExitStatus::exited(1)).completed);
  EXPECT_FALSE(instance(config, "migrate", State::exited, ExitStatus::killed(SIGTERM)).completed);
  EXPECT_FALSE(instance(config, "migrate", State::fatal, ExitStatus::exited(0)).completed);
  EXPECT_FALSE(instance(config, "migrate", State::stopped, ExitStatus::exited(0)).completed)
      << "stopped by an operator is not done";
}

TEST(Orchestrator, StartsStopAtTheBudgetAndAskForAnotherTurn) {
  ProgramConfig many = program("many");
  many.instances = 40;
  Config config = config_of({many});
  std::vector<InstanceFacts> facts;
  for (const std::string& n : many.instance_names()) {
    facts.push_back(instance(config, n, State::stopped));
    facts.back().start_requested = true;
  }
  DaemonFacts daemon;
  daemon.start_budget = 32;
  OrchestratorDecision d = orchestrate(facts, config, daemon);
  ASSERT_EQ(d.start.size(), 32u);
  EXPECT_EQ(d.start.front(), "many.0") << "in the order of the instances";
  EXPECT_TRUE(d.more_to_start);
  for (std::size_t i = 0; i < 32; ++i) facts[i].start_requested = false;
  d = orchestrate(facts, config, daemon);
  EXPECT_EQ(d.start.size(), 8u);
  EXPECT_FALSE(d.more_to_start);
}

TEST(Orchestrator, ClosureFollowsChainsAndStopsAtCycles) {
  Config config = config_of({program("db"), program("api", {"db"}), program("web", {"api"})});
  std::vector<InstanceFacts> facts = {instance(config, "api", State::stopped),
                                      instance(config, "db", State::stopped),
                                      instance(config, "web", State::stopped)};
  EXPECT_EQ(start_closure(facts, config, {"web"}), (Names{"web", "api", "db"}));
  facts[1].state = State::running;
  EXPECT_EQ(start_closure(facts, config, {"web"}), (Names{"web", "api"}));
  EXPECT_EQ(start_closure(facts, config, {"nope"}), Names{});

  // The loader refuses cycles; built by hand, one still ends.
  Config cyclic = config_of({program("a", {"b"}), program("b", {"a"})});
  std::vector<InstanceFacts> ab = {instance(cyclic, "a", State::stopped),
                                   instance(cyclic, "b", State::stopped)};
  EXPECT_EQ(start_closure(ab, cyclic, {"a"}), (Names{"a", "b"}));
}

TEST(Orchestrator, CyclesAreRefusedWhenTheConfigIsLoaded) {
  char tmpl[] = "/tmp/gardien-orchestrator-XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  std::filesystem::path dir = tmpl;
  {
    std::ofstream out(dir / "gardien.toml");
    out << "[program.web]\ncommand = \"sleep 1\"\ndepends-on = [\"api\"]\n\n"
           "[program.api]\ncommand = \"sleep 1\"\ndepends-on = [\"web\"]\n";
  }
  LoadResult r = load_config(dir / "gardien.toml");
  std::filesystem::remove_all(dir);
  EXPECT_FALSE(r.ok());
  bool said = false;
  for (const Diagnostic& d : r.diagnostics)
    said = said || d.message.find("dependency cycle: api -> web -> api") != std::string::npos;
  EXPECT_TRUE(said) << (r.diagnostics.empty() ? "" : r.diagnostics[0].to_string());
}

// --- Reloads. ---

TEST(Orchestrator, AReloadsRestartStartsOnceTheOldProcessIsGoneAfterItsDependencies) {
  Config config = config_of({program("db"), program("web", {"db"})});
  InstanceFacts db = instance(config, "db", State::running);
  InstanceFacts web = instance(config, "web", State::stopping);
  web.restart_requested = true;
  OrchestratorDecision d = orchestrate({db, web}, config, in_mode(DaemonMode::running));
  EXPECT_TRUE(d.request_start.empty()) << "its process is still there";
  EXPECT_TRUE(d.start.empty());

  web.state = State::stopped;
  d = orchestrate({db, web}, config, in_mode(DaemonMode::running));
  EXPECT_EQ(d.request_start, Names{"web"});
  EXPECT_EQ(d.start, Names{"web"});

  db = instance(config, "db", State::fatal);
  d = orchestrate({db, web}, config, in_mode(DaemonMode::running));
  EXPECT_EQ(d.request_start, (Names{"web", "db"})) << "its dependency is started again too";
  EXPECT_EQ(d.start, Names{"db"});
  EXPECT_EQ(waiting_of(d, "web"), "db");

  d = orchestrate({db, web}, config, in_mode(DaemonMode::graceful_shutdown));
  EXPECT_TRUE(d.request_start.empty()) << "nothing starts during a shutdown";
}

TEST(Orchestrator, DroppedInstancesAreRemovedOnceTheyHaveNoProcess) {
  Config config = config_of({program("web")});
  InstanceFacts a = instance(config, "web", State::stopping);
  a.dropping = true;
  for (DaemonMode mode : {DaemonMode::running, DaemonMode::graceful_shutdown}) {
    EXPECT_TRUE(orchestrate({a}, config, in_mode(mode)).remove.empty());
  }
  a.state = State::stopped;
  EXPECT_EQ(orchestrate({a}, config, in_mode(DaemonMode::running)).remove, Names{"web"});
  EXPECT_EQ(orchestrate({a}, config, in_mode(DaemonMode::graceful_shutdown)).remove, Names{"web"});
}

TEST(Orchestrator, ADependencyARemovalTookAway) {
  // The reload took db and web's dependency on it: web starts; db's last instance, on its way
  // out, holds no one.
  Config config = config_of({program("web")});
  InstanceFacts db = instance(config, "db", State::stopping);
  db.dropping = true;
  InstanceFacts web = instance(config, "web", State::stopped);
  web.restart_requested = true;
  OrchestratorDecision d = orchestrate({db, web}, config, in_mode(DaemonMode::running));
  EXPECT_EQ(d.start, Names{"web"});
  EXPECT_TRUE(d.remove.empty());

  // A dependency no instance has (removed through the API while web still names it): web waits
  // and says why; at shutdown, it holds no one.
  Config dangling = config_of({program("web", {"db"})});
  InstanceFacts waiting = instance(dangling, "web", State::stopped);
  waiting.start_requested = true;
  d = orchestrate({waiting}, dangling, in_mode(DaemonMode::running));
  EXPECT_EQ(waiting_of(d, "web"), "db, which does not exist");
  EXPECT_EQ(start_closure({waiting}, dangling, {"web"}), Names{"web"});
  Config dependent = config_of({program("api", {"web"})});
  InstanceFacts running = instance(dependent, "web", State::running);
  EXPECT_EQ(orchestrate({running}, dependent, in_mode(DaemonMode::graceful_shutdown)).stop,
            Names{"web"})
      << "api, named but gone, holds no process";
}

// --- Shutdown order. ---

TEST(Orchestrator, GracefulShutdownGoesLevelByLevelInReverseDependencyOrder) {
  Config config = config_of(
      {program("db"), program("web", {"db"}), program("proxy", {"web"}), program("cron")});
  std::vector<InstanceFacts> facts = {
      instance(config, "cron", State::running), instance(config, "db", State::running),
      instance(config, "proxy", State::running), instance(config, "web", State::running)};
  auto stops = [&] {
    return orchestrate(facts, config, in_mode(DaemonMode::graceful_shutdown)).stop;
  };
  EXPECT_EQ(stops(), (Names{"cron", "proxy"})) << "independent programs stop in parallel";
  facts[0].state = State::stopped;
  facts[2].state = State::stopping;
  EXPECT_EQ(stops(), Names{}) << "web waits while proxy still has a process";
  facts[2].state = State::stopped;
  EXPECT_EQ(stops(), Names{"web"});
  facts[3].state = State::stopping;
  EXPECT_EQ(stops(), Names{});
  facts[3].state = State::exited;
  EXPECT_EQ(stops(), Names{"db"});
  facts[1].state = State::stopped;
  OrchestratorDecision d = orchestrate(facts, config, in_mode(DaemonMode::graceful_shutdown));
  EXPECT_TRUE(d.programs_down);
  EXPECT_EQ(d.exit_code, 0);
}

TEST(Orchestrator, ACompletedDependencyHoldsNoOneAtShutdown) {
  ProgramConfig web = program("web", {"migrate"});
  web.dependency_conditions["migrate"] = Cond::completed;
  ProgramConfig api = program("api", {"web"});
  Config config = config_of({program("migrate"), web, api});
  std::vector<InstanceFacts> facts = {
      instance(config, "api", State::stopped),
      instance(config, "migrate", State::exited, ExitStatus::exited(0)),
      instance(config, "web", State::running)};
  OrchestratorDecision d = orchestrate(facts, config, in_mode(DaemonMode::graceful_shutdown));
  EXPECT_EQ(d.stop, Names{"web"});
  EXPECT_FALSE(d.programs_down);
}

TEST(Orchestrator, TheForcefulSwitchKillsWhatIsNotKilledYet) {
  Config config = config_of({program("db"), program("web", {"db"})});
  InstanceFacts db = instance(config, "db", State::running);
  InstanceFacts web = instance(config, "web", State::stopping);
  OrchestratorDecision graceful =
      orchestrate({db, web}, config, in_mode(DaemonMode::graceful_shutdown));
  EXPECT_TRUE(graceful.stop.empty()) << "db waits for web";
  OrchestratorDecision forced =
      orchestrate({db, web}, config, in_mode(DaemonMode::forceful_shutdown));
  EXPECT_EQ(forced.kill, (Names{"db", "web"})) << "no order once forced";
  web.killed = true;
  db.state = State::stopping;
  db.killed = true;
  forced = orchestrate({db, web}, config, in_mode(DaemonMode::forceful_shutdown));
  EXPECT_TRUE(forced.kill.empty()) << "SIGKILL once";
  EXPECT_FALSE(forced.programs_down);
  EXPECT_EQ(forced.exit_code, 1);
}

// --- Critical programs, the command, exit codes. ---

struct CriticalRow {
  const char* what;
  State state;
  std::optional<ExitStatus> last_exit;
  std::string reason;
  std::optional<int> exit_code_override;
  std::optional<int> ends_with;  // nullopt: the daemon stays up
};

TEST(Orchestrator, ACriticalProgramThatEndsForGoodEndsTheDaemonWithItsCode) {
  const CriticalRow rows[] = {
      {"exited 3", State::exited, ExitStatus::exited(3), "", std::nullopt, 3},
      {"exited 0", State::exited, ExitStatus::exited(0), "", std::nullopt, 0},
      {"killed", State::exited, ExitStatus::killed(SIGKILL), "", std::nullopt, 128 + SIGKILL},
      {"override", State::exited, ExitStatus::exited(3), "", 42, 42},
      {"not found", State::fatal, std::nullopt, "exec x: No such file or directory", std::nullopt,
       127},
      {"not executable", State::fatal, std::nullopt, "exec x: Permission denied", std::nullopt,
       126},
      {"fatal after exits", State::fatal, ExitStatus::exited(2),
       "exit code 2; gave up after 4 failed starts", std::nullopt, 2},
      {"running", State::running, std::nullopt, "", std::nullopt, std::nullopt},
      {"backoff", State::backoff, ExitStatus::exited(1), "", std::nullopt, std::nullopt},
      {"stopped by an operator", State::stopped, ExitStatus::killed(SIGTERM), "", std::nullopt,
       std::nullopt},
  };
  for (const CriticalRow& row : rows) {
    SCOPED_TRACE(row.what);
    ProgramConfig app = program("app");
    app.critical = true;
    app.exit_code = row.exit_code_override;
    Config config = config_of({app, program("sidecar")});
    std::vector<InstanceFacts> facts = {
        instance(config, "app", row.state, row.last_exit, row.reason),
        instance(config, "sidecar", State::running)};
    OrchestratorDecision d = orchestrate(facts, config, in_mode(DaemonMode::running));
    if (!row.ends_with) {
      EXPECT_FALSE(d.end);
      continue;
    }
    ASSERT_TRUE(d.end);
    EXPECT_EQ(d.end->instance, "app");
    EXPECT_EQ(d.end->why, "a critical program ended");
    EXPECT_EQ(d.end->critical_exit, row.ends_with);

    DaemonFacts decided = in_mode(DaemonMode::running);
    decided.critical_exit = 9;
    EXPECT_FALSE(orchestrate(facts, config, decided).end) << "the first one decides";
    EXPECT_FALSE(orchestrate(facts, config, in_mode(DaemonMode::graceful_shutdown)).end);
    facts[0].start_requested = true;
    EXPECT_FALSE(orchestrate(facts, config, in_mode(DaemonMode::running)).end)
        << "started again by an operator";

    decided.mode = DaemonMode::forceful_shutdown;
    EXPECT_EQ(orchestrate(facts, config, decided).exit_code, 9) << "over the forced 1";
  }
}

TEST(Orchestrator, NonCriticalProgramsThatAllEndedLeaveTheDaemonUp) {
  Config config = config_of({program("a"), program("b")});
  std::vector<InstanceFacts> facts = {
      instance(config, "a", State::exited, ExitStatus::exited(0)),
      instance(config, "b", State::fatal, ExitStatus::exited(1), "gave up")};
  OrchestratorDecision d = orchestrate(facts, config, in_mode(DaemonMode::running));
  EXPECT_FALSE(d.end);
  EXPECT_FALSE(d.programs_down);
}

TEST(Orchestrator, SingleCommandModeEndsWithTheCommandAndItsShellCode) {
  Config config = config_of({program("main")});
  DaemonFacts daemon = in_mode(DaemonMode::running);
  daemon.command = "main";
  struct Row {
    State state;
    std::optional<ExitStatus> last_exit;
    bool ends;
    int code;
  };
  const Row rows[] = {
      {State::starting, std::nullopt, false, 1},
      {State::running, std::nullopt, false, 1},
      {State::backoff, ExitStatus::exited(1), false, 1},
      {State::stopping, std::nullopt, false, 1},
      {State::stopped, ExitStatus::killed(SIGTERM), true, 128 + SIGTERM},
      {State::exited, ExitStatus::exited(5), true, 5},
      {State::fatal, ExitStatus::killed(SIGSEGV), true, 128 + SIGSEGV},
  };
  for (const Row& row : rows) {
    SCOPED_TRACE(std::string(to_string(row.state)));
    std::vector<InstanceFacts> facts = {instance(config, "main", row.state, row.last_exit)};
    OrchestratorDecision d = orchestrate(facts, config, daemon);
    ASSERT_EQ(d.end.has_value(), row.ends);
    if (row.ends) {
      EXPECT_EQ(d.end->why, "the command ended");
      EXPECT_FALSE(d.end->critical_exit) << "main is not critical in this config";
    }
    DaemonFacts forced = daemon;
    forced.mode = DaemonMode::forceful_shutdown;
    forced.critical_exit = 9;
    EXPECT_EQ(orchestrate(facts, config, forced).exit_code, row.code) << "the command's wins";
  }
  // Waiting to be started is not having ended.
  std::vector<InstanceFacts> pending = {instance(config, "main", State::stopped)};
  pending[0].start_requested = true;
  EXPECT_FALSE(orchestrate(pending, config, daemon).end);
}

}  // namespace
}  // namespace gardien
