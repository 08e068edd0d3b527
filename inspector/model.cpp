// Building the per-command documents from the parser's views.
#include "model.hpp"

#include <algorithm>
#include <map>

#include <fmt/format.h>

#include "json_text.hpp"
#include "pe/debug.hpp"
#include "pe/exports.hpp"
#include "pe/imports.hpp"
#include "pe/load_config.hpp"
#include "pe/names.hpp"
#include "pe/relocs.hpp"
#include "pe/tls.hpp"

namespace pemap::inspect {
namespace {

json names(const std::vector<std::string_view>& v) {
  json out = json::array();
  for (auto s : v) out.push_back(std::string(s));
  return out;
}

void add_warnings(json& doc, const std::vector<Error>& warnings) {
  for (const auto& w : warnings) doc["warnings"].push_back(error_json(w));
}

// A directory that failed to parse still yields a document: its error becomes a warning.
template <class T>
const T* parsed(const Result<T>& r, json& doc) {
  if (r) {
    add_warnings(doc, r->warnings);
    return &*r;
  }
  doc["warnings"].push_back(error_json(r.error()));
  return nullptr;
}

json section_ref(const pe::Image& image, uint64_t rva) {
  if (const auto* s = image.section_at(rva)) return printable(s->name);
  if (rva < image.header_size()) return "(headers)";
  return nullptr;
}

json import_entry(const pe::ImportEntry& e) {
  json j{{"iat_rva", e.iat_rva}, {"thunk", e.thunk}};
  if (e.by_ordinal)
    j["ordinal"] = e.ordinal;
  else
    j["name"] = printable(e.name), j["hint"] = e.hint;
  return j;
}

}  // namespace

json error_json(const Error& e) {
  json j{{"structure", printable(e.structure)}, {"message", printable(e.message)}, {"text", printable(e.to_string())}};
  if (e.status != Status::success) j["status"] = std::string(status_name(e.status));
  if (e.where.kind == Location::Kind::file_offset) j["offset"] = e.where.value;
  if (e.where.kind == Location::Kind::rva) j["rva"] = e.where.value;
  return j;
}

json model_headers(const pe::Image& image) {
  const auto& dos = image.dos_header();
  const auto& fh = image.file_header();
  const auto& oh = image.optional_header();
  json doc;
  doc["dos_header"] = {{"e_magic", dos.e_magic},       {"e_cblp", dos.e_cblp},       {"e_cp", dos.e_cp},
                       {"e_crlc", dos.e_crlc},         {"e_cparhdr", dos.e_cparhdr}, {"e_minalloc", dos.e_minalloc},
                       {"e_maxalloc", dos.e_maxalloc}, {"e_ss", dos.e_ss},           {"e_sp", dos.e_sp},
                       {"e_csum", dos.e_csum},         {"e_ip", dos.e_ip},           {"e_cs", dos.e_cs},
                       {"e_lfarlc", dos.e_lfarlc},     {"e_ovno", dos.e_ovno},       {"e_oemid", dos.e_oemid},
                       {"e_oeminfo", dos.e_oeminfo},   {"e_lfanew", dos.e_lfanew}};
  doc["file_header"] = {{"offset", image.nt_offset() + 4},
                        {"Machine", fh.Machine},
                        {"machine_name", std::string(pe::machine_name(fh.Machine))},
                        {"NumberOfSections", fh.NumberOfSections},
                        {"TimeDateStamp", fh.TimeDateStamp},
                        {"PointerToSymbolTable", fh.PointerToSymbolTable},
                        {"NumberOfSymbols", fh.NumberOfSymbols},
                        {"SizeOfOptionalHeader", fh.SizeOfOptionalHeader},
                        {"Characteristics", fh.Characteristics},
                        {"flags", names(pe::file_flag_names(fh.Characteristics))}};
  json o{{"offset", image.optional_header_offset()},
         {"Magic", oh.magic},
         {"format", image.is_pe32plus() ? "PE32+" : "PE32"},
         {"MajorLinkerVersion", oh.major_linker_version},
         {"MinorLinkerVersion", oh.minor_linker_version},
         {"SizeOfCode", oh.size_of_code},
         {"SizeOfInitializedData", oh.size_of_initialized_data},
         {"SizeOfUninitializedData", oh.size_of_uninitialized_data},
         {"AddressOfEntryPoint", oh.address_of_entry_point},
         {"BaseOfCode", oh.base_of_code}};
  if (oh.base_of_data) o["BaseOfData"] = *oh.base_of_data;
  o.update(json{{"ImageBase", oh.image_base},
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
                {"Subsystem", oh.subsystem},
                {"subsystem_name", std::string(pe::subsystem_name(oh.subsystem))},
                {"DllCharacteristics", oh.dll_characteristics},
                {"dll_flags", names(pe::dll_flag_names(oh.dll_characteristics))},
                {"SizeOfStackReserve", oh.size_of_stack_reserve},
                {"SizeOfStackCommit", oh.size_of_stack_commit},
                {"SizeOfHeapReserve", oh.size_of_heap_reserve},
                {"SizeOfHeapCommit", oh.size_of_heap_commit},
                {"LoaderFlags", oh.loader_flags},
                {"NumberOfRvaAndSizes", oh.number_of_rva_and_sizes}});
  doc["optional_header"] = std::move(o);
  json dirs = json::array();
  for (uint32_t i = 0; i < image.directories().size(); ++i) {
    const auto d = image.directories()[i];
    json j{{"index", i}, {"name", std::string(pe::directory_name(i))}, {"rva", d.VirtualAddress}, {"size", d.Size}};
    // The security directory holds a file offset, not an RVA.
    j["section"] =
        (d.VirtualAddress == 0 || i == pe::kDirSecurity) ? json(nullptr) : section_ref(image, d.VirtualAddress);
    dirs.push_back(std::move(j));
  }
  doc["data_directories"] = std::move(dirs);

  const auto lc = pe::parse_load_config(image);
  if (const auto* l = parsed(lc, doc); l && l->present) {
    json f = json::object();
    for (const auto& field : l->fields) f[std::string(field.name)] = field.value;
    doc["load_config"] = std::move(f);
  }
  const auto dbg = pe::parse_debug(image);
  if (const auto* d = parsed(dbg, doc)) {
    json entries = json::array();
    for (const auto& e : d->entries) {
      json j{{"type", e.raw.Type},
             {"type_name", std::string(pe::debug_type_name(e.raw.Type))},
             {"size", e.raw.SizeOfData},
             {"rva", e.raw.AddressOfRawData},
             {"offset", e.raw.PointerToRawData},
             {"timestamp", e.raw.TimeDateStamp}};
      if (e.codeview) {
        std::string guid;
        const auto& g = e.codeview->guid;
        // The GUID's first three groups are little-endian in the file.
        guid = fmt::format("{:02X}{:02X}{:02X}{:02X}-{:02X}{:02X}-{:02X}{:02X}-{:02X}{:02X}-", g[3], g[2], g[1], g[0],
                           g[5], g[4], g[7], g[6], g[8], g[9]);
        for (int k = 10; k < 16; ++k) guid += fmt::format("{:02X}", g[k]);
        j["codeview"] = {{"signature", std::string(e.codeview->signature)},
                         {"guid", guid},
                         {"age", e.codeview->age},
                         {"pdb", printable(e.codeview->pdb_path)}};
      }
      entries.push_back(std::move(j));
    }
    if (!entries.empty()) doc["debug"] = std::move(entries);
  }
  add_warnings(doc, image.warnings());
  return doc;
}

json model_sections(const pe::Image& image) {
  json doc;
  json list = json::array();
  for (const auto& s : image.sections()) {
    const auto& h = s.header;
    list.push_back({{"index", s.index},
                    {"name", printable(s.name)},
                    {"virtual_address", h.VirtualAddress},
                    {"virtual_size", h.VirtualSize},
                    {"raw_pointer", h.PointerToRawData},
                    {"raw_size", h.SizeOfRawData},
                    {"characteristics", h.Characteristics},
                    {"access", pe::section_access(h.Characteristics)},
                    {"content", pe::section_content(h.Characteristics)},
                    {"flags", names(pe::section_flag_names(h.Characteristics))},
                    {"mapped_size", s.memory_size},
                    {"mapped_file_offset", s.file_offset},
                    {"mapped_file_size", s.file_size}});
  }
  doc["sections"] = std::move(list);
  doc["size_of_image"] = image.optional_header().size_of_image;
  doc["size_of_headers"] = image.optional_header().size_of_headers;
  doc["flat"] = image.is_flat();
  if (auto ov = image.overlay_offset()) doc["overlay"] = {{"offset", *ov}, {"size", image.file().size() - *ov}};
  add_warnings(doc, image.warnings());
  return doc;
}

json model_imports(const pe::Image& image) {
  json doc;
  doc["imports"] = json::array();
  const auto imps = pe::parse_imports(image);
  if (const auto* im = parsed(imps, doc)) {
    for (const auto& m : im->modules) {
      json entries = json::array();
      for (const auto& e : m.entries) entries.push_back(import_entry(e));
      doc["imports"].push_back({{"dll", printable(m.dll)},
                                {"descriptor_rva", m.descriptor_rva},
                                {"original_first_thunk", m.descriptor.OriginalFirstThunk},
                                {"first_thunk", m.descriptor.FirstThunk},
                                {"time_date_stamp", m.descriptor.TimeDateStamp},
                                {"forwarder_chain", m.descriptor.ForwarderChain},
                                {"entries", std::move(entries)}});
    }
  }
  doc["delay_imports"] = json::array();
  const auto delay = pe::parse_delay_imports(image);
  if (const auto* di = parsed(delay, doc)) {
    for (const auto& m : di->modules) {
      json entries = json::array();
      for (const auto& e : m.entries) entries.push_back(import_entry(e));
      doc["delay_imports"].push_back({{"dll", printable(m.dll)},
                                      {"descriptor_rva", m.descriptor_rva},
                                      {"attributes", m.descriptor.Attributes},
                                      {"rva_based", m.rva_based},
                                      {"entries", std::move(entries)}});
    }
  }
  doc["bound_imports"] = json::array();
  const auto bound = pe::parse_bound_imports(image);
  if (const auto* bi = parsed(bound, doc)) {
    for (const auto& b : bi->modules) {
      json fw = json::array();
      for (const auto& f : b.forwarders)
        fw.push_back({{"dll", printable(f.dll)}, {"time_date_stamp", f.time_date_stamp}});
      doc["bound_imports"].push_back(
          {{"dll", printable(b.dll)}, {"time_date_stamp", b.time_date_stamp}, {"forwarders", std::move(fw)}});
    }
  }
  return doc;
}

json model_exports(const pe::Image& image) {
  json doc;
  doc["exports"] = json::array();
  const auto exps = pe::parse_exports(image);
  if (const auto* ex = parsed(exps, doc); ex && ex->present) {
    doc["dll_name"] = printable(ex->dll_name);
    doc["ordinal_base"] = ex->directory.Base;
    doc["number_of_functions"] = ex->directory.NumberOfFunctions;
    doc["number_of_names"] = ex->directory.NumberOfNames;
    doc["time_date_stamp"] = ex->directory.TimeDateStamp;
    for (const auto& e : ex->entries) {
      json j{{"ordinal", e.ordinal}, {"rva", e.rva}};
      j["name"] = e.name.empty() ? json(nullptr) : json(printable(e.name));
      if (e.is_forwarder())
        j["forwarder"] = printable(e.forwarder);
      else
        j["section"] = section_ref(image, e.rva);
      doc["exports"].push_back(std::move(j));
    }
  }
  return doc;
}

json model_relocs(const pe::Image& image) {
  json doc;
  doc["blocks"] = json::array();
  const auto rel = pe::parse_relocations(image);
  std::map<std::string, uint64_t> per_type;
  uint64_t total = 0;
  if (const auto* r = parsed(rel, doc)) {
    for (const auto& b : r->blocks) {
      pe::Relocations one;
      one.machine = r->machine;
      one.blocks.push_back(b);
      json entries = json::array();
      one.for_each([&](const pe::RelocEntry& e) {
        const std::string type(pe::reloc_type_name(e.type, r->machine));
        json j{{"rva", e.rva}, {"type", type}};
        if (e.highadj_param) j["highadj_low"] = *e.highadj_param;
        entries.push_back(std::move(j));
        ++per_type[type];
        ++total;
      });
      doc["blocks"].push_back({{"rva", b.rva},
                               {"page_rva", b.page_rva},
                               {"size_of_block", b.size_of_block},
                               {"entries", std::move(entries)}});
    }
  }
  doc["total"] = total;
  doc["per_type"] = per_type;
  return doc;
}

json model_tls(const pe::Image& image) {
  json doc;
  const auto tls = pe::parse_tls(image);
  doc["present"] = false;
  if (const auto* t = parsed(tls, doc); t && t->present) {
    doc["present"] = true;
    doc["directory_rva"] = image.directory(pe::kDirTls).VirtualAddress;
    doc["start_of_raw_data"] = t->start_of_raw_data;
    doc["end_of_raw_data"] = t->end_of_raw_data;
    doc["address_of_index"] = t->address_of_index;
    doc["address_of_callbacks"] = t->address_of_callbacks;
    doc["size_of_zero_fill"] = t->size_of_zero_fill;
    doc["characteristics"] = t->characteristics;
    json cbs = json::array();
    for (uint64_t va : t->callbacks) {
      json j{{"va", va}};
      if (auto rva = image.va_to_rva(va)) j["rva"] = *rva, j["section"] = section_ref(image, *rva);
      cbs.push_back(std::move(j));
    }
    doc["callbacks"] = std::move(cbs);
  }
  return doc;
}

json model_info(const pe::Image& image) {
  const auto& fh = image.file_header();
  const auto& oh = image.optional_header();
  json doc{{"size", image.file().size()},
           {"format", image.is_pe32plus() ? "PE32+" : "PE32"},
           {"machine", std::string(pe::machine_name(fh.Machine))},
           {"kind", (fh.Characteristics & pe::file_flag::dll) ? "DLL" : "EXE"},
           {"subsystem", std::string(pe::subsystem_name(oh.subsystem))},
           {"image_base", oh.image_base},
           {"entry_point", oh.address_of_entry_point},
           {"entry_section", section_ref(image, oh.address_of_entry_point)},
           {"size_of_image", oh.size_of_image},
           {"sections", image.sections().size()},
           {"flat", image.is_flat()},
           {"relocs_stripped", (fh.Characteristics & pe::file_flag::relocs_stripped) != 0},
           {"dll_flags", names(pe::dll_flag_names(oh.dll_characteristics))}};
  if (auto ov = image.overlay_offset()) doc["overlay"] = {{"offset", *ov}, {"size", image.file().size() - *ov}};
  json counts;
  const auto imports = pe::parse_imports(image);
  if (const auto* im = parsed(imports, doc)) {
    counts["import_modules"] = im->modules.size();
    counts["import_functions"] = im->entry_count();
  }
  const auto delay = pe::parse_delay_imports(image);
  if (const auto* di = parsed(delay, doc)) counts["delay_import_modules"] = di->modules.size();
  const auto exports = pe::parse_exports(image);
  if (const auto* ex = parsed(exports, doc)) {
    counts["exports"] = ex->entries.size();
    if (ex->present) doc["dll_name"] = printable(ex->dll_name);
  }
  const auto relocs = pe::parse_relocations(image);
  if (const auto* rel = parsed(relocs, doc)) {
    counts["reloc_blocks"] = rel->blocks.size();
    counts["relocs"] = rel->entry_count();
  }
  const auto tls = pe::parse_tls(image);
  if (const auto* t = parsed(tls, doc)) counts["tls_callbacks"] = t->callbacks.size();
  const auto debug = pe::parse_debug(image);
  if (const auto* dbg = parsed(debug, doc)) {
    auto cv = std::find_if(dbg->entries.begin(), dbg->entries.end(), [](const auto& e) { return e.codeview; });
    if (cv != dbg->entries.end()) doc["pdb"] = printable(cv->codeview->pdb_path);
  }
  doc["counts"] = std::move(counts);
  add_warnings(doc, image.warnings());
  return doc;
}

json model_all(const pe::Image& image) {
  json doc;
  json warnings = json::array();
  auto part = [&](const char* key, json p) {
    if (p.contains("warnings")) {
      // Image warnings come with both headers and sections.
      for (auto& w : p["warnings"])
        if (std::find(warnings.begin(), warnings.end(), w) == warnings.end()) warnings.push_back(std::move(w));
      p.erase("warnings");
    }
    doc[key] = std::move(p);
  };
  part("headers", model_headers(image));
  part("sections", model_sections(image));
  part("imports", model_imports(image));
  part("exports", model_exports(image));
  part("relocs", model_relocs(image));
  part("tls", model_tls(image));
  if (!warnings.empty()) doc["warnings"] = std::move(warnings);
  return doc;
}

}  // namespace pemap::inspect
