// The inspector's commands: each takes the expanded file list and returns the process exit code.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "inputs.hpp"
#include "mapped_file.hpp"
#include "model.hpp"
#include "printer.hpp"

namespace pemap::ldr {
struct LoadOptions;
}

namespace pemap::inspect {

/// Where a load looks for DLLs (docs/loader.md, "Finding a DLL").
struct SearchOptions {
  std::vector<std::string> path;  ///< --path DIR: searched last, standing for PATH
  std::string system_dir;         ///< --system-dir DIR: System32 (for a PE32 process too, unless syswow64_dir)
  std::string syswow64_dir;       ///< --syswow64-dir DIR: System32 as a PE32 process sees it
  std::string known_dlls;         ///< --known-dlls FILE: the KnownDLLs list ("" for Windows 10's)
};

/// Whether the system directories may default to the installed Wine's PE DLLs: for the commands that load
/// (load, apiset), not for those that run image code (run, call, instances), whose host cannot run Wine's.
enum class WineDefault : uint8_t { yes, no };

/// `search` into `load`: the system directories not given are discovered (ldr::SystemDirs::discover).
Result<bool> apply_search(const SearchOptions& search, ldr::LoadOptions& load, WineDefault wine);

struct CommonOptions {
  std::vector<std::string> inputs;  ///< files or directories
  bool json = false;
  bool jsonl = false;     ///< with json: each file's document on a line of its own
  bool verbose = false;   ///< list the files a directory walk skipped as not PE images
  bool demangle = false;  ///< exports: C++ names demangled too
};

struct DumpOptions {
  std::optional<std::string> section;
  std::optional<uint64_t> rva;
  std::optional<uint64_t> offset;
  std::optional<uint64_t> size;  ///< with --section, at most this many bytes
  bool image_view = false;       ///< --view image: a section's bytes as mapped, from a real image view
};

/// "pemap: NAME: warning: TEXT" on stderr for each warning, after what stdout has so far; exit_findings if any.
int report_warnings(std::string_view name, const std::vector<std::string>& warnings);

/// A command's work on one file, for print_each_file. It first does what can fail (an error returned then refuses
/// the file: Inputs::refuse, and {"file", "error"} in JSON), then prints its findings into the document `open()`
/// begins, adding its warnings to `w`. Returns the file's exit status.
using FileReport =
    std::function<Result<int>(const std::string& path, const std::function<Printer&()>& open, Warnings& w)>;

/// The per-file loop of the commands that work from a path: each file's report printed as JSON (a list when several
/// files or a directory were named, else one object), or as text by `render(name, doc, many)` from the document
/// the report printed; its warnings last, and on stderr.
int print_each_file(const CommonOptions& opts, const FileReport& report,
                    const std::function<std::string(const std::string&, const json&, bool)>& render);

/// A file's bytes and the image parsed from them (which views them).
struct OpenImage {
  MappedFile file;
  pe::Image image;
};
/// Maps `path` and parses its headers: the error says why it is not a usable PE image.
Result<OpenImage> open_image(const std::string& path);
/// `refusal` of the image in `path` by Windows' mapper, with where to look instead when the image's own loader is
/// one pemap recognises (pe::Image::own_loader): `map --as efi` for an EFI image.
Error own_loader_hint(Error refusal, const std::string& path);

/// A number given on the command line for `option`: decimal, or hexadecimal after 0x. A sign, a suffix, an empty
/// text and a value above 2^64-1 are errors naming the option and the text.
Result<uint64_t> parse_number(const std::string& text, const std::string& option);
/// A size in MiB ("512"), or with a binary suffix: "64K", "512M", "2G". Bytes; an error names the option.
Result<uint64_t> parse_size(const std::string& text, const std::string& option);

/// `--base MODULE=ADDR` values as the loader's forced bases (lower-cased, normalized module names); the first value
/// that does not read that way is the error.
Result<std::map<std::string, uint64_t>> forced_bases(const std::vector<std::string>& values);

int run_view(const std::string& command, const CommonOptions& opts);  // info, headers, sections, ...
int run_dump(const CommonOptions& opts, const DumpOptions& dump);
int run_verify(const CommonOptions& opts);

}  // namespace pemap::inspect
