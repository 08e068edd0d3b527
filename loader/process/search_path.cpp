// The module search: one directory listing per directory, looked up by lower-cased name.
#include "process/search_path.hpp"

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <system_error>

#include <fmt/format.h>

#include "pe/spec.hpp"

namespace pemap::ldr {

namespace fs = std::filesystem;

namespace {

// The kind of image a file holds, from its optional header's magic; `any` when it is not a PE image pemap can read
// (the loader then says what is wrong with it).
Bitness file_bitness(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  uint32_t lfanew = 0;
  uint16_t magic = 0;
  if (!in.seekg(0x3c) || !in.read(reinterpret_cast<char*>(&lfanew), 4)) return Bitness::any;
  if (!in.seekg(std::streamoff{lfanew} + 24) || !in.read(reinterpret_cast<char*>(&magic), 2)) return Bitness::any;
  return magic == pe::kPe32PlusMagic ? Bitness::pe32plus : magic == pe::kPe32Magic ? Bitness::pe32 : Bitness::any;
}

std::string_view kind(Bitness b) { return b == Bitness::pe32plus ? "PE32+" : "PE32"; }

}  // namespace

std::vector<SearchPath::Entry> SearchPath::entries(Bitness bitness) const {
  std::vector<Entry> out;
  out.push_back({places_.app_dir.empty() ? std::string(".") : places_.app_dir, "application directory"});
  if (const auto& system = places_.system.for_process(bitness); !system.empty())
    out.push_back({system, "system directory"});
  out.push_back({".", "current directory"});
  for (const auto& d : places_.path_dirs) out.push_back({d, "--path"});
  return out;
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

std::optional<std::string> SearchPath::fits(const std::string& dir, const std::string& key, Bitness bitness,
                                            Located& out) {
  const auto& files = listing(dir);
  const auto it = files.find(key);
  if (it == files.end()) return std::nullopt;
  std::string path = (fs::path(dir) / it->second).string();
  const Bitness has = bitness == Bitness::any ? Bitness::any : file_bitness(path);
  if (has != Bitness::any && has != bitness) {
    out.skipped.push_back({path, fmt::format("a {} image; the process is {}", kind(has), kind(bitness))});
    return std::nullopt;
  }
  return path;
}

Located SearchPath::locate(const ModuleName& name, Bitness bitness) {
  const std::string& key = name.key();
  Located out;
  // KnownDLLs: mapped from the system directory before any other place is looked at (a file of the name in the
  // application's directory is never taken: the classic defence against DLL planting).
  const auto& system = places_.system.for_process(bitness);
  if (!system.empty() && places_.known.contains(key))
    if (auto path = fits(system, key, bitness, out)) {
      out.path = std::move(*path);
      out.where = "KnownDLLs";
      return out;
    }
  std::vector<std::string> looked;  // a directory that is two of the places is looked in once
  if (!system.empty() && places_.known.contains(key)) looked.push_back(system);
  for (const auto& e : entries(bitness)) {
    if (std::find(looked.begin(), looked.end(), e.dir) != looked.end()) continue;
    looked.push_back(e.dir);
    if (auto path = fits(e.dir, key, bitness, out)) {
      out.path = std::move(*path);
      out.where = e.label;
      return out;
    }
  }
  return out;
}

}  // namespace pemap::ldr
