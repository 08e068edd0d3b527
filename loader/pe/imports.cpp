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
std::optional<uint64_t> index_write(const Image& image) {
  if (image.file_header().Characteristics & file_flag::dll) return {};  // its index depends on what loaded first
  const auto index = tls_address_of_index(image);
  if (!index) return {};
  return image.va_to_rva(*index);
}

/// `value`, read at `at`, as the loader sees it once the index write at `index` has set the bytes it covers to 0;
/// none when the write does not change it.
template <class T>
std::optional<T> seen(const std::optional<uint64_t>& index, uint64_t at, const T& value) {
  if (!index || *index + 4 <= at || *index >= at + sizeof(T)) return std::nullopt;
  std::byte bytes[sizeof(T)];
  std::memcpy(bytes, &value, sizeof(T));
  const uint64_t from = std::max(*index, at), to = std::min(*index + 4, at + sizeof(T));
  std::memset(bytes + (from - at), 0, to - from);
  if (std::memcmp(bytes, &value, sizeof(T)) == 0) return std::nullopt;
  T out;
  std::memcpy(&out, bytes, sizeof(T));
  return out;
}

constexpr bool is_delay(const ImportModule&) { return false; }
constexpr bool is_delay(const DelayImportModule&) { return true; }

}  // namespace

uint64_t Imports::entry_count() const {
  uint64_t n = 0;
  for (const auto& m : modules) n += m.entries.size();
  return n;
}

template <class Module>
ImportReader<Module>::ImportReader(const Image& image) : image_(&image), budget_(entry_budget(image)), names_(image) {
  constexpr uint32_t kDir = std::is_same_v<Module, DelayImportModule> ? kDirDelayImport : kDirImport;
  const auto dir = image.used_directory(kDir);
  if (!dir) return;
  next_descriptor_ = dir->VirtualAddress;
  constexpr uint64_t kRecord = kDir == kDirImport ? sizeof(ImportDescriptor) : sizeof(DelayImportDescriptor);
  if (auto cut =
          image.directory_unreadable(kDir, kDir == kDirImport ? "import directory" : "delay import directory", kRecord))
    warnings_.push_back(std::move(*cut));
  index_write_ = index_write(image);
}

namespace {

// What a descriptor points at, as RVAs.
struct Tables {
  uint64_t name = 0, lookup = 0, iat = 0;
  bool present = true;   ///< a delay descriptor may have no name or address table
  bool va_form = false;  ///< the old delay-load form, which holds VAs
};

bool ends_list(const ImportDescriptor& d) { return d.Name == 0 || d.FirstThunk == 0; }
bool ends_list(const DelayImportDescriptor& d) { return d.DllNameRVA == 0; }

Tables tables_of(const Image&, ImportModule& m) {
  const ImportDescriptor& d = m.descriptor;
  return {
      .name = d.Name, .lookup = d.OriginalFirstThunk != 0 ? d.OriginalFirstThunk : d.FirstThunk, .iat = d.FirstThunk};
}

Tables tables_of(const Image& image, DelayImportModule& m) {
  const DelayImportDescriptor& d = m.descriptor;
  m.rva_based = (d.Attributes & 1) != 0;
  // The old (VC6) form stores VAs; subtract the preferred base to get RVAs.
  const uint64_t base = m.rva_based ? 0 : image.image_base();
  auto to_rva = [&](uint32_t v) { return v == 0 ? 0 : uint64_t{v} - (v >= base ? base : 0); };
  return {.name = to_rva(d.DllNameRVA),
          .lookup = to_rva(d.ImportNameTableRVA),
          .iat = to_rva(d.ImportAddressTableRVA),
          .present = d.ImportNameTableRVA != 0 && d.ImportAddressTableRVA != 0,
          .va_form = !m.rva_based};
}

// What the loader does with a lookup table it cannot use, as a warning.
std::optional<Error> check_tables(const Image& image, const ImportModule& m, Tables& t) {
  if (m.descriptor.OriginalFirstThunk < image.mapped_size()) return std::nullopt;
  // corkami maxvals.exe and tinygui.exe have a bogus OriginalFirstThunk and run: the loader falls back to FirstThunk
  // when the lookup table is outside the image.
  t.lookup = m.descriptor.FirstThunk;
  return make_error(Status::success, fmt::format("imports of {}", m.dll), Location::rva(m.descriptor_rva),
                    fmt::format("OriginalFirstThunk {:#x} is outside the image; names are read from FirstThunk",
                                m.descriptor.OriginalFirstThunk));
}

std::optional<Error> check_tables(const Image&, const DelayImportModule& m, const Tables& t) {
  if (t.present) return std::nullopt;
  return make_error(Status::success, fmt::format("delay imports of {}", m.dll), Location::rva(m.descriptor_rva),
                    "no name table or no address table");
}

}  // namespace

template <class Module>
std::optional<Module> ImportReader<Module>::next_module() {
  while (next_entry()) {
  }
  // A module's entries that spent the budget have said so: the list ends there without another warning.
  if (after_module_ && budget_ == 0) next_descriptor_.reset();
  after_module_ = false;
  const char* const what = is_delay(Module{}) ? "delay import descriptor" : "import descriptor";
  while (next_descriptor_) {
    const uint64_t at = *next_descriptor_;
    *next_descriptor_ += sizeof(Module::descriptor);
    auto d = image_->read_rva<decltype(Module::descriptor)>(at, what);
    if (!d) {
      if (modules_ == 0)
        unreadable_ = d.take_error();
      else
        warnings_.push_back(d.take_error());
      break;
    }
    if constexpr (std::is_same_v<Module, ImportModule>)
      if (const auto s = seen(index_write_, at, *d))
        warnings_.push_back(make_error(
            Status::success, fmt::format("import descriptor #{}", modules_), Location::rva(at),
            fmt::format("TLS AddressOfIndex ({:#x}) lies in it: a loader that writes the executable's TLS index 0 "
                        "before it walks the imports, as pemap load does, {}; listed here as the file holds it",
                        *index_write_, ends_list(*s) ? "sees the list end here" : "reads other values")));
    if (ends_list(*d)) break;
    if (budget_ == 0) {
      warnings_.push_back(make_error(Status::success, what, Location::rva(at),
                                     "more descriptors than this file can hold; the walk stops here"));
      break;
    }
    --budget_;
    Module m;
    m.descriptor_rva = static_cast<uint32_t>(at);
    m.descriptor = *d;
    Tables t = tables_of(*image_, m);
    auto name = image_->read_string(t.name, is_delay(m) ? "delay import DLL name" : "import DLL name", 512);
    if (!name) {
      warnings_.push_back(name.take_error());
      continue;
    }
    m.dll = *name;
    if (auto e = check_tables(*image_, m, t)) warnings_.push_back(std::move(*e));
    if (t.present) thunks_ = Thunks{.table = t.lookup, .iat = t.iat, .va_form = t.va_form, .dll = m.dll};
    ++modules_;
    after_module_ = true;
    return m;
  }
  next_descriptor_.reset();
  return std::nullopt;
}

template <class Module>
std::optional<ImportEntry> ImportReader<Module>::next_entry() {
  while (thunks_)
    if (auto e = read_entry(*thunks_)) return e;
  return std::nullopt;
}

// One lookup-table entry, for ordinary and delay imports alike: none with the table closed at its end, none with it
// open when the entry is left out (its name unreadable).
template <class Module>
std::optional<ImportEntry> ImportReader<Module>::read_entry(Thunks& t) {
  const std::string_view dll = t.dll;
  const uint64_t i = t.index++, slot = t.table + i * image_->pointer_size();
  if (budget_ == 0 || names_.exhausted()) {
    warnings_.push_back(make_error(Status::success, fmt::format("imports of {}", dll), Location::rva(t.table),
                                   "import entries exceed what this file can hold; the walk stops here"));
    budget_ = 0;
    thunks_.reset();
    return std::nullopt;
  }
  auto thunk = image_->read_pointer(slot, "import lookup table");
  if (!thunk) {
    Error e = thunk.take_error();
    e.structure = fmt::format("import lookup table of {}", dll);
    warnings_.push_back(std::move(e));
    thunks_.reset();
    return std::nullopt;
  }
  if (const auto s = seen(index_write_, slot, *thunk))
    warnings_.push_back(make_error(Status::success, fmt::format("imports of {}", dll), Location::rva(slot),
                                   fmt::format("TLS AddressOfIndex points at this lookup entry: once the loader "
                                               "writes the executable's TLS index 0 there it reads {:#x}{}",
                                               *s, *s == 0 ? ", which ends the list" : "")));
  if (*thunk == 0) {
    thunks_.reset();
    return std::nullopt;
  }
  --budget_;
  ImportEntry e;
  e.thunk = *thunk;
  e.iat_rva = static_cast<uint32_t>(t.iat + i * image_->pointer_size());
  const uint64_t ordinal_flag = with_format(image_->format(), [](auto f) { return decltype(f)::ordinal_flag; });
  if (*thunk & ordinal_flag) {
    e.by_ordinal = true;
    e.ordinal = static_cast<uint16_t>(*thunk & 0xffff);
    return e;
  }
  // The hint/name RVA is the low 32 bits (ntdll, ReactOS and Wine truncate to a DWORD); in PE32 the top bit is the
  // ordinal flag, so it is clear here anyway.
  uint64_t name_rva = *thunk & 0xffffffffu;
  // The old delay-load form holds VAs, but the delay helper is the program's own code and some (corkami
  // delayimports.exe) mix RVAs in: take a value below the image base as an RVA.
  if (t.va_form && *thunk >= image_->image_base()) name_rva = *thunk - image_->image_base();
  e.name_rva = static_cast<uint32_t>(name_rva);
  auto hint = image_->read_rva<uint16_t>(name_rva, "hint/name entry");
  auto name = hint ? names_.read_name(*image_, name_rva + 2, "import name") : Result<std::string_view>(hint.error());
  if (!name) {
    per_entry_.add(
        warnings_,
        make_error(Status::invalid_image_format, fmt::format("import #{} of {}", i, dll), Location::rva(slot),
                   fmt::format("hint/name RVA {:#x} is unreadable: {}", name_rva, name.error().message)));
    return std::nullopt;
  }
  e.hint = *hint;
  e.name = *name;
  return e;
}

template <class Module>
Result<std::vector<Error>> ImportReader<Module>::finish() {
  while (next_module()) {
  }
  if (unreadable_) return std::move(*unreadable_);
  if (!finished_) per_entry_.finish(warnings_, is_delay(Module{}) ? "delay import directory" : "import directory");
  finished_ = true;
  return std::move(warnings_);
}

template class ImportReader<ImportModule>;
template class ImportReader<DelayImportModule>;

namespace {

// A reader's modules and entries, kept.
template <class Out>
Result<Out> kept(const Image& image) {
  Out out;
  ImportReader<typename decltype(out.modules)::value_type> reader(image);
  while (auto m = reader.next_module()) {
    out.modules.push_back(std::move(*m));
    while (auto e = reader.next_entry()) out.modules.back().entries.push_back(*e);
  }
  auto warnings = reader.finish();
  if (!warnings) return warnings.take_error();
  out.warnings = std::move(*warnings);
  return out;
}

}  // namespace

Result<Imports> parse_imports(const Image& image) { return kept<Imports>(image); }

Result<DelayImports> parse_delay_imports(const Image& image) { return kept<DelayImports>(image); }

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
