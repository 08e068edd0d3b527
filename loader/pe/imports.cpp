// Parsing of the three import tables.
#include "pe/imports.hpp"

#include "pe/scan_budget.hpp"
#include "pe/tls.hpp"

#include <cstring>

#include <fmt/format.h>

namespace pemap::pe {
namespace {

// Before it walks an executable's imports the loader writes its TLS index, 0 (the executable is the first
// module to get one), at AddressOfIndex. Where that lands in the import tables the loader reads the 0, not
// the file's bytes: corkami manyimportsW7.exe ends its descriptor list this way, with 590,000 fake entries
// behind it. Which Windows writes it first differs (corkami tls_aoiOSDET.exe detects the OS by it), so the
// tables are listed as the file holds them, with a warning where the write changes them.
struct IndexWrite {
  std::optional<uint64_t> rva;  // none for a DLL, whose index depends on what loaded before it
  static IndexWrite of(const Image& image) {
    if (image.file_header().Characteristics & file_flag::dll) return {};
    const auto tls = parse_tls(image);
    if (!tls || !tls->present) return {};
    const auto rva = image.va_to_rva(tls->address_of_index);
    return rva ? IndexWrite{*rva} : IndexWrite{};
  }
  /// `value`, read at `at`, as the loader sees it once the write has set the bytes it covers to 0; none when
  /// the write does not change it.
  template <class T>
  std::optional<T> seen(uint64_t at, const T& value) const {
    if (!rva || *rva + 4 <= at || *rva >= at + sizeof(T)) return std::nullopt;
    std::byte bytes[sizeof(T)];
    std::memcpy(bytes, &value, sizeof(T));
    const uint64_t from = std::max(*rva, at), to = std::min(*rva + 4, at + sizeof(T));
    std::memset(bytes + (from - at), 0, to - from);
    if (std::memcmp(bytes, &value, sizeof(T)) == 0) return std::nullopt;
    T out;
    std::memcpy(&out, bytes, sizeof(T));
    return out;
  }
};

// One lookup-table walk for ordinary and delay imports. `table_rva` holds thunks, `iat_rva` the slots; each entry
// goes to emit(const ImportEntry&).
template <class Emit>
void walk_thunks(const Image& image, uint64_t table_rva, uint64_t iat_rva, bool va_form, std::string_view dll,
                 Emit&& emit, std::vector<Error>& warnings, uint64_t& budget, ScanBudget& names, WarningSink& per_entry,
                 const IndexWrite& tls) {
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
    auto thunk = image.read_pointer(slot, "import lookup table");
    if (!thunk) {
      Error e = thunk.take_error();
      e.structure = fmt::format("import lookup table of {}", dll);
      warnings.push_back(std::move(e));
      return;
    }
    if (const auto seen = tls.seen(slot, *thunk))
      warnings.push_back(make_error(Status::success, fmt::format("imports of {}", dll), Location::rva(slot),
                                    fmt::format("TLS AddressOfIndex points at this lookup entry: once the loader "
                                                "writes the executable's TLS index 0 there it reads {:#x}{}",
                                                *seen, *seen == 0 ? ", which ends the list" : "")));
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
    emit(e);
  }
}

}  // namespace

uint64_t Imports::entry_count() const {
  uint64_t n = 0;
  for (const auto& m : modules) n += m.entries.size();
  return n;
}

Result<std::vector<Error>> walk_imports(const Image& image, ImportSink<ImportModule>& sink) {
  std::vector<Error> warnings;
  size_t modules = 0;
  const auto dir = image.used_directory(kDirImport);
  if (!dir) return warnings;
  if (auto cut = image.directory_cut_short(kDirImport, "import directory")) warnings.push_back(std::move(*cut));
  uint64_t budget = entry_budget(image);
  ScanBudget names(image);
  WarningSink per_entry(warnings);
  const IndexWrite tls = IndexWrite::of(image);
  for (uint64_t at = dir->VirtualAddress;; at += sizeof(ImportDescriptor)) {
    auto d = image.read_rva<ImportDescriptor>(at, "import descriptor");
    if (!d) {
      if (modules == 0) return d.take_error();
      warnings.push_back(d.take_error());
      break;
    }
    if (const auto seen = tls.seen(at, *d))
      warnings.push_back(make_error(
          Status::success, fmt::format("import descriptor #{}", modules), Location::rva(at),
          fmt::format("TLS AddressOfIndex ({:#x}) lies in it: a loader that writes the executable's TLS index 0 "
                      "before it walks the imports, as pemap load does, {}; listed here as the file holds it",
                      *tls.rva,
                      seen->Name == 0 || seen->FirstThunk == 0 ? "sees the list end here" : "reads other values")));
    if (d->Name == 0 || d->FirstThunk == 0) break;
    if (budget == 0) {
      warnings.push_back(make_error(Status::success, "import descriptor", Location::rva(at),
                                    "more descriptors than this file can hold; the walk stops here"));
      break;
    }
    --budget;
    ImportModule m;
    m.descriptor_rva = static_cast<uint32_t>(at);
    m.descriptor = *d;
    auto name = image.read_string(d->Name, "import DLL name", 512);
    if (!name) {
      warnings.push_back(name.take_error());
      continue;
    }
    m.dll = *name;
    uint64_t table = d->OriginalFirstThunk != 0 ? d->OriginalFirstThunk : d->FirstThunk;
    if (d->OriginalFirstThunk >= image.mapped_size()) {
      // corkami maxvals.exe and tinygui.exe have a bogus OriginalFirstThunk and run: the loader falls
      // back to FirstThunk when the lookup table is outside the image.
      warnings.push_back(make_error(Status::success, fmt::format("imports of {}", m.dll), Location::rva(at),
                                    fmt::format("OriginalFirstThunk {:#x} is outside the image; names are read "
                                                "from FirstThunk",
                                                d->OriginalFirstThunk)));
      table = d->FirstThunk;
    }
    sink.module(m);
    ++modules;
    walk_thunks(
        image, table, d->FirstThunk, false, m.dll, [&](const ImportEntry& e) { sink.entry(e); }, warnings, budget,
        names, per_entry, tls);
    if (budget == 0) break;
  }
  per_entry.finish("import directory");
  return warnings;
}

Result<std::vector<Error>> walk_delay_imports(const Image& image, ImportSink<DelayImportModule>& sink) {
  std::vector<Error> warnings;
  size_t modules = 0;
  const auto dir = image.used_directory(kDirDelayImport);
  if (!dir) return warnings;
  if (auto cut = image.directory_cut_short(kDirDelayImport, "delay import directory"))
    warnings.push_back(std::move(*cut));
  uint64_t budget = entry_budget(image);
  ScanBudget names(image);
  WarningSink per_entry(warnings);
  const IndexWrite tls = IndexWrite::of(image);
  for (uint64_t at = dir->VirtualAddress;; at += sizeof(DelayImportDescriptor)) {
    auto d = image.read_rva<DelayImportDescriptor>(at, "delay import descriptor");
    if (!d) {
      if (modules == 0) return d.take_error();
      warnings.push_back(d.take_error());
      break;
    }
    if (d->DllNameRVA == 0) break;
    if (budget == 0) {
      warnings.push_back(make_error(Status::success, "delay import descriptor", Location::rva(at),
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
      warnings.push_back(name.take_error());
      continue;
    }
    m.dll = *name;
    sink.module(m);
    ++modules;
    if (d->ImportNameTableRVA == 0 || d->ImportAddressTableRVA == 0) {
      warnings.push_back(make_error(Status::success, fmt::format("delay imports of {}", m.dll), Location::rva(at),
                                    "no name table or no address table"));
    } else {
      walk_thunks(
          image, to_rva(d->ImportNameTableRVA), to_rva(d->ImportAddressTableRVA), !m.rva_based, m.dll,
          [&](const ImportEntry& e) { sink.entry(e); }, warnings, budget, names, per_entry, tls);
    }
    if (budget == 0) break;
  }
  per_entry.finish("delay import directory");
  return warnings;
}

namespace {

// A walk's modules and entries, kept.
template <class Module>
struct Keep final : ImportSink<Module> {
  std::vector<Module>& modules;
  explicit Keep(std::vector<Module>& m) : modules(m) {}
  void module(const Module& m) override { modules.push_back(m); }
  void entry(const ImportEntry& e) override { modules.back().entries.push_back(e); }
};

template <class Out, class Module>
Result<Out> kept(const Image& image, Result<std::vector<Error>> (*walk)(const Image&, ImportSink<Module>&)) {
  Out out;
  Keep<Module> keep(out.modules);
  auto warnings = walk(image, keep);
  if (!warnings) return warnings.take_error();
  out.warnings = std::move(*warnings);
  return out;
}

}  // namespace

Result<Imports> parse_imports(const Image& image) { return kept<Imports>(image, walk_imports); }

Result<DelayImports> parse_delay_imports(const Image& image) { return kept<DelayImports>(image, walk_delay_imports); }

Result<BoundImports> parse_bound_imports(const Image& image) {
  BoundImports out;
  const auto dir = image.directory(kDirBoundImport);
  if (dir.VirtualAddress == 0) return out;
  const Bytes file = image.file();
  const uint64_t base = dir.VirtualAddress;
  const uint64_t limit = base + (dir.Size != 0 ? dir.Size : file.size());
  // It lies in the headers; past SizeOfHeaders it is not in the file even when the file is whole (corkami
  // dllbound-ld.exe points it at 0x1080 in a 0x400-byte file).
  const uint64_t headers = image.optional_header().size_of_headers;
  if (base < headers && std::min(limit, headers) > file.size())
    out.warnings.push_back(make_error(Status::success, "bound import directory", Location::offset(base),
                                      fmt::format("it lies in the headers (SizeOfHeaders {:#x}), which run past the "
                                                  "end of the file at {:#x}: the file is cut short and these bytes "
                                                  "are missing",
                                                  headers, file.size())));
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
