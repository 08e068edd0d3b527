// The parsed PE image: headers checked eagerly, the section layout Windows would map, and the one RVA resolver.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "pe/bytes.hpp"
#include "pe/error.hpp"
#include "pe/format.hpp"
#include "pe/spec.hpp"

namespace pemap::pe {

/// The optional header with PE32's narrow fields widened; BaseOfData exists only in PE32.
struct OptionalHeader {
  uint16_t magic = 0;
  uint8_t major_linker_version = 0, minor_linker_version = 0;
  uint32_t size_of_code = 0, size_of_initialized_data = 0, size_of_uninitialized_data = 0;
  uint32_t address_of_entry_point = 0, base_of_code = 0;
  std::optional<uint32_t> base_of_data;
  uint64_t image_base = 0;
  uint32_t section_alignment = 0, file_alignment = 0;
  uint16_t major_os_version = 0, minor_os_version = 0, major_image_version = 0, minor_image_version = 0;
  uint16_t major_subsystem_version = 0, minor_subsystem_version = 0;
  uint32_t win32_version_value = 0, size_of_image = 0, size_of_headers = 0, checksum = 0;
  uint16_t subsystem = 0, dll_characteristics = 0;
  uint64_t size_of_stack_reserve = 0, size_of_stack_commit = 0, size_of_heap_reserve = 0, size_of_heap_commit = 0;
  uint32_t loader_flags = 0, number_of_rva_and_sizes = 0;
};

/// A section header plus where Windows puts its bytes (docs/parser.md, "Reading by RVA").
struct Section {
  uint32_t index = 0;          ///< position in the section table, from 0
  SectionHeader header{};      ///< as in the file
  std::string_view name;       ///< long names resolved through the COFF string table; views the file
  uint64_t header_offset = 0;  ///< file offset of this section header
  uint64_t memory_size = 0;    ///< VirtualSize (SizeOfRawData if 0) rounded up to a page; in a flat
                               ///< image max(VirtualSize, SizeOfRawData), the range the section names
  uint64_t file_offset = 0;    ///< PointerToRawData rounded down to 512
  uint64_t file_size = 0;      ///< bytes mapped from the file: raw size plus slack, 512-rounded, clipped
  uint64_t raw_size = 0;       ///< of those, the bytes SizeOfRawData declares; any past the end of the file are
                               ///< missing: the file is cut short
  uint32_t rva() const { return header.VirtualAddress; }
  uint32_t characteristics() const { return header.Characteristics; }
  /// How messages name it: "section .text", or "section #3" (its index) when its name is empty.
  std::string label() const;
};

/// One stretch of the image as the memory manager lays it out: file bytes first, zeros after them to the end, with
/// the protection its pages get. The parser reads through it and the mapper maps it (memory/image_section.hpp).
struct Region {
  uint64_t rva = 0, size = 0;
  uint64_t file_offset = 0, file_size = 0;  ///< file_size may run past the end of the file: those bytes read as 0
  uint64_t raw_size = 0;  ///< of file_size, the bytes the section table declares (SizeOfRawData); those past the
                          ///< end of the file are missing, not zero fill: the file is cut short
  int32_t section = -1;   ///< index into sections(), -1 for the headers or a flat image
  uint32_t protect = 0;   ///< PAGE_*: the headers read-only, a flat image PAGE_EXECUTE_WRITECOPY, a section by
                          ///< section_protection

  /// A writable MEM_SHARED section: one set of pages for every view of the image. Only such a section is mapped
  /// writable rather than copy-on-write, so its protection says so.
  bool shared() const { return protect == PAGE_READWRITE || protect == PAGE_EXECUTE_READWRITE; }
};

/// The PAGE_* protection a section's characteristics ask for (docs/mapping.md, "SEC_IMAGE"); `shared` for a
/// writable MEM_SHARED section, whose writes are not copied.
uint32_t section_protection(uint32_t characteristics, bool shared);

/// Bytes the section table puts in the file that lie past its end: the file is cut short there.
struct Missing {
  uint64_t rva = 0;                  ///< the first missing byte
  uint64_t file_offset = 0;          ///< where the file would hold it
  uint64_t raw_end = 0;              ///< where the raw data that should hold it ends in the file
  const Section* section = nullptr;  ///< whose raw data it is; nullptr when no section holds it (flat images)
};

/// How the RVA resolver places the file's bytes (docs/parser.md, "Two layouts").
enum class Layout : uint8_t {
  memory_manager,  ///< as Windows' SEC_IMAGE mapping lays the image out: what MapViewOfFile and the loader see
  section_table,   ///< each section's raw data at its VirtualAddress, unrounded, zero fill to the larger of its
                   ///< two sizes: how linkers write an image and how the UEFI loader and .NET's own PE loader
                   ///< build it. Read when Windows refuses the image, where its layout shows nothing real.
};

/// A parsed PE file. Owns no file bytes: every view it returns points into the span given to parse(),
/// which the caller keeps alive (normally a MappedFile) for as long as the Image is used.
class Image {
 public:
  /// Checks the headers eagerly; data directories are parsed on demand by the parse_* functions. Without a
  /// `layout`, the memory manager's, unless Windows refuses to map the image: then the section table's, and
  /// layout_note() says so.
  static Result<Image> parse(Bytes file, std::optional<Layout> layout = std::nullopt);

  Bytes file() const { return file_; }
  Format format() const { return format_; }
  bool is_pe32plus() const { return format_ == Format::pe32plus; }
  unsigned pointer_size() const { return is_pe32plus() ? 8 : 4; }

  const DosHeader& dos_header() const { return dos_; }
  uint64_t nt_offset() const { return dos_.e_lfanew; }
  const FileHeader& file_header() const { return coff_; }
  uint64_t optional_header_offset() const { return nt_offset() + 4 + sizeof(FileHeader); }
  const OptionalHeader& optional_header() const { return opt_; }
  uint64_t image_base() const { return opt_.image_base; }
  /// Where ImageBase lies in the headers (the loader rewrites it when it moves the image): it follows BaseOfData
  /// in PE32, which PE32+ does not have.
  uint64_t image_base_offset() const {
    return optional_header_offset() +
           (is_pe32plus() ? offsetof(OptionalHeader64, ImageBase) : offsetof(OptionalHeader32, ImageBase));
  }
  /// Where AddressOfCallBacks lies in the TLS directory of this image's format.
  uint64_t tls_callbacks_field() const {
    return is_pe32plus() ? offsetof(TlsDirectory64, AddressOfCallBacks) : offsetof(TlsDirectory32, AddressOfCallBacks);
  }

  /// The data directories Windows reads: min(NumberOfRvaAndSizes, 16) of them.
  std::span<const DataDirectory> directories() const { return dirs_; }
  /// A directory as the header states it, or {0, 0} when the header has fewer entries.
  DataDirectory directory(uint32_t index) const;
  /// The directory the loader would use: none when its address is 0 or outside the image.
  std::optional<DataDirectory> used_directory(uint32_t index) const;
  std::span<const Section> sections() const { return sections_; }
  uint64_t section_table_offset() const { return section_table_offset_; }
  /// Non-fatal header findings: what is odd, where, and what Windows makes of it.
  const std::vector<Error>& warnings() const { return warnings_; }
  /// The one of warnings() that says the file is cut short: raw data the section table declares runs past its end.
  const std::optional<Error>& truncation() const { return truncation_; }

  /// SectionAlignment below the page size: Windows maps the file 1:1 and ignores section protections.
  bool is_flat() const { return opt_.section_alignment < kPageSize; }
  Layout layout() const { return layout_; }
  /// Why the section table's layout was chosen (Windows refuses the image) and whose loader builds it: said once
  /// per file by every command that reads tables; none when the layout is the memory manager's.
  const std::optional<Error>& layout_note() const { return layout_note_; }
  /// The loader that maps this image when Windows' does not: "UEFI" for the EFI subsystems, ".NET" (the runtime's
  /// own PE loader) for an image with a CLR header; empty when neither is recognised.
  std::string_view own_loader() const;
  /// SizeOfImage rounded up to max(SectionAlignment, page).
  uint64_t mapped_size() const { return mapped_size_; }
  /// Bytes of the headers Windows maps: min(SizeOfHeaders, file size), extended over the section table.
  uint64_t header_size() const { return header_size_; }
  /// Start of data after the last section's raw data, if the file has any.
  std::optional<uint64_t> overlay_offset() const;
  std::span<const Region> regions() const { return regions_; }
  /// The first byte of [rva, rva+len) that the file should hold but, cut short, does not; none when every
  /// byte there is in the file or legitimately zero (zero fill past SizeOfRawData, gaps).
  std::optional<Missing> first_missing(uint64_t rva, uint64_t len) const;
  /// first_missing() as a warning on `structure` at `rva`: the missing RVA, the file offset and where the file ends.
  std::optional<Error> cut_short(uint64_t rva, uint64_t len, std::string_view structure) const;
  /// Why a data directory the loader uses, named `structure`, cannot be read from the file: cut_short() of
  /// [VirtualAddress, + max(Size, 1)), or its first record (`first_record` bytes: a descriptor, a block header)
  /// lying wholly in zero fill, so that the table reads as empty. Every table reader reports it, so that no
  /// command prints "0 entries" alone.
  std::optional<Error> directory_unreadable(uint32_t index, std::string_view structure, uint64_t first_record) const;

  /// The section whose mapped range holds `rva`, or nullptr (headers, gaps, flat images).
  const Section* section_at(uint64_t rva) const;
  const Region* region_at(uint64_t rva) const;
  /// File offset of the byte mapped at `rva`, if it comes from the file.
  std::optional<uint64_t> rva_to_offset(uint64_t rva) const;
  /// RVA where the file byte at `offset` is mapped, if it is mapped.
  std::optional<uint64_t> offset_to_rva(uint64_t offset) const;
  std::optional<uint64_t> va_to_rva(uint64_t va) const;

  /// Reads a value as the mapped image holds it: file bytes, zeros in zero-filled tails.
  template <class T>
  Result<T> read_rva(uint64_t rva, std::string_view structure) const {
    static_assert(std::is_trivially_copyable_v<T>);
    T value;
    if (auto err = copy_rva(rva, reinterpret_cast<std::byte*>(&value), sizeof(T), structure)) return *err;
    return value;
  }
  /// A little-endian unsigned value of 1 to 8 bytes, zero-extended.
  Result<uint64_t> read_uint(uint64_t rva, unsigned width, std::string_view structure) const;
  /// A pointer-sized value (4 bytes in PE32, 8 in PE32+), zero-extended.
  Result<uint64_t> read_pointer(uint64_t rva, std::string_view structure) const {
    return read_uint(rva, pointer_size(), structure);
  }
  /// A NUL-terminated string of at most `max` bytes; views the file.
  Result<std::string_view> read_string(uint64_t rva, std::string_view structure, size_t max = 4096) const;
  /// The file bytes mapped from `rva` to the end of its region's file data (empty in zero fill,
  /// gaps, or past the end of the file); views the file.
  Bytes file_span(uint64_t rva) const;
  /// `len` bytes at `rva` when all of them come from the file in one region; views the file.
  std::optional<Bytes> contiguous(uint64_t rva, uint64_t len) const;
  /// Up to `len` bytes mapped at `rva` as the image holds them (zeros included), copied.
  Result<std::vector<std::byte>> copy_range(uint64_t rva, uint64_t len, std::string_view structure) const;

 private:
  Image() = default;
  std::optional<Error> copy_rva(uint64_t rva, std::byte* out, size_t n, std::string_view structure) const;
  uint64_t fill(uint64_t rva, std::byte* out, uint64_t n) const;
  // The steps of parse, in the order the loader reads the headers; each returns the error that ends it.
  std::optional<Error> read_nt_headers();
  std::optional<Error> read_optional_header();
  std::optional<Error> read_section_table();
  void build_layout();
  void build_section_table_layout();
  /// The mapping rules' breaks as warnings; returns the first (the one Windows refuses the image for) in words.
  std::optional<std::string> check_mapping_rules();
  void check_directories();
  Region section_region(const Section& s) const;
  void clip_sections(std::vector<Region>& out);
  void set_protections();
  void warn(std::string structure, Location where, std::string message);

  Bytes file_;
  Format format_ = Format::pe32;
  DosHeader dos_{};
  FileHeader coff_{};
  OptionalHeader opt_{};
  std::vector<DataDirectory> dirs_;
  uint64_t directories_offset_ = 0;  ///< where the data directories start in the file
  std::vector<Section> sections_;
  std::vector<Region> regions_;        // sorted by rva, not overlapping
  std::vector<Region> flat_sections_;  // flat images: each section's range, sorted, not overlapping
  std::vector<Error> warnings_;
  std::optional<Error> truncation_;
  Layout layout_ = Layout::memory_manager;
  std::optional<Error> layout_note_;
  uint64_t section_table_offset_ = 0;
  uint64_t mapped_size_ = 0;
  uint64_t header_size_ = 0;
};

}  // namespace pemap::pe
