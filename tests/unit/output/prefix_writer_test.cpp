#include "supervisord/output/prefix_writer.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <regex>

#include "output/output_test_util.h"
#include "supervisord/loop/log.h"
#include "supervisord/output/output_hub.h"

using namespace gardien;
using namespace gardien::testing;

namespace {

struct CountingProducer : Producer {
  int pauses = 0;
  int resumes = 0;
  bool paused = false;
  void pause() override {
    ++pauses;
    paused = true;
  }
  void resume() override {
    ++resumes;
    paused = false;
  }
};

void write_lines(LineSink& sink, std::string_view instance, const std::vector<std::string>& texts,
                 bool timestamps = false, Stream stream = Stream::out) {
  std::vector<std::string> owned;
  for (const auto& t : texts) owned.push_back(t + "\n");
  std::vector<std::string_view> views(owned.begin(), owned.end());
  sink.write(LineBatch{instance, stream, WallClock::now(), timestamps, views});
}

OutputHub::Settings hub_settings(int out, int err) {
  OutputHub::Settings s;
  s.stdout_fd = out;
  s.stderr_fd = err;
  s.route_daemon_log = false;
  return s;
}

}  // namespace

TEST(QueuedWriter, TargetForAPipeIsNonBlockingWithoutTouchingTheOriginal) {
  FdPair p = test_pipe();
  auto target = QueuedWriter::duplicate_for_writing(p.write.get());
  ASSERT_TRUE(target.fd);
  EXPECT_EQ(target.mode, QueuedWriter::Mode::nonblocking);
  EXPECT_NE(::fcntl(target.fd.get(), F_GETFL) & O_NONBLOCK, 0);
  EXPECT_EQ(::fcntl(p.write.get(), F_GETFL) & O_NONBLOCK,
            0);  // children inheriting fd 1 unaffected
  EXPECT_NE(::fcntl(target.fd.get(), F_GETFD) & FD_CLOEXEC, 0);
  ASSERT_EQ(::write(target.fd.get(), "x\n", 2), 2);
  std::string got;
  read_available(p.read.get(), got);
  EXPECT_EQ(got, "x\n");
}

TEST(QueuedWriter, TargetKindFollowsWhatTheFdIs) {
  TempDir dir;
  Fd file(::open((dir / "f").c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600));
  EXPECT_EQ(QueuedWriter::duplicate_for_writing(file.get()).mode, QueuedWriter::Mode::blocking);
  FdPair sock;
  ASSERT_TRUE(make_socketpair(sock));
  auto s = QueuedWriter::duplicate_for_writing(sock.write.get());
  ASSERT_TRUE(s.fd);
  EXPECT_EQ(s.mode, QueuedWriter::Mode::send_dontwait);
  EXPECT_EQ(::fcntl(sock.write.get(), F_GETFL) & O_NONBLOCK, 0);
  EXPECT_FALSE(QueuedWriter::duplicate_for_writing(987).fd);  // not open
}

TEST(PrefixWriter, FormatsAndAlignsWithoutColourOnAPipe) {
  EventLoop loop;
  FdPair out = test_pipe();
  FdPair err = test_pipe();
  OutputHub hub(loop, hub_settings(out.write.get(), err.write.get()));
  hub.set_name_width(OutputHub::name_width({"web.1", "db", "worker.10"}));
  write_lines(hub.prefix_stdout(), "web.1", {"hello", "world"});
  write_lines(hub.prefix_stdout(), "db", {"ready"});
  write_lines(hub.prefix_stdout(), "worker.10", {""});
  write_lines(hub.prefix_stderr(), "db", {"oops"}, false, Stream::err);
  std::string got, got_err;
  ASSERT_TRUE(run_until(loop, [&] {
    read_available(out.read.get(), got);
    read_available(err.read.get(), got_err);
    return std::count(got.begin(), got.end(), '\n') == 4 && !got_err.empty();
  }));
  EXPECT_EQ(got,
            "web.1     | hello\n"
            "web.1     | world\n"
            "db        | ready\n"
            "worker.10 | \n");
  EXPECT_EQ(got_err, "db        | oops\n");
  EXPECT_EQ(got.find('\x1b'), std::string::npos);
}

TEST(PrefixWriter, EveryLineOfALargeChunkGetsItsPrefix) {
  TempDir dir;
  std::string path = dir / "out";
  Fd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600));
  ASSERT_TRUE(fd);
  EventLoop loop;
  auto queue = std::make_shared<QueuedWriter>(loop, QueuedWriter::Limits{});
  queue->set_target(QueuedWriter::duplicate_for_writing(fd.get()));
  PrefixWriter sink(queue, false);
  sink.set_name_width(4);
  // More than the writer's buffer in one chunk, and a line longer than it.
  std::string chunk, expected;
  for (int i = 0; i < 5000; ++i) {
    std::string line =
        "line " + std::to_string(i) + std::string(static_cast<std::size_t>(i % 90), '.');
    if (i == 4000) line = std::string(LineFramer::kMaxLine, 'L');  // the longest
    chunk += line + "\n";
    expected += "ab   | " + line + "\n";
  }
  std::string_view view = chunk;
  sink.write(LineBatch{"ab", Stream::out, WallClock::now(), false, std::span(&view, 1)});
  EXPECT_EQ(read_file(path), expected);
}

TEST(PrefixWriter, ColoursOnATerminal) {
  int master = ::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (master < 0 || ::grantpt(master) != 0 || ::unlockpt(master) != 0) {
    if (master >= 0) ::close(master);
    GTEST_SKIP() << "no pseudo-terminal here";
  }
  Fd m(master);
  Fd slave(::open(::ptsname(master), O_RDWR | O_NOCTTY | O_CLOEXEC));
  ASSERT_TRUE(slave);
  ::fcntl(master, F_SETFL, ::fcntl(master, F_GETFL) | O_NONBLOCK);
  FdPair err = test_pipe();
  EventLoop loop;
  OutputHub hub(loop, hub_settings(slave.get(), err.write.get()));
  EXPECT_TRUE(hub.prefix_stdout().style().colour);
  EXPECT_FALSE(hub.prefix_stderr().style().colour);
  write_lines(hub.prefix_stdout(), "web", {"on a tty"});
  std::string got;
  ASSERT_TRUE(run_until(loop, [&] {
    read_available(master, got);
    return got.find("on a tty") != std::string::npos;
  }));
  std::string code = std::to_string(name_colour("web"));
  EXPECT_NE(got.find(std::string("\x1b[") + code + "mweb |\x1b[0m on a tty"), std::string::npos)
      << got;
}

TEST(PrefixWriter, TimestampsComeFirst) {
  EventLoop loop;
  FdPair out = test_pipe();
  OutputHub hub(loop, hub_settings(out.write.get(), out.write.get()));
  write_lines(hub.prefix_stdout(), "web", {"stamped"}, true);
  write_lines(hub.prefix_stdout(), "web", {"plain"}, false);
  std::string got;
  ASSERT_TRUE(run_until(loop, [&] {
    read_available(out.read.get(), got);
    return std::count(got.begin(), got.end(), '\n') == 2;
  }));
  EXPECT_TRUE(std::regex_match(
      got, std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z web \| stamped\nweb \| plain\n)")))
      << got;
}

TEST(PrefixWriter, StdoutAndStderrOnTheSameFileShareOneQueue) {
  EventLoop loop;
  FdPair out = test_pipe();
  int dup = ::fcntl(out.write.get(), F_DUPFD_CLOEXEC, 3);
  Fd second(dup);
  OutputHub hub(loop, hub_settings(out.write.get(), second.get()));
  EXPECT_EQ(&hub.prefix_stdout().queue(), &hub.prefix_stderr().queue());
  FdPair other = test_pipe();
  OutputHub separate(loop, hub_settings(out.write.get(), other.write.get()));
  EXPECT_NE(&separate.prefix_stdout().queue(), &separate.prefix_stderr().queue());
}

TEST(PrefixWriter, StalledReaderPausesProducersThenNotOneLineIsMissing) {
  EventLoop loop;
  FdPair out = test_pipe(4096);
  OutputHub::Settings settings = hub_settings(out.write.get(), out.write.get());
  settings.prefix_limits.high_water = 16 * 1024;
  settings.prefix_limits.low_water = 4 * 1024;
  OutputHub hub(loop, settings);
  CountingProducer producer;
  hub.prefix_stdout().attach(producer);
  const int kLines = 2000;
  int sent = 0;
  // Like a reader would: keep producing until told to pause.
  while (!producer.paused && sent < kLines) {
    write_lines(hub.prefix_stdout(), "p", {std::string("line ") + std::to_string(sent++)});
  }
  ASSERT_TRUE(producer.paused);
  EXPECT_LE(hub.prefix_stdout().queue().queued(), settings.prefix_limits.high_water + 100);
  // The loop is not blocked while the reader stalls: a timer still fires.
  bool fired = false;
  Timer timer(loop, [&] { fired = true; });
  timer.arm(Duration(10));
  ASSERT_TRUE(run_until(loop, [&] { return fired; }));
  EXPECT_TRUE(producer.paused);

  std::string got;
  ASSERT_TRUE(run_until(loop, [&] {
    read_available(out.read.get(), got);
    while (!producer.paused && sent < kLines)
      write_lines(hub.prefix_stdout(), "p", {std::string("line ") + std::to_string(sent++)});
    return sent == kLines && std::count(got.begin(), got.end(), '\n') == kLines;
  }));
  auto lines = split_lines(got);
  ASSERT_EQ(lines.size(), static_cast<std::size_t>(kLines));
  for (int i = 0; i < kLines; ++i)
    ASSERT_EQ(lines[i], std::string("p | line ") + std::to_string(i));
  EXPECT_GE(producer.pauses, 1);
  EXPECT_EQ(producer.resumes, producer.pauses);
  EXPECT_EQ(hub.prefix_stdout().queue().dropped_lines(), 0u);
  hub.prefix_stdout().detach(producer);
}

TEST(PrefixWriter, AGoneReaderIsReportedAndNothingBlocksOrGrows) {
  IgnoreSigpipe ignore;
  EventLoop loop;
  FdPair out = test_pipe();
  OutputHub::Settings settings = hub_settings(out.write.get(), out.write.get());
  settings.prefix_limits.failing_limit = 8 * 1024;
  OutputHub hub(loop, settings);
  out.read.reset();
  CountingProducer producer;
  hub.prefix_stdout().attach(producer);
  for (int i = 0; i < 5000; ++i)
    write_lines(hub.prefix_stdout(), "p", {std::string("line ") + std::to_string(i)});
  EXPECT_EQ(hub.prefix_stdout().problem(), "Broken pipe");
  EXPECT_EQ(hub.problems(), "stdout: Broken pipe");
  EXPECT_LE(hub.prefix_stdout().queue().queued(), settings.prefix_limits.failing_limit);
  EXPECT_GT(hub.prefix_stdout().queue().dropped_lines(), 4000u);
  EXPECT_FALSE(producer.paused);  // failing is not congestion: the programs keep running
  hub.prefix_stdout().detach(producer);
}

TEST(PrefixWriter, DaemonLogGoesThroughTheStderrQueue) {
  EventLoop loop;
  FdPair out = test_pipe();
  FdPair err = test_pipe();
  std::string got;
  {
    OutputHub::Settings settings = hub_settings(out.write.get(), err.write.get());
    settings.route_daemon_log = true;
    OutputHub hub(loop, settings);
    log::info("through the queue", {{"k", "v"}});
    ASSERT_TRUE(run_until(loop, [&] {
      read_available(err.read.get(), got);
      return got.find('\n') != std::string::npos;
    }));
  }
  EXPECT_NE(got.find("info: through the queue k=v\n"), std::string::npos) << got;
}

// Every way of writing to a shared fd delivers everything, in order, to a slow reader.
class QueuedWriterModes : public ::testing::TestWithParam<QueuedWriter::Mode> {};

TEST_P(QueuedWriterModes, DeliversEverythingInOrderToASlowReader) {
  EventLoop loop;
  FdPair link;
  if (GetParam() == QueuedWriter::Mode::send_dontwait) {
    ASSERT_TRUE(make_socketpair(link));
    ::fcntl(link.read.get(), F_SETFL, O_NONBLOCK);
  } else {
    link = test_pipe(4096);
  }
  QueuedWriter::Limits limits;
  QueuedWriter writer(loop, limits);
  if (GetParam() == QueuedWriter::Mode::nonblocking) {
    writer.set_target(QueuedWriter::duplicate_for_writing(link.write.get()));
  } else {
    // A dup shares the blocking description: this mode must never block on it.
    writer.set_target({Fd(::fcntl(link.write.get(), F_DUPFD_CLOEXEC, 3)), GetParam()});
  }
  ASSERT_EQ(writer.mode(), GetParam());
  std::string content = numbered_lines("q", 5000, 40);
  for (std::size_t off = 0; off < content.size(); off += 4100) {
    writer.write(std::string_view(content).substr(off, 4100));  // returns at once, reader or not
  }
  std::string got;
  ASSERT_TRUE(run_until(loop, [&] {
    read_available(link.read.get(), got);
    return got.size() == content.size();
  }));
  EXPECT_EQ(got, content);
  EXPECT_EQ(writer.queued(), 0u);
  EXPECT_EQ(writer.error(), 0);
}

INSTANTIATE_TEST_SUITE_P(AllModes, QueuedWriterModes,
                         ::testing::Values(QueuedWriter::Mode::nonblocking,
                                           QueuedWriter::Mode::poll_guarded,
                                           QueuedWriter::Mode::send_dontwait),
                         [](const auto& info) {
                           switch (info.param) {
                             case QueuedWriter::Mode::nonblocking:
                               return std::string("nonblocking");
                             case QueuedWriter::Mode::poll_guarded:
                               return std::string("poll_guarded");
                             case QueuedWriter::Mode::send_dontwait:
                               return std::string("send_dontwait");
                             case QueuedWriter::Mode::blocking:
                               return std::string("blocking");
                           }
                           return std::string("unknown");
                         });
