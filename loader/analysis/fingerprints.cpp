// Digests, imphash and entropy.
#include "analysis/fingerprints.hpp"

#include <algorithm>
#include <array>
#include <cmath>

#include <fmt/format.h>

#include "pe/imports.hpp"

namespace pemap::analysis {
namespace {

struct OrdinalName {
  uint16_t ordinal;
  std::string_view name;
};
#include "analysis/imphash_ordinals.inc"

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](char c) { return c >= 'A' && c <= 'Z' ? c + 32 : c; });
  return out;
}

// The name pefile's table gives `ordinal` of `dll` (the DLL name as the import names it, lower-cased): only
// for "ws2_32.dll", "wsock32.dll" and "oleaut32.dll" written in full.
std::string ordinal_name(std::string_view dll, uint16_t ordinal) {
  std::span<const OrdinalName> table;
  if (dll == "ws2_32.dll" || dll == "wsock32.dll")
    table = k_ws2_32;
  else if (dll == "oleaut32.dll")
    table = k_oleaut32;
  auto it = std::lower_bound(table.begin(), table.end(), ordinal,
                             [](const OrdinalName& o, uint16_t n) { return o.ordinal < n; });
  if (it != table.end() && it->ordinal == ordinal) return lower(it->name);
  return fmt::format("ord{}", ordinal);
}

}  // namespace

Bytes section_raw_data(const pe::Image& image, const pe::Section& section) {
  const Bytes file = image.file();
  uint64_t start = section.header.PointerToRawData;
  if (image.optional_header().file_alignment >= pe::kRawAlignment) start = align_down(start, pe::kRawAlignment);
  start = std::min<uint64_t>(start, file.size());
  return file.subspan(start, std::min<uint64_t>(section.header.SizeOfRawData, file.size() - start));
}

double entropy(Bytes bytes) {
  if (bytes.empty()) return 0;
  std::array<uint64_t, 256> counts{};
  for (std::byte b : bytes) ++counts[std::to_integer<uint8_t>(b)];
  double h = 0;
  const double n = static_cast<double>(bytes.size());
  for (uint64_t c : counts)
    if (c) h -= static_cast<double>(c) / n * std::log2(static_cast<double>(c) / n);
  return h;
}

Imphash imphash(const pe::Image& image) {
  Imphash out;
  pe::ImportReader<pe::ImportModule> reader(image);
  bool any_module = false;
  while (auto m = reader.next_module()) {
    any_module = true;
    const std::string dll = lower(m->dll);
    std::string_view lib = dll;
    const auto dot = lib.rfind('.');
    if (dot != std::string_view::npos) {
      const auto ext = lib.substr(dot + 1);
      if (ext == "dll" || ext == "ocx" || ext == "sys") lib = lib.substr(0, dot);
    }
    while (auto e = reader.next_entry())
      out.elements.push_back(fmt::format("{}.{}", lib, e->by_ordinal ? ordinal_name(dll, e->ordinal) : lower(e->name)));
  }
  auto finished = reader.finish();
  if (!finished)
    out.warnings.push_back(finished.error());
  else
    out.warnings = std::move(*finished);
  if (!any_module) return out;
  std::string joined;
  for (const auto& s : out.elements) joined += (joined.empty() ? "" : ",") + s;
  out.md5 = hex_digest(DigestKind::md5, std::as_bytes(std::span(joined)));
  return out;
}

}  // namespace pemap::analysis
