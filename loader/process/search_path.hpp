// Finding a module's file as LoadLibrary does with SafeDllSearchMode (docs/loader.md, "Finding a DLL"): KnownDLLs
// from the system directory; then the application's directory, the system directory, the current directory and
// the --path directories standing for PATH. Names are matched without regard to case, ".dll" appended when the
// name has no extension; a file of the other bitness is passed over and the search goes on.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "process/module_name.hpp"
#include "process/system_dirs.hpp"

namespace pemap::ldr {

/// A file of the name the search passed over, and why.
struct Skipped {
  std::string path;
  std::string reason;
};

struct Located {
  std::string path;              ///< the file; empty when there is none
  std::string where;             ///< which rule found it: "KnownDLLs", "application directory", "system directory"...
  std::vector<Skipped> skipped;  ///< files of the name met first, of the other bitness
};

/// How a module name becomes a file: the injectable policy of the loader's search.
class ModuleLocator {
 public:
  virtual ~ModuleLocator() = default;
  /// The file for `name` in a process of `bitness` (an empty path when there is none), and those passed over.
  virtual Located locate(const ModuleName& name, Bitness bitness) = 0;
};

class SearchPath : public ModuleLocator {
 public:
  struct Places {
    std::string app_dir;                 ///< the application's directory ("" for the current one)
    std::vector<std::string> path_dirs;  ///< --path, standing for PATH
    SystemDirs system;
    KnownDlls known = KnownDlls::windows10();
  };
  struct Entry {
    std::string dir;
    std::string label;  ///< "application directory", "system directory", "current directory", "--path"
  };
  explicit SearchPath(Places places) : places_(std::move(places)) {}

  Located locate(const ModuleName& name, Bitness bitness) override;
  /// The directories searched for a process of `bitness`, in order (KnownDLLs come from the system directory).
  std::vector<Entry> entries(Bitness bitness) const;
  const Places& places() const { return places_; }

 private:
  /// Lower-cased file name -> the name on disk, per directory, read once.
  const std::map<std::string, std::string>& listing(const std::string& dir);
  /// The file there if it is one `bitness` can load; else records why it was passed over.
  std::optional<std::string> fits(const std::string& dir, const std::string& key, Bitness bitness, Located& out);
  Places places_;
  std::map<std::string, std::map<std::string, std::string>> listings_;
};

}  // namespace pemap::ldr
