// Parsing of the Rich header.
#include "pe/rich_header.hpp"

#include <bit>

namespace pemap::pe {

std::string_view rich_product_name(uint16_t product) {
  // Visual Studio 2015 to 2022 (toolset 14.x, compiler 19.x) share one block of IDs; 1 counts imported functions.
  static constexpr std::string_view vs2015[] = {
      "AliasObj1400",       "Cvtpgd1900",       "Cvtres1400",        "Export1400",        "Implib1400",
      "Linker1400",         "Masm1400",         "Utc1900_C",         "Utc1900_CPP",       "Utc1900_CVTCIL_C",
      "Utc1900_CVTCIL_CPP", "Utc1900_LTCG_C",   "Utc1900_LTCG_CPP",  "Utc1900_LTCG_MSIL", "Utc1900_POGO_I_C",
      "Utc1900_POGO_I_CPP", "Utc1900_POGO_O_C", "Utc1900_POGO_O_CPP"};
  if (product == 0) return "Unknown";
  if (product == 1) return "Import0";
  if (product == 0x93) return "Implib900";
  if (product >= 0xFD && product < 0xFD + std::size(vs2015)) return vs2015[product - 0xFD];
  return {};
}

namespace {

constexpr uint32_t kRich = 0x68636952;  // "Rich"
constexpr uint32_t kDanS = 0x536E6144;  // "DanS"
constexpr uint64_t kStubStart = sizeof(DosHeader);

}  // namespace

std::optional<RichHeader> parse_rich_header(const Image& image) {
  const Bytes file = image.file();
  const uint64_t stub_end = std::min<uint64_t>(image.nt_offset(), file.size());
  // The marker is DWORD-aligned; the last one in the stub is the header's end.
  uint64_t rich = 0;
  for (uint64_t at = kStubStart; at + 8 <= stub_end; at += 4)
    if (load<uint32_t>(file, at) == kRich) rich = at;
  if (rich == 0) return std::nullopt;
  RichHeader h;
  h.key = load<uint32_t>(file, rich + 4);
  h.end = rich + 8;
  uint64_t dans = 0;
  for (uint64_t at = rich; at >= kStubStart + 4;) {
    at -= 4;
    if ((load<uint32_t>(file, at) ^ h.key) == kDanS) {
      dans = at;
      break;
    }
  }
  if (dans == 0) return std::nullopt;
  h.offset = dans;
  // "DanS" is followed by three DWORDs of zero (under the key), then (comp.id, count) pairs up to "Rich".
  for (uint64_t at = dans + 16; at + 8 <= rich; at += 8) {
    const uint32_t id = load<uint32_t>(file, at) ^ h.key;
    h.entries.push_back(
        {static_cast<uint16_t>(id >> 16), static_cast<uint16_t>(id), load<uint32_t>(file, at + 4) ^ h.key});
  }
  // The linker's checksum: DanS's offset, each byte before it rotated left by its offset (e_lfanew's four bytes
  // left out), and each comp.id rotated left by its count.
  uint32_t sum = static_cast<uint32_t>(dans);
  for (uint64_t i = 0; i < dans; ++i) {
    if (i >= offsetof(DosHeader, e_lfanew) && i < offsetof(DosHeader, e_lfanew) + 4) continue;
    sum += std::rotl(static_cast<uint32_t>(static_cast<uint8_t>(file[i])), static_cast<int>(i % 32));
  }
  for (const auto& e : h.entries)
    sum += std::rotl((uint32_t{e.product} << 16) | e.build, static_cast<int>(e.count % 32));
  h.checksum = sum;
  return h;
}

}  // namespace pemap::pe
