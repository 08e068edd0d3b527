// Synthetic PE image builder for unit tests (in the spirit of yaml2obj / Wine's
// loader tests). Produces the bytes of a PE32 or PE32+ image and records the
// file offsets of every structure so tests can corrupt individual fields.
//
// Layout (see build()):
//   0x00        IMAGE_DOS_HEADER ("MZ", e_lfanew at 0x3c)
//   0x40        short DOS stub (truncated/omitted if e_lfanew < 0x80)
//   e_lfanew    "PE\0\0", IMAGE_FILE_HEADER (20), optional header
//               (PE32: 96 + 8*n, PE32+: 112 + 8*n), section table at
//               optional_offset + SizeOfOptionalHeader, bound import
//               descriptors (if any) right after the section table
//   SizeOfHeaders (FileAlignment-rounded)
//   sections    in order of add (user sections first, then the sections of
//               the content helpers in the order the helpers were called)
//   overlay     (if any) right after the end of the last section's raw data
//   strings     COFF string table (if any section name > 8 chars) at the end
//               of the file; PointerToSymbolTable points at it,
//               NumberOfSymbols = 0.
//
// All multi-byte values are little-endian. Nothing here depends on the host
// byte order or on struct layout.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <variant>
#include <vector>

namespace pemap::test {

// Convenience: bytes of a string (no terminating NUL) / of a byte list.
std::vector<std::byte> to_bytes(std::string_view s);
std::vector<std::byte> to_bytes(std::initializer_list<uint8_t> v);

struct BuiltPe {
  std::vector<std::byte> bytes;
  // file offsets of structures, so tests can corrupt them:
  uint32_t e_lfanew_offset = 0x3c;            // offset of the e_lfanew field
  uint32_t nt_offset = 0;                     // 'PE\0\0'
  uint32_t coff_offset = 0;                   // IMAGE_FILE_HEADER
  uint32_t optional_offset = 0;               // IMAGE_OPTIONAL_HEADER(32|64)
  uint32_t data_dir_offset = 0;               // first IMAGE_DATA_DIRECTORY
  uint32_t section_table_offset = 0;          // first IMAGE_SECTION_HEADER
  std::vector<uint32_t> section_raw_offsets;  // PointerToRawData of each section
  std::vector<uint32_t> section_rvas;         // VirtualAddress of each section
  uint32_t string_table_offset = 0;           // COFF string table (0 if none)
  uint32_t overlay_offset = 0;                // first overlay byte (0 if no overlay)
  // rvas of what the helpers laid out (0 if absent)
  uint32_t import_rva = 0, export_rva = 0, reloc_rva = 0, tls_rva = 0, delay_import_rva = 0, bound_import_offset = 0,
           load_config_rva = 0, debug_rva = 0;

  // offset of the i-th IMAGE_SECTION_HEADER / i-th IMAGE_DATA_DIRECTORY
  uint32_t section_header_offset(std::size_t i) const { return section_table_offset + 40u * static_cast<uint32_t>(i); }
  uint32_t data_dir_entry_offset(int index) const { return data_dir_offset + 8u * static_cast<uint32_t>(index); }
  // File offset of an rva, via the section table as laid out (nullopt if
  // the rva is in no section and not in the headers).
  std::optional<uint32_t> rva_to_offset(uint32_t rva) const;

  // little-endian patch helpers; throw std::out_of_range past the end.
  void put8(uint32_t off, uint8_t v);
  void put16(uint32_t off, uint16_t v);
  void put32(uint32_t off, uint32_t v);
  void put64(uint32_t off, uint64_t v);
  uint8_t get8(uint32_t off) const;
  uint16_t get16(uint32_t off) const;
  uint32_t get32(uint32_t off) const;
  uint64_t get64(uint32_t off) const;

 private:
  friend class PeBuilder;
  struct SecLayout {
    uint32_t va, vsize, raw, raw_size;
  };
  std::vector<SecLayout> layout_;
  uint32_t size_of_headers_ = 0;
};

struct Section {
  std::string name{};                         // > 8 chars => COFF string table, "/N" in the header
  uint32_t virtual_size = 0;                  // 0 => size of data
  std::vector<std::byte> data{};              // raw data
  uint32_t characteristics = 0x60000020;      // default code RX
  std::optional<uint32_t> virtual_address{};  // default: laid out in order, SectionAlignment-aligned
  std::optional<uint32_t> raw_pointer{};      // default: laid out, FileAlignment-aligned (0 if raw size is 0)
  std::optional<uint32_t> raw_size{};         // default: data size rounded up to FileAlignment
                                              // (if set: only min(raw_size, data size) bytes are written)
};

using ImportEntry = std::variant<std::pair<uint16_t, std::string> /*hint,name*/, uint16_t /*ordinal*/>;

struct Import {
  std::string dll{};
  std::vector<ImportEntry> entries{};
  bool use_lookup_table = true;        // false => OriginalFirstThunk = 0 (IAT only)
  uint32_t time_date_stamp = 0;        // the descriptor's TimeDateStamp: nonzero = bound (0xFFFFFFFF: see directory 11)
  std::vector<uint64_t> iat_values{};  // non-empty: what the IAT holds (a bound IAT), one per entry; the lookup
                                       // table keeps the names
};

struct Export {
  std::string name{};                      // ignored if noname
  std::optional<uint32_t> rva{};           // default: first section rva + 0x10*index (if inside it)
  std::optional<std::string> forwarder{};  // "DLL.Name" or "DLL.#12"; string placed inside the export directory
  std::optional<uint16_t> ordinal{};       // biased ordinal (>= ordinal_base); default: next free slot
  bool noname = false;
};

struct RelocBlock {
  uint32_t page_rva = 0;
  std::vector<uint16_t> entries{};  // (type<<12)|offset, written as given
};

struct DelayImport {
  std::string dll{};
  std::vector<std::string> names{};  // imported by name, hint 0
  bool rva_form = true;              // Attributes bit 0; false => VA form (image_base + rva, low 32 bits)
};

namespace detail {
struct HelperCtx {
  uint32_t rva = 0;  // rva of the helper's own section
  uint32_t raw = 0;  // file offset of the helper's own section
  uint64_t image_base = 0;
  bool pe32plus = false;
  uint32_t first_section_rva = 0;
  uint32_t first_section_vsize = 0;
};
struct HelperOut {
  std::vector<std::byte> data;
  // {directory index, offset inside the section, size}
  std::vector<std::tuple<int, uint32_t, uint32_t>> dirs;
  uint32_t primary_offset = 0;  // offset inside the section recorded in BuiltPe
};
enum class HelperKind { Import, Export, Reloc, Tls, DelayImport, LoadConfig, Debug };
struct Helper {
  std::string name;
  uint32_t characteristics;
  HelperKind kind;
  std::function<HelperOut(const HelperCtx&)> gen;  // size must not depend on ctx
};
}  // namespace detail

class PeBuilder {
 public:
  explicit PeBuilder(bool pe32plus = false);  // machine: 0x14c (x86) / 0x8664 (x64)

  bool pe32plus() const { return pe32plus_; }

  // ---- IMAGE_FILE_HEADER ----
  PeBuilder& machine(uint16_t v) {
    machine_ = v;
    return *this;
  }
  PeBuilder& number_of_sections(uint16_t v) {
    number_of_sections_ = v;
    return *this;
  }  // default: count
  PeBuilder& time_date_stamp(uint32_t v) {
    time_date_stamp_ = v;
    return *this;
  }
  PeBuilder& pointer_to_symbol_table(uint32_t v) {
    pointer_to_symbol_table_ = v;
    return *this;
  }  // default: string table or 0
  PeBuilder& number_of_symbols(uint32_t v) {
    number_of_symbols_ = v;
    return *this;
  }  // default 0
  // Also moves the section table (it is placed at optional_offset + this value).
  PeBuilder& size_of_optional_header(uint16_t v) {
    size_of_optional_header_ = v;
    return *this;
  }
  PeBuilder& characteristics(uint16_t v) {
    characteristics_ = v;
    return *this;
  }

  // ---- DOS header ----
  PeBuilder& e_lfanew(uint32_t v) {
    e_lfanew_ = v;
    return *this;
  }  // default 0x80

  // ---- optional header ----
  PeBuilder& magic(uint16_t v) {
    magic_ = v;
    return *this;
  }  // default 0x10b / 0x20b (layout is unaffected)
  PeBuilder& linker_version(uint8_t major, uint8_t minor) {
    linker_major_ = major;
    linker_minor_ = minor;
    return *this;
  }
  PeBuilder& size_of_code(uint32_t v) {
    size_of_code_ = v;
    return *this;
  }
  PeBuilder& size_of_initialized_data(uint32_t v) {
    size_of_init_data_ = v;
    return *this;
  }
  PeBuilder& size_of_uninitialized_data(uint32_t v) {
    size_of_uninit_data_ = v;
    return *this;
  }
  PeBuilder& entry_point(uint32_t v) {
    entry_point_ = v;
    return *this;
  }  // default: first code section rva, else 0
  PeBuilder& base_of_code(uint32_t v) {
    base_of_code_ = v;
    return *this;
  }
  PeBuilder& base_of_data(uint32_t v) {
    base_of_data_ = v;
    return *this;
  }  // PE32 only
  PeBuilder& image_base(uint64_t v) {
    image_base_ = v;
    return *this;
  }
  PeBuilder& section_alignment(uint32_t v) {
    section_alignment_ = v;
    return *this;
  }
  PeBuilder& file_alignment(uint32_t v) {
    file_alignment_ = v;
    return *this;
  }
  PeBuilder& os_version(uint16_t major, uint16_t minor) {
    os_major_ = major;
    os_minor_ = minor;
    return *this;
  }
  PeBuilder& image_version(uint16_t major, uint16_t minor) {
    image_major_ = major;
    image_minor_ = minor;
    return *this;
  }
  PeBuilder& subsystem_version(uint16_t major, uint16_t minor) {
    subsys_major_ = major;
    subsys_minor_ = minor;
    return *this;
  }
  PeBuilder& win32_version_value(uint32_t v) {
    win32_version_value_ = v;
    return *this;
  }
  PeBuilder& size_of_image(uint32_t v) {
    size_of_image_ = v;
    return *this;
  }
  // Field value only; the layout always uses the computed value.
  PeBuilder& size_of_headers(uint32_t v) {
    size_of_headers_ = v;
    return *this;
  }
  PeBuilder& checksum(uint32_t v) {
    checksum_ = v;
    return *this;
  }
  PeBuilder& compute_checksum(bool v = true) {
    compute_checksum_ = v;
    return *this;
  }  // real PE checksum, overrides checksum()
  PeBuilder& subsystem(uint16_t v) {
    subsystem_ = v;
    return *this;
  }
  PeBuilder& dll_characteristics(uint16_t v) {
    dll_characteristics_ = v;
    return *this;
  }
  PeBuilder& stack_reserve(uint64_t v) {
    stack_reserve_ = v;
    return *this;
  }
  PeBuilder& stack_commit(uint64_t v) {
    stack_commit_ = v;
    return *this;
  }
  PeBuilder& heap_reserve(uint64_t v) {
    heap_reserve_ = v;
    return *this;
  }
  PeBuilder& heap_commit(uint64_t v) {
    heap_commit_ = v;
    return *this;
  }
  PeBuilder& loader_flags(uint32_t v) {
    loader_flags_ = v;
    return *this;
  }
  // Exactly this many directory slots are written (and counted in the default
  // SizeOfOptionalHeader); directories with index >= n are dropped.
  PeBuilder& number_of_rva_and_sizes(uint32_t v) {
    number_of_rva_and_sizes_ = v;
    return *this;
  }

  PeBuilder& add_section(Section s);
  // Explicit directories win over those set by the content helpers.
  PeBuilder& set_directory(int index, uint32_t rva, uint32_t size);

  // ---- content helpers: each appends a NEW section, built at build() time ----
  // .idata with `characteristics` (0xD0000040 puts the IAT in a MEM_SHARED|MEM_WRITE section); dirs 1 and 12
  PeBuilder& add_imports(std::vector<Import> imports, uint32_t characteristics = 0xC0000040);
  // .edata; dir 0. The name pointer table is sorted by name unless `sort_names` is false: then it lists the
  // named exports in the order given (an unsorted table, which the loader's binary search can miss in).
  PeBuilder& add_exports(std::string dll_name, uint32_t ordinal_base, std::vector<Export> exports,
                         bool sort_names = true);
  PeBuilder& add_relocs(std::vector<RelocBlock> blocks);  // .reloc; dir 5
  // .tls; dir 9. Template data = 16 bytes 0x11..0x20, index slot, NUL-terminated callbacks array.
  PeBuilder& add_tls(std::vector<uint64_t> callback_vas, uint32_t size_of_zero_fill = 0);
  PeBuilder& add_delay_imports(std::vector<DelayImport> imports);  // .didat; dir 13
  // In the header area after the section table (file offset = rva); dir 11.
  PeBuilder& add_bound_imports(std::vector<std::pair<std::string, uint32_t>> dll_timestamps);
  // .rdata; dir 10 = {rva, size_field}; exactly size_field bytes written.
  PeBuilder& add_load_config(uint32_t size_field, uint64_t security_cookie_va);
  // .rdata; dir 6; one IMAGE_DEBUG_DIRECTORY (type 2) followed by the RSDS record.
  PeBuilder& add_debug_codeview(std::string pdb_path, std::array<uint8_t, 16> guid, uint32_t age);
  PeBuilder& overlay(std::vector<std::byte> data);  // appended after the last section

  BuiltPe build() const;

 private:
  bool pe32plus_;
  uint16_t machine_;
  std::optional<uint16_t> number_of_sections_;
  uint32_t time_date_stamp_ = 0;
  std::optional<uint32_t> pointer_to_symbol_table_;
  std::optional<uint32_t> number_of_symbols_;
  std::optional<uint16_t> size_of_optional_header_;
  uint16_t characteristics_;
  uint32_t e_lfanew_ = 0x80;
  std::optional<uint16_t> magic_;
  uint8_t linker_major_ = 14, linker_minor_ = 0;
  std::optional<uint32_t> size_of_code_, size_of_init_data_, size_of_uninit_data_;
  std::optional<uint32_t> entry_point_, base_of_code_, base_of_data_;
  uint64_t image_base_;
  uint32_t section_alignment_ = 0x1000, file_alignment_ = 0x200;
  uint16_t os_major_ = 6, os_minor_ = 0, image_major_ = 0, image_minor_ = 0, subsys_major_ = 6, subsys_minor_ = 0;
  uint32_t win32_version_value_ = 0;
  std::optional<uint32_t> size_of_image_, size_of_headers_;
  uint32_t checksum_ = 0;
  bool compute_checksum_ = false;
  uint16_t subsystem_ = 3;
  uint16_t dll_characteristics_;
  uint64_t stack_reserve_ = 0x100000, stack_commit_ = 0x1000, heap_reserve_ = 0x100000, heap_commit_ = 0x1000;
  uint32_t loader_flags_ = 0;
  uint32_t number_of_rva_and_sizes_ = 16;

  std::vector<Section> sections_;
  std::map<int, std::pair<uint32_t, uint32_t>> dirs_;
  std::vector<detail::Helper> helpers_;
  std::vector<std::pair<std::string, uint32_t>> bound_;
  std::vector<std::byte> overlay_;
};

}  // namespace pemap::test
