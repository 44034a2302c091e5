#include "supervisord/readiness/probe_address.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <charconv>
#include <cstring>

namespace gardien {

namespace {

std::optional<int> parse_port(std::string_view text) {
  int port = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), port);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  if (port < 1 || port > 65535) return std::nullopt;
  return port;
}

std::string quoted(std::string_view text) {
  std::string out = "\"";
  out += text;
  out += '"';
  return out;
}

// Fills `out` from a numeric host; false when `host` is neither IPv4 nor IPv6 (as `want_v6`).
bool fill(ProbeAddress& out, const std::string& host, bool want_v6, int port) {
  char canonical[INET6_ADDRSTRLEN] = {};
  if (want_v6) {
    auto* sin6 = reinterpret_cast<sockaddr_in6*>(&out.storage);
    if (::inet_pton(AF_INET6, host.c_str(), &sin6->sin6_addr) != 1) return false;
    sin6->sin6_family = AF_INET6;
    sin6->sin6_port = htons(static_cast<uint16_t>(port));
    out.length = sizeof(sockaddr_in6);
    ::inet_ntop(AF_INET6, &sin6->sin6_addr, canonical, sizeof canonical);
    out.text = '[';
    out.text += canonical;
    out.text += "]:" + std::to_string(port);
    return true;
  }
  auto* sin = reinterpret_cast<sockaddr_in*>(&out.storage);
  if (::inet_pton(AF_INET, host.c_str(), &sin->sin_addr) != 1) return false;
  sin->sin_family = AF_INET;
  sin->sin_port = htons(static_cast<uint16_t>(port));
  out.length = sizeof(sockaddr_in);
  ::inet_ntop(AF_INET, &sin->sin_addr, canonical, sizeof canonical);
  out.text = std::string(canonical) + ":" + std::to_string(port);
  return true;
}

}  // namespace

std::optional<ProbeAddress> parse_probe_address(std::string_view text,
                                                std::optional<int> default_port,
                                                std::string& error) {
  bool bracketed = !text.empty() && text.front() == '[';
  std::string_view host = text;
  std::string_view after_host;  // "" or ":PORT"
  if (bracketed) {
    auto close = text.find(']');
    if (close == std::string_view::npos) {
      error = quoted(text) + " has no closing ']': write \"[::1]:8080\"";
      return std::nullopt;
    }
    host = text.substr(1, close - 1);
    after_host = text.substr(close + 1);
    if (!after_host.empty() && after_host.front() != ':') {
      error = quoted(text) + ": expected ':PORT' after ']'";
      return std::nullopt;
    }
  } else if (auto colon = text.find(':'); colon != std::string_view::npos) {
    if (text.find(':', colon + 1) != std::string_view::npos) {
      error = quoted(text) + ": an IPv6 address goes in brackets: \"[::1]:8080\"";
      return std::nullopt;
    }
    host = text.substr(0, colon);
    after_host = text.substr(colon);
  }
  if (host.empty()) {
    error = quoted(text) + " has no host: write \"127.0.0.1:8080\"";
    return std::nullopt;
  }
  std::optional<int> port = after_host.empty() ? default_port : parse_port(after_host.substr(1));
  if (!port) {
    error = after_host.empty()
                ? quoted(text) + " has no port: write \"HOST:PORT\", as \"127.0.0.1:5432\""
                : quoted(text) + ": the port must be a number from 1 to 65535";
    return std::nullopt;
  }
  ProbeAddress out;
  std::string numeric = host == "localhost" && !bracketed ? "127.0.0.1" : std::string(host);
  if (!fill(out, numeric, bracketed, *port)) {
    error = quoted(host) +
            (bracketed ? " is not an IPv6 address" : " is not an IPv4 address or localhost") +
            ": write the address as numbers (\"127.0.0.1\", \"[::1]\"); names are not looked "
            "up, so that a probe never blocks the daemon";
    return std::nullopt;
  }
  return out;
}

}  // namespace gardien
