#include "supervisord/output/line_framer.h"

#include <algorithm>
#include <cstring>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

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

// Adds a run of whole lines of the input, joined to the previous chunk when they touch.
void add_run(std::vector<std::string_view>& chunks, const char* p, std::size_t len) {
  if (!chunks.empty() && chunks.back().data() + chunks.back().size() == p) {
    chunks.back() = std::string_view(chunks.back().data(), chunks.back().size() + len);
  } else {
    chunks.emplace_back(p, len);
  }
}

}  // namespace

void LineFramer::feed(std::string_view data, std::vector<std::string_view>& chunks) {
  chunks.clear();
  scratch_.clear();
  // Copies are the carry joined with its end, and cut pieces: at most every byte once, plus
  // one '\n' per copy (at most two more than the number of kMaxLine pieces in `data`).
  scratch_.reserve(carry_.size() + data.size() + data.size() / kMaxLine + 3);

  const char* p = data.data();
  const char* end = p + data.size();
  if (!carry_.empty() && p < end) {  // first the end of the line waiting since the last read
    std::size_t room = kMaxLine - carry_.size();
    auto avail = static_cast<std::size_t>(end - p);
    // room + 1: a '\n' right at the limit still ends a line of exactly kMaxLine.
    const void* nl = std::memchr(p, '\n', avail < room + 1 ? avail : room + 1);
    if (nl) {
      auto len = static_cast<std::size_t>(static_cast<const char*>(nl) - p);
      chunks.push_back(copy_line(scratch_, carry_, std::string_view(p, len)));
      carry_.clear();
      p += len + 1;
    } else if (avail > room) {  // longer than kMaxLine: cut, the rest is the next line
      chunks.push_back(copy_line(scratch_, carry_, std::string_view(p, room)));
      carry_.clear();
      p += room;
    } else {
      carry_.append(p, avail);
      return;
    }
  }
  while (p < end) {  // at the start of a line
    auto avail = static_cast<std::size_t>(end - p);
    // The last '\n' within kMaxLine + 1 bytes ends a run in which no line is too long.
    std::size_t window = avail < kMaxLine + 1 ? avail : kMaxLine + 1;
    const void* nl = ::memrchr(p, '\n', window);
    if (nl) {
      auto len = static_cast<std::size_t>(static_cast<const char*>(nl) - p) + 1;
      add_run(chunks, p, len);
      p += len;
    } else if (avail > kMaxLine) {
      chunks.push_back(copy_line(scratch_, {}, std::string_view(p, kMaxLine)));
      p += kMaxLine;
    } else {
      carry_.assign(p, avail);
      p = end;
    }
  }
}

std::size_t count_lines(std::string_view text) noexcept {
  const char* p = text.data();
  std::size_t n = text.size();
  std::size_t count = 0;
#ifdef __SSE2__
  // Byte counters in 16 lanes, summed before any can overflow (255 rounds).
  const __m128i newline = _mm_set1_epi8('\n');
  while (n >= 16) {
    std::size_t rounds = std::min<std::size_t>(n / 16, 255);
    __m128i acc = _mm_setzero_si128();
    for (std::size_t i = 0; i < rounds; ++i, p += 16) {
      __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
      acc = _mm_sub_epi8(acc, _mm_cmpeq_epi8(bytes, newline));
    }
    __m128i sums = _mm_sad_epu8(acc, _mm_setzero_si128());
    count += static_cast<std::size_t>(_mm_cvtsi128_si64(sums)) +
             static_cast<std::size_t>(_mm_cvtsi128_si64(_mm_unpackhi_epi64(sums, sums)));
    n -= rounds * 16;
  }
#endif
  for (; n > 0; --n) count += *p++ == '\n';
  return count;
}

void LineFramer::finish(std::vector<std::string_view>& chunks) {
  chunks.clear();
  scratch_.clear();
  if (carry_.empty()) return;
  scratch_.reserve(carry_.size() + 1);
  chunks.push_back(copy_line(scratch_, carry_, {}));
  carry_.clear();
}

}  // namespace gardien
