// Signals as users write them: "TERM", "SIGTERM", "term" or 15.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace gardien {

// nullopt for an unknown name or a number outside 1..SIGRTMAX.
std::optional<int> parse_signal(std::string_view text);
std::optional<int> signal_from_number(long long number);

// "SIGTERM"; "SIGRTMIN+3" for real-time ones; "signal 99" when unknown.
std::string signal_name(int signo);

}  // namespace gardien
