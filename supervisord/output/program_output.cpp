#include "supervisord/output/program_output.h"

namespace gardien {

int ProgramOutput::child_stderr() const noexcept {
  if (err_to_out_) return child_stdout();
  return child_err_ ? child_err_.get() : STDERR_FILENO;
}

void ProgramOutput::close_child_ends() noexcept {
  child_out_.reset();
  child_err_.reset();
}

ProgramOutput::~ProgramOutput() {
  *alive_ = false;
}

void ProgramOutput::drain(Duration max_wait, std::function<void()> on_drained) {
  on_drained_ = std::move(on_drained);
  pending_drains_ = (out_reader_ ? 1 : 0) + (err_reader_ ? 1 : 0);
  if (pending_drains_ == 0) {  // nothing to read; still answer on a later turn
    loop_->defer([this, alive = alive_] {
      if (*alive && on_drained_) std::exchange(on_drained_, nullptr)();
    });
    return;
  }
  // The readers' deferred calls die with them, and they die with this object.
  auto one_done = [this] {
    if (--pending_drains_ == 0 && on_drained_) std::exchange(on_drained_, nullptr)();
  };
  if (out_reader_) out_reader_->drain(max_wait, one_done);
  if (err_reader_) err_reader_->drain(max_wait, one_done);
}

bool ProgramOutput::drained() const noexcept {
  return (!out_reader_ || out_reader_->finished()) && (!err_reader_ || err_reader_->finished());
}

std::string ProgramOutput::problems() const {
  std::string all;
  auto add = [&all](const std::unique_ptr<OutputReader>& r, const std::string& label) {
    if (!r || !r->sink()) return;
    std::string p = r->sink()->problem();
    if (p.empty()) return;
    if (!all.empty()) all += "; ";
    all += label;
    all += ": ";
    all += p;
  };
  add(out_reader_, out_label_);
  add(err_reader_, err_label_);
  return all;
}

}  // namespace gardien
