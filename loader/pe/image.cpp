// Header parsing in the order the Windows memory manager checks them, and the image layout it derives.
#include "pe/image.hpp"

#include "pe/mapping_rules.hpp"

#include <algorithm>
#include <array>
#include <charconv>

#include <fmt/format.h>

namespace pemap::pe {
namespace {

Error header_error(Status status, std::string structure, uint64_t offset, std::string message) {
  return make_error(status, std::move(structure), Location::offset(offset), std::move(message));
}

template <class Raw>
OptionalHeader widen(const Raw& r) {
  OptionalHeader o;
  o.magic = r.Magic;
  o.major_linker_version = r.MajorLinkerVersion;
  o.minor_linker_version = r.MinorLinkerVersion;
  o.size_of_code = r.SizeOfCode;
  o.size_of_initialized_data = r.SizeOfInitializedData;
  o.size_of_uninitialized_data = r.SizeOfUninitializedData;
  o.address_of_entry_point = r.AddressOfEntryPoint;
  o.base_of_code = r.BaseOfCode;
  if constexpr (requires { r.BaseOfData; }) o.base_of_data = r.BaseOfData;
  o.image_base = r.ImageBase;
  o.section_alignment = r.SectionAlignment;
  o.file_alignment = r.FileAlignment;
  o.major_os_version = r.MajorOperatingSystemVersion;
  o.minor_os_version = r.MinorOperatingSystemVersion;
  o.major_image_version = r.MajorImageVersion;
  o.minor_image_version = r.MinorImageVersion;
  o.major_subsystem_version = r.MajorSubsystemVersion;
  o.minor_subsystem_version = r.MinorSubsystemVersion;
  o.win32_version_value = r.Win32VersionValue;
  o.size_of_image = r.SizeOfImage;
  o.size_of_headers = r.SizeOfHeaders;
  o.checksum = r.CheckSum;
  o.subsystem = r.Subsystem;
  o.dll_characteristics = r.DllCharacteristics;
  o.size_of_stack_reserve = r.SizeOfStackReserve;
  o.size_of_stack_commit = r.SizeOfStackCommit;
  o.size_of_heap_reserve = r.SizeOfHeapReserve;
  o.size_of_heap_commit = r.SizeOfHeapCommit;
  o.loader_flags = r.LoaderFlags;
  o.number_of_rva_and_sizes = r.NumberOfRvaAndSizes;
  return o;
}

// Machines whose images must carry a PE32 header, and those that must carry PE32+.
bool needs_pe32(uint16_t m) {
  return m == machine::i386 || m == machine::arm || m == machine::thumb || m == machine::armnt;
}
bool needs_pe32plus(uint16_t m) {
  return m == machine::amd64 || m == machine::arm64 || m == machine::ia64 || m == machine::arm64ec ||
         m == machine::arm64x;
}

std::string_view fixed_name(const SectionHeader& h, Bytes file, uint64_t header_offset) {
  size_t len = 0;
  while (len < h.Name.size() && h.Name[len] != '\0') ++len;
  return as_chars(file.subspan(header_offset, len));
}

}  // namespace

void Image::warn(std::string structure, Location where, std::string message) {
  warnings_.push_back(make_error(Status::success, std::move(structure), where, std::move(message)));
}

std::string Section::label() const {
  return name.empty() ? fmt::format("section #{}", index) : fmt::format("section {}", name);
}

Result<Image> Image::parse(Bytes file, std::optional<Layout> layout) {
  Image img;
  img.file_ = file;
  if (file.empty()) return make_error(Status::invalid_file_for_section, "file", Location{}, "the file is empty");
  if (auto e = img.read_nt_headers()) return std::move(*e);
  if (auto e = img.read_optional_header()) return std::move(*e);
  if (auto e = img.read_section_table()) return std::move(*e);
  img.build_layout();
  const auto refused = img.check_mapping_rules();
  if (layout.value_or(refused ? Layout::section_table : Layout::memory_manager) == Layout::section_table) {
    img.build_section_table_layout();
    if (!layout) {
      const auto loader = img.own_loader();
      img.layout_note_ = make_error(
          Status::success, "image layout", Location{},
          fmt::format("Windows refuses to map this image ({}), so its tables are read through the section table, "
                      "each section's raw data at its VirtualAddress, as {}",
                      *refused,
                      loader.empty() ? "linkers write it" : fmt::format("the {} loader lays it out", loader)));
    }
  }
  img.check_directories();
  return img;
}

std::string_view Image::own_loader() const {
  switch (opt_.subsystem) {
    case subsystem::efi_application:
    case subsystem::efi_boot_service_driver:
    case subsystem::efi_runtime_driver:
    case subsystem::efi_rom:
      return "UEFI";
    default:
      return directory(kDirClr).VirtualAddress != 0 ? ".NET" : "";
  }
}

// The DOS header, the PE signature e_lfanew points at, and the COFF file header after it.
std::optional<Error> Image::read_nt_headers() {
  const Bytes file = file_;
  auto mz = read<uint16_t>(file, 0, "DOS header");
  if (!mz || *mz != kMzMagic)
    return header_error(Status::invalid_image_not_mz, "DOS header", 0, "no 'MZ' signature at the start of the file");
  auto dos = read<DosHeader>(file, 0, "DOS header");
  if (!dos)
    return header_error(
        Status::invalid_image_protect, "DOS header", 0,
        fmt::format("the 64-byte DOS header needs e_lfanew at 0x3c; the file has {} bytes", file.size()));
  dos_ = *dos;

  // e_lfanew is a LONG: Windows refuses <= 0 and anything the file does not hold.
  const auto lfanew = static_cast<int32_t>(dos_.e_lfanew);
  if (lfanew <= 0)
    return header_error(Status::invalid_image_protect, "DOS header", 0x3c,
                        fmt::format("e_lfanew is {}; it must be positive", lfanew));
  const uint64_t nt = dos_.e_lfanew;
  auto sig = read<uint32_t>(file, nt, "PE signature");
  if (!sig)
    return header_error(Status::invalid_image_protect, "PE signature", nt,
                        fmt::format("e_lfanew points past the end of the file ({} bytes)", file.size()));
  if (*sig != kPeSignature) {
    if ((*sig & 0xffff) == kNeSignature)
      return header_error(Status::invalid_image_win_16, "PE signature", nt, "this is a 16-bit NE image, not PE");
    return header_error(Status::invalid_image_protect, "PE signature", nt,
                        fmt::format("expected 'PE\\0\\0', found {:#010x}", *sig));
  }
  auto coff = read<FileHeader>(file, nt + 4, "COFF file header");
  if (!coff) return coff.take_error();
  coff_ = *coff;
  return std::nullopt;
}

// The magic (PE32 or PE32+, which must fit the machine), the fixed fields, and the data directories.
std::optional<Error> Image::read_optional_header() {
  const Bytes file = file_;
  const uint64_t opt_off = optional_header_offset();
  auto magic = read<uint16_t>(file, opt_off, "optional header");
  if (!magic) return magic.take_error();
  if (*magic != kPe32Magic && *magic != kPe32PlusMagic)
    return header_error(Status::invalid_image_format, "optional header", opt_off,
                        fmt::format("magic {:#x} is neither PE32 (0x10b) nor PE32+ (0x20b)", *magic));
  format_ = *magic == kPe32PlusMagic ? Format::pe32plus : Format::pe32;
  const uint16_t m = coff_.Machine;
  if ((format_ == Format::pe32plus && needs_pe32(m)) || (format_ == Format::pe32 && needs_pe32plus(m)))
    return header_error(Status::invalid_image_format, "optional header", opt_off,
                        fmt::format("magic {:#x} does not fit machine {:#x}", *magic, m));

  // The fixed part is read whatever SizeOfOptionalHeader says (nullSOH-XP.exe has 0 there).
  const auto fixed = with_format(format_, [&](auto traits) -> Result<uint64_t> {
    using Raw = typename decltype(traits)::OptionalHeader;
    auto raw = read<Raw>(file, opt_off, std::string(traits.name) + " optional header");
    if (!raw) return raw.take_error();
    opt_ = widen(*raw);
    return sizeof(Raw);
  });
  if (!fixed) return fixed.error();

  const uint32_t ndirs = std::min(opt_.number_of_rva_and_sizes, kMaxDataDirectories);
  if (opt_.number_of_rva_and_sizes > kMaxDataDirectories)
    warn("optional header", Location::offset(opt_off),
         fmt::format("NumberOfRvaAndSizes is {}; only the first 16 data directories exist",
                     opt_.number_of_rva_and_sizes));
  directories_offset_ = opt_off + *fixed;
  auto dir_bytes = slice(file, directories_offset_, uint64_t{ndirs} * sizeof(DataDirectory), "data directories");
  if (!dir_bytes) return dir_bytes.take_error();
  dirs_.resize(ndirs);
  for (uint32_t i = 0; i < ndirs; ++i) dirs_[i] = load<DataDirectory>(*dir_bytes, i * sizeof(DataDirectory));

  const uint64_t needed_opt = *fixed + uint64_t{ndirs} * sizeof(DataDirectory);
  if (coff_.SizeOfOptionalHeader < needed_opt)
    warn("COFF file header", Location::offset(nt_offset() + 4 + 16),
         fmt::format("SizeOfOptionalHeader {:#x} is smaller than the optional header ({:#x} bytes): "
                     "the section table overlaps it",
                     coff_.SizeOfOptionalHeader, needed_opt));
  return std::nullopt;
}

// The section headers after the optional header (as SizeOfOptionalHeader places them), long names resolved.
std::optional<Error> Image::read_section_table() {
  const Bytes file = file_;
  section_table_offset_ = optional_header_offset() + coff_.SizeOfOptionalHeader;
  const uint64_t nsec = coff_.NumberOfSections;
  auto table = slice(file, nsec ? section_table_offset_ : 0, nsec * sizeof(SectionHeader), "section table");
  if (!table)
    return header_error(Status::invalid_image_format, "section table", section_table_offset_,
                        fmt::format("{} section headers need {} bytes; the file ends at {:#x}", nsec,
                                    nsec * sizeof(SectionHeader), file.size()));

  // Long names: "/123" is a decimal offset into the COFF string table after the symbols.
  const uint64_t strtab = uint64_t{coff_.PointerToSymbolTable} + uint64_t{coff_.NumberOfSymbols} * 18;
  sections_.resize(nsec);
  const Section* bad_name = nullptr;
  size_t bad_names = 0;
  for (uint64_t i = 0; i < nsec; ++i) {
    Section& s = sections_[i];
    s.index = static_cast<uint32_t>(i);
    s.header_offset = section_table_offset_ + i * sizeof(SectionHeader);
    s.header = load<SectionHeader>(*table, i * sizeof(SectionHeader));
    s.name = fixed_name(s.header, file, s.header_offset);
    if (s.name.size() > 1 && s.name[0] == '/' && coff_.PointerToSymbolTable != 0) {
      uint64_t off = 0;
      auto [p, ec] = std::from_chars(s.name.data() + 1, s.name.data() + s.name.size(), off);
      const uint64_t at = strtab + off;
      std::string_view resolved;
      if (ec == std::errc() && p == s.name.data() + s.name.size() && off >= 4 && at < file.size()) {
        const auto rest = as_chars(file.subspan(at)).substr(0, 1025);  // bounded: 65535 names may share it
        if (const auto end = rest.find('\0'); end != std::string_view::npos) resolved = rest.substr(0, end);
      }
      if (resolved.data())
        s.name = resolved;
      else if (bad_names++ == 0)
        bad_name = &s;
    }
  }
  if (bad_name)
    warn(fmt::format("section header #{}", bad_name->index), Location::offset(bad_name->header_offset),
         fmt::format("long name {} does not resolve to a NUL-terminated name in the COFF string table{}",
                     bad_name->name, bad_names > 1 ? fmt::format(" (nor do {} more)", bad_names - 1) : ""));
  return std::nullopt;
}

// A directory whose address lies outside the image is ignored by the loader: said once, here.
void Image::check_directories() {
  for (uint32_t i = 0; i < dirs_.size(); ++i) {
    const auto d = dirs_[i];
    if (d.VirtualAddress != 0 && !used_directory(i))
      warn("data directory " + std::to_string(i), Location::offset(directories_offset_ + i * sizeof(DataDirectory)),
           fmt::format("address {:#x} is outside the image (SizeOfImage {:#x}); the loader ignores it",
                       d.VirtualAddress, mapped_size_));
  }
}

void Image::build_layout() {
  const uint64_t fsize = file_.size();
  mapped_size_ = align_up(opt_.size_of_image, std::max<uint64_t>(opt_.section_alignment, kPageSize));

  const uint64_t table_end = section_table_offset_ + sections_.size() * sizeof(SectionHeader);
  header_size_ = std::max<uint64_t>(std::min<uint64_t>(opt_.size_of_headers, fsize), table_end);
  if (table_end > opt_.size_of_headers)
    warn("section table", Location::offset(section_table_offset_),
         fmt::format("ends at {:#x}, past SizeOfHeaders {:#x}; Windows maps it anyway", table_end,
                     opt_.size_of_headers));

  // A flat image is the file mapped 1:1: a section declares bytes of it only at its own file offset (Windows
  // checks VirtualAddress == PointerToRawData), and only when the table fits the image (the 96 sections of corkami
  // maxsecXP.exe declare gigabytes in a 4 KiB file, and it runs on XP).
  const bool flat_table_declares = std::all_of(sections_.begin(), sections_.end(), [&](const Section& s) {
    return uint64_t{s.header.PointerToRawData} + s.header.SizeOfRawData <= mapped_size_;
  });
  const Section* past_eof = nullptr;
  size_t past_eof_count = 0;
  for (auto& s : sections_) {
    const auto& h = s.header;
    const uint64_t vsize = h.VirtualSize != 0 ? h.VirtualSize : h.SizeOfRawData;
    s.memory_size = align_up(vsize, kPageSize);
    if (h.PointerToRawData != 0 && h.SizeOfRawData != 0) {
      s.file_offset = align_down(h.PointerToRawData, kRawAlignment);
      const uint64_t len = align_up(uint64_t{h.SizeOfRawData} + (h.PointerToRawData - s.file_offset), kRawAlignment);
      // Clipped to the section first (corkami bigSoRD.exe has SizeOfRawData 0xFFFF0200 and loads).
      s.file_size = std::min(len, s.memory_size);
      if (!is_flat() || (flat_table_declares && h.PointerToRawData == h.VirtualAddress))
        s.raw_size = std::min(uint64_t{h.PointerToRawData} + h.SizeOfRawData - s.file_offset, s.file_size);
      if (s.raw_size != 0 && s.file_offset + s.raw_size > fsize && past_eof_count++ == 0) past_eof = &s;
    }
  }
  if (past_eof) {
    warn(past_eof->label(), Location::offset(past_eof->header_offset),
         fmt::format(
             "raw data {:#x}+{:#x} runs past the end of the file ({:#x}): the file is cut short, and {:#x} "
             "bytes from RVA {:#x} on are missing (they read as zero){}",
             past_eof->header.PointerToRawData, past_eof->header.SizeOfRawData, fsize,
             past_eof->file_offset + past_eof->raw_size - std::max(fsize, past_eof->file_offset),
             past_eof->rva() + (std::max(fsize, past_eof->file_offset) - past_eof->file_offset),
             past_eof_count > 1 ? fmt::format("; so is the raw data of {} more sections", past_eof_count - 1) : ""));
    truncation_ = warnings_.back();
  }

  regions_.clear();
  if (is_flat()) {
    // Flat images are mapped as one piece: file offset == RVA. Sections only name ranges of it.
    uint64_t raw_end = 0;        // the file as the section table declares it, mapped 1:1
    for (auto& s : sections_) {  // a flat section spans what its header says, unrounded
      s.memory_size = std::max<uint64_t>(s.header.VirtualSize, s.header.SizeOfRawData);
      if (s.raw_size != 0) raw_end = std::max(raw_end, uint64_t{s.header.PointerToRawData} + s.header.SizeOfRawData);
    }
    const uint64_t from_file = std::min(fsize, mapped_size_);
    regions_.push_back(Region{0, mapped_size_, 0, from_file, std::max(from_file, std::min(raw_end, mapped_size_)), -1});
    clip_sections(flat_sections_);
    set_protections();
    return;
  }
  // The first page always holds the headers; past it, a section is mapped over headers that reach into
  // it (corkami foldedhdr.exe folds its NT headers under a section this way, and runs).
  uint64_t header_end = align_up(header_size_, kPageSize);
  const Section* first = nullptr;
  for (const auto& s : sections_)
    if (s.memory_size != 0 && s.rva() >= kPageSize && s.rva() < header_end && (!first || s.rva() < first->rva()))
      first = &s;
  if (first) {
    warn("optional header", Location::offset(optional_header_offset() + 60),
         fmt::format("the headers ({:#x} bytes with the section table) overlap {} at RVA {:#x}; the "
                     "section is mapped over them",
                     header_size_, first->label(), first->rva()));
    header_end = align_down(first->rva(), kPageSize);
  }
  // No raw data is declared in the headers: past the end of the file they read as zero (the table is in the file).
  regions_.push_back(Region{0, header_end, 0, std::min(header_size_, header_end), 0, -1});
  clip_sections(regions_);
  set_protections();
}

// Where linkers put each section, and where the UEFI loader and .NET's PE loader copy it: the headers, then each
// section's raw data at its VirtualAddress byte for byte (no 512-byte or page rounding), zeros after it. A section
// spans the larger of VirtualSize and SizeOfRawData, up to the next section, as pefile reads it.
void Image::build_section_table_layout() {
  layout_ = Layout::section_table;
  regions_.clear();
  flat_sections_.clear();
  uint64_t first = header_size_;
  for (const auto& s : sections_)
    if (section_region(s).size != 0) first = std::min<uint64_t>(first, s.rva());
  if (first != 0) regions_.push_back(Region{0, first, 0, first, 0, -1});
  clip_sections(regions_);
  set_protections();
}

Region Image::section_region(const Section& s) const {
  const auto index = static_cast<int32_t>(s.index);
  if (layout_ == Layout::memory_manager)
    return Region{s.rva(), s.memory_size, s.file_offset, s.file_size, s.raw_size, index};
  const auto& h = s.header;
  const uint64_t span = std::max(h.VirtualSize, h.SizeOfRawData);
  const uint64_t raw = h.PointerToRawData != 0 ? uint64_t{h.SizeOfRawData} : 0;
  return Region{s.rva(), span, h.PointerToRawData, raw, raw, index};
}

uint32_t section_protection(uint32_t c, bool shared) {
  const bool r = c & scn::mem_read, w = c & scn::mem_write, x = c & scn::mem_execute;
  if (!r && !w && !x) {
    // ReactOS: with no MEM_* flag, code is RX and data RW.
    if (c & scn::cnt_code) return PAGE_EXECUTE_READ;
    if (c & (scn::cnt_initialized_data | scn::cnt_uninitialized_data)) return shared ? PAGE_READWRITE : PAGE_WRITECOPY;
    return PAGE_NOACCESS;
  }
  if (w)
    return x ? (shared ? PAGE_EXECUTE_READWRITE : PAGE_EXECUTE_WRITECOPY) : (shared ? PAGE_READWRITE : PAGE_WRITECOPY);
  if (x) return r ? PAGE_EXECUTE_READ : PAGE_EXECUTE;
  return PAGE_READONLY;
}

// The headers are read-only; a flat image gets no per-section protection; a section gets what it asks for.
void Image::set_protections() {
  for (auto* list : {&regions_, &flat_sections_})
    for (Region& r : *list) {
      if (is_flat() && layout_ == Layout::memory_manager) {
        r.protect = PAGE_EXECUTE_WRITECOPY;
      } else if (r.section < 0) {
        r.protect = PAGE_READONLY;
      } else {
        const uint32_t c = sections_[static_cast<size_t>(r.section)].characteristics();
        r.protect = section_protection(c, (c & scn::mem_shared) && (c & scn::mem_write));
      }
    }
}

// Appends the sections' ranges to `out` in RVA order; where one overlaps what is already there, the
// earlier range keeps the bytes (Windows refuses such images: check_mapping_rules says so).
void Image::clip_sections(std::vector<Region>& out) {
  std::vector<uint32_t> order;  // indices, not Regions: a table of 65535 sections is held once, not twice
  order.reserve(sections_.size());
  for (const auto& s : sections_)
    if (section_region(s).size != 0) order.push_back(s.index);
  std::stable_sort(order.begin(), order.end(),
                   [&](uint32_t a, uint32_t b) { return sections_[a].rva() < sections_[b].rva(); });
  out.reserve(out.size() + order.size());
  // In the section table's layout a section ends where the next one begins (pefile and the UEFI loader never let
  // one section's alignment padding hide the next); walking backwards gives each the next higher VirtualAddress.
  std::vector<uint64_t> next_rva;
  if (layout_ == Layout::section_table) {
    next_rva.resize(order.size(), UINT64_MAX);
    for (size_t k = order.size(); k-- > 1;) {
      const uint64_t here = sections_[order[k - 1]].rva(), after = sections_[order[k]].rva();
      next_rva[k - 1] = after > here ? after : next_rva[k];
    }
  }
  for (size_t k = 0; k < order.size(); ++k) {
    Region r = section_region(sections_[order[k]]);
    if (!next_rva.empty() && next_rva[k] - r.rva < r.size) {
      r.size = next_rva[k] - r.rva;
      r.file_size = std::min(r.file_size, r.size);
      r.raw_size = std::min(r.raw_size, r.size);
    }
    if (!out.empty() && r.rva < out.back().rva + out.back().size) {
      const uint64_t cut = out.back().rva + out.back().size - r.rva;
      if (cut >= r.size) continue;
      r.rva += cut;
      r.size -= cut;
      r.file_offset += std::min(cut, r.file_size);
      r.file_size -= std::min(cut, r.file_size);
      r.raw_size -= std::min(cut, r.raw_size);
    }
    out.push_back(r);
  }
}

std::optional<std::string> Image::check_mapping_rules() {
  // The parser reports what the mapper refuses, from the same table (mapping_rules.hpp). A last section whose raw
  // data runs past the end of the file is already reported as the file cut short, with what is missing: that file
  // is damaged, and its layout is still the memory manager's.
  std::optional<std::string> first;
  for (auto& b : mapping_rule_breaks(*this)) {
    if (b.rule == MappingRule::last_raw_in_file) continue;
    if (!first) first = b.structure + ": " + b.message;
    warn(std::move(b.structure), b.where, b.message + "; Windows refuses to map it (STATUS_INVALID_IMAGE_FORMAT)");
  }
  return first;
}

DataDirectory Image::directory(uint32_t index) const {
  return index < dirs_.size() ? dirs_[index] : DataDirectory{0, 0};
}

std::optional<DataDirectory> Image::used_directory(uint32_t index) const {
  const DataDirectory d = directory(index);
  // Size 0 is not a reason to skip: every corkami DLL exports with Size 0 and Windows binds to it,
  // normal.exe imports with Size 0, tls*.exe have a TLS Size of 0. Size only bounds what it bounds.
  if (d.VirtualAddress == 0) return std::nullopt;
  // The security directory holds a file offset; the bound import directory lies in the headers.
  if (index != kDirSecurity && index != kDirBoundImport && d.VirtualAddress >= mapped_size_) return std::nullopt;
  return d;
}

std::optional<uint64_t> Image::overlay_offset() const {
  uint64_t end = 0;
  for (const auto& s : sections_)
    if (s.header.SizeOfRawData != 0) end = std::max(end, uint64_t{s.header.PointerToRawData} + s.header.SizeOfRawData);
  if (sections_.empty() || end >= file_.size()) return std::nullopt;
  return end;
}

std::optional<Missing> Image::first_missing(uint64_t rva, uint64_t len) const {
  const uint64_t fsize = file_.size();
  const uint64_t end = rva + std::min(len, UINT64_MAX - rva);
  auto it =
      std::upper_bound(regions_.begin(), regions_.end(), rva, [](uint64_t v, const Region& r) { return v < r.rva; });
  if (it != regions_.begin() && rva - std::prev(it)->rva < std::prev(it)->size) --it;
  for (; it != regions_.end() && it->rva < end; ++it) {
    const uint64_t raw_end = it->file_offset + it->raw_size;
    if (raw_end <= fsize) continue;
    const uint64_t first = std::max(rva, it->rva + (std::max(fsize, it->file_offset) - it->file_offset));
    if (first >= std::min(end, it->rva + it->raw_size)) continue;
    return Missing{first, it->file_offset + (first - it->rva), raw_end,
                   it->section >= 0 ? &sections_[it->section] : section_at(first)};
  }
  return std::nullopt;
}

std::optional<Error> Image::cut_short(uint64_t rva, uint64_t len, std::string_view structure) const {
  const auto m = first_missing(rva, len);
  if (!m) return std::nullopt;
  const std::string whose = m->section ? m->section->label() + "'s raw data" : "the raw data";
  return make_error(Status::success, std::string(structure), Location::rva(rva),
                    fmt::format("RVA {:#x} (file offset {:#x}) lies past the end of the file at {:#x}, but {} runs to "
                                "{:#x}: the file is cut short and these bytes are missing",
                                m->rva, m->file_offset, file_.size(), whose, m->raw_end));
}

std::optional<Error> Image::directory_unreadable(uint32_t index, std::string_view structure,
                                                 uint64_t first_record) const {
  const auto d = used_directory(index);
  if (!d) return std::nullopt;
  const uint64_t rva = d->VirtualAddress;
  if (auto cut = cut_short(rva, std::max<uint64_t>(d->Size, 1), structure)) return cut;
  // Zero fill only: outside every region the reader itself fails, naming the RVA.
  const Region* r = region_at(rva);
  if (!r) return std::nullopt;
  for (uint64_t at = rva; at < rva + first_record;) {
    const Region* here = region_at(at);
    if (!here) break;
    if (!file_span(at).empty()) return std::nullopt;  // a file byte backs part of the first record
    at = here->rva + here->size;
  }
  const uint64_t from_file = r->file_offset < file_.size() ? std::min(r->file_size, file_.size() - r->file_offset) : 0;
  const std::string where = r->section >= 0 ? fmt::format("{}'s zero fill, past the {:#x} bytes the file gives it",
                                                          sections_[static_cast<size_t>(r->section)].label(), from_file)
                            : r->size == mapped_size_
                                ? fmt::format("the image past the end of the file ({:#x} bytes)", file_.size())
                                : "the headers' zero fill";
  return make_error(Status::success, std::string(structure), Location::rva(rva),
                    fmt::format("no file byte backs its first {} bytes: RVA {:#x} lies in {}, so the table reads as "
                                "empty",
                                first_record, rva, where));
}

const Region* Image::region_at(uint64_t rva) const {
  auto it =
      std::upper_bound(regions_.begin(), regions_.end(), rva, [](uint64_t v, const Region& r) { return v < r.rva; });
  if (it == regions_.begin()) return nullptr;
  --it;
  return rva - it->rva < it->size ? &*it : nullptr;
}

const Section* Image::section_at(uint64_t rva) const {
  if (is_flat() && layout_ == Layout::memory_manager) {
    auto it = std::upper_bound(flat_sections_.begin(), flat_sections_.end(), rva,
                               [](uint64_t v, const Region& r) { return v < r.rva; });
    if (it == flat_sections_.begin() || rva - std::prev(it)->rva >= std::prev(it)->size) return nullptr;
    return &sections_[std::prev(it)->section];
  }
  const Region* r = region_at(rva);
  return r && r->section >= 0 ? &sections_[r->section] : nullptr;
}

std::optional<uint64_t> Image::rva_to_offset(uint64_t rva) const {
  const Region* r = region_at(rva);
  if (!r || rva - r->rva >= r->file_size) return std::nullopt;
  const uint64_t off = r->file_offset + (rva - r->rva);
  if (off >= file_.size()) return std::nullopt;
  return off;
}

std::optional<uint64_t> Image::offset_to_rva(uint64_t offset) const {
  if (offset >= file_.size()) return std::nullopt;
  for (const auto& r : regions_)
    if (offset >= r.file_offset && offset - r.file_offset < r.file_size) return r.rva + (offset - r.file_offset);
  return std::nullopt;
}

std::optional<uint64_t> Image::va_to_rva(uint64_t va) const {
  if (va < opt_.image_base || va - opt_.image_base >= mapped_size_) return std::nullopt;
  return va - opt_.image_base;
}

Bytes Image::file_span(uint64_t rva) const {
  const Region* r = region_at(rva);
  if (!r) return {};
  const uint64_t in = rva - r->rva;
  const uint64_t off = r->file_offset + in;
  if (in >= r->file_size || off >= file_.size()) return {};
  return file_.subspan(off, std::min(r->file_size - in, file_.size() - off));
}

std::optional<Bytes> Image::contiguous(uint64_t rva, uint64_t len) const {
  const Bytes span = file_span(rva);
  if (span.size() < len || (len == 0 && !region_at(rva))) return std::nullopt;
  return span.first(len);
}

// Copies what the image holds at [rva, rva+n): file bytes, zeros in zero fill. Bytes outside every
// region are zero too, and their count is returned (a caller that needs them mapped checks it).
uint64_t Image::fill(uint64_t rva, std::byte* out, uint64_t n) const {
  uint64_t unmapped = 0;
  for (uint64_t i = 0; i < n;) {
    const Region* r = region_at(rva + i);
    if (!r) {
      out[i++] = std::byte{0};
      ++unmapped;
      continue;
    }
    // The rest of this region in one go: its file bytes, then its zero fill.
    const uint64_t end = std::min<uint64_t>(n, i + (r->rva + r->size - (rva + i)));
    const Bytes span = file_span(rva + i);
    const uint64_t from_file = std::min<uint64_t>(span.size(), end - i);
    std::copy_n(span.begin(), from_file, out + i);
    std::fill(out + i + from_file, out + end, std::byte{0});
    i = end;
  }
  return unmapped;
}

std::optional<Error> Image::copy_rva(uint64_t rva, std::byte* out, size_t n, std::string_view structure) const {
  if (auto fast = contiguous(rva, n)) {
    std::memcpy(out, fast->data(), n);
    return std::nullopt;
  }
  if (auto missing = cut_short(rva, n, structure)) return missing;
  if (fill(rva, out, n) != 0)
    return make_error(Status::invalid_image_format, std::string(structure), Location::rva(rva),
                      fmt::format("{} bytes at this RVA are not all inside the mapped image", n));
  return std::nullopt;
}

Result<uint64_t> Image::read_uint(uint64_t rva, unsigned width, std::string_view structure) const {
  std::array<std::byte, 8> buf{};
  if (auto err = copy_rva(rva, buf.data(), std::min(width, 8u), structure)) return *err;
  uint64_t v = 0;
  std::memcpy(&v, buf.data(), sizeof v);
  return v;
}

Result<std::string_view> Image::read_string(uint64_t rva, std::string_view structure, size_t max) const {
  auto fail = [&](std::string message) {
    return make_error(Status::invalid_image_format, std::string(structure), Location::rva(rva), std::move(message));
  };
  if (!region_at(rva)) return fail("string RVA is outside the mapped image");
  Bytes span = file_span(rva);
  if (span.empty()) {  // zero fill: the empty string, unless the file is cut short here
    if (auto missing = cut_short(rva, 1, structure)) return *missing;
    return std::string_view{};
  }
  const uint64_t start = static_cast<uint64_t>(span.data() - file_.data());
  uint64_t total = 0;
  for (;;) {
    const auto text = as_chars(span.first(std::min<uint64_t>(span.size(), max + 1 - total)));
    if (const auto nul = text.find('\0'); nul != std::string_view::npos)
      return as_chars(file_.subspan(start, total + nul));
    total += text.size();
    if (total > max) return fail(fmt::format("string is not NUL-terminated within {} bytes", max));
    // The file bytes ended: zero fill ends the string, unless the next section follows at once.
    const uint64_t next = rva + total;
    if (auto missing = cut_short(rva, total + 1, structure)) return *missing;
    const Region* cur = region_at(next - 1);
    if (next < cur->rva + cur->size) return as_chars(file_.subspan(start, total));
    if (!region_at(next)) return fail("string runs off the end of the mapped image");
    span = file_span(next);
    if (span.empty()) return as_chars(file_.subspan(start, total));
    if (span.data() != file_.data() + start + total)
      return fail(
          fmt::format("string crosses into the section at RVA {:#x}, whose bytes do not follow in the file", next));
  }
}

Result<std::vector<std::byte>> Image::copy_range(uint64_t rva, uint64_t len, std::string_view structure) const {
  if (len > mapped_size_ || rva > mapped_size_ - len)
    return make_error(Status::invalid_image_format, std::string(structure), Location::rva(rva),
                      fmt::format("{:#x} bytes from here run past SizeOfImage {:#x}", len, mapped_size_));
  std::vector<std::byte> out(len);
  fill(rva, out.data(), len);  // reserved but uncommitted bytes read as zero in a dump
  return out;
}

}  // namespace pemap::pe
