// Parsing of the export directory.
#include "pe/exports.hpp"

#include "pe/scan_budget.hpp"

#include <algorithm>
#include <charconv>

#include <fmt/format.h>

namespace pemap::pe {

std::optional<ForwarderTarget> split_forwarder(std::string_view f) {
  const auto dot = f.rfind('.');
  if (dot == std::string_view::npos || dot == 0 || dot + 1 == f.size()) return std::nullopt;
  ForwarderTarget t;
  t.dll = f.substr(0, dot);
  const auto fn = f.substr(dot + 1);
  if (fn.size() > 1 && fn[0] == '#') {
    auto [p, ec] = std::from_chars(fn.data() + 1, fn.data() + fn.size(), t.ordinal);
    if (ec != std::errc() || p != fn.data() + fn.size()) return std::nullopt;
    t.by_ordinal = true;
  } else {
    t.function = fn;
  }
  return t;
}

ExportCounts export_counts(const Image& image, const ExportDirectory& d) {
  const uint64_t max_slots = image.mapped_size() / 4;
  return {.functions = std::min<uint64_t>(d.NumberOfFunctions, max_slots),
          .names = std::min<uint64_t>({d.NumberOfNames, max_slots, entry_budget(image)})};
}

Result<ExportTable> ExportTable::open(const Image& image) {
  ExportTable t;
  const auto used = image.used_directory(kDirExport);
  if (!used) return t;
  auto d = image.read_rva<ExportDirectory>(used->VirtualAddress, "export directory");
  if (!d) return d.take_error();
  t.image_ = &image;
  t.dir_ = *d;
  t.dir_begin_ = used->VirtualAddress;
  t.dir_end_ = t.dir_begin_ + used->Size;
  const ExportCounts counts = export_counts(image, *d);
  t.functions_ = counts.functions;
  t.names_ = counts.names;
  if (auto names = image.contiguous(d->AddressOfNames, t.names_ * 4)) t.name_table_ = *names;
  if (auto ordinals = image.contiguous(d->AddressOfNameOrdinals, t.names_ * 2)) t.ordinal_table_ = *ordinals;
  return t;
}

namespace {

/// Entry `index` of a table at `rva`: from `span` when the file holds the table whole, else through the image.
template <class T>
Result<T> table_entry(const Image& image, Bytes span, uint64_t rva, uint64_t index, const char* what) {
  if (!span.empty()) return load<T>(span, index * sizeof(T));
  return image.read_rva<T>(rva + index * sizeof(T), what);
}

}  // namespace

Result<uint32_t> ExportTable::function(uint64_t slot) const {
  if (slot >= functions_)
    return make_error(Status::success, "export address table", Location::rva(dir_.AddressOfFunctions),
                      fmt::format("slot {} is past the {} the image holds", slot, functions_));
  return image_->read_rva<uint32_t>(dir_.AddressOfFunctions + slot * 4, "export address table");
}

Result<uint32_t> ExportTable::name_rva(uint64_t index) const {
  return table_entry<uint32_t>(*image_, name_table_, dir_.AddressOfNames, index, "export name pointer table");
}

Result<uint16_t> ExportTable::name_slot(uint64_t index) const {
  return table_entry<uint16_t>(*image_, ordinal_table_, dir_.AddressOfNameOrdinals, index, "export ordinal table");
}

std::optional<int> ExportTable::compare_name(uint64_t index, std::string_view name) const {
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

std::optional<ExportEntry> ExportTable::entry(uint64_t slot, std::string_view name, uint32_t name_index) const {
  const auto rva = function(slot);
  if (!rva || *rva == 0) return std::nullopt;
  ExportEntry e;
  e.ordinal = static_cast<uint32_t>(dir_.Base + slot);
  e.rva = *rva;
  e.name = name;
  e.name_index = name_index;
  // A forwarder string, or (when there is none) an export at that address.
  if (forwards(*rva))
    if (auto f = image_->read_string(*rva, "export forwarder", 1024); f && !f->empty()) e.forwarder = *f;
  return e;
}

// The directory's own fields: its DLL name, and the counts cut to what the image holds, each cut a warning.
void ExportReader::read_header() {
  const Image& image = *image_;
  const ExportDirectory& d = table_.directory();
  out_.present = true;
  out_.directory = d;
  if (auto cut = image.directory_unreadable(kDirExport, "export directory", sizeof(ExportDirectory)))
    out_.warnings.push_back(std::move(*cut));
  if (d.Name != 0) {
    auto name = image.read_string(d.Name, "export DLL name", 512);
    if (name)
      out_.dll_name = *name;
    else
      out_.warnings.push_back(name.take_error());
  }
  const auto at = Location::rva(table_.directory_rva());
  if (table_.functions() < d.NumberOfFunctions)
    out_.warnings.push_back(make_error(Status::success, "export directory", at,
                                       fmt::format("NumberOfFunctions {} does not fit in the image; using {}",
                                                   d.NumberOfFunctions, table_.functions())));
  if (table_.names() < d.NumberOfNames)
    out_.warnings.push_back(
        make_error(Status::success, "export directory", at,
                   fmt::format("NumberOfNames {} is more than this file can hold", d.NumberOfNames)));
}

// The names, by the slot each exports (8 bytes a name, no more than the file gives it: a pointer and an ordinal);
// the name itself is read again when its entry is made. Notes an unsorted table, which the loader's binary search
// can miss names in.
void ExportReader::read_names() {
  const ExportDirectory& d = table_.directory();
  named_.reserve(static_cast<size_t>(std::min<uint64_t>(table_.names(), 1u << 20)));
  std::string_view prev;
  for (uint64_t i = 0; i < table_.names(); ++i) {
    if (names_budget_.exhausted()) {
      out_.warnings.push_back(make_error(Status::success, "export name pointer table", Location::rva(d.AddressOfNames),
                                         fmt::format("names from #{} on are more than this file can hold", i)));
      break;
    }
    auto name_rva = table_.name_rva(i);
    auto ord = table_.name_slot(i);
    if (!name_rva || !ord) {
      per_entry_.add(out_.warnings, !name_rva ? name_rva.take_error() : ord.take_error());
      break;
    }
    auto name = names_budget_.read_name(*image_, *name_rva, "export name");
    if (!name) {
      per_entry_.add(out_.warnings, name.take_error());
      continue;
    }
    if (i > 0 && *name < prev) out_.names_sorted = false;
    prev = *name;
    if (*ord >= table_.functions()) {
      per_entry_.add(out_.warnings, make_error(Status::success, fmt::format("export name {}", *name),
                                               Location::rva(d.AddressOfNameOrdinals + i * 2),
                                               fmt::format("ordinal index {} is past NumberOfFunctions {}", *ord,
                                                           table_.functions())));
      continue;
    }
    named_.push_back({*ord, static_cast<uint32_t>(i)});
  }
  if (!out_.names_sorted)
    out_.warnings.push_back(
        make_error(Status::success, "export name pointer table", Location::rva(d.AddressOfNames),
                   "names are not in ascending order; a binary search by the loader can miss them"));
  std::stable_sort(named_.begin(), named_.end(), [](const Named& a, const Named& b) { return a.slot < b.slot; });
}

Result<ExportReader> ExportReader::open(const Image& image) {
  auto table = ExportTable::open(image);
  if (!table) return table.take_error();
  ExportReader r(image);
  r.table_ = *table;
  if (!r.table_.present()) {
    r.done_ = true;
    return r;
  }
  r.read_header();
  r.read_names();
  return r;
}

// A name read once is read the same again: the pointer and the bytes are the file's.
std::string_view ExportReader::name_at(uint32_t index) const {
  const auto rva = table_.name_rva(index);
  const auto name =
      rva ? image_->read_string(*rva, "export name", ScanBudget::kMaxName) : Result<std::string_view>(rva.error());
  return name ? *name : std::string_view();
}

// The entry of a non-empty slot when no name exports it; otherwise none, and next() gives one entry a name.
std::optional<ExportEntry> ExportReader::begin_slot(uint64_t slot, uint32_t rva) {
  ExportEntry e;
  e.ordinal = static_cast<uint32_t>(table_.directory().Base + slot);
  e.rva = rva;
  if (table_.forwards(rva)) {
    // "DLL.Function" or "DLL.#123": 1 KiB is ample, and one forwarder may be shared by every name.
    auto f = names_budget_.read_name(*image_, rva, "export forwarder", 1024);
    if (f && !f->empty())
      e.forwarder = *f;
    else
      per_entry_.add(out_.warnings,
                     make_error(Status::success, fmt::format("export ordinal {}", e.ordinal), Location::rva(rva),
                                "points inside the export directory but holds no forwarder string"));
  }
  while (next_named_ < named_.size() && named_[next_named_].slot < slot) ++next_named_;  // slots come in order
  if (next_named_ == named_.size() || named_[next_named_].slot != slot) return e;
  entry_ = e;
  entry_slot_ = slot;
  naming_ = true;
  return std::nullopt;
}

// The address table in runs of file bytes: only slots backed by the file can be non-zero, and the rest of a huge
// table is zero fill that exports nothing, so the walk stays linear in the file size. False at the end.
bool ExportReader::next_run() {
  const ExportDirectory& d = table_.directory();
  const uint64_t nfunc = table_.functions(), budget = entry_budget(*image_);
  if (done_ || slot_ >= nfunc) return false;
  const uint64_t at = d.AddressOfFunctions + slot_ * 4;
  const Bytes backed = image_->file_span(at);
  done_ = true;  // unless a run follows
  if (scanned_ >= budget) {
    // Sections that share file bytes can repeat them at many RVAs; the walk stays linear in the file.
    out_.warnings.push_back(make_error(Status::success, "export address table", Location::rva(at),
                                       fmt::format("slots from {} on are more than this file can hold", slot_)));
    return false;
  }
  if (backed.size() >= 4) {
    const uint64_t run = std::min<uint64_t>({nfunc - slot_, backed.size() / 4, budget - scanned_});
    scanned_ += run;
    run_ = backed.first(run * 4);
  } else if (const Region* r = image_->region_at(at)) {
    if (auto cut = image_->cut_short(at, 4, "export address table")) {
      out_.warnings.push_back(std::move(*cut));
      return false;
    }
    if (!backed.empty()) {  // a slot straddling the end of the file bytes
      const auto v = table_.function(slot_);
      single_ = v ? *v : 0;
    } else {  // zero fill to the end of the region: nothing is exported there
      slot_ += std::max<uint64_t>(1, (r->rva + r->size - at + 3) / 4);
    }
  } else {
    out_.warnings.push_back(make_error(Status::invalid_image_format, "export address table", Location::rva(at),
                                       fmt::format("slot {} lies outside the mapped image", slot_)));
    return false;
  }
  done_ = false;
  return true;
}

std::optional<ExportEntry> ExportReader::next() {
  for (;;) {
    if (naming_) {  // the names of one slot, one at a time: one address may carry several
      if (next_named_ < named_.size() && named_[next_named_].slot == entry_slot_) {
        ExportEntry e = entry_;
        e.name_index = named_[next_named_++].index;
        e.name = name_at(e.name_index);
        return e;
      }
      naming_ = false;
    }
    std::optional<uint32_t> value;
    if (!run_.empty()) {
      value = load<uint32_t>(run_, 0);
      run_ = run_.subspan(4);
    } else if (single_) {
      value = std::exchange(single_, std::nullopt);
    } else if (!next_run()) {
      return std::nullopt;
    }
    if (!value) continue;
    const uint64_t slot = slot_++;
    if (*value != 0)
      if (auto e = begin_slot(slot, *value)) return e;
  }
}

Exports ExportReader::finish() {
  while (next()) {
  }
  if (!finished_ && out_.present) per_entry_.finish(out_.warnings, "export directory");
  finished_ = true;
  std::vector<Named>().swap(named_);  // the reader is spent: its index goes now, not with it
  return std::move(out_);
}

Result<Exports> parse_exports(const Image& image) {
  // Counted first, so that the entries take their size and not the up to twice that of a growing vector; one
  // reader's index of names at a time.
  size_t count = 0;
  {
    auto counting = ExportReader::open(image);
    if (!counting) return counting.take_error();
    while (counting->next()) ++count;
  }
  auto keeping = ExportReader::open(image);
  if (!keeping) return keeping.take_error();
  std::vector<ExportEntry> entries;
  entries.reserve(count);
  while (auto e = keeping->next()) entries.push_back(*e);
  Exports out = keeping->finish();
  out.entries = std::move(entries);
  return out;
}

}  // namespace pemap::pe
