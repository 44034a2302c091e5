// gardienctl's verb table: every verb complete (arguments, request, renderer, help), the same
// verbs as the daemon's table, and the completion script and docs/ctl.md in step with both it
// and the list of instance states.
#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <sstream>

#include "common/protocol.h"
#include "ctl/cli.h"
#include "ctl/parse_command_line.h"
#include "ctl/render.h"
#include "ctl/verbs.h"
#include "supervisord/control/commands.h"

namespace gardien::ctl {
namespace {

using nlohmann::json;
using testing::parse;
using testing::Parsed;
using State = protocol::InstanceState;

std::string read_source(const std::string& relative) {
  std::ifstream in(std::string(GARDIEN_SOURCE_DIR) + "/" + relative);
  EXPECT_TRUE(in) << relative;
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// The words of `local NAME="..."` in the completion script.
std::vector<std::string> completion_list(const std::string& script, const std::string& name) {
  std::smatch m;
  std::regex line("local " + name + "=\"([^\"]*)\"");
  EXPECT_TRUE(std::regex_search(script, m, line)) << "no `local " << name << "=` in the script";
  std::vector<std::string> words;
  std::istringstream in(m[1].str());
  for (std::string w; in >> w;) words.push_back(w);
  return words;
}

// The words of the zsh `local -a NAME=(...)` or fish `set -l NAME ...` list in `script`.
std::vector<std::string> shell_list(const std::string& script, const std::string& pattern) {
  std::smatch m;
  EXPECT_TRUE(std::regex_search(script, m, std::regex(pattern))) << "no " << pattern;
  std::vector<std::string> words;
  std::istringstream in(m[1].str());
  for (std::string w; in >> w;) words.push_back(w);
  return words;
}

using VerbAndHelp = std::pair<std::string, std::string>;

// Each (verb, help line) the `pattern` finds in `script`: its groups `name` and `help`.
std::vector<VerbAndHelp> completion_verbs(const std::string& script, const std::string& pattern,
                                          int name, int help) {
  std::vector<VerbAndHelp> verbs;
  std::regex verb(pattern);
  for (auto it = std::sregex_iterator(script.begin(), script.end(), verb);
       it != std::sregex_iterator(); ++it)
    verbs.emplace_back((*it)[name].str(), (*it)[help].str());
  return verbs;
}

std::vector<VerbAndHelp> table_verbs_and_help() {
  std::vector<VerbAndHelp> verbs;
  for (const VerbSpec& v : verb_table()) verbs.emplace_back(v.name, v.help);
  return verbs;
}

std::vector<std::string> table_names() {
  std::vector<std::string> names;
  for (std::string_view v : verb_names()) names.emplace_back(v);
  return names;
}

TEST(GardienctlVerbs, EveryVerbIsComplete) {
  ASSERT_FALSE(verb_table().empty());
  for (const VerbSpec& v : verb_table()) {
    SCOPED_TRACE(std::string(v.name));
    EXPECT_FALSE(v.name.empty());
    EXPECT_FALSE(v.help.empty());
    EXPECT_NE(v.arguments, nullptr);
    EXPECT_NE(v.request, nullptr);
    EXPECT_NE(v.render, nullptr);
    // A verb that streams needs a way to print what streams in; one that does not, none.
    bool streams = v.wait == Wait::states || v.wait == Wait::states_when_named ||
                   v.wait == Wait::new_lines || v.wait == Wait::run_end;
    EXPECT_EQ(v.progress != nullptr, streams);
    EXPECT_EQ(find_verb(v.name), &v);
  }
}

TEST(GardienctlVerbs, HelpListsEveryVerbWithItsLine) {
  Parsed top = parse({"--help"});
  ASSERT_EQ(top.command_line.exit_code, kExitOk);
  for (const VerbSpec& v : verb_table()) {
    std::string name(v.name);
    EXPECT_NE(top.out.find(name), std::string::npos) << name;
    EXPECT_NE(top.out.find(std::string(v.help)), std::string::npos) << name << ": " << v.help;
    Parsed own = parse({name, "--help"});
    EXPECT_EQ(own.command_line.exit_code, kExitOk) << name;
    EXPECT_NE(own.out.find(std::string(v.help)), std::string::npos) << name;
  }
}

// The human output of a verb is never the daemon's JSON: whatever the answer, a renderer prints
// text (or says the answer is malformed).
TEST(GardienctlVerbs, NoVerbPrintsRawJsonForAPerson) {
  for (const VerbSpec& v : verb_table()) {
    Invocation inv;
    inv.spec = &v;
    inv.verb = std::string(v.name);
    // The task verbs' shapes, wrong: an empty or foreign record list, a record without fields.
    for (const json& answer :
         {json::object(), json({{"unexpected", {{"a", 1}}}}), json({{"job", json::array()}}),
          json({{"job", {{"id", 3}}}}), json({{"jobs", json::array({1})}}),
          json({{"schedules", "soon"}}), json({{"schedules", json::array({{{"task", 1}}})}})}) {
      std::ostringstream out, err;
      Printer printer(inv, out, err);
      int code = v.render(answer, printer);
      bool task_verb =
          v.name == "run" || v.name == "jobs" || v.name == "cancel" || v.name == "schedules";
      if (task_verb) {
        EXPECT_EQ(code, kExitFailed) << v.name << ": " << answer.dump();
      }
      EXPECT_EQ(out.str().find('{'), std::string::npos) << v.name << ": " << out.str();
      EXPECT_EQ(err.str().find('{'), std::string::npos) << v.name << ": " << err.str();
    }
  }
}

// A listing that stops short of the whole queue says how many runs it left out, and how to see
// them.
TEST(GardienctlVerbs, JobsSaysHowManyQueuedRunsItDidNotList) {
  const VerbSpec* jobs = nullptr;
  for (const VerbSpec& v : verb_table()) {
    if (v.name == "jobs") jobs = &v;
  }
  ASSERT_NE(jobs, nullptr);
  Invocation inv;
  inv.spec = jobs;
  inv.verb = "jobs";
  for (std::uint64_t unlisted : {0u, 9900u}) {
    std::ostringstream out, err;
    Printer printer(inv, out, err);
    EXPECT_EQ(jobs->render({{"jobs", json::array()}, {"unlisted_queued", unlisted}}, printer),
              kExitOk);
    bool said = out.str().find("9900 more queued runs (gardienctl jobs --all") != std::string::npos;
    EXPECT_EQ(said, unlisted > 0) << out.str();
  }
}

TEST(GardienctlVerbs, WithJsonARendererPrintsNothing) {
  Invocation inv;
  inv.json = true;
  for (const VerbSpec& v : verb_table()) {
    inv.spec = &v;
    inv.verb = std::string(v.name);
    std::ostringstream out, err;
    Printer printer(inv, out, err);
    v.render(json({{"files", 2}, {"pid", 7}, {"daemon", "1"}, {"protocol", 1}}), printer);
    EXPECT_EQ(out.str(), "") << v.name;
  }
}

TEST(GardienctlVerbs, TheDaemonAndTheClientHaveTheSameVerbs) {
  EventLoop loop;
  Commands commands(loop);
  std::vector<std::string> daemon;
  for (const Verb& v : commands.verbs()) daemon.push_back(v.name);
  EXPECT_EQ(daemon, table_names());
}

TEST(GardienctlVerbs, WaitForAcceptsEveryStateAndListsThem) {
  for (const auto& [state, name] : protocol::kInstanceStates) {
    Parsed p = parse({"wait", "web", "--for", std::string(name)});
    ASSERT_TRUE(p.command_line.invocation) << name << ": " << p.err;
    EXPECT_EQ(p.command_line.invocation->args.at("for"), name);
  }
  EXPECT_EQ(state_names().size(), protocol::kInstanceStates.size());
  std::string help = parse({"wait", "--help"}).out;
  for (const std::string& name : state_names())
    EXPECT_NE(help.find(name), std::string::npos) << name << " missing from:\n" << help;
  // The choices are said in words, not as the validator's set.
  EXPECT_EQ(help.find('{'), std::string::npos) << help;
}

TEST(GardienctlVerbs, CompletionScriptListsTheVerbsAndTheStates) {
  std::string script = read_source("etc/gardienctl.bash-completion");
  EXPECT_EQ(completion_list(script, "verbs"), table_names());
  EXPECT_EQ(completion_list(script, "goals"), wait_goals());
}

// zsh and fish show each verb with its help line: the same as `gardienctl --help`'s.
TEST(GardienctlVerbs, ZshAndFishCompletionsListTheVerbsWithTheirHelpAndTheStates) {
  std::string zsh = read_source("etc/gardienctl.zsh-completion");
  std::string fish = read_source("etc/gardienctl.fish-completion");
  // zsh: the 'verb:help' entries of `local -a verbs=(...)`, one a line.
  ASSERT_NE(zsh.find("local -a verbs=("), std::string::npos);
  std::string zsh_verbs = zsh.substr(zsh.find("local -a verbs=("));
  zsh_verbs = zsh_verbs.substr(0, zsh_verbs.find("\n  )"));
  EXPECT_EQ(completion_verbs(zsh_verbs, R"(\n +(['"])([a-z-]+):(.*)\1)", 2, 3),
            table_verbs_and_help());
  EXPECT_EQ(completion_verbs(fish, R"(__gardienctl_no_verb -a ([a-z-]+) -d (['"])(.*)\2)", 1, 3),
            table_verbs_and_help());
  EXPECT_EQ(shell_list(zsh, R"(local -a goals=\(([^)]*)\))"), wait_goals());
  EXPECT_EQ(shell_list(fish, R"(set -l goals ([^\n]*))"), wait_goals());
}

TEST(GardienctlVerbs, WaitForReadyIsAGoalBesideTheStates) {
  std::vector<std::string> goals = wait_goals();
  ASSERT_EQ(goals.size(), state_names().size() + 1);
  EXPECT_EQ(goals.back(), "ready");
  Parsed p = parse({"wait", "all", "--for", "ready", "--timeout", "5s"});
  ASSERT_TRUE(p.command_line.invocation) << p.err;
  EXPECT_EQ(p.command_line.invocation->args.at("for"), "ready");
  EXPECT_EQ(p.command_line.invocation->args.at("names"), json({"all"}));
  EXPECT_EQ(p.command_line.invocation->args.at("timeout_ms"), 5000);
  EXPECT_NE(parse({"wait", "--help"}).out.find("ready"), std::string::npos);
  // wait has no default timeout: without one it waits as long as it takes.
  Parsed forever = parse({"wait", "db", "--for", "ready"});
  ASSERT_TRUE(forever.command_line.invocation);
  EXPECT_FALSE(forever.command_line.invocation->args.contains("timeout_ms"));
  EXPECT_EQ(forever.command_line.invocation->timeout, std::nullopt);
}

TEST(GardienctlVerbs, StartAndRestartWaitNinetySecondsByDefault) {
  for (const char* verb : {"start", "restart"}) {
    SCOPED_TRACE(verb);
    Parsed p = parse({verb, "web"});
    ASSERT_TRUE(p.command_line.invocation) << p.err;
    EXPECT_EQ(p.command_line.invocation->args.at("timeout_ms"), 90000);
    EXPECT_EQ(p.command_line.invocation->timeout, std::chrono::seconds(90));
    // --timeout 0: as long as it takes.
    Parsed forever = parse({verb, "web", "--timeout", "0"});
    ASSERT_TRUE(forever.command_line.invocation) << forever.err;
    EXPECT_FALSE(forever.command_line.invocation->args.contains("timeout_ms"));
    EXPECT_EQ(forever.command_line.invocation->timeout, std::nullopt);
    Parsed given = parse({verb, "web", "--timeout", "1s"});
    ASSERT_TRUE(given.command_line.invocation);
    EXPECT_EQ(given.command_line.invocation->args.at("timeout_ms"), 1000);
    // --no-wait waits for nothing.
    Parsed no_wait = parse({verb, "web", "--no-wait"});
    ASSERT_TRUE(no_wait.command_line.invocation);
    EXPECT_FALSE(no_wait.command_line.invocation->args.contains("timeout_ms"));
    EXPECT_NE(parse({verb, "--help"}).out.find("default 1m30s"), std::string::npos);
    EXPECT_FALSE(find_verb(verb)->on_timeout.empty());
  }
  // stop keeps waiting until it is done (its own stop-timeout bounds it), as before.
  Parsed stop = parse({"stop", "web"});
  ASSERT_TRUE(stop.command_line.invocation);
  EXPECT_FALSE(stop.command_line.invocation->args.contains("timeout_ms"));
  Parsed stop_zero = parse({"stop", "web", "--timeout", "0"});
  ASSERT_TRUE(stop_zero.command_line.invocation);
  EXPECT_EQ(stop_zero.command_line.invocation->args.at("timeout_ms"), 0);
}

TEST(GardienctlVerbs, ReloadWithNamesWaitsLikeStartAndWithoutStaysTheConfigReload) {
  Parsed config = parse({"reload"});
  ASSERT_TRUE(config.command_line.invocation) << config.err;
  EXPECT_EQ(config.inv().args, json::object()) << "an old daemon takes it as it always did";
  Parsed named = parse({"reload", "web", "db.1"});
  ASSERT_TRUE(named.command_line.invocation) << named.err;
  EXPECT_EQ(named.inv().args, json({{"names", {"web", "db.1"}}, {"timeout_ms", 90000}}));
  Parsed given = parse({"reload", "all", "--timeout", "2s"});
  ASSERT_TRUE(given.command_line.invocation) << given.err;
  EXPECT_EQ(given.inv().args, json({{"names", {"all"}}, {"timeout_ms", 2000}}));
  Parsed forever = parse({"reload", "web", "--timeout", "0"});
  ASSERT_TRUE(forever.command_line.invocation) << forever.err;
  EXPECT_EQ(forever.inv().args, json({{"names", {"web"}}}));
  Parsed no_wait = parse({"reload", "w*", "--no-wait"});
  ASSERT_TRUE(no_wait.command_line.invocation) << no_wait.err;
  EXPECT_EQ(no_wait.inv().args, json({{"names", {"w*"}}, {"wait", false}}));
  EXPECT_NE(parse({"reload", "--help"}).out.find("default 1m30s"), std::string::npos);
  EXPECT_FALSE(find_verb("reload")->on_timeout.empty());

  struct Misuse {
    std::vector<std::string> args;
    std::string error;
  };
  for (const Misuse& m : std::vector<Misuse>{
           {{"reload", "web", "--dry-run"},
            "gardienctl reload: --dry-run is for the config reload, without NAME (reload "
            "NAME... signals programs)\n"},
           {{"reload", "--no-wait"},
            "gardienctl reload: --no-wait is for reload NAME... (a config reload answers at "
            "once)\n"},
           {{"reload", "--timeout", "5s"},
            "gardienctl reload: --timeout is for reload NAME... (a config reload answers at "
            "once)\n"}}) {
    Parsed p = parse(m.args);
    EXPECT_FALSE(p.command_line.invocation);
    EXPECT_EQ(p.command_line.exit_code, kExitUsage);
    EXPECT_EQ(p.err.substr(0, m.error.size()), m.error);
  }
}

TEST(GardienctlRender, AReloadResultReadsAsASentence) {
  ResultContext reload{"reload", "", ""};
  protocol::InstanceResult done{"web", State::running, 42, true,
                                "reloaded (SIGHUP sent, then READY=1)"};
  EXPECT_EQ(render_instance_result(done, reload),
            "web: running (pid 42): reloaded (SIGHUP sent, then READY=1)");
  protocol::InstanceResult stopped{"web", State::stopped, std::nullopt, false,
                                   "is stopped: nothing to reload"};
  EXPECT_EQ(render_instance_result(stopped, reload), "web is stopped: nothing to reload");
  protocol::InstanceResult exited{"web", State::exited, std::nullopt, false,
                                  "exited during its reload: exit code 1"};
  EXPECT_EQ(render_instance_result(exited, reload), "web exited during its reload: exit code 1");
  protocol::InstanceResult late{"web", State::running, 42, false,
                                "timed out: SIGHUP sent, RELOADING=1, no READY=1 since"};
  EXPECT_EQ(render_instance_result(late, reload),
            "web did not reload in time: it is running (SIGHUP sent, RELOADING=1, no READY=1 "
            "since)");
}

TEST(GardienctlVerbs, DocsDescribeEveryVerb) {
  std::string ctl = read_source("docs/ctl.md");
  std::string protocol = read_source("docs/protocol.md");
  for (std::string_view v : verb_names()) {
    std::string heading = "### `" + std::string(v);
    EXPECT_NE(ctl.find(heading), std::string::npos) << "docs/ctl.md has no " << heading;
    // The protocol doc may group verbs under one heading (`start`, `stop`, `restart`).
    std::regex in_heading("\n### [^\n]*`" + std::string(v) + "[` ]");
    EXPECT_TRUE(std::regex_search(protocol, in_heading))
        << "docs/protocol.md has no heading for " << v;
  }
}

TEST(GardienctlRender, ReopenedLogFilesReadAsASentence) {
  EXPECT_EQ(render_reopened({{"files", 3}}), "reopened 3 log files");
  EXPECT_EQ(render_reopened({{"files", 1}}), "reopened 1 log file");
  EXPECT_EQ(render_reopened({{"files", 0}}), "no log files to reopen");
  EXPECT_EQ(render_reopened(json::object()), "reopened the log files");
  EXPECT_EQ(render_reopened({{"files", -2}}), "reopened the log files");
}

}  // namespace
}  // namespace gardien::ctl
