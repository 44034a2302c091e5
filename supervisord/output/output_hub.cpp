#include "supervisord/output/output_hub.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "supervisord/loop/log.h"

namespace gardien {

namespace {

bool same_file(int a, int b) {
  struct stat sa, sb;
  return ::fstat(a, &sa) == 0 && ::fstat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
         sa.st_ino == sb.st_ino;
}

std::string errno_text(const char* what) {
  std::string s = what;
  s += ": ";
  s += std::strerror(errno);
  return s;
}

bool needs_pipe(const OutputSink& sink, bool has_ring) {
  switch (sink.kind) {
    case OutputSink::Kind::prefix:
    case OutputSink::Kind::file:
      return true;
    case OutputSink::Kind::null:
      return has_ring;  // `gardienctl logs` still shows it
    case OutputSink::Kind::inherit:
    case OutputSink::Kind::merge:
      return false;
  }
  return false;
}

}  // namespace

std::shared_ptr<QueuedWriter> OutputHub::daemon_queue(int fd, const char* name) {
  auto queue = std::make_shared<QueuedWriter>(loop_, settings_.prefix_limits);
  std::string what = name;
  queue->on_error_change([what](int err, std::uint64_t dropped) {
    if (err) {
      log::error("cannot write program output to the daemon's " + what +
                     "; its lines are dropped until it works again",
                 {{"error", std::strerror(err)}});
    } else {
      log::info("writing program output to the daemon's " + what + " resumed",
                {{"dropped_lines", dropped}});
    }
  });
  queue->set_target(QueuedWriter::duplicate_for_writing(fd));
  return queue;
}

OutputHub::OutputHub(EventLoop& loop, Settings settings) : loop_(loop), settings_(settings) {
  auto out = daemon_queue(settings_.stdout_fd, "stdout");
  auto err = same_file(settings_.stdout_fd, settings_.stderr_fd)
                 ? out  // one queue: fd 1 and fd 2 lines never cut into each other
                 : daemon_queue(settings_.stderr_fd, "stderr");
  prefix_out_ = std::make_shared<PrefixWriter>(out, ::isatty(settings_.stdout_fd) == 1);
  prefix_err_ = std::make_shared<PrefixWriter>(err, ::isatty(settings_.stderr_fd) == 1);
  if (settings_.route_daemon_log) {
    log::set_line_writer([queue = err.get()](std::string_view line) { queue->write(line); });
  }
}

OutputHub::~OutputHub() {
  if (settings_.route_daemon_log) log::set_line_writer(nullptr);
}

std::shared_ptr<FileSink> OutputHub::file_sink(const OutputSink& sink) {
  auto it = files_.find(sink.path);
  if (it != files_.end()) {
    if (auto live = it->second.lock()) {
      live->set_rotation(sink.max_size, sink.keep);  // the latest config wins
      return live;
    }
  }
  FileSink::Options options{sink.max_size, sink.keep, settings_.file_limits};
  auto made = std::make_shared<FileSink>(loop_, sink.path, options);
  files_[sink.path] = made;
  return made;
}

std::shared_ptr<LineSink> OutputHub::sink_for(const OutputSink& sink, Stream stream,
                                              std::string& label) {
  label = stream_name(stream);
  switch (sink.kind) {
    case OutputSink::Kind::prefix:
      label += " prefix";
      return stream == Stream::out ? prefix_out_ : prefix_err_;
    case OutputSink::Kind::file:
      label += " file";
      return file_sink(sink);
    case OutputSink::Kind::null:
    case OutputSink::Kind::inherit:
    case OutputSink::Kind::merge:
      return nullptr;
  }
  return nullptr;
}

OutputHub::Opened OutputHub::open(const std::string& instance, const OutputSink& out,
                                  const OutputSink& err, const OutputOptions& options) {
  bool merged = err.kind == OutputSink::Kind::merge;
  bool wants_ring =
      options.log_buffer_size > 0 &&
      (out.kind != OutputSink::Kind::inherit || (!merged && err.kind != OutputSink::Kind::inherit));

  auto po = std::make_unique<ProgramOutput>(loop_);
  if (wants_ring) {
    auto& ring = rings_[instance];
    if (!ring) {
      ring = LogRing::create(instance, options.log_buffer_size);
    } else {
      ring->set_capacity(options.log_buffer_size);
    }
    po->ring_ = ring;
  }

  auto make_stream = [&](const OutputSink& sink, Stream stream, Fd& child_end,
                         std::unique_ptr<OutputReader>& reader, std::string& label) -> std::string {
    if (needs_pipe(sink, wants_ring)) {
      FdPair pipe;
      if (!make_pipe(pipe)) return errno_text("cannot create a pipe for the program's output");
      // Non-blocking on our end only: the child's end stays blocking, as programs expect.
      int flags = ::fcntl(pipe.read.get(), F_GETFL);
      if (flags < 0 || ::fcntl(pipe.read.get(), F_SETFL, flags | O_NONBLOCK) != 0) {
        return errno_text("cannot make the output pipe non-blocking");
      }
      reader = std::make_unique<OutputReader>(loop_, std::move(pipe.read), stream, instance,
                                              options.timestamps, sink_for(sink, stream, label),
                                              po->ring_);
      child_end = std::move(pipe.write);
    } else if (sink.kind == OutputSink::Kind::null) {
      child_end.reset(::open("/dev/null", O_WRONLY | O_CLOEXEC));
      if (!child_end) return errno_text("cannot open /dev/null");
    }
    return {};
  };

  std::string error =
      make_stream(out, Stream::out, po->child_out_, po->out_reader_, po->out_label_);
  if (error.empty() && !merged) {
    error = make_stream(err, Stream::err, po->child_err_, po->err_reader_, po->err_label_);
  }
  if (!error.empty()) return {nullptr, error};
  po->err_to_out_ = merged;
  return {std::move(po), {}};
}

void OutputHub::set_name_width(std::size_t width) {
  prefix_out_->set_name_width(width);
  prefix_err_->set_name_width(width);
}

std::size_t OutputHub::name_width(const std::vector<std::string>& instance_names) {
  std::size_t width = 0;
  for (const auto& name : instance_names) width = std::max(width, name.size());
  return width;
}

void OutputHub::reopen_files() {
  for (auto it = files_.begin(); it != files_.end();) {
    if (auto live = it->second.lock()) {
      live->reopen();
      ++it;
    } else {
      it = files_.erase(it);
    }
  }
}

std::size_t OutputHub::file_count() const {
  return static_cast<std::size_t>(std::count_if(
      files_.begin(), files_.end(), [](const auto& entry) { return !entry.second.expired(); }));
}

std::shared_ptr<LogRing> OutputHub::ring(std::string_view instance) const {
  auto it = rings_.find(instance);
  return it == rings_.end() ? nullptr : it->second;
}

std::vector<std::shared_ptr<LogRing>> OutputHub::rings() const {
  std::vector<std::shared_ptr<LogRing>> all;
  for (const auto& [name, ring] : rings_) all.push_back(ring);
  return all;
}

void OutputHub::forget(std::string_view instance) {
  auto it = rings_.find(instance);
  if (it != rings_.end()) rings_.erase(it);
}

void OutputHub::rename(std::string_view from, const std::string& to) {
  auto it = rings_.find(from);
  if (it == rings_.end()) return;
  std::shared_ptr<LogRing> ring = std::move(it->second);
  rings_.erase(it);
  rings_[to] = std::move(ring);
}

bool OutputHub::flush_blocking(Duration max_wait) {
  auto deadline = std::chrono::steady_clock::now() + max_wait;
  auto left = [&] {
    auto d = std::chrono::duration_cast<Duration>(deadline - std::chrono::steady_clock::now());
    return d.count() > 0 ? d : Duration(0);
  };
  bool ok = true;
  for (auto& [path, weak] : files_) {
    if (auto live = weak.lock()) ok = live->writer().flush_blocking(left()) && ok;
  }
  ok = prefix_out_->queue().flush_blocking(left()) && ok;
  if (&prefix_err_->queue() != &prefix_out_->queue())
    ok = prefix_err_->queue().flush_blocking(left()) && ok;
  return ok;
}

std::string OutputHub::problems() const {
  std::string all;
  auto add = [&all](const char* name, const PrefixWriter& w) {
    std::string p = w.problem();
    if (p.empty()) return;
    if (!all.empty()) all += "; ";
    all += name;
    all += ": ";
    all += p;
  };
  add("stdout", *prefix_out_);
  if (&prefix_err_->queue() != &prefix_out_->queue()) add("stderr", *prefix_err_);
  return all;
}

}  // namespace gardien
