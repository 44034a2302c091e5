#include "common/suggest.h"

#include <gtest/gtest.h>

namespace gardien {
namespace {

TEST(Suggest, SwappedNeighboursAreOneEdit) {
  EXPECT_EQ(edit_distance("stpo", "stop", 3), 1u);
  EXPECT_EQ(edit_distance("wbe", "web", 3), 1u);
  EXPECT_EQ(edit_distance("kitten", "sitting", 5), 3u);
  EXPECT_EQ(edit_distance("same", "same", 3), 0u);
  EXPECT_EQ(edit_distance("abc", "xyzabc", 3), 3u);  // capped at the limit
  EXPECT_EQ(edit_distance("", "ab", 3), 2u);
}

TEST(Suggest, ClosestPrefersTheNearestWithinTwoEdits) {
  EXPECT_EQ(closest("wbe", {"db", "web.0", "web", "worker"}), "web");
  EXPECT_EQ(closest("stpo", {"status", "start", "stop"}), "stop");
  EXPECT_EQ(closest("zzzzzz", {"web", "db"}), "");
}

}  // namespace
}  // namespace gardien
