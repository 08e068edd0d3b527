// The module search: one directory listing per directory, looked up by lower-cased name.
#include "process/search_path.hpp"

#include <algorithm>
#include <filesystem>
#include <system_error>

namespace pemap::ldr {

namespace fs = std::filesystem;

namespace {
char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }
}  // namespace

std::string lowercase(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), lower);
  return out;
}

bool same_module_name(std::string_view a, std::string_view b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return lower(x) == lower(y); });
}

std::string normalize_module_name(std::string_view name) {
  while (!name.empty() && name.back() == ' ') name.remove_suffix(1);
  if (auto slash = name.find_last_of("/\\"); slash != std::string_view::npos) name.remove_prefix(slash + 1);
  std::string out(name);
  if (out.find('.') == std::string::npos) out += ".dll";
  return out;
}

SearchPath SearchPath::standard(const std::string& app_dir, const std::vector<std::string>& dirs) {
  std::vector<Entry> entries;
  entries.push_back({app_dir.empty() ? std::string(".") : app_dir, "application directory"});
  for (const auto& d : dirs) entries.push_back({d, "--path"});
  entries.push_back({".", "current directory"});
  return SearchPath(std::move(entries));
}

const std::map<std::string, std::string>& SearchPath::listing(const std::string& dir) {
  auto [it, fresh] = listings_.try_emplace(dir);
  if (!fresh) return it->second;
  std::error_code ec;
  for (fs::directory_iterator d(dir, ec), end; !ec && d != end; d.increment(ec)) {
    std::error_code type_ec;
    if (!d->is_regular_file(type_ec)) continue;
    const std::string name = d->path().filename().string();
    it->second.try_emplace(lowercase(name), name);  // two names differing only in case: the first listed wins
  }
  return it->second;
}

std::optional<Located> SearchPath::locate(std::string_view name) {
  const std::string key = lowercase(name);
  for (const auto& e : entries_) {
    const auto& files = listing(e.dir);
    if (auto it = files.find(key); it != files.end()) return Located{(fs::path(e.dir) / it->second).string(), e.label};
  }
  return std::nullopt;
}

}  // namespace pemap::ldr
