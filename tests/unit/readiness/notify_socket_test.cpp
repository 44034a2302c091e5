// An instance's NOTIFY_SOCKET with real datagrams, real fds and Debian's systemd-notify.
#include "supervisord/readiness/notify_socket.h"

#include <gtest/gtest.h>
#include <poll.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstddef>
#include <cstring>
#include <string>
#include <vector>

#include "loop/pump_until.h"

extern char** environ;

namespace gardien {
namespace {

using namespace std::chrono_literals;
using testing::pump_until;

constexpr Duration kDeadline = std::chrono::seconds(10);

sockaddr_un abstract_address(const std::string& at_name, socklen_t& length) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::memcpy(address.sun_path, at_name.data(), at_name.size());
  address.sun_path[0] = '\0';
  length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + at_name.size());
  return address;
}

// Sends `text` to the socket at `at_name`, with `fd` when >= 0; the errno of a failure, or 0.
int send_datagram(const std::string& at_name, const std::string& text, int fd = -1) {
  Fd sender(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!sender) return errno;
  socklen_t length;
  sockaddr_un address = abstract_address(at_name, length);
  iovec iov{const_cast<char*>(text.data()), text.size()};
  msghdr message{};
  message.msg_name = &address;
  message.msg_namelen = length;
  message.msg_iov = &iov;
  message.msg_iovlen = 1;
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))];
  if (fd >= 0) {
    message.msg_control = control;
    message.msg_controllen = sizeof control;
    cmsghdr* c = CMSG_FIRSTHDR(&message);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    std::memcpy(CMSG_DATA(c), &fd, sizeof fd);
  }
  return ::sendmsg(sender.get(), &message, MSG_NOSIGNAL) < 0 ? errno : 0;
}

// True once `fd` (a pipe's read end) reads end-of-file before the deadline.
bool sees_eof(int fd) {
  pollfd p{fd, POLLIN, 0};
  if (::poll(&p, 1, static_cast<int>(kDeadline.count())) != 1) return false;
  char byte;
  return ::read(fd, &byte, 1) == 0;
}

bool have_systemd_notify() {
  return ::access("/usr/bin/systemd-notify", X_OK) == 0;
}

// Spawns argv with NOTIFY_SOCKET set to `address` (on top of this process's environment).
pid_t spawn_with_socket(const std::vector<std::string>& argv, const std::string& address) {
  std::vector<std::string> environment{"NOTIFY_SOCKET=" + address};
  for (char** e = environ; *e != nullptr; ++e) {
    if (std::strncmp(*e, "NOTIFY_SOCKET=", 14) != 0) environment.emplace_back(*e);
  }
  std::vector<char*> args, envp;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  for (const auto& e : environment) envp.push_back(const_cast<char*>(e.c_str()));
  args.push_back(nullptr);
  envp.push_back(nullptr);
  pid_t pid = -1;
  if (::posix_spawn(&pid, args[0], nullptr, nullptr, args.data(), envp.data()) != 0) return -1;
  return pid;
}

// The exit code of `pid` when it has ended, without waiting; -1 while it runs.
int exit_code_if_ended(pid_t pid) {
  int status = 0;
  if (::waitpid(pid, &status, WNOHANG) != pid) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

class NotifySocketTest : public ::testing::Test {
 protected:
  void SetUp() override { open_socket(::getuid()); }

  void open_socket(uid_t writer) {
    socket.reset();
    std::string error;
    socket = NotifySocket::open(
        loop, "web.0", writer,
        [this](const NotifyMessage& message, const NotifySocket::Sender& sender) {
          messages.push_back(message);
          senders.push_back(sender);
        },
        error);
    ASSERT_TRUE(socket) << error;
  }

  bool pump_for_messages(std::size_t count) {
    return pump_until(
        loop, [&] { return messages.size() >= count; }, kDeadline);
  }
  bool pump_for_drops(std::size_t count) {
    return pump_until(
        loop, [&] { return socket->dropped() >= count; }, kDeadline);
  }

  EventLoop loop;
  std::unique_ptr<NotifySocket> socket;
  std::vector<NotifyMessage> messages;
  std::vector<NotifySocket::Sender> senders;
};

TEST_F(NotifySocketTest, AddressIsAbstractAndNamesTheInstance) {
  const std::string& address = socket->address();
  ASSERT_EQ(address.rfind("@gardien/" + std::to_string(::getpid()) + "/web.0/", 0), 0u) << address;
  std::string error;
  auto other = NotifySocket::open(loop, "web.0", ::getuid(), nullptr, error);
  ASSERT_TRUE(other) << error;
  EXPECT_NE(other->address(), address) << "each socket has its own address";
}

TEST_F(NotifySocketTest, DeliversReadyAndStatusWithTheSender) {
  ASSERT_EQ(send_datagram(socket->address(), "READY=1\nSTATUS=loading the cache\n"), 0);
  ASSERT_TRUE(pump_for_messages(1));
  EXPECT_TRUE(messages[0].ready);
  EXPECT_EQ(messages[0].status, "loading the cache");
  EXPECT_EQ(senders[0].pid, ::getpid());
  EXPECT_EQ(senders[0].uid, ::getuid());
  EXPECT_EQ(socket->dropped(), 0u);
}

TEST_F(NotifySocketTest, DropsAnOversizedDatagramAndWorksOn) {
  ASSERT_EQ(send_datagram(socket->address(), "STATUS=" + std::string(kMaxNotifyDatagram, 'x')), 0);
  ASSERT_TRUE(pump_for_drops(1));
  EXPECT_TRUE(messages.empty());
  std::string fits = "STATUS=" + std::string(kMaxNotifyDatagram - 7, 'y');
  ASSERT_EQ(send_datagram(socket->address(), fits), 0);
  ASSERT_TRUE(pump_for_messages(1));
  EXPECT_EQ(messages[0].status->size(), 1024u) << "the largest datagram is read, its status cut";
}

TEST_F(NotifySocketTest, DropsAMalformedDatagramAndWorksOn) {
  ASSERT_EQ(send_datagram(socket->address(), "READY=yes"), 0);
  ASSERT_EQ(send_datagram(socket->address(), std::string("READY=1\0", 8)), 0);
  ASSERT_TRUE(pump_for_drops(2));
  EXPECT_TRUE(messages.empty());
  ASSERT_EQ(send_datagram(socket->address(), "READY=1"), 0);
  ASSERT_TRUE(pump_for_messages(1));
  EXPECT_EQ(socket->dropped(), 2u);
}

TEST_F(NotifySocketTest, ClosesAPassedFdAtOnce) {
  FdPair pipe;
  ASSERT_TRUE(make_pipe(pipe));
  ASSERT_EQ(send_datagram(socket->address(), "BARRIER=1", pipe.write.get()), 0);
  pipe.write.reset();  // the socket now holds the only write end
  ASSERT_TRUE(pump_for_messages(1));
  EXPECT_TRUE(messages[0].barrier);
  EXPECT_TRUE(sees_eof(pipe.read.get()));
}

TEST_F(NotifySocketTest, ClosesTheFdOfADroppedDatagramToo) {
  FdPair pipe;
  ASSERT_TRUE(make_pipe(pipe));
  ASSERT_EQ(send_datagram(socket->address(), "BARRIER=maybe", pipe.write.get()), 0);
  pipe.write.reset();
  ASSERT_TRUE(pump_for_drops(1));
  EXPECT_TRUE(sees_eof(pipe.read.get()));
}

TEST_F(NotifySocketTest, DrainReadsEveryQueuedDatagramWithoutTheLoop) {
  // The kernel queues few datagrams per socket (net.unix.max_dgram_qlen, 10 by default).
  for (int i = 0; i < 8; ++i) {
    ASSERT_EQ(send_datagram(socket->address(), "STATUS=" + std::to_string(i)), 0);
  }
  socket->drain();
  ASSERT_EQ(messages.size(), 8u);
  EXPECT_EQ(messages[7].status, "7");
  socket->drain();
  EXPECT_EQ(messages.size(), 8u) << "drain never blocks when nothing is queued";
}

TEST_F(NotifySocketTest, ACallbackMayDestroyTheSocket) {
  std::string error;
  socket = NotifySocket::open(
      loop, "web.0", ::getuid(),
      [this](const NotifyMessage& message, const NotifySocket::Sender&) {
        messages.push_back(message);
        socket.reset();
      },
      error);
  ASSERT_TRUE(socket) << error;
  std::string address = socket->address();
  ASSERT_EQ(send_datagram(address, "STATUS=1"), 0);
  ASSERT_EQ(send_datagram(address, "STATUS=2"), 0);
  socket->drain();
  EXPECT_EQ(messages.size(), 1u);
  EXPECT_FALSE(socket);
}

TEST_F(NotifySocketTest, SystemdNotifyDeliversAndReturnsPromptly) {
  if (!have_systemd_notify())
    GTEST_SKIP() << "systemd-notify is not installed (apt install systemd)";
  auto start = std::chrono::steady_clock::now();
  pid_t pid = spawn_with_socket({"/usr/bin/systemd-notify", "--ready", "--status=warming up"},
                                socket->address());
  ASSERT_GT(pid, 0);
  int code = -1;
  // systemd-notify waits (BARRIER=1) until the fd it passed is closed, up to 5 s.
  ASSERT_TRUE(pump_until(
      loop, [&] { return (code = exit_code_if_ended(pid)) >= 0; }, kDeadline));
  auto took = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(code, 0);
  ASSERT_TRUE(pump_for_messages(1));
  EXPECT_TRUE(messages[0].ready);
  EXPECT_EQ(messages[0].status, "warming up");
  EXPECT_LT(took, 3s) << "systemd-notify waited for its barrier's timeout";
  EXPECT_EQ(socket->dropped(), 0u);
}

// The classic race: the helper has exited before the daemon reads its message. The socket, not
// the sender's pid, says whose message it is, so it is never lost.
TEST_F(NotifySocketTest, ReadyFromAnExitedShellHelperIsDeliveredEveryTime) {
  if (!have_systemd_notify())
    GTEST_SKIP() << "systemd-notify is not installed (apt install systemd)";
  for (int run = 0; run < 200; ++run) {
    open_socket(::getuid());
    messages.clear();
    pid_t pid = spawn_with_socket({"/bin/sh", "-c", "systemd-notify --ready --no-block"},
                                  socket->address());
    ASSERT_GT(pid, 0);
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "run " << run;
    socket->drain();
    ASSERT_EQ(messages.size(), 1u) << "run " << run;
    ASSERT_TRUE(messages[0].ready) << "run " << run;
  }
}

TEST_F(NotifySocketTest, RootMayAlwaysWrite) {
  if (::getuid() != 0) GTEST_SKIP() << "needs root: the test sends as root to another uid's socket";
  open_socket(65534);
  ASSERT_EQ(send_datagram(socket->address(), "READY=1"), 0);
  ASSERT_TRUE(pump_for_messages(1));
}

TEST_F(NotifySocketTest, DropsADatagramFromAnotherUser) {
  if (::getuid() != 0) GTEST_SKIP() << "needs root: a child must setuid() to nobody";
  constexpr uid_t kNobody = 65534;
  for (uid_t writer : {uid_t{12345}, kNobody}) {
    open_socket(writer);
    std::string address = socket->address();
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      if (::setgid(kNobody) != 0 || ::setuid(kNobody) != 0) ::_exit(2);
      ::_exit(send_datagram(address, "READY=1") == 0 ? 0 : 3);
    }
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    socket->drain();
    if (writer == kNobody) {
      EXPECT_EQ(messages.size(), 1u) << "the instance's own user is heard";
    } else {
      EXPECT_TRUE(messages.empty()) << "another user is not";
      EXPECT_EQ(socket->dropped(), 1u);
    }
  }
}

}  // namespace
}  // namespace gardien
