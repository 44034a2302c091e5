#include "supervisord/line_framer.h"

#include <cstring>

namespace gardien {

namespace {

// Appends `text` + '\n' to `scratch` (capacity reserved by the caller: no reallocation, so
// earlier views stay valid) and returns the view of the copy.
std::string_view copy_line(std::string& scratch, std::string_view head, std::string_view tail) {
  std::size_t start = scratch.size();
  scratch.append(head);
  scratch.append(tail);
  scratch.push_back('\n');
  return std::string_view(scratch).substr(start);
}

}  // namespace

void LineFramer::feed(std::string_view data, std::vector<std::string_view>& lines) {
  lines.clear();
  scratch_.clear();
  // Copies are the carry joined with its end, and cut pieces: at most every byte once, plus
  // one '\n' per copy (at most two more than the number of kMaxLine pieces in `data`).
  scratch_.reserve(carry_.size() + data.size() + data.size() / kMaxLine + 3);

  const char* p = data.data();
  const char* end = p + data.size();
  while (p < end) {
    std::size_t room = kMaxLine - carry_.size();
    auto avail = static_cast<std::size_t>(end - p);
    // room + 1: a '\n' right at the limit still ends a line of exactly kMaxLine.
    const void* nl = std::memchr(p, '\n', avail < room + 1 ? avail : room + 1);
    if (nl) {
      auto len = static_cast<std::size_t>(static_cast<const char*>(nl) - p);
      if (carry_.empty()) {
        lines.emplace_back(p, len + 1);  // entirely inside `data`: a view, no copy
      } else {
        lines.push_back(copy_line(scratch_, carry_, std::string_view(p, len)));
        carry_.clear();
      }
      p += len + 1;
    } else if (avail > room) {  // longer than kMaxLine: cut, the rest is the next line
      lines.push_back(copy_line(scratch_, carry_, std::string_view(p, room)));
      carry_.clear();
      p += room;
    } else {
      carry_.append(p, avail);
      p = end;
    }
  }
}

void LineFramer::finish(std::vector<std::string_view>& lines) {
  lines.clear();
  scratch_.clear();
  if (carry_.empty()) return;
  scratch_.reserve(carry_.size() + 1);
  lines.push_back(copy_line(scratch_, carry_, {}));
  carry_.clear();
}

}  // namespace gardien
