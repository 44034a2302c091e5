#include "supervisord/readiness/file_probe.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>

#include "supervisord/readiness/probe_poll.h"

namespace gardien {

namespace {

class FileProbe final : public Probe {
 public:
  FileProbe(const std::string& path, EventLoop& loop) : path_(path), poll_(loop, [] {}) {}

  // The stat runs on the loop: a path on a local filesystem (/run) answers at once.
  void run(Duration timeout, Done done) override {
    if (!poll_.start(timeout, std::move(done))) return;
    struct stat st {};
    if (::stat(path_.c_str(), &st) == 0) return poll_.finish({true, path_ + " exists"});
    if (errno == ENOENT || errno == ENOTDIR) {
      return poll_.finish({false, path_ + " does not exist"});
    }
    poll_.finish({false, "stat " + path_ + ": " + std::strerror(errno)});
  }

 private:
  std::string path_;
  ProbePoll poll_;
};

}  // namespace

std::unique_ptr<Probe> make_file_probe(const std::string& path, EventLoop& loop) {
  return std::make_unique<FileProbe>(path, loop);
}

}  // namespace gardien
