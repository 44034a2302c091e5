// Scaling by reload: the instances that stay keep their process, also from and to one instance
// (`web` <-> `web.0` is a rename), and each knows its index.
#include "harness.h"

namespace gardien::test {
namespace {

// Writes "GARDIEN_INSTANCE GARDIEN_INSTANCE_INDEX" to DIR/<instance>, then sleeps.
std::string worker(const fs::path& dir, int instances) {
  return program("w",
                 {"/bin/sh", "-c",
                  "echo $GARDIEN_INSTANCE $GARDIEN_INSTANCE_INDEX > " + dir.string() +
                      "/$GARDIEN_INSTANCE; exec sleep 600"},
                 "start-seconds = \"0\"\nstop-timeout = \"2s\"\ninstances = " +
                     std::to_string(instances) + "\n");
}

// instance -> pid of the running ones.
std::map<std::string, pid_t> running(const Daemon& d) {
  std::map<std::string, pid_t> out;
  Json j = Json::parse(d.ctl({"status", "--json"}).output, nullptr, false);
  if (j.is_discarded()) return out;
  for (const Json& i : j["result"]["instances"]) {
    if (i["state"] == "running" && i["pid"].is_number())
      out[i["name"].get<std::string>()] = i["pid"].get<pid_t>();
  }
  return out;
}

TEST(Scale, FromAndToOneInstanceKeepsTheSurvivingProcess) {
  TempDir dir;
  Daemon d(dir);
  d.write_config(worker(dir.path, 3));
  d.start();
  ASSERT_TRUE(poll_until([&] { return running(d).size() == 3; }, 10s)) << d.log();
  EXPECT_TRUE(poll_until([&] { return read_file(dir / "w.0") == "w.0 0\n"; }, 5s));
  EXPECT_TRUE(poll_until([&] { return read_file(dir / "w.2") == "w.2 2\n"; }, 5s));
  std::map<std::string, pid_t> three = running(d);

  d.write_config(worker(dir.path, 1));
  RunResult dry = d.ctl({"reload", "--dry-run"});
  EXPECT_NE(dry.output.find("would scale w 3 -> 1"), std::string::npos) << dry.output;
  ASSERT_EQ(d.ctl({"reload"}).status, 0) << d.log();
  ASSERT_TRUE(poll_until([&] { return running(d).size() == 1 && running(d).count("w"); }, 10s))
      << d.ctl({"status"}).output;
  EXPECT_EQ(running(d)["w"], three["w.0"]) << "renamed in place, not restarted";
  EXPECT_FALSE(process_alive(three["w.1"]));
  EXPECT_FALSE(process_alive(three["w.2"]));
  EXPECT_EQ(d.ctl({"status", "w.0"}).status, 4) << "the old name is gone";

  d.write_config(worker(dir.path, 2));
  ASSERT_EQ(d.ctl({"reload"}).status, 0) << d.log();
  ASSERT_TRUE(poll_until([&] { return running(d).size() == 2; }, 10s)) << d.ctl({"status"}).output;
  std::map<std::string, pid_t> two = running(d);
  EXPECT_EQ(two["w.0"], three["w.0"]);
  EXPECT_TRUE(poll_until([&] { return read_file(dir / "w.1") == "w.1 1\n"; }, 5s));

  // The renamed instance's next spawn has its new name and index.
  d.write_config(worker(dir.path, 1));
  ASSERT_EQ(d.ctl({"reload"}).status, 0);
  ASSERT_TRUE(poll_until([&] { return running(d).size() == 1 && running(d).count("w"); }, 10s));
  ASSERT_EQ(d.ctl({"restart", "w"}).status, 0);
  ASSERT_TRUE(poll_until([&] { return read_file(dir / "w") == "w 0\n"; }, 10s));
}

// What an instance's checks said (ready, STATUS=) stays its own through renames and new
// instances beside it.
TEST(Scale, EachInstanceKeepsWhatItsChecksSaidThroughRenames) {
  TempDir dir;
  Daemon d(dir);
  auto config = [&](int instances) {
    return program("w",
                   {"/bin/sh", "-c",
                    helper("notifier") + " send READY=1 \"STATUS=serving as $GARDIEN_INSTANCE\"" +
                        " && exec sleep 600"},
                   "ready = \"notify\"\nready-timeout = \"10s\"\nstop-timeout = \"2s\"\n"
                   "instances = " +
                       std::to_string(instances) + "\n");
  };
  auto says = [&](const std::string& name, const std::string& text) {
    Json s = status_of(d, name);
    return s.value("state", "") == "running" && s.value("ready", false) &&
           s.value("status_text", "") == text;
  };
  d.write_config(config(2));
  d.start();
  ASSERT_TRUE(poll_until([&] { return says("w.0", "serving as w.0"); }, 10s)) << d.log();
  ASSERT_TRUE(poll_until([&] { return says("w.1", "serving as w.1"); }, 10s)) << d.log();

  d.write_config(config(1));
  ASSERT_EQ(d.ctl({"reload"}).status, 0) << d.log();
  ASSERT_TRUE(poll_until([&] { return statuses_of(d).size() == 1; }, 10s))
      << d.ctl({"status"}).output;
  EXPECT_TRUE(says("w", "serving as w.0")) << status_of(d, "w").dump();

  d.write_config(config(3));
  ASSERT_EQ(d.ctl({"reload"}).status, 0) << d.log();
  EXPECT_TRUE(poll_until([&] { return says("w.2", "serving as w.2"); }, 10s))
      << d.ctl({"status"}).output;
  EXPECT_TRUE(poll_until([&] { return says("w.1", "serving as w.1"); }, 10s))
      << d.ctl({"status"}).output;
  EXPECT_TRUE(says("w.0", "serving as w.0")) << status_of(d, "w.0").dump();
}

}  // namespace
}  // namespace gardien::test
