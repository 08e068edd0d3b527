#include "pe_builder.hpp"

#include <algorithm>
#include <cstring>
#include <set>
#include <stdexcept>

namespace pemap::test {
namespace {

using Bytes = std::vector<std::byte>;

uint32_t align_up(uint32_t v, uint32_t a) {
  if (a <= 1) return v;
  return static_cast<uint32_t>((static_cast<uint64_t>(v) + a - 1) / a * a);
}

uint32_t u32(std::size_t v) { return static_cast<uint32_t>(v); }

// Little-endian writers that grow the buffer as needed.
void ensure(Bytes& b, std::size_t end) {
  if (b.size() < end) b.resize(end, std::byte{0});
}
void wr(Bytes& b, std::size_t off, uint64_t v, unsigned n) {
  ensure(b, off + n);
  for (unsigned i = 0; i < n; ++i) b[off + i] = static_cast<std::byte>((v >> (8 * i)) & 0xff);
}
void w8(Bytes& b, std::size_t off, uint8_t v) { wr(b, off, v, 1); }
void w16(Bytes& b, std::size_t off, uint16_t v) { wr(b, off, v, 2); }
void w32(Bytes& b, std::size_t off, uint32_t v) { wr(b, off, v, 4); }
void w64(Bytes& b, std::size_t off, uint64_t v) { wr(b, off, v, 8); }
void wptr(Bytes& b, std::size_t off, uint64_t v, bool pe32plus) { wr(b, off, v, pe32plus ? 8 : 4); }
void wbytes(Bytes& b, std::size_t off, const void* p, std::size_t n) {
  ensure(b, off + n);
  if (n) std::memcpy(b.data() + off, p, n);
}
// NUL-terminated string; returns the offset just past the NUL.
std::size_t wstr(Bytes& b, std::size_t off, std::string_view s) {
  wbytes(b, off, s.data(), s.size());
  w8(b, off + s.size(), 0);
  return off + s.size() + 1;
}

void check_range(const Bytes& b, uint32_t off, unsigned n) {
  if (static_cast<uint64_t>(off) + n > b.size())
    throw std::out_of_range("BuiltPe: offset " + std::to_string(off) + " + " + std::to_string(n) +
                            " beyond file size " + std::to_string(b.size()));
}
uint64_t rd(const Bytes& b, uint32_t off, unsigned n) {
  check_range(b, off, n);
  uint64_t v = 0;
  for (unsigned i = 0; i < n; ++i) v |= static_cast<uint64_t>(std::to_integer<uint8_t>(b[off + i])) << (8 * i);
  return v;
}

constexpr unsigned char kDosStub[] = {
    0x0e, 0x1f, 0xba, 0x0e, 0x00, 0xb4, 0x09, 0xcd, 0x21, 0xb8, 0x01, 0x4c, 0xcd, 0x21, 'T', 'h',  'i',  's',  ' ',
    'p',  'r',  'o',  'g',  'r',  'a',  'm',  ' ',  'c',  'a',  'n',  'n',  'o',  't',  ' ', 'b',  'e',  ' ',  'r',
    'u',  'n',  ' ',  'i',  'n',  ' ',  'D',  'O',  'S',  ' ',  'm',  'o',  'd',  'e',  '.', '\r', '\r', '\n', '$'};

}  // namespace

std::vector<std::byte> to_bytes(std::string_view s) {
  Bytes b(s.size());
  if (!s.empty()) std::memcpy(b.data(), s.data(), s.size());
  return b;
}
std::vector<std::byte> to_bytes(std::initializer_list<uint8_t> v) {
  Bytes b;
  b.reserve(v.size());
  for (uint8_t x : v) b.push_back(static_cast<std::byte>(x));
  return b;
}

// ---------------------------------------------------------------- BuiltPe

std::optional<uint32_t> BuiltPe::rva_to_offset(uint32_t rva) const {
  for (const auto& s : layout_) {
    uint32_t extent = s.vsize ? s.vsize : s.raw_size;
    if (rva >= s.va && rva - s.va < extent) {
      if (rva - s.va >= s.raw_size) return std::nullopt;  // in the zero-filled tail
      return s.raw + (rva - s.va);
    }
  }
  if (rva < size_of_headers_) return rva;
  return std::nullopt;
}

void BuiltPe::put8(uint32_t off, uint8_t v) {
  check_range(bytes, off, 1);
  w8(bytes, off, v);
}
void BuiltPe::put16(uint32_t off, uint16_t v) {
  check_range(bytes, off, 2);
  w16(bytes, off, v);
}
void BuiltPe::put32(uint32_t off, uint32_t v) {
  check_range(bytes, off, 4);
  w32(bytes, off, v);
}
void BuiltPe::put64(uint32_t off, uint64_t v) {
  check_range(bytes, off, 8);
  w64(bytes, off, v);
}
uint8_t BuiltPe::get8(uint32_t off) const { return static_cast<uint8_t>(rd(bytes, off, 1)); }
uint16_t BuiltPe::get16(uint32_t off) const { return static_cast<uint16_t>(rd(bytes, off, 2)); }
uint32_t BuiltPe::get32(uint32_t off) const { return static_cast<uint32_t>(rd(bytes, off, 4)); }
uint64_t BuiltPe::get64(uint32_t off) const { return rd(bytes, off, 8); }

// -------------------------------------------------------------- PeBuilder

PeBuilder::PeBuilder(bool pe32plus)
    : pe32plus_(pe32plus),
      machine_(pe32plus ? 0x8664 : 0x14c),
      characteristics_(pe32plus ? 0x0022 /*EXECUTABLE_IMAGE|LARGE_ADDRESS_AWARE*/
                                : 0x0102 /*EXECUTABLE_IMAGE|32BIT_MACHINE*/),
      image_base_(pe32plus ? 0x140000000ull : 0x400000ull),
      // DYNAMIC_BASE|NX_COMPAT|TERMINAL_SERVER_AWARE (+HIGH_ENTROPY_VA for PE32+)
      dll_characteristics_(pe32plus ? 0x8160 : 0x8140) {}

PeBuilder& PeBuilder::add_section(Section s) {
  sections_.push_back(std::move(s));
  return *this;
}

PeBuilder& PeBuilder::set_directory(int index, uint32_t rva, uint32_t size) {
  dirs_[index] = {rva, size};
  return *this;
}

PeBuilder& PeBuilder::overlay(std::vector<std::byte> data) {
  overlay_.insert(overlay_.end(), data.begin(), data.end());
  return *this;
}

PeBuilder& PeBuilder::add_bound_imports(std::vector<std::pair<std::string, uint32_t>> dll_timestamps) {
  bound_.insert(bound_.end(), dll_timestamps.begin(), dll_timestamps.end());
  return *this;
}

// ---- imports ----
// Layout: descriptors[n+1] | (align ptr) ILTs | IATs (contiguous, dir 12) |
//         hint/name entries (even-aligned) | dll names
PeBuilder& PeBuilder::add_imports(std::vector<Import> imports, uint32_t characteristics) {
  for (const auto& imp : imports)
    if (!imp.iat_values.empty() && imp.iat_values.size() != imp.entries.size())
      throw std::invalid_argument("add_imports: iat_values must give one value per entry");
  auto gen = [imports = std::move(imports)](const detail::HelperCtx& c) {
    const uint32_t ps = c.pe32plus ? 8 : 4;
    const uint64_t ord_flag = c.pe32plus ? 0x8000000000000000ull : 0x80000000ull;
    detail::HelperOut out;
    Bytes& b = out.data;
    const std::size_t n = imports.size();
    uint32_t off = align_up(u32(20 * (n + 1)), ps);
    std::vector<uint32_t> ilt(n, 0), iat(n, 0);
    for (std::size_t i = 0; i < n; ++i) {
      if (!imports[i].use_lookup_table) continue;
      ilt[i] = off;
      off += u32(ps * (imports[i].entries.size() + 1));
    }
    const uint32_t iat_start = off;
    for (std::size_t i = 0; i < n; ++i) {
      iat[i] = off;
      off += u32(ps * (imports[i].entries.size() + 1));
    }
    const uint32_t iat_size = off - iat_start;
    // hint/name entries
    for (std::size_t i = 0; i < n; ++i) {
      const auto& imp = imports[i];
      for (std::size_t k = 0; k < imp.entries.size(); ++k) {
        uint64_t thunk;
        if (const auto* hn = std::get_if<std::pair<uint16_t, std::string>>(&imp.entries[k])) {
          off = align_up(off, 2);
          thunk = c.rva + off;
          w16(b, off, hn->first);
          off = u32(wstr(b, off + 2, hn->second));
        } else {
          thunk = ord_flag | std::get<uint16_t>(imp.entries[k]);
        }
        if (imp.use_lookup_table) wptr(b, ilt[i] + ps * k, thunk, c.pe32plus);
        wptr(b, iat[i] + ps * k, imp.iat_values.empty() ? thunk : imp.iat_values[k], c.pe32plus);
      }
    }
    // dll names + descriptors
    for (std::size_t i = 0; i < n; ++i) {
      const uint32_t name_off = off;
      off = u32(wstr(b, off, imports[i].dll));
      const std::size_t d = 20 * i;
      w32(b, d + 0, imports[i].use_lookup_table ? c.rva + ilt[i] : 0);  // OriginalFirstThunk
      w32(b, d + 4, imports[i].time_date_stamp);                        // TimeDateStamp
      w32(b, d + 8, 0);                                                 // ForwarderChain
      w32(b, d + 12, c.rva + name_off);                                 // Name
      w32(b, d + 16, c.rva + iat[i]);                                   // FirstThunk
    }
    ensure(b, std::max<std::size_t>(off, iat_start));  // terminators are zero
    out.dirs.emplace_back(1, 0, u32(20 * (n + 1)));
    out.dirs.emplace_back(12, iat_start, iat_size);
    out.primary_offset = 0;
    return out;
  };
  helpers_.push_back({".idata", characteristics, detail::HelperKind::Import, std::move(gen)});
  return *this;
}

// ---- exports ----
// Layout: IMAGE_EXPORT_DIRECTORY | EAT | name pointers | name ordinals |
//         dll name | export names | forwarder strings
PeBuilder& PeBuilder::add_exports(std::string dll_name, uint32_t ordinal_base, std::vector<Export> exports,
                                  bool sort_names) {
  // Assign slots now (independent of layout).
  std::vector<std::size_t> slot(exports.size());
  std::set<std::size_t> used;
  for (std::size_t i = 0; i < exports.size(); ++i) {
    if (!exports[i].ordinal) continue;
    if (*exports[i].ordinal < ordinal_base) throw std::invalid_argument("add_exports: ordinal below base");
    slot[i] = *exports[i].ordinal - ordinal_base;
    if (!used.insert(slot[i]).second) throw std::invalid_argument("add_exports: duplicate ordinal");
  }
  std::size_t next = 0;
  for (std::size_t i = 0; i < exports.size(); ++i) {
    if (exports[i].ordinal) continue;
    while (used.count(next)) ++next;
    slot[i] = next;
    used.insert(next);
  }
  auto gen = [dll_name = std::move(dll_name), ordinal_base, exports = std::move(exports), slot = std::move(slot),
              sort_names](const detail::HelperCtx& c) {
    detail::HelperOut out;
    Bytes& b = out.data;
    std::size_t nfunc = 0;
    for (std::size_t s : slot) nfunc = std::max(nfunc, s + 1);
    std::vector<std::size_t> named;  // indices into exports, in name-table order
    for (std::size_t i = 0; i < exports.size(); ++i)
      if (!exports[i].noname) named.push_back(i);
    if (sort_names)
      std::stable_sort(named.begin(), named.end(),
                       [&](std::size_t a, std::size_t z) { return exports[a].name < exports[z].name; });
    const uint32_t eat = 40;
    const uint32_t enpt = eat + u32(4 * nfunc);
    const uint32_t eot = enpt + u32(4 * named.size());
    uint32_t off = eot + u32(2 * named.size());
    const uint32_t name_off = off;
    off = u32(wstr(b, off, dll_name));
    for (std::size_t k = 0; k < named.size(); ++k) {
      const auto& e = exports[named[k]];
      w32(b, enpt + 4 * k, c.rva + off);
      w16(b, eot + 2 * k, static_cast<uint16_t>(slot[named[k]]));
      off = u32(wstr(b, off, e.name));
    }
    for (std::size_t i = 0; i < exports.size(); ++i) {
      const auto& e = exports[i];
      uint32_t rva;
      if (e.forwarder) {
        rva = c.rva + off;
        off = u32(wstr(b, off, *e.forwarder));
      } else if (e.rva) {
        rva = *e.rva;
      } else {
        const uint32_t delta = u32(0x10 * slot[i]);
        rva = c.first_section_rva + (delta < c.first_section_vsize ? delta : 0);
      }
      w32(b, eat + 4 * slot[i], rva);
    }
    ensure(b, off);
    w32(b, 0, 0);                      // Characteristics
    w32(b, 4, 0);                      // TimeDateStamp
    w16(b, 8, 0);                      // MajorVersion
    w16(b, 10, 0);                     // MinorVersion
    w32(b, 12, c.rva + name_off);      // Name
    w32(b, 16, ordinal_base);          // Base
    w32(b, 20, u32(nfunc));            // NumberOfFunctions
    w32(b, 24, u32(named.size()));     // NumberOfNames
    w32(b, 28, c.rva + eat);           // AddressOfFunctions
    w32(b, 32, c.rva + enpt);          // AddressOfNames
    w32(b, 36, c.rva + eot);           // AddressOfNameOrdinals
    out.dirs.emplace_back(0, 0, off);  // whole section: forwarders are inside the range
    return out;
  };
  helpers_.push_back({".edata", 0x40000040, detail::HelperKind::Export, std::move(gen)});
  return *this;
}

// ---- base relocations ----
PeBuilder& PeBuilder::add_relocs(std::vector<RelocBlock> blocks) {
  auto gen = [blocks = std::move(blocks)](const detail::HelperCtx&) {
    detail::HelperOut out;
    Bytes& b = out.data;
    std::size_t off = 0;
    for (const auto& blk : blocks) {
      w32(b, off, blk.page_rva);
      w32(b, off + 4, u32(8 + 2 * blk.entries.size()));
      off += 8;
      for (uint16_t e : blk.entries) {
        w16(b, off, e);
        off += 2;
      }
    }
    out.dirs.emplace_back(5, 0, u32(off));
    return out;
  };
  helpers_.push_back({".reloc", 0x42000040, detail::HelperKind::Reloc, std::move(gen)});
  return *this;
}

// ---- TLS ----
// Layout: IMAGE_TLS_DIRECTORY32/64 | (align 8) callbacks[n+1] | index slot (8) | template (16)
PeBuilder& PeBuilder::add_tls(std::vector<uint64_t> callback_vas, uint32_t size_of_zero_fill) {
  auto gen = [cbs = std::move(callback_vas), size_of_zero_fill](const detail::HelperCtx& c) {
    detail::HelperOut out;
    Bytes& b = out.data;
    const uint32_t ps = c.pe32plus ? 8 : 4;
    const uint32_t dir_size = c.pe32plus ? 40 : 24;
    const uint32_t cb_off = align_up(dir_size, 8);
    for (std::size_t i = 0; i < cbs.size(); ++i) wptr(b, cb_off + ps * i, cbs[i], c.pe32plus);
    const uint32_t index_off = align_up(cb_off + u32(ps * (cbs.size() + 1)), 8);
    const uint32_t tmpl_off = index_off + 8;
    const uint32_t tmpl_size = 16;
    for (uint32_t i = 0; i < tmpl_size; ++i) w8(b, tmpl_off + i, static_cast<uint8_t>(0x11 + i));
    const uint64_t va = c.image_base + c.rva;
    std::size_t o = 0;
    wptr(b, o, va + tmpl_off, c.pe32plus);
    o += ps;  // StartAddressOfRawData
    wptr(b, o, va + tmpl_off + tmpl_size, c.pe32plus);
    o += ps;  // EndAddressOfRawData
    wptr(b, o, va + index_off, c.pe32plus);
    o += ps;  // AddressOfIndex
    wptr(b, o, va + cb_off, c.pe32plus);
    o += ps;  // AddressOfCallBacks
    w32(b, o, size_of_zero_fill);
    o += 4;        // SizeOfZeroFill
    w32(b, o, 0);  // Characteristics
    out.dirs.emplace_back(9, 0, dir_size);
    return out;
  };
  helpers_.push_back({".tls", 0xC0000040, detail::HelperKind::Tls, std::move(gen)});
  return *this;
}

// ---- delay imports ----
// Layout: ImgDelayDescr[n+1] | per dll: HMODULE slot, IAT[k+1], INT[k+1] |
//         hint/name entries | dll names
PeBuilder& PeBuilder::add_delay_imports(std::vector<DelayImport> imports) {
  auto gen = [imports = std::move(imports)](const detail::HelperCtx& c) {
    detail::HelperOut out;
    Bytes& b = out.data;
    const uint32_t ps = c.pe32plus ? 8 : 4;
    const std::size_t n = imports.size();
    uint32_t off = u32(32 * (n + 1));
    std::vector<uint32_t> hmod(n), iat(n), intab(n);
    for (std::size_t i = 0; i < n; ++i) {
      hmod[i] = off;
      off += ps;
      iat[i] = off;
      off += u32(ps * (imports[i].names.size() + 1));
      intab[i] = off;
      off += u32(ps * (imports[i].names.size() + 1));
    }
    // pseudo thunk target: first section of the image
    const uint64_t thunk_va = c.image_base + c.first_section_rva;
    for (std::size_t i = 0; i < n; ++i) {
      const auto& d = imports[i];
      // In VA form every address (also the INT entries) is image_base + rva.
      const uint64_t base = d.rva_form ? 0 : c.image_base;
      for (std::size_t k = 0; k < d.names.size(); ++k) {
        off = align_up(off, 2);
        wptr(b, intab[i] + ps * k, base + c.rva + off, c.pe32plus);
        wptr(b, iat[i] + ps * k, thunk_va, c.pe32plus);
        w16(b, off, 0);
        off = u32(wstr(b, off + 2, d.names[k]));
      }
    }
    for (std::size_t i = 0; i < n; ++i) {
      const auto& d = imports[i];
      const uint64_t base = d.rva_form ? 0 : c.image_base;
      auto a = [&](uint32_t o) { return static_cast<uint32_t>(base + c.rva + o); };
      const uint32_t name_off = off;
      off = u32(wstr(b, off, d.dll));
      const std::size_t x = 32 * i;
      w32(b, x + 0, d.rva_form ? 1 : 0);  // Attributes
      w32(b, x + 4, a(name_off));         // DllNameRVA
      w32(b, x + 8, a(hmod[i]));          // ModuleHandleRVA
      w32(b, x + 12, a(iat[i]));          // ImportAddressTableRVA
      w32(b, x + 16, a(intab[i]));        // ImportNameTableRVA
      w32(b, x + 20, 0);                  // BoundImportAddressTableRVA
      w32(b, x + 24, 0);                  // UnloadInformationTableRVA
      w32(b, x + 28, 0);                  // TimeDateStamp
    }
    ensure(b, off);
    out.dirs.emplace_back(13, 0, u32(32 * (n + 1)));
    return out;
  };
  helpers_.push_back({".didat", 0xC0000040, detail::HelperKind::DelayImport, std::move(gen)});
  return *this;
}

// ---- load config ----
PeBuilder& PeBuilder::add_load_config(uint32_t size_field, uint64_t security_cookie_va) {
  auto gen = [size_field, security_cookie_va](const detail::HelperCtx& c) {
    detail::HelperOut out;
    Bytes b;
    w32(b, 0, size_field);                                              // Size
    wptr(b, c.pe32plus ? 0x58 : 0x3C, security_cookie_va, c.pe32plus);  // SecurityCookie
    b.resize(size_field, std::byte{0});                                 // exactly size_field bytes
    out.data = std::move(b);
    out.dirs.emplace_back(10, 0, size_field);
    return out;
  };
  helpers_.push_back({".rdata", 0x40000040, detail::HelperKind::LoadConfig, std::move(gen)});
  return *this;
}

// ---- debug directory (CodeView RSDS) ----
PeBuilder& PeBuilder::add_debug_codeview(std::string pdb_path, std::array<uint8_t, 16> guid, uint32_t age) {
  auto gen = [pdb_path = std::move(pdb_path), guid, age](const detail::HelperCtx& c) {
    detail::HelperOut out;
    Bytes& b = out.data;
    const uint32_t rec = 28;
    wbytes(b, rec, "RSDS", 4);
    wbytes(b, rec + 4, guid.data(), guid.size());
    w32(b, rec + 20, age);
    const uint32_t end = u32(wstr(b, rec + 24, pdb_path));
    w32(b, 0, 0);             // Characteristics
    w32(b, 4, 0);             // TimeDateStamp
    w16(b, 8, 0);             // MajorVersion
    w16(b, 10, 0);            // MinorVersion
    w32(b, 12, 2);            // Type = IMAGE_DEBUG_TYPE_CODEVIEW
    w32(b, 16, end - rec);    // SizeOfData
    w32(b, 20, c.rva + rec);  // AddressOfRawData
    w32(b, 24, c.raw + rec);  // PointerToRawData
    out.dirs.emplace_back(6, 0, 28);
    return out;
  };
  helpers_.push_back({".rdata", 0x40000040, detail::HelperKind::Debug, std::move(gen)});
  return *this;
}

// ------------------------------------------------------------------ build

BuiltPe PeBuilder::build() const {
  BuiltPe pe;
  const uint32_t fa = file_alignment_, sa = section_alignment_;
  const uint32_t ps = pe32plus_ ? 8 : 4;

  // ---- gather sections (user + helper, helper sizes from a dry run) ----
  struct Sec {
    std::string name;
    uint32_t virtual_size;
    uint32_t characteristics;
    std::optional<uint32_t> va, raw_ptr, raw_size;
    Bytes data;          // final data
    uint32_t data_size;  // size used for layout
    const detail::Helper* helper = nullptr;
  };
  std::vector<Sec> secs;
  for (const auto& s : sections_)
    secs.push_back({s.name, s.virtual_size, s.characteristics, s.virtual_address, s.raw_pointer, s.raw_size, s.data,
                    u32(s.data.size()), nullptr});
  for (const auto& h : helpers_) {
    detail::HelperCtx dry;
    dry.pe32plus = pe32plus_;
    dry.image_base = image_base_;
    const uint32_t sz = u32(h.gen(dry).data.size());
    secs.push_back({h.name, 0, h.characteristics, std::nullopt, std::nullopt, std::nullopt, {}, sz, &h});
  }
  const std::size_t nsec = secs.size();

  // ---- bound import blob ----
  Bytes bound;
  if (!bound_.empty()) {
    std::size_t off = 8 * (bound_.size() + 1);
    for (std::size_t i = 0; i < bound_.size(); ++i) {
      w32(bound, 8 * i, bound_[i].second);
      w16(bound, 8 * i + 4, static_cast<uint16_t>(off));
      w16(bound, 8 * i + 6, 0);
      off = wstr(bound, off, bound_[i].first);
    }
    ensure(bound, off);
  }

  // ---- header layout ----
  const uint32_t opt_fixed = pe32plus_ ? 112 : 96;
  const uint32_t opt_size_actual = opt_fixed + 8 * number_of_rva_and_sizes_;
  const uint16_t soh_field =
      size_of_optional_header_ ? *size_of_optional_header_ : static_cast<uint16_t>(opt_size_actual);
  pe.nt_offset = e_lfanew_;
  pe.coff_offset = pe.nt_offset + 4;
  pe.optional_offset = pe.coff_offset + 20;
  pe.data_dir_offset = pe.optional_offset + opt_fixed;
  pe.section_table_offset = pe.optional_offset + soh_field;
  const uint32_t after_table = pe.section_table_offset + u32(40 * nsec);
  if (!bound.empty()) pe.bound_import_offset = after_table;
  const uint32_t headers_end =
      std::max({after_table + u32(bound.size()), pe.optional_offset + opt_size_actual, uint32_t{0x40}});
  const uint32_t soh_computed = align_up(headers_end, fa);

  // ---- section layout ----
  std::vector<BuiltPe::SecLayout> lay(nsec);
  uint32_t next_raw = soh_computed;
  uint32_t next_va = align_up(soh_computed, sa);
  uint32_t image_end = align_up(soh_computed, sa);
  for (std::size_t i = 0; i < nsec; ++i) {
    auto& s = secs[i];
    auto& l = lay[i];
    l.vsize = s.virtual_size ? s.virtual_size : s.data_size;
    l.raw_size = s.raw_size ? *s.raw_size : align_up(s.data_size, fa);
    l.raw = s.raw_ptr ? *s.raw_ptr : (l.raw_size == 0 ? 0 : align_up(next_raw, fa));
    l.va = s.va ? *s.va : align_up(next_va, sa);
    const uint32_t extent = l.vsize ? l.vsize : l.raw_size;
    next_va = std::max(next_va, align_up(l.va + std::max<uint32_t>(extent, 1), sa));
    image_end = std::max(image_end, l.va + extent);
    if (l.raw_size) next_raw = std::max(next_raw, l.raw + l.raw_size);
  }
  pe.layout_ = lay;
  pe.size_of_headers_ = soh_computed;

  // ---- generate helper data with the real layout ----
  std::map<int, std::pair<uint32_t, uint32_t>> dirs;
  for (std::size_t i = 0; i < nsec; ++i) {
    auto& s = secs[i];
    if (!s.helper) continue;
    detail::HelperCtx c;
    c.rva = lay[i].va;
    c.raw = lay[i].raw;
    c.image_base = image_base_;
    c.pe32plus = pe32plus_;
    if (nsec) {
      c.first_section_rva = lay[0].va;
      c.first_section_vsize = lay[0].vsize ? lay[0].vsize : lay[0].raw_size;
    }
    detail::HelperOut out = s.helper->gen(c);
    if (out.data.size() != s.data_size) throw std::logic_error("pe_builder: helper size depends on layout");
    s.data = std::move(out.data);
    for (const auto& [idx, o, sz] : out.dirs) dirs[idx] = {c.rva + o, sz};
    const uint32_t prim = c.rva + out.primary_offset;
    switch (s.helper->kind) {
      case detail::HelperKind::Import:
        pe.import_rva = prim;
        break;
      case detail::HelperKind::Export:
        pe.export_rva = prim;
        break;
      case detail::HelperKind::Reloc:
        pe.reloc_rva = prim;
        break;
      case detail::HelperKind::Tls:
        pe.tls_rva = prim;
        break;
      case detail::HelperKind::DelayImport:
        pe.delay_import_rva = prim;
        break;
      case detail::HelperKind::LoadConfig:
        pe.load_config_rva = prim;
        break;
      case detail::HelperKind::Debug:
        pe.debug_rva = prim;
        break;
    }
  }
  if (!bound.empty()) dirs[11] = {pe.bound_import_offset, u32(bound.size())};
  for (const auto& [idx, v] : dirs_) dirs[idx] = v;  // explicit directories win

  // ---- string table for long names ----
  Bytes strtab;
  std::vector<std::string> hdr_names(nsec);
  for (std::size_t i = 0; i < nsec; ++i) {
    if (secs[i].name.size() <= 8) {
      hdr_names[i] = secs[i].name;
      continue;
    }
    if (strtab.empty()) strtab.resize(4);
    hdr_names[i] = "/" + std::to_string(strtab.size());
    wstr(strtab, strtab.size(), secs[i].name);
  }
  if (!strtab.empty()) w32(strtab, 0, u32(strtab.size()));

  // ---- assemble the file: section data, then overlay, string table ----
  Bytes f(soh_computed, std::byte{0});
  uint32_t file_end = soh_computed;
  for (std::size_t i = 0; i < nsec; ++i) {
    const auto& s = secs[i];
    const auto& l = lay[i];
    pe.section_raw_offsets.push_back(l.raw);
    pe.section_rvas.push_back(l.va);
    if (l.raw_size == 0) continue;
    const uint32_t n = s.raw_size ? std::min<uint32_t>(*s.raw_size, u32(s.data.size())) : u32(s.data.size());
    if (n) wbytes(f, l.raw, s.data.data(), n);
    file_end = std::max(file_end, l.raw + (s.raw_size ? n : l.raw_size));
  }
  ensure(f, file_end);
  if (!overlay_.empty()) {
    pe.overlay_offset = file_end;
    wbytes(f, file_end, overlay_.data(), overlay_.size());
    file_end += u32(overlay_.size());
  }
  if (!strtab.empty()) {
    pe.string_table_offset = file_end;
    wbytes(f, file_end, strtab.data(), strtab.size());
    file_end += u32(strtab.size());
  }

  // ---- headers (written last: they win over overlapping section data) ----
  // DOS header
  wbytes(f, 0, "MZ", 2);
  w16(f, 0x02, 0x90);    // e_cblp
  w16(f, 0x04, 3);       // e_cp
  w16(f, 0x08, 4);       // e_cparhdr
  w16(f, 0x0c, 0xffff);  // e_maxalloc
  w16(f, 0x10, 0xb8);    // e_sp
  w16(f, 0x18, 0x40);    // e_lfarlc
  if (e_lfanew_ > 0x40) wbytes(f, 0x40, kDosStub, std::min<std::size_t>(sizeof kDosStub, e_lfanew_ - 0x40));
  w32(f, pe.e_lfanew_offset, e_lfanew_);

  // NT signature + IMAGE_FILE_HEADER
  wbytes(f, pe.nt_offset, "PE\0\0", 4);
  const uint32_t c = pe.coff_offset;
  w16(f, c + 0, machine_);
  w16(f, c + 2, number_of_sections_ ? *number_of_sections_ : static_cast<uint16_t>(nsec));
  w32(f, c + 4, time_date_stamp_);
  w32(f, c + 8, pointer_to_symbol_table_ ? *pointer_to_symbol_table_ : pe.string_table_offset);
  w32(f, c + 12, number_of_symbols_ ? *number_of_symbols_ : 0);
  w16(f, c + 16, soh_field);
  w16(f, c + 18, characteristics_);

  // optional header
  uint32_t code_sz = 0, init_sz = 0, uninit_sz = 0;
  std::optional<uint32_t> first_code, first_data;
  for (std::size_t i = 0; i < nsec; ++i) {
    const uint32_t ch = secs[i].characteristics;
    if (ch & 0x20) {
      code_sz += lay[i].raw_size;
      if (!first_code) first_code = lay[i].va;
    }
    if (ch & 0x40) {
      init_sz += lay[i].raw_size;
      if (!first_data && !(ch & 0x20)) first_data = lay[i].va;
    }
    if (ch & 0x80) {
      uninit_sz += align_up(lay[i].vsize, fa);
      if (!first_data && !(ch & 0x20)) first_data = lay[i].va;
    }
  }
  const uint32_t o = pe.optional_offset;
  w16(f, o + 0, magic_ ? *magic_ : (pe32plus_ ? 0x20b : 0x10b));
  w8(f, o + 2, linker_major_);
  w8(f, o + 3, linker_minor_);
  w32(f, o + 4, size_of_code_.value_or(code_sz));
  w32(f, o + 8, size_of_init_data_.value_or(init_sz));
  w32(f, o + 12, size_of_uninit_data_.value_or(uninit_sz));
  w32(f, o + 16, entry_point_.value_or(first_code.value_or(0)));
  w32(f, o + 20, base_of_code_.value_or(first_code.value_or(0)));
  if (pe32plus_) {
    w64(f, o + 24, image_base_);
  } else {
    w32(f, o + 24, base_of_data_.value_or(first_data.value_or(0)));
    w32(f, o + 28, static_cast<uint32_t>(image_base_));
  }
  w32(f, o + 32, sa);
  w32(f, o + 36, fa);
  w16(f, o + 40, os_major_);
  w16(f, o + 42, os_minor_);
  w16(f, o + 44, image_major_);
  w16(f, o + 46, image_minor_);
  w16(f, o + 48, subsys_major_);
  w16(f, o + 50, subsys_minor_);
  w32(f, o + 52, win32_version_value_);
  w32(f, o + 56, size_of_image_.value_or(align_up(image_end, sa)));
  w32(f, o + 60, size_of_headers_.value_or(soh_computed));
  w32(f, o + 64, checksum_);
  w16(f, o + 68, subsystem_);
  w16(f, o + 70, dll_characteristics_);
  std::size_t p = o + 72;
  for (uint64_t v : {stack_reserve_, stack_commit_, heap_reserve_, heap_commit_}) {
    wptr(f, p, v, pe32plus_);
    p += ps;
  }
  w32(f, p, loader_flags_);
  w32(f, p + 4, number_of_rva_and_sizes_);
  for (uint32_t i = 0; i < number_of_rva_and_sizes_; ++i) {
    auto it = dirs.find(static_cast<int>(i));
    w32(f, pe.data_dir_offset + 8 * i, it == dirs.end() ? 0 : it->second.first);
    w32(f, pe.data_dir_offset + 8 * i + 4, it == dirs.end() ? 0 : it->second.second);
  }

  // section table
  for (std::size_t i = 0; i < nsec; ++i) {
    const uint32_t h = pe.section_header_offset(i);
    const auto& l = lay[i];
    char name[8] = {};
    std::memcpy(name, hdr_names[i].data(), std::min<std::size_t>(8, hdr_names[i].size()));
    wbytes(f, h, name, 8);
    w32(f, h + 8, l.vsize);
    w32(f, h + 12, l.va);
    w32(f, h + 16, l.raw_size);
    w32(f, h + 20, l.raw);
    w32(f, h + 24, 0);  // PointerToRelocations
    w32(f, h + 28, 0);  // PointerToLinenumbers
    w16(f, h + 32, 0);  // NumberOfRelocations
    w16(f, h + 34, 0);  // NumberOfLinenumbers
    w32(f, h + 36, secs[i].characteristics);
  }
  if (!bound.empty()) wbytes(f, pe.bound_import_offset, bound.data(), bound.size());

  // ---- checksum ----
  if (compute_checksum_) {
    const std::size_t ck = o + 64;
    w32(f, ck, 0);
    uint64_t sum = 0;
    for (std::size_t i = 0; i < f.size(); i += 2) {
      uint32_t word = std::to_integer<uint8_t>(f[i]);
      if (i + 1 < f.size()) word |= static_cast<uint32_t>(std::to_integer<uint8_t>(f[i + 1])) << 8;
      sum += word;
      sum = (sum & 0xffff) + (sum >> 16);
    }
    sum = (sum & 0xffff) + (sum >> 16);
    w32(f, ck, static_cast<uint32_t>(sum + f.size()));
  }

  pe.bytes = std::move(f);
  return pe;
}

}  // namespace pemap::test
