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
  ExportLookup out;
  const auto used = image.used_directory(pe::kDirExport);
  if (!used) return out;
  auto d = image.read_rva<pe::ExportDirectory>(used->VirtualAddress, "export directory");
  if (!d) return d.take_error();
  out.image_ = &image;
  out.dir_ = *d;
  out.dir_begin_ = used->VirtualAddress;
  out.dir_end_ = out.dir_begin_ + used->Size;
  const pe::ExportCounts counts = pe::export_counts(image, *d);
  out.functions_ = counts.functions;
  out.names_ = counts.names;
  if (auto t = image.contiguous(d->AddressOfNames, out.names_ * 4)) out.name_table_ = *t;
  if (auto t = image.contiguous(d->AddressOfNameOrdinals, out.names_ * 2)) out.ordinal_table_ = *t;
  return out;
}

namespace {

/// Entry `index` of a table at `rva`: from `span` when the file holds the table whole, else through the image.
template <class T>
std::optional<T> table_entry(const pe::Image& image, Bytes span, uint64_t rva, uint64_t index, const char* what) {
  if (!span.empty()) return load<T>(span, index * sizeof(T));
  auto r = image.read_rva<T>(rva + index * sizeof(T), what);
  if (!r) return std::nullopt;
  return *r;
}

}  // namespace

std::optional<uint32_t> ExportLookup::name_rva(uint64_t index) const {
  return table_entry<uint32_t>(*image_, name_table_, dir_.AddressOfNames, index, "export name pointer table");
}

std::optional<int> ExportLookup::compare_name(uint64_t index, std::string_view name) const {
  const auto rva = name_rva(index);
  if (!rva) return std::nullopt;
  // The bytes the mapped image holds, in runs of file data, zero fill read a byte at a time.
  const uint64_t want = name.size() + 1;  // and its NUL
  for (uint64_t k = 0; k < want;) {
    Bytes run = image_->file_span(*rva + k);
    std::byte zero_fill{};
    if (run.empty()) {
      auto b = image_->read_rva<std::byte>(*rva + k, "export name");
      if (!b) return std::nullopt;
      zero_fill = *b;
      run = {&zero_fill, 1};
    }
    const uint64_t n = std::min<uint64_t>(run.size(), want - k);
    for (uint64_t i = 0; i < n; ++i, ++k) {
      const auto theirs = std::to_integer<unsigned char>(run[i]);
      const auto ours = k < name.size() ? static_cast<unsigned char>(name[k]) : 0;
      if (theirs != ours) return theirs < ours ? -1 : 1;
      if (theirs == 0) return 0;
    }
  }
  return 0;
}

std::string_view ExportLookup::shown_name(uint64_t index) const {
  constexpr size_t kShownName = 256;  // what a binding's record keeps of a name (docs/limits.md)
  const auto rva = name_rva(index);
  if (!rva) return {};
  const Bytes run = image_->file_span(*rva);
  const auto* begin = reinterpret_cast<const char*>(run.data());
  const std::string_view bytes(begin, std::min(run.size(), kShownName));
  return bytes.substr(0, bytes.find('\0'));
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
  return table_entry<uint16_t>(*image_, ordinal_table_, dir_.AddressOfNameOrdinals, index, "export ordinal table");
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
    if (compare_name(hint, name) == 0) return found(hint, How::hint);
  // The loader's binary search: it compares as it goes and never checks the order. A name it cannot read ends it.
  uint64_t lo = 0, hi = names_;
  while (lo < hi) {
    const uint64_t mid = lo + (hi - lo) / 2;
    const auto c = compare_name(mid, name);
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
  if (!image_ || ordinal < dir_.Base) return {};
  const uint64_t slot = ordinal - dir_.Base;
  if (!slot_names_made_) {
    // Only to say which name an ordinal import reached ("liba.dll!liba_mul"), as the parser lists it: the first.
    slot_names_made_ = true;
    slot_names_.reserve(names_);
    for (uint64_t i = 0; i < names_; ++i) {
      const auto ord = slot_of(i);
      if (!ord) break;
      if (*ord < functions_) slot_names_.push_back(static_cast<uint32_t>(i));
    }
    // By slot, then name index; the first of each slot stays.
    std::sort(slot_names_.begin(), slot_names_.end(), [&](uint32_t a, uint32_t b) {
      const uint16_t sa = *slot_of(a), sb = *slot_of(b);
      return sa != sb ? sa < sb : a < b;
    });
    slot_names_.erase(std::unique(slot_names_.begin(), slot_names_.end(),
                                  [&](uint32_t a, uint32_t b) { return *slot_of(a) == *slot_of(b); }),
                      slot_names_.end());
    slot_names_.shrink_to_fit();
  }
  std::string_view name;
  uint32_t index = 0;
  auto at = std::lower_bound(slot_names_.begin(), slot_names_.end(), slot,
                             [&](uint32_t i, uint64_t s) { return *slot_of(i) < s; });
  if (at != slot_names_.end() && *slot_of(*at) == slot) {
    name = shown_name(*at);
    index = *at;
  }
  return {at_slot(slot, name, index), How::ordinal};
}

}  // namespace pemap::ldr
