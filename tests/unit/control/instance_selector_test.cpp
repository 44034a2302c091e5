// NAME arguments to instance names: programs, instances, globs and "all", in the instances'
// order without duplicates, and an error naming every NAME that matched nothing.
#include "supervisord/control/instance_selector.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

using namespace gardien;

TEST(InstanceSelector, EmptyAllIsNotAnError) {
  auto selected = select_instances({}, {"all"});
  ASSERT_TRUE(std::holds_alternative<std::vector<std::string>>(selected));
  EXPECT_TRUE(std::get<std::vector<std::string>>(selected).empty());
}

namespace {

using Names = std::vector<std::string>;

// db (one instance named like its program), web.0..2, worker.0..1: the supervisor's order.
std::vector<protocol::InstanceStatus> instances() {
  std::vector<protocol::InstanceStatus> out;
  auto add = [&](const std::string& program, const std::string& name) {
    protocol::InstanceStatus s;
    s.program = program;
    s.name = name;
    out.push_back(s);
  };
  add("db", "db");
  for (const char* name : {"web.0", "web.1", "web.2"}) add("web", name);
  for (const char* name : {"worker.0", "worker.1"}) add("worker", name);
  return out;
}

Names selected(const Names& names) {
  auto result = select_instances(instances(), names);
  if (auto* error = std::get_if<protocol::Error>(&result)) {
    ADD_FAILURE() << error->message;
    return {};
  }
  return std::get<Names>(result);
}

protocol::Error refused(const Names& names) {
  auto result = select_instances(instances(), names);
  if (!std::holds_alternative<protocol::Error>(result)) {
    ADD_FAILURE() << "selected instead of refused";
    return {};
  }
  return std::get<protocol::Error>(result);
}

}  // namespace

TEST(InstanceSelector, AProgramSelectsAllItsInstancesAndAnInstanceItself) {
  EXPECT_EQ(selected({"web"}), (Names{"web.0", "web.1", "web.2"}));
  EXPECT_EQ(selected({"web.1"}), (Names{"web.1"}));
  EXPECT_EQ(selected({"db"}), (Names{"db"}));
  EXPECT_EQ(selected({"all"}), (Names{"db", "web.0", "web.1", "web.2", "worker.0", "worker.1"}));
}

TEST(InstanceSelector, TheInstancesOrderWinsAndDuplicatesGo) {
  EXPECT_EQ(selected({"worker.1", "db", "web.2"}), (Names{"db", "web.2", "worker.1"}));
  EXPECT_EQ(selected({"web", "web.0", "web.*", "all"}).size(), 6u);
  EXPECT_EQ(selected({"web.1", "web", "web.1"}), (Names{"web.0", "web.1", "web.2"}));
}

TEST(InstanceSelector, GlobsMatchInstanceAndProgramNames) {
  EXPECT_EQ(selected({"w*"}), (Names{"web.0", "web.1", "web.2", "worker.0", "worker.1"}));
  EXPECT_EQ(selected({"web.[02]"}), (Names{"web.0", "web.2"}));
  EXPECT_EQ(selected({"?b"}), (Names{"db"}));
  EXPECT_EQ(selected({"work?r"}), (Names{"worker.0", "worker.1"}));  // by the program's name
  EXPECT_EQ(selected({"*.1"}), (Names{"web.1", "worker.1"}));
}

TEST(InstanceSelector, AnUnknownNameIsRefusedWithASuggestion) {
  protocol::Error error = refused({"web", "webb"});
  EXPECT_EQ(error.code, protocol::ErrorCode::unknown_program);
  EXPECT_EQ(error.message, R"(unknown program or instance "webb" (did you mean "web"?))");
  EXPECT_EQ(error.details.at("unknown"), nlohmann::json({"webb"}));
}

TEST(InstanceSelector, EveryUnknownNameIsNamedAndStatusIsPointedToWithoutAGuess) {
  protocol::Error error = refused({"nothing-like-it", "xyz*", "db"});
  EXPECT_EQ(error.code, protocol::ErrorCode::unknown_program);
  EXPECT_EQ(error.message,
            R"(unknown programs or instances "nothing-like-it", "xyz*" (see gardienctl status))");
  EXPECT_EQ(error.details.at("unknown"), nlohmann::json({"nothing-like-it", "xyz*"}));
}

TEST(InstanceSelector, ManyUnknownNamesAreCutInTheMessageButNotInTheDetails) {
  Names unknown;
  for (int i = 0; i < 12; ++i) unknown.push_back("zz-unknown-" + std::to_string(i));
  protocol::Error error = refused(unknown);
  EXPECT_NE(error.message.find("\"zz-unknown-7\" and 4 more"), std::string::npos) << error.message;
  EXPECT_EQ(error.message.find("zz-unknown-8"), std::string::npos) << error.message;
  EXPECT_EQ(error.details.at("unknown").size(), 12u);
}

TEST(InstanceSelector, AHostileNameIsQuotedInTheMessage) {
  std::string hostile = "evil\n\"name\"\x01";
  protocol::Error error = refused({hostile});
  EXPECT_EQ(error.message.find('\n'), std::string::npos) << error.message;
  EXPECT_NE(error.message.find(protocol::quote(hostile)), std::string::npos) << error.message;
  EXPECT_EQ(error.details.at("unknown")[0], hostile);
}

// Tasks and their runs are listed and selected like programs, but the verbs that act on
// programs' instances pass over them and say what a named one is.
TEST(InstanceSelector, TasksAndRunsAreSelectableButNotPrograms) {
  std::vector<protocol::InstanceStatus> all = instances();
  protocol::InstanceStatus task;
  task.name = task.program = "migrate";
  task.kind = protocol::InstanceKind::task;
  protocol::InstanceStatus run = task;
  run.name = "migrate#12";
  run.kind = protocol::InstanceKind::run;
  all.push_back(task);
  all.push_back(run);

  auto of = [](const auto& result) { return std::get<Names>(result); };
  EXPECT_EQ(of(select_instances(all, {"migrate#12"})), (Names{"migrate#12"}));
  EXPECT_EQ(of(select_instances(all, {"migrate"})), (Names{"migrate", "migrate#12"}));
  EXPECT_EQ(of(select_instances(all, {"mig*"})), (Names{"migrate", "migrate#12"}));

  EXPECT_EQ(of(select_program_instances(all, {"all"})),
            (Names{"db", "web.0", "web.1", "web.2", "worker.0", "worker.1"}));
  EXPECT_EQ(of(select_program_instances(all, {"*"})),
            (Names{"db", "web.0", "web.1", "web.2", "worker.0", "worker.1"}))
      << "a glob passes over tasks";
  auto named = select_program_instances(all, {"db", "migrate"});
  ASSERT_TRUE(std::holds_alternative<protocol::Error>(named));
  const auto& error = std::get<protocol::Error>(named);
  EXPECT_EQ(error.code, protocol::ErrorCode::unknown_program);
  EXPECT_EQ(error.message,
            "\"migrate\" is a task, not a program: gardienctl run migrate queues a run, "
            "gardienctl cancel migrate ends its runs");
  EXPECT_EQ(error.details.at("unknown"), nlohmann::json::array({"migrate"}));
  auto by_id = select_program_instances(all, {"migrate#12"});
  ASSERT_TRUE(std::holds_alternative<protocol::Error>(by_id));
  EXPECT_EQ(std::get<protocol::Error>(by_id).message,
            "\"migrate#12\" is a run of the task \"migrate\", not a program: gardienctl cancel "
            "migrate#12 ends it");
}
