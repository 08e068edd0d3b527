// The Win32 vocabulary of section objects: protections, section attributes, view access, error codes.
#pragma once

#include <cstdint>
#include <string_view>

#include "pe/error.hpp"
#include "pe/spec.hpp"

namespace pemap::win {

// Page protections (flProtect of CreateFileMapping, and VirtualQuery's Protect): the ones an image's layout uses.
using pe::PAGE_EXECUTE, pe::PAGE_EXECUTE_READ, pe::PAGE_EXECUTE_READWRITE, pe::PAGE_EXECUTE_WRITECOPY,
    pe::PAGE_NOACCESS, pe::PAGE_READONLY, pe::PAGE_READWRITE, pe::PAGE_WRITECOPY;
// Section attributes, or'ed into flProtect.
inline constexpr uint32_t SEC_IMAGE = 0x01000000, SEC_RESERVE = 0x04000000, SEC_COMMIT = 0x08000000,
                          SEC_NOCACHE = 0x10000000;
// View access (dwDesiredAccess of MapViewOfFile and OpenFileMapping).
inline constexpr uint32_t FILE_MAP_COPY = 0x0001, FILE_MAP_WRITE = 0x0002, FILE_MAP_READ = 0x0004,
                          FILE_MAP_EXECUTE = 0x0020, FILE_MAP_ALL_ACCESS = 0x000F001F;
// VirtualQuery's State and Type.
inline constexpr uint32_t MEM_COMMIT = 0x1000, MEM_RESERVE = 0x2000, MEM_FREE = 0x10000;
inline constexpr uint32_t MEM_PRIVATE = 0x20000, MEM_MAPPED = 0x40000, MEM_IMAGE = 0x1000000;

inline constexpr uint64_t kAllocationGranularity = 0x10000;
inline constexpr uint64_t kPageSize = 0x1000;

// The Win32 errors (GetLastError) the section and view calls give: the one list, in pe/error.hpp.
using pemap::win32_error_name;
using pemap::Win32Error;
/// The error a Win32 call gives: `code` with its name first in the message ("ERROR_FILE_NOT_FOUND: ..."); the
/// NTSTATUS stays success unless `status` says the loader would give one too.
Error win32_error(Win32Error code, std::string_view call, std::string_view message, Status status = Status::success);
/// "R--", "RW-", "R-X", "RWX", "RC-" (write-copy), "---": a protection as a person reads it.
std::string_view protection_name(uint32_t protect);
/// The mmap PROT_* bits for a PAGE_* protection (write-copy is PROT_WRITE on a MAP_PRIVATE mapping).
int linux_protection(uint32_t protect);

}  // namespace pemap::win
