// map and diff-views: the file mapped for real, as an image or as data.
#include "views.hpp"

#include <fmt/format.h>

#include <filesystem>
#include <iostream>

#include "address_space_picture.hpp"
#include "json_text.hpp"
#include "memory/image_section.hpp"
#include "memory/section.hpp"
#include "memory/virtual_query.hpp"
#include "memory/win32.hpp"
#include "model.hpp"
#include "picture_page.hpp"
#include "table.hpp"

namespace pemap::inspect {
namespace {

// Bytes of the image in [rva, rva+len) that differ from the file at [raw, raw+len) (past the file: zero).
uint64_t count_differing(Bytes file, const ImageReader& read, uint64_t rva, uint64_t raw, uint64_t len) {
  const auto image = read(rva, len);
  uint64_t n = 0;
  for (uint64_t k = 0; k < image.size(); ++k) n += image[k] != (raw + k < file.size() ? file[raw + k] : std::byte{0});
  return n;
}

void print_range(Printer& p, uint64_t rva, uint64_t size, uint64_t differing, std::string_view reason) {
  p.record({}, {Field::num("rva", rva), Field::num("size", size), Field::num("differing_bytes", differing),
                Field::word("reason", reason)});
}

}  // namespace

// Each range where Windows' layout departs from reading the raw data at PointerToRawData, with how many
// of its bytes really differ.
void print_diff_views(Printer& p, const pe::Image& image, const ImageReader& view) {
  p.begin_array("sections");
  const Bytes file = image.file();
  const uint64_t header_end = std::min<uint64_t>(image.header_size(), pe::kPageSize);
  p.begin_object();
  p.field("name", "(headers)");
  p.field("rva", 0);
  p.field("raw_pointer", 0);
  p.field("raw_size", image.header_size());
  p.begin_array("differences");
  if (!image.is_flat() && header_end < pe::kPageSize)
    print_range(p, header_end, pe::kPageSize - header_end,
                count_differing(file, view, header_end, header_end, pe::kPageSize - header_end),
                "header page: past SizeOfHeaders and the section table the page is zero");
  p.end_array();
  p.end_object();
  for (const auto& s : image.sections()) {
    const auto& h = s.header;
    const uint64_t raw_len = h.PointerToRawData == 0 ? 0 : h.SizeOfRawData;
    const uint64_t mapped = s.memory_size;  // the layout's: whole pages, or in a flat image the range it names
    const uint64_t from_file = image.is_flat() ? std::min(mapped, raw_len) : s.file_size;
    p.begin_object();
    p.field("name", printable(s.name));
    p.field("rva", h.VirtualAddress);
    p.field("raw_pointer", h.PointerToRawData);
    p.field("raw_size", h.SizeOfRawData);
    p.field("virtual_size", h.VirtualSize);
    p.field("mapped_size", mapped);
    p.begin_array("differences");
    if (!image.is_flat() && h.PointerToRawData != s.file_offset && raw_len != 0) {
      // Past the file both sides are zero: compare only what the file holds.
      const uint64_t n = std::min({raw_len, mapped, file.size() - std::min<uint64_t>(h.PointerToRawData, file.size())});
      print_range(p, h.VirtualAddress, n, count_differing(file, view, h.VirtualAddress, h.PointerToRawData, n),
                  "alignment: PointerToRawData is rounded down to 512, so the mapping starts earlier in the file");
    }
    if (from_file > std::min(raw_len, mapped)) {
      const uint64_t at = std::min(raw_len, mapped), n = from_file - at;
      print_range(p, h.VirtualAddress + at, n,
                  count_differing(file, view, h.VirtualAddress + at, h.PointerToRawData + at, n),
                  "rounding: file bytes past SizeOfRawData are mapped (raw size rounded up to 512)");
    }
    p.end_array();
    if (mapped > std::max(from_file, raw_len)) p.field("zero_fill", mapped - std::max(from_file, raw_len));
    if (raw_len > mapped) p.field("not_mapped", raw_len - mapped);
    p.end_object();
  }
  p.end_array();
}

std::string render_diff_views(const json& doc) {
  std::string out;
  size_t differing = 0;
  for (const auto& s : doc["sections"]) {
    const bool zero = s.contains("zero_fill") && s["zero_fill"].get<uint64_t>() > 0;
    const bool clipped = s.contains("not_mapped");
    if (s["differences"].empty() && !zero && !clipped) continue;
    ++differing;
    const std::string name = s["name"].get<std::string>();
    out += fmt::format("{} (RVA {:#x}, raw {:#x}+{:#x})\n", name.empty() ? "\"\"" : name, s["rva"].get<uint64_t>(),
                       s["raw_pointer"].get<uint64_t>(), s["raw_size"].get<uint64_t>());
    for (const auto& d : s["differences"])
      out +=
          fmt::format("  RVA {:#x}+{:#x} ({} bytes differ): {}\n", d["rva"].get<uint64_t>(), d["size"].get<uint64_t>(),
                      d["differing_bytes"].get<uint64_t>(), d["reason"].get<std::string>());
    if (zero) out += fmt::format("  zero fill: {:#x} bytes after the file's bytes\n", s["zero_fill"].get<uint64_t>());
    if (clipped)
      out += fmt::format("  not mapped: {:#x} raw bytes past the section's memory size\n",
                         s["not_mapped"].get<uint64_t>());
  }
  if (differing == 0) out += "  the image view and the raw view agree byte for byte\n";
  return out;
}

int run_diff_views(const CommonOptions& opts) {
  return print_each_file(
      opts,
      [](const std::string& path, const std::function<Printer&()>& open, Warnings&) -> Result<int> {
        // The laid-out image object: what every view maps, readable whatever protection a section asks for.
        auto section = win::ImageSection::create(path);
        if (!section) return section.take_error();
        const auto& object = **section;
        print_diff_views(open(), object.image(), [&](uint64_t rva, uint64_t len) { return object.read(rva, len); });
        return int(exit_ok);
      },
      [](const std::string& path, const json& doc, bool many) {
        return (many ? "== " + path + "\n" : std::string()) + render_diff_views(doc);
      });
}

namespace {

const char* state_name(uint32_t s) {
  return s == win::MEM_COMMIT ? "commit" : s == win::MEM_RESERVE ? "reserve" : "free";
}
const char* type_name(uint32_t t) {
  return t == win::MEM_IMAGE ? "image" : t == win::MEM_MAPPED ? "mapped" : t == win::MEM_PRIVATE ? "private" : "-";
}

std::string_view backing_of(const win::ImageRegion& r) {
  if (r.shared()) return "shared writable: one object for every view";
  if (r.file_bytes == 0) return "zero fill";
  const bool writable = r.protect == win::PAGE_WRITECOPY || r.protect == win::PAGE_EXECUTE_WRITECOPY;
  return writable ? "file bytes copied in, copy-on-write" : "file bytes copied in, pages shared read-only";
}

std::string render_map(const json& d) {
  std::string out = fmt::format("{} view at {:#x}, {:#x} bytes", d["kind"].get<std::string>(),
                                d["base"].get<uint64_t>(), d["size"].get<uint64_t>());
  if (d.value("offset", uint64_t{0}) != 0) out += fmt::format(" from file offset {:#x}", d["offset"].get<uint64_t>());
  if (d.contains("preferred_base"))
    out += fmt::format("; preferred base {:#x}{}", d["preferred_base"].get<uint64_t>(),
                       d["at_preferred_base"].get<bool>() ? "" : " (taken: mapped elsewhere)");
  out += "\n";
  if (d.contains("sections")) {
    Table t({{"Section"},
             {"RVA", Table::Align::right},
             {"Size", Table::Align::right},
             {"Protection"},
             {"File bytes", Table::Align::right},
             {"Backing"}});
    for (const auto& r : d["sections"])
      t.add({r["name"].get<std::string>(), fmt::format("{:#x}", r["rva"].get<uint64_t>()),
             fmt::format("{:#x}", r["size"].get<uint64_t>()), r["protect"].get<std::string>(),
             fmt::format("{:#x}", r["file_bytes"].get<uint64_t>()), r["backing"].get<std::string>()});
    out += t.render();
  }
  out += "regions, as the kernel has them (VirtualQuery)\n";
  Table q({{"Address", Table::Align::right},
           {"Size", Table::Align::right},
           {"State"},
           {"Protect"},
           {"Type"},
           {"Sections"}});
  for (const auto& m : d["regions"]) {
    std::string sections;
    for (const auto& s : m["sections"]) sections += (sections.empty() ? "" : " ") + s.get<std::string>();
    q.add({fmt::format("{:#x}", m["address"].get<uint64_t>()), fmt::format("{:#x}", m["size"].get<uint64_t>()),
           m["state"].get<std::string>(), m["protect"].get<std::string>(), m["type"].get<std::string>(), sections});
  }
  out += q.render();
  return out;
}

// Through the Win32 calls, as a program would: CreateFile, CreateFileMapping (SEC_IMAGE unless --raw),
// MapViewOfFile(Ex), VirtualQuery over the view, UnmapViewOfFile.
Result<int> map_one(const std::string& path, const MapOptions& o, const std::function<Printer&()>& open, Warnings& w) {
  auto file = win::FileHandle::open(path, false);
  if (!file) return file.take_error();
  const uint32_t protect = o.raw ? win::PAGE_READONLY : win::PAGE_READONLY | win::SEC_IMAGE;
  auto section = win::create_file_mapping(&*file, protect, 0);
  if (!section) return o.raw ? section.take_error() : own_loader_hint(section.take_error(), path);
  const auto size_arg = static_cast<size_t>(o.size);
  auto view = o.base ? win::map_view_of_file_ex(*section, win::FILE_MAP_READ, o.offset, size_arg,
                                                reinterpret_cast<void*>(*o.base))
                     : win::map_view_of_file(*section, win::FILE_MAP_READ, o.offset, size_arg);
  if (!view) return view.take_error();
  const auto base = reinterpret_cast<uint64_t>(*view);
  const size_t size = static_cast<size_t>(o.size ? o.size : section->size() - o.offset);
  Printer& p = open();
  p.field("kind", o.raw ? "data" : "image");
  p.field("base", base);
  p.field("size", size);
  p.field("offset", o.offset);
  if (const auto& image = section->object()->image) {
    p.field("preferred_base", image->preferred_base());
    p.field("at_preferred_base", base == image->preferred_base());
    p.begin_array("sections");
    for (const auto& r : image->regions())
      p.record({}, {Field::str("name", printable(r.name)), Field::num("rva", r.rva), Field::num("size", r.size),
                    Field::word("protect", win::protection_name(r.protect)), Field::num("file_bytes", r.file_bytes),
                    Field::word("backing", backing_of(r))});
    p.end_array();
    // Mapped, but bytes the section table declares are not in the file: they read as zero.
    if (const auto& cut = image->image().truncation()) w.add(*cut);
  }
  print_regions(p, *view, size);
  (void)win::unmap_view_of_file(*view);
  return int(exit_ok);
}

}  // namespace

void print_regions(Printer& p, const void* base, size_t size) {
  p.begin_array("regions");
  for (const auto& m : win::query_range(base, size)) {
    p.begin_object();
    p.field("address", m.base);
    p.field("size", m.region_size);
    p.field("state", state_name(m.state));
    p.field("protect", win::protection_name(m.protect));
    p.field("type", type_name(m.type));
    p.begin_array("sections");
    for (const auto& s : m.sections) p.field({}, printable(s));
    p.end_array();
    p.end_object();
  }
  p.end_array();
}

namespace {

int picture_map(const CommonOptions& opts, const MapOptions& map) {
  if (opts.inputs.size() != 1) {
    std::cerr << "pemap map --html/--svg: give one file\n";
    return exit_unusable;
  }
  const std::string& path = opts.inputs[0];
  TreeBuilder doc;
  Warnings w;
  auto mapped = map_one(
      path, map, [&]() -> Printer& { return doc; }, w);
  if (!mapped) {
    std::cerr << fmt::format("pemap: {}: {}\n", printable(path), mapped.error().to_string());
    return exit_unusable;
  }
  if (!picture_on_stdout(map.html, map.svg)) std::cout << render_map(doc.document());
  const json drawn = one_view_document(path, doc.document(), json_text(doc.document(), "kind") + " view");
  const std::string svg = address_space_svg(drawn);
  int rc = w.empty() ? *mapped : int(exit_findings);
  if (!map.svg.empty() && !write_picture(map.svg, svg)) rc = exit_unusable;
  if (!map.html.empty() &&
      !write_picture(map.html, picture_page("pemap map " + printable(path),
                                            fmt::format("{} mapped as {} view: its regions as VirtualQuery reports "
                                                        "them. Hover over a region for its addresses.",
                                                        printable(path), map.raw ? "a data" : "an image"),
                                            svg)))
    rc = exit_unusable;
  report_warnings(path, w.texts());
  return rc;
}

}  // namespace

int run_map(const CommonOptions& opts, const MapOptions& map) {
  if (!map.html.empty() || !map.svg.empty())
    return pictures_fit_stdout("map", map.html, map.svg, opts.json) ? picture_map(opts, map) : int(exit_unusable);
  return print_each_file(
      opts,
      [&](const std::string& path, const std::function<Printer&()>& open, Warnings& w) {
        return map_one(path, map, open, w);
      },
      [](const std::string& path, const json& doc, bool many) {
        return (many ? "== " + path + "\n" : std::string()) + render_map(doc);
      });
}

}  // namespace pemap::inspect
