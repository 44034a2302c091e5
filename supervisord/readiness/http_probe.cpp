#include "supervisord/readiness/http_probe.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>

#include <strings.h>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "supervisord/loop/log.h"
#include "supervisord/readiness/probe_connect.h"
#include "supervisord/readiness/probe_poll.h"

namespace gardien {

namespace {

// A status line longer than this is not HTTP: the probe reads no further.
constexpr std::size_t kMaxStatusLine = 8192;

struct BuffereventFree {
  void operator()(bufferevent* bev) const noexcept {
    bufferevent_setcb(bev, nullptr, nullptr, nullptr, nullptr);
    bufferevent_free(bev);
  }
};
using BuffereventPtr = std::unique_ptr<bufferevent, BuffereventFree>;

bool printable(std::string_view text) {
  for (unsigned char c : text) {
    if (c <= 0x20 || c >= 0x7f) return false;
  }
  return true;
}

// "HTTP/1.1 503 Service Unavailable" -> 503; nullopt when it is not a status line.
std::optional<int> status_code(std::string_view line) {
  if (!line.starts_with("HTTP/")) return std::nullopt;
  auto space = line.find(' ');
  if (space == std::string_view::npos || line.size() < space + 4) return std::nullopt;
  std::string_view code = line.substr(space + 1, 3);
  for (char c : code) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return std::nullopt;
  }
  if (line.size() > space + 4 && line[space + 4] != ' ') return std::nullopt;
  return std::atoi(std::string(code).c_str());
}

// For a message: at most 60 characters, anything not printable as '?'.
std::string excerpt(std::string_view text) {
  std::string out(text.substr(0, 60));
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f) c = '?';
  }
  return out;
}

// `text` in quotes for a message: at most 60 characters, anything not printable as '?'.
std::string in_quotes(std::string_view text) {
  std::string out = "\"";
  out += excerpt(text);
  out += '"';
  return out;
}

class HttpProbe final : public Probe {
 public:
  HttpProbe(const HttpTarget& target, EventLoop& loop)
      : target_(target),
        loop_(loop),
        connect_(loop),
        poll_(loop, [this] { on_deadline(); }),
        request_("GET " + target.path + " HTTP/1.1\r\nHost: " + target.host +
                 "\r\nUser-Agent: gardien/" GARDIEN_VERSION
                 "\r\nAccept: */*\r\nConnection: close\r\n\r\n") {}

  void run(Duration timeout, Done done) override {
    if (!poll_.start(timeout, std::move(done))) return;
    std::string error;
    auto connected = [this](Fd socket, std::string failure) {
      if (!socket) return end({false, std::move(failure)});
      send_request(std::move(socket));
    };
    if (!connect_.start(target_.address, connected, error)) end({false, std::move(error)});
  }

 private:
  void send_request(Fd socket) {
    bev_.reset(bufferevent_socket_new(loop_.base(), socket.get(), BEV_OPT_CLOSE_ON_FREE));
    if (!bev_) return end({false, "HTTP " + target_.address.text + ": no memory for a buffer"});
    socket.release();  // the bufferevent owns it now
    bufferevent_setcb(bev_.get(), on_read, nullptr, on_event, this);
    // Reading stops at the bound: whatever follows the status line is never read.
    bufferevent_setwatermark(bev_.get(), EV_READ, 0, kMaxStatusLine);
    bufferevent_write(bev_.get(), request_.data(), request_.size());
    bufferevent_enable(bev_.get(), EV_READ | EV_WRITE);
  }

  void read_status() {
    evbuffer* input = bufferevent_get_input(bev_.get());
    std::size_t length = 0;
    char* raw = evbuffer_readln(input, &length, EVBUFFER_EOL_CRLF);
    if (!raw) {
      if (evbuffer_get_length(input) >= kMaxStatusLine)
        end({false, "HTTP: no status line in the first 8 KiB of the answer"});
      return;
    }
    std::string line(raw, length);
    std::free(raw);
    std::optional<int> code = status_code(line);
    if (!code) return end({false, "HTTP: not an HTTP status line: " + in_quotes(line)});
    end({*code >= 200 && *code < 300, "HTTP " + std::to_string(*code)});
  }

  void on_connection_event(short what) {
    if (what & BEV_EVENT_ERROR) {
      int error = EVUTIL_SOCKET_ERROR();
      return end({false, "HTTP " + target_.address.text + ": " + std::strerror(error)});
    }
    if (what & BEV_EVENT_EOF) {
      read_status();  // a last line without its end of line is no status line either
      end({false, "HTTP " + target_.address.text + ": the connection closed before an answer"});
    }
  }

  void on_deadline() { end({false, poll_.timed_out()}); }

  // Closes the connection (safe inside the bufferevent's own callbacks: libevent holds a
  // reference while they run) and ends the poll; later calls for the same poll do nothing.
  void end(ProbeResult result) {
    connect_.cancel();
    bev_.reset();
    poll_.finish(std::move(result));
  }

  template <typename Fn>
  static void guard(void* self, Fn&& fn) noexcept {
    try {
      fn(*static_cast<HttpProbe*>(self));
    } catch (const std::exception& e) {
      // The poll still ends: at its deadline.
      log::error("unexpected exception in the http probe", {{"error", e.what()}});
    } catch (...) {
      log::error("unexpected exception in the http probe");
    }
  }
  static void on_read(bufferevent*, void* self) noexcept {
    guard(self, [](HttpProbe& p) { p.read_status(); });
  }
  static void on_event(bufferevent*, short what, void* self) noexcept {
    guard(self, [what](HttpProbe& p) { p.on_connection_event(what); });
  }

  HttpTarget target_;
  EventLoop& loop_;
  ProbeConnect connect_;
  ProbePoll poll_;
  std::string request_;
  BuffereventPtr bev_;
};

}  // namespace

std::optional<HttpTarget> parse_http_target(std::string_view url, std::string& error) {
  constexpr std::string_view kScheme = "http://";
  if (url.size() < kScheme.size() || ::strncasecmp(url.data(), kScheme.data(), kScheme.size())) {
    error =
        url.starts_with("https:")
            ? "https is not supported: probe the service's plain-HTTP port, or use an exec "
              "probe (curl -fsS)"
            : in_quotes(url) + " is not an http:// URL: write \"http://127.0.0.1:8080/healthz\"";
    return std::nullopt;
  }
  std::string_view rest = url.substr(kScheme.size());
  rest = rest.substr(0, rest.find('#'));
  auto path_at = rest.find_first_of("/?");
  std::string_view authority = rest.substr(0, path_at);
  std::string_view path = path_at == std::string_view::npos ? "" : rest.substr(path_at);
  if (authority.find('@') != std::string_view::npos) {
    error = "a user or password in the URL is not supported";
    return std::nullopt;
  }
  if (!printable(path)) {
    error = "the path has a space or a control character: percent-encode it (%20)";
    return std::nullopt;
  }
  auto address = parse_probe_address(authority, 80, error);
  if (!address) return std::nullopt;
  HttpTarget target{*address, std::string(authority), "/"};
  if (!path.empty() && path.front() == '/') target.path.clear();
  target.path += path;
  return target;
}

std::unique_ptr<Probe> make_http_probe(const HttpTarget& target, EventLoop& loop) {
  return std::make_unique<HttpProbe>(target, loop);
}

}  // namespace gardien
