#include "supervisord/process/cgroup.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <thread>

using namespace gardien;

namespace {

template <typename Pred>
bool eventually(Pred pred, std::chrono::milliseconds deadline = std::chrono::seconds(5)) {
  auto end = std::chrono::steady_clock::now() + deadline;
  while (std::chrono::steady_clock::now() < end) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return pred();
}

// Forks a child that joins `cg`, then double-forks an escaped (setsid) grandchild and exits.
// Returns once the grandchild runs: before that, the cgroup's two pids could be the child and the
// intermediate process, and a SIGTERM then killed the intermediate before it forked.
pid_t spawn_escaping_tree(const Cgroup& cg) {
  int ready[2];
  if (::pipe2(ready, O_CLOEXEC) != 0) return -1;
  pid_t pid = ::fork();
  if (pid == 0) {
    if (::write(cg.join_fd(), "0", 1) != 1) _exit(1);
    if (::fork() == 0) {
      ::setsid();
      ::signal(SIGTERM, SIG_IGN);  // before the fork: no window where the grandchild dies of it
      if (::fork() == 0) {
        if (::write(ready[1], "r", 1) != 1) _exit(1);
        for (;;) ::pause();
      }
      _exit(0);
    }
    ::close(ready[1]);  // if no grandchild was born, the read below sees end-of-file
    for (;;) ::pause();
  }
  ::close(ready[1]);
  char byte = 0;
  ssize_t n;
  do n = ::read(ready[0], &byte, 1);
  while (n < 0 && errno == EINTR);
  ::close(ready[0]);
  if (n == 1) return pid;
  if (pid > 0) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
  }
  return -1;
}

}  // namespace

TEST(Cgroup, KillAllReachesEscapedDescendants) {
  std::string why;
  auto tree = CgroupTree::create(why);
  if (!tree) GTEST_SKIP() << "no writable cgroup v2 hierarchy: " << why;
  auto cg = tree->make_child("escape-test", why);
  ASSERT_TRUE(cg) << why;

  pid_t child = spawn_escaping_tree(*cg);
  ASSERT_GT(child, 0);
  ASSERT_TRUE(eventually([&] { return cg->pids().size() == 2; })) << cg->pids().size();
  EXPECT_TRUE(cg->populated());

  // SIGTERM is ignored by the grandchild; the child dies of it.
  EXPECT_EQ(cg->signal_all(SIGTERM), 2);
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFSIGNALED(status));
  ASSERT_TRUE(eventually([&] { return cg->pids().size() == 1; }));

  cg->kill_all();
  ASSERT_TRUE(eventually([&] { return !cg->populated(); }));
  EXPECT_TRUE(cg->pids().empty());
}

TEST(Cgroup, EventsFdWakesWhenTheCgroupEmpties) {
  std::string why;
  auto tree = CgroupTree::create(why);
  if (!tree) GTEST_SKIP() << "no writable cgroup v2 hierarchy: " << why;
  auto cg = tree->make_child("events-test", why);
  ASSERT_TRUE(cg) << why;
  pid_t child = ::fork();
  if (child == 0) {
    if (::write(cg->join_fd(), "0", 1) != 1) _exit(1);
    for (;;) ::pause();
  }
  ASSERT_TRUE(eventually([&] { return cg->populated(); }));
  cg->consume_events();
  ::kill(child, SIGKILL);
  ::waitpid(child, nullptr, 0);
  // Readable inotify fd: the populated flag changed.
  ASSERT_TRUE(eventually([&] {
    char buf[256];
    return ::read(cg->events_fd(), buf, sizeof buf) > 0;
  }));
  EXPECT_FALSE(cg->populated());
}
