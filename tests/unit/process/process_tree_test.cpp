// What /proc says about real child processes: their stat fields, their group, and zombies, which
// a group count must not see as alive.
#include "supervisord/process/process_tree.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <functional>
#include <thread>

namespace gardien {
namespace {

using namespace std::chrono_literals;

bool poll_until(const std::function<bool()>& done, std::chrono::milliseconds timeout = 5000ms) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(1ms);
  }
  return true;
}

// A forked child that waits to be killed, in process group `group` (0: a group of its own),
// named `name` in /proc. Killed and reaped when it goes out of scope.
class Child {
 public:
  explicit Child(pid_t group = 0, const char* name = nullptr) {
    pid_ = ::fork();
    if (pid_ == 0) {
      ::setpgid(0, group);
      if (name) ::prctl(PR_SET_NAME, name, 0, 0, 0);
      for (;;) ::pause();
    }
    // Also from this side, so the group is set before the test looks, whoever runs first.
    if (pid_ > 0) ::setpgid(pid_, group == 0 ? pid_ : group);
  }
  ~Child() {
    if (pid_ > 0 && !reaped_) {
      ::kill(pid_, SIGKILL);
      reap();
    }
  }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  pid_t pid() const { return pid_; }
  void reap() {
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    reaped_ = true;
  }

 private:
  pid_t pid_ = -1;
  bool reaped_ = false;
};

// Zombies exist only while SIGCHLD is not ignored: make sure of it for the test's length.
class ProcessTree : public ::testing::Test {
 protected:
  void SetUp() override {
    struct sigaction dfl {};
    dfl.sa_handler = SIG_DFL;
    ::sigaction(SIGCHLD, &dfl, &saved_);
  }
  void TearDown() override { ::sigaction(SIGCHLD, &saved_, nullptr); }

 private:
  struct sigaction saved_ {};
};

int live_in_group(pid_t pgid) {
  auto groups = processes_by_group();
  auto it = groups.find(pgid);
  return it == groups.end() ? 0 : it->second;
}

pid_t pid_max() {
  std::ifstream in("/proc/sys/kernel/pid_max");
  long max = 4194304;
  in >> max;
  return static_cast<pid_t>(max);
}

TEST_F(ProcessTree, ReadsThisProcess) {
  auto self = read_proc_stat(::getpid());
  ASSERT_TRUE(self);
  EXPECT_EQ(self->state, 'R');  // it is running: it is reading its own stat
  EXPECT_FALSE(self->zombie());
  EXPECT_EQ(self->ppid, ::getppid());
  EXPECT_EQ(self->pgrp, ::getpgrp());
  // Field 22, in clock ticks after boot: not 0 (field 21 is) nor beyond the uptime (23, bytes).
  EXPECT_GT(self->start_ticks, 0u);
  std::ifstream uptime_file("/proc/uptime");
  double uptime = 0;
  ASSERT_TRUE(uptime_file >> uptime);
  EXPECT_LE(self->start_ticks,
            static_cast<unsigned long long>((uptime + 1) * ::sysconf(_SC_CLK_TCK)));
}

TEST_F(ProcessTree, AProcessThatDoesNotExistIsNullopt) {
  EXPECT_FALSE(read_proc_stat(pid_max()));  // pids never reach pid_max
  EXPECT_FALSE(read_proc_stat(-1));
}

TEST_F(ProcessTree, SeesAChildInItsOwnGroupWithItsParent) {
  auto self = read_proc_stat(::getpid());
  ASSERT_TRUE(self);
  Child child;
  ASSERT_GT(child.pid(), 0);
  auto stat = read_proc_stat(child.pid());
  ASSERT_TRUE(stat);
  EXPECT_EQ(stat->ppid, ::getpid());
  EXPECT_EQ(stat->pgrp, child.pid());
  EXPECT_FALSE(stat->zombie());
  EXPECT_GE(stat->start_ticks, self->start_ticks);  // started after its parent
  EXPECT_EQ(live_in_group(child.pid()), 1);
}

TEST_F(ProcessTree, CountsEveryLiveMemberOfAGroup) {
  Child leader;
  ASSERT_GT(leader.pid(), 0);
  Child second(leader.pid());
  Child third(leader.pid());
  ASSERT_GT(second.pid(), 0);
  ASSERT_GT(third.pid(), 0);
  EXPECT_EQ(read_proc_stat(second.pid())->pgrp, leader.pid());
  EXPECT_EQ(live_in_group(leader.pid()), 3);

  ::kill(third.pid(), SIGKILL);
  third.reap();
  EXPECT_EQ(live_in_group(leader.pid()), 2);
}

TEST_F(ProcessTree, AZombieIsSeenButNotCountedAsLive) {
  Child child;
  ASSERT_GT(child.pid(), 0);
  ASSERT_EQ(live_in_group(child.pid()), 1);
  ASSERT_EQ(::kill(child.pid(), SIGKILL), 0);
  // Not reaped yet: /proc keeps it as a zombie until waitpid.
  ASSERT_TRUE(poll_until([&] {
    auto stat = read_proc_stat(child.pid());
    return stat && stat->zombie();
  }));
  EXPECT_EQ(read_proc_stat(child.pid())->state, 'Z');
  EXPECT_EQ(live_in_group(child.pid()), 0);

  child.reap();
  EXPECT_FALSE(read_proc_stat(child.pid()));
  EXPECT_EQ(live_in_group(child.pid()), 0);
}

TEST_F(ProcessTree, ACommandNameWithSpacesAndParenthesesDoesNotShiftTheFields) {
  Child child(0, "a) (b c) d");
  ASSERT_GT(child.pid(), 0);
  ASSERT_TRUE(poll_until([&] {
    std::ifstream comm("/proc/" + std::to_string(child.pid()) + "/comm");
    std::string name;
    std::getline(comm, name);
    return name == "a) (b c) d";
  }));
  auto stat = read_proc_stat(child.pid());
  ASSERT_TRUE(stat);
  EXPECT_EQ(stat->ppid, ::getpid());
  EXPECT_EQ(stat->pgrp, child.pid());
  EXPECT_NE(stat->state, '?');
  EXPECT_GT(stat->start_ticks, 0u);
}

TEST_F(ProcessTree, ForEachProcessVisitsThisProcessAndItsChildInOnePass) {
  Child child;
  ASSERT_GT(child.pid(), 0);
  int self_seen = 0, child_seen = 0;
  pid_t child_parent = 0;
  for_each_process([&](pid_t pid, const ProcStat& stat) {
    if (pid == ::getpid()) ++self_seen;
    if (pid == child.pid()) {
      ++child_seen;
      child_parent = stat.ppid;
    }
  });
  EXPECT_EQ(self_seen, 1);
  EXPECT_EQ(child_seen, 1);
  EXPECT_EQ(child_parent, ::getpid());
}

}  // namespace
}  // namespace gardien
