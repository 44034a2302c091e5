#include "common/socket_path.h"

#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

using namespace gardien;

namespace {

SocketPathInputs user(std::string xdg = "/run/user/1000") {
  SocketPathInputs in;
  in.euid = 1000;
  in.xdg_runtime_dir = std::move(xdg);
  return in;
}

}  // namespace

TEST(SocketPath, OptionWinsOverEverything) {
  SocketPathInputs in = user();
  in.option = "/tmp/a.sock";
  in.config = "/tmp/b.sock";
  in.env = "/tmp/c.sock";
  EXPECT_EQ(resolve_socket_path(in).path, "/tmp/a.sock");
}

TEST(SocketPath, ThenConfigThenEnvironment) {
  SocketPathInputs in = user();
  in.config = "/tmp/b.sock";
  in.env = "/tmp/c.sock";
  EXPECT_EQ(resolve_socket_path(in).path, "/tmp/b.sock");
  in.config.clear();
  EXPECT_EQ(resolve_socket_path(in).path, "/tmp/c.sock");
}

TEST(SocketPath, DefaultsForRootAndOthers) {
  SocketPathInputs root;
  root.euid = 0;
  root.xdg_runtime_dir = "/run/user/0";
  EXPECT_EQ(resolve_socket_path(root).path, "/run/gardien.sock");
  EXPECT_EQ(resolve_socket_path(user()).path, "/run/user/1000/gardien.sock");
  EXPECT_EQ(resolve_socket_path(user("/run/user/1000/")).path, "/run/user/1000/gardien.sock");
}

TEST(SocketPath, NoRuntimeDirForAUserIsAClearError) {
  SocketPath p = resolve_socket_path(user(""));
  EXPECT_FALSE(p.ok());
  EXPECT_NE(p.error.find("XDG_RUNTIME_DIR is not set"), std::string::npos) << p.error;
  EXPECT_NE(p.error.find("--socket"), std::string::npos) << p.error;
  EXPECT_NE(p.error.find("GARDIEN_SOCKET"), std::string::npos) << p.error;

  p = resolve_socket_path(user("relative/dir"));
  EXPECT_FALSE(p.ok());
  EXPECT_NE(p.error.find("not an absolute path"), std::string::npos) << p.error;
}

TEST(SocketPath, TooLongForSunPathIsAClearError) {
  std::string at_limit = "/" + std::string(kMaxSocketPathBytes - 1, 'x');
  ASSERT_EQ(at_limit.size(), 107u);
  SocketPathInputs in = user();
  in.option = at_limit;
  EXPECT_TRUE(resolve_socket_path(in).ok());

  in.option = at_limit + "y";
  SocketPath p = resolve_socket_path(in);
  EXPECT_FALSE(p.ok());
  EXPECT_NE(p.error.find("too long (108 bytes"), std::string::npos) << p.error;
  EXPECT_NE(p.error.find("at most 107"), std::string::npos) << p.error;

  // A long runtime dir makes the default too long: said, not truncated.
  p = resolve_socket_path(user("/" + std::string(100, 'r')));
  EXPECT_FALSE(p.ok());
  EXPECT_NE(p.error.find("too long"), std::string::npos) << p.error;
}

TEST(SocketPath, AddressHoldsThePathAndItsNul) {
  sockaddr_un addr{};
  socklen_t len = 0;
  ASSERT_TRUE(make_socket_address("/tmp/g.sock", addr, len));
  EXPECT_EQ(addr.sun_family, AF_UNIX);
  EXPECT_STREQ(addr.sun_path, "/tmp/g.sock");
  EXPECT_EQ(len, offsetof(sockaddr_un, sun_path) + 12);
  EXPECT_FALSE(make_socket_address(std::string(200, 'a'), addr, len));
  EXPECT_FALSE(make_socket_address("", addr, len));
  EXPECT_TRUE(check_socket_path(std::string("a\0b", 3)).has_value());
}

TEST(SocketPath, InputsComeFromTheEnvironment) {
  ::setenv("GARDIEN_SOCKET", "/tmp/from-env.sock", 1);
  ::setenv("XDG_RUNTIME_DIR", "/run/user/4321", 1);
  SocketPathInputs in = socket_path_inputs("", "/etc/conf.sock");
  EXPECT_EQ(in.env, "/tmp/from-env.sock");
  EXPECT_EQ(in.xdg_runtime_dir, "/run/user/4321");
  EXPECT_EQ(in.config, "/etc/conf.sock");
  EXPECT_EQ(in.euid, ::geteuid());
  EXPECT_EQ(resolve_socket_path(in).path, "/etc/conf.sock");
  ::unsetenv("GARDIEN_SOCKET");
  ::unsetenv("XDG_RUNTIME_DIR");
  in = socket_path_inputs("");
  EXPECT_TRUE(in.env.empty());
  EXPECT_TRUE(in.xdg_runtime_dir.empty());
}

// Whoever can write the socket's directory can replace the socket with their own.
TEST(SocketPath, ADirectoryOthersCanWriteIsRefusedUnlessStickyAndThePathIsOurs) {
  char tmpl[] = "/tmp/gardien-sockdir-XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  std::string dir = tmpl;
  std::string path = dir + "/ctl.sock";
  uid_t me = ::geteuid();
  EXPECT_EQ(check_socket_directory(path, me), std::nullopt);  // 0700, ours

  ASSERT_EQ(::chmod(dir.c_str(), 0777), 0);
  auto error = check_socket_directory(path, me);
  ASSERT_TRUE(error);
  EXPECT_NE(error->find(dir + " (mode 0777"), std::string::npos) << *error;
  EXPECT_NE(error->find("lets others replace the socket"), std::string::npos) << *error;
  ASSERT_EQ(::chmod(dir.c_str(), 0770), 0);
  EXPECT_TRUE(check_socket_directory(path, me));

  ASSERT_EQ(::chmod(dir.c_str(), 01777), 0);  // like /tmp
  EXPECT_EQ(check_socket_directory(path, me), std::nullopt);
  std::ofstream(path) << "";
  EXPECT_EQ(check_socket_directory(path, me), std::nullopt);  // ours
  error = check_socket_directory(path, me + 1);               // someone else's file at the path
  ASSERT_TRUE(error);
  EXPECT_NE(error->find("belongs to uid " + std::to_string(me)), std::string::npos) << *error;

  ASSERT_EQ(::chmod(dir.c_str(), 0700), 0);
  if (me == 0 && ::chown(dir.c_str(), 65534, 65534) == 0) {  // owned by another user
    error = check_socket_directory(path, me);
    ASSERT_TRUE(error);
    EXPECT_NE(error->find("owner uid 65534"), std::string::npos) << *error;
  }
  std::filesystem::remove_all(dir);
}
