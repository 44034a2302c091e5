// "Did you mean ...?": the closest known word to a misspelt one (config keys, gardienctl verbs
// and program names).
#pragma once

#include <cstddef>
#include <string_view>
#include <vector>

namespace gardien {

// The edit distance of `a` and `b` when it is below `limit`, else `limit`.
std::size_t edit_distance(std::string_view a, std::string_view b, std::size_t limit);

// The closest candidate within edit distance 2 (the first of equals), or empty.
std::string_view closest(std::string_view word, const std::vector<std::string_view>& candidates);

}  // namespace gardien
