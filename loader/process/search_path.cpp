// The module search: one directory listing per directory, looked up by lower-cased name.
#include "process/search_path.hpp"

#include <filesystem>
#include <system_error>

namespace pemap::ldr {

namespace fs = std::filesystem;

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
    it->second.try_emplace(ascii_lower(name), name);  // two names differing only in case: the first listed wins
  }
  return it->second;
}

std::optional<Located> SearchPath::locate(const ModuleName& name) {
  const std::string& key = name.key();
  for (const auto& e : entries_) {
    const auto& files = listing(e.dir);
    if (auto it = files.find(key); it != files.end()) return Located{(fs::path(e.dir) / it->second).string(), e.label};
  }
  return std::nullopt;
}

}  // namespace pemap::ldr
