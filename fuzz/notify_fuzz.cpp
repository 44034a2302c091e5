// libFuzzer target for the sd_notify datagram parser (docs/fuzzing.md): whatever parses must
// hold only valid values and survive a format/parse round trip unchanged; whatever is refused
// must say why.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "common/notify_message.h"

namespace {

void check(bool condition, const char* what) {
  if (!condition) {
    std::fprintf(stderr, "notify_fuzz: invariant broken: %s\n", what);
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view datagram(reinterpret_cast<const char*>(data), size);
  std::string error;
  auto message = gardien::parse_notify_message(datagram, error);
  if (!message) {
    check(!error.empty(), "a refused datagram says why");
    check(error.size() < 200, "an error quotes a bad line short");
    return 0;
  }
  check(error.empty(), "an accepted datagram has no error");
  check(!message->status || message->status->size() <= 1024, "STATUS= is capped");
  check(!message->main_pid || *message->main_pid > 0, "MAINPID= is a pid");
  check(!message->errno_value || *message->errno_value >= 0, "ERRNO= is not negative");
  check(!message->extend_timeout || (message->extend_timeout->count() >= 0 &&
                                     *message->extend_timeout <= gardien::kMaxDuration),
        "EXTEND_TIMEOUT_USEC= is clamped");
  check(!(message->watchdog && message->watchdog_trigger), "WATCHDOG= has one value");
  std::string formatted = gardien::format_notify_message(*message);
  check(formatted.size() <= gardien::kMaxNotifyDatagram, "a formatted message fits a datagram");
  std::string again_error;
  auto again = gardien::parse_notify_message(formatted, again_error);
  check(again && *again == *message, "a message survives the format/parse round trip");
  return 0;
}
