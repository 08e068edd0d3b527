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
  uint32_t count = 0;
  for (const auto& e : exports_.entries)
    if (!e.name.empty()) count = std::max(count, e.name_index + 1);
  names_.assign(count, Name{0, {}, nullptr});
  for (const auto& e : exports_.entries)
    if (!e.name.empty()) names_[e.name_index] = {e.name_index, e.name, &e};
  std::erase_if(names_, [](const Name& n) { return n.entry == nullptr; });
}

ExportLookup::Found ExportLookup::by_name(std::string_view name, uint16_t hint) const {
  name = name.substr(0, kMaxAnsiName);
  auto at = std::lower_bound(names_.begin(), names_.end(), uint32_t{hint},
                             [](const Name& n, uint32_t i) { return n.index < i; });
  if (at != names_.end() && at->index == hint && at->name == name) return {at->entry, How::hint};
  // The loader's binary search: it compares as it goes and never checks the order.
  size_t lo = 0, hi = names_.size();
  while (lo < hi) {
    const size_t mid = lo + (hi - lo) / 2;
    const int c = names_[mid].name.compare(name);
    if (c == 0) return {names_[mid].entry, How::binary_search};
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
