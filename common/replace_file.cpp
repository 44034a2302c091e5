#include "common/replace_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

#include "common/fd.h"

namespace gardien {

namespace {

int write_all(int fd, std::string_view content) {
  for (std::size_t done = 0; done < content.size();) {
    ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return n < 0 ? errno : EIO;
    done += static_cast<std::size_t>(n);
  }
  return 0;
}

}  // namespace

int replace_file(const std::string& path, std::string_view content, bool sync) {
  std::string temp = path + ".new";
  Fd fd(::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600));
  int error = fd ? write_all(fd.get(), content) : errno;
  if (!error && sync && ::fsync(fd.get()) != 0) error = errno;
  if (!error && ::close(fd.release()) != 0) error = errno;
  if (!error && ::rename(temp.c_str(), path.c_str()) != 0) error = errno;
  if (error) ::unlink(temp.c_str());
  return error;
}

}  // namespace gardien
