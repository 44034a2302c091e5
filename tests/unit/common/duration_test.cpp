#include "common/duration.h"

#include <gtest/gtest.h>

using namespace gardien;
using namespace std::chrono_literals;

TEST(Duration, ParsesUnitsAndCombinations) {
  EXPECT_EQ(parse_duration("250ms"), Duration(250));
  EXPECT_EQ(parse_duration("10s"), Duration(10'000));
  EXPECT_EQ(parse_duration("1m30s"), Duration(90'000));
  EXPECT_EQ(parse_duration("2h"), Duration(7'200'000));
  EXPECT_EQ(parse_duration("1.5s"), Duration(1'500));
  EXPECT_EQ(parse_duration("0"), Duration(0));
  EXPECT_EQ(parse_duration("0s"), Duration(0));
  EXPECT_EQ(parse_duration("1h2m3s4ms"), Duration(3'723'004));
  EXPECT_EQ(parse_duration("1d"), Duration(86'400'000));
  EXPECT_EQ(parse_duration("10 s"), Duration(10'000));
  EXPECT_EQ(parse_duration("1h 30m"), Duration(5'400'000));
  EXPECT_EQ(parse_duration("1 h 30 m"), Duration(5'400'000));
}

TEST(Duration, SaysWhenADurationIsOutOfRange) {
  EXPECT_TRUE(read_duration("9999999999h").out_of_range);
  EXPECT_TRUE(read_duration("99999999999999999999999999h").out_of_range);
  EXPECT_FALSE(read_duration("1x").out_of_range);
  EXPECT_FALSE(read_duration("10s").out_of_range);
}

TEST(Duration, RejectsGarbage) {
  for (const char* bad : {"", "10", "s", "-1s", "1x", "1.s", "ten seconds", "1s ", " 1s", "1s  2s",
                          "1s 2", "1D", "99999999999999999999h"}) {
    EXPECT_EQ(parse_duration(bad), std::nullopt) << bad;
  }
}

// Found reviewing the config loader for fuzz/config_fuzz (docs/fuzzing.md): 2^50 hours passed the
// digit bound, then 2^50 * 3600000 overflowed int64 (undefined behaviour) before the total was
// checked.
TEST(Duration, HugeNumberBeforeALargeUnitIsRejectedWithoutOverflow) {
  for (const char* bad : {"1125899906842624h", "1125899906842624m", "1125899906842624s",
                          "1000000000000000h1ms", "1s1125899906842624h"}) {
    EXPECT_EQ(parse_duration(bad), std::nullopt) << bad;
  }
  EXPECT_EQ(parse_duration("1125899906842624ms"), Duration(std::int64_t{1} << 50));
}

TEST(Duration, FormatsReadably) {
  EXPECT_EQ(format_duration(0ms), "0s");
  EXPECT_EQ(format_duration(250ms), "250ms");
  EXPECT_EQ(format_duration(1500ms), "1.5s");
  EXPECT_EQ(format_duration(90s), "1m30s");
  EXPECT_EQ(format_duration(2h), "2h");
  for (auto d : {0ms, 1ms, 999ms, 1001ms, 61'001ms, 3'723'004ms}) {
    EXPECT_EQ(parse_duration(format_duration(d)), d) << format_duration(d);
  }
}
