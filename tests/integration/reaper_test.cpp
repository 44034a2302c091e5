// The Reaper in-process with real children: statuses reach the handler watching each pid,
// SIGCHLDs that merged still get their children reaped, and in a storm (scans costly) the scan
// waits for a pause or for its bound, yet no exit is missed.
#include "supervisord/process/reaper.h"

#include "harness.h"

namespace gardien {
namespace {

using namespace std::chrono_literals;
using test::Ms;
using Clock = std::chrono::steady_clock;

// Runs the loop until `done` holds (checked every 2 ms); false when `timeout` passed first.
bool run_until(EventLoop& loop, const std::function<bool()>& done, Ms timeout) {
  bool met = false;
  Timer deadline(loop, [&] { loop.exit(); });
  std::function<void()> check;
  Timer poll(loop, [&] { check(); });
  check = [&] {
    if (!done()) return poll.arm(Ms(2));
    met = true;
    deadline.cancel();
    loop.exit();
  };
  deadline.arm(timeout);
  poll.arm(Ms(0));
  loop.run();
  return met;
}

// Children that block until release() and then exit with `code`, all at the same moment.
class Gate {
 public:
  Gate() {
    if (::pipe2(fds_, O_CLOEXEC) != 0) throw std::runtime_error("pipe2");
  }
  ~Gate() {
    release();
    if (fds_[0] >= 0) ::close(fds_[0]);
  }
  pid_t child(int code) {
    pid_t pid = ::fork();
    if (pid == 0) {
      ::close(fds_[1]);
      char c;
      (void)!::read(fds_[0], &c, 1);
      ::_exit(code);
    }
    return pid;
  }
  void release() {
    if (fds_[1] >= 0) ::close(fds_[1]);
    fds_[1] = -1;
  }

 private:
  int fds_[2] = {-1, -1};
};

bool zombie(pid_t pid) {
  auto stat = read_proc_stat(pid);
  return stat && stat->zombie();
}

// Exits that all happen while the loop is not running: their SIGCHLDs merge into one.
std::vector<pid_t> merged_exits(int n, int code) {
  Gate gate;
  std::vector<pid_t> pids;
  for (int i = 0; i < n; ++i) pids.push_back(gate.child(code));
  gate.release();
  EXPECT_TRUE(test::poll_until([&] { return std::all_of(pids.begin(), pids.end(), zombie); }, 10s));
  return pids;
}

// Every scan counts as costly: the storm path, without thousands of children to make it so.
ReaperTuning storm(Duration quiet, Duration max_deferral) {
  ReaperTuning t;
  t.costly_scan = std::chrono::nanoseconds(-1);
  t.quiet = quiet;
  t.max_deferral = max_deferral;
  return t;
}

// A first exit, so that a scan has run and found scans costly.
void enter_storm(EventLoop& loop, Reaper& reaper) {
  pid_t pid = ::fork();
  if (pid == 0) ::_exit(0);
  bool seen = false;
  reaper.watch(pid, [&](int) { seen = true; });
  ASSERT_TRUE(run_until(
      loop, [&] { return seen; }, 10s));
}

TEST(Reaper, EachWatchedChildsStatusReachesItsHandler) {
  EventLoop loop;
  Reaper reaper(loop);
  int rounds = 0;
  reaper.after_reaping([&] { ++rounds; });
  std::map<pid_t, int> got;
  pid_t exits7 = ::fork();
  if (exits7 == 0) ::_exit(7);
  pid_t killed = ::fork();
  if (killed == 0) {
    ::pause();
    ::_exit(0);
  }
  for (pid_t pid : {exits7, killed}) reaper.watch(pid, [&got, pid](int st) { got[pid] = st; });
  ::kill(killed, SIGKILL);
  ASSERT_TRUE(run_until(
      loop, [&] { return got.size() == 2; }, 10s));
  EXPECT_TRUE(WIFEXITED(got[exits7]) && WEXITSTATUS(got[exits7]) == 7);
  EXPECT_TRUE(WIFSIGNALED(got[killed]) && WTERMSIG(got[killed]) == SIGKILL);
  EXPECT_GE(rounds, 1);
  EXPECT_FALSE(Reaper::children_left());
}

TEST(Reaper, ChildrenWhoseSigchldsMergedAreAllReaped) {
  EventLoop loop;
  Reaper reaper(loop);
  std::set<pid_t> left;
  for (pid_t pid : merged_exits(20, 3)) {
    left.insert(pid);
    reaper.watch(pid, [&left, pid](int st) {
      EXPECT_EQ(WEXITSTATUS(st), 3);
      left.erase(pid);
    });
  }
  ASSERT_TRUE(run_until(
      loop, [&] { return left.empty(); }, 10s))
      << left.size() << " left";
  EXPECT_FALSE(Reaper::children_left());
}

TEST(Reaper, InAStormTheScanWaitsForAPauseAndMissesNoExit) {
  EventLoop loop;
  Reaper reaper(loop, storm(Duration{40}, Duration{60000}));
  ASSERT_NO_FATAL_FAILURE(enter_storm(loop, reaper));
  std::vector<Clock::time_point> reaped;
  for (pid_t pid : merged_exits(2, 0))
    reaper.watch(pid, [&](int) { reaped.push_back(Clock::now()); });
  auto t0 = Clock::now();
  ASSERT_TRUE(run_until(
      loop, [&] { return reaped.size() == 2; }, 10s));
  // One was named by the SIGCHLD that was read; the other, merged, waited for the scan, which
  // came no sooner than `quiet` after that SIGCHLD.
  EXPECT_GE(reaped[1] - t0, 40ms);
  EXPECT_FALSE(Reaper::children_left());
}

TEST(Reaper, AStormWithoutAPauseStillScansWithinItsBound) {
  EventLoop loop;
  Reaper reaper(loop, storm(Duration{60000}, Duration{200}));
  ASSERT_NO_FATAL_FAILURE(enter_storm(loop, reaper));
  std::set<pid_t> merged;
  for (pid_t pid : merged_exits(2, 0)) {
    merged.insert(pid);
    reaper.watch(pid, [&merged, pid](int) { merged.erase(pid); });
  }
  // A child exits every 5 ms meanwhile: with `quiet` at a minute, only the bound ends the wait.
  int born = 0;
  std::function<void()> fork_one;
  Timer fork_timer(loop, [&] { fork_one(); });
  fork_one = [&] {
    if (::fork() == 0) ::_exit(0);
    ++born;
    fork_timer.arm(Ms(5));
  };
  fork_timer.arm(Ms(0));
  ASSERT_TRUE(run_until(
      loop, [&] { return merged.empty(); }, 10s))
      << "a merged exit must be reaped within max-deferral even while SIGCHLDs keep coming";
  fork_timer.cancel();
  EXPECT_GT(born, 0);
  ASSERT_TRUE(run_until(
      loop, [] { return !Reaper::children_left(); }, 10s));
}

}  // namespace
}  // namespace gardien
