// The daemon's folders include only what their README.md says they may: the layout is the
// architecture, and an include that crosses it is caught here rather than in review.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>

namespace gardien {
namespace {

namespace fs = std::filesystem;

const fs::path kDaemon = fs::path(GARDIEN_SOURCE_DIR) / "supervisord";

std::string read(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// "May include: common/, loop/, control/ (why)." -> {common, loop, control}
std::set<std::string> allowed_by(const fs::path& readme) {
  std::string text = read(readme);
  std::set<std::string> out;
  auto at = text.find("May include:");
  if (at == std::string::npos) return out;
  std::string line = text.substr(at, text.find('\n', at) - at);
  static const std::regex folder(R"(([a-z_]+)/)");
  for (auto it = std::sregex_iterator(line.begin(), line.end(), folder);
       it != std::sregex_iterator(); ++it)
    out.insert((*it)[1]);
  return out;
}

TEST(Layout, EachFolderSaysWhatItOwnsAndIncludesOnlyWhatItMay) {
  static const std::regex include(R"re(#include "(common|supervisord/([a-z_]+))/)re");
  int folders = 0;
  for (const auto& dir : fs::directory_iterator(kDaemon)) {
    if (!dir.is_directory()) continue;
    ++folders;
    std::string name = dir.path().filename();
    fs::path readme = dir.path() / "README.md";
    ASSERT_TRUE(fs::exists(readme)) << name << "/ has no README.md saying what it owns";
    EXPECT_NE(read(readme).find("Owns"), std::string::npos) << readme;
    std::set<std::string> allowed = allowed_by(readme);
    ASSERT_FALSE(allowed.empty()) << readme << " has no `May include:` line";
    for (const auto& file : fs::recursive_directory_iterator(dir.path())) {
      std::string text = read(file.path());
      for (auto it = std::sregex_iterator(text.begin(), text.end(), include);
           it != std::sregex_iterator(); ++it) {
        std::string target = (*it)[2].matched ? std::string((*it)[2]) : std::string("common");
        if (target == name) continue;
        EXPECT_TRUE(allowed.count(target))
            << file.path() << " includes " << target << "/, which " << readme << " does not allow";
      }
    }
  }
  EXPECT_GE(folders, 5);
}

// The layers run one way: task runs sit below what runs as a whole and above one process.
TEST(Layout, JobsSitBetweenOrchestrateAndProcess) {
  std::set<std::string> jobs = allowed_by(kDaemon / "jobs" / "README.md");
  EXPECT_EQ(jobs, (std::set<std::string>{"common", "loop", "control", "output", "process"}));
  for (const char* lower : {"loop", "control", "output", "process", "readiness"})
    EXPECT_FALSE(allowed_by(kDaemon / lower / "README.md").count("jobs")) << lower;
}

}  // namespace
}  // namespace gardien
