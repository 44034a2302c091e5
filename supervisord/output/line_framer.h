// Bytes from a program's pipe -> complete lines. A partial line waits for its end; a line longer
// than kMaxLine is cut into kMaxLine pieces (each shown as a line of its own, never dropped); at
// EOF the last partial line is flushed. Lines come in chunks (runs of whole lines, see LineBatch):
// finding them costs a backwards search per kMaxLine bytes, not a search per line.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace gardien {

class LineFramer {
 public:
  static constexpr std::size_t kMaxLine = 64 * 1024;

  // Replaces `chunks` with the lines `data` completes, in order, each ending with '\n'. Lines
  // wholly inside `data` are views into it, joined into as few chunks as possible; the others
  // (a carried line completed, a cut piece) point into this framer. All stay valid until the
  // next feed()/finish().
  void feed(std::string_view data, std::vector<std::string_view>& chunks);
  // At EOF: replaces `chunks` with the pending partial line, if any, given a '\n'.
  void finish(std::vector<std::string_view>& chunks);
  // Bytes of the line still waiting for its end.
  std::size_t pending() const noexcept { return carry_.size(); }

 private:
  std::string carry_;    // the unfinished line, at most kMaxLine bytes
  std::string scratch_;  // lines that need a copy (joined with carry_, cut, given a '\n')
};

// The number of lines ('\n's) in `text`, 16 bytes at a time.
std::size_t count_lines(std::string_view text) noexcept;

}  // namespace gardien
