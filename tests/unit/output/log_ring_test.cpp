#include "supervisord/output/log_ring.h"

#include <gtest/gtest.h>

#include <deque>
#include <memory>
#include <random>

using namespace gardien;
using namespace std::chrono_literals;

namespace {

WallClock::time_point at(int ms) {
  return WallClock::time_point(std::chrono::milliseconds(ms));
}

std::vector<std::string> texts(const std::vector<LogRecord>& records) {
  std::vector<std::string> out;
  for (const auto& r : records) out.push_back(r.text);
  return out;
}

}  // namespace

TEST(LogRing, TailReturnsTheLastLinesOldestFirst) {
  auto ring = LogRing::create("web.1", 1 << 20);
  for (int i = 0; i < 10; ++i)
    ring->append(at(i), i % 2 ? Stream::err : Stream::out,
                 std::string("line ") + std::to_string(i));
  EXPECT_EQ(ring->size(), 10u);
  EXPECT_EQ(texts(ring->tail(3)), (std::vector<std::string>{"line 7", "line 8", "line 9"}));
  EXPECT_EQ(ring->tail(0).size(), 10u);
  EXPECT_EQ(ring->tail(100).size(), 10u);
  auto errs = ring->tail(2, Stream::err);
  EXPECT_EQ(texts(errs), (std::vector<std::string>{"line 7", "line 9"}));
  EXPECT_EQ(errs[0].stream, Stream::err);
  EXPECT_EQ(errs[0].instance, "web.1");
  EXPECT_EQ(errs[0].time, at(7));
}

TEST(LogRing, TakesABatchWithoutTheNewlines) {
  auto ring = LogRing::create("a", 4096);
  std::vector<std::string_view> lines = {"one\n", "\n", "three\n"};
  ring->append(LineBatch{"a", Stream::out, at(5), false, lines});
  EXPECT_EQ(texts(ring->tail(0)), (std::vector<std::string>{"one", "", "three"}));
}

TEST(LogRing, StaysWithinItsByteBoundAndKeepsTheNewest) {
  const std::size_t capacity = 1000;
  auto ring = LogRing::create("a", capacity);
  std::deque<std::string> model;  // what must be kept: the newest entries that fit
  std::size_t model_bytes = 0;
  std::mt19937 rng(7);
  for (int i = 0; i < 5000; ++i) {
    std::string text(rng() % 120, static_cast<char>('a' + i % 26));
    text += std::to_string(i);
    ring->append(at(i), Stream::out, text);
    model.push_back(text);
    model_bytes += LogRing::kEntryOverhead + text.size() + 1;
    while (model_bytes > capacity) {
      model_bytes -= LogRing::kEntryOverhead + model.front().size() + 1;
      model.pop_front();
    }
    ASSERT_LE(ring->used_bytes(), capacity);
    ASSERT_EQ(ring->used_bytes(), model_bytes) << i;
  }
  EXPECT_EQ(texts(ring->tail(0)), std::vector<std::string>(model.begin(), model.end()));
}

TEST(LogRing, ALineLargerThanTheRingKeepsItsBeginning) {
  auto ring = LogRing::create("a", 100);
  ring->append(at(1), Stream::out, "small");
  ring->append(at(2), Stream::out, std::string(500, 'z'));
  auto all = ring->tail(0);
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].text, std::string(100 - LogRing::kEntryOverhead - 1, 'z'));
  EXPECT_LE(ring->used_bytes(), 100u);
}

TEST(LogRing, ShrinkingKeepsTheNewestLines) {
  auto ring = LogRing::create("a", 1 << 16);
  for (int i = 0; i < 100; ++i)
    ring->append(at(i), Stream::out, std::string("line ") + std::to_string(i));
  ring->set_capacity(200);
  EXPECT_LE(ring->used_bytes(), 200u);
  auto kept = ring->tail(0);
  ASSERT_FALSE(kept.empty());
  EXPECT_EQ(kept.back().text, "line 99");
  ring->append(at(100), Stream::out, "line 100");
  EXPECT_EQ(ring->tail(1)[0].text, "line 100");
}

TEST(LogRing, SubscribersSeeEveryNewLineUntilTheyUnsubscribe) {
  auto ring = LogRing::create("worker", 4096);
  ring->append(at(0), Stream::out, "before");
  std::vector<std::string> seen;
  {
    LogSubscription sub = ring->subscribe([&](const LogEntry& e) {
      seen.push_back(std::string(e.instance) + ":" + std::string(stream_name(e.stream)) + ":" +
                     std::string(e.text));
    });
    EXPECT_EQ(ring->subscriber_count(), 1u);
    ring->append(at(1), Stream::out, "one");
    ring->append(at(2), Stream::err, "two");
  }
  ring->append(at(3), Stream::out, "after");
  EXPECT_EQ(seen, (std::vector<std::string>{"worker:stdout:one", "worker:stderr:two"}));
  EXPECT_EQ(ring->subscriber_count(), 0u);
}

TEST(LogRing, CallbacksMaySubscribeAndUnsubscribe) {
  auto ring = LogRing::create("a", 4096);
  int first = 0, second = 0;
  LogSubscription b;
  LogSubscription a;
  a = ring->subscribe([&](const LogEntry&) {
    if (++first == 1) b = ring->subscribe([&](const LogEntry&) { ++second; });
    if (first == 2) a.reset();  // unsubscribes itself mid-dispatch
  });
  for (int i = 0; i < 4; ++i) ring->append(at(i), Stream::out, "x");
  EXPECT_EQ(first, 2);
  EXPECT_EQ(second, 3);  // subscribed during the first line: sees it and the next ones
  EXPECT_EQ(ring->subscriber_count(), 1u);
}

TEST(LogRing, SubscriptionOutlivingTheRingIsHarmless) {
  LogSubscription sub;
  auto calls = std::make_shared<int>(0);
  std::weak_ptr<LogRing> gone;
  {
    auto ring = LogRing::create("a", 4096);
    gone = ring;
    sub = ring->subscribe([calls](const LogEntry&) { ++*calls; });
    ring->append(at(1), Stream::out, "seen");
    EXPECT_EQ(*calls, 1);
  }
  // The subscription keeps neither the ring nor its subscriber alive.
  EXPECT_TRUE(gone.expired());
  EXPECT_EQ(calls.use_count(), 1);
  sub.reset();
  sub.reset();
  // The same handle then serves a new ring like a fresh one.
  auto ring = LogRing::create("b", 4096);
  sub = ring->subscribe([calls](const LogEntry&) { ++*calls; });
  ring->append(at(2), Stream::out, "seen too");
  EXPECT_EQ(*calls, 2);
  EXPECT_EQ(ring->subscriber_count(), 1u);
  sub.reset();
  EXPECT_EQ(ring->subscriber_count(), 0u);
}

TEST(LogRing, MergedTailsAreInTimeOrder) {
  auto a = LogRing::create("a", 4096);
  auto b = LogRing::create("b", 4096);
  a->append(at(1), Stream::out, "a1");
  b->append(at(2), Stream::out, "b2");
  a->append(at(3), Stream::out, "a3");
  b->append(at(4), Stream::out, "b4");
  auto merged = merge_tails({a, b}, 3);
  EXPECT_EQ(texts(merged), (std::vector<std::string>{"b2", "a3", "b4"}));
  EXPECT_EQ(merged[1].instance, "a");
  EXPECT_EQ(merge_tails({a, b}, 0).size(), 4u);
}

TEST(LogRing, EntriesEndingExactlyAtTheBufferEndSurviveGrowth) {
  // 16384-byte first allocation: 128 groups of 16 + 111 + 1 bytes fill it exactly.
  auto ring = LogRing::create("a", 1 << 20);
  std::vector<std::string> all;
  for (int i = 0; i < 300; ++i) {
    std::string text(111, static_cast<char>('a' + i % 26));
    ring->append(at(i), Stream::out, text);
    all.push_back(text);
  }
  EXPECT_EQ(texts(ring->tail(0)), all);
}

TEST(LogRing, ABatchIsKeptInGroupsAndTailCutsInsideThem) {
  auto ring = LogRing::create("a", 1 << 20);
  std::vector<std::string> owned;
  for (int i = 0; i < 1000; ++i)
    owned.push_back(std::string("l") + std::to_string(1000 + i) + "\n");  // 6 bytes
  std::vector<std::string_view> views(owned.begin(), owned.end());
  ring->append(LineBatch{"a", Stream::err, at(9), false, views});
  ring->append(at(10), Stream::out, "other");
  EXPECT_EQ(ring->size(), 1001u);
  // 6000 bytes in groups of at most 4096: two groups, then one for "other".
  EXPECT_EQ(ring->used_bytes(), 6000u + 2 * LogRing::kEntryOverhead + 6 + LogRing::kEntryOverhead);
  EXPECT_EQ(texts(ring->tail(3)), (std::vector<std::string>{"l1998", "l1999", "other"}));
  auto errs = ring->tail(700, Stream::err);
  ASSERT_EQ(errs.size(), 700u);
  EXPECT_EQ(errs.front().text, "l1300");
  EXPECT_EQ(errs.back().text, "l1999");
  EXPECT_EQ(errs.back().time, at(9));
  ring->set_capacity(3000);
  EXPECT_LE(ring->used_bytes(), 3000u);
  EXPECT_EQ(ring->tail(1)[0].text, "other");
  EXPECT_EQ(ring->tail(2)[0].text, "l1999");
}

TEST(LogRing, ChunksOfManyLinesKeepWhatOneLinePerViewKeeps) {
  // The reader hands runs of whole lines; the reference gets every line as a view of its own.
  for (std::size_t capacity : {std::size_t(100), std::size_t(3000), std::size_t(50000)}) {
    auto chunked = LogRing::create("a", capacity);
    auto reference = LogRing::create("a", capacity);
    std::mt19937 rng(static_cast<unsigned>(capacity));
    std::vector<std::string> all;
    for (int batch = 0; batch < 300; ++batch) {
      std::string data;
      std::vector<std::string> owned;
      for (int n = static_cast<int>(rng() % 60); n >= 0; --n) {
        std::size_t len = rng() % 10 == 0 ? rng() % 9000 : rng() % 150;
        std::string line(len, static_cast<char>('a' + all.size() % 26));
        line += std::to_string(all.size());
        all.push_back(line);
        owned.push_back(line + "\n");
        data += owned.back();
      }
      // Cut the run at random line ends into a few chunks.
      std::vector<std::string_view> chunks;
      std::string_view rest = data;
      while (!rest.empty()) {
        std::size_t at = rest.find('\n', rng() % rest.size()) + 1;
        chunks.push_back(rest.substr(0, at));
        rest.remove_prefix(at);
      }
      std::vector<std::string_view> views(owned.begin(), owned.end());
      chunked->append(LineBatch{"a", Stream::out, at(batch), false, chunks});
      reference->append(LineBatch{"a", Stream::out, at(batch), false, views});
      ASSERT_EQ(chunked->used_bytes(), reference->used_bytes()) << capacity << " " << batch;
      ASSERT_LE(chunked->used_bytes(), capacity);
    }
    auto kept = chunked->tail(0);
    ASSERT_EQ(kept, reference->tail(0)) << capacity;
    EXPECT_EQ(chunked->size(), kept.size());
    ASSERT_FALSE(kept.empty());
    if (capacity > 10000) {  // no line had to be cut: the newest lines, whole
      std::vector<std::string> newest(all.end() - static_cast<std::ptrdiff_t>(kept.size()),
                                      all.end());
      EXPECT_EQ(texts(kept), newest);
      EXPECT_EQ(texts(chunked->tail(5)), std::vector<std::string>(newest.end() - 5, newest.end()));
    }
  }
}

// Reading in pieces: a cursor survives appends, growth and a group split across pieces; lines
// evicted under it are skipped, not read twice or out of order.
TEST(LogRing, CursorsReadInPiecesAcrossAppendsAndEvictions) {
  auto ring = LogRing::create("a", 4096);
  for (int i = 0; i < 10; ++i) ring->append(at(i), Stream::out, "line " + std::to_string(i));
  std::vector<LogCursor> start = LogRing::tail_cursors({ring}, 4, std::nullopt);
  LogCursor cursor = start[0];
  EXPECT_EQ(texts(ring->read(cursor, ring->end(), 1)), (std::vector<std::string>{"line 6"}));
  ring->append(at(10), Stream::err, "line 10");
  EXPECT_EQ(texts(ring->read(cursor, ring->end(), 1 << 20, Stream::out)),
            (std::vector<std::string>{"line 7", "line 8", "line 9"}));
  EXPECT_TRUE(ring->read(cursor, ring->end(), 1 << 20).empty());  // line 10 was passed over

  // Lines of one group read across pieces.
  auto grouped = LogRing::create("g", 1 << 20);
  std::string chunk = "x1\nx2\nx3\n";
  std::string_view view(chunk);
  grouped->append(LineBatch{"g", Stream::out, at(1), false, std::span(&view, 1)});
  LogCursor g = grouped->begin();
  EXPECT_EQ(texts(grouped->read(g, grouped->end(), 1)), (std::vector<std::string>{"x1"}));
  EXPECT_EQ(texts(grouped->read(g, grouped->end(), 1)), (std::vector<std::string>{"x2"}));
  EXPECT_EQ(texts(grouped->read(g, grouped->end(), 9)), (std::vector<std::string>{"x3"}));

  // Evicted under the cursor: it moves to the oldest line kept.
  LogCursor old = ring->begin();
  for (int i = 100; i < 400; ++i) ring->append(at(i), Stream::out, "line " + std::to_string(i));
  std::vector<LogRecord> rest = ring->read(old, ring->end(), 1 << 20);
  ASSERT_FALSE(rest.empty());
  EXPECT_EQ(rest.back().text, "line 399");
  EXPECT_NE(rest.front().text, "line 0");
  for (std::size_t i = 1; i < rest.size(); ++i) EXPECT_LT(rest[i - 1].time, rest[i].time);

  // A cursor taken before the ring grew still reads the right lines.
  auto growing = LogRing::create("grow", 1 << 20);
  growing->append(at(1), Stream::out, "first");
  LogCursor after_first = LogRing::tail_cursors({growing}, 0, std::nullopt)[0];
  for (int i = 0; i < 2000; ++i) growing->append(at(2 + i), Stream::out, std::string(40, 'y'));
  growing->append(at(5000), Stream::out, "last");
  std::vector<LogRecord> all = growing->read(after_first, growing->end(), 1 << 30);
  ASSERT_EQ(all.size(), 2001u);
  EXPECT_EQ(all.back().text, "last");
}
