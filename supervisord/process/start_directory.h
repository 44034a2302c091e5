// The directory gardien was started in: where programs without `directory` start, though the
// daemon itself leaves it.
#pragma once

#include <string>

namespace gardien {

// Records the directory gardien was started in (first thing: programs are set up before the
// daemon leaves it). Programs without `directory` start there.
void record_start_directory();
// "" before record_start_directory(), or when the directory could not be read.
const std::string& start_directory();
// Moves to `/`, so that the daemon keeps no directory (or the mount under it) busy. Call once
// every path the daemon keeps is absolute.
void leave_start_directory();

}  // namespace gardien
