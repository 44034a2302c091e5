// The man pages (man/*.scd) name every config key the loader accepts and every gardienctl verb,
// both asked of the code itself, so that a new key or verb without its page fails here.
#include <gtest/gtest.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "common/config_keys.h"
#include "ctl/verbs.h"

namespace gardien {
namespace {

std::string read_page(const std::string& name) {
  std::ifstream in(std::string(GARDIEN_SOURCE_DIR) + "/man/" + name);
  EXPECT_TRUE(in) << "man/" << name;
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// A word the page sets in bold, as scdoc writes it: *word*.
bool names_in_bold(const std::string& page, const std::string& word) {
  return page.find("*" + word + "*") != std::string::npos;
}

TEST(ManPages, TheLoaderListsTheKeysOfEveryTable) {
  auto tables = accepted_config_keys();
  for (const char* table : {"supervisor", "program.NAME", "program.NAME.ready",
                            "program.NAME.health", "program.NAME.stdout", "program.NAME.rlimits",
                            "program.NAME.rlimits.nofile"}) {
    ASSERT_TRUE(tables.contains(table)) << "no unknown-key error listing the keys of " << table;
    EXPECT_FALSE(tables[table].empty()) << table;
  }
  // The lists are the loader's: a key it reads is in its table's list.
  const auto& program = tables["program.NAME"];
  EXPECT_NE(std::find(program.begin(), program.end(), "stop-timeout"), program.end());
}

TEST(ManPages, ConfigPageNamesEveryKey) {
  std::string page = read_page("gardien.toml.5.scd");
  for (const auto& [table, keys] : accepted_config_keys()) {
    for (const std::string& key : keys) {
      EXPECT_TRUE(names_in_bold(page, key))
          << "man/gardien.toml.5.scd does not describe " << table << "." << key << " (as *"
          << key << "*)";
    }
  }
}

TEST(ManPages, GardienctlPageNamesEveryVerb) {
  std::string page = read_page("gardienctl.1.scd");
  for (std::string_view verb : ctl::verb_names()) {
    // A verb's entry starts a line: *verb* and its arguments.
    std::string entry = "\n*" + std::string(verb) + "*";
    EXPECT_NE(page.find(entry), std::string::npos)
        << "man/gardienctl.1.scd has no entry for the verb " << verb;
  }
}

TEST(ManPages, GardienctlPageNamesEveryVerbOption) {
  std::string page = read_page("gardienctl.1.scd");
  for (const ctl::VerbSpec& verb : ctl::verb_table()) {
    CLI::App sub;
    ctl::Options options;
    verb.arguments(sub, options);
    for (const CLI::Option* option : sub.get_options()) {
      for (const std::string& name : option->get_lnames()) {
        EXPECT_TRUE(names_in_bold(page, "--" + name))
            << "man/gardienctl.1.scd does not name " << verb.name << " --" << name;
      }
      for (const std::string& name : option->get_snames()) {
        EXPECT_TRUE(names_in_bold(page, "-" + name))
            << "man/gardienctl.1.scd does not name " << verb.name << " -" << name;
      }
    }
  }
}

TEST(ManPages, EachPageCrossReferencesTheOthers) {
  const std::set<std::string> pages = {"gardien(8)", "gardienctl(1)", "gardien.toml(5)"};
  for (const char* source : {"gardien.8.scd", "gardienctl.1.scd", "gardien.toml.5.scd"}) {
    std::string text = read_page(source);
    std::string self = text.substr(0, text.find('\n'));
    for (const std::string& other : pages) {
      if (other == self) continue;
      std::string name = other.substr(0, other.find('('));
      std::string reference = "*" + name + "*" + other.substr(name.size());
      EXPECT_NE(text.find(reference), std::string::npos) << source << " has no " << reference;
    }
  }
}

}  // namespace
}  // namespace gardien
