// Text output: aligned columns, hex addresses, decoded flags, totals.
#include "render.hpp"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <ctime>
#include <functional>
#include <map>

#include "analysis/demangle.hpp"
#include "json_text.hpp"
#include "pe/exports.hpp"
#include "pe/imports.hpp"
#include "pe/names.hpp"
#include "pe/relocs.hpp"
#include "resources_view.hpp"
#include "security_summary.hpp"
#include "table.hpp"

namespace pemap::inspect {
namespace {

using Align = Table::Align;

std::string hex(const json& v) { return v.is_null() ? "-" : fmt::format("{:#x}", v.get<uint64_t>()); }
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

// A TimeDateStamp as a date: seconds since 1970 (a reproducible build writes a hash there instead, which reads as
// some date all the same).
std::string utc_time(uint64_t seconds) {
  const auto t = static_cast<std::time_t>(seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  return fmt::format("({:%Y-%m-%d %H:%M:%S} UTC)", tm);
}

std::string field_line(const std::string& name, const std::string& value) {
  return fmt::format("  {:<28} {}\n", name, value);
}

}  // namespace

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
  out += field_line("Checksum", str(d["checksum"]));
  if (d.contains("dotnet"))
    out += field_line(".NET", fmt::format("CLR header: metadata {}, {}", str(d["dotnet"]["metadata_version"]),
                                          joined(d["dotnet"]["flags"])));
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
  out += render_security(d["security"]);
  return out;
}

std::string render_headers(const json& d) {
  std::string out;
  const auto& dos = d["dos_header"];
  out += "DOS header\n";
  out += field_line("e_magic", hex(dos["e_magic"]));
  out += field_line("e_lfanew", hex(dos["e_lfanew"]));
  if (d.contains("rich_header")) {
    const auto& r = d["rich_header"];
    out += fmt::format("Rich header (offset {}, {} bytes, key {}, checksum {})\n", hex(r["offset"]),
                       r["size"].get<uint64_t>(), hex(r["key"]),
                       r["valid"].get<bool>() ? "valid" : "invalid: the key is not the checksum " + hex(r["checksum"]));
    Table t({{"Product", Align::right}, {"Tool"}, {"Build", Align::right}, {"Count", Align::right}});
    for (const auto& e : r["entries"])
      t.add({hex(e["product"]), str(e["product_name"]), std::to_string(e["build"].get<uint64_t>()),
             std::to_string(e["count"].get<uint64_t>())});
    out += t.render();
  }
  const auto& fh = d["file_header"];
  out += fmt::format("COFF file header (offset {})\n", hex(fh["offset"]));
  out += field_line("Machine", fmt::format("{} {}", hex(fh["Machine"]), str(fh["machine_name"])));
  for (const char* k :
       {"NumberOfSections", "TimeDateStamp", "PointerToSymbolTable", "NumberOfSymbols", "SizeOfOptionalHeader"})
    out += field_line(k, num(k, fh[k]) + (std::string_view(k) == "TimeDateStamp" && fh[k].get<uint64_t>() != 0
                                              ? " " + utc_time(fh[k].get<uint64_t>())
                                              : std::string()));
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
  const auto& cs = d["checksum"];
  out += field_line("CheckSum computed",
                    cs["computed"].is_null()
                        ? std::string("not computed: the file is over 8 MiB (pemap hashes computes it)")
                        : fmt::format("{} ({})", hex(cs["computed"]), str(cs["status"])));
  out += "Data directories\n";
  Table t({{"#", Align::right}, {"Name"}, {"RVA", Align::right}, {"Size", Align::right}, {"Section"}});
  for (const auto& dir : d["data_directories"])
    t.add({std::to_string(dir["index"].get<int>()), str(dir["name"]), hex(dir["rva"]), hex(dir["size"]),
           str(dir["section"])});
  out += t.render();
  if (d.contains("load_config")) {
    out += "Load config\n";
    for (const auto& [k, v] : d["load_config"].items()) {
      std::string value = num(k, v);
      if (k == "TimeDateStamp" && v.get<uint64_t>() != 0) value += " " + utc_time(v.get<uint64_t>());
      out += field_line(k, value);
    }
    const auto& g = d["guard"];
    out += field_line("GuardFlags (decoded)", joined(g["flags"]));
    out += field_line("CFG function table", fmt::format("{} functions", g["cf_functions"].size()));
    out += field_line("SafeSEH handler table", fmt::format("{} handlers", g["se_handlers"].size()));
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
  if (d.contains("clr")) {
    const auto& c = d["clr"];
    out += "CLR header (.NET)\n";
    out += field_line("Runtime version", str(c["runtime_version"]));
    out += field_line("Flags", fmt::format("{} {}", hex(c["flags"]), joined(c["flag_names"])));
    if (c.contains("entry_point_token")) out += field_line("Entry point token", hex(c["entry_point_token"]));
    if (c.contains("entry_point_rva")) out += field_line("Entry point RVA", hex(c["entry_point_rva"]));
    for (const char* k : {"metadata", "resources", "strong_name_signature", "vtable_fixups"})
      out += field_line(k, fmt::format("RVA {} size {}", hex(c[k]["rva"]), hex(c[k]["size"])));
    if (c.contains("metadata_root")) {
      const auto& m = c["metadata_root"];
      out += field_line("Metadata version",
                        fmt::format("{} (root {}.{})", str(m["version"]), m["major_version"].get<uint64_t>(),
                                    m["minor_version"].get<uint64_t>()));
      std::string streams;
      for (const auto& s : m["streams"])
        streams +=
            fmt::format("{}{} ({} bytes)", streams.empty() ? "" : ", ", str(s["name"]), s["size"].get<uint64_t>());
      out += field_line("Streams", streams.empty() ? "-" : streams);
    }
  }
  return out;
}

std::string render_tls(const json& d) {
  if (!d["present"].get<bool>()) return "  no TLS directory\n";
  std::string out;
  out += field_line("Directory RVA", hex(d["directory_rva"]));
  for (const char* k :
       {"start_of_raw_data", "end_of_raw_data", "address_of_index", "address_of_callbacks", "size_of_zero_fill"})
    out += field_line(k, hex(d[k]));
  // Only bits 20-23 mean anything: IMAGE_SCN_ALIGN_*, the alignment of the TLS template, 2^(n-1) bytes.
  const uint64_t ch = d["characteristics"].get<uint64_t>();
  const uint64_t align = (ch >> 20) & 0xF;
  out += field_line("characteristics",
                    hex(d["characteristics"]) +
                        (align ? fmt::format(" (ALIGN_{}BYTES)", uint64_t{1} << (align - 1)) : std::string()));
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

// Streamed text: the same lines as above, from the parser's results.
namespace pemap::inspect {
namespace {

// What str(json(printable(raw))) gives: the name made printable, "" shown as a pair of quotes.
std::string name_text(std::string_view raw) {
  std::string s = printable(raw);
  return s.empty() ? "\"\"" : s;
}
std::string nonempty(std::string s) { return s.empty() ? "\"\"" : s; }
std::string hexu(uint64_t v) { return fmt::format("{:#x}", v); }
std::string hex8u(uint64_t v) { return fmt::format("{:08x}", v); }

// A table cell formatted on the stack: rows of the long tables are made twice (see write_table) and
// hundreds of thousands of them (bigreloc.dll) should cost no allocation.
class Cell {
 public:
  static Cell hex(uint64_t v, std::string_view prefix = "0x") {  // as fmt's {:#x}
    Cell c(prefix);
    c.n_ = static_cast<size_t>(std::to_chars(c.buf_ + c.n_, c.buf_ + sizeof c.buf_, v, 16).ptr - c.buf_);
    return c;
  }
  static Cell dec(uint64_t v, std::string_view prefix = "") {
    Cell c(prefix);
    c.n_ = static_cast<size_t>(std::to_chars(c.buf_ + c.n_, c.buf_ + sizeof c.buf_, v).ptr - c.buf_);
    return c;
  }
  operator std::string_view() const { return {buf_, n_}; }

 private:
  explicit Cell(std::string_view prefix) : n_(prefix.size()) { prefix.copy(buf_, prefix.size()); }
  char buf_[32];
  size_t n_;
};

// name_text() without a copy for the common name that printable() leaves as it is.
std::string_view name_cell(std::string_view raw, std::string& scratch) {
  return raw.empty() ? std::string_view("\"\"") : printable_view(raw, scratch);
}

// A section column: the section's name, "(headers)", or "-" outside every section.
std::string section_text(const pe::Image& image, uint64_t rva) {
  const auto s = section_ref(image, rva);
  return !s ? "-" : s->empty() ? "\"\"" : *s;
}

// An import list in two walks of the directory, the first measuring each module's table, the second printing
// it: a list of 590,000 entries (corkami manyimportsW7.exe) is held as one small shape per module.
struct ImportTableShape {
  uint64_t count = 0;
  uint32_t max_iat = 0;
  uint16_t max_hint = 0;
};

// Each module's shape; none when the directory cannot be read (its error goes to `w`).
template <class Module>
std::optional<std::vector<ImportTableShape>> measure_imports(const pe::Image& image, Warnings& w) {
  std::vector<ImportTableShape> shapes;
  pe::ImportReader<Module> reader(image);
  while (reader.next_module()) {
    auto& s = shapes.emplace_back();
    while (auto e = reader.next_entry()) {
      ++s.count;
      s.max_iat = std::max(s.max_iat, e->iat_rva);
      if (!e->by_ordinal) s.max_hint = std::max(s.max_hint, e->hint);
    }
  }
  if (!w.parsed(reader.finish())) return std::nullopt;
  return shapes;
}

// The lines write_table gives for {"IAT RVA" right, "Hint" right, "Name or ordinal"}, at widths known from the
// shape: "  " + IAT cell + "  " + hint cell + "  " + name, trailing spaces trimmed.
void write_import_row(const pe::ImportEntry& e, size_t iat_width, size_t hint_width, std::string& scratch,
                      Demangle demangle, TextOut& out) {
  const Cell iat = Cell::hex(e.iat_rva);
  const Cell hint = Cell::dec(e.hint);
  const Cell ordinal = Cell::dec(e.ordinal, "#");
  const std::string_view hint_cell = e.by_ordinal ? std::string_view() : std::string_view(hint);
  const auto plain = demangle == Demangle::yes && !e.by_ordinal ? analysis::demangle(e.name) : std::nullopt;
  const std::string_view name = e.by_ordinal ? std::string_view(ordinal)
                                : plain      ? std::string_view(*plain)
                                             : name_cell(e.name, scratch);
  char* const start = out.reserve(2 + iat_width + 2 + hint_width + 2 + name.size() + 1);
  char* p = std::fill_n(start, 2 + iat_width - std::string_view(iat).size(), ' ');
  p = std::copy_n(std::string_view(iat).data(), std::string_view(iat).size(), p);
  p = std::fill_n(p, 2 + hint_width - hint_cell.size(), ' ');
  p = std::copy(hint_cell.begin(), hint_cell.end(), p);
  *p++ = ' ', *p++ = ' ';
  p = std::copy(name.begin(), name.end(), p);
  while (p != start && p[-1] == ' ') --p;
  *p++ = '\n';
  out.commit(p);
}

// Returns whether it wrote anything: the modules, or that the directory could not be read; its warnings go to
// `warnings`.
template <class Module>
bool write_import_list(const pe::Image& image, const char* title, TextOut& out, Warnings& w, Demangle demangle) {
  const auto measured = measure_imports<Module>(image, w);
  if (!measured) {
    out << fmt::format("  {} directory unreadable (see the warnings)\n", title);
    return true;
  }
  const std::vector<ImportTableShape>& shapes = *measured;
  if (shapes.empty()) return false;
  pe::ImportReader<Module> reader(image);
  std::string scratch;
  uint64_t total = 0;
  for (const ImportTableShape& s : shapes) {
    const auto m = reader.next_module();
    if (!m) break;
    out << fmt::format("{} {} ({} functions)\n", title, name_text(m->dll), s.count);
    const size_t iat_width = std::max<size_t>(7, s.count ? std::string_view(Cell::hex(s.max_iat)).size() : 0);
    const size_t hint_width = std::max<size_t>(4, std::string_view(Cell::dec(s.max_hint)).size());
    out << fmt::format("  {:>{}}  {:>{}}  Name or ordinal\n", "IAT RVA", iat_width, "Hint", hint_width);
    while (auto e = reader.next_entry()) write_import_row(*e, iat_width, hint_width, scratch, demangle, out);
    total += s.count;
  }
  out << fmt::format("  total: {} functions from {} modules\n", total, shapes.size());
  return true;
}

// One block's table through the general table writer: any block, HIGHADJ's parameter included.
void write_reloc_block(const pe::RelocBlock& b, uint16_t machine, uint64_t (&per_type)[16], TextOut& out) {
  out << fmt::format("block page {:#x} size {:#x} ({} entries)\n", b.page_rva, b.size_of_block, b.entry_count());
  bool counting = false;  // the second pass prints, and counts the types
  write_table(out, {{"RVA", Align::right}, {"Type"}, {"Extra"}}, [&](auto&& emit) {
    b.for_each([&](const pe::RelocEntry& e) {
      emit({Cell::hex(e.rva), pe::reloc_type_name(e.type, machine),
            e.highadj_param ? std::string_view(Cell::hex(*e.highadj_param, "low 0x")) : std::string_view()});
      if (counting) ++per_type[e.type & 0xf];
    });
    counting = true;
  });
}

// The same lines as write_reloc_block, for a block of a page at or above 0x1000 without HIGHADJ (every
// block of a real image), written straight into the output buffer: a DLL can hold millions of entries,
// and listing them is most of `pemap all`'s time on one. Each row is "  0x" + the page's digits + the
// 3 digits of the offset + "  " + the type's name: one row per type is made once, then copied and patched.
bool write_reloc_block_fast(const pe::RelocBlock& b, uint16_t machine, uint64_t (&per_type)[16], TextOut& out) {
  if (b.slot_count == 0 || b.page_rva < 0x1000 || b.page_rva % 0x1000) return false;
  const uint16_t types = b.types();
  if (types & (1u << pe::reloc_type::highadj)) return false;
  const std::string page = fmt::format("{:x}", b.page_rva >> 12);
  size_t type_width = 4;  // "Type"
  for (uint8_t t = 0; t < 16; ++t)
    if (types & (1u << t)) type_width = std::max(type_width, pe::reloc_type_name(t, machine).size());
  constexpr size_t kRow = 48;  // the longest row: "  0x" + 8 digits + "  " + a 19-letter name + "\n"
  char rows[16][kRow];
  uint8_t row_size[16] = {};
  for (uint8_t t = 0; t < 16; ++t)
    if (types & (1u << t)) {
      const std::string row = fmt::format("  0x{}000  {}\n", page, pe::reloc_type_name(t, machine));
      row.copy(rows[t], kRow);
      row_size[t] = static_cast<uint8_t>(std::min(row.size(), kRow));
    }
  out << fmt::format("block page {:#x} size {:#x} ({} entries)\n", b.page_rva, b.size_of_block, b.slot_count);
  out << fmt::format("  {:>{}}  {:<{}}  Extra\n", "RVA", 2 + page.size() + 3, "Type", type_width);
  static constexpr char digits[] = "0123456789abcdef";
  const size_t at = 4 + page.size();  // the offset's first digit
  char* p = out.reserve(size_t{b.slot_count} * kRow);
  for (uint32_t i = 0; i < b.slot_count; ++i) {
    const unsigned t = b.type(i), offset = b.offset(i);
    std::memcpy(p, rows[t], kRow);
    p[at] = digits[offset >> 8], p[at + 1] = digits[(offset >> 4) & 0xf], p[at + 2] = digits[offset & 0xf];
    p += row_size[t];
    ++per_type[t];
  }
  out.commit(p);
  return true;
}

}  // namespace

void write_sections(const pe::Image& image, TextOut& out, Warnings& w) {
  write_table(out,
              {{"#", Align::right},
               {"Name"},
               {"VirtAddr", Align::right},
               {"VirtSize", Align::right},
               {"RawPtr", Align::right},
               {"RawSize", Align::right},
               {"Flags"},
               {"Characteristics"}},
              [&](auto&& emit) {
                for (const auto& s : image.sections()) {
                  const auto& h = s.header;
                  emit({std::to_string(s.index), name_text(s.name), hex8u(h.VirtualAddress), hex8u(h.VirtualSize),
                        hex8u(h.PointerToRawData), hex8u(h.SizeOfRawData),
                        fmt::format("{} {}", nonempty(pe::section_access(h.Characteristics)),
                                    nonempty(pe::section_content(h.Characteristics))),
                        hex8u(h.Characteristics)});
                }
              });
  uint64_t vtotal = 0, rtotal = 0;
  for (const auto& s : image.sections()) vtotal += s.header.VirtualSize, rtotal += s.header.SizeOfRawData;
  const auto& oh = image.optional_header();
  out << fmt::format("  {} sections, {:#x} bytes virtual, {:#x} bytes raw; SizeOfImage {:#x}, SizeOfHeaders {:#x}{}\n",
                     image.sections().size(), vtotal, rtotal, uint64_t{oh.size_of_image}, uint64_t{oh.size_of_headers},
                     image.is_flat() ? ", flat image" : "");
  if (auto ov = image.overlay_offset())
    out << fmt::format("  overlay: {} bytes at offset {:#x}\n", image.file().size() - *ov, *ov);
  w.add(image.warnings());
}

void write_imports(const pe::Image& image, TextOut& out, Warnings& w, Demangle demangle) {
  if (!write_import_list<pe::ImportModule>(image, "import", out, w, demangle)) out << "  no imports\n";
  write_import_list<pe::DelayImportModule>(image, "delay-load import", out, w, demangle);
  const auto bound = pe::parse_bound_imports(image);
  if (const auto* bi = w.parsed(bound))
    for (const auto& b : bi->modules) {
      out << fmt::format("bound import {} timestamp {}\n", name_text(b.dll), hexu(b.time_date_stamp));
      for (const auto& f : b.forwarders)
        out << fmt::format("  forwarder ref {} timestamp {}\n", name_text(f.dll), hexu(f.time_date_stamp));
    }
}

void write_exports(const pe::Image& image, TextOut& out, Warnings& w, Demangle demangle) {
  // Read twice, as write_table asks for its rows twice: no entry is kept (a DLL can export millions).
  auto reader = pe::ExportReader::open(image);
  if (!reader) {
    w.add(reader.error());
    out << "  export directory unreadable (see the warnings)\n";
    return;
  }
  const pe::Exports& header = reader->header();
  if (!header.present) {
    out << "  no exports\n";
    return;
  }
  out << fmt::format("exports of {} (ordinal base {}, {} functions, {} names)\n", name_text(header.dll_name),
                     header.directory.Base, header.directory.NumberOfFunctions, header.directory.NumberOfNames);
  uint64_t count = 0, fwd = 0, noname = 0;
  std::optional<pe::ExportReader> again;  // the second pass; the first reads `reader` to its end
  bool first = true;
  write_table(out, {{"Ordinal", Align::right}, {"RVA", Align::right}, {"Name"}, {"Target"}}, [&](auto&& emit) {
    pe::ExportReader& rows = first ? *reader : again.emplace(*pe::ExportReader::open(image));
    std::string scratch;
    std::optional<std::string> plain;
    while (auto e = rows.next()) {
      if (demangle == Demangle::yes) plain = analysis::demangle(e->name);
      emit({Cell::dec(e->ordinal), Cell::hex(e->rva),
            e->name.empty() ? std::string_view("(no name)")
            : plain         ? std::string_view(*plain)
                            : name_cell(e->name, scratch),
            e->is_forwarder() ? "-> " + name_text(e->forwarder) : section_text(image, e->rva)});
      if (first) ++count, fwd += e->is_forwarder(), noname += e->name.empty();
    }
    if (first) w.add(rows.finish().warnings);
    first = false;
  });
  out << fmt::format("  total: {} exports, {} forwarded, {} by ordinal only\n", count, fwd, noname);
}

void write_relocs(const pe::Image& image, TextOut& out, Warnings& w, RelocRows rows) {
  const auto rel = pe::parse_relocations(image);
  const auto* r = w.parsed(rel);
  if (!r) {
    out << "  base relocation directory unreadable (see the warnings)\n";
    return;
  }
  uint64_t per_type_code[16] = {};  // by the 4-bit type, named once at the end
  for (const auto& b : r->blocks)
    if (rows == RelocRows::general || !write_reloc_block_fast(b, r->machine, per_type_code, out))
      write_reloc_block(b, r->machine, per_type_code, out);
  std::map<std::string, uint64_t> per_type;
  uint64_t total = 0;
  for (uint8_t t = 0; t < 16; ++t)
    if (per_type_code[t])
      per_type[std::string(pe::reloc_type_name(t, r->machine))] += per_type_code[t], total += per_type_code[t];
  std::string types;
  for (const auto& [k, v] : per_type) types += fmt::format("{}{} {}", types.empty() ? "" : ", ", k, v);
  out << fmt::format("  total: {} entries in {} blocks{}{}\n", total, r->blocks.size(), types.empty() ? "" : ": ",
                     types);
}

void write_all(const pe::Image& image, TextOut& out, Warnings& w) {
  // Each part's warnings are kept once: image warnings come with both headers and sections.
  auto part = [&](const char* title, auto write) {
    Warnings mine;
    if (title) out << title << "\n";
    write(image, out, mine);
    w.merge(mine);
  };
  part(nullptr, write_headers);
  part("Sections", write_sections);
  part("Imports", [](const pe::Image& i, TextOut& o, Warnings& m) { write_imports(i, o, m); });
  part("Exports", [](const pe::Image& i, TextOut& o, Warnings& m) { write_exports(i, o, m); });
  part("Base relocations", [](const pe::Image& i, TextOut& o, Warnings& m) { write_relocs(i, o, m); });
  part("TLS", write_tls);
  part("Resources", write_resources);
}

void write_info(const pe::Image& image, TextOut& out, Warnings& w) {
  TreeBuilder t;
  model_info(image, t, w);
  out << render_info(t.document());
}

void write_headers(const pe::Image& image, TextOut& out, Warnings& w) {
  TreeBuilder t;
  model_headers(image, t, w);
  out << render_headers(t.document());
}

void write_tls(const pe::Image& image, TextOut& out, Warnings& w) {
  TreeBuilder t;
  model_tls(image, t, w);
  out << render_tls(t.document());
}

}  // namespace pemap::inspect
