// What is computed before fork: the environment, the PATH search and the plan.
#include "supervisord/process/spawn.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>

namespace gardien {
namespace {

bool has(const std::vector<std::string>& env, const std::string& kv) {
  return std::find(env.begin(), env.end(), kv) != env.end();
}

TEST(Spawn, EnvironmentLayersInOrder) {
  ProgramConfig c;
  c.name = "web";
  c.environment = {{"APP", "1"}, {"HOME", "/override"}};
  RunAs user;
  user.user = "www";
  user.home = "/var/www";
  user.shell = "/bin/false";
  c.run_as = user;
  const char* daemon_env[] = {"PATH=/usr/bin",         "HOME=/root", "USER=root",
                              "GARDIEN_PROGRAM=spoof", "BROKEN",     nullptr};
  auto env = build_environment(c, "web.3", const_cast<char* const*>(daemon_env));
  EXPECT_TRUE(has(env, "PATH=/usr/bin"));
  EXPECT_TRUE(has(env, "HOME=/override")) << "the program's environment wins over the user's";
  EXPECT_TRUE(has(env, "USER=www"));
  EXPECT_TRUE(has(env, "LOGNAME=www"));
  EXPECT_TRUE(has(env, "SHELL=/bin/false"));
  EXPECT_TRUE(has(env, "APP=1"));
  EXPECT_TRUE(has(env, "GARDIEN_PROGRAM=web"));
  EXPECT_TRUE(has(env, "GARDIEN_INSTANCE=web.3"));
  EXPECT_FALSE(has(env, "BROKEN"));
  EXPECT_TRUE(std::is_sorted(env.begin(), env.end()));
}

TEST(Spawn, WithoutUserNoIdentityVariablesAreInvented) {
  ProgramConfig c;
  c.name = "db";
  const char* daemon_env[] = {"HOME=/root", nullptr};
  auto env = build_environment(c, "db", const_cast<char* const*>(daemon_env));
  EXPECT_TRUE(has(env, "HOME=/root"));
  EXPECT_FALSE(std::any_of(env.begin(), env.end(),
                           [](const std::string& kv) { return kv.starts_with("USER="); }));
}

TEST(Spawn, FindExecutableSearchesThePath) {
  std::string error;
  EXPECT_EQ(find_executable("sh", std::string("/nonexistent:/bin:/usr/bin"), error), "/bin/sh");
  EXPECT_EQ(find_executable("./x", std::string("/bin"), error), "./x")
      << "a name with a slash is used as is";
  EXPECT_FALSE(find_executable("no-such-command-anywhere", std::string("/bin:/usr/bin"), error));
  EXPECT_EQ(error, "exec no-such-command-anywhere: No such file or directory (not found in PATH)");
  // A directory or a non-executable file is not a match.
  EXPECT_FALSE(find_executable("passwd", std::string("/etc"), error));
  EXPECT_EQ(error, "exec passwd: Permission denied (found in PATH, not executable)");
  EXPECT_TRUE(find_executable("sh", std::nullopt, error))
      << "the default PATH when the program has none";
}

TEST(Spawn, PlanUsesTheProgramsPath) {
  ProgramConfig c;
  c.name = "x";
  c.command = {"sh", "-c", "true"};
  c.environment = {{"PATH", "/nonexistent"}};
  const char* daemon_env[] = {"PATH=/bin:/usr/bin", nullptr};
  std::string error;
  EXPECT_FALSE(make_spawn_plan(c, "x", const_cast<char* const*>(daemon_env), error));
  EXPECT_EQ(error, "exec sh: No such file or directory (not found in PATH)");
  c.environment.clear();
  auto plan = make_spawn_plan(c, "x", const_cast<char* const*>(daemon_env), error);
  ASSERT_TRUE(plan);
  EXPECT_EQ(plan->path, "/bin/sh");
  EXPECT_EQ(plan->argv, c.command);
  EXPECT_FALSE(plan->identity);

  c.command = {};
  EXPECT_FALSE(make_spawn_plan(c, "x", const_cast<char* const*>(daemon_env), error));
}

TEST(Spawn, UserGivesAnIdentityWithItsGroups) {
  ProgramConfig c;
  c.name = "x";
  c.command = {"/bin/true"};
  RunAs nobody;
  nobody.user = "nobody";
  nobody.uid = 65534;
  nobody.gid = 65534;
  nobody.groups = {65534, 100};
  c.run_as = nobody;
  const char* daemon_env[] = {nullptr};
  std::string error;
  auto plan = make_spawn_plan(c, "x", const_cast<char* const*>(daemon_env), error);
  ASSERT_TRUE(plan);
  ASSERT_TRUE(plan->identity);
  EXPECT_EQ(plan->identity->uid, 65534u);
  EXPECT_EQ(plan->identity->gid, 65534u);
  EXPECT_EQ(plan->identity->groups, (std::vector<gid_t>{65534, 100}));
  EXPECT_TRUE(plan->identity->set_uid);
}

}  // namespace
}  // namespace gardien
