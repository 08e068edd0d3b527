// The per-command findings, printed from the parser's results as they are walked.
#include "model.hpp"

#include <algorithm>
#include <map>

#include <fmt/format.h>

#include "analysis/demangle.hpp"
#include "json_text.hpp"
#include "pe/checksum.hpp"
#include "pe/clr.hpp"
#include "pe/debug.hpp"
#include "pe/exports.hpp"
#include "pe/guard_tables.hpp"
#include "pe/imports.hpp"
#include "pe/load_config.hpp"
#include "pe/names.hpp"
#include "pe/relocs.hpp"
#include "pe/rich_header.hpp"
#include "pe/tls.hpp"
#include "resources_view.hpp"
#include "security_summary.hpp"

namespace pemap::inspect {
namespace {

void section_field(Printer& p, std::string_view key, const pe::Image& image, uint64_t rva) {
  if (auto s = section_ref(image, rva))
    p.field(key, *s);
  else
    p.field(key, nullptr);
}

// Which layout the tables were read through, and, for the section table's, whose loader builds it.
void layout(const pe::Image& image, Printer& p) {
  const bool windows = image.layout() == pe::Layout::memory_manager;
  p.field("layout", windows ? "memory_manager" : "section_table");
  if (!windows && !image.own_loader().empty()) p.field("layout_loader", image.own_loader());
}

void overlay(const pe::Image& image, Printer& p) {
  if (auto ov = image.overlay_offset()) {
    p.begin_object("overlay");
    p.field("offset", *ov);
    p.field("size", image.file().size() - *ov);
    p.end_object();
  }
}

void import_entry(Printer& p, const pe::ImportEntry& e, std::string& scratch) {
  if (e.by_ordinal) {
    p.record({}, {Field::num("iat_rva", e.iat_rva), Field::num("thunk", e.thunk), Field::num("ordinal", e.ordinal)});
    return;
  }
  p.record({}, {Field::num("iat_rva", e.iat_rva), Field::num("thunk", e.thunk),
                Field::str("name", printable_view(e.name, scratch)), Field::num("hint", e.hint)});
}

void module_fields(Printer& p, const pe::ImportModule& m) {
  p.field("dll", printable(m.dll));
  p.field("descriptor_rva", m.descriptor_rva);
  p.field("original_first_thunk", m.descriptor.OriginalFirstThunk);
  p.field("first_thunk", m.descriptor.FirstThunk);
  p.field("time_date_stamp", m.descriptor.TimeDateStamp);
  p.field("forwarder_chain", m.descriptor.ForwarderChain);
}
void module_fields(Printer& p, const pe::DelayImportModule& m) {
  p.field("dll", printable(m.dll));
  p.field("descriptor_rva", m.descriptor_rva);
  p.field("attributes", m.descriptor.Attributes);
  p.field("rva_based", m.rva_based);
}

// The array `key` of a directory's modules, each an object with its entries, printed as the reader meets them. A
// directory that cannot be read is an empty array and a warning.
template <class Module>
void import_list(const pe::Image& image, const char* key, Printer& p, Warnings& w) {
  p.begin_array(key);
  pe::ImportReader<Module> reader(image);
  std::string scratch;
  while (auto m = reader.next_module()) {
    p.begin_object();
    module_fields(p, *m);
    p.begin_array("entries");
    while (auto e = reader.next_entry()) import_entry(p, *e, scratch);
    p.end_array();
    p.end_object();
  }
  w.parsed(reader.finish());
  p.end_array();
}

void export_entry(const pe::Image& image, Printer& p, const pe::ExportEntry& e, std::string& scratch,
                  std::string& scratch2, Demangle demangle) {
  const Field name = e.name.empty() ? Field::none("name") : Field::str("name", printable_view(e.name, scratch));
  // With --demangle, the C++ name as a person reads it, when the name is a mangled one.
  const auto plain = demangle == Demangle::yes ? analysis::demangle(e.name) : std::nullopt;
  const Field demangled = plain ? Field::str("demangled", *plain) : Field::none("demangled");
  if (e.is_forwarder()) {
    const Field forwarder = Field::str("forwarder", printable_view(e.forwarder, scratch2));
    if (plain)
      p.record({}, {Field::num("ordinal", e.ordinal), Field::num("rva", e.rva), name, demangled, forwarder});
    else
      p.record({}, {Field::num("ordinal", e.ordinal), Field::num("rva", e.rva), name, forwarder});
    return;
  }
  const auto section = section_ref(image, e.rva);
  const Field where = section ? Field::str("section", *section) : Field::none("section");
  if (plain)
    p.record({}, {Field::num("ordinal", e.ordinal), Field::num("rva", e.rva), name, demangled, where});
  else
    p.record({}, {Field::num("ordinal", e.ordinal), Field::num("rva", e.rva), name, where});
}

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

std::optional<std::string> section_ref(const pe::Image& image, uint64_t rva) {
  if (const auto* s = image.section_at(rva)) return printable(s->name);
  if (rva < image.header_size()) return "(headers)";
  return std::nullopt;
}

void print_error(Printer& p, std::string_view key, const Error& e) {
  p.begin_object(key);
  p.field("structure", printable(e.structure));
  p.field("message", printable(e.message));
  p.field("text", printable(e.to_string()));
  if (e.status != Status::success) p.field("status", status_name(e.status));
  if (e.where.kind == Location::Kind::file_offset) p.field("offset", e.where.value);
  if (e.where.kind == Location::Kind::rva) p.field("rva", e.where.value);
  p.end_object();
}

void print_unresolved(Printer& p, std::string_view importer, std::string_view dll, std::string_view function,
                      Status status, std::string_view reason, uint64_t trap) {
  p.record({}, {Field::str("importer", printable(importer)), Field::str("dll", printable(dll)),
                Field::str("function", printable(function)), Field::word("status", status_name(status)),
                Field::str("reason", printable(reason)), Field::num("trap", trap)});
}

void print_fixups(Printer& p, const std::map<uint8_t, uint64_t>& per_type, uint16_t machine) {
  std::vector<std::pair<std::string_view, uint64_t>> named;
  for (const auto& [type, n] : per_type) {
    const auto name = pe::reloc_type_name(type, machine);
    auto it = std::find_if(named.begin(), named.end(), [&](const auto& e) { return e.first == name; });
    if (it == named.end())
      named.emplace_back(name, n);
    else
      it->second += n;
  }
  p.begin_object("fixups");
  for (const auto& [name, n] : named) p.field(name, n);
  p.end_object();
}

void Warnings::merge(const Warnings& other) {
  for (const auto& e : other.list_) {
    const auto text = e.to_string();
    if (std::none_of(list_.begin(), list_.end(), [&](const Error& have) { return have.to_string() == text; }))
      list_.push_back(e);
  }
}

void Warnings::print(Printer& p) const {
  if (list_.empty()) return;
  p.begin_array("warnings");
  for (const auto& e : list_) print_error(p, {}, e);
  p.end_array();
}

std::vector<std::string> Warnings::texts() const {
  std::vector<std::string> out;
  for (const auto& e : list_) out.push_back(printable(e.to_string()));
  return out;
}

json model_document(Model model, const pe::Image& image) {
  TreeBuilder t;
  Warnings w;
  model(image, t, w);
  w.print(t);
  return std::move(t.document());
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

void model_sections(const pe::Image& image, Printer& p, Warnings& w) {
  p.begin_array("sections");
  for (const auto& s : image.sections()) {
    const auto& h = s.header;
    p.begin_object();
    p.field("index", s.index);
    p.field("name", printable(s.name));
    p.field("virtual_address", h.VirtualAddress);
    p.field("virtual_size", h.VirtualSize);
    p.field("raw_pointer", h.PointerToRawData);
    p.field("raw_size", h.SizeOfRawData);
    p.field("characteristics", h.Characteristics);
    p.field("access", pe::section_access(h.Characteristics));
    p.field("content", pe::section_content(h.Characteristics));
    p.strings("flags", pe::section_flag_names(h.Characteristics));
    // Where the layout the tables were read through puts the section (docs/parser.md, "Reading by RVA").
    const pe::Region* r = image.layout() == pe::Layout::section_table ? image.region_at(h.VirtualAddress) : nullptr;
    const bool own = r && r->section == static_cast<int32_t>(s.index);
    p.field("mapped_size", own ? r->size : image.layout() == pe::Layout::section_table ? 0 : s.memory_size);
    p.field("mapped_file_offset", own ? r->file_offset : s.file_offset);
    p.field("mapped_file_size", own ? r->file_size : image.layout() == pe::Layout::section_table ? 0 : s.file_size);
    p.end_object();
  }
  p.end_array();
  p.field("size_of_image", image.optional_header().size_of_image);
  p.field("size_of_headers", image.optional_header().size_of_headers);
  p.field("flat", image.is_flat());
  layout(image, p);
  overlay(image, p);
  w.add(image.warnings());
}

void model_imports(const pe::Image& image, Printer& p, Warnings& w) {
  import_list<pe::ImportModule>(image, "imports", p, w);
  import_list<pe::DelayImportModule>(image, "delay_imports", p, w);
  p.begin_array("bound_imports");
  const auto bound = pe::parse_bound_imports(image);
  if (const auto* bi = w.parsed(bound)) {
    for (const auto& b : bi->modules) {
      p.begin_object();
      p.field("dll", printable(b.dll));
      p.field("time_date_stamp", b.time_date_stamp);
      p.begin_array("forwarders");
      for (const auto& f : b.forwarders) {
        p.begin_object();
        p.field("dll", printable(f.dll));
        p.field("time_date_stamp", f.time_date_stamp);
        p.end_object();
      }
      p.end_array();
      p.end_object();
    }
  }
  p.end_array();
}

void model_exports(const pe::Image& image, Printer& p, Warnings& w) { model_exports(image, p, w, Demangle::no); }

void model_exports(const pe::Image& image, Printer& p, Warnings& w, Demangle demangle) {
  p.begin_array("exports");
  auto reader = pe::ExportReader::open(image);
  std::optional<pe::Exports> exports;
  if (reader) {
    std::string scratch, scratch2;
    while (auto e = reader->next()) export_entry(image, p, *e, scratch, scratch2, demangle);
    exports = reader->finish();
    w.add(exports->warnings);
  } else {
    w.add(reader.error());
  }
  p.end_array();
  const pe::Exports* ex = exports ? &*exports : nullptr;
  if (ex && ex->present) {
    p.field("dll_name", printable(ex->dll_name));
    p.field("ordinal_base", ex->directory.Base);
    p.field("number_of_functions", ex->directory.NumberOfFunctions);
    p.field("number_of_names", ex->directory.NumberOfNames);
    p.field("time_date_stamp", ex->directory.TimeDateStamp);
  }
}

void model_relocs(const pe::Image& image, Printer& p, Warnings& w) {
  p.begin_array("blocks");
  const auto rel = pe::parse_relocations(image);
  uint64_t per_type_code[16] = {};  // by the 4-bit type, named once at the end
  const auto* r = w.parsed(rel);
  if (r) {
    std::string_view names[16];
    for (uint8_t t = 0; t < 16; ++t) names[t] = pe::reloc_type_name(t, r->machine);
    for (const auto& b : r->blocks) {
      p.begin_object();
      p.field("rva", b.rva);
      p.field("page_rva", b.page_rva);
      p.field("size_of_block", b.size_of_block);
      p.begin_array("entries");
      b.for_each([&](const pe::RelocEntry& e) {
        if (e.highadj_param)
          p.record({}, {Field::num("rva", e.rva), Field::word("type", names[e.type & 0xf]),
                        Field::num("highadj_low", *e.highadj_param)});
        else
          p.record({}, {Field::num("rva", e.rva), Field::word("type", names[e.type & 0xf])});
        ++per_type_code[e.type & 0xf];
      });
      p.end_array();
      p.end_object();
    }
  }
  p.end_array();
  std::map<std::string_view, uint64_t> per_type;
  uint64_t total = 0;
  for (uint8_t t = 0; t < 16; ++t)
    if (per_type_code[t]) per_type[pe::reloc_type_name(t, r->machine)] += per_type_code[t], total += per_type_code[t];
  p.field("total", total);
  p.begin_object("per_type");
  for (const auto& [name, n] : per_type) p.field(name, n);
  p.end_object();
}

void model_tls(const pe::Image& image, Printer& p, Warnings& w) {
  const auto tls = pe::parse_tls(image);
  const auto* t = w.parsed(tls);
  p.field("present", t && t->present);
  if (!t || !t->present) return;
  p.field("directory_rva", image.directory(pe::kDirTls).VirtualAddress);
  p.field("start_of_raw_data", t->start_of_raw_data);
  p.field("end_of_raw_data", t->end_of_raw_data);
  p.field("address_of_index", t->address_of_index);
  p.field("address_of_callbacks", t->address_of_callbacks);
  p.field("size_of_zero_fill", t->size_of_zero_fill);
  p.field("characteristics", t->characteristics);
  p.begin_array("callbacks");
  for (uint64_t va : t->callbacks) {
    p.begin_object();
    p.field("va", va);
    if (auto rva = image.va_to_rva(va)) {
      p.field("rva", *rva);
      section_field(p, "section", image, *rva);
    }
    p.end_object();
  }
  p.end_array();
}

void model_info(const pe::Image& image, Printer& p, Warnings& w) {
  const auto& fh = image.file_header();
  const auto& oh = image.optional_header();
  p.field("size", image.file().size());
  p.field("format", image.is_pe32plus() ? "PE32+" : "PE32");
  p.field("machine", pe::machine_name(fh.Machine));
  p.field("kind", (fh.Characteristics & pe::file_flag::dll) ? "DLL" : "EXE");
  p.field("subsystem", pe::subsystem_name(oh.subsystem));
  p.field("image_base", oh.image_base);
  p.field("entry_point", oh.address_of_entry_point);
  section_field(p, "entry_section", image, oh.address_of_entry_point);
  p.field("size_of_image", oh.size_of_image);
  p.field("sections", image.sections().size());
  p.field("flat", image.is_flat());
  layout(image, p);
  p.field("relocs_stripped", (fh.Characteristics & pe::file_flag::relocs_stripped) != 0);
  p.strings("dll_flags", pe::dll_flag_names(oh.dll_characteristics));
  p.field("checksum", checksum_status(oh.checksum, checksum_if_small(image)));
  if (auto clr = pe::parse_clr(image); clr && clr->present) {
    p.begin_object("dotnet");
    p.field("metadata_version", clr->metadata_root ? printable(clr->metadata_root->version) : std::string());
    p.begin_array("flags");
    for (const auto& n : pe::clr_flag_names(clr->flags)) p.field({}, n);
    p.end_array();
    p.end_object();
  }
  print_security(image, p);
  overlay(image, p);
  // The counts come from walks that keep nothing: an image of 590,000 imports is counted in the memory of one.
  std::vector<std::pair<std::string_view, uint64_t>> counts;
  pe::ImportReader<pe::ImportModule> imports(image);
  uint64_t import_modules = 0, import_functions = 0;
  for (; imports.next_module(); ++import_modules)
    while (imports.next_entry()) ++import_functions;
  if (w.parsed(imports.finish()))
    counts.insert(counts.end(), {{"import_modules", import_modules}, {"import_functions", import_functions}});
  pe::ImportReader<pe::DelayImportModule> delay(image);
  uint64_t delay_modules = 0;
  while (delay.next_module()) ++delay_modules;
  if (w.parsed(delay.finish())) counts.emplace_back("delay_import_modules", delay_modules);
  if (auto exports = pe::ExportReader::open(image)) {
    uint64_t n = 0;
    while (exports->next()) ++n;
    const pe::Exports ex = exports->finish();
    w.add(ex.warnings);
    counts.emplace_back("exports", n);
    if (ex.present) p.field("dll_name", printable(ex.dll_name));
  } else {
    w.add(exports.error());
  }
  const auto relocs = pe::parse_relocations(image);
  if (const auto* rel = w.parsed(relocs))
    counts.insert(counts.end(), {{"reloc_blocks", rel->blocks.size()}, {"relocs", rel->entry_count()}});
  const auto tls = pe::parse_tls(image);
  if (const auto* t = w.parsed(tls)) counts.emplace_back("tls_callbacks", t->callbacks.size());
  const auto debug = pe::parse_debug(image);
  if (const auto* dbg = w.parsed(debug)) {
    auto cv = std::find_if(dbg->entries.begin(), dbg->entries.end(), [](const auto& e) { return e.codeview; });
    if (cv != dbg->entries.end()) p.field("pdb", printable(cv->codeview->pdb_path));
  }
  if (counts.empty()) {
    p.field("counts", nullptr);
  } else {
    p.begin_object("counts");
    for (const auto& [name, n] : counts) p.field(name, n);
    p.end_object();
  }
  w.add(image.warnings());
}

void model_all(const pe::Image& image, Printer& p, Warnings& w) {
  const std::pair<const char*, Model> parts[] = {{"headers", model_headers},    {"sections", model_sections},
                                                 {"imports", model_imports},    {"exports", model_exports},
                                                 {"relocs", model_relocs},      {"tls", model_tls},
                                                 {"resources", model_resources}};
  for (const auto& [key, model] : parts) {
    Warnings part;
    p.begin_object(key);
    model(image, p, part);
    p.end_object();
    w.merge(part);
  }
}

}  // namespace pemap::inspect
