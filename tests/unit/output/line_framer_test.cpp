#include "supervisord/output/line_framer.h"

#include "supervisord/output/line_sink.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

using namespace gardien;

namespace {

constexpr std::size_t kMax = LineFramer::kMaxLine;

// Appends the lines of `chunks` (runs of whole lines) to `all`, checking they are whole lines.
void add_lines(std::vector<std::string>& all, const std::vector<std::string_view>& chunks) {
  for (std::string_view c : chunks) {
    ASSERT_FALSE(c.empty());
    ASSERT_EQ(c.back(), '\n');
  }
  for_each_line(chunks, [&](std::string_view line) { all.emplace_back(line); });
}

// Feeds `data` in pieces of `chunk` bytes and returns every line (with its '\n') as a copy.
std::vector<std::string> frame(const std::string& data, std::size_t chunk, bool eof = true) {
  LineFramer framer;
  std::vector<std::string_view> chunks;
  std::vector<std::string> all;
  for (std::size_t off = 0; off < data.size(); off += chunk) {
    framer.feed(std::string_view(data).substr(off, chunk), chunks);
    add_lines(all, chunks);
  }
  if (eof) {
    framer.finish(chunks);
    add_lines(all, chunks);
  }
  return all;
}

}  // namespace

TEST(LineFramer, LineSplitAcrossManyWritesArrivesWhole) {
  LineFramer framer;
  std::vector<std::string_view> chunks;
  std::vector<std::string> got;
  for (std::string_view piece : {"hel", "lo w", "", "orld\nsec", "o", "nd\n"}) {
    framer.feed(piece, chunks);
    add_lines(got, chunks);
  }
  EXPECT_EQ(got, (std::vector<std::string>{"hello world\n", "second\n"}));
  EXPECT_EQ(framer.pending(), 0u);
}

TEST(LineFramer, OneByteAtATime) {
  std::string text = "first line\n\nthird\n";
  EXPECT_EQ(frame(text, 1), (std::vector<std::string>{"first line\n", "\n", "third\n"}));
}

TEST(LineFramer, WholeLinesAreOneChunkViewingTheInputNotCopies) {
  std::string data = "a\nbb\nccc\npartial";
  LineFramer framer;
  std::vector<std::string_view> chunks;
  framer.feed(data, chunks);
  ASSERT_EQ(chunks.size(), 1u);
  EXPECT_EQ(chunks[0].data(), data.data());
  EXPECT_EQ(chunks[0], "a\nbb\nccc\n");
  // The carried line is a copy; the whole lines after it are again a view.
  std::string more = " end\nx\ny\nz";
  framer.feed(more, chunks);
  ASSERT_EQ(chunks.size(), 2u);
  EXPECT_EQ(chunks[0], "partial end\n");
  EXPECT_EQ(chunks[1].data(), more.data() + 5);
  EXPECT_EQ(chunks[1], "x\ny\n");
}

TEST(LineFramer, ManyShortLinesBeyondTheLimitStayOneChunk) {
  std::string data;
  while (data.size() < 5 * kMax) data += std::string(99, 'l') + "\n";
  LineFramer framer;
  std::vector<std::string_view> chunks;
  framer.feed(data, chunks);
  ASSERT_EQ(chunks.size(), 1u);
  EXPECT_EQ(chunks[0].size(), data.size());
  EXPECT_EQ(framer.pending(), 0u);
}

TEST(LineFramer, CountsLines) {
  EXPECT_EQ(count_lines(""), 0u);
  EXPECT_EQ(count_lines("\n"), 1u);
  std::string text;
  for (int i = 0; i < 5000; ++i) text += std::string(static_cast<std::size_t>(i % 37), 'x') + "\n";
  EXPECT_EQ(count_lines(text), 5000u);
  EXPECT_EQ(count_lines(std::string(100000, '\n')), 100000u);  // lane counters never overflow
  std::string mixed(40, 'x');
  mixed[3] = mixed[20] = mixed[39] = '\n';  // in the 16-byte blocks and in the rest
  EXPECT_EQ(count_lines(mixed), 3u);
  EXPECT_EQ(count_lines(std::string_view(mixed).substr(4, 16)), 0u);
}

TEST(LineFramer, PartialLineWaitsForItsEnd) {
  LineFramer framer;
  std::vector<std::string_view> chunks;
  framer.feed("no newline yet", chunks);
  EXPECT_TRUE(chunks.empty());
  EXPECT_EQ(framer.pending(), 14u);
  framer.feed(", now\n", chunks);
  ASSERT_EQ(chunks.size(), 1u);
  EXPECT_EQ(chunks[0], "no newline yet, now\n");
}

TEST(LineFramer, FinalPartialLineIsFlushedAtEof) {
  EXPECT_EQ(frame("a\nlast words", 4), (std::vector<std::string>{"a\n", "last words\n"}));
  LineFramer framer;
  std::vector<std::string_view> chunks;
  framer.finish(chunks);
  EXPECT_TRUE(chunks.empty());  // nothing pending: nothing invented
}

TEST(LineFramer, OneMegabyteLineArrivesSplitIntoPiecesAndComplete) {
  std::string line;
  for (int i = 0; line.size() < (1u << 20); ++i) line += std::to_string(i) + ",";
  line.resize(1u << 20);
  for (std::size_t chunk : {std::size_t(7000), std::size_t(65536), std::size_t(1) << 21}) {
    auto pieces = frame(line + "\nafter\n", chunk);
    ASSERT_EQ(pieces.size(), 17u) << chunk;  // 16 pieces of exactly 64 KiB, then "after"
    std::string joined;
    for (std::size_t i = 0; i < 16; ++i) {
      ASSERT_EQ(pieces[i].size(), kMax + 1) << chunk;
      ASSERT_EQ(pieces[i].back(), '\n');
      joined += pieces[i].substr(0, kMax);
    }
    EXPECT_EQ(joined, line) << chunk;
    EXPECT_EQ(pieces[16], "after\n");
  }
}

TEST(LineFramer, LineOfExactlyTheLimitIsOneLineWhereverTheReadsEnd) {
  std::string exact(kMax, 'x');
  for (std::size_t chunk : {kMax, kMax + 1, std::size_t(1000), std::size_t(3)}) {
    auto lines = frame(exact + "\nnext\n", chunk);
    ASSERT_EQ(lines.size(), 2u) << chunk;
    EXPECT_EQ(lines[0], exact + "\n");
    EXPECT_EQ(lines[1], "next\n");
  }
  auto over = frame(std::string(kMax + 1, 'y') + "\n", 5000);
  ASSERT_EQ(over.size(), 2u);
  EXPECT_EQ(over[0].size(), kMax + 1);
  EXPECT_EQ(over[1], "y\n");
}

TEST(LineFramer, RandomChunkingMatchesAReference) {
  std::mt19937 rng(42);
  std::string data;
  std::vector<std::string> expected;
  for (int i = 0; i < 300; ++i) {
    std::size_t len = rng() % 5 == 0 ? rng() % (3 * kMax) : rng() % 200;
    std::string text(len, static_cast<char>('a' + i % 26));
    data += text + "\n";
    if (text.empty()) expected.push_back("\n");
    for (std::size_t off = 0; off < text.size(); off += kMax)
      expected.push_back(text.substr(off, kMax) + "\n");
  }
  data += "tail";
  expected.push_back("tail\n");
  LineFramer framer;
  std::vector<std::string_view> chunks;
  std::vector<std::string> got;
  for (std::size_t off = 0; off < data.size();) {
    std::size_t n = 1 + rng() % 100000;
    framer.feed(std::string_view(data).substr(off, n), chunks);
    add_lines(got, chunks);
    off += n;
  }
  framer.finish(chunks);
  add_lines(got, chunks);
  EXPECT_EQ(got, expected);
}
