// Output sinks (`stdout`, `stderr`): a name, or a table for a file.
#include "common/config/loader.h"

namespace gardien::config_loader {

std::optional<OutputSink> Loader::get_file_sink(const Field& f, const toml::table& table) {
  OutputSink sink;
  sink.kind = OutputSink::Kind::file;
  TableReader r(*this, table, f.file, f.path);
  bool ok = true;
  if (auto v = r.get("file")) {
    auto path = get_path(*v);
    if (path) sink.path = *path;
    ok = ok && path;
  } else {
    error(place(f), f.path,
          "missing key \"file\": the log file's path, e.g. { file = \"/var/log/app.log\" }");
    ok = false;
  }
  if (auto v = r.get("max-size")) {
    auto size = get_size(*v);
    if (size) sink.max_size = *size;
    ok = ok && size;
  }
  if (auto v = r.get("keep")) {
    auto keep = get_int(*v, 0, 1000);
    if (keep) sink.keep = static_cast<int>(*keep);
    ok = ok && keep;
  }
  r.finish();
  if (!ok) return std::nullopt;
  return sink;
}

std::optional<OutputSink> Loader::get_sink(const Field& f, bool is_stderr) {
  std::vector<std::string_view> names = {"prefix", "inherit", "null"};
  if (is_stderr) names.push_back("stdout");
  std::string what = quote_list(names);
  what += ", or a table like { file = \"PATH\" }";
  std::string expected_what = cat("one of ", what);
  if (const toml::table* table = f.node->as_table()) return get_file_sink(f, *table);
  if (!f.node->is_string()) {
    expected(f, expected_what);
    return std::nullopt;
  }
  auto text = expand(f.node->as_string()->get(), f);
  if (!text) return std::nullopt;
  OutputSink sink;
  if (*text == "prefix") {
    sink.kind = OutputSink::Kind::prefix;
  } else if (*text == "inherit") {
    sink.kind = OutputSink::Kind::inherit;
  } else if (*text == "null") {
    sink.kind = OutputSink::Kind::null;
  } else if (*text == "stdout" && is_stderr) {
    sink.kind = OutputSink::Kind::merge;
  } else {
    std::string message = cat("expected ", expected_what);
    message += ", got ";
    message += quote(*text);
    if (*text == "stdout") {
      message += "; \"stdout\" is only valid for stderr (merging it into stdout)";
    } else if (text->find('/') != std::string::npos) {
      message += "; for a file write { file = ";
      message += quote(*text);
      message += " }";
    } else if (auto suggestion = closest(*text, names); !suggestion.empty()) {
      message += "; did you mean ";
      message += quote(suggestion);
      message += '?';
    }
    error(f, std::move(message));
    return std::nullopt;
  }
  return sink;
}

}  // namespace gardien::config_loader
