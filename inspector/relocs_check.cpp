// pemap relocs --check: the relocation test harness. The image at the base asked for and, unrelocated, elsewhere,
// compared byte for byte against what the listed fixups allow.
#include <fmt/format.h>

#include <cstring>
#include <iostream>

#include "address_space_picture.hpp"
#include "disasm_command.hpp"
#include "json_text.hpp"
#include "mapped_file.hpp"
#include "memory/image_section.hpp"
#include "memory/win32.hpp"
#include "model.hpp"
#include "picture_page.hpp"
#include "relocate.hpp"
#include "relocs_check.hpp"
#include "uefi/uefi_image.hpp"

namespace pemap::inspect {

RelocComparison compare_relocated(const std::vector<std::byte>& before, const std::vector<std::byte>& after,
                                  const pe::Relocations& relocs, int64_t delta) {
  // A reference: the unrelocated bytes with each fixup's arithmetic applied in file order, and for each
  // byte whether some fixup covers it.
  auto expected = before;
  std::vector<bool> covered(before.size());
  relocs.for_each([&](const pe::RelocEntry& e) {
    const unsigned w = pe::reloc_width(e.type);
    if (e.type == pe::reloc_type::absolute || w == 0 || e.rva + w > expected.size()) return;
    uint64_t v = 0;
    std::memcpy(&v, expected.data() + e.rva, w);
    v = relocated_value(e.type, v, delta, e.highadj_param.value_or(0));
    std::memcpy(expected.data() + e.rva, &v, w);
    for (unsigned k = 0; k < w; ++k) covered[e.rva + k] = true;
  });
  RelocComparison out{after.size(), 0, {}};
  for (uint64_t i = 0; i < after.size(); ++i) {
    const bool differs = after[i] != before[i];
    const char* why = differs && !covered[i]    ? "changed outside every fixup"
                      : after[i] != expected[i] ? "not the value its fixups give"
                                                : nullptr;
    if (!why) continue;
    if (++out.violations <= 20) out.first.push_back({i, before[i], after[i], expected[i], why});
  }
  return out;
}

namespace {

// What both loaders' checks print: the bases, the fixups applied, and the comparison.
int print_check(Printer& p, Loader loader, uint64_t preferred, uint64_t base, const RelocationStats& stats,
                uint16_t machine, const RelocComparison& report, const pe::Image& image) {
  if (loader == Loader::uefi) p.field("loader", "uefi");
  p.field("preferred_base", preferred);
  p.field("base", base);
  p.field("delta", static_cast<int64_t>(base - preferred));
  print_fixups(p, stats.per_type, machine);
  // The firmware's pages are the image's own from the start: a write makes none private.
  p.field(loader == Loader::uefi ? "pages_written" : "pages_made_private", stats.pages_made_private);
  p.field("bytes_compared", report.bytes_compared);
  p.field("violations", report.violations);
  // Each byte that differs with the instruction it lies in, when it lies in code (disasm_command.hpp).
  auto code = CodeMap::for_image(image);
  p.begin_array("first_violations");
  for (const auto& v : report.first) {
    const analysis::Instruction* in = code ? code->at(v.rva) : nullptr;
    const std::string text = in ? fmt::format("{:#x}: {}", in->address, instruction_text(*in)) : std::string();
    p.record({}, {Field::num("rva", v.rva), Field::num("before", static_cast<uint8_t>(v.before)),
                  Field::num("after", static_cast<uint8_t>(v.after)),
                  Field::num("expected", static_cast<uint8_t>(v.expected)), Field::word("reason", v.reason),
                  in ? Field::str("instruction", text) : Field::none("instruction")});
  }
  p.end_array();
  return report.violations ? int(exit_findings) : int(exit_ok);
}

Result<int> check_one(const std::string& path, uint64_t base, const std::function<Printer&()>& open) {
  auto section = win::ImageSection::create(path);
  if (!section) return section.take_error();
  const auto& image = (*section)->image();
  auto relocs = pe::parse_relocations(image);
  if (!relocs) return relocs.take_error();
  // The view asked for first: the reference view, which is never relocated, then goes wherever is free (at the
  // preferred base unless `base` holds it), so it cannot take the range asked for.
  auto moved = win::ImageView::map(*section, reinterpret_cast<void*>(base));
  if (!moved) return moved.take_error();
  auto reference = win::ImageView::map(*section);
  if (!reference) return reference.take_error();
  const uint64_t preferred = (*section)->preferred_base();
  const auto delta = static_cast<int64_t>(base - preferred);
  auto stats = apply_relocations(**section, moved->base(), *relocs, delta);
  if (!stats) return stats.take_error();
  const auto report = compare_relocated(reference->bytes(), moved->bytes(), *relocs, delta);
  Printer& p = open();
  const int rc = print_check(p, Loader::windows, preferred, base, *stats, relocs->machine, report, image);
  print_regions(p, moved->base(), moved->size());  // what a picture draws (--html, --svg)
  print_fixup_pages(p, image, delta != 0);
  return rc;
}

// The UEFI loader's layout: loaded at `base`, and as the reference laid out unrelocated, as it stands at ImageBase.
Result<int> check_one_uefi(const std::string& path, uint64_t base, const std::function<Printer&()>& open, Warnings& w) {
  auto file = MappedFile::open(path);
  if (!file) return file.take_error();
  auto image = pe::Image::parse(file->bytes(), pe::Layout::section_table);
  if (!image) return image.take_error();
  auto relocs = pe::parse_relocations(*image);
  if (!relocs) return relocs.take_error();
  const uint64_t preferred = image->image_base();
  auto moved = uefi::load(*image, base);
  if (!moved) return moved.take_error();
  auto reference = uefi::lay_out(*image);
  if (!reference) return reference.take_error();
  w.add(relocs->warnings);
  const auto report =
      compare_relocated(reference->bytes, moved->bytes, *relocs, static_cast<int64_t>(base - preferred));
  return print_check(open(), Loader::uefi, preferred, base, moved->fixups, relocs->machine, report, *image);
}

std::string render_check(const std::string& path, const json& d, bool /*many: the path starts each report*/) {
  const std::string types = fixup_counts_text(d["fixups"], "none");
  const uint64_t violations = d["violations"].get<uint64_t>();
  const bool uefi = d.contains("loader");
  std::string out = fmt::format("{}: preferred base {:#x}, loaded{} at {:#x} (delta {:#x})\n", printable(path),
                                d["preferred_base"].get<uint64_t>(), uefi ? " by the UEFI loader" : "",
                                d["base"].get<uint64_t>(), d["delta"].get<int64_t>());
  out += uefi ? fmt::format("  fixups applied: {}; {} pages written\n", types, d["pages_written"].get<uint64_t>())
              : fmt::format("  fixups applied: {}; {} pages made private\n", types,
                            d["pages_made_private"].get<uint64_t>());
  out += fmt::format("  {} bytes compared: {}\n", d["bytes_compared"].get<uint64_t>(),
                     violations ? fmt::format("{} VIOLATIONS", violations)
                                : std::string("every difference is a listed fixup, by exactly its delta"));
  for (const auto& v : d["first_violations"])
    out += fmt::format("  RVA {:#x}: {:02x} -> {:02x}, expected {:02x}: {}{}\n", v["rva"].get<uint64_t>(),
                       v["before"].get<unsigned>(), v["after"].get<unsigned>(), v["expected"].get<unsigned>(),
                       v["reason"].get<std::string>(),
                       v["instruction"].is_null() ? std::string() : ", in " + v["instruction"].get<std::string>());
  return out;
}

}  // namespace

namespace {

int picture_check(const CommonOptions& opts, uint64_t base, const PictureFiles& picture) {
  if (opts.inputs.size() != 1) {
    std::cerr << "pemap relocs --check --html/--svg: give one file\n";
    return exit_unusable;
  }
  const std::string& path = opts.inputs[0];
  TreeBuilder doc;
  auto checked = check_one(path, base, [&]() -> Printer& { return doc; });
  if (!checked) {
    std::cerr << fmt::format("pemap: {}: {}\n", printable(path), checked.error().to_string());
    return exit_unusable;
  }
  if (!picture_on_stdout(picture.html, picture.svg)) std::cout << render_check(path, doc.document(), false);
  const std::string svg = address_space_svg(one_view_document(path, doc.document(), "relocs --check"));
  int rc = *checked;
  if (!picture.svg.empty() && !write_picture(picture.svg, svg)) rc = exit_unusable;
  const std::string intro = fmt::format(
      "{} relocated for real at {:#x}: its regions, the pages its fixups made private (hover for the count), and in "
      "red any byte that changed without a fixup to explain it.",
      printable(path), base);
  if (!picture.html.empty() &&
      !write_picture(picture.html, picture_page("pemap relocs --check " + printable(path), intro, svg)))
    rc = exit_unusable;
  return rc;
}

}  // namespace

int run_relocs_check(const CommonOptions& opts, uint64_t base, Loader loader, const PictureFiles& picture) {
  if (!picture.html.empty() || !picture.svg.empty()) {
    if (loader == Loader::uefi) {
      std::cerr << "pemap relocs --check --as efi: --html and --svg draw the Windows loader's view only\n";
      return exit_unusable;
    }
    if (!pictures_fit_stdout("relocs --check", picture.html, picture.svg, opts.json)) return exit_unusable;
    return picture_check(opts, base, picture);
  }
  return print_each_file(
      opts,
      [&](const std::string& path, const std::function<Printer&()>& open, Warnings& w) {
        return loader == Loader::uefi ? check_one_uefi(path, base, open, w) : check_one(path, base, open);
      },
      render_check);
}

}  // namespace pemap::inspect
