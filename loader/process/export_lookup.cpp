// Export lookup over the image's export directory, read at each lookup as LdrGetProcedureAddress reads it.
#include "process/export_lookup.hpp"

#include <algorithm>

#include "pe/image.hpp"

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

Result<ExportLookup> ExportLookup::create(const pe::Image& image) {
  auto table = pe::ExportTable::open(image);
  if (!table) return table.take_error();
  ExportLookup out;
  if (!table->present()) return out;
  out.image_ = &image;
  out.table_ = std::move(*table);
  return out;
}

std::string_view ExportLookup::shown_name(uint64_t index) const {
  constexpr size_t kShownName = 256;  // what a binding's record keeps of a name (docs/limits.md)
  const auto rva = table_.name_rva(index);
  if (!rva) return {};
  const Bytes run = image_->file_span(*rva);
  const auto* begin = reinterpret_cast<const char*>(run.data());
  const std::string_view bytes(begin, std::min(run.size(), kShownName));
  return bytes.substr(0, bytes.find('\0'));
}

ExportLookup::Found ExportLookup::by_name(std::string_view name, uint16_t hint) const {
  if (!image_) return {};
  name = name.substr(0, kMaxAnsiName);
  auto found = [&](uint64_t index, How how) -> Found {
    const auto ord = table_.name_slot(index);
    if (!ord) return {};
    return {table_.entry(*ord, name, static_cast<uint32_t>(index)), how};
  };
  if (hint < table_.names())
    if (table_.compare_name(hint, name) == 0) return found(hint, How::hint);
  // The loader's binary search: it compares as it goes and never checks the order. A name it cannot read ends it.
  uint64_t lo = 0, hi = table_.names();
  while (lo < hi) {
    const uint64_t mid = lo + (hi - lo) / 2;
    const auto c = table_.compare_name(mid, name);
    if (!c) return {};
    if (*c == 0) return found(mid, How::binary_search);
    if (*c < 0)
      lo = mid + 1;
    else
      hi = mid;
  }
  return {};
}

ExportLookup::Found ExportLookup::by_ordinal(uint32_t ordinal) const {
  if (!image_ || ordinal < table_.directory().Base) return {};
  const uint64_t slot = ordinal - table_.directory().Base;
  if (!slot_names_made_) {
    // Only to say which name an ordinal import reached ("liba.dll!liba_mul"), as the parser lists it: the first.
    slot_names_made_ = true;
    slot_names_.reserve(table_.names());
    for (uint64_t i = 0; i < table_.names(); ++i) {
      const auto ord = table_.name_slot(i);
      if (!ord) break;
      if (*ord < table_.functions()) slot_names_.push_back(static_cast<uint32_t>(i));
    }
    // By slot, then name index; the first of each slot stays.
    std::sort(slot_names_.begin(), slot_names_.end(), [&](uint32_t a, uint32_t b) {
      const uint16_t sa = slot_of(a), sb = slot_of(b);
      return sa != sb ? sa < sb : a < b;
    });
    slot_names_.erase(std::unique(slot_names_.begin(), slot_names_.end(),
                                  [&](uint32_t a, uint32_t b) { return slot_of(a) == slot_of(b); }),
                      slot_names_.end());
    slot_names_.shrink_to_fit();
  }
  std::string_view name;
  uint32_t index = 0;
  auto at = std::lower_bound(slot_names_.begin(), slot_names_.end(), slot,
                             [&](uint32_t i, uint64_t s) { return slot_of(i) < s; });
  if (at != slot_names_.end() && slot_of(*at) == slot) {
    name = shown_name(*at);
    index = *at;
  }
  return {table_.entry(slot, name, index), How::ordinal};
}

}  // namespace pemap::ldr
