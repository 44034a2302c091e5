// The rlimits table: each limit as one value or { soft, hard }, sizes where the limit is in bytes.
#include <sys/resource.h>

#include "common/config/loader.h"

namespace gardien::config_loader {

namespace {

struct RlimitName {
  std::string_view name;
  int resource;
  bool bytes;  // accepts sizes like "64MiB"
};
constexpr RlimitName kRlimits[] = {
    {"as", RLIMIT_AS, true},           {"core", RLIMIT_CORE, true},
    {"cpu", RLIMIT_CPU, false},        {"data", RLIMIT_DATA, true},
    {"fsize", RLIMIT_FSIZE, true},     {"locks", RLIMIT_LOCKS, false},
    {"memlock", RLIMIT_MEMLOCK, true}, {"msgqueue", RLIMIT_MSGQUEUE, true},
    {"nice", RLIMIT_NICE, false},      {"nofile", RLIMIT_NOFILE, false},
    {"nproc", RLIMIT_NPROC, false},    {"rss", RLIMIT_RSS, true},
    {"rtprio", RLIMIT_RTPRIO, false},  {"sigpending", RLIMIT_SIGPENDING, false},
    {"stack", RLIMIT_STACK, true},
};

}  // namespace

std::optional<std::uint64_t> Loader::get_rlimit_value(const Field& f, bool bytes) {
  std::string what =
      bytes ? "an integer, a size like \"64MiB\" or \"unlimited\"" : "an integer or \"unlimited\"";
  if (f.node->is_integer()) {
    std::int64_t v = f.node->as_integer()->get();
    if (v >= 0) return static_cast<std::uint64_t>(v);
  } else if (f.node->is_string()) {
    auto text = expand(f.node->as_string()->get(), f);
    if (!text) return std::nullopt;
    if (*text == "unlimited" || *text == "infinity") return RLIM_INFINITY;
    if (bytes) {
      if (auto size = parse_size(*text)) return *size;
    }
  }
  expected(f, what);
  return std::nullopt;
}

// One limit: a value for both, or { soft, hard }.
std::optional<ResourceLimit> Loader::get_rlimit(const Field& v, int resource, bool bytes) {
  ResourceLimit rl;
  rl.resource = resource;
  const toml::table* pair = v.node->as_table();
  if (!pair) {
    auto value = get_rlimit_value(v, bytes);
    if (!value) return std::nullopt;
    rl.soft = rl.hard = *value;
    return rl;
  }
  TableReader pr(*this, *pair, v.file, v.path);
  auto soft = pr.get("soft");
  auto hard = pr.get("hard");
  pr.finish();
  if (!soft || !hard) {
    error(place(v), v.path, "expected both soft and hard, like { soft = 1024, hard = 4096 }");
    return std::nullopt;
  }
  auto s = get_rlimit_value(*soft, bytes);
  auto h = get_rlimit_value(*hard, bytes);
  if (!s || !h) return std::nullopt;
  if (*s > *h) {
    error(*soft, "the soft limit is above the hard limit; make soft <= hard");
    return std::nullopt;
  }
  rl.soft = *s;
  rl.hard = *h;
  return rl;
}

std::optional<std::vector<ResourceLimit>> Loader::get_rlimits(const Field& f) {
  const toml::table* table = f.node->as_table();
  if (!table) {
    expected(f, "a table like { nofile = 4096 }");
    return std::nullopt;
  }
  TableReader r(*this, *table, f.file, f.path);
  std::vector<ResourceLimit> out;
  bool ok = true;
  for (const RlimitName& limit : kRlimits) {
    auto v = r.get(limit.name);
    if (!v) continue;
    auto rl = get_rlimit(*v, limit.resource, limit.bytes);
    if (rl) out.push_back(*rl);
    ok = ok && rl;
  }
  r.finish();
  if (!ok) return std::nullopt;
  return out;
}

}  // namespace gardien::config_loader
