// Parsing of the load configuration directory, table-driven so PE32 and PE32+ share one walk.
#include "pe/load_config.hpp"

#include <array>

#include <fmt/format.h>

namespace pemap::pe {
namespace {

// Each field: name and whether it is pointer-sized (4 bytes in PE32, 8 in PE32+) or a fixed width,
// and in which formats it stands at this place of the layout.
enum class In : uint8_t { both, pe32, pe64 };
struct FieldSpec {
  std::string_view name;
  unsigned width;  // 0 = pointer-sized
  In in = In::both;
};

constexpr std::array kFields{
    FieldSpec{"Size", 4},
    FieldSpec{"TimeDateStamp", 4},
    FieldSpec{"MajorVersion", 2},
    FieldSpec{"MinorVersion", 2},
    FieldSpec{"GlobalFlagsClear", 4},
    FieldSpec{"GlobalFlagsSet", 4},
    FieldSpec{"CriticalSectionDefaultTimeout", 4},
    FieldSpec{"DeCommitFreeBlockThreshold", 0},
    FieldSpec{"DeCommitTotalFreeThreshold", 0},
    FieldSpec{"LockPrefixTable", 0},
    FieldSpec{"MaximumAllocationSize", 0},
    FieldSpec{"VirtualMemoryThreshold", 0},
    // winnt.h: PE32 has ProcessHeapFlags before ProcessAffinityMask, PE32+ the other way round.
    FieldSpec{"ProcessHeapFlags", 4, In::pe32},
    FieldSpec{"ProcessAffinityMask", 0},
    FieldSpec{"ProcessHeapFlags", 4, In::pe64},
    FieldSpec{"CSDVersion", 2},
    FieldSpec{"DependentLoadFlags", 2},
    FieldSpec{"EditList", 0},
    FieldSpec{"SecurityCookie", 0},
    FieldSpec{"SEHandlerTable", 0},
    FieldSpec{"SEHandlerCount", 0},
    FieldSpec{"GuardCFCheckFunctionPointer", 0},
    FieldSpec{"GuardCFDispatchFunctionPointer", 0},
    FieldSpec{"GuardCFFunctionTable", 0},
    FieldSpec{"GuardCFFunctionCount", 0},
    FieldSpec{"GuardFlags", 4},
    FieldSpec{"CodeIntegrity.Flags", 2},
    FieldSpec{"CodeIntegrity.Catalog", 2},
    FieldSpec{"CodeIntegrity.CatalogOffset", 4},
    FieldSpec{"CodeIntegrity.Reserved", 4},
    FieldSpec{"GuardAddressTakenIatEntryTable", 0},
    FieldSpec{"GuardAddressTakenIatEntryCount", 0},
    FieldSpec{"GuardLongJumpTargetTable", 0},
    FieldSpec{"GuardLongJumpTargetCount", 0},
    FieldSpec{"DynamicValueRelocTable", 0},
    FieldSpec{"CHPEMetadataPointer", 0},
    FieldSpec{"GuardRFFailureRoutine", 0},
    FieldSpec{"GuardRFFailureRoutineFunctionPointer", 0},
    FieldSpec{"DynamicValueRelocTableOffset", 4},
    FieldSpec{"DynamicValueRelocTableSection", 2},
    FieldSpec{"Reserved2", 2},
    FieldSpec{"GuardRFVerifyStackPointerFunctionPointer", 0},
    FieldSpec{"HotPatchTableOffset", 4},
    FieldSpec{"Reserved3", 4},
    FieldSpec{"EnclaveConfigurationPointer", 0},
    FieldSpec{"VolatileMetadataPointer", 0},
    FieldSpec{"GuardEHContinuationTable", 0},
    FieldSpec{"GuardEHContinuationCount", 0},
    FieldSpec{"GuardXFGCheckFunctionPointer", 0},
    FieldSpec{"GuardXFGDispatchFunctionPointer", 0},
    FieldSpec{"GuardXFGTableDispatchFunctionPointer", 0},
    FieldSpec{"CastGuardOsDeterminedFailureMode", 0},
    FieldSpec{"GuardMemcpyFunctionPointer", 0},
};

}  // namespace

std::optional<uint64_t> LoadConfig::get(std::string_view name) const {
  for (const auto& f : fields)
    if (f.name == name) return f.value;
  return std::nullopt;
}

Result<LoadConfig> parse_load_config(const Image& image) {
  LoadConfig out;
  const auto used = image.used_directory(kDirLoadConfig);
  if (!used) return out;
  const DataDirectory dir = *used;
  auto size = image.read_rva<uint32_t>(dir.VirtualAddress, "load config directory");
  if (!size) return size.take_error();
  out.present = true;
  out.size = *size;
  if (auto cut = image.directory_unreadable(kDirLoadConfig, "load config directory", sizeof(uint32_t)))
    out.warnings.push_back(std::move(*cut));
  if (*size != dir.Size && dir.Size != 0x40)  // link.exe of the XP era wrote 0x40 in the directory
    out.warnings.push_back(make_error(Status::success, "load config directory", Location::rva(dir.VirtualAddress),
                                      fmt::format("Size field {:#x} differs from the data directory's {:#x}; "
                                                  "the loader trusts the field",
                                                  *size, dir.Size)));
  const unsigned ptr = image.pointer_size();
  uint32_t off = 0;
  const In format = image.is_pe32plus() ? In::pe64 : In::pe32;
  for (const auto& spec : kFields) {
    if (spec.in != In::both && spec.in != format) continue;
    const unsigned w = spec.width ? spec.width : ptr;
    if (uint64_t{off} + w > *size) break;
    auto v = image.read_uint(dir.VirtualAddress + off, w, "load config field");
    if (!v) {
      out.warnings.push_back(v.take_error());
      break;
    }
    out.fields.push_back({spec.name, off, w, *v});
    off += w;
  }
  return out;
}

}  // namespace pemap::pe
