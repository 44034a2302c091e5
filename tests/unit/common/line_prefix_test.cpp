#include "common/line_prefix.h"

#include <gtest/gtest.h>

#include <regex>

using namespace gardien;

TEST(LinePrefix, PadsNamesSoTheBarNeverMoves) {
  LinePrefixStyle style{7, false};
  EXPECT_EQ(format_prefixed_line(style, "web.1", "hello", nullptr), "web.1   | hello\n");
  EXPECT_EQ(format_prefixed_line(style, "db", "x", nullptr), "db      | x\n");
  EXPECT_EQ(format_prefixed_line(style, "worker.10", "long", nullptr), "worker.10 | long\n");
  EXPECT_EQ(format_prefixed_line(LinePrefixStyle{}, "a", "", nullptr), "a | \n");
}

TEST(LinePrefix, ColourWrapsNameAndBarOnly) {
  LinePrefixStyle style{4, true};
  std::string line = format_prefixed_line(style, "web", "text", nullptr);
  std::string code = std::to_string(name_colour("web"));
  EXPECT_EQ(line, std::string("\x1b[") + code + "mweb  |\x1b[0m text\n");
}

TEST(LinePrefix, ColourIsStablePerNameAndNeverRed) {
  EXPECT_EQ(name_colour("web.1"), name_colour("web.1"));
  int distinct = 0;
  int first = name_colour("p0");
  for (int i = 0; i < 50; ++i) {
    int c = name_colour(std::string("p") + std::to_string(i));
    EXPECT_NE(c, 31);
    EXPECT_NE(c, 91);
    EXPECT_TRUE((c >= 32 && c <= 36) || (c >= 92 && c <= 96)) << c;
    distinct += c != first;
  }
  EXPECT_GT(distinct, 0);
}

TEST(LinePrefix, TimestampIsRfc3339UtcWithMilliseconds) {
  auto t =
      WallClock::time_point(std::chrono::milliseconds(1714564800123));  // 2024-05-01T12:00:00.123Z
  EXPECT_EQ(format_rfc3339(t), "2024-05-01T12:00:00.123Z");
  EXPECT_EQ(format_prefixed_line(LinePrefixStyle{3, false}, "web", "up", &t),
            "2024-05-01T12:00:00.123Z web | up\n");
  std::string now = format_rfc3339(WallClock::now());
  EXPECT_EQ(now.size(), kRfc3339Length);
  EXPECT_TRUE(std::regex_match(now, std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)")))
      << now;
}
