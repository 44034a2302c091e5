#include "supervisord/line_framer.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

using namespace gardien;

namespace {

constexpr std::size_t kMax = LineFramer::kMaxLine;

// Feeds `data` in pieces of `chunk` bytes and returns every line (with its '\n') as a copy.
std::vector<std::string> frame(const std::string& data, std::size_t chunk, bool eof = true) {
  LineFramer framer;
  std::vector<std::string_view> lines;
  std::vector<std::string> all;
  for (std::size_t off = 0; off < data.size(); off += chunk) {
    framer.feed(std::string_view(data).substr(off, chunk), lines);
    all.insert(all.end(), lines.begin(), lines.end());
  }
  if (eof) {
    framer.finish(lines);
    all.insert(all.end(), lines.begin(), lines.end());
  }
  return all;
}

}  // namespace

TEST(LineFramer, LineSplitAcrossManyWritesArrivesWhole) {
  LineFramer framer;
  std::vector<std::string_view> lines;
  std::vector<std::string> got;
  for (std::string_view piece : {"hel", "lo w", "", "orld\nsec", "o", "nd\n"}) {
    framer.feed(piece, lines);
    got.insert(got.end(), lines.begin(), lines.end());
  }
  EXPECT_EQ(got, (std::vector<std::string>{"hello world\n", "second\n"}));
  EXPECT_EQ(framer.pending(), 0u);
}

TEST(LineFramer, OneByteAtATime) {
  std::string text = "first line\n\nthird\n";
  EXPECT_EQ(frame(text, 1), (std::vector<std::string>{"first line\n", "\n", "third\n"}));
}

TEST(LineFramer, WholeLinesAreViewsIntoTheInputNotCopies) {
  std::string data = "a\nbb\nccc\n";
  LineFramer framer;
  std::vector<std::string_view> lines;
  framer.feed(data, lines);
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0].data(), data.data());
  EXPECT_EQ(lines[1].data(), data.data() + 2);
  EXPECT_EQ(lines[2], "ccc\n");
}

TEST(LineFramer, PartialLineWaitsForItsEnd) {
  LineFramer framer;
  std::vector<std::string_view> lines;
  framer.feed("no newline yet", lines);
  EXPECT_TRUE(lines.empty());
  EXPECT_EQ(framer.pending(), 14u);
  framer.feed(", now\n", lines);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0], "no newline yet, now\n");
}

TEST(LineFramer, FinalPartialLineIsFlushedAtEof) {
  EXPECT_EQ(frame("a\nlast words", 4), (std::vector<std::string>{"a\n", "last words\n"}));
  LineFramer framer;
  std::vector<std::string_view> lines;
  framer.finish(lines);
  EXPECT_TRUE(lines.empty());  // nothing pending: nothing invented
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
  std::vector<std::string_view> lines;
  std::vector<std::string> got;
  for (std::size_t off = 0; off < data.size();) {
    std::size_t n = 1 + rng() % 100000;
    framer.feed(std::string_view(data).substr(off, n), lines);
    got.insert(got.end(), lines.begin(), lines.end());
    off += n;
  }
  framer.finish(lines);
  got.insert(got.end(), lines.begin(), lines.end());
  EXPECT_EQ(got, expected);
}
