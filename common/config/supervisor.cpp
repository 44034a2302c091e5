// The [supervisor] table: the daemon's own settings and the main file's includes.
#include <sys/un.h>

#include "common/config/loader.h"

namespace gardien::config_loader {

namespace {

constexpr std::int64_t kMaxConcurrentJobs = 100'000;
constexpr std::int64_t kMaxQueuedJobs = 10'000'000;

}  // namespace

// max-concurrent-jobs, max-queued-jobs and state-dir: the task runs' queue and their history.
void Loader::read_job_queue(TableReader& r, SupervisorConfig& out) {
  if (auto v = r.get("max-concurrent-jobs")) {
    if (auto n = get_int(*v, 1, kMaxConcurrentJobs)) out.max_concurrent_jobs = static_cast<int>(*n);
  }
  if (auto v = r.get("max-queued-jobs")) {
    if (auto n = get_int(*v, 0, kMaxQueuedJobs)) out.max_queued_jobs = static_cast<int>(*n);
  }
  if (auto v = r.get("state-dir")) {
    auto dir = get_string(*v, "an absolute path like \"/var/lib/gardien\"");
    if (dir && (dir->empty() || dir->front() != '/')) {
      error(*v, cat("expected an absolute path like \"/var/lib/gardien\", got ", quote(*dir)));
    } else if (dir) {
      out.state_dir = fs::path(*dir).lexically_normal().string();
    }
  }
}

void Loader::read_supervisor(const Field& f, SupervisorConfig& out) {
  const toml::table* table = f.node->as_table();
  if (!table) {
    expected(f, "a table [supervisor]");
    return;
  }
  TableReader r(*this, *table, f.file, "supervisor");
  if (auto v = r.get("socket")) {
    if (auto path = get_path(*v)) {
      if (path->size() >= sizeof(sockaddr_un::sun_path)) {
        std::string message = "the socket path is ";
        message += std::to_string(path->size());
        message += " bytes long; Unix socket paths must be shorter than ";
        message += std::to_string(sizeof(sockaddr_un::sun_path));
        message += " bytes: use a shorter path";
        error(*v, std::move(message));
      } else {
        out.socket = *path;
      }
    }
  }
  if (auto v = r.get("socket-mode")) {
    if (auto mode = get_mode(*v)) out.socket_mode = *mode;
  }
  if (auto v = r.get("socket-group")) out.socket_group = get_group(*v);
  if (auto v = r.get("socket-readers")) out.socket_readers = get_group(*v);
  if (auto v = r.get("log-level")) {
    if (auto level = get_enum<LogLevel>(*v, {{"debug", LogLevel::debug},
                                             {"info", LogLevel::info},
                                             {"warn", LogLevel::warn},
                                             {"error", LogLevel::error}}))
      out.log_level = *level;
  }
  if (auto v = r.get("log-format")) {
    if (auto format =
            get_enum<LogFormat>(*v, {{"text", LogFormat::text}, {"json", LogFormat::json}}))
      out.log_format = *format;
  }
  if (auto v = r.get("shutdown-timeout")) {
    if (auto d = get_duration(*v)) out.shutdown_timeout = *d;
  }
  read_job_queue(r, out);
  if (auto v = r.get("include")) read_includes(*v);
  r.finish();
}

}  // namespace gardien::config_loader
