#include "supervisord/output/output_hub.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <set>

#include "output/output_test_util.h"

using namespace gardien;
using namespace gardien::testing;

namespace {

OutputSink sink(OutputSink::Kind kind, std::string path = {}) {
  OutputSink s;
  s.kind = kind;
  s.path = std::move(path);
  return s;
}
const OutputSink kPrefix = sink(OutputSink::Kind::prefix);
const OutputSink kInherit = sink(OutputSink::Kind::inherit);
const OutputSink kNull = sink(OutputSink::Kind::null);
const OutputSink kMerge = sink(OutputSink::Kind::merge);

// A hub whose "daemon stdout/stderr" are pipes the test reads.
struct Fixture {
  explicit Fixture(int out_capacity = 0, std::size_t high_water = 0)
      : out(test_pipe(out_capacity)), err(test_pipe()) {
    OutputHub::Settings s;
    s.stdout_fd = out.write.get();
    s.stderr_fd = err.write.get();
    s.route_daemon_log = false;
    if (high_water) {
      s.prefix_limits.high_water = high_water;
      s.prefix_limits.low_water = high_water / 4;
    }
    hub = std::make_unique<OutputHub>(loop, s);
  }
  // Everything the daemon has written so far, read without blocking.
  const std::string& stdout_text() {
    std::size_t before = out_text.size();
    read_available(out.read.get(), out_text);
    out_lines += static_cast<std::size_t>(
        std::count(out_text.begin() + static_cast<std::ptrdiff_t>(before), out_text.end(), '\n'));
    return out_text;
  }
  // Complete lines on the daemon's stdout so far (counted as they arrive: no quadratic rescans).
  std::size_t stdout_lines() {
    stdout_text();
    return out_lines;
  }
  const std::string& stderr_text() {
    read_available(err.read.get(), err_text);
    return err_text;
  }
  std::unique_ptr<ProgramOutput> open(const std::string& name, const OutputSink& o,
                                      const OutputSink& e, OutputOptions options = {}) {
    auto opened = hub->open(name, o, e, options);
    EXPECT_TRUE(opened.output) << opened.error;
    return std::move(opened.output);
  }
  // Drains `po` after its program exited; true when on_drained came.
  bool drain(ProgramOutput& po, Duration max_wait = std::chrono::seconds(10)) {
    bool done = false;
    po.drain(max_wait, [&] { done = true; });
    return run_until(loop, [&] { return done; });
  }

  EventLoop loop;
  FdPair out, err;
  std::string out_text, err_text;
  std::size_t out_lines = 0;
  std::unique_ptr<OutputHub> hub;
};

std::vector<std::string> ring_texts(const std::shared_ptr<LogRing>& ring) {
  std::vector<std::string> texts;
  for (const auto& r : ring->tail(0))
    texts.push_back(std::string(stream_name(r.stream)) + ":" + r.text);
  return texts;
}

}  // namespace

TEST(OutputHub, LinesReachTheirSinksAndTheLastLineWithoutNewlineSurvivesExit) {
  Fixture f;
  auto po = f.open("web", kPrefix, kPrefix);
  ASSERT_NE(po->child_stdout(), po->child_stderr());
  pid_t pid = spawn_sh("echo out; echo err >&2; printf 'last words'", po->child_stdout(),
                       po->child_stderr());
  po->close_child_ends();
  ASSERT_GT(pid, 0);
  EXPECT_EQ(wait_exit(pid), 0);
  ASSERT_TRUE(f.drain(*po));
  EXPECT_TRUE(po->drained());
  ASSERT_TRUE(run_until(
      f.loop, [&] { return f.stdout_lines() == 2 && count_lines(f.stderr_text()) == 1; }));
  EXPECT_EQ(f.stdout_text(), "web | out\nweb | last words\n");
  EXPECT_EQ(f.stderr_text(), "web | err\n");
  auto texts = ring_texts(po->ring());
  EXPECT_EQ(std::set<std::string>(texts.begin(), texts.end()),
            (std::set<std::string>{"stdout:out", "stderr:err", "stdout:last words"}));
  EXPECT_EQ(po->problems(), "");
}

TEST(OutputHub, MergedStderrIsTheStdoutPipe) {
  Fixture f;
  auto po = f.open("job", kPrefix, kMerge);
  EXPECT_EQ(po->child_stdout(), po->child_stderr());
  pid_t pid =
      spawn_sh("echo one; echo two >&2; echo three", po->child_stdout(), po->child_stderr());
  po->close_child_ends();
  wait_exit(pid);
  ASSERT_TRUE(f.drain(*po));
  ASSERT_TRUE(run_until(f.loop, [&] { return f.stdout_lines() == 3; }));
  EXPECT_EQ(f.stdout_text(), "job | one\njob | two\njob | three\n");
  EXPECT_EQ(ring_texts(po->ring()),
            (std::vector<std::string>{"stdout:one", "stdout:two", "stdout:three"}));
}

TEST(OutputHub, InheritNeedsNoPipeAndNoRing) {
  Fixture f;
  auto po = f.open("tini", kInherit, kInherit);
  EXPECT_EQ(po->child_stdout(), STDOUT_FILENO);
  EXPECT_EQ(po->child_stderr(), STDERR_FILENO);
  EXPECT_EQ(po->ring(), nullptr);
  EXPECT_EQ(f.hub->ring("tini"), nullptr);
  ASSERT_TRUE(f.drain(*po));  // nothing to read: still answers
  auto merged = f.open("tini2", kInherit, kMerge);
  EXPECT_EQ(merged->child_stderr(), STDOUT_FILENO);
}

TEST(OutputHub, NullKeepsARingUnlessItHasNone) {
  Fixture f;
  auto po = f.open("quiet", kNull, kNull);
  ASSERT_NE(po->ring(), nullptr);
  pid_t pid = spawn_sh("echo hidden", po->child_stdout(), po->child_stderr());
  po->close_child_ends();
  wait_exit(pid);
  ASSERT_TRUE(f.drain(*po));
  EXPECT_EQ(ring_texts(po->ring()), (std::vector<std::string>{"stdout:hidden"}));
  EXPECT_EQ(f.stdout_text(), "");

  OutputOptions no_ring;
  no_ring.log_buffer_size = 0;
  auto bare = f.open("bare", kNull, kNull, no_ring);
  EXPECT_EQ(bare->ring(), nullptr);
  struct stat st;
  ASSERT_EQ(::fstat(bare->child_stdout(), &st), 0);
  EXPECT_TRUE(S_ISCHR(st.st_mode));  // /dev/null, no pipe
}

TEST(OutputHub, RingSurvivesRestartsAndAFollowerKeepsFollowing) {
  Fixture f;
  std::vector<std::string> followed;
  LogSubscription sub;
  for (int run = 1; run <= 2; ++run) {
    auto po = f.open("web.1", kPrefix, kPrefix);
    if (run == 1)
      sub = po->ring()->subscribe([&](const LogEntry& e) { followed.emplace_back(e.text); });
    EXPECT_EQ(po->ring(), f.hub->ring("web.1"));
    pid_t pid = spawn_sh("echo run " + std::to_string(run), po->child_stdout(), po->child_stderr());
    po->close_child_ends();
    wait_exit(pid);
    ASSERT_TRUE(f.drain(*po));
  }
  EXPECT_EQ(followed, (std::vector<std::string>{"run 1", "run 2"}));
  EXPECT_EQ(f.hub->ring("web.1")->size(), 2u);
  EXPECT_EQ(f.hub->rings().size(), 1u);
  f.hub->forget("web.1");
  EXPECT_EQ(f.hub->ring("web.1"), nullptr);
}

TEST(OutputHub, InstancesNamingOneFileShareItAndProblemsNameTheStream) {
  TempDir dir;
  Fixture f;
  std::string path = dir / "shared.log";
  auto a = f.open("w.0", sink(OutputSink::Kind::file, path), kPrefix);
  auto b = f.open("w.1", sink(OutputSink::Kind::file, path), kPrefix);
  pid_t pa = spawn_sh("echo from a", a->child_stdout(), a->child_stderr());
  pid_t pb = spawn_sh("echo from b", b->child_stdout(), b->child_stderr());
  a->close_child_ends();
  b->close_child_ends();
  wait_exit(pa);
  wait_exit(pb);
  ASSERT_TRUE(f.drain(*a));
  ASSERT_TRUE(f.drain(*b));
  auto lines = split_lines(read_file(path));
  EXPECT_EQ(std::set<std::string>(lines.begin(), lines.end()),
            (std::set<std::string>{"from a", "from b"}));

  auto full = f.open("full", kPrefix, sink(OutputSink::Kind::file, "/dev/full"));
  pid_t pid = spawn_sh("echo doomed >&2", full->child_stdout(), full->child_stderr());
  full->close_child_ends();
  wait_exit(pid);
  ASSERT_TRUE(f.drain(*full));
  EXPECT_EQ(full->problems(), "stderr file: No space left on device");
}

TEST(OutputHub, OneMegabyteLineArrivesSplitAndComplete) {
  TempDir dir;
  Fixture f;
  std::string path = dir / "big.log";
  auto po = f.open("big", sink(OutputSink::Kind::file, path), kPrefix);
  std::string line;
  while (line.size() < (1u << 20)) line += std::to_string(line.size()) + ";";
  line.resize(1u << 20);
  pid_t pid = fork_writer(po->child_stdout(), line + "\n", 100000);
  po->close_child_ends();
  ASSERT_TRUE(f.drain(*po));
  wait_exit(pid);
  auto pieces = split_lines(read_file(path));
  ASSERT_EQ(pieces.size(), 16u);
  std::string joined;
  for (const auto& p : pieces) {
    EXPECT_EQ(p.size(), LineFramer::kMaxLine);
    joined += p;
  }
  EXPECT_EQ(joined, line);
}

TEST(OutputHub, StalledStdoutPausesTheProgramAndOnceReadNotOneLineIsMissing) {
  Fixture f(4096, 16 * 1024);
  auto po = f.open("chatty", kPrefix, kPrefix);
  const int kLines = 20000;
  std::string content = numbered_lines("n", kLines, 63);  // 64-byte lines: 1.28 MB
  pid_t pid = fork_writer(po->child_stdout(), content, 1000);
  po->close_child_ends();
  // Nobody reads the daemon's stdout: the queue fills up and the reader stops reading.
  ASSERT_TRUE(run_until(f.loop, [&] { return f.hub->prefix_stdout().queue().congested(); }));
  // The loop stays responsive and the program is blocked on its pipe, not lost lines.
  bool fired = false;
  Timer timer(f.loop, [&] { fired = true; });
  timer.arm(Duration(20));
  ASSERT_TRUE(run_until(f.loop, [&] { return fired; }));
  EXPECT_TRUE(f.hub->prefix_stdout().queue().congested());
  int status = 0;
  EXPECT_EQ(::waitpid(pid, &status, WNOHANG), 0);
  EXPECT_LE(f.hub->prefix_stdout().queue().queued(), 16u * 1024 + 2 * OutputReader::kReadSize);

  // The reader resumes: every line arrives, in order.
  ASSERT_TRUE(run_until(f.loop, [&] { return f.stdout_lines() == kLines; }));
  EXPECT_EQ(wait_exit(pid), 0);
  ASSERT_TRUE(f.drain(*po));
  auto lines = split_lines(f.stdout_text());
  auto expected = split_lines(content);
  ASSERT_EQ(lines.size(), expected.size());
  for (std::size_t i = 0; i < lines.size(); ++i)
    ASSERT_EQ(lines[i], "chatty | " + expected[i]) << i;
  EXPECT_EQ(f.hub->prefix_stdout().queue().dropped_lines(), 0u);
}

TEST(OutputHub, TwoProgramsNeverInterleaveMidLine) {
  Fixture f(4096, 32 * 1024);
  f.hub->set_name_width(1);
  auto a = f.open("a", kPrefix, kPrefix);
  auto b = f.open("b", kPrefix, kPrefix);
  const int kLines = 3000;
  // Lines longer than PIPE_BUF, written in odd pieces: partial writes happen on both sides.
  std::string content_a = numbered_lines("A", kLines, 1000);
  std::string content_b = numbered_lines("B", kLines, 1500);
  pid_t pa = fork_writer(a->child_stdout(), content_a, 777);
  pid_t pb = fork_writer(b->child_stdout(), content_b, 1234);
  a->close_child_ends();
  b->close_child_ends();
  ASSERT_TRUE(run_until(f.loop, [&] { return f.stdout_lines() == 2 * kLines; }));
  wait_exit(pa);
  wait_exit(pb);
  auto lines = split_lines(f.stdout_text());
  auto want_a = split_lines(content_a);
  auto want_b = split_lines(content_b);
  std::size_t next_a = 0, next_b = 0;
  bool interleaved = false;
  char previous = 0;
  for (const auto& line : lines) {
    ASSERT_GE(line.size(), 4u);
    if (line[0] == 'a') {
      ASSERT_LT(next_a, want_a.size());
      ASSERT_EQ(line, "a | " + want_a[next_a++]);
    } else {
      ASSERT_LT(next_b, want_b.size());
      ASSERT_EQ(line, "b | " + want_b[next_b++]);
    }
    interleaved |= previous != 0 && previous != line[0];
    previous = line[0];
  }
  EXPECT_EQ(next_a, want_a.size());
  EXPECT_EQ(next_b, want_b.size());
  EXPECT_TRUE(interleaved);  // both ran at once: the test did test something
}

TEST(OutputHub, DrainAnswersAfterMaxWaitAndReadsOnUntilTheLastWriterIsGone) {
  Fixture f;
  auto po = f.open("leaky", kPrefix, kPrefix);
  // The background sleep inherits stdout: no EOF until it ends. Its pid is the first line.
  pid_t pid = spawn_sh("sleep 30 & echo $!; printf 'bye'", po->child_stdout(), po->child_stderr());
  po->close_child_ends();
  wait_exit(pid);
  auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(f.drain(*po, Duration(200)));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  EXPECT_FALSE(po->drained()) << "the sleep still holds the pipe";
  ASSERT_TRUE(run_until(f.loop, [&] { return f.stdout_lines() == 1; }));
  ::kill(std::stoi(split_lines(f.stdout_text())[0].substr(8)), SIGKILL);
  ASSERT_TRUE(run_until(f.loop, [&] { return po->drained(); }));
  EXPECT_EQ(split_lines(f.stdout_text())[1], "leaky | bye") << "the partial line, at EOF";
}

TEST(OutputHub, ASurvivorsLinesAfterTheDrainStillArrive) {
  Fixture f;
  auto po = f.open("late", kPrefix, kPrefix);
  int go[2];
  ASSERT_EQ(::pipe2(go, O_CLOEXEC), 0);
  Fd go_read(go[0]), go_write(go[1]);
  // The survivor waits for the test's word on fd 3, then writes a line and a half.
  pid_t pid = spawn_sh("(read x <&3; echo late; printf 'bye') &", po->child_stdout(),
                       po->child_stderr(), go[0]);
  po->close_child_ends();
  go_read.reset();
  wait_exit(pid);
  ASSERT_TRUE(f.drain(*po, Duration(100)));
  EXPECT_FALSE(po->drained());
  ASSERT_EQ(::write(go_write.get(), "\n", 1), 1);
  ASSERT_TRUE(run_until(f.loop, [&] { return po->drained(); }));
  auto lines = split_lines(f.stdout_text());
  ASSERT_EQ(lines.size(), 2u) << f.stdout_text();
  EXPECT_EQ(lines[0], "late | late");
  EXPECT_EQ(lines[1], "late | bye");
}

TEST(OutputHub, TheOutputMayBeDestroyedFromItsOwnDrainedCallback) {
  Fixture f;
  for (const OutputSink* err : {&kPrefix, &kInherit}) {
    auto po = f.open("short", kInherit, *err);
    pid_t pid = spawn_sh("echo bye >&2", po->child_stdout(), po->child_stderr());
    po->close_child_ends();
    wait_exit(pid);
    bool done = false;
    po->drain(std::chrono::seconds(10), [&] {
      po.reset();
      done = true;
    });
    ASSERT_TRUE(run_until(f.loop, [&] { return done; }));
    EXPECT_EQ(po, nullptr);
  }
}
