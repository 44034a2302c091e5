// The daemon's own readiness, sent to a NOTIFY_SOCKET bound by the test as the init above would.
#include "supervisord/readiness/upward_notifier.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "loop/pump_until.h"
#include "supervisord/loop/log.h"

namespace gardien {
namespace {

using testing::pump_until;

constexpr Duration kDeadline = std::chrono::seconds(10);

// The init above: a datagram socket at "@name" or a path.
class InitSocket {
 public:
  explicit InitSocket(const std::string& address) : address_(address) {
    fd_.reset(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::memcpy(a.sun_path, address.data(), address.size());
    if (address[0] == '@') a.sun_path[0] = '\0';
    auto length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + address.size());
    bound_ = fd_ && ::bind(fd_.get(), reinterpret_cast<sockaddr*>(&a), length) == 0;
  }
  bool bound() const { return bound_; }
  const std::string& address() const { return address_; }
  // The next queued datagram, if any.
  std::optional<std::string> next() {
    char buffer[8192];
    ssize_t n = ::recv(fd_.get(), buffer, sizeof buffer, MSG_DONTWAIT);
    if (n < 0) return std::nullopt;
    return std::string(buffer, static_cast<std::size_t>(n));
  }

 private:
  std::string address_;
  Fd fd_;
  bool bound_ = false;
};

std::string unique_abstract_name() {
  std::random_device random;
  return "@gardien-test/" + std::to_string(::getpid()) + "/" + std::to_string(random());
}

class UpwardNotifierTest : public ::testing::Test {
 protected:
  void SetUp() override {
    log::set_line_writer([this](std::string_view line) { log_lines.emplace_back(line); });
  }
  void TearDown() override {
    log::set_line_writer(nullptr);
    for (const char* name : {"NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID"}) ::unsetenv(name);
  }
  std::size_t warnings() const {
    std::size_t count = 0;
    for (const auto& line : log_lines) count += line.find(" warn: ") != std::string::npos;
    return count;
  }

  EventLoop loop;
  std::vector<std::string> log_lines;
};

TEST_F(UpwardNotifierTest, NothingWithoutNotifySocket) {
  ::unsetenv("NOTIFY_SOCKET");
  ::setenv("WATCHDOG_USEC", "1000000", 1);
  EXPECT_EQ(UpwardNotifier::from_environment(loop), nullptr);
  EXPECT_EQ(std::getenv("WATCHDOG_USEC"), nullptr) << "programs never inherit it";
}

TEST_F(UpwardNotifierTest, SendsReadyOnceStatusWhenChangedAndStopping) {
  InitSocket init(unique_abstract_name());
  ASSERT_TRUE(init.bound());
  ::setenv("NOTIFY_SOCKET", init.address().c_str(), 1);
  ::setenv("WATCHDOG_USEC", "60000000", 1);
  ::setenv("WATCHDOG_PID", "1", 1);
  auto notifier = UpwardNotifier::from_environment(loop);
  ASSERT_NE(notifier, nullptr);
  EXPECT_EQ(notifier->address(), init.address());
  for (const char* name : {"NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID"}) {
    EXPECT_EQ(std::getenv(name), nullptr) << name << " is removed from the environment";
  }

  notifier->ready("3 running");
  EXPECT_EQ(init.next(), "STATUS=3 running\nREADY=1\n");
  notifier->ready("3 running");
  EXPECT_EQ(init.next(), std::nullopt) << "READY=1 is sent once";
  notifier->ready("2 running, 1 starting");
  EXPECT_EQ(init.next(), "STATUS=2 running, 1 starting\n");
  notifier->status("2 running, 1 starting");
  EXPECT_EQ(init.next(), std::nullopt) << "an unchanged status is not sent";
  notifier->status("3 running");
  EXPECT_EQ(init.next(), "STATUS=3 running\n");
  notifier->stopping("stopping 3 programs");
  EXPECT_EQ(init.next(), "STATUS=stopping 3 programs\nSTOPPING=1\n");
  EXPECT_EQ(warnings(), 0u);
}

TEST_F(UpwardNotifierTest, SendsToASocketPath) {
  auto dir =
      std::filesystem::temp_directory_path() / ("gardien-upward-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  {
    InitSocket init((dir / "notify").string());
    ASSERT_TRUE(init.bound());
    ::setenv("NOTIFY_SOCKET", init.address().c_str(), 1);
    auto notifier = UpwardNotifier::from_environment(loop);
    ASSERT_NE(notifier, nullptr);
    notifier->ready("up");
    EXPECT_EQ(init.next(), "STATUS=up\nREADY=1\n");
  }
  std::filesystem::remove_all(dir);
}

TEST_F(UpwardNotifierTest, AnUnreachableSocketIsLoggedOnceAndTheDaemonRunsOn) {
  ::setenv("NOTIFY_SOCKET", (unique_abstract_name() + "/nobody-listens").c_str(), 1);
  auto notifier = UpwardNotifier::from_environment(loop);
  ASSERT_NE(notifier, nullptr);
  notifier->ready("up");
  notifier->status("still up");
  notifier->stopping("stopping");
  EXPECT_EQ(warnings(), 1u);
  EXPECT_NE(log_lines.at(0).find("NOTIFY_SOCKET"), std::string::npos) << log_lines.at(0);
}

TEST_F(UpwardNotifierTest, ABadAddressIsLoggedAndIgnored) {
  for (const char* address : {"relative/path", "@", "x"}) {
    ::setenv("NOTIFY_SOCKET", address, 1);
    EXPECT_EQ(UpwardNotifier::from_environment(loop), nullptr) << address;
    EXPECT_EQ(std::getenv("NOTIFY_SOCKET"), nullptr);
  }
  ::setenv("NOTIFY_SOCKET", ("/" + std::string(200, 'p')).c_str(), 1);
  EXPECT_EQ(UpwardNotifier::from_environment(loop), nullptr) << "longer than a socket address";
  EXPECT_EQ(warnings(), 4u);
}

TEST_F(UpwardNotifierTest, PingsTheWatchdogEveryHalfOfWatchdogUsec) {
  InitSocket init(unique_abstract_name());
  ASSERT_TRUE(init.bound());
  ::setenv("NOTIFY_SOCKET", init.address().c_str(), 1);
  ::setenv("WATCHDOG_USEC", "100000", 1);
  ::setenv("WATCHDOG_PID", std::to_string(::getpid()).c_str(), 1);
  auto start = std::chrono::steady_clock::now();
  auto notifier = UpwardNotifier::from_environment(loop);
  ASSERT_NE(notifier, nullptr);
  int pings = 0;
  ASSERT_TRUE(pump_until(
      loop,
      [&] {
        while (auto datagram = init.next()) {
          EXPECT_EQ(*datagram, "WATCHDOG=1\n");
          ++pings;
        }
        return pings >= 4;
      },
      kDeadline));
  // Four pings 50 ms apart: never sooner than 200 ms.
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(200));
}

TEST_F(UpwardNotifierTest, WatchdogOfAnotherPidIsNotPinged) {
  InitSocket init(unique_abstract_name());
  ASSERT_TRUE(init.bound());
  ::setenv("NOTIFY_SOCKET", init.address().c_str(), 1);
  ::setenv("WATCHDOG_USEC", "2000", 1);  // a ping each millisecond, were it ours
  ::setenv("WATCHDOG_PID", "1", 1);
  auto notifier = UpwardNotifier::from_environment(loop);
  ASSERT_NE(notifier, nullptr);
  // A bounded look: 100 of our pings would have come by then.
  pump_until(
      loop, [] { return false; }, std::chrono::milliseconds(100));
  EXPECT_EQ(init.next(), std::nullopt);
}

TEST_F(UpwardNotifierTest, ABadWatchdogUsecIsLoggedAndNotPinged) {
  InitSocket init(unique_abstract_name());
  ASSERT_TRUE(init.bound());
  ::setenv("NOTIFY_SOCKET", init.address().c_str(), 1);
  ::setenv("WATCHDOG_USEC", "soon", 1);
  auto notifier = UpwardNotifier::from_environment(loop);
  ASSERT_NE(notifier, nullptr);
  EXPECT_EQ(warnings(), 1u);
}

}  // namespace
}  // namespace gardien
