// Running a command over many files: one bad file reports its error and the rest go on.
#include "commands.hpp"

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <functional>
#include <iostream>
#include <map>

#include <fmt/format.h>

#include "fingerprints_view.hpp"
#include "hexdump.hpp"
#include "json_text.hpp"
#include "mapped_file.hpp"
#include "memory/image_section.hpp"
#include "model.hpp"
#include "pe/image.hpp"
#include "process/process.hpp"
#include "process/search_path.hpp"
#include "render.hpp"
#include "resources_view.hpp"

namespace pemap::inspect {

Result<OpenImage> open_image(const std::string& path) {
  auto file = MappedFile::open(path);
  if (!file) return file.take_error();
  auto image = pe::Image::parse(file->bytes());
  if (!image) return image.take_error();
  // The image views the mapping, which stays where it is when the MappedFile moves.
  return OpenImage{std::move(*file), std::move(*image)};
}

Result<bool> apply_search(const SearchOptions& search, ldr::LoadOptions& load, WineDefault wine) {
  load.search_dirs = search.path;
  load.system_dirs = ldr::SystemDirs::discover(search.system_dir, search.syswow64_dir, wine == WineDefault::yes);
  // The API sets of the system directory's own schema, as Windows reads apisetschema.dll from System32.
  for (const auto* dir : {&load.system_dirs.system32, &load.system_dirs.syswow64}) {
    const auto dll = std::filesystem::path(*dir) / "apisetschema.dll";
    std::error_code ec;
    if (dir->empty() || !std::filesystem::is_regular_file(dll, ec)) continue;
    auto schema = ldr::ApiSetSchema::read_dll(dll.string());
    if (schema)
      load.api_sets = std::move(*schema);
    else  // an older Windows' schema, or a damaged one: the loads go on with the built-in table
      std::cerr << "pemap: " << printable(dll.string()) << ": warning: " << schema.error().to_string()
                << "; the built-in API-set table is used\n";
    break;
  }
  if (!search.known_dlls.empty()) {
    auto known = ldr::KnownDlls::read(search.known_dlls);
    if (!known) return known.take_error();
    load.known_dlls = std::move(*known);
  }
  return true;
}

Error own_loader_hint(Error refusal, const std::string& path) {
  if (refusal.status != Status::invalid_image_format) return refusal;
  const auto opened = open_image(path);
  if (!opened) return refusal;
  const auto loader = opened->image.own_loader();
  if (loader == "UEFI")
    refusal.message += "; the UEFI firmware loads it: `pemap map --as efi` shows the layout its loader builds";
  else if (loader == ".NET")
    refusal.message += "; the .NET runtime's own PE loader maps it, and the listings read its tables so";
  return refusal;
}

int report_warnings(std::string_view name, const std::vector<std::string>& warnings) {
  std::cout << std::flush;  // the two streams interleave in order when they are one
  for (const auto& w : warnings) std::cerr << "pemap: " << name << ": warning: " << w << "\n";
  return warnings.empty() ? exit_ok : exit_findings;
}

int print_each_file(const CommonOptions& opts, const FileReport& report,
                    const std::function<std::string(const std::string&, const json&, bool)>& render) {
  auto inputs = Inputs::expand(opts.inputs, opts.verbose);
  std::optional<JsonDocuments> docs;
  if (opts.json) docs.emplace(std::cout, json_style(opts.jsonl), inputs.many());
  int rc = exit_ok;
  for (const auto& in : inputs.files()) {
    Warnings w;
    TreeBuilder tree;
    Printer* p = nullptr;
    const auto open = [&]() -> Printer& {
      if (!p) p = docs ? &docs->begin(printable(in.name)) : static_cast<Printer*>(&tree);
      return *p;
    };
    const auto status = report(in.path, open, w);
    if (!status) {
      rc = std::max(rc, inputs.refuse(in, status.error()));
      // A report fails before it prints; should one fail after, its document still closes, with the error.
      if (docs && (p || !inputs.skips(in, status.error()))) {
        print_error(open(), "error", status.error());
        docs->end();
      }
      continue;
    }
    rc = std::max(rc, *status);
    w.print(open());
    if (docs)
      docs->end();
    else
      std::cout << render(in.name, tree.document(), inputs.many());
    rc = std::max(rc, report_warnings(in.name, w.texts()));
  }
  if (docs) docs->finish();
  return std::max(rc, inputs.finish());
}

namespace {

// A command's two back ends: its findings through a Printer (--json, --jsonl), and its text.
struct Command {
  std::function<void(const pe::Image&, Printer&, Warnings&)> model;
  std::function<void(const pe::Image&, TextOut&, Warnings&)> text;
};

std::map<std::string, Command> commands(const CommonOptions& opts) {
  const Demangle demangle = opts.demangle ? Demangle::yes : Demangle::no;
  return {
      {"info", {model_info, write_info}},
      {"headers", {model_headers, write_headers}},
      {"sections", {model_sections, write_sections}},
      {"imports",
       {[demangle](const pe::Image& image, Printer& p, Warnings& w) { model_imports(image, p, w, demangle); },
        [demangle](const pe::Image& image, TextOut& out, Warnings& w) { write_imports(image, out, w, demangle); }}},
      {"exports",
       {[demangle](const pe::Image& image, Printer& p, Warnings& w) { model_exports(image, p, w, demangle); },
        [demangle](const pe::Image& image, TextOut& out, Warnings& w) { write_exports(image, out, w, demangle); }}},
      {"relocs",
       {model_relocs, [](const pe::Image& image, TextOut& out, Warnings& w) { write_relocs(image, out, w); }}},
      {"tls", {model_tls, write_tls}},
      {"resources", {model_resources, write_resources}},
      {"hashes", {model_hashes, write_hashes}},
      {"all", {model_all, write_all}},
  };
}

// Opens and parses each input and hands the image to `body`, which prints what it has and returns the file's exit
// code. A file that cannot be used goes through Inputs::refuse and then to `refused` (when given); the other files
// go on. Returns the exit code of them all.
int for_each_image(Inputs& inputs, const std::function<int(const Input&, const pe::Image&)>& body,
                   const std::function<void(const Input&, const Error&)>& refused = {}) {
  int rc = exit_ok;
  for (const auto& in : inputs.files()) {
    auto opened = open_image(in.path);
    if (!opened) {
      rc = std::max(rc, inputs.refuse(in, opened.error()));
      if (refused && !inputs.skips(in, opened.error())) refused(in, opened.error());
      continue;
    }
    rc = std::max(rc, body(in, opened->image));
  }
  return std::max(rc, inputs.finish());
}

// The JSON form of a command on images: each file's document printed by `body` (which returns the file's exit
// code; its warnings, in the document, are reported on stderr once the document is out), a file that could not be
// used as {"file", "error"}.
int json_each_image(const CommonOptions& opts,
                    const std::function<int(const Input&, const pe::Image&, Printer&, Warnings&)>& body) {
  auto inputs = Inputs::expand(opts.inputs, opts.verbose);
  JsonDocuments docs(std::cout, json_style(opts.jsonl), inputs.many());
  const int rc = for_each_image(
      inputs,
      [&](const Input& in, const pe::Image& image) {
        Warnings w;
        Printer& p = docs.begin(printable(in.name));
        const int file_rc = body(in, image, p, w);
        w.print(p);
        docs.end();
        return std::max(file_rc, report_warnings(in.name, w.texts()));
      },
      [&](const Input& in, const Error& e) {
        print_error(docs.begin(printable(in.name)), "error", e);
        docs.end();
      });
  docs.finish();
  return rc;
}

}  // namespace

int run_view(const std::string& name, const CommonOptions& opts) {
  const Command cmd = commands(opts).at(name);
  // Both back ends print as the parser's results are walked: no document of the whole file is built (a JSON
  // object per row costs hundreds of bytes: 390 MB for the 590,000 imports of corkami's 1 MB manyimportsW7.exe).
  // Tables read through the section table because Windows refuses the image: said once per file, first.
  const auto layout = [](const pe::Image& image, Warnings& w) {
    if (const auto& note = image.layout_note()) w.add(*note);
  };
  if (opts.json)
    return json_each_image(opts, [&](const Input&, const pe::Image& image, Printer& p, Warnings& w) {
      layout(image, w);
      cmd.model(image, p, w);
      return int(exit_ok);
    });
  auto inputs = Inputs::expand(opts.inputs, opts.verbose);
  return for_each_image(inputs, [&](const Input& in, const pe::Image& image) {
    Warnings w;
    layout(image, w);
    {
      TextOut out(std::cout);
      if (inputs.many()) out << "== " << in.name << "\n";
      cmd.text(image, out, w);
    }
    return report_warnings(in.name, w.texts());
  });
}

namespace {

// The bytes `pemap dump` shows, where they start, and how the document names the range.
struct DumpRange {
  DumpRange() = default;
  DumpRange(DumpRange&&) = default;  // `copy`'s buffer moves with it, so `bytes` still views it
  DumpRange(const DumpRange&) = delete;
  Bytes bytes;
  std::vector<std::byte> copy;  // what `bytes` views when they were read through the image
  uint64_t start = 0;
  std::string what;  // the text's title line
  std::optional<std::string> section;
  std::optional<uint64_t> rva, offset;
  bool image_view = false;
};

Result<DumpRange> dump_range(const Input& in, const pe::Image& image, const DumpOptions& d) {
  DumpRange r;
  if (d.section) {
    const auto secs = image.sections();
    auto it = std::find_if(secs.begin(), secs.end(), [&](const pe::Section& s) { return s.name == *d.section; });
    if (it == secs.end()) {
      std::string names;
      for (const auto& s : secs) names += (names.empty() ? "" : ", ") + printable(s.name);
      return make_error(
          Status::success, "section table", Location::offset(image.section_table_offset()),
          fmt::format("no section named '{}' (it has {})", printable(*d.section), names.empty() ? "none" : names));
    }
    r.section = printable(it->name);
    if (d.image_view) {
      // As the memory manager maps it: the laid-out image object every view maps, read at the
      // section's RVA (through the object, so a no-access section can be shown too).
      auto section = win::ImageSection::create(in.path);
      if (!section) return section.take_error();
      const uint64_t len = std::min<uint64_t>(align_up(it->memory_size, pe::kPageSize), d.size.value_or(UINT64_MAX));
      r.copy = (*section)->read(it->rva(), len);
      r.bytes = r.copy;
      r.start = it->rva();
      r.what = fmt::format("section {} as mapped (image view), RVA {:#x}, {:#x} bytes", *r.section, r.start, len);
      r.rva = r.start;
      r.image_view = true;
    } else {
      // The section's bytes as they sit on disk: PointerToRawData, SizeOfRawData, clipped to the file.
      const uint64_t off = std::min<uint64_t>(it->header.PointerToRawData, image.file().size());
      const uint64_t len =
          std::min<uint64_t>({it->header.SizeOfRawData, image.file().size() - off, d.size.value_or(UINT64_MAX)});
      r.bytes = image.file().subspan(off, len);
      r.start = off;
      r.what = fmt::format("section {} raw data, file offset {:#x}, {:#x} bytes", *r.section, off, len);
      r.offset = off;
    }
  } else if (d.offset) {
    auto s = slice(image.file(), *d.offset, *d.size, "dump range");
    if (!s) return s.take_error();
    r.bytes = *s;
    r.start = *d.offset;
    r.what = fmt::format("file offset {:#x}, {:#x} bytes", r.start, *d.size);
    r.offset = r.start;
  } else {
    auto c = image.copy_range(*d.rva, *d.size, "dump range");
    if (!c) return c.take_error();
    r.copy = std::move(*c);
    r.bytes = r.copy;
    r.start = *d.rva;
    r.what = fmt::format("RVA {:#x}, {:#x} bytes as the image maps them", r.start, *d.size);
    r.rva = r.start;
  }
  return r;
}

}  // namespace

int run_dump(const CommonOptions& opts, const DumpOptions& d) {
  const int chosen = int(d.section.has_value()) + int(d.rva.has_value()) + int(d.offset.has_value());
  if (chosen != 1) {
    std::cerr << "pemap dump: give exactly one of --section NAME, --rva ADDR or --offset OFF\n";
    return exit_unusable;
  }
  if (!d.section && !d.size) {
    std::cerr << "pemap dump: --rva and --offset need --size\n";
    return exit_unusable;
  }
  // A range that cannot be shown: said on stderr, and in the file's JSON document as its "error". Through the
  // image (--rva, --section), bytes a file cut short does not hold read as the zeros the mapper gives them: the
  // dump then carries the file's truncation warning (exit 1), as every command that reads them does.
  const auto dump = [&](const Input& in, const pe::Image& image, Printer* p, Warnings& w) {
    const auto range = dump_range(in, image, d);
    if (!range) {
      std::cerr << "pemap: " << in.name << ": " << range.error().to_string() << "\n";
      if (p) print_error(*p, "error", range.error());
      return int(exit_unusable);
    }
    if (!d.offset && image.truncation()) w.add(*image.truncation());
    if (d.rva && image.layout_note()) w.add(*image.layout_note());  // read through the Image's layout
    if (!p) {
      std::cout << range->what << "\n" << hexdump(range->bytes, range->start) << std::flush;
      return int(exit_ok);
    }
    if (range->section) p->field("section", *range->section);
    if (range->rva) p->field("rva", *range->rva);
    if (range->image_view) p->field("view", "image");
    if (range->offset) p->field("offset", *range->offset);
    p->field("size", range->bytes.size());
    p->field("hex", hex_string(range->bytes));
    return int(exit_ok);
  };
  if (opts.json)
    return json_each_image(
        opts, [&](const Input& in, const pe::Image& image, Printer& p, Warnings& w) { return dump(in, image, &p, w); });
  auto inputs = Inputs::expand(opts.inputs, opts.verbose);
  return for_each_image(inputs, [&](const Input& in, const pe::Image& image) {
    if (inputs.many()) std::cout << "== " << in.name << "\n";
    Warnings w;
    const int rc = dump(in, image, nullptr, w);
    return std::max(rc, report_warnings(in.name, w.texts()));
  });
}

Result<uint64_t> parse_number(const std::string& text, const std::string& option) {
  const bool hex = text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X');
  const char* first = text.data() + (hex ? 2 : 0);
  const char* last = text.data() + text.size();
  uint64_t value = 0;
  // from_chars takes no sign, no space and no base prefix; it reports overflow and stops at a suffix.
  const auto [end, ec] = std::from_chars(first, last, value, hex ? 16 : 10);
  const char* why = ec == std::errc::result_out_of_range ? "is above 2^64-1"
                    : ec != std::errc() || end != last   ? "is not a number (decimal, or hexadecimal after 0x)"
                                                         : nullptr;
  if (why) return make_error(Status::success, option, Location{}, fmt::format("'{}' {}", printable(text), why));
  return value;
}

Result<uint64_t> parse_size(const std::string& text, const std::string& option) {
  const char last = text.empty() ? '\0' : static_cast<char>(text.back() | 0x20);
  const int shift = last == 'k' ? 10 : last == 'm' ? 20 : last == 'g' ? 30 : -1;
  auto n = parse_number(shift < 0 ? text : text.substr(0, text.size() - 1), option);
  if (!n)
    return make_error(Status::success, option, Location{},
                      fmt::format("'{}' is not a size (MiB, or a number with K, M or G)", printable(text)));
  const int by = shift < 0 ? 20 : shift;
  if (*n > (uint64_t{1} << (64 - by)) - 1)
    return make_error(Status::success, option, Location{}, fmt::format("'{}' is too large", printable(text)));
  return *n << by;
}

Result<std::map<std::string, uint64_t>> forced_bases(const std::vector<std::string>& values) {
  std::map<std::string, uint64_t> out;
  for (const auto& v : values) {
    const auto eq = v.find('=');
    if (eq == std::string::npos || eq == 0)
      return make_error(Status::success, "--base", Location{}, fmt::format("{}: expected MODULE=ADDRESS", v));
    auto at = parse_number(v.substr(eq + 1), "--base");
    if (!at)
      return make_error(Status::success, "--base", Location{},
                        fmt::format("{}: expected MODULE=ADDRESS: the address {}", v, at.error().message));
    out[ldr::ModuleName(v.substr(0, eq)).key()] = *at;
  }
  return out;
}

}  // namespace pemap::inspect
