// pemap map --as efi: the layout the UEFI firmware's loader builds, and what its relocation wrote.
#include "uefi_command.hpp"

#include <fmt/format.h>

#include "json_text.hpp"
#include "mapped_file.hpp"
#include "model.hpp"
#include "pe/names.hpp"
#include "table.hpp"
#include "uefi/uefi_image.hpp"

namespace pemap::inspect {
namespace {

// The memory type the EDK II loader allocates an image's pages as, by subsystem (it takes 13 for a SAL runtime
// driver, a runtime driver of Itanium's firmware).
std::string_view memory_type(uint16_t subsystem) {
  switch (subsystem) {
    case pe::subsystem::efi_application:
      return "EfiLoaderCode";
    case pe::subsystem::efi_boot_service_driver:
      return "EfiBootServicesCode";
    default:
      return "EfiRuntimeServicesCode";
  }
}

Result<int> map_one(const std::string& path, std::optional<uint64_t> base, const std::function<Printer&()>& open) {
  auto file = MappedFile::open(path);
  if (!file) return file.take_error();
  auto image = pe::Image::parse(file->bytes(), pe::Layout::section_table);
  if (!image) return image.take_error();
  auto loaded = uefi::load(*image, base.value_or(image->image_base()));
  if (!loaded) return loaded.take_error();
  Printer& p = open();
  p.field("loader", "uefi");
  p.field("subsystem", pe::subsystem_name(image->optional_header().subsystem));
  p.field("memory_type", memory_type(image->optional_header().subsystem));
  p.field("base", loaded->base);
  p.field("size", loaded->bytes.size());
  p.field("preferred_base", image->image_base());
  p.field("delta", static_cast<int64_t>(loaded->base - image->image_base()));
  p.begin_array("regions");
  for (const auto& piece : loaded->pieces) {
    const std::string name =
        piece.section < 0 ? "(headers)" : printable(image->sections()[static_cast<size_t>(piece.section)].name);
    p.record({}, {Field::str("name", name), Field::num("rva", piece.rva), Field::num("size", piece.size),
                  Field::num("file_offset", piece.file_offset), Field::num("file_bytes", piece.file_bytes)});
  }
  p.end_array();
  print_fixups(p, loaded->fixups.per_type, image->file_header().Machine);
  p.field("pages_written", loaded->fixups.pages_made_private);
  return int(exit_ok);
}

std::string render(const std::string& path, const json& d, bool many) {
  std::string out = many ? "== " + path + "\n" : std::string();
  out += fmt::format("UEFI image at {:#x}, {:#x} bytes of {} ({}); preferred base {:#x}, delta {:#x}\n",
                     d["base"].get<uint64_t>(), d["size"].get<uint64_t>(), d["memory_type"].get<std::string>(),
                     d["subsystem"].get<std::string>(), d["preferred_base"].get<uint64_t>(), d["delta"].get<int64_t>());
  Table t({{"Section"},
           {"RVA", Table::Align::right},
           {"Size", Table::Align::right},
           {"File offset", Table::Align::right},
           {"File bytes", Table::Align::right}});
  for (const auto& r : d["regions"])
    t.add({r["name"].get<std::string>(), fmt::format("{:#x}", r["rva"].get<uint64_t>()),
           fmt::format("{:#x}", r["size"].get<uint64_t>()), fmt::format("{:#x}", r["file_offset"].get<uint64_t>()),
           fmt::format("{:#x}", r["file_bytes"].get<uint64_t>())});
  out += t.render();
  out += fmt::format("  fixups applied: {}; {} pages written\n", fixup_counts_text(d["fixups"], "none"),
                     d["pages_written"].get<uint64_t>());
  return out;
}

}  // namespace

int run_map_uefi(const CommonOptions& opts, std::optional<uint64_t> base) {
  return print_each_file(
      opts,
      [&](const std::string& path, const std::function<Printer&()>& open, Warnings&) {
        return map_one(path, base, open);
      },
      render);
}

}  // namespace pemap::inspect
