// Text output: aligned columns, hex addresses, decoded flags, totals.
#include "render.hpp"

#include <fmt/format.h>

#include "table.hpp"

namespace pemap::inspect {
namespace {

using Align = Table::Align;

std::string hex(const json& v) { return v.is_null() ? "-" : fmt::format("{:#x}", v.get<uint64_t>()); }
std::string hex8(const json& v) { return fmt::format("{:08x}", v.get<uint64_t>()); }
std::string str(const json& v) {
  if (v.is_null()) return "-";
  if (!v.is_string()) return v.dump();
  return v.get<std::string>().empty() ? "\"\"" : v.get<std::string>();
}
std::string joined(const json& arr) {
  std::string out;
  for (const auto& s : arr) out += (out.empty() ? "" : " ") + s.get<std::string>();
  return out.empty() ? "-" : out;
}
// Counts and version numbers read better in decimal; addresses, sizes and flags stay hex.
bool decimal_field(std::string_view name) {
  return name.starts_with("NumberOf") || name.starts_with("Major") || name.starts_with("Minor");
}
std::string num(std::string_view name, const json& v) {
  return decimal_field(name) ? std::to_string(v.get<uint64_t>()) : hex(v);
}

std::string field_line(const std::string& name, const std::string& value) {
  return fmt::format("  {:<28} {}\n", name, value);
}

}  // namespace

std::string render_warnings(const json& doc) {
  std::string out;
  if (doc.contains("warnings"))
    for (const auto& w : doc["warnings"]) out += "warning: " + w["text"].get<std::string>() + "\n";
  return out;
}

std::string render_info(const json& d) {
  std::string out;
  out += field_line("Format", fmt::format("{} {} {}", str(d["format"]), str(d["machine"]), str(d["kind"])));
  out += field_line("Subsystem", str(d["subsystem"]));
  if (d.contains("dll_name")) out += field_line("DLL name", str(d["dll_name"]));
  out += field_line("File size", fmt::format("{} bytes", d["size"].get<uint64_t>()));
  out += field_line("Image base", hex(d["image_base"]));
  out += field_line("Size of image", hex(d["size_of_image"]));
  out += field_line("Entry point", fmt::format("RVA {} ({})", hex(d["entry_point"]), str(d["entry_section"])));
  out += field_line("Sections", fmt::format("{}{}", d["sections"].get<uint64_t>(),
                                            d["flat"].get<bool>() ? " (flat: SectionAlignment < page)" : ""));
  out += field_line("DLL characteristics", joined(d["dll_flags"]));
  out += field_line("Relocations stripped", d["relocs_stripped"].get<bool>() ? "yes" : "no");
  const auto& c = d["counts"];
  auto count = [&](const char* k) { return c.contains(k) ? std::to_string(c[k].get<uint64_t>()) : "?"; };
  out += field_line("Imports",
                    fmt::format("{} functions from {} modules", count("import_functions"), count("import_modules")));
  out += field_line("Delay-load imports", fmt::format("{} modules", count("delay_import_modules")));
  out += field_line("Exports", count("exports"));
  out += field_line("Base relocations", fmt::format("{} in {} blocks", count("relocs"), count("reloc_blocks")));
  out += field_line("TLS callbacks", count("tls_callbacks"));
  if (d.contains("overlay"))
    out += field_line("Overlay", fmt::format("{} bytes at offset {}", d["overlay"]["size"].get<uint64_t>(),
                                             hex(d["overlay"]["offset"])));
  if (d.contains("pdb")) out += field_line("PDB", str(d["pdb"]));
  return out;
}

std::string render_headers(const json& d) {
  std::string out;
  const auto& dos = d["dos_header"];
  out += "DOS header\n";
  out += field_line("e_magic", hex(dos["e_magic"]));
  out += field_line("e_lfanew", hex(dos["e_lfanew"]));
  const auto& fh = d["file_header"];
  out += fmt::format("COFF file header (offset {})\n", hex(fh["offset"]));
  out += field_line("Machine", fmt::format("{} {}", hex(fh["Machine"]), str(fh["machine_name"])));
  for (const char* k :
       {"NumberOfSections", "TimeDateStamp", "PointerToSymbolTable", "NumberOfSymbols", "SizeOfOptionalHeader"})
    out += field_line(k, num(k, fh[k]));
  out += field_line("Characteristics", fmt::format("{} {}", hex(fh["Characteristics"]), joined(fh["flags"])));
  const auto& oh = d["optional_header"];
  out += fmt::format("Optional header (offset {}, {})\n", hex(oh["offset"]), str(oh["format"]));
  for (const auto& [k, v] : oh.items()) {
    if (k == "offset" || k == "format" || k == "subsystem_name" || k == "dll_flags") continue;
    std::string value = num(k, v);
    if (k == "Subsystem") value += " " + str(oh["subsystem_name"]);
    if (k == "DllCharacteristics") value += " " + joined(oh["dll_flags"]);
    out += field_line(k, value);
  }
  out += "Data directories\n";
  Table t({{"#", Align::right}, {"Name"}, {"RVA", Align::right}, {"Size", Align::right}, {"Section"}});
  for (const auto& dir : d["data_directories"])
    t.add({std::to_string(dir["index"].get<int>()), str(dir["name"]), hex(dir["rva"]), hex(dir["size"]),
           str(dir["section"])});
  out += t.render();
  if (d.contains("load_config")) {
    out += "Load config\n";
    for (const auto& [k, v] : d["load_config"].items()) out += field_line(k, num(k, v));
  }
  if (d.contains("debug")) {
    out += "Debug directory\n";
    Table dt({{"Type"}, {"Size", Align::right}, {"RVA", Align::right}, {"Offset", Align::right}, {"Detail"}});
    for (const auto& e : d["debug"]) {
      std::string detail;
      if (e.contains("codeview"))
        detail = fmt::format("{} {{{}}} age {} {}", str(e["codeview"]["signature"]), str(e["codeview"]["guid"]),
                             e["codeview"]["age"].get<uint64_t>(), str(e["codeview"]["pdb"]));
      dt.add({str(e["type_name"]), hex(e["size"]), hex(e["rva"]), hex(e["offset"]), detail});
    }
    out += dt.render();
  }
  return out;
}

std::string render_sections(const json& d) {
  Table t({{"#", Align::right},
           {"Name"},
           {"VirtAddr", Align::right},
           {"VirtSize", Align::right},
           {"RawPtr", Align::right},
           {"RawSize", Align::right},
           {"Flags"},
           {"Characteristics"}});
  uint64_t vtotal = 0, rtotal = 0;
  for (const auto& s : d["sections"]) {
    t.add({std::to_string(s["index"].get<int>()), str(s["name"]), hex8(s["virtual_address"]), hex8(s["virtual_size"]),
           hex8(s["raw_pointer"]), hex8(s["raw_size"]), fmt::format("{} {}", str(s["access"]), str(s["content"])),
           hex8(s["characteristics"])});
    vtotal += s["virtual_size"].get<uint64_t>();
    rtotal += s["raw_size"].get<uint64_t>();
  }
  std::string out = t.render();
  out += fmt::format("  {} sections, {:#x} bytes virtual, {:#x} bytes raw; SizeOfImage {:#x}, SizeOfHeaders {:#x}{}\n",
                     d["sections"].size(), vtotal, rtotal, d["size_of_image"].get<uint64_t>(),
                     d["size_of_headers"].get<uint64_t>(), d["flat"].get<bool>() ? ", flat image" : "");
  if (d.contains("overlay"))
    out += fmt::format("  overlay: {} bytes at offset {:#x}\n", d["overlay"]["size"].get<uint64_t>(),
                       d["overlay"]["offset"].get<uint64_t>());
  return out;
}

namespace {

std::string render_import_list(const json& modules, const char* title) {
  std::string out;
  uint64_t total = 0;
  for (const auto& m : modules) {
    out += fmt::format("{} {} ({} functions)\n", title, str(m["dll"]), m["entries"].size());
    Table t({{"IAT RVA", Align::right}, {"Hint", Align::right}, {"Name or ordinal"}});
    for (const auto& e : m["entries"]) {
      if (e.contains("ordinal"))
        t.add({hex(e["iat_rva"]), "", fmt::format("#{}", e["ordinal"].get<uint64_t>())});
      else
        t.add({hex(e["iat_rva"]), std::to_string(e["hint"].get<uint64_t>()), str(e["name"])});
    }
    out += t.render();
    total += m["entries"].size();
  }
  if (!modules.empty()) out += fmt::format("  total: {} functions from {} modules\n", total, modules.size());
  return out;
}

}  // namespace

std::string render_imports(const json& d) {
  std::string out = render_import_list(d["imports"], "import");
  if (d["imports"].empty()) out += "  no imports\n";
  out += render_import_list(d["delay_imports"], "delay-load import");
  for (const auto& b : d["bound_imports"]) {
    out += fmt::format("bound import {} timestamp {}\n", str(b["dll"]), hex(b["time_date_stamp"]));
    for (const auto& f : b["forwarders"])
      out += fmt::format("  forwarder ref {} timestamp {}\n", str(f["dll"]), hex(f["time_date_stamp"]));
  }
  return out;
}

std::string render_exports(const json& d) {
  if (!d.contains("dll_name")) return "  no exports\n";
  std::string out = fmt::format("exports of {} (ordinal base {}, {} functions, {} names)\n", str(d["dll_name"]),
                                d["ordinal_base"].get<uint64_t>(), d["number_of_functions"].get<uint64_t>(),
                                d["number_of_names"].get<uint64_t>());
  Table t({{"Ordinal", Align::right}, {"RVA", Align::right}, {"Name"}, {"Target"}});
  uint64_t fwd = 0, noname = 0;
  for (const auto& e : d["exports"]) {
    std::string target = e.contains("forwarder") ? "-> " + str(e["forwarder"]) : str(e["section"]);
    if (e.contains("forwarder")) ++fwd;
    if (e["name"].is_null()) ++noname;
    t.add({std::to_string(e["ordinal"].get<uint64_t>()), hex(e["rva"]),
           e["name"].is_null() ? "(no name)" : str(e["name"]), target});
  }
  out += t.render();
  out += fmt::format("  total: {} exports, {} forwarded, {} by ordinal only\n", d["exports"].size(), fwd, noname);
  return out;
}

std::string render_relocs(const json& d) {
  std::string out;
  for (const auto& b : d["blocks"]) {
    out += fmt::format("block page {} size {} ({} entries)\n", hex(b["page_rva"]), hex(b["size_of_block"]),
                       b["entries"].size());
    Table t({{"RVA", Align::right}, {"Type"}, {"Extra"}});
    for (const auto& e : b["entries"])
      t.add({hex(e["rva"]), str(e["type"]), e.contains("highadj_low") ? "low " + hex(e["highadj_low"]) : ""});
    out += t.render();
  }
  std::string types;
  for (const auto& [k, v] : d["per_type"].items())
    types += fmt::format("{}{} {}", types.empty() ? "" : ", ", k, v.get<uint64_t>());
  out += fmt::format("  total: {} entries in {} blocks{}{}\n", d["total"].get<uint64_t>(), d["blocks"].size(),
                     types.empty() ? "" : ": ", types);
  return out;
}

std::string render_tls(const json& d) {
  if (!d["present"].get<bool>()) return "  no TLS directory\n";
  std::string out;
  out += field_line("Directory RVA", hex(d["directory_rva"]));
  for (const char* k : {"start_of_raw_data", "end_of_raw_data", "address_of_index", "address_of_callbacks",
                        "size_of_zero_fill", "characteristics"})
    out += field_line(k, hex(d[k]));
  Table t({{"#", Align::right}, {"Callback VA", Align::right}, {"RVA", Align::right}, {"Section"}});
  int i = 0;
  for (const auto& c : d["callbacks"])
    t.add({std::to_string(i++), hex(c["va"]), c.contains("rva") ? hex(c["rva"]) : "outside image",
           c.contains("section") ? str(c["section"]) : "-"});
  out += t.render();
  out += fmt::format("  total: {} callbacks\n", d["callbacks"].size());
  return out;
}

}  // namespace pemap::inspect
