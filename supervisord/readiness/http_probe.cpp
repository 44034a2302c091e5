#include "supervisord/readiness/http_probe.h"

#include <strings.h>
#include <sys/socket.h>

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

#include "supervisord/readiness/probe_connect.h"
#include "supervisord/readiness/probe_poll.h"

namespace gardien {

namespace {

// A status line longer than this is not HTTP: the probe reads no further.
constexpr std::size_t kMaxStatusLine = 8192;

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
    io_.reset();  // the last poll's, disabled when it ended
    retired_.clear();
    std::string error;
    auto connected = [this](Fd socket, std::string failure) {
      if (!socket) return end({false, std::move(failure)});
      begin_exchange(std::move(socket));
    };
    if (!connect_.start(target_.address, connected, error)) end({false, std::move(error)});
  }

 private:
  // Plain send() and recv() on the connected socket, one fd event at a time: a poll every
  // second for each of a hundred programs stays a few system calls each.
  void begin_exchange(Fd socket) {
    socket_ = std::move(socket);
    sent_ = 0;
    answer_.clear();
    send_request();
  }

  void send_request() {
    while (sent_ < request_.size()) {
      ssize_t n =
          ::send(socket_.get(), request_.data() + sent_, request_.size() - sent_, MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return wait_for(EV_WRITE);
      if (n < 0) return end({false, "HTTP " + target_.address.text + ": " + std::strerror(errno)});
      sent_ += static_cast<std::size_t>(n);
    }
    wait_for(EV_READ);
  }

  void wait_for(short what) {
    if (io_) io_->disable();
    if (io_) retired_.push_back(std::move(io_));  // maybe in its own callback: freed next poll
    io_ = std::make_unique<FdEvent>(loop_, socket_.get(), what, [this, what](short) {
      if (what == EV_WRITE) return send_request();
      read_status();
    });
    io_->enable();
  }

  void read_status() {
    char buffer[kMaxStatusLine];
    for (;;) {
      std::size_t room = kMaxStatusLine - answer_.size();
      ssize_t n = ::recv(socket_.get(), buffer, room, 0);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
      if (n < 0) return end({false, "HTTP " + target_.address.text + ": " + std::strerror(errno)});
      if (n == 0) {
        return end(
            {false, "HTTP " + target_.address.text + ": the connection closed before an answer"});
      }
      answer_.append(buffer, static_cast<std::size_t>(n));
      if (status_line_came()) return;
    }
  }

  // Ends the poll once the status line came (its end is a LF, after an optional CR), or once
  // 8 KiB came without one.
  bool status_line_came() {
    auto eol = answer_.find('\n');
    if (eol == std::string::npos) {
      if (answer_.size() < kMaxStatusLine) return false;
      end({false, "HTTP: no status line in the first 8 KiB of the answer"});
      return true;
    }
    std::string_view line(answer_.data(), eol);
    if (line.ends_with('\r')) line.remove_suffix(1);
    std::optional<int> code = status_code(line);
    if (!code) {
      end({false, "HTTP: not an HTTP status line: " + in_quotes(line)});
    } else {
      end({*code >= 200 && *code < 300, "HTTP " + std::to_string(*code)});
    }
    return true;
  }

  void on_deadline() { end({false, poll_.timed_out()}); }

  // Closes the connection and ends the poll; later calls for the same poll do nothing. Its fd
  // event may be running: it is only disabled here, and freed at the next poll.
  void end(ProbeResult result) {
    connect_.cancel();
    if (io_) io_->disable();
    socket_.reset();
    poll_.finish(std::move(result));
  }

  HttpTarget target_;
  EventLoop& loop_;
  ProbeConnect connect_;
  ProbePoll poll_;
  std::string request_;
  Fd socket_;
  std::size_t sent_ = 0;
  std::string answer_;  // what came of the answer, up to its status line or 8 KiB
  std::unique_ptr<FdEvent> io_;
  std::vector<std::unique_ptr<FdEvent>> retired_;
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
