// Export lookup over the parsed table.
#include "process/export_lookup.hpp"

#include <algorithm>

namespace pemap::ldr {

std::string_view how_name(How how) {
  switch (how) {
    case How::hint:
      return "hint";
    case How::binary_search:
      return "binary search";
    case How::ordinal:
      return "ordinal";
    case How::bound:
      return "bound";
    case How::host:
      return "host";
    case How::trap:
      return "trap";
  }
  return "?";
}

ExportLookup::ExportLookup(pe::Exports exports) : exports_(std::move(exports)) {
  // Into name-table order by placing each at its index (each index names one entry), then closing the gaps the
  // parser left for names it could not read: linear, where a sort was not.
  const auto& entries = exports_.entries;
  uint32_t count = 0;
  for (const auto& e : entries)
    if (!e.name.empty()) count = std::max(count, e.name_index + 1);
  names_.assign(count, kNone);
  for (size_t k = 0; k < entries.size(); ++k)
    if (!entries[k].name.empty()) names_[entries[k].name_index] = static_cast<uint32_t>(k);
  std::erase(names_, kNone);
}

ExportLookup::Found ExportLookup::by_name(std::string_view name, uint16_t hint) const {
  name = name.substr(0, kMaxAnsiName);
  const auto& entries = exports_.entries;
  auto at = std::lower_bound(names_.begin(), names_.end(), uint32_t{hint},
                             [&](uint32_t k, uint32_t i) { return entries[k].name_index < i; });
  if (at != names_.end() && entries[*at].name_index == hint && entries[*at].name == name)
    return {&entries[*at], How::hint};
  // The loader's binary search: it compares as it goes and never checks the order.
  size_t lo = 0, hi = names_.size();
  while (lo < hi) {
    const size_t mid = lo + (hi - lo) / 2;
    const pe::ExportEntry& e = entries[names_[mid]];
    const int c = e.name.compare(name);
    if (c == 0) return {&e, How::binary_search};
    if (c < 0)
      lo = mid + 1;
    else
      hi = mid;
  }
  return {};
}

ExportLookup::Found ExportLookup::by_ordinal(uint32_t ordinal) const {
  const auto& entries = exports_.entries;  // in ordinal order
  auto it = std::lower_bound(entries.begin(), entries.end(), ordinal,
                             [](const pe::ExportEntry& e, uint32_t o) { return e.ordinal < o; });
  if (it == entries.end() || it->ordinal != ordinal || it->rva == 0) return {};
  return {&*it, How::ordinal};
}

}  // namespace pemap::ldr
