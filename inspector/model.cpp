// The per-command findings, printed from the parser's results as they are walked.
#include "model.hpp"

#include <algorithm>
#include <map>

#include <fmt/format.h>

#include "analysis/demangle.hpp"
#include "json_text.hpp"
#include "pe/clr.hpp"
#include "pe/debug.hpp"
#include "pe/exports.hpp"
#include "pe/imports.hpp"
#include "pe/names.hpp"
#include "pe/relocs.hpp"
#include "pe/tls.hpp"
#include "resources_view.hpp"
#include "security_summary.hpp"

namespace pemap::inspect {
namespace {

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

void import_entry(Printer& p, const pe::ImportEntry& e, std::string& scratch, Demangle demangle) {
  if (e.by_ordinal) {
    p.record({}, {Field::num("iat_rva", e.iat_rva), Field::num("thunk", e.thunk), Field::num("ordinal", e.ordinal)});
    return;
  }
  const Field name = Field::str("name", printable_view(e.name, scratch));
  if (const auto plain = demangle == Demangle::yes ? analysis::demangle(e.name) : std::nullopt)
    p.record({}, {Field::num("iat_rva", e.iat_rva), Field::num("thunk", e.thunk), name, Field::str("demangled", *plain),
                  Field::num("hint", e.hint)});
  else
    p.record({}, {Field::num("iat_rva", e.iat_rva), Field::num("thunk", e.thunk), name, Field::num("hint", e.hint)});
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
void import_list(const pe::Image& image, const char* key, Printer& p, Warnings& w, Demangle demangle) {
  p.begin_array(key);
  pe::ImportReader<Module> reader(image);
  std::string scratch;
  while (auto m = reader.next_module()) {
    p.begin_object();
    module_fields(p, *m);
    p.begin_array("entries");
    while (auto e = reader.next_entry()) import_entry(p, *e, scratch, demangle);
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

}  // namespace

std::optional<std::string> section_ref(const pe::Image& image, uint64_t rva) {
  if (const auto* s = image.section_at(rva)) return printable(s->name);
  if (rva < image.header_size()) return "(headers)";
  return std::nullopt;
}

void section_field(Printer& p, std::string_view key, const pe::Image& image, uint64_t rva) {
  if (auto s = section_ref(image, rva))
    p.field(key, *s);
  else
    p.field(key, nullptr);
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

void print_fixup_pages(Printer& p, const pe::Image& image, bool moved) {
  p.begin_array("fixup_pages");
  const auto relocs = pe::parse_relocations(image);
  if (moved && relocs) {
    std::map<uint64_t, uint64_t> pages;
    relocs->for_each([&](const pe::RelocEntry& e) {
      if (e.type != pe::reloc_type::absolute) ++pages[e.rva & ~uint64_t{pe::kPageSize - 1}];
    });
    for (const auto& [rva, n] : pages) p.record({}, {Field::num("rva", rva), Field::num("fixups", n)});
  }
  p.end_array();
}

std::string fixup_counts_text(const json& fixups, std::string_view none) {
  std::string out;
  for (const auto& [type, n] : fixups.items())
    out += fmt::format("{}{} {}", out.empty() ? "" : ", ", n.get<uint64_t>(), type);
  return out.empty() ? std::string(none) : out;
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

void model_imports(const pe::Image& image, Printer& p, Warnings& w) { model_imports(image, p, w, Demangle::no); }

void model_imports(const pe::Image& image, Printer& p, Warnings& w, Demangle demangle) {
  import_list<pe::ImportModule>(image, "imports", p, w, demangle);
  import_list<pe::DelayImportModule>(image, "delay_imports", p, w, demangle);
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
  p.field("checksum", checksum_status(image));
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
