// Windows' system directories as pemap stands them in: System32 as a PE32+ process sees it, and as a PE32 process
// sees it (Windows' SysWOW64), taken from the command line, the environment, or the installed Wine's PE DLLs; and
// the KnownDLLs list, which the loader takes from the system directory before any other place.
#pragma once

#include <string>
#include <vector>

#include "pe/error.hpp"

namespace pemap::ldr {

/// The kind of process a module is looked up for: its system directory, and the files it can load.
enum class Bitness : uint8_t { any, pe32, pe32plus };

struct SystemDirs {
  std::string system32;                      ///< System32 for a PE32+ process; "" when there is none
  std::string syswow64;                      ///< System32 as a PE32 process sees it (SysWOW64); "" when there is none
  std::string system32_from, syswow64_from;  ///< where each came from: "--system-dir", "PEMAP_SYSTEM32", "Wine"

  /// The directory a process of `bitness` sees as System32 ("" for none; `any`: the PE32+ one).
  const std::string& for_process(Bitness bitness) const { return bitness == Bitness::pe32 ? syswow64 : system32; }

  /// `system_dir` and `syswow64_dir` (the command line's; "" when not given) first; a `system_dir` given alone
  /// stands for both. Then $PEMAP_SYSTEM32 and $PEMAP_SYSWOW64, then, when `wine`, the PE DLLs of the Wine
  /// installed here (x86_64-windows and i386-windows beside the wine program on the PATH, or in Debian's and
  /// WineHQ's places). An environment variable set but empty means none.
  static SystemDirs discover(const std::string& system_dir, const std::string& syswow64_dir, bool wine = true);
};

/// The names the loader maps from the system directory whatever else the search holds (lower case, ".dll").
struct KnownDlls {
  std::vector<std::string> names;
  std::string from;  ///< "Windows 10's default list" or the file it was read from

  /// The list in HKLM\System\CurrentControlSet\Control\Session Manager\KnownDLLs of a Windows 10 installation.
  static KnownDlls windows10();
  /// One name per line; blank lines and lines starting with '#' are skipped.
  static Result<KnownDlls> read(const std::string& path);
  bool contains(const std::string& key) const;
};

}  // namespace pemap::ldr
