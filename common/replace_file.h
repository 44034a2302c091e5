// Replaces a file's content whole: written to PATH.new, then renamed over PATH, so that a reader
// (or the next daemon, after a crash) finds the old content or the new, never a mix.
#pragma once

#include <string>
#include <string_view>

namespace gardien {

// 0 on success, else the errno of the step that failed (PATH.new is then removed). `sync`:
// fsync PATH.new before the rename, so that a power cut cannot leave an empty file.
int replace_file(const std::string& path, std::string_view content, bool sync = false);

}  // namespace gardien
