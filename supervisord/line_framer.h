// Bytes from a program's pipe -> complete lines. A partial line waits for its end; a line longer
// than kMaxLine is cut into kMaxLine pieces (each shown as a line of its own, never dropped); at
// EOF the last partial line is flushed.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace gardien {

class LineFramer {
 public:
  static constexpr std::size_t kMaxLine = 64 * 1024;

  // Replaces `lines` with the lines `data` completes, each ending with '\n'. The views point into
  // `data` or into this framer and stay valid until the next feed()/finish().
  void feed(std::string_view data, std::vector<std::string_view>& lines);
  // At EOF: replaces `lines` with the pending partial line, if any, given a '\n'.
  void finish(std::vector<std::string_view>& lines);
  // Bytes of the line still waiting for its end.
  std::size_t pending() const noexcept { return carry_.size(); }

 private:
  std::string carry_;    // the unfinished line, at most kMaxLine bytes
  std::string scratch_;  // lines that need a copy (joined with carry_, cut, given a '\n')
};

}  // namespace gardien
