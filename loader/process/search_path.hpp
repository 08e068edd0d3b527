// Finding a module's file as LoadLibrary does: the application's directory, the directories given, the current
// directory; names matched without regard to case, ".dll" appended when the name has no extension.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "process/module_name.hpp"

namespace pemap::ldr {

struct Located {
  std::string path;   ///< the file
  std::string where;  ///< which entry of the search path found it ("application directory", ...)
};

/// How a module name becomes a file: the injectable policy of the loader's search.
class ModuleLocator {
 public:
  virtual ~ModuleLocator() = default;
  /// The file for `name`, if there is one.
  virtual std::optional<Located> locate(const ModuleName& name) = 0;
};

/// The classic search order, less the system directories (pass them with --path).
class SearchPath : public ModuleLocator {
 public:
  struct Entry {
    std::string dir;
    std::string label;  ///< "application directory", "--path", "current directory"
  };
  explicit SearchPath(std::vector<Entry> entries) : entries_(std::move(entries)) {}
  /// app_dir first, then `dirs` in order, then the current directory.
  static SearchPath standard(const std::string& app_dir, const std::vector<std::string>& dirs);

  std::optional<Located> locate(const ModuleName& name) override;
  const std::vector<Entry>& entries() const { return entries_; }

 private:
  /// Lower-cased file name -> the name on disk, per directory, read once.
  const std::map<std::string, std::string>& listing(const std::string& dir);
  std::vector<Entry> entries_;
  std::map<std::string, std::map<std::string, std::string>> listings_;
};

}  // namespace pemap::ldr
