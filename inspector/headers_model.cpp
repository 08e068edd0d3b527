// The headers command's document: the DOS, Rich, COFF and optional headers, the CheckSum, the data directories,
// the load configuration with its guard tables, the debug directory and the CLR header.
#include <fmt/format.h>

#include "json_text.hpp"
#include "model.hpp"
#include "pe/checksum.hpp"
#include "pe/clr.hpp"
#include "pe/debug.hpp"
#include "pe/guard_tables.hpp"
#include "pe/load_config.hpp"
#include "pe/names.hpp"
#include "pe/rich_header.hpp"

namespace pemap::inspect {
namespace {

void load_config(const pe::Image& image, Printer& p, Warnings& w) {
  const auto lc = pe::parse_load_config(image);
  const auto* l = w.parsed(lc);
  if (!l || !l->present) return;
  p.begin_object("load_config");
  for (const auto& field : l->fields) p.field(field.name, field.value);
  p.end_object();
  // What its fields point to: GuardFlags by name, the CFG function table, the SafeSEH handler table.
  const auto tables = pe::parse_guard_tables(image, *l);
  w.add(tables.warnings);
  p.begin_object("guard");
  p.begin_array("flags");
  for (const auto& n : pe::guard_flag_names(static_cast<uint32_t>(l->get("GuardFlags").value_or(0)))) p.field({}, n);
  p.end_array();
  p.begin_array("cf_functions");
  for (uint32_t rva : tables.cf_functions) p.field({}, rva);
  p.end_array();
  p.begin_array("se_handlers");
  for (uint32_t rva : tables.se_handlers) p.field({}, rva);
  p.end_array();
  p.end_object();
}

std::string guid_text(const std::array<uint8_t, 16>& g) {
  // The GUID's first three groups are little-endian in the file.
  std::string guid = fmt::format("{:02X}{:02X}{:02X}{:02X}-{:02X}{:02X}-{:02X}{:02X}-{:02X}{:02X}-", g[3], g[2], g[1],
                                 g[0], g[5], g[4], g[7], g[6], g[8], g[9]);
  for (int k = 10; k < 16; ++k) guid += fmt::format("{:02X}", g[k]);
  return guid;
}

void debug_entries(const pe::Image& image, Printer& p, Warnings& w) {
  const auto dbg = pe::parse_debug(image);
  const auto* d = w.parsed(dbg);
  if (!d || d->entries.empty()) return;
  p.begin_array("debug");
  for (const auto& e : d->entries) {
    p.begin_object();
    p.field("type", e.raw.Type);
    p.field("type_name", pe::debug_type_name(e.raw.Type));
    p.field("size", e.raw.SizeOfData);
    p.field("rva", e.raw.AddressOfRawData);
    p.field("offset", e.raw.PointerToRawData);
    p.field("timestamp", e.raw.TimeDateStamp);
    if (e.codeview) {
      p.begin_object("codeview");
      p.field("signature", e.codeview->signature);
      p.field("guid", guid_text(e.codeview->guid));
      p.field("age", e.codeview->age);
      p.field("pdb", printable(e.codeview->pdb_path));
      p.end_object();
    }
    p.end_object();
  }
  p.end_array();
}

void dos_header(const pe::Image& image, Printer& p) {
  const auto& dos = image.dos_header();
  p.begin_object("dos_header");
  const std::pair<const char*, uint64_t> fields[] = {
      {"e_magic", dos.e_magic},       {"e_cblp", dos.e_cblp},       {"e_cp", dos.e_cp},
      {"e_crlc", dos.e_crlc},         {"e_cparhdr", dos.e_cparhdr}, {"e_minalloc", dos.e_minalloc},
      {"e_maxalloc", dos.e_maxalloc}, {"e_ss", dos.e_ss},           {"e_sp", dos.e_sp},
      {"e_csum", dos.e_csum},         {"e_ip", dos.e_ip},           {"e_cs", dos.e_cs},
      {"e_lfarlc", dos.e_lfarlc},     {"e_ovno", dos.e_ovno},       {"e_oemid", dos.e_oemid},
      {"e_oeminfo", dos.e_oeminfo},   {"e_lfanew", dos.e_lfanew}};
  for (const auto& [k, v] : fields) p.field(k, v);
  p.end_object();
}

void file_header(const pe::Image& image, Printer& p) {
  const auto& fh = image.file_header();
  p.begin_object("file_header");
  p.field("offset", image.nt_offset() + 4);
  p.field("Machine", fh.Machine);
  p.field("machine_name", pe::machine_name(fh.Machine));
  p.field("NumberOfSections", fh.NumberOfSections);
  p.field("TimeDateStamp", fh.TimeDateStamp);
  p.field("PointerToSymbolTable", fh.PointerToSymbolTable);
  p.field("NumberOfSymbols", fh.NumberOfSymbols);
  p.field("SizeOfOptionalHeader", fh.SizeOfOptionalHeader);
  p.field("Characteristics", fh.Characteristics);
  p.strings("flags", pe::file_flag_names(fh.Characteristics));
  p.end_object();
}

void optional_header(const pe::Image& image, Printer& p) {
  const auto& oh = image.optional_header();
  p.begin_object("optional_header");
  p.field("offset", image.optional_header_offset());
  p.field("Magic", oh.magic);
  p.field("format", image.is_pe32plus() ? "PE32+" : "PE32");
  const std::pair<const char*, uint64_t> before[] = {{"MajorLinkerVersion", oh.major_linker_version},
                                                     {"MinorLinkerVersion", oh.minor_linker_version},
                                                     {"SizeOfCode", oh.size_of_code},
                                                     {"SizeOfInitializedData", oh.size_of_initialized_data},
                                                     {"SizeOfUninitializedData", oh.size_of_uninitialized_data},
                                                     {"AddressOfEntryPoint", oh.address_of_entry_point},
                                                     {"BaseOfCode", oh.base_of_code}};
  for (const auto& [k, v] : before) p.field(k, v);
  if (oh.base_of_data) p.field("BaseOfData", *oh.base_of_data);
  const std::pair<const char*, uint64_t> after[] = {{"ImageBase", oh.image_base},
                                                    {"SectionAlignment", oh.section_alignment},
                                                    {"FileAlignment", oh.file_alignment},
                                                    {"MajorOperatingSystemVersion", oh.major_os_version},
                                                    {"MinorOperatingSystemVersion", oh.minor_os_version},
                                                    {"MajorImageVersion", oh.major_image_version},
                                                    {"MinorImageVersion", oh.minor_image_version},
                                                    {"MajorSubsystemVersion", oh.major_subsystem_version},
                                                    {"MinorSubsystemVersion", oh.minor_subsystem_version},
                                                    {"Win32VersionValue", oh.win32_version_value},
                                                    {"SizeOfImage", oh.size_of_image},
                                                    {"SizeOfHeaders", oh.size_of_headers},
                                                    {"CheckSum", oh.checksum},
                                                    {"Subsystem", oh.subsystem}};
  for (const auto& [k, v] : after) p.field(k, v);
  p.field("subsystem_name", pe::subsystem_name(oh.subsystem));
  p.field("DllCharacteristics", oh.dll_characteristics);
  p.strings("dll_flags", pe::dll_flag_names(oh.dll_characteristics));
  const std::pair<const char*, uint64_t> sizes[] = {{"SizeOfStackReserve", oh.size_of_stack_reserve},
                                                    {"SizeOfStackCommit", oh.size_of_stack_commit},
                                                    {"SizeOfHeapReserve", oh.size_of_heap_reserve},
                                                    {"SizeOfHeapCommit", oh.size_of_heap_commit},
                                                    {"LoaderFlags", oh.loader_flags},
                                                    {"NumberOfRvaAndSizes", oh.number_of_rva_and_sizes}};
  for (const auto& [k, v] : sizes) p.field(k, v);
  p.end_object();
}

void rich_header(const pe::Image& image, Printer& p) {
  const auto rich = pe::parse_rich_header(image);
  if (!rich) return;
  p.begin_object("rich_header");
  p.field("offset", rich->offset);
  p.field("size", rich->end - rich->offset);
  p.field("key", rich->key);
  p.field("checksum", rich->checksum);
  p.field("valid", rich->valid());
  p.begin_array("entries");
  for (const auto& e : rich->entries) {
    p.begin_object();
    p.field("product", e.product);
    const auto name = pe::rich_product_name(e.product);
    if (name.empty())
      p.field("product_name", nullptr);
    else
      p.field("product_name", name);
    p.field("build", e.build);
    p.field("count", e.count);
    p.end_object();
  }
  p.end_array();
  p.end_object();
}

// The sum reads every byte of the file: headers and info compute it up to this size, and `pemap hashes` at any
// size, so that they stay as fast as the tables they read on a DLL of tens of megabytes.
constexpr uint64_t kChecksumLimit = uint64_t{8} << 20;

// The file's checksum, or none above kChecksumLimit.
std::optional<uint32_t> checksum_if_small(const pe::Image& image) {
  if (image.file().size() > kChecksumLimit) return std::nullopt;
  return pe::compute_checksum(image);
}

// "matches", "not set" (0, as most linkers leave it), "differs", or "not computed" (a file over kChecksumLimit).
const char* checksum_status(uint32_t stated, std::optional<uint32_t> computed) {
  if (!computed) return "not computed";
  return stated == *computed ? "matches" : stated == 0 ? "not set" : "differs";
}

// CheckSum against imagehlp's sum. Windows checks it for drivers only; Authenticode leaves it out of the signed
// digest, so a signed file's mismatch means it was changed after linking and re-signed, or built to look so.
void checksum(const pe::Image& image, Printer& p, Warnings& w) {
  const uint32_t stated = image.optional_header().checksum;
  const auto small = checksum_if_small(image);
  p.begin_object("checksum");
  p.field("header", stated);
  if (small)
    p.field("computed", *small);
  else
    p.field("computed", nullptr);
  p.field("status", checksum_status(stated, small));
  p.end_object();
  if (!small) return;
  const uint32_t computed = *small;
  const bool driver = image.optional_header().subsystem == 1;  // IMAGE_SUBSYSTEM_NATIVE
  const bool signed_file = image.directory(pe::kDirSecurity).Size != 0;
  if (stated != computed && (driver || signed_file))
    w.add(make_error(Status::success, "optional header", Location::offset(pe::checksum_offset(image)),
                     fmt::format("CheckSum {:#x} is not the file's checksum {:#x}; {}", stated, computed,
                                 driver ? "Windows checks a driver's when it loads it"
                                        : "signing tools set it, so the file changed after it was signed")));
}

void clr_header(const pe::Image& image, Printer& p, Warnings& w) {
  const auto clr = pe::parse_clr(image);
  const auto* c = w.parsed(clr);
  if (!c || !c->present) return;
  p.begin_object("clr");
  p.field("cb", c->cb);
  p.field("runtime_version", fmt::format("{}.{}", c->major_runtime_version, c->minor_runtime_version));
  p.field("flags", c->flags);
  p.begin_array("flag_names");
  for (const auto& n : pe::clr_flag_names(c->flags)) p.field({}, n);
  p.end_array();
  p.field(c->flags & pe::kClrNativeEntryPoint ? "entry_point_rva" : "entry_point_token", c->entry_point);
  const std::pair<const char*, const pe::DataDirectory*> dirs[] = {
      {"metadata", &c->metadata},
      {"resources", &c->resources},
      {"strong_name_signature", &c->strong_name_signature},
      {"code_manager_table", &c->code_manager_table},
      {"vtable_fixups", &c->vtable_fixups},
      {"export_address_table_jumps", &c->export_address_table_jumps},
      {"managed_native_header", &c->managed_native_header}};
  for (const auto& [key, d] : dirs) {
    p.begin_object(key);
    p.field("rva", d->VirtualAddress);
    p.field("size", d->Size);
    p.end_object();
  }
  if (c->metadata_root) {
    const auto& m = *c->metadata_root;
    p.begin_object("metadata_root");
    p.field("version", printable(m.version));
    p.field("major_version", m.major_version);
    p.field("minor_version", m.minor_version);
    p.begin_array("streams");
    for (const auto& s : m.streams)
      p.record({}, {Field::str("name", printable(s.name)), Field::num("offset", s.offset), Field::num("size", s.size)});
    p.end_array();
    p.end_object();
  }
  p.end_object();
}

void data_directories(const pe::Image& image, Printer& p) {
  p.begin_array("data_directories");
  for (uint32_t i = 0; i < image.directories().size(); ++i) {
    const auto d = image.directories()[i];
    p.begin_object();
    p.field("index", i);
    p.field("name", pe::directory_name(i));
    p.field("rva", d.VirtualAddress);
    p.field("size", d.Size);
    // The security directory holds a file offset, not an RVA.
    if (d.VirtualAddress == 0 || i == pe::kDirSecurity)
      p.field("section", nullptr);
    else
      section_field(p, "section", image, d.VirtualAddress);
    p.end_object();
  }
  p.end_array();
}

}  // namespace

const char* checksum_status(const pe::Image& image) {
  return checksum_status(image.optional_header().checksum, checksum_if_small(image));
}

void model_headers(const pe::Image& image, Printer& p, Warnings& w) {
  dos_header(image, p);
  rich_header(image, p);
  file_header(image, p);
  optional_header(image, p);
  checksum(image, p, w);
  data_directories(image, p);
  load_config(image, p, w);
  debug_entries(image, p, w);
  clr_header(image, p, w);
  w.add(image.warnings());
}

}  // namespace pemap::inspect
