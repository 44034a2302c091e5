// The http probe: GET of an http:// URL answers 2xx. Only the status line is read; the
// connection is closed as soon as it has come.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "supervisord/loop/event_loop.h"
#include "supervisord/readiness/probe.h"
#include "supervisord/readiness/probe_address.h"

namespace gardien {

struct HttpTarget {
  ProbeAddress address;
  std::string host;  // the Host header: the authority as written ("localhost:8080")
  std::string path;  // "/healthz?full=1"; "/" when the URL has none
};

// "http://127.0.0.1:8080/healthz", "http://[::1]/", "http://localhost:8080/ready?x=1" (the port
// defaults to 80, a #fragment is dropped). nullopt with `error` set for anything else.
std::optional<HttpTarget> parse_http_target(std::string_view url, std::string& error);

std::unique_ptr<Probe> make_http_probe(const HttpTarget& target, EventLoop& loop);

}  // namespace gardien
