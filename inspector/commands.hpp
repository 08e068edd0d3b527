// The inspector's commands: each takes the expanded file list and returns the process exit code.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "model.hpp"

namespace pemap::inspect {

enum Exit : int { exit_ok = 0, exit_findings = 1, exit_unusable = 2 };

struct CommonOptions {
  std::vector<std::string> inputs;  ///< files or directories
  bool json = false;
};

struct DumpOptions {
  std::optional<std::string> section;
  std::optional<uint64_t> rva;
  std::optional<uint64_t> offset;
  std::optional<uint64_t> size;  ///< with --section, at most this many bytes
  bool image_view = false;       ///< --view image: a section's bytes as mapped, from a real image view
};

/// Files named, and the regular files under directories named (recursively, sorted by path).
/// A directory that cannot be listed is reported on stderr and makes `unusable` true.
struct Inputs {
  std::vector<std::string> files;
  bool unusable = false;
  bool listed_directory = false;  ///< output is a list even when the directory held one file
};
Inputs expand_inputs(const std::vector<std::string>& inputs);

/// The per-file loop of the commands that work from a path: `doc_of(path)` makes each file's document
/// (an error goes to stderr and makes the exit code 2), `exit_of(doc)` gives its exit code, and the
/// documents are printed as JSON (a list when several files or a directory were named, else one object)
/// or as text through `render(path, doc, many)`.
int print_each_file(const CommonOptions& opts, const std::function<Result<json>(const std::string&)>& doc_of,
                    const std::function<std::string(const std::string&, const json&, bool)>& render,
                    const std::function<int(const json&)>& exit_of = {});

/// `--base MODULE=ADDR` values as the loader's forced bases (lower-cased, normalized module names); the first value
/// that does not read that way is the error.
Result<std::map<std::string, uint64_t>> forced_bases(const std::vector<std::string>& values);

int run_view(const std::string& command, const CommonOptions& opts);  // info, headers, sections, ...
int run_dump(const CommonOptions& opts, const DumpOptions& dump);
int run_verify(const CommonOptions& opts);

}  // namespace pemap::inspect
