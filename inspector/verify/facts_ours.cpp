// Facts as our parser states them, and the JSON form both sides travel in.
#include <algorithm>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "analysis/digest.hpp"
#include "json_text.hpp"
#include "pe/certificates.hpp"
#include "pe/exports.hpp"
#include "pe/imports.hpp"
#include "pe/load_config.hpp"
#include "pe/relocs.hpp"
#include "pe/resources.hpp"
#include "pe/rich_header.hpp"
#include "pe/tls.hpp"
#include "verify/facts.hpp"
#include "verify/lief_model.hpp"

namespace pemap::inspect {

NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(Facts::Section, name, header_name, va, vsize, raw_pointer, raw_size, characteristics)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(Facts::Reloc, rva, type)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(Facts::Import, name, by_ordinal, ordinal, hint, iat_rva)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(Facts::Module, dll, entries, lief_reads_other_bytes, lief_skips_name)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(Facts::Export, ordinal, rva, name, forwarder)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(Facts::RichEntry, product, build, count)

void to_json(nlohmann::json& j, const Facts& f) {
  j = {{"error", f.error},
       {"refused_by_header_rule", f.refused_by_header_rule},
       {"image_base", f.image_base},
       {"entry_point", f.entry_point},
       {"sections", f.sections},
       {"relocs", f.relocs},
       {"imports", f.imports},
       {"exports", f.exports},
       {"tls_callbacks", f.tls_callbacks},
       {"delay_import_modules", f.delay_import_modules},
       {"data_directories", f.data_directories},
       {"relocs_lief_reads_other_bytes", f.relocs_lief_reads_other_bytes},
       {"relocs_irregular", f.relocs_irregular},
       {"relocs_lief_skips", f.relocs_lief_skips},
       {"tls_lief_skips", f.tls_lief_skips},
       {"relocs_zero_page_at", f.relocs_zero_page_at},
       {"imports_lief_reads_other_bytes", f.imports_lief_reads_other_bytes},
       {"exports_lief_reads_other_bytes", f.exports_lief_reads_other_bytes},
       {"tls_lief_reads_other_bytes", f.tls_lief_reads_other_bytes},
       {"resources", f.resources},
       {"resources_lief_reads_other_bytes", f.resources_lief_reads_other_bytes},
       {"rich_entries", f.rich_entries},
       {"signed", f.signed_}};
  if (f.security_cookie) j["security_cookie"] = *f.security_cookie;
  if (f.rich_key) j["rich_key"] = *f.rich_key;
}

void from_json(const nlohmann::json& j, Facts& f) {
  j.at("error").get_to(f.error);
  j.at("refused_by_header_rule").get_to(f.refused_by_header_rule);
  j.at("image_base").get_to(f.image_base);
  j.at("entry_point").get_to(f.entry_point);
  j.at("sections").get_to(f.sections);
  j.at("relocs").get_to(f.relocs);
  j.at("imports").get_to(f.imports);
  j.at("exports").get_to(f.exports);
  j.at("tls_callbacks").get_to(f.tls_callbacks);
  j.at("delay_import_modules").get_to(f.delay_import_modules);
  if (j.contains("security_cookie")) f.security_cookie = j["security_cookie"].get<uint64_t>();
  j.at("data_directories").get_to(f.data_directories);
  j.at("relocs_lief_reads_other_bytes").get_to(f.relocs_lief_reads_other_bytes);
  j.at("relocs_irregular").get_to(f.relocs_irregular);
  j.at("relocs_lief_skips").get_to(f.relocs_lief_skips);
  j.at("tls_lief_skips").get_to(f.tls_lief_skips);
  j.at("relocs_zero_page_at").get_to(f.relocs_zero_page_at);
  j.at("imports_lief_reads_other_bytes").get_to(f.imports_lief_reads_other_bytes);
  j.at("exports_lief_reads_other_bytes").get_to(f.exports_lief_reads_other_bytes);
  j.at("tls_lief_reads_other_bytes").get_to(f.tls_lief_reads_other_bytes);
  j.at("resources").get_to(f.resources);
  j.at("resources_lief_reads_other_bytes").get_to(f.resources_lief_reads_other_bytes);
  j.at("rich_entries").get_to(f.rich_entries);
  j.at("signed").get_to(f.signed_);
  if (j.contains("rich_key")) f.rich_key = j["rich_key"].get<uint32_t>();
}

std::string resource_fact(const pe::ResourceEntry& e, Bytes content) {
  return fmt::format("{} size {} code page {} md5 {}", printable(e.path()), e.size, e.code_page,
                     analysis::hex_digest(analysis::DigestKind::md5, content));
}

Facts facts_from_pemap(const Result<pe::Image>& parsed) {
  Facts f;
  if (!parsed) {
    f.error = parsed.error().to_string();
    f.refused_by_header_rule = !is_file_status(parsed.error().status);
    return f;
  }
  const pe::Image& image = *parsed;
  f.image_base = image.image_base();
  f.entry_point = image.optional_header().address_of_entry_point;
  for (const auto& s : image.sections())
    f.sections.push_back(
        {printable(s.name),
         printable(std::string_view(s.header.Name.data(), std::find(s.header.Name.begin(), s.header.Name.end(), '\0') -
                                                              s.header.Name.begin())),
         s.header.VirtualAddress, s.header.VirtualSize, s.header.PointerToRawData, s.header.SizeOfRawData,
         s.header.Characteristics});
  f.data_directories = static_cast<uint32_t>(image.directories().size());
  f.relocs_lief_skips = !lief_finds_section_for(image, pe::kDirBaseReloc);
  f.tls_lief_skips = !lief_finds_section_for(image, pe::kDirTls);
  if (auto rel = pe::parse_relocations(image)) {
    for (const auto& b : rel->blocks)
      b.for_each([&](const pe::RelocEntry& e) {
        if (b.page_rva == 0 && f.relocs_zero_page_at < 0) f.relocs_zero_page_at = static_cast<int64_t>(f.relocs.size());
        f.relocs.push_back({e.rva, e.type});
        // LIEF lists HIGHADJ's parameter slot as an entry of its own, relative to the block's page.
        if (e.highadj_param)  // the slot after HIGHADJ's, read as an entry
          f.relocs.push_back({b.page_rva + (*e.highadj_param & 0xfffu), static_cast<uint8_t>(*e.highadj_param >> 12)});
      });
    f.relocs_irregular = !rel->warnings.empty();
    // LIEF locates the directory once and steps through the blocks from there.
    const uint64_t dir = image.directory(pe::kDirBaseReloc).VirtualAddress;
    for (const auto& b : rel->blocks)
      if (!lief_reads_same_in_array(image, dir, b.rva - dir, 8 + b.slot_count * 2ull))
        f.relocs_lief_reads_other_bytes = true;
  } else {
    f.relocs_irregular = true;
  }
  if (auto imps = pe::parse_imports(image)) {
    for (const auto& m : imps->modules) {
      Facts::Module mod{printable(m.dll), {}};
      for (const auto& e : m.entries)
        mod.entries.push_back({printable(e.name), e.by_ordinal, e.ordinal, e.hint, e.iat_rva});
      mod.lief_skips_name = lief_skips_dll_name(m.dll);
      // LIEF locates the descriptor array and each thunk array once and steps through them.
      const uint64_t dir = image.directory(pe::kDirImport).VirtualAddress;
      const uint32_t table =
          m.descriptor.OriginalFirstThunk ? m.descriptor.OriginalFirstThunk : m.descriptor.FirstThunk;
      const unsigned ptr = image.pointer_size();
      mod.lief_reads_other_bytes =
          !lief_reads_same_in_array(image, dir, m.descriptor_rva - dir, sizeof(pe::ImportDescriptor)) ||
          !lief_reads_same(image, m.descriptor.Name, 1);
      for (size_t k = 0; k <= m.entries.size() && !mod.lief_reads_other_bytes; ++k)  // the terminator too
        mod.lief_reads_other_bytes = !lief_reads_same_in_array(image, table, k * ptr, ptr) ||
                                     !lief_reads_same_in_array(image, m.descriptor.FirstThunk, k * ptr, ptr);
      for (const auto& e : m.entries)
        if (!e.by_ordinal && !lief_reads_same(image, e.name_rva, 2)) mod.lief_reads_other_bytes = true;
      if (mod.lief_reads_other_bytes) f.imports_lief_reads_other_bytes = true;
      f.imports.push_back(std::move(mod));
    }
  }
  if (auto exps = pe::parse_exports(image)) {
    for (const auto& e : exps->entries)
      f.exports.push_back({e.ordinal, e.rva, printable(e.name), printable(e.forwarder)});
    if (exps->present) {
      const auto& d = exps->directory;
      f.exports_lief_reads_other_bytes = !lief_reads_same(image, image.directory(pe::kDirExport).VirtualAddress, 40) ||
                                         !lief_reads_same(image, d.AddressOfFunctions, 4) ||
                                         (d.NumberOfNames && !lief_reads_same(image, d.AddressOfNames, 4));
    }
  }
  if (auto tls = pe::parse_tls(image)) {
    f.tls_callbacks = tls->callbacks;
    if (tls->present) {
      const auto cb = image.va_to_rva(tls->address_of_callbacks);
      f.tls_lief_reads_other_bytes = !lief_reads_same(image, image.directory(pe::kDirTls).VirtualAddress, 24) ||
                                     (cb && !lief_reads_same(image, *cb, image.pointer_size()));
    }
  }
  if (auto lc = pe::parse_load_config(image)) f.security_cookie = lc->security_cookie();
  if (auto di = pe::parse_delay_imports(image)) f.delay_import_modules = di->modules.size();
  if (auto res = pe::parse_resources(image))
    for (const auto& e : res->entries) {
      const auto bytes = pe::resource_bytes(image, e);
      f.resources.push_back(resource_fact(e, bytes ? Bytes(*bytes) : Bytes{}));
      if (!lief_reads_same(image, e.rva, e.size)) f.resources_lief_reads_other_bytes = true;
    }
  if (auto rich = pe::parse_rich_header(image)) {
    f.rich_key = rich->key;
    for (const auto& e : rich->entries) f.rich_entries.push_back({e.product, e.build, e.count});
  }
  if (auto certs = pe::parse_certificate_table(image))
    f.signed_ = std::any_of(certs->entries.begin(), certs->entries.end(),
                            [](const pe::Certificate& c) { return c.type == pe::kWinCertTypePkcsSignedData; });
  return f;
}

}  // namespace pemap::inspect
