// Users and groups, resolved from the password and group databases when the config is loaded (no
// NSS lookups after fork).
#include <grp.h>
#include <pwd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>

#include "common/config/loader.h"

namespace gardien::config_loader {

namespace {

// getpw*_r / getgr*_r want a caller buffer that may need to grow; `call` copies what it needs.
template <typename Entry, typename Call>
void lookup_entry(Call call) {
  std::vector<char> buffer(4096);
  for (;;) {
    Entry entry{};
    Entry* result = nullptr;
    int rc = call(&entry, buffer.data(), buffer.size(), &result);
    if (rc != ERANGE || buffer.size() >= (1u << 22)) return;
    buffer.resize(buffer.size() * 4);
  }
}

// A numeric uid/gid; nullopt beyond 32 bits or for -1 (which would wrap to another id).
std::optional<std::uint32_t> parse_id(std::string_view digits) {
  std::uint32_t id = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), id);
  if (ec != std::errc{} || end != digits.data() + digits.size() || id == 0xffffffffu)
    return std::nullopt;
  return id;
}

std::optional<RunAs> find_user(const std::string& name_or_id) {
  std::optional<RunAs> out;
  auto fill = [&](passwd* pw, char* buf, std::size_t len, passwd** result) {
    int rc;
    if (all_digits(name_or_id)) {
      auto uid = parse_id(name_or_id);
      if (!uid) return 0;  // no such uid
      rc = ::getpwuid_r(*uid, pw, buf, len, result);
    } else {
      rc = ::getpwnam_r(name_or_id.c_str(), pw, buf, len, result);
    }
    if (rc == 0 && *result)
      out = RunAs{pw->pw_name, pw->pw_uid, pw->pw_gid, pw->pw_dir, pw->pw_shell, {}};
    return rc;
  };
  lookup_entry<passwd>(fill);
  return out;
}

std::optional<gid_t> find_group(const std::string& name_or_id) {
  std::optional<gid_t> out;
  auto fill = [&](group* gr, char* buf, std::size_t len, group** result) {
    int rc;
    if (all_digits(name_or_id)) {
      auto gid = parse_id(name_or_id);
      if (!gid) return 0;  // no such gid
      rc = ::getgrgid_r(*gid, gr, buf, len, result);
    } else {
      rc = ::getgrnam_r(name_or_id.c_str(), gr, buf, len, result);
    }
    if (rc == 0 && *result) out = gr->gr_gid;
    return rc;
  };
  lookup_entry<group>(fill);
  return out;
}

std::vector<gid_t> supplementary_groups(const std::string& user, gid_t primary) {
  int count = 32;
  std::vector<gid_t> groups(static_cast<std::size_t>(count));
  for (int attempt = 0; attempt < 8; ++attempt) {
    int n = count;
    if (::getgrouplist(user.c_str(), primary, groups.data(), &n) >= 0) {
      groups.resize(static_cast<std::size_t>(n));
      return groups;
    }
    count = std::max(n, count * 2);
    groups.resize(static_cast<std::size_t>(count));
  }
  return {primary};
}

}  // namespace

// A user or group as written: a name, or a numeric id as an integer or a string of digits.
std::optional<std::string> Loader::get_id_text(const Field& f, std::string_view what) {
  if (f.node->is_integer()) {
    std::int64_t v = f.node->as_integer()->get();
    if (v >= 0 && v < 0xffffffffLL) return std::to_string(v);
  } else if (f.node->is_string()) {
    auto text = expand(f.node->as_string()->get(), f);
    if (!text) return std::nullopt;
    if (!text->empty()) return text;
  }
  std::string message = "a ";
  message += what;
  message += " name or numeric id";
  expected(f, message);
  return std::nullopt;
}

std::optional<gid_t> Loader::get_group(const Field& f) {
  auto text = get_id_text(f, "group");
  if (!text) return std::nullopt;
  auto gid = find_group(*text);
  if (!gid) {
    std::string message = "unknown group ";
    message += quote(*text);
    message += " (not in the group database: create it or use another group)";
    error(f, std::move(message));
  }
  return gid;
}

std::optional<RunAs> Loader::get_user(const Field& f) {
  auto text = get_id_text(f, "user");
  if (!text) return std::nullopt;
  auto user = find_user(*text);
  if (!user) {
    std::string message = "unknown user ";
    message += quote(*text);
    message += " (not in the password database: create it or use another user)";
    error(f, std::move(message));
    return std::nullopt;
  }
  user->groups = supplementary_groups(user->user, user->gid);
  return user;
}

}  // namespace gardien::config_loader
