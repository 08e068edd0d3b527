// On-disk structures of the PE/COFF specification, byte for byte, and the constants that go with them.
#pragma once

#include <array>
#include <cstdint>
#include <type_traits>

namespace pemap::pe {

struct DosHeader {
  uint16_t e_magic, e_cblp, e_cp, e_crlc, e_cparhdr, e_minalloc, e_maxalloc, e_ss, e_sp, e_csum, e_ip, e_cs, e_lfarlc,
      e_ovno;
  std::array<uint16_t, 4> e_res;
  uint16_t e_oemid, e_oeminfo;
  std::array<uint16_t, 10> e_res2;
  uint32_t e_lfanew;
};

struct FileHeader {
  uint16_t Machine;
  uint16_t NumberOfSections;
  uint32_t TimeDateStamp;
  uint32_t PointerToSymbolTable;
  uint32_t NumberOfSymbols;
  uint16_t SizeOfOptionalHeader;
  uint16_t Characteristics;
};

// The two optional headers differ in BaseOfData and in the width of five fields.
struct OptionalHeader32 {
  uint16_t Magic;
  uint8_t MajorLinkerVersion, MinorLinkerVersion;
  uint32_t SizeOfCode, SizeOfInitializedData, SizeOfUninitializedData, AddressOfEntryPoint, BaseOfCode;
  uint32_t BaseOfData;
  uint32_t ImageBase;
  uint32_t SectionAlignment, FileAlignment;
  uint16_t MajorOperatingSystemVersion, MinorOperatingSystemVersion, MajorImageVersion, MinorImageVersion,
      MajorSubsystemVersion, MinorSubsystemVersion;
  uint32_t Win32VersionValue, SizeOfImage, SizeOfHeaders, CheckSum;
  uint16_t Subsystem, DllCharacteristics;
  uint32_t SizeOfStackReserve, SizeOfStackCommit, SizeOfHeapReserve, SizeOfHeapCommit;
  uint32_t LoaderFlags, NumberOfRvaAndSizes;
};

#pragma pack(push, 4)  // ImageBase sits at offset 24, so the 64-bit header has no natural padding either
struct OptionalHeader64 {
  uint16_t Magic;
  uint8_t MajorLinkerVersion, MinorLinkerVersion;
  uint32_t SizeOfCode, SizeOfInitializedData, SizeOfUninitializedData, AddressOfEntryPoint, BaseOfCode;
  uint64_t ImageBase;
  uint32_t SectionAlignment, FileAlignment;
  uint16_t MajorOperatingSystemVersion, MinorOperatingSystemVersion, MajorImageVersion, MinorImageVersion,
      MajorSubsystemVersion, MinorSubsystemVersion;
  uint32_t Win32VersionValue, SizeOfImage, SizeOfHeaders, CheckSum;
  uint16_t Subsystem, DllCharacteristics;
  uint64_t SizeOfStackReserve, SizeOfStackCommit, SizeOfHeapReserve, SizeOfHeapCommit;
  uint32_t LoaderFlags, NumberOfRvaAndSizes;
};
#pragma pack(pop)

struct DataDirectory {
  uint32_t VirtualAddress;
  uint32_t Size;
};

struct SectionHeader {
  std::array<char, 8> Name;
  uint32_t VirtualSize, VirtualAddress, SizeOfRawData, PointerToRawData, PointerToRelocations, PointerToLinenumbers;
  uint16_t NumberOfRelocations, NumberOfLinenumbers;
  uint32_t Characteristics;
};

struct ImportDescriptor {
  uint32_t OriginalFirstThunk, TimeDateStamp, ForwarderChain, Name, FirstThunk;
};

struct ExportDirectory {
  uint32_t Characteristics, TimeDateStamp;
  uint16_t MajorVersion, MinorVersion;
  uint32_t Name, Base, NumberOfFunctions, NumberOfNames, AddressOfFunctions, AddressOfNames, AddressOfNameOrdinals;
};

struct BaseRelocationBlock {
  uint32_t VirtualAddress;
  uint32_t SizeOfBlock;
};

struct TlsDirectory32 {
  uint32_t StartAddressOfRawData, EndAddressOfRawData, AddressOfIndex, AddressOfCallBacks, SizeOfZeroFill,
      Characteristics;
};

struct TlsDirectory64 {
  uint64_t StartAddressOfRawData, EndAddressOfRawData, AddressOfIndex, AddressOfCallBacks;
  uint32_t SizeOfZeroFill, Characteristics;
};

struct DelayImportDescriptor {
  uint32_t Attributes, DllNameRVA, ModuleHandleRVA, ImportAddressTableRVA, ImportNameTableRVA,
      BoundImportAddressTableRVA, UnloadInformationTableRVA, TimeDateStamp;
};

struct BoundImportDescriptor {
  uint32_t TimeDateStamp;
  uint16_t OffsetModuleName;
  uint16_t NumberOfModuleForwarderRefs;  // IMAGE_BOUND_FORWARDER_REF has the same shape
};

struct DebugDirectory {
  uint32_t Characteristics, TimeDateStamp;
  uint16_t MajorVersion, MinorVersion;
  uint32_t Type, SizeOfData, AddressOfRawData, PointerToRawData;
};

struct ResourceDirectory {
  uint32_t Characteristics, TimeDateStamp;
  uint16_t MajorVersion, MinorVersion;
  uint16_t NumberOfNamedEntries, NumberOfIdEntries;  // the entries follow, the named ones first
};

struct ResourceDirectoryEntry {
  uint32_t Name;          // high bit: offset of a counted UTF-16 name; else the ID
  uint32_t OffsetToData;  // high bit: offset of a subdirectory; else of a ResourceDataEntry
};

struct ResourceDataEntry {
  uint32_t OffsetToData;  // an RVA, not an offset into the tree
  uint32_t Size, CodePage, Reserved;
};

static_assert(sizeof(DosHeader) == 64);
static_assert(sizeof(FileHeader) == 20);
static_assert(sizeof(OptionalHeader32) == 96);
static_assert(sizeof(OptionalHeader64) == 112);
static_assert(sizeof(DataDirectory) == 8);
static_assert(sizeof(SectionHeader) == 40);
static_assert(sizeof(ImportDescriptor) == 20);
static_assert(sizeof(ExportDirectory) == 40);
static_assert(sizeof(BaseRelocationBlock) == 8);
static_assert(sizeof(TlsDirectory32) == 24);
static_assert(sizeof(TlsDirectory64) == 40);
static_assert(sizeof(DelayImportDescriptor) == 32);
static_assert(sizeof(BoundImportDescriptor) == 8);
static_assert(sizeof(DebugDirectory) == 28);
static_assert(sizeof(ResourceDirectory) == 16);
static_assert(sizeof(ResourceDirectoryEntry) == 8);
static_assert(sizeof(ResourceDataEntry) == 16);
static_assert(std::is_trivially_copyable_v<OptionalHeader64>);

inline constexpr uint16_t kMzMagic = 0x5A4D;      // "MZ"
inline constexpr uint32_t kPeSignature = 0x4550;  // "PE\0\0"
inline constexpr uint16_t kNeSignature = 0x454E;  // "NE"
inline constexpr uint16_t kPe32Magic = 0x10B;
inline constexpr uint16_t kPe32PlusMagic = 0x20B;
inline constexpr uint32_t kMaxDataDirectories = 16;
inline constexpr uint64_t kPageSize = 0x1000;
inline constexpr uint64_t kAllocationGranularity = 0x10000;
inline constexpr uint64_t kRawAlignment = 0x200;  // the memory manager rounds raw data to 512 bytes
// The page protections the memory manager gives an image's regions (and VirtualQuery reports).
inline constexpr uint32_t PAGE_NOACCESS = 0x01, PAGE_READONLY = 0x02, PAGE_READWRITE = 0x04, PAGE_WRITECOPY = 0x08,
                          PAGE_EXECUTE = 0x10, PAGE_EXECUTE_READ = 0x20, PAGE_EXECUTE_READWRITE = 0x40,
                          PAGE_EXECUTE_WRITECOPY = 0x80;

enum DirectoryIndex : uint32_t {
  kDirExport = 0,
  kDirImport,
  kDirResource,
  kDirException,
  kDirSecurity,
  kDirBaseReloc,
  kDirDebug,
  kDirArchitecture,
  kDirGlobalPtr,
  kDirTls,
  kDirLoadConfig,
  kDirBoundImport,
  kDirIat,
  kDirDelayImport,
  kDirClr,
  kDirReserved,
};

namespace machine {
inline constexpr uint16_t unknown = 0, i386 = 0x14c, r3000 = 0x162, r4000 = 0x166, r10000 = 0x168, wcemipsv2 = 0x169,
                          alpha = 0x184, sh3 = 0x1a2, sh3dsp = 0x1a3, sh4 = 0x1a6, sh5 = 0x1a8, arm = 0x1c0,
                          thumb = 0x1c2, armnt = 0x1c4, am33 = 0x1d3, powerpc = 0x1f0, powerpcfp = 0x1f1, ia64 = 0x200,
                          mips16 = 0x266, alpha64 = 0x284, mipsfpu = 0x366, mipsfpu16 = 0x466, tricore = 0x520,
                          ebc = 0xebc, riscv32 = 0x5032, riscv64 = 0x5064, riscv128 = 0x5128, loongarch32 = 0x6232,
                          loongarch64 = 0x6264, amd64 = 0x8664, m32r = 0x9041, arm64 = 0xaa64, arm64ec = 0xa641,
                          arm64x = 0xa64e;
}  // namespace machine

// Optional header Subsystem values an image's own loader is named by.
namespace subsystem {
inline constexpr uint16_t efi_application = 10, efi_boot_service_driver = 11, efi_runtime_driver = 12, efi_rom = 13;
}

namespace file_flag {
inline constexpr uint16_t relocs_stripped = 0x0001, executable_image = 0x0002, large_address_aware = 0x0020,
                          machine_32bit = 0x0100, dll = 0x2000;
}

namespace dll_flag {
inline constexpr uint16_t high_entropy_va = 0x0020, dynamic_base = 0x0040, force_integrity = 0x0080, nx_compat = 0x0100,
                          no_isolation = 0x0200, no_seh = 0x0400, no_bind = 0x0800, appcontainer = 0x1000,
                          wdm_driver = 0x2000, guard_cf = 0x4000, terminal_server_aware = 0x8000;
}

namespace scn {
inline constexpr uint32_t cnt_code = 0x20, cnt_initialized_data = 0x40, cnt_uninitialized_data = 0x80, lnk_info = 0x200,
                          lnk_remove = 0x800, lnk_comdat = 0x1000, gprel = 0x8000, lnk_nreloc_ovfl = 0x01000000,
                          mem_discardable = 0x02000000, mem_not_cached = 0x04000000, mem_not_paged = 0x08000000,
                          mem_shared = 0x10000000, mem_execute = 0x20000000, mem_read = 0x40000000,
                          mem_write = 0x80000000;
}

}  // namespace pemap::pe
