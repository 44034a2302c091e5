#include "common/suggest.h"

#include <algorithm>
#include <vector>

namespace gardien {

// Swapping two neighbours counts as one edit ("stpo" is one from "stop"). Stops as soon as it
// cannot get below `limit`: suggestions compare every unknown name with every known one, and a
// full distance per pair made 2000 unknown depends-on names take minutes under the fuzz build.
std::size_t edit_distance(std::string_view a, std::string_view b, std::size_t limit) {
  std::size_t length_gap = a.size() > b.size() ? a.size() - b.size() : b.size() - a.size();
  if (length_gap >= limit) return limit;
  std::vector<std::size_t> before(b.size() + 1), previous(b.size() + 1), row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::swap(before, previous);
    std::swap(previous, row);
    row[0] = i;
    std::size_t row_min = row[0];
    for (std::size_t j = 1; j <= b.size(); ++j) {
      row[j] = std::min(
          {previous[j] + 1, row[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
        row[j] = std::min(row[j], before[j - 2] + 1);
      row_min = std::min(row_min, row[j]);
    }
    // Every later row is at least this (a swap adds one to a cell no smaller than this row's).
    if (row_min >= limit) return limit;
  }
  return std::min(row[b.size()], limit);
}

std::string_view closest(std::string_view word, const std::vector<std::string_view>& candidates) {
  std::string_view best;
  std::size_t best_distance = 3;
  for (std::string_view c : candidates) {
    std::size_t d = edit_distance(word, c, best_distance);
    if (d < best_distance) {
      best = c;
      best_distance = d;
    }
  }
  return best;
}

}  // namespace gardien
