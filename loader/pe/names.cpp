// Tables of names for the numeric fields of the headers.
#include "pe/names.hpp"

#include <array>
#include <utility>

#include "pe/spec.hpp"

namespace pemap::pe {
namespace {

template <class T, size_t N>
std::vector<std::string_view> flags(T value, const std::array<std::pair<T, std::string_view>, N>& table) {
  std::vector<std::string_view> out;
  for (const auto& [bit, name] : table)
    if (value & bit) out.push_back(name);
  return out;
}

}  // namespace

std::string_view machine_name(uint16_t m) {
  switch (m) {
    case machine::unknown:
      return "UNKNOWN";
    case machine::i386:
      return "I386";
    case machine::r3000:
      return "R3000";
    case machine::r4000:
      return "R4000";
    case machine::r10000:
      return "R10000";
    case machine::wcemipsv2:
      return "WCEMIPSV2";
    case machine::alpha:
      return "ALPHA";
    case machine::sh3:
      return "SH3";
    case machine::sh3dsp:
      return "SH3DSP";
    case machine::sh4:
      return "SH4";
    case machine::sh5:
      return "SH5";
    case machine::arm:
      return "ARM";
    case machine::thumb:
      return "THUMB";
    case machine::armnt:
      return "ARMNT";
    case machine::am33:
      return "AM33";
    case machine::powerpc:
      return "POWERPC";
    case machine::powerpcfp:
      return "POWERPCFP";
    case machine::ia64:
      return "IA64";
    case machine::mips16:
      return "MIPS16";
    case machine::alpha64:
      return "ALPHA64";
    case machine::mipsfpu:
      return "MIPSFPU";
    case machine::mipsfpu16:
      return "MIPSFPU16";
    case machine::tricore:
      return "TRICORE";
    case machine::ebc:
      return "EBC";
    case machine::riscv32:
      return "RISCV32";
    case machine::riscv64:
      return "RISCV64";
    case machine::riscv128:
      return "RISCV128";
    case machine::loongarch32:
      return "LOONGARCH32";
    case machine::loongarch64:
      return "LOONGARCH64";
    case machine::amd64:
      return "AMD64";
    case machine::m32r:
      return "M32R";
    case machine::arm64:
      return "ARM64";
    case machine::arm64ec:
      return "ARM64EC";
    case machine::arm64x:
      return "ARM64X";
    default:
      return "OTHER";
  }
}

std::string_view subsystem_name(uint16_t s) {
  static constexpr std::array<std::string_view, 17> names{"UNKNOWN",
                                                          "NATIVE",
                                                          "WINDOWS_GUI",
                                                          "WINDOWS_CUI",
                                                          "",
                                                          "OS2_CUI",
                                                          "",
                                                          "POSIX_CUI",
                                                          "NATIVE_WINDOWS",
                                                          "WINDOWS_CE_GUI",
                                                          "EFI_APPLICATION",
                                                          "EFI_BOOT_SERVICE_DRIVER",
                                                          "EFI_RUNTIME_DRIVER",
                                                          "EFI_ROM",
                                                          "XBOX",
                                                          "",
                                                          "WINDOWS_BOOT_APPLICATION"};
  if (s < names.size() && !names[s].empty()) return names[s];
  return "OTHER";
}

std::string_view directory_name(uint32_t i) {
  static constexpr std::array<std::string_view, 16> names{
      "EXPORT",    "IMPORT", "RESOURCE",    "EXCEPTION",    "SECURITY", "BASERELOC",    "DEBUG",       "ARCHITECTURE",
      "GLOBALPTR", "TLS",    "LOAD_CONFIG", "BOUND_IMPORT", "IAT",      "DELAY_IMPORT", "CLR_RUNTIME", "RESERVED"};
  return i < names.size() ? names[i] : "?";
}

std::vector<std::string_view> file_flag_names(uint16_t c) {
  static constexpr std::array<std::pair<uint16_t, std::string_view>, 15> table{{{0x0001, "RELOCS_STRIPPED"},
                                                                                {0x0002, "EXECUTABLE_IMAGE"},
                                                                                {0x0004, "LINE_NUMS_STRIPPED"},
                                                                                {0x0008, "LOCAL_SYMS_STRIPPED"},
                                                                                {0x0010, "AGGRESSIVE_WS_TRIM"},
                                                                                {0x0020, "LARGE_ADDRESS_AWARE"},
                                                                                {0x0080, "BYTES_REVERSED_LO"},
                                                                                {0x0100, "32BIT_MACHINE"},
                                                                                {0x0200, "DEBUG_STRIPPED"},
                                                                                {0x0400, "REMOVABLE_RUN_FROM_SWAP"},
                                                                                {0x0800, "NET_RUN_FROM_SWAP"},
                                                                                {0x1000, "SYSTEM"},
                                                                                {0x2000, "DLL"},
                                                                                {0x4000, "UP_SYSTEM_ONLY"},
                                                                                {0x8000, "BYTES_REVERSED_HI"}}};
  return flags(c, table);
}

std::vector<std::string_view> dll_flag_names(uint16_t c) {
  static constexpr std::array<std::pair<uint16_t, std::string_view>, 11> table{{{0x0020, "HIGH_ENTROPY_VA"},
                                                                                {0x0040, "DYNAMIC_BASE"},
                                                                                {0x0080, "FORCE_INTEGRITY"},
                                                                                {0x0100, "NX_COMPAT"},
                                                                                {0x0200, "NO_ISOLATION"},
                                                                                {0x0400, "NO_SEH"},
                                                                                {0x0800, "NO_BIND"},
                                                                                {0x1000, "APPCONTAINER"},
                                                                                {0x2000, "WDM_DRIVER"},
                                                                                {0x4000, "GUARD_CF"},
                                                                                {0x8000, "TERMINAL_SERVER_AWARE"}}};
  return flags(c, table);
}

std::vector<std::string_view> section_flag_names(uint32_t c) {
  static constexpr std::array<std::pair<uint32_t, std::string_view>, 16> table{{{0x00000008, "TYPE_NO_PAD"},
                                                                                {0x00000020, "CNT_CODE"},
                                                                                {0x00000040, "CNT_INITIALIZED_DATA"},
                                                                                {0x00000080, "CNT_UNINITIALIZED_DATA"},
                                                                                {0x00000200, "LNK_INFO"},
                                                                                {0x00000800, "LNK_REMOVE"},
                                                                                {0x00001000, "LNK_COMDAT"},
                                                                                {0x00008000, "GPREL"},
                                                                                {0x01000000, "LNK_NRELOC_OVFL"},
                                                                                {0x02000000, "MEM_DISCARDABLE"},
                                                                                {0x04000000, "MEM_NOT_CACHED"},
                                                                                {0x08000000, "MEM_NOT_PAGED"},
                                                                                {0x10000000, "MEM_SHARED"},
                                                                                {0x20000000, "MEM_EXECUTE"},
                                                                                {0x40000000, "MEM_READ"},
                                                                                {0x80000000, "MEM_WRITE"}}};
  return flags(c, table);
}

std::string section_access(uint32_t c) {
  std::string s = "---";
  if (c & scn::mem_read) s[0] = 'R';
  if (c & scn::mem_write) s[1] = 'W';
  if (c & scn::mem_execute) s[2] = 'X';
  return s;
}

std::string section_content(uint32_t c) {
  std::vector<std::string_view> parts;
  if (c & scn::cnt_code) parts.push_back("CODE");
  if (c & scn::cnt_initialized_data) parts.push_back("IDATA");
  if (c & scn::cnt_uninitialized_data) parts.push_back("UDATA");
  if (c & scn::mem_shared) parts.push_back("SHARED");
  if (c & scn::mem_discardable) parts.push_back("DISCARD");
  return join(parts, " ");
}

std::string join(const std::vector<std::string_view>& parts, std::string_view sep) {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i) out += sep;
    out += parts[i];
  }
  return out;
}

}  // namespace pemap::pe
