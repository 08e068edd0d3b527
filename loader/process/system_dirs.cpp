// Where the system directories come from, and the KnownDLLs list.
#include "process/system_dirs.hpp"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <system_error>

#include <fmt/format.h>

#include "process/module_name.hpp"

namespace pemap::ldr {
namespace {

namespace fs = std::filesystem;

bool has_kernel32(const fs::path& dir) {
  std::error_code ec;
  return fs::is_regular_file(dir / "kernel32.dll", ec);
}

// The directories a Wine installation keeps its PE DLLs under (each holds x86_64-windows and i386-windows): beside
// the wine program on the PATH first (PREFIX/bin/wine64 -> PREFIX/lib/<triplet>/wine, PREFIX/lib64/wine,
// PREFIX/lib/wine), then the places Debian's and WineHQ's packages use (Debian's /usr/bin/wine64 leads to
// /usr/lib/wine/wine64, whose DLLs are under /usr/lib/x86_64-linux-gnu/wine).
std::vector<fs::path> wine_dirs() {
  std::vector<fs::path> out;
  const char* path = std::getenv("PATH");
  std::string_view rest = path ? path : "";
  while (!rest.empty()) {
    const auto colon = rest.find(':');
    const fs::path dir(std::string(rest.substr(0, colon)));
    rest = colon == std::string_view::npos ? std::string_view{} : rest.substr(colon + 1);
    for (const char* program : {"wine64", "wine"}) {
      std::error_code ec;
      const fs::path real = fs::canonical(dir / program, ec);
      if (ec) continue;
      const fs::path prefix = real.parent_path().parent_path();
      for (const char* lib : {"lib/x86_64-linux-gnu/wine", "lib64/wine", "lib/wine"}) out.push_back(prefix / lib);
    }
  }
  for (const char* known : {"/usr/lib/x86_64-linux-gnu/wine", "/usr/lib/wine", "/usr/local/lib/wine",
                            "/opt/wine-stable/lib64/wine", "/opt/wine-stable/lib/wine"})
    out.emplace_back(known);
  return out;
}

// The environment's choice: unset is nullopt, set (even empty) is the directory.
std::optional<std::string> from_env(const char* name) {
  const char* v = std::getenv(name);
  return v ? std::optional<std::string>(v) : std::nullopt;
}

}  // namespace

SystemDirs SystemDirs::discover(const std::string& system_dir, const std::string& syswow64_dir, bool wine) {
  SystemDirs out;
  if (!system_dir.empty()) out.system32 = system_dir, out.system32_from = "--system-dir";
  if (!syswow64_dir.empty()) out.syswow64 = syswow64_dir, out.syswow64_from = "--syswow64-dir";
  if (!system_dir.empty() && syswow64_dir.empty()) out.syswow64 = system_dir, out.syswow64_from = "--system-dir";
  const bool need64 = out.system32_from.empty(), need32 = out.syswow64_from.empty();
  if (need64)
    if (auto env = from_env("PEMAP_SYSTEM32")) out.system32 = *env, out.system32_from = "PEMAP_SYSTEM32";
  if (need32)
    if (auto env = from_env("PEMAP_SYSWOW64")) out.syswow64 = *env, out.syswow64_from = "PEMAP_SYSWOW64";
  if (out.syswow64_from.empty() && out.system32_from == "PEMAP_SYSTEM32")  // alone, it stands for both, as
    out.syswow64 = out.system32, out.syswow64_from = "PEMAP_SYSTEM32";     // --system-dir does
  for (const auto& dir : wine ? wine_dirs() : std::vector<fs::path>{}) {
    if (out.system32_from.empty() && has_kernel32(dir / "x86_64-windows"))
      out.system32 = (dir / "x86_64-windows").string(), out.system32_from = "Wine";
    if (out.syswow64_from.empty() && has_kernel32(dir / "i386-windows"))
      out.syswow64 = (dir / "i386-windows").string(), out.syswow64_from = "Wine";
  }
  return out;
}

KnownDlls KnownDlls::windows10() {
  // The registry's list; ntdll.dll is not in it, but the kernel maps it from the system directory into every
  // process, so it is known all the same.
  return KnownDlls{
      {"wow64cpu.dll", "advapi32.dll", "clbcatq.dll",  "combase.dll", "comdlg32.dll", "coml2.dll",  "difxapi.dll",
       "gdi32.dll",    "gdiplus.dll",  "imagehlp.dll", "imm32.dll",   "kernel32.dll", "msctf.dll",  "msvcrt.dll",
       "normaliz.dll", "nsi.dll",      "ntdll.dll",    "ole32.dll",   "oleaut32.dll", "psapi.dll",  "rpcrt4.dll",
       "sechost.dll",  "setupapi.dll", "shcore.dll",   "shell32.dll", "shlwapi.dll",  "user32.dll", "wldap32.dll",
       "wow64.dll",    "wow64win.dll", "ws2_32.dll"},
      "Windows 10's default list"};
}

Result<KnownDlls> KnownDlls::read(const std::string& path) {
  std::ifstream in(path);
  if (!in)
    return make_error(Status::object_name_not_found, "--known-dlls", Location{}, fmt::format("cannot open {}", path),
                      Win32Error::file_not_found);
  KnownDlls out{{}, path};
  for (std::string line; std::getline(in, line);) {
    const auto first = line.find_first_not_of(" \t\r");
    if (first == std::string::npos || line[first] == '#') continue;
    const auto last = line.find_last_not_of(" \t\r");
    out.names.push_back(ModuleName(line.substr(first, last - first + 1)).key());
  }
  return out;
}

bool KnownDlls::contains(const std::string& key) const {
  return std::find(names.begin(), names.end(), key) != names.end();
}

}  // namespace pemap::ldr
