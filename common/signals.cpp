#include "common/signals.h"

#include <csignal>
#include <cctype>
#include <charconv>
#include <tuple>

namespace gardien {

namespace {

struct NamedSignal {
  std::string_view name;
  int number;
};

constexpr NamedSignal kSignals[] = {
    {"HUP", SIGHUP},     {"INT", SIGINT},       {"QUIT", SIGQUIT},   {"ILL", SIGILL},
    {"TRAP", SIGTRAP},   {"ABRT", SIGABRT},     {"BUS", SIGBUS},     {"FPE", SIGFPE},
    {"KILL", SIGKILL},   {"USR1", SIGUSR1},     {"SEGV", SIGSEGV},   {"USR2", SIGUSR2},
    {"PIPE", SIGPIPE},   {"ALRM", SIGALRM},     {"TERM", SIGTERM},   {"STKFLT", SIGSTKFLT},
    {"CHLD", SIGCHLD},   {"CONT", SIGCONT},     {"STOP", SIGSTOP},   {"TSTP", SIGTSTP},
    {"TTIN", SIGTTIN},   {"TTOU", SIGTTOU},     {"URG", SIGURG},     {"XCPU", SIGXCPU},
    {"XFSZ", SIGXFSZ},   {"VTALRM", SIGVTALRM}, {"PROF", SIGPROF},   {"WINCH", SIGWINCH},
    {"IO", SIGIO},       {"PWR", SIGPWR},       {"SYS", SIGSYS},
};

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::toupper(static_cast<unsigned char>(a[i])) != static_cast<unsigned char>(b[i]))
      return false;
  }
  return true;
}

std::optional<int> parse_number(std::string_view text) {
  int value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size()) return std::nullopt;
  return value;
}

}  // namespace

std::optional<int> signal_from_number(long long number) {
  if (number < 1 || number > SIGRTMAX) return std::nullopt;
  return static_cast<int>(number);
}

std::optional<int> parse_signal(std::string_view text) {
  if (!text.empty() && std::isdigit(static_cast<unsigned char>(text[0]))) {
    auto n = parse_number(text);
    return n ? signal_from_number(*n) : std::nullopt;
  }
  if (text.size() > 3 && iequals(text.substr(0, 3), "SIG")) text.remove_prefix(3);
  for (const NamedSignal& s : kSignals) {
    if (iequals(text, s.name)) return s.number;
  }
  // RTMIN, RTMIN+N, RTMAX, RTMAX-N
  for (auto [base, sign, name] : {std::tuple{SIGRTMIN, 1, std::string_view{"RTMIN"}},
                                  std::tuple{SIGRTMAX, -1, std::string_view{"RTMAX"}}}) {
    if (text.size() >= name.size() && iequals(text.substr(0, name.size()), name)) {
      std::string_view rest = text.substr(name.size());
      if (rest.empty()) return base;
      if (rest[0] != (sign > 0 ? '+' : '-')) return std::nullopt;
      rest.remove_prefix(1);
      // Digits only ("RTMIN+-1" is no signal), and no more than the range: no overflow below.
      if (rest.empty() || !std::isdigit(static_cast<unsigned char>(rest[0]))) return std::nullopt;
      auto n = parse_number(rest);
      if (!n || *n > SIGRTMAX - SIGRTMIN) return std::nullopt;
      int signo = base + sign * *n;
      if (signo < SIGRTMIN || signo > SIGRTMAX) return std::nullopt;
      return signo;
    }
  }
  return std::nullopt;
}

std::string signal_name(int signo) {
  for (const NamedSignal& s : kSignals) {
    if (s.number == signo) return "SIG" + std::string(s.name);
  }
  if (signo >= SIGRTMIN && signo <= SIGRTMAX) {
    return signo == SIGRTMIN ? "SIGRTMIN" : "SIGRTMIN+" + std::to_string(signo - SIGRTMIN);
  }
  return "signal " + std::to_string(signo);
}

}  // namespace gardien
