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

Result<Exports> walk_exports(const Image& image, ExportSink& sink) {
  Exports out;
  const auto used = image.used_directory(kDirExport);
  if (!used) return out;
  const DataDirectory dir = *used;
  auto d = image.read_rva<ExportDirectory>(dir.VirtualAddress, "export directory");
  if (!d) return d.take_error();
  if (auto cut = image.directory_cut_short(kDirExport, "export directory")) out.warnings.push_back(std::move(*cut));
  out.present = true;
  out.directory = *d;
  if (d->Name != 0) {
    auto name = image.read_string(d->Name, "export DLL name", 512);
    if (name)
      out.dll_name = *name;
    else
      out.warnings.push_back(name.take_error());
  }
  const uint64_t dir_begin = dir.VirtualAddress, dir_end = dir_begin + dir.Size;

  // Only slots backed by file bytes can be non-zero; the rest of a huge table is zero fill and
  // exports nothing, so the walk stays linear in the file size.
  const ExportCounts counts = export_counts(image, *d);
  const uint64_t nfunc = counts.functions, nnames = counts.names;
  if (nfunc < d->NumberOfFunctions)
    out.warnings.push_back(make_error(
        Status::success, "export directory", Location::rva(dir_begin),
        fmt::format("NumberOfFunctions {} does not fit in the image; using {}", d->NumberOfFunctions, nfunc)));
  const uint64_t budget = entry_budget(image);
  if (nnames < d->NumberOfNames)
    out.warnings.push_back(
        make_error(Status::success, "export directory", Location::rva(dir_begin),
                   fmt::format("NumberOfNames {} is more than this file can hold", d->NumberOfNames)));

  // Names first, so each address slot knows its name: 8 bytes a name, no more than the file gives it (a
  // pointer and an ordinal); the name itself is read again when its entry is made.
  struct Named {
    uint32_t slot;
    uint32_t index;
  };
  std::vector<Named> named;
  named.reserve(static_cast<size_t>(std::min<uint64_t>(nnames, 1u << 20)));
  std::string_view prev;
  ScanBudget budget_names(image);
  WarningSink per_entry(out.warnings);
  for (uint64_t i = 0; i < nnames; ++i) {
    if (budget_names.exhausted()) {
      out.warnings.push_back(make_error(Status::success, "export name pointer table", Location::rva(d->AddressOfNames),
                                        fmt::format("names from #{} on are more than this file can hold", i)));
      break;
    }
    auto name_rva = image.read_rva<uint32_t>(d->AddressOfNames + i * 4, "export name pointer table");
    auto ord = image.read_rva<uint16_t>(d->AddressOfNameOrdinals + i * 2, "export ordinal table");
    if (!name_rva || !ord) {
      per_entry.add(!name_rva ? name_rva.take_error() : ord.take_error());
      break;
    }
    auto name = budget_names.read_name(image, *name_rva, "export name");
    if (!name) {
      per_entry.add(name.take_error());
      continue;
    }
    if (i > 0 && *name < prev) out.names_sorted = false;
    prev = *name;
    if (*ord >= nfunc) {
      per_entry.add(make_error(Status::success, fmt::format("export name {}", *name),
                               Location::rva(d->AddressOfNameOrdinals + i * 2),
                               fmt::format("ordinal index {} is past NumberOfFunctions {}", *ord, nfunc)));
      continue;
    }
    named.push_back({*ord, static_cast<uint32_t>(i)});
  }
  if (!out.names_sorted)
    out.warnings.push_back(make_error(Status::success, "export name pointer table", Location::rva(d->AddressOfNames),
                                      "names are not in ascending order; a binary search by the loader can miss them"));
  std::stable_sort(named.begin(), named.end(), [](const Named& a, const Named& b) { return a.slot < b.slot; });
  // A name read once is read the same again: the pointer and the bytes are the file's.
  auto name_at = [&](uint32_t index) {
    const auto rva = image.read_rva<uint32_t>(d->AddressOfNames + uint64_t{index} * 4, "export name pointer table");
    const auto name =
        rva ? image.read_string(*rva, "export name", ScanBudget::kMaxName) : Result<std::string_view>(rva.error());
    return name ? *name : std::string_view();
  };

  auto next_named = named.cbegin();
  auto add = [&](uint64_t slot, uint32_t rva) {
    ExportEntry e;
    e.ordinal = static_cast<uint32_t>(d->Base + slot);
    e.rva = rva;
    if (rva >= dir_begin && rva < dir_end) {
      // "DLL.Function" or "DLL.#123": 1 KiB is ample, and one forwarder may be shared by every name.
      auto f = budget_names.read_name(image, rva, "export forwarder", 1024);
      if (f && !f->empty())
        e.forwarder = *f;
      else
        per_entry.add(make_error(Status::success, fmt::format("export ordinal {}", e.ordinal), Location::rva(rva),
                                 "points inside the export directory but holds no "
                                 "forwarder string"));
    }
    while (next_named != named.end() && next_named->slot < slot) ++next_named;  // slots come in ascending order
    auto it = next_named;
    if (it == named.end() || it->slot != slot) {
      sink.entry(e);
      return;
    }
    for (; it != named.end() && it->slot == slot; ++it) {  // one address may carry several names
      e.name = name_at(it->index);
      e.name_index = it->index;
      sink.entry(e);
    }
  };

  uint64_t slot = 0, scanned = 0;
  while (slot < nfunc) {
    const uint64_t at = d->AddressOfFunctions + slot * 4;
    const Bytes backed = image.file_span(at);
    if (scanned >= budget) {
      // Sections that share file bytes can repeat them at many RVAs; the walk stays linear in the file.
      out.warnings.push_back(make_error(Status::success, "export address table", Location::rva(at),
                                        fmt::format("slots from {} on are more than this file can hold", slot)));
      break;
    }
    if (backed.size() >= 4) {
      // The file-backed run of the table in one go.
      const uint64_t run = std::min<uint64_t>({nfunc - slot, backed.size() / 4, budget - scanned});
      scanned += run;
      for (uint64_t i = 0; i < run; ++i)
        if (const uint32_t v = load<uint32_t>(backed, i * 4)) add(slot + i, v);
      slot += run;
    } else if (const Region* r = image.region_at(at)) {
      if (auto cut = image.cut_short(at, 4, "export address table")) {
        out.warnings.push_back(std::move(*cut));
        break;
      }
      if (!backed.empty()) {  // a slot straddling the end of the file bytes
        if (auto v = image.read_rva<uint32_t>(at, "export address table"); v && *v != 0) add(slot, *v);
        ++slot;
      } else {  // zero fill to the end of the region: nothing is exported there
        slot += std::max<uint64_t>(1, (r->rva + r->size - at + 3) / 4);
      }
    } else {
      out.warnings.push_back(make_error(Status::invalid_image_format, "export address table", Location::rva(at),
                                        fmt::format("slot {} lies outside the mapped image", slot)));
      break;
    }
  }
  per_entry.finish("export directory");
  return out;
}

Result<Exports> parse_exports(const Image& image) {
  // Counted first, so that the entries take their size and not the up to twice that of a growing vector.
  struct Count final : ExportSink {
    size_t n = 0;
    void entry(const ExportEntry&) override { ++n; }
  } count;
  if (auto counted = walk_exports(image, count); !counted) return counted;
  struct Keep final : ExportSink {
    std::vector<ExportEntry> entries;
    void entry(const ExportEntry& e) override { entries.push_back(e); }
  } keep;
  keep.entries.reserve(count.n);
  auto out = walk_exports(image, keep);
  if (out) out->entries = std::move(keep.entries);
  return out;
}

}  // namespace pemap::pe
