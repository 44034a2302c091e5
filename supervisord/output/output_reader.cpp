#include "supervisord/output/output_reader.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "supervisord/loop/log.h"

namespace gardien {

namespace {

// One buffer for every reader: the loop is single-threaded and a batch is fully handed to its
// sink and ring (which copy what they keep) before the next read(2).
char* read_buffer() {
  static const std::unique_ptr<char[]> buffer(new char[OutputReader::kReadSize]);
  return buffer.get();
}

}  // namespace

OutputReader::OutputReader(EventLoop& loop, Fd read_end, Stream stream, std::string instance,
                           bool timestamps, std::shared_ptr<LineSink> sink,
                           std::shared_ptr<LogRing> ring)
    : loop_(loop),
      fd_(std::move(read_end)),
      stream_(stream),
      instance_(std::move(instance)),
      timestamps_(timestamps),
      sink_(std::move(sink)),
      ring_(std::move(ring)),
      readable_(loop, fd_.get(), EV_READ, [this](short) { on_readable(); }),
      drain_timer_(loop, [this] { call_on_done(); }) {
  readable_.enable();
  if (sink_) sink_->attach(*this);  // may pause us at once
}

OutputReader::~OutputReader() {
  *alive_ = false;
  if (sink_) sink_->detach(*this);
}

void OutputReader::pause() {
  if (pauses_++ == 0) readable_.disable();
}

void OutputReader::resume() {
  if (pauses_ > 0 && --pauses_ == 0 && fd_) readable_.enable();
}

void OutputReader::on_readable() {
  // A few reads per wake-up, then let the other fds have their turn.
  for (int i = 0; i < 4 && fd_ && pauses_ == 0; ++i) {
    if (!read_once()) break;
  }
}

bool OutputReader::read_once() {
  char* buffer = read_buffer();
  ssize_t n = ::read(fd_.get(), buffer, kReadSize);
  if (n > 0) {
    framer_.feed(std::string_view(buffer, static_cast<std::size_t>(n)), chunks_);
    deliver();
    return static_cast<std::size_t>(n) == kReadSize;  // a short read emptied the pipe
  }
  if (n < 0 && errno == EINTR) return true;
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return false;
  if (n < 0)
    log::warn("cannot read program output",
              {{"program", instance_}, {"error", std::strerror(errno)}});
  finish();
  return false;
}

void OutputReader::deliver() {
  if (chunks_.empty()) return;
  LineBatch batch{instance_, stream_, WallClock::now(), timestamps_, chunks_};
  if (ring_) ring_->append(batch);
  if (sink_) sink_->write(batch);
}

void OutputReader::finish() {
  if (!fd_) return;
  framer_.finish(chunks_);
  deliver();
  readable_.disable();
  fd_.reset();
  call_on_done();
}

void OutputReader::call_on_done() {
  drain_timer_.cancel();
  if (!on_done_) return;
  loop_.defer([alive = alive_, done = std::exchange(on_done_, nullptr)] {
    if (*alive) done();
  });
}

void OutputReader::drain(Duration max_wait, std::function<void()> on_done) {
  if (!fd_) {
    loop_.defer([alive = alive_, done = std::move(on_done)] {
      if (*alive && done) done();
    });
    return;
  }
  on_done_ = std::move(on_done);
  drain_timer_.arm(max_wait);
}

}  // namespace gardien
