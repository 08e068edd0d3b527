// Parsing of the debug directory.
#include "pe/debug.hpp"

#include <algorithm>

#include "pe/scan_budget.hpp"

#include <cstring>

#include <fmt/format.h>

namespace pemap::pe {

std::string_view debug_type_name(uint32_t type) {
  static constexpr std::string_view names[] = {
      "UNKNOWN",     "COFF",          "CODEVIEW", "FPO",        "MISC",  "EXCEPTION",  "FIXUP",
      "OMAP_TO_SRC", "OMAP_FROM_SRC", "BORLAND",  "RESERVED10", "CLSID", "VC_FEATURE", "POGO",
      "ILTCG",       "MPX",           "REPRO",    "",           "SPGO",  "",           "EX_DLLCHARACTERISTICS"};
  if (type < std::size(names) && !names[type].empty()) return names[type];
  return "OTHER";
}

namespace {

std::optional<CodeView> parse_codeview(const Image& image, const DebugDirectory& d, std::vector<Error>& warnings) {
  const Bytes file = image.file();
  auto data = slice(file, d.PointerToRawData, d.SizeOfData, "CodeView record");
  if (!data) {
    warnings.push_back(data.take_error());
    return std::nullopt;
  }
  CodeView cv;
  uint64_t path_at = 0;
  if (data->size() >= 24 && std::memcmp(data->data(), "RSDS", 4) == 0) {
    cv.signature = "RSDS";
    std::memcpy(cv.guid.data(), data->data() + 4, 16);
    cv.age = load<uint32_t>(*data, 20);
    path_at = 24;
  } else if (data->size() >= 16 && std::memcmp(data->data(), "NB10", 4) == 0) {
    cv.signature = "NB10";
    cv.age = load<uint32_t>(*data, 12);
    path_at = 16;
  } else {
    warnings.push_back(make_error(Status::success, "CodeView record", Location::offset(d.PointerToRawData),
                                  "neither an RSDS nor an NB10 signature"));
    return std::nullopt;
  }
  // A PDB path is at most MAX_PATH-ish; 4 KiB bounds the scan of a record with no NUL.
  constexpr size_t kMaxPath = 4096;
  const auto rest = as_chars(data->subspan(path_at)).substr(0, kMaxPath + 1);
  const auto nul = rest.find('\0');
  if (nul == std::string_view::npos && rest.size() > kMaxPath)
    warnings.push_back(make_error(Status::success, "CodeView record", Location::offset(d.PointerToRawData),
                                  fmt::format("PDB path has no NUL within {} bytes; cut there", kMaxPath)));
  cv.pdb_path = rest.substr(0, std::min(nul, kMaxPath));
  return cv;
}

}  // namespace

Result<DebugInfo> parse_debug(const Image& image) {
  DebugInfo out;
  const auto used = image.used_directory(kDirDebug);
  if (!used) return out;
  const DataDirectory dir = *used;
  const uint64_t n = dir.Size / sizeof(DebugDirectory);
  if (dir.Size % sizeof(DebugDirectory) != 0)
    out.warnings.push_back(make_error(Status::success, "debug directory", Location::rva(dir.VirtualAddress),
                                      fmt::format("Size {} is not a multiple of 28", dir.Size)));
  const uint64_t budget = entry_budget(image);
  for (uint64_t i = 0; i < n; ++i) {
    const uint64_t at = dir.VirtualAddress + i * sizeof(DebugDirectory);
    if (i == budget) {
      out.warnings.push_back(make_error(Status::success, "debug directory", Location::rva(at),
                                        "more entries than this file can hold; the walk stops here"));
      break;
    }
    if (auto cut = image.cut_short(at, sizeof(DebugDirectory), "debug directory")) {
      out.warnings.push_back(std::move(*cut));
      break;
    }
    // Entries must start in file bytes: a huge Size over zero fill would otherwise list millions of
    // empty entries (found by fuzz_parse; testdata/regress/debug-dir-huge-size.bin).
    if (image.file_span(at).empty() && image.region_at(at)) {
      out.warnings.push_back(
          make_error(Status::success, "debug directory", Location::rva(at),
                     fmt::format("entries {} to {} lie outside the file's bytes; not listed", i, n - 1)));
      break;
    }
    auto d = image.read_rva<DebugDirectory>(at, "debug directory entry");
    if (!d) {
      if (i == 0) return d.take_error();
      out.warnings.push_back(d.take_error());
      break;
    }
    DebugEntry e{*d, std::nullopt};
    if (d->Type == 2 && d->SizeOfData != 0) e.codeview = parse_codeview(image, *d, out.warnings);
    out.entries.push_back(e);
  }
  return out;
}

}  // namespace pemap::pe
