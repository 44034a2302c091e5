// Tasks with real processes: runs through the queue, timeouts, retries, cancel, schedules, a
// migration gating a program, and the shutdown with runs queued and running.
#include "harness.h"

namespace gardien::test {
namespace {

// A [task.NAME] table; `extra` holds more key = value lines.
std::string task(const std::string& name, const std::string& shell, const std::string& extra = "") {
  return "[task." + name + "]\ncommand = " + toml_string(shell) + "\n" + extra + "\n";
}

class Tasks : public DaemonTest {
 protected:
  void start_with(const std::string& toml) {
    start(toml);
    ASSERT_TRUE(daemon.wait_ready()) << daemon.log();
  }

  // `gardienctl jobs --json`: every run, by id.
  std::map<std::string, Json> jobs() const {
    std::map<std::string, Json> out;
    Json j = Json::parse(daemon.ctl({"jobs", "--json"}).output, nullptr, false);
    if (j.is_discarded() || !j.contains("result")) return out;
    for (const Json& r : j["result"]["jobs"]) out[r.value("id", "")] = r;
    return out;
  }

  Json job(const std::string& id) const {
    auto all = jobs();
    auto it = all.find(id);
    return it == all.end() ? Json::object() : it->second;
  }

  // Polls until run `id` has finished; its record.
  Json wait_finished(const std::string& id, Ms timeout) const {
    Json last;
    poll_until(
        [&] {
          last = job(id);
          return last.value("state", "") == "finished";
        },
        timeout, 10ms);
    return last;
  }

  std::optional<int> shutdown(Ms timeout = 10s) {
    daemon.signal(SIGTERM);
    return daemon.wait_exit(timeout);
  }
};

TEST_F(Tasks, RunWaitExitsWithTheRunsExitCodeLikeTimeout) {
  start_with(task("ok", "exit 0") + task("three", "exit 3") +
             task("slow", "exec sleep 30", "timeout = \"200ms\"\nstop-timeout = \"1s\"") +
             task("killed", "kill -9 $$$$"));  // $$ is a literal $ in the config
  auto ok = daemon.ctl({"run", "ok", "--wait"});
  EXPECT_EQ(ok.status, 0) << ok.output << daemon.log();
  EXPECT_EQ(daemon.ctl({"run", "three", "--wait"}).status, 3) << daemon.log();
  EXPECT_EQ(daemon.ctl({"run", "slow", "--wait"}).status, 124) << daemon.log();
  EXPECT_EQ(daemon.ctl({"run", "killed", "--wait"}).status, 137) << daemon.log();
  Json three = job("three#1");
  EXPECT_EQ(three.value("outcome", ""), "failed");
  EXPECT_EQ(three.value("exit_code", -1), 3);
  Json slow = job("slow#1");
  EXPECT_EQ(slow.value("outcome", ""), "timed out");
  EXPECT_EQ(job("killed#1").value("signal", 0), 9);
}

TEST_F(Tasks, ATimedOutRunLeavesNoGrandchild) {
  std::string pids = (dir / "pids").string();
  start_with(task("stubborn", helper("stubborn") + " " + pids,
                  "timeout = \"300ms\"\nstop-timeout = \"300ms\""));
  auto run = daemon.ctl({"run", "stubborn"});
  ASSERT_EQ(run.status, 0) << run.output << daemon.log();
  ASSERT_TRUE(poll_until([&] { return fs::exists(pids); }, 5s));
  pid_t main_pid = 0, grandchild = 0;
  std::istringstream(read_file(pids)) >> main_pid >> grandchild;
  ASSERT_GT(grandchild, 0);
  Json done = wait_finished("stubborn#1", 10s);
  EXPECT_EQ(done.value("outcome", ""), "timed out") << done.dump();
  EXPECT_FALSE(process_alive(main_pid));
  EXPECT_FALSE(process_alive(grandchild));
}

TEST_F(Tasks, RetriesWithBackoffUntilAnAttemptSucceeds) {
  std::string count = (dir / "count").string();
  // Fails twice, then succeeds.
  std::string shell = "n=$(cat " + count + " 2>/dev/null || echo 0); n=$((n+1)); echo $n > " +
                      count + "; [ $n -ge 3 ]";
  start_with(task("flaky", shell, "retries = 2\nbackoff = \"100ms\""));
  EXPECT_EQ(daemon.ctl({"run", "flaky", "--wait"}).status, 0) << daemon.log();
  Json done = job("flaky#1");
  EXPECT_EQ(done.value("outcome", ""), "succeeded") << done.dump();
  EXPECT_EQ(done.value("attempts", 0), 3);
  auto spawns = daemon.events("spawn", "flaky#1");
  ASSERT_EQ(spawns.size(), 3u) << daemon.log();
  EXPECT_GE(event_ms(spawns[2]) - event_ms(spawns[1]), 190) << "backoff doubles: 100ms, 200ms";
}

TEST_F(Tasks, RetriesSpentEndTheRunFailed) {
  start_with(task("bad", "exit 4", "retries = 1\nbackoff = \"50ms\""));
  EXPECT_EQ(daemon.ctl({"run", "bad", "--wait"}).status, 4) << daemon.log();
  EXPECT_EQ(job("bad#1").value("attempts", 0), 2);
}

TEST_F(Tasks, AFullQueueRefusesASubmissionWithAClearError) {
  start_with("[supervisor]\nmax-concurrent-jobs = 1\nmax-queued-jobs = 2\n\n" +
             task("slow", "exec sleep 30", "max-concurrent = 1"));
  ASSERT_EQ(daemon.ctl({"run", "slow"}).status, 0);
  ASSERT_TRUE(poll_until([&] { return job("slow#1").value("state", "") == "running"; }, 5s));
  ASSERT_EQ(daemon.ctl({"run", "slow"}).status, 0);
  ASSERT_EQ(daemon.ctl({"run", "slow"}).status, 0);
  auto refused = daemon.ctl({"run", "slow"});
  EXPECT_NE(refused.status, 0);
  EXPECT_NE(refused.output.find("max-queued-jobs"), std::string::npos) << refused.output;
  EXPECT_EQ(jobs().size(), 3u);
}

TEST_F(Tasks, CancelRemovesQueuedRunsAndStopsRunningOnes) {
  start_with(task("slow", "exec sleep 30"));
  ASSERT_EQ(daemon.ctl({"run", "slow"}).status, 0);
  ASSERT_EQ(daemon.ctl({"run", "slow"}).status, 0);
  Json running;
  ASSERT_TRUE(poll_until([&] { return status_pid(running = job("slow#1")) > 0; }, 5s));
  pid_t pid = status_pid(running);
  EXPECT_EQ(job("slow#2").value("state", ""), "queued");
  EXPECT_EQ(daemon.ctl({"cancel", "slow#2"}).status, 0);
  EXPECT_EQ(wait_finished("slow#2", 2s).value("outcome", ""), "cancelled");
  EXPECT_EQ(daemon.ctl({"cancel", "slow"}).status, 0);
  EXPECT_EQ(wait_finished("slow#1", 5s).value("outcome", ""), "cancelled");
  EXPECT_TRUE(poll_until([&] { return !process_alive(pid); }, 2s));
}

TEST_F(Tasks, AMigrationGatesItsDependantEveryTime) {
  for (int i = 0; i < 50; ++i) {
    TempDir d;
    Daemon gd(d);
    gd.write_config(
        task("migrate", "echo migrating; sleep 0.05; echo migrated", "run = \"on-start\"") +
        program("web", {"/bin/sh", "-c", "echo serving; exec sleep 30"},
                "depends-on = [\"migrate\"]\nstart-seconds = \"0\""));
    gd.start();
    ASSERT_TRUE(gd.wait_state("web", "running", 10s)) << gd.log();
    ASSERT_TRUE(poll_until(
        [&] { return read_file(gd.out_path()).find("serving") != std::string::npos; }, 5s));
    std::string out = read_file(gd.out_path());
    auto migrated = out.find("migrated");
    ASSERT_NE(migrated, std::string::npos) << out;
    EXPECT_LT(migrated, out.find("serving")) << "run " << i << ":\n" << out;
    gd.signal(SIGTERM);
    ASSERT_EQ(gd.wait_exit(10s), 0) << gd.log();
  }
}

TEST_F(Tasks, AFailedMigrationLeavesItsDependantStoppedWithTheReason) {
  start_with(task("migrate", "exit 3", "run = \"on-start\"") +
             program("web", {"/bin/sleep", "30"}, "depends-on = [\"migrate\"]"));
  Json web = wait_status(
      daemon, "web",
      [](const Json& s) { return s.value("info", "").find("failed") != std::string::npos; }, 10s);
  EXPECT_EQ(web.value("state", ""), "stopped") << web.dump();
  EXPECT_NE(web.value("info", "").find("migrate"), std::string::npos) << web.dump();
  EXPECT_NE(web.value("info", "").find("exit code 3"), std::string::npos) << web.dump();
}

TEST_F(Tasks, ForbidSkipsAFireWhileARunIsActive) {
  start_with(task("tick", "sleep 2.5", "schedule = \"@every 1s\""));
  ASSERT_TRUE(
      daemon.wait_event([](const Json& e) { return e.value("event", "") == "schedule_skip"; }, 10s))
      << daemon.log();
  auto all = jobs();
  ASSERT_FALSE(all.empty());
  EXPECT_EQ(all.begin()->second.value("source", ""), "schedule");
  EXPECT_LE(all.size(), 2u) << "a fire while a run is active is skipped, not queued";
  Json status = status_of(daemon, "tick");
  EXPECT_EQ(status.value("kind", ""), "task") << status.dump();
  EXPECT_TRUE(status.contains("next_fire_ms")) << status.dump();
}

TEST_F(Tasks, TheDeadlineEndsTheRetries) {
  start_with(task("slow", "exec sleep 30",
                  "timeout = \"200ms\"\nretries = 10\nbackoff = \"100ms\"\n"
                  "deadline = \"1s\"\nstop-timeout = \"1s\""));
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(daemon.ctl({"run", "slow", "--wait"}).status, 124) << daemon.log();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s);
  Json done = job("slow#1");
  EXPECT_EQ(done.value("outcome", ""), "timed out") << done.dump();
  EXPECT_GE(done.value("attempts", 0), 2) << done.dump();
  EXPECT_LT(done.value("attempts", 0), 11) << done.dump();
  EXPECT_NE(done.value("info", "").find("deadline"), std::string::npos) << done.dump();
}

TEST_F(Tasks, ReplaceCancelsTheActiveRunForTheFire) {
  start_with(task("tick", "exec sleep 30", "schedule = \"@every 1s\"\nconcurrency = \"replace\""));
  Json first = wait_finished("tick#1", 10s);
  EXPECT_EQ(first.value("outcome", ""), "cancelled") << first.dump();
  EXPECT_EQ(first.value("info", ""), "cancelled: replaced by a scheduled run") << first.dump();
}

TEST_F(Tasks, QueueWaitsBehindTheActiveRunAndAllowRunsBesideIt) {
  // Slots enough for both tasks' runs: only max-concurrent holds a run back.
  start_with("[supervisor]\nmax-concurrent-jobs = 8\n\n" +
             task("queued", "exec sleep 30", "schedule = \"@every 1s\"\nconcurrency = \"queue\"") +
             task("beside", "exec sleep 30", "schedule = \"@every 1s\"\nconcurrency = \"allow\""));
  std::map<std::string, Json> all;
  ASSERT_TRUE(poll_until(
      [&] {
        all = jobs();
        return all.count("queued#2") && all.count("beside#2") &&
               all["beside#2"].value("state", "") == "running";
      },
      10s))
      << Json(all).dump();
  EXPECT_EQ(all["queued#1"].value("state", ""), "running");
  EXPECT_EQ(all["queued#2"].value("state", ""), "queued") << "behind max-concurrent = 1";
  EXPECT_EQ(all["beside#1"].value("state", ""), "running") << "allow runs beside it";
}

TEST_F(Tasks, ShutdownCancelsQueuedRunsAndStopsRunningOnes) {
  start_with("[supervisor]\nmax-concurrent-jobs = 1\n\n" + task("slow", "exec sleep 30"));
  for (int i = 0; i < 5; ++i) ASSERT_EQ(daemon.ctl({"run", "slow"}).status, 0);
  Json running;
  ASSERT_TRUE(poll_until([&] { return status_pid(running = job("slow#1")) > 0; }, 5s));
  pid_t pid = status_pid(running);
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(shutdown(), 0) << daemon.log();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 8s);
  EXPECT_FALSE(process_alive(pid));
  auto ends = daemon.events("job_end");
  EXPECT_EQ(ends.size(), 5u) << daemon.log();
  for (const Json& e : ends) EXPECT_EQ(e.value("outcome", ""), "cancelled") << e.dump();
}

TEST_F(Tasks, ArgumentsAreAppendedUnlessTheTaskRefusesThem) {
  std::string out = (dir / "args").string();
  start_with(task("echo", "printf '%s,' \"$@\" > " + out, "") +
             "[task.fixed]\ncommand = [\"/bin/true\"]\nargs = false\n");
  // A shell command gets the task's name as $0: the arguments are "$@".
  EXPECT_EQ(daemon.ctl({"run", "echo", "--wait", "--", "zero", "one", "two"}).status, 0)
      << daemon.log();
  EXPECT_EQ(read_file(out), "zero,one,two,");
  auto refused = daemon.ctl({"run", "fixed", "--", "x"});
  EXPECT_NE(refused.status, 0);
  EXPECT_NE(refused.output.find("args = false"), std::string::npos) << refused.output;
}

TEST_F(Tasks, HistoryAndNumbersSurviveARestartAndARunningRunIsLost) {
  std::string config = task("ok", "exit 0") + task("slow", "exec sleep 30");
  start_with(config);
  ASSERT_EQ(daemon.ctl({"run", "ok", "--wait"}).status, 0) << daemon.log();
  ASSERT_EQ(daemon.ctl({"run", "slow"}).status, 0);
  ASSERT_TRUE(poll_until([&] { return status_pid(job("slow#1")) > 0; }, 5s));
  daemon.signal(SIGKILL);  // slow#1 was running: the next daemon reports it lost
  ASSERT_TRUE(daemon.wait_exit(5s));
  Daemon next(dir);
  next.write_config(config);
  next.start();
  ASSERT_TRUE(next.wait_ready()) << next.log();
  Json j = Json::parse(next.ctl({"jobs", "--json"}).output, nullptr, false);
  std::map<std::string, Json> runs;
  for (const Json& r : j["result"]["jobs"]) runs[r.value("id", "")] = r;
  EXPECT_EQ(runs["ok#1"].value("outcome", ""), "succeeded") << j.dump();
  EXPECT_EQ(runs["slow#1"].value("outcome", ""), "lost") << j.dump();
  auto again = next.ctl({"run", "ok"});
  EXPECT_NE(again.output.find("ok#2"), std::string::npos) << again.output;
}

}  // namespace
}  // namespace gardien::test
