// Address conversions.
#include "address_command.hpp"

#include <fmt/format.h>

#include "json_text.hpp"

namespace pemap::inspect {
namespace {

std::string region_name(const pe::Image& image, const pe::Region& r) {
  return r.section < 0 ? std::string(image.is_flat() ? "(flat image)" : "(headers)")
                       : printable(image.sections()[static_cast<size_t>(r.section)].name);
}

Result<int> from_rva(const pe::Image& image, uint64_t value, Printer& p) {
  const auto& oh = image.optional_header();
  auto resolved = address_to_rva(image, value);
  if (!resolved) return resolved.take_error();
  const uint64_t rva = *resolved;
  p.field("input", rva == value ? "rva" : "va");
  p.field("rva", rva);
  p.field("va", oh.image_base + rva);
  const pe::Region* region = image.region_at(rva);
  if (!region) {
    p.field("section", nullptr);
    p.field("file_offset", nullptr);
    p.field("why", "no section maps it: a gap between sections, reserved but never committed");
    return int(exit_ok);
  }
  p.field("section", region_name(image, *region));
  if (auto off = image.rva_to_offset(rva)) {
    p.field("file_offset", *off);
    return int(exit_ok);
  }
  p.field("file_offset", nullptr);
  p.field("why", rva - region->rva < region->raw_size
                     ? "the section's raw data runs past the end of the file: the file is cut short"
                     : "zero fill past the section's raw data: the memory manager gives zeros");
  return int(exit_ok);
}

Result<int> from_offset(const pe::Image& image, uint64_t offset, Printer& p) {
  if (offset >= image.file().size())
    return make_error(
        Status::success, "offset", Location{},
        fmt::format("{:#x} is past the end of the file, which is {:#x} bytes long", offset, image.file().size()));
  p.field("file_offset", offset);
  p.begin_array("mapped_at");
  bool any = false;
  for (const auto& r : image.regions()) {
    const uint64_t bytes = std::min(r.file_size, r.size);
    if (offset < r.file_offset || offset - r.file_offset >= bytes) continue;
    any = true;
    const uint64_t rva = r.rva + (offset - r.file_offset);
    p.begin_object();
    p.field("rva", rva);
    p.field("va", image.image_base() + rva);
    p.field("section", region_name(image, r));
    p.end_object();
  }
  p.end_array();
  if (!any) {
    const auto overlay = image.overlay_offset();
    p.field("why", overlay && offset >= *overlay
                       ? "overlay: past the last section's raw data, never mapped"
                       : "not mapped: slack between raw data that no section's mapped size covers");
  }
  return int(exit_ok);
}

std::string render(const std::string& path, const json& d, bool many) {
  std::string out = many ? "== " + path + "\n" : std::string();
  const auto hex = [](const json& v) { return fmt::format("{:#x}", v.get<uint64_t>()); };
  if (d.contains("mapped_at")) {
    out += fmt::format("file offset {}", hex(d["file_offset"]));
    if (d["mapped_at"].empty()) return out + ": " + d["why"].get<std::string>() + "\n";
    out += " is mapped at\n";
    for (const auto& m : d["mapped_at"])
      out += fmt::format("  RVA {} (VA {}) in {}\n", hex(m["rva"]), hex(m["va"]), m["section"].get<std::string>());
    return out;
  }
  out += fmt::format("RVA {} (VA {})", hex(d["rva"]), hex(d["va"]));
  if (d["section"].is_null()) return out + ": " + d["why"].get<std::string>() + "\n";
  out += " in " + d["section"].get<std::string>();
  if (d["file_offset"].is_null()) return out + ", no file byte: " + d["why"].get<std::string>() + "\n";
  return out + fmt::format(", file offset {}\n", hex(d["file_offset"]));
}

}  // namespace

Result<uint64_t> address_to_rva(const pe::Image& image, uint64_t value) {
  const auto& oh = image.optional_header();
  if (value < oh.size_of_image) return value;
  if (value >= oh.image_base && value - oh.image_base < oh.size_of_image) return value - oh.image_base;
  return make_error(Status::success, "address", Location{},
                    fmt::format("{:#x} is neither an RVA (below SizeOfImage {:#x}) nor a VA of the image at its "
                                "preferred base [{:#x}, {:#x})",
                                value, oh.size_of_image, oh.image_base, oh.image_base + oh.size_of_image));
}

int run_address(const CommonOptions& opts, AddressKind kind, uint64_t value) {
  return print_each_file(
      opts,
      [&](const std::string& path, const std::function<Printer&()>& open, Warnings& w) -> Result<int> {
        auto opened = open_image(path);
        if (!opened) return opened.take_error();
        const pe::Image& image = opened->image;
        if (const auto& note = image.layout_note()) w.add(*note);
        // The document is opened only once the conversion is known to work, so an error refuses the file.
        TreeBuilder t;
        auto rc = kind == AddressKind::rva ? from_rva(image, value, t) : from_offset(image, value, t);
        if (!rc) return rc;
        open().members(t.document());
        return rc;
      },
      render);
}

}  // namespace pemap::inspect
