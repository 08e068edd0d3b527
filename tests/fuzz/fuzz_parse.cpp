// libFuzzer target: parse any bytes, then walk every directory and the RVA resolver as the inspector would, in
// both layouts, and load an EFI image as the UEFI loader does.
#include <cstddef>
#include <cstdint>

#include "analysis/fingerprints.hpp"
#include "analysis/manifest.hpp"
#include "pe/apiset_schema.hpp"
#include "pe/certificates.hpp"
#include "pe/checksum.hpp"
#include "pe/clr.hpp"
#include "pe/debug.hpp"
#include "pe/exports.hpp"
#include "pe/guard_tables.hpp"
#include "pe/image.hpp"
#include "pe/imports.hpp"
#include "pe/load_config.hpp"
#include "pe/relocs.hpp"
#include "pe/resources.hpp"
#include "pe/rich_header.hpp"
#include "pe/tls.hpp"
#include "pe/unwind.hpp"
#include "pe/version_info.hpp"
#include "uefi/uefi_image.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace pemap;
  const Bytes bytes{reinterpret_cast<const std::byte*>(data), size};
  auto image = pe::Image::parse(bytes);
  if (!image) return 0;
  uint64_t sink = 0;
  if (auto r = pe::parse_relocations(*image)) r->for_each([&](const pe::RelocEntry& e) { sink += e.rva; });
  if (auto i = pe::parse_imports(*image)) sink += i->entry_count();
  if (auto d = pe::parse_delay_imports(*image)) sink += d->modules.size();
  if (auto b = pe::parse_bound_imports(*image)) sink += b->modules.size();
  if (auto e = pe::parse_exports(*image)) {
    for (const auto& x : e->entries)
      if (auto f = pe::split_forwarder(x.forwarder)) sink += f->ordinal;
  }
  if (auto t = pe::parse_tls(*image)) sink += t->callbacks.size();
  if (auto l = pe::parse_load_config(*image)) {
    sink += l->fields.size();
    sink += pe::parse_guard_tables(*image, *l).cf_functions.size();
  }
  if (auto c = pe::parse_clr(*image); c && c->metadata_root) sink += c->metadata_root->streams.size();
  if (auto t = pe::parse_certificate_table(*image)) sink += t->entries.size();
  if (auto x = pe::parse_exceptions(*image, true)) sink += x->functions.size();
  for (const auto& r : pe::authenticode_ranges(*image)) sink += r.size;
  if (auto g = pe::parse_debug(*image)) sink += g->entries.size();
  for (const auto& s : image->sections()) {
    if (auto v = image->read_rva<uint32_t>(s.rva(), "fuzz")) sink += *v;
    if (auto off = image->rva_to_offset(s.rva())) sink += image->offset_to_rva(*off).value_or(0);
  }
  if (auto c = image->copy_range(image->optional_header().address_of_entry_point, 64, "fuzz")) sink += c->size();
  if (auto a = pe::parse_api_set_namespace(bytes)) sink += a->contracts.size();    // any bytes as a namespace
  if (auto v = pe::parse_version_info(bytes, 0)) sink += v->string_tables.size();  // and as a version resource
  if (auto r = pe::parse_resources(*image)) {
    for (const auto& e : r->entries) {
      if (e.type.named || (e.type.id != 16 && e.type.id != 24) || e.size > (1u << 16)) continue;
      auto b = pe::resource_bytes(*image, e);
      if (!b) continue;
      if (e.type.id == 16) {
        if (auto v = pe::parse_version_info(*b, e.rva)) sink += v->translations.size();
      } else {
        sink += analysis::read_manifest(*b, e.rva).dependencies.size();
      }
    }
  }
  if (auto rich = pe::parse_rich_header(*image)) sink += rich->entries.size();
  sink += pe::compute_checksum(*image);
  sink += analysis::imphash(*image).elements.size();
  if (auto a = pe::parse_api_set_schema(*image)) sink += a->contracts.size();
  const auto other =
      image->layout() == pe::Layout::memory_manager ? pe::Layout::section_table : pe::Layout::memory_manager;
  if (auto again = pe::Image::parse(bytes, other)) {
    if (auto r = pe::parse_relocations(*again)) sink += r->entry_count();
    if (auto i = pe::parse_imports(*again)) sink += i->entry_count();
  }
  // Moved a page from ImageBase, so that every fixup is applied; small images only, to keep each run fast.
  if (uefi::is_efi(*image) && image->mapped_size() <= (uint64_t{16} << 20))
    if (auto l = uefi::load(*image, image->image_base() + 0x1000)) sink += l->bytes.size();
  return sink == 0x5a5a5a5a5a5a5a5aull ? 1 : 0;  // keeps the walk from being optimized away
}
