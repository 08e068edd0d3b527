// Parsing of the three import tables.
#include "pe/imports.hpp"

#include "pe/scan_budget.hpp"

#include <fmt/format.h>

namespace pemap::pe {
namespace {

// One lookup-table walk for ordinary and delay imports. `table_rva` holds thunks, `iat_rva` the slots.
void walk_thunks(const Image& image, uint64_t table_rva, uint64_t iat_rva, bool va_form, std::string_view dll,
                 std::vector<ImportEntry>& entries, std::vector<Error>& warnings, uint64_t& budget, ScanBudget& names,
                 WarningSink& per_entry) {
  const unsigned ptr = image.pointer_size();
  const uint64_t ordinal_flag = with_format(image.format(), [](auto t) { return decltype(t)::ordinal_flag; });
  for (uint64_t i = 0;; ++i) {
    if (budget == 0 || names.exhausted()) {
      warnings.push_back(make_error(Status::success, fmt::format("imports of {}", dll), Location::rva(table_rva),
                                    "import entries exceed what this file can hold; the walk stops here"));
      budget = 0;
      return;
    }
    const uint64_t slot = table_rva + i * ptr;
    auto thunk = image.read_pointer(slot, fmt::format("import lookup table of {}", dll));
    if (!thunk) {
      warnings.push_back(thunk.take_error());
      return;
    }
    if (*thunk == 0) return;
    --budget;
    ImportEntry e;
    e.thunk = *thunk;
    e.iat_rva = static_cast<uint32_t>(iat_rva + i * ptr);
    if (*thunk & ordinal_flag) {
      e.by_ordinal = true;
      e.ordinal = static_cast<uint16_t>(*thunk & 0xffff);
    } else {
      // The hint/name RVA is the low 32 bits (ntdll, ReactOS and Wine truncate to a DWORD); in PE32 the
      // top bit is the ordinal flag, so it is clear here anyway.
      uint64_t name_rva = *thunk & 0xffffffffu;
      // The old delay-load form holds VAs, but the delay helper is the program's own code and some
      // (corkami delayimports.exe) mix RVAs in: take a value below the image base as an RVA.
      if (va_form && *thunk >= image.image_base()) name_rva = *thunk - image.image_base();
      e.name_rva = static_cast<uint32_t>(name_rva);
      auto hint = image.read_rva<uint16_t>(name_rva, "hint/name entry");
      auto name = hint ? names.read_name(image, name_rva + 2, "import name") : Result<std::string_view>(hint.error());
      if (!name) {
        per_entry.add(make_error(Status::invalid_image_format, fmt::format("import #{} of {}", i, dll),
                                 Location::rva(slot),
                                 fmt::format("hint/name RVA {:#x} is unreadable: {}", name_rva, name.error().message)));
        continue;
      }
      e.hint = *hint;
      e.name = *name;
    }
    entries.push_back(e);
  }
}

}  // namespace

uint64_t Imports::entry_count() const {
  uint64_t n = 0;
  for (const auto& m : modules) n += m.entries.size();
  return n;
}

Result<Imports> parse_imports(const Image& image) {
  Imports out;
  const auto dir = image.used_directory(kDirImport);
  if (!dir) return out;
  uint64_t budget = entry_budget(image);
  ScanBudget names(image);
  WarningSink per_entry(out.warnings);
  for (uint64_t at = dir->VirtualAddress;; at += sizeof(ImportDescriptor)) {
    auto d = image.read_rva<ImportDescriptor>(at, "import descriptor");
    if (!d) {
      if (out.modules.empty()) return d.take_error();
      out.warnings.push_back(d.take_error());
      break;
    }
    if (d->Name == 0 || d->FirstThunk == 0) break;
    if (budget == 0) {
      out.warnings.push_back(make_error(Status::success, "import descriptor", Location::rva(at),
                                        "more descriptors than this file can hold; the walk stops here"));
      break;
    }
    --budget;
    ImportModule m;
    m.descriptor_rva = static_cast<uint32_t>(at);
    m.descriptor = *d;
    auto name = image.read_string(d->Name, "import DLL name", 512);
    if (!name) {
      out.warnings.push_back(name.take_error());
      continue;
    }
    m.dll = *name;
    uint64_t table = d->OriginalFirstThunk != 0 ? d->OriginalFirstThunk : d->FirstThunk;
    if (d->OriginalFirstThunk >= image.mapped_size()) {
      // corkami maxvals.exe and tinygui.exe have a bogus OriginalFirstThunk and run: the loader falls
      // back to FirstThunk when the lookup table is outside the image.
      out.warnings.push_back(make_error(Status::success, fmt::format("imports of {}", m.dll), Location::rva(at),
                                        fmt::format("OriginalFirstThunk {:#x} is outside the image; names are read "
                                                    "from FirstThunk",
                                                    d->OriginalFirstThunk)));
      table = d->FirstThunk;
    }
    walk_thunks(image, table, d->FirstThunk, false, m.dll, m.entries, out.warnings, budget, names, per_entry);
    out.modules.push_back(std::move(m));
    if (budget == 0) break;
  }
  per_entry.finish("import directory");
  return out;
}

Result<DelayImports> parse_delay_imports(const Image& image) {
  DelayImports out;
  const auto dir = image.used_directory(kDirDelayImport);
  if (!dir) return out;
  uint64_t budget = entry_budget(image);
  ScanBudget names(image);
  WarningSink per_entry(out.warnings);
  for (uint64_t at = dir->VirtualAddress;; at += sizeof(DelayImportDescriptor)) {
    auto d = image.read_rva<DelayImportDescriptor>(at, "delay import descriptor");
    if (!d) {
      if (out.modules.empty()) return d.take_error();
      out.warnings.push_back(d.take_error());
      break;
    }
    if (d->DllNameRVA == 0) break;
    if (budget == 0) {
      out.warnings.push_back(make_error(Status::success, "delay import descriptor", Location::rva(at),
                                        "more descriptors than this file can hold; the walk stops here"));
      break;
    }
    --budget;
    DelayImportModule m;
    m.descriptor_rva = static_cast<uint32_t>(at);
    m.descriptor = *d;
    m.rva_based = (d->Attributes & 1) != 0;
    // The old (VC6) form stores VAs; subtract the preferred base to get RVAs.
    const uint64_t base = m.rva_based ? 0 : image.image_base();
    auto to_rva = [&](uint32_t v) { return v == 0 ? 0 : uint64_t{v} - (v >= base ? base : 0); };
    auto name = image.read_string(to_rva(d->DllNameRVA), "delay import DLL name", 512);
    if (!name) {
      out.warnings.push_back(name.take_error());
      continue;
    }
    m.dll = *name;
    if (d->ImportNameTableRVA == 0 || d->ImportAddressTableRVA == 0) {
      out.warnings.push_back(make_error(Status::success, fmt::format("delay imports of {}", m.dll), Location::rva(at),
                                        "no name table or no address table"));
    } else {
      walk_thunks(image, to_rva(d->ImportNameTableRVA), to_rva(d->ImportAddressTableRVA), !m.rva_based, m.dll,
                  m.entries, out.warnings, budget, names, per_entry);
    }
    out.modules.push_back(std::move(m));
    if (budget == 0) break;
  }
  per_entry.finish("delay import directory");
  return out;
}

Result<BoundImports> parse_bound_imports(const Image& image) {
  BoundImports out;
  const auto dir = image.directory(kDirBoundImport);
  if (dir.VirtualAddress == 0) return out;
  const Bytes file = image.file();
  const uint64_t base = dir.VirtualAddress;
  const uint64_t limit = base + (dir.Size != 0 ? dir.Size : file.size());
  auto name_at = [&](uint16_t off) -> std::string_view {
    const uint64_t at = base + off;
    if (at >= file.size()) return {};
    const auto s = as_chars(file.subspan(at, std::min<uint64_t>(file.size() - at, 512)));
    return s.substr(0, s.find('\0'));
  };
  uint64_t at = base;
  while (at + sizeof(BoundImportDescriptor) <= std::min<uint64_t>(limit, file.size())) {
    auto d = read<BoundImportDescriptor>(file, at, "bound import descriptor");
    if (!d) break;
    at += sizeof(BoundImportDescriptor);
    if (d->TimeDateStamp == 0 && d->OffsetModuleName == 0) break;
    BoundImport b{name_at(d->OffsetModuleName), d->TimeDateStamp, {}};
    for (uint16_t i = 0; i < d->NumberOfModuleForwarderRefs; ++i) {
      auto f = at + sizeof(BoundImportDescriptor) <= limit
                   ? read<BoundImportDescriptor>(file, at, "bound forwarder reference")
                   : Result<BoundImportDescriptor>(
                         make_error(Status::success, "bound forwarder reference", Location::offset(at),
                                    fmt::format("reference {} of {} lies past the end of the directory", i,
                                                d->NumberOfModuleForwarderRefs)));
      if (!f) {
        out.warnings.push_back(f.take_error());
        break;
      }
      at += sizeof(BoundImportDescriptor);
      b.forwarders.push_back({name_at(f->OffsetModuleName), f->TimeDateStamp});
    }
    out.modules.push_back(std::move(b));
  }
  return out;
}

}  // namespace pemap::pe
