// Export lookup over the image's export directory, read at each lookup as LdrGetProcedureAddress reads it.
#include "process/export_lookup.hpp"

#include <algorithm>

#include "pe/image.hpp"
#include "pe/scan_budget.hpp"

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
  ExportLookup out;
  const auto used = image.used_directory(pe::kDirExport);
  if (!used) return out;
  auto d = image.read_rva<pe::ExportDirectory>(used->VirtualAddress, "export directory");
  if (!d) return d.take_error();
  out.image_ = &image;
  out.dir_ = *d;
  out.dir_begin_ = used->VirtualAddress;
  out.dir_end_ = out.dir_begin_ + used->Size;
  // The counts as the parser clamps them (pe/exports.cpp): no more slots than the image has room for.
  out.functions_ = std::min<uint64_t>(d->NumberOfFunctions, image.mapped_size() / 4);
  out.names_ = std::min<uint64_t>({d->NumberOfNames, image.mapped_size() / 4, pe::entry_budget(image)});
  if (auto t = image.contiguous(d->AddressOfNames, out.names_ * 4)) out.name_table_ = *t;
  if (auto t = image.contiguous(d->AddressOfNameOrdinals, out.names_ * 2)) out.ordinal_table_ = *t;
  return out;
}

std::optional<std::string_view> ExportLookup::name_at(uint64_t index) const {
  uint32_t rva = 0;
  if (!name_table_.empty()) {
    rva = load<uint32_t>(name_table_, index * 4);
  } else if (auto r = image_->read_rva<uint32_t>(dir_.AddressOfNames + index * 4, "export name pointer table")) {
    rva = *r;
  } else {
    return std::nullopt;
  }
  const auto name = image_->read_string(rva, "export name", pe::ScanBudget::kMaxName);
  if (!name) return std::nullopt;
  return *name;
}

std::optional<pe::ExportEntry> ExportLookup::at_slot(uint64_t slot, std::string_view name, uint32_t name_index) const {
  if (slot >= functions_) return std::nullopt;
  const auto rva = image_->read_rva<uint32_t>(dir_.AddressOfFunctions + slot * 4, "export address table");
  if (!rva || *rva == 0) return std::nullopt;
  pe::ExportEntry e;
  e.ordinal = static_cast<uint32_t>(dir_.Base + slot);
  e.rva = *rva;
  e.name = name;
  e.name_index = name_index;
  if (*rva >= dir_begin_ && *rva < dir_end_) {
    // As the parser reads it: a forwarder string, or (when there is none) an export at that address.
    if (auto f = image_->read_string(*rva, "export forwarder", 1024); f && !f->empty()) e.forwarder = *f;
  }
  return e;
}

std::optional<uint16_t> ExportLookup::slot_of(uint64_t index) const {
  if (!ordinal_table_.empty()) return load<uint16_t>(ordinal_table_, index * 2);
  auto ord = image_->read_rva<uint16_t>(dir_.AddressOfNameOrdinals + index * 2, "export ordinal table");
  if (!ord) return std::nullopt;
  return *ord;
}

ExportLookup::Found ExportLookup::by_name(std::string_view name, uint16_t hint) const {
  if (!image_) return {};
  name = name.substr(0, kMaxAnsiName);
  auto found = [&](uint64_t index, How how) -> Found {
    const auto ord = slot_of(index);
    if (!ord) return {};
    return {at_slot(*ord, name, static_cast<uint32_t>(index)), how};
  };
  if (hint < names_)
    if (const auto at = name_at(hint); at && *at == name) return found(hint, How::hint);
  // The loader's binary search: it compares as it goes and never checks the order. A name it cannot read ends it.
  uint64_t lo = 0, hi = names_;
  while (lo < hi) {
    const uint64_t mid = lo + (hi - lo) / 2;
    const auto at = name_at(mid);
    if (!at) return {};
    const int c = at->compare(name);
    if (c == 0) return found(mid, How::binary_search);
    if (c < 0)
      lo = mid + 1;
    else
      hi = mid;
  }
  return {};
}

ExportLookup::Found ExportLookup::by_ordinal(uint32_t ordinal) const {
  if (!image_ || ordinal < dir_.Base) return {};
  const uint64_t slot = ordinal - dir_.Base;
  if (!slot_names_made_) {
    // Only to say which name an ordinal import reached ("liba.dll!liba_mul"), as the parser lists it: the first.
    slot_names_made_ = true;
    for (uint64_t i = 0; i < names_; ++i) {
      const auto ord = slot_of(i);
      if (!ord) break;
      if (*ord < functions_) slot_names_.emplace_back(*ord, static_cast<uint32_t>(i));
    }
    std::stable_sort(slot_names_.begin(), slot_names_.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
  }
  std::string_view name;
  uint32_t index = 0;
  auto named = std::lower_bound(slot_names_.begin(), slot_names_.end(), slot,
                                [](const auto& p, uint64_t s) { return p.first < s; });
  for (; named != slot_names_.end() && named->first == slot; ++named)
    if (const auto n = name_at(named->second)) {
      name = *n;
      index = named->second;
      break;
    }
  return {at_slot(slot, name, index), How::ordinal};
}

}  // namespace pemap::ldr
