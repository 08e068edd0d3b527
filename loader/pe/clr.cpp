// Parsing of the CLR header and the metadata root.
#include "pe/clr.hpp"

#include <algorithm>

#include <fmt/format.h>

namespace pemap::pe {

std::vector<std::string> clr_flag_names(uint32_t flags) {
  static constexpr std::pair<uint32_t, const char*> names[] = {{0x1, "ILONLY"},
                                                               {0x2, "32BITREQUIRED"},
                                                               {0x4, "IL_LIBRARY"},
                                                               {0x8, "STRONGNAMESIGNED"},
                                                               {0x10, "NATIVE_ENTRYPOINT"},
                                                               {0x10000, "TRACKDEBUGDATA"},
                                                               {0x20000, "32BITPREFERRED"}};
  std::vector<std::string> out;
  for (const auto& [bit, name] : names)
    if (flags & bit) out.emplace_back(name), flags &= ~bit;
  if (flags) out.push_back(fmt::format("{:#x}", flags));
  return out;
}

namespace {

#pragma pack(push, 4)
struct Cor20Header {
  uint32_t cb;
  uint16_t MajorRuntimeVersion, MinorRuntimeVersion;
  DataDirectory MetaData;
  uint32_t Flags;
  uint32_t EntryPointTokenOrRva;
  DataDirectory Resources, StrongNameSignature, CodeManagerTable, VTableFixups, ExportAddressTableJumps,
      ManagedNativeHeader;
};
#pragma pack(pop)
static_assert(sizeof(Cor20Header) == 72);

constexpr uint32_t kMetadataSignature = 0x424A5342;  // "BSJB"
constexpr uint32_t kMaxVersionLength = 255;          // ECMA-335 II.24.2.1
constexpr size_t kMaxStreamName = 32;

std::optional<ClrMetadata> read_metadata(const Image& image, const DataDirectory& md, std::vector<Error>& warnings) {
  const auto warn = [&](uint64_t rva, std::string message) {
    warnings.push_back(make_error(Status::success, "CLR metadata root", Location::rva(rva), std::move(message)));
    return std::nullopt;
  };
  if (md.VirtualAddress == 0 || md.Size < 16)
    return warn(md.VirtualAddress, fmt::format("MetaData is {:#x} bytes at "
                                               "RVA {:#x}: no root",
                                               md.Size, md.VirtualAddress));
  if (md.VirtualAddress >= image.mapped_size())
    return warn(md.VirtualAddress, fmt::format("MetaData at RVA {:#x} lies past the image", md.VirtualAddress));
  // The root is read up to the image's end (a Size past it is clipped), and no further than the file's size.
  uint64_t len =
      std::min<uint64_t>({uint64_t{md.Size}, image.mapped_size() - md.VirtualAddress, uint64_t{image.file().size()}});
  // A file cut short inside the metadata: the root and stream headers are read up to where its bytes stop.
  if (const auto missing = image.first_missing(md.VirtualAddress, len)) {
    warnings.push_back(*image.cut_short(md.VirtualAddress, len, "CLR metadata root"));
    len = missing->rva - md.VirtualAddress;
    if (len < 16) return std::nullopt;
  }
  auto bytes = image.copy_range(md.VirtualAddress, len, "CLR metadata");
  if (!bytes) return warnings.push_back(bytes.take_error()), std::nullopt;
  const Bytes b(*bytes);
  if (b.size() < 16) return warn(md.VirtualAddress, "the metadata root lies past the end of the image");
  if (load<uint32_t>(b, 0) != kMetadataSignature)
    return warn(md.VirtualAddress, fmt::format("signature {:#x} is not 0x424a5342 (\"BSJB\")", load<uint32_t>(b, 0)));
  ClrMetadata m;
  m.rva = md.VirtualAddress;
  m.major_version = load<uint16_t>(b, 4);
  m.minor_version = load<uint16_t>(b, 6);
  const uint32_t length = load<uint32_t>(b, 12);
  if (length > kMaxVersionLength || 16 + uint64_t{length} + 4 > b.size())
    return warn(md.VirtualAddress + 12, fmt::format("version length {} does not fit in the metadata", length));
  const auto version = as_chars(b.subspan(16, length));
  m.version = std::string(version.substr(0, version.find('\0')));
  uint64_t at = 16 + align_up(length, 4);
  if (at + 4 > b.size()) return warn(md.VirtualAddress + at, "the metadata ends before its stream count");
  m.flags = load<uint16_t>(b, at);
  const uint16_t streams = load<uint16_t>(b, at + 2);
  at += 4;
  for (uint16_t i = 0; i < streams; ++i) {
    if (at + 8 > b.size()) {
      warn(md.VirtualAddress + at, fmt::format("stream header {} of {} lies past the metadata's Size", i, streams));
      break;
    }
    ClrStream s;
    s.offset = load<uint32_t>(b, at);
    s.size = load<uint32_t>(b, at + 4);
    const auto rest = as_chars(b.subspan(at + 8)).substr(0, kMaxStreamName);
    const auto nul = rest.find('\0');
    if (nul == std::string_view::npos) {
      warn(md.VirtualAddress + at, fmt::format("stream header {}'s name has no NUL within 32 bytes", i));
      break;
    }
    s.name = std::string(rest.substr(0, nul));
    if (uint64_t{s.offset} + s.size > md.Size)
      warn(md.VirtualAddress + at, fmt::format("stream {} ({:#x} bytes at {:#x}) runs past the metadata's Size {:#x}",
                                               s.name, s.size, s.offset, md.Size));
    m.streams.push_back(std::move(s));
    at += 8 + align_up(nul + 1, 4);
  }
  return m;
}

}  // namespace

Result<ClrHeader> parse_clr(const Image& image) {
  ClrHeader out;
  const auto used = image.used_directory(kDirClr);
  if (!used) return out;
  if (auto cut = image.directory_unreadable(kDirClr, "CLR header", sizeof(Cor20Header))) {
    out.present = true;
    out.warnings.push_back(std::move(*cut));
    return out;
  }
  auto h = image.read_rva<Cor20Header>(used->VirtualAddress, "CLR header");
  if (!h) return h.take_error();
  out.present = true;
  out.cb = h->cb;
  out.major_runtime_version = h->MajorRuntimeVersion;
  out.minor_runtime_version = h->MinorRuntimeVersion;
  out.metadata = h->MetaData;
  out.flags = h->Flags;
  out.entry_point = h->EntryPointTokenOrRva;
  out.resources = h->Resources;
  out.strong_name_signature = h->StrongNameSignature;
  out.code_manager_table = h->CodeManagerTable;
  out.vtable_fixups = h->VTableFixups;
  out.export_address_table_jumps = h->ExportAddressTableJumps;
  out.managed_native_header = h->ManagedNativeHeader;
  if (h->cb < sizeof(Cor20Header))
    out.warnings.push_back(make_error(Status::success, "CLR header", Location::rva(used->VirtualAddress),
                                      fmt::format("cb {} is below the header's 72 bytes", h->cb)));
  out.metadata_root = read_metadata(image, h->MetaData, out.warnings);
  return out;
}

}  // namespace pemap::pe
