// The files a command works on: named files, the files under named directories, and "-" or a pipe spooled to an
// anonymous file; and the one rule for what an unusable input does to the exit status.
#pragma once

#include <string>
#include <vector>

#include "pe/error.hpp"

namespace pemap::inspect {

enum Exit : int { exit_ok = 0, exit_findings = 1, exit_unusable = 2 };

/// Whether `error` says the file is not a PE image at all: empty, or no 'MZ' at its start.
bool not_a_pe_image(const Error& error);

/// One file to work on.
struct Input {
  std::string name;    ///< as the user knows it: the path, "-" for standard input, a /dev/fd path for a pipe
  std::string path;    ///< what to open: the path, or /proc/PID/fd/N of the anonymous copy of a stream
  int directory = -1;  ///< which named directory's walk found it, -1 when named on the command line
};

/// The expanded command line of a command that takes files and directories. Move-only: it owns the anonymous
/// copies of streams, which close with it.
class Inputs {
 public:
  /// Named files, then the regular files under each named directory (recursively, sorted by path). "-" and a path
  /// that is a pipe (`<(cmd)`) are read to the end into a memfd so that they can be mapped. A directory that cannot
  /// be listed or holds no files, and a stream that cannot be read, are reported on stderr and make the exit 2.
  static Inputs expand(const std::vector<std::string>& args, bool verbose = false);

  Inputs(Inputs&& other) noexcept;
  Inputs& operator=(Inputs&&) = delete;
  Inputs(const Inputs&) = delete;
  Inputs& operator=(const Inputs&) = delete;
  ~Inputs();

  const std::vector<Input>& files() const { return files_; }
  /// Output is a list (or headed per file) when several files or any directory were named.
  bool many() const { return files_.size() > 1 || !directories_.empty(); }

  /// `in` could not be used for `error`. A file a directory walk met that is not a PE image (empty, or no 'MZ') is
  /// counted for the summary and adds nothing to the exit status; anything else is reported on stderr and gives 2.
  /// Returns the exit status it adds.
  int refuse(const Input& in, const Error& error);
  /// Whether refuse() would only count `error` for `in`.
  bool skips(const Input& in, const Error& error) const;

  /// The exit status of the inputs themselves, after every file was tried: 2 when a directory could not be listed,
  /// held no files, or held no PE image. Prints the line counting the skipped files (listing them if verbose).
  int finish();

 private:
  struct Directory {
    std::string name;
    size_t files = 0, skipped = 0;
  };
  Inputs() = default;
  void add_stream(const std::string& name);

  std::vector<Input> files_;
  std::vector<Directory> directories_;
  std::vector<std::string> skipped_;
  std::vector<int> streams_;  ///< the memfds of spooled streams
  bool unusable_ = false;
  bool verbose_ = false;
};

}  // namespace pemap::inspect
