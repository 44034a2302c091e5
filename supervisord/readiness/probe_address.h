// Where a tcp or http probe connects: an address written as numbers, or localhost. Names are
// never looked up: a DNS query would block the loop, and a probe never may.
#pragma once

#include <sys/socket.h>

#include <optional>
#include <string>
#include <string_view>

namespace gardien {

struct ProbeAddress {
  sockaddr_storage storage{};
  socklen_t length = 0;
  std::string text;  // "127.0.0.1:5432", "[::1]:80": for messages
};

// "127.0.0.1:5432", "[::1]:5432" or "localhost:5432" (127.0.0.1); without a port,
// `default_port` when given. nullopt with `error` set (why, and what to write instead).
std::optional<ProbeAddress> parse_probe_address(std::string_view text,
                                                std::optional<int> default_port,
                                                std::string& error);

}  // namespace gardien
