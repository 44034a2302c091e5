// The checks of a program, `ready` and `health`: "notify", or a table with one kind (fd, tcp,
// http, exec, file) and its timing. Targets are validated here, so a probe never meets a bad one.
#include <arpa/inet.h>

#include "common/config/loader.h"

namespace gardien::config_loader {

namespace {

using Kind = ProbeConfig::Kind;

struct KindKey {
  std::string_view key;
  Kind kind;
  std::string_view example;  // a whole table of this kind, for messages
};
constexpr KindKey kKinds[] = {
    {"fd", Kind::fd, "{ fd = 3 }"},
    {"tcp", Kind::tcp, "{ tcp = \"127.0.0.1:5432\" }"},
    {"http", Kind::http, "{ http = \"http://127.0.0.1:8080/healthz\" }"},
    {"exec", Kind::exec, "{ exec = [\"pg_isready\", \"-q\"] }"},
    {"file", Kind::file, "{ file = \"/run/app/ready\" }"},
};

constexpr std::int64_t kMinReadyFd = 3;  // 0, 1 and 2 are the program's stdio
constexpr std::int64_t kMaxReadyFd = 1023;
constexpr std::string_view kNotHealth =
    " is a readiness protocol, not a health check; a program that keeps telling it is alive "
    "sends WATCHDOG=1: set watchdog = \"30s\" (docs/readiness.md)";

std::string kind_names(bool health) {
  std::vector<std::string_view> names;
  for (const KindKey& k : kKinds) {
    if (!(health && k.kind == Kind::fd)) names.push_back(k.key);
  }
  return quote_list(names);
}

std::string what_probe(bool health) {
  if (health) return cat("a table with one of ", kind_names(true), ", like ", kKinds[2].example);
  return cat("\"notify\" or a table with one of ", kind_names(false), ", like ", kKinds[1].example);
}

bool ipv4_literal(const std::string& host) {
  in_addr address{};
  return ::inet_pton(AF_INET, host.c_str(), &address) == 1;
}

bool ipv6_literal(const std::string& host) {
  in6_addr address{};
  return ::inet_pton(AF_INET6, host.c_str(), &address) == 1;
}

// "HOST" or "HOST:PORT", HOST a numeric IPv4 address, an IPv6 one in brackets, or localhost.
// Returns what is wrong with it, or an empty string.
std::string authority_problem(std::string_view text, bool port_required) {
  std::string host;
  std::string_view rest;
  if (!text.empty() && text[0] == '[') {
    std::size_t close = text.find(']');
    if (close == std::string_view::npos) return "an IPv6 address needs its closing ']'";
    host = std::string(text.substr(1, close - 1));
    if (!ipv6_literal(host)) return cat(quote(host), " is not an IPv6 address");
    rest = text.substr(close + 1);
  } else {
    std::size_t colon = text.find(':');
    if (colon != std::string_view::npos && text.find(':', colon + 1) != std::string_view::npos) {
      std::size_t last = text.rfind(':');
      return cat("an IPv6 address goes in brackets: write ",
                 quote(cat("[", std::string(text.substr(0, last)), "]", text.substr(last))));
    }
    host = std::string(text.substr(0, colon));
    rest = colon == std::string_view::npos ? std::string_view() : text.substr(colon);
    if (host != "localhost" && !ipv4_literal(host)) {
      return cat(quote(host),
                 " is not an IP address: write a numeric one (\"127.0.0.1\", \"[::1]\") or "
                 "\"localhost\" (checks do not look names up)");
    }
  }
  if (rest.empty()) return port_required ? "the port is missing, as in \"127.0.0.1:5432\"" : "";
  if (rest[0] != ':') return cat("unexpected ", quote(rest), " after the address");
  std::string_view port = rest.substr(1);
  if (!all_digits(port) || port.size() > 5 || std::stoi(std::string(port)) < 1 ||
      std::stoi(std::string(port)) > 65535) {
    return cat("the port must be a number from 1 to 65535, got ", quote(port));
  }
  return "";
}

// A URL's path: sent as written in the request line, so no space or control character.
bool valid_path(std::string_view path) {
  for (char c : path) {
    auto byte = static_cast<unsigned char>(c);
    if (byte <= 0x20 || byte == 0x7f) return false;
  }
  return true;
}

// The target of each kind, checked; false after reporting what is wrong.
class ProbeTarget {
 public:
  ProbeTarget(Loader& loader, const Field& field, ProbeConfig& probe)
      : l_(loader), f_(field), p_(probe) {}

  bool read(Kind kind) {
    switch (kind) {
      case Kind::fd:
        return fd();
      case Kind::tcp:
        return tcp();
      case Kind::http:
        return http();
      case Kind::exec:
        return exec();
      case Kind::file:
        return file();
      case Kind::notify:
        break;
    }
    return false;
  }

 private:
  bool fd() {
    if (!f_.node->is_integer()) {
      l_.expected(f_, "a file descriptor number like 3");
      return false;
    }
    std::int64_t n = f_.node->as_integer()->get();
    if (n < kMinReadyFd) {
      l_.error(f_, cat("fd ", std::to_string(n),
                       " is one of the program's stdin, stdout and stderr (0, 1, 2); use 3 or "
                       "above (s6 programs usually write to 3)"));
      return false;
    }
    if (n > kMaxReadyFd) {
      l_.error(f_, cat("expected a file descriptor from 3 to 1023, got ", std::to_string(n)));
      return false;
    }
    p_.fd = static_cast<int>(n);
    return true;
  }

  bool tcp() {
    auto text = l_.get_string(f_, "a string \"HOST:PORT\" like \"127.0.0.1:5432\"");
    if (!text) return false;
    std::string problem = authority_problem(*text, true);
    if (!problem.empty())
      return refuse(*text, "HOST:PORT like \"127.0.0.1:5432\" or \"[::1]:5432\"", problem);
    p_.target = std::move(*text);
    return true;
  }

  bool http() {
    constexpr std::string_view kScheme = "http://";
    constexpr std::string_view kExample = "\"http://127.0.0.1:8080/healthz\"";
    auto text = l_.get_string(f_, cat("a URL like ", kExample));
    if (!text) return false;
    if (text->rfind("https://", 0) == 0) {
      l_.error(f_, cat("https is not supported: gardien has no TLS library; check a plain http "
                       "port (a health endpoint on 127.0.0.1), or run a client: ",
                       "{ exec = [\"curl\", \"-fsS\", ", quote(*text), "] }"));
      return false;
    }
    if (text->rfind(kScheme, 0) != 0)
      return refuse(*text, cat("a URL like ", kExample), "the URL must start with http://");
    std::string_view rest = std::string_view(*text).substr(kScheme.size());
    std::size_t path_start = rest.find('/');
    std::string_view authority = rest.substr(0, path_start);
    std::string problem = authority_problem(authority, false);
    if (problem.empty() && path_start != std::string_view::npos &&
        !valid_path(rest.substr(path_start)))
      problem = "the path may not contain spaces or control characters; percent-encode them";
    if (!problem.empty()) return refuse(*text, cat("a URL like ", kExample), problem);
    p_.target = std::move(*text);
    return true;
  }

  bool exec() {
    auto argv = l_.get_command(f_);
    if (!argv) return false;
    p_.command = std::move(*argv);
    return true;
  }

  bool file() {
    auto text = l_.get_string(f_, "an absolute path like \"/run/app/ready\"");
    if (!text) return false;
    if (text->empty() || (*text)[0] != '/') {
      l_.error(f_, cat("expected an absolute path like \"/run/app/ready\", got ", quote(*text)));
      return false;
    }
    p_.target = std::move(*text);
    return true;
  }

  bool refuse(const std::string& text, std::string_view example, const std::string& problem) {
    l_.error(f_, cat("expected ", example, ", got ", quote(text), ": ", problem));
    return false;
  }

  Loader& l_;
  const Field& f_;
  ProbeConfig& p_;
};

constexpr std::string_view kTimingKeys[] = {"period", "timeout", "failure-threshold",
                                            "start-period"};
constexpr std::string_view kHealthOnlyKeys[] = {"failure-threshold", "start-period"};

// A table without any kind key nor an unknown one: "missing the kind" is the error to report.
bool only_timing_keys(const toml::table& table) {
  std::size_t timing = 0;
  for (std::string_view key : kTimingKeys) timing += table.contains(key) ? 1 : 0;
  return timing == table.size();
}

// A duration that must be above zero (period, timeout).
std::optional<Duration> positive_duration(Loader& l, const Field& f) {
  auto d = l.get_duration(f);
  if (d && *d <= Duration{0}) {
    l.error(f, "must be longer than 0; leave the key out for the default");
    return std::nullopt;
  }
  return d;
}

// One `ready` or `health` value: each part reports its own errors and clears ok_ on one.
class ProbeReader {
 public:
  ProbeReader(Loader& loader, const Field& field, bool health)
      : l_(loader), f_(field), health_(health) {
    if (health) probe_.period = std::chrono::seconds(10);  // Kubernetes' periodSeconds
  }

  std::optional<ProbeConfig> read() {
    if (f_.node->is_string()) return from_string();
    const toml::table* table = f_.node->as_table();
    if (!table) {
      l_.expected(f_, what_probe(health_));
      return std::nullopt;
    }
    TableReader r(l_, *table, f_.file, f_.path);
    kind(r, *table);
    timing(r);
    health_keys(r, *table);
    r.finish_listing_keys();
    if (!ok_) return std::nullopt;
    return probe_;
  }

 private:
  std::optional<ProbeConfig> from_string() {
    auto text = l_.expand(f_.node->as_string()->get(), f_);
    if (!text) return std::nullopt;
    if (*text == "notify" && !health_) return probe_;
    std::string message = health_ && *text == "notify"
                              ? cat(quote(*text), kNotHealth)
                              : cat("expected ", what_probe(health_), ", got ", quote(*text));
    for (const KindKey& k : kKinds) {
      if (k.key == *text && !(health_ && k.kind == Kind::fd))
        message += cat("; write ", f_.path.substr(f_.path.rfind('.') + 1), " = ", k.example);
    }
    if (!health_ && *text != "notify" && !closest(*text, {"notify"}).empty())
      message += "; did you mean \"notify\"?";
    l_.error(f_, std::move(message));
    return std::nullopt;
  }

  // Exactly one kind key, and its target.
  void kind(TableReader& r, const toml::table& table) {
    std::vector<std::pair<Field, Kind>> kinds;
    for (const KindKey& k : kKinds) {
      if (health_ && k.kind == Kind::fd) {
        refuse_key(r, table, k.key, cat("fd", kNotHealth));
      } else if (auto v = r.get(k.key)) {
        kinds.emplace_back(*v, k.kind);
      }
    }
    if (kinds.size() > 1) {
      fail(kinds[1].first, cat("a check has one kind, and ", quote(to_string(kinds[0].second)),
                               " is set too; keep one"));
    } else if (kinds.empty() && ok_ && only_timing_keys(table)) {
      fail(f_, cat("missing the kind of check: one of ", kind_names(health_), ", like ",
                   health_ ? kKinds[2].example : kKinds[1].example));
    }
    if (kinds.empty()) return;
    probe_.kind = kinds[0].second;
    ProbeTarget target(l_, kinds[0].first, probe_);
    ok_ = target.read(probe_.kind) && ok_;
    has_kind_ = kinds.size() == 1;
  }

  void timing(TableReader& r) {
    for (std::string_view key : {"period", "timeout"}) {
      auto v = r.get(key);
      if (!v) continue;
      auto d = positive_duration(l_, *v);
      ok_ = ok_ && d;
      if (!d) continue;
      (key == "period" ? probe_.period : probe_.timeout) = *d;
      if (has_kind_ && !probe_.polled())
        l_.warning(*v, cat(key,
                           " does nothing for an fd check (the program writes when it is "
                           "ready); remove it"));
    }
  }

  void health_keys(TableReader& r, const toml::table& table) {
    if (!health_) {
      for (std::string_view key : kHealthOnlyKeys) {
        refuse_key(r, table, key,
                   cat(key,
                       " is a health key: a ready check is tried every period until it "
                       "passes or ready-timeout ends the start"));
      }
      return;
    }
    if (auto v = r.get("failure-threshold")) {
      auto n = l_.get_int(*v, 1, 1'000'000);
      if (n) probe_.failure_threshold = static_cast<int>(*n);
      ok_ = ok_ && n;
    }
    if (auto v = r.get("start-period")) {
      auto d = l_.get_duration(*v);
      if (d) probe_.start_period = *d;
      ok_ = ok_ && d;
    }
  }

  // A key of the other kind of check: its own error, never an unknown key nor a suggestion.
  void refuse_key(TableReader& r, const toml::table& table, std::string_view key,
                  std::string message) {
    r.set_aside(key);
    if (const toml::node* node = table.get(key))
      fail(Field{node, f_.file, r.child(key)}, std::move(message));
  }

  void fail(const Field& at, std::string message) {
    l_.error(at, std::move(message));
    ok_ = false;
  }

  Loader& l_;
  const Field& f_;
  bool health_;
  ProbeConfig probe_;
  bool ok_ = true;
  bool has_kind_ = false;
};

}  // namespace

std::optional<ProbeConfig> Loader::get_probe(const Field& f, bool health) {
  return ProbeReader(*this, f, health).read();
}

}  // namespace gardien::config_loader
