// Names for Win32 codes.
#include "memory/win32.hpp"

#include <sys/mman.h>

#include <fmt/format.h>

namespace pemap::win {

Error win32_error(Win32Error code, std::string_view call, std::string_view message, Status status) {
  Error e;
  e.status = status;
  e.structure = std::string(call);
  e.message = fmt::format("{}: {}", win32_error_name(code), message);
  e.win32 = static_cast<uint32_t>(code);
  return e;
}

std::string_view win32_error_name(Win32Error e) {
  switch (e) {
    case Win32Error::success:
      return "ERROR_SUCCESS";
    case Win32Error::file_not_found:
      return "ERROR_FILE_NOT_FOUND";
    case Win32Error::access_denied:
      return "ERROR_ACCESS_DENIED";
    case Win32Error::invalid_handle:
      return "ERROR_INVALID_HANDLE";
    case Win32Error::not_enough_memory:
      return "ERROR_NOT_ENOUGH_MEMORY";
    case Win32Error::invalid_parameter:
      return "ERROR_INVALID_PARAMETER";
    case Win32Error::disk_full:
      return "ERROR_DISK_FULL";
    case Win32Error::bad_exe_format:
      return "ERROR_BAD_EXE_FORMAT";
    case Win32Error::already_exists:
      return "ERROR_ALREADY_EXISTS";
    case Win32Error::invalid_address:
      return "ERROR_INVALID_ADDRESS";
    case Win32Error::file_invalid:
      return "ERROR_FILE_INVALID";
    case Win32Error::mapped_alignment:
      return "ERROR_MAPPED_ALIGNMENT";
  }
  return "ERROR_UNKNOWN";
}

std::string_view protection_name(uint32_t p) {
  switch (p & 0xff) {
    case PAGE_NOACCESS:
      return "---";
    case PAGE_READONLY:
      return "R--";
    case PAGE_READWRITE:
      return "RW-";
    case PAGE_WRITECOPY:
      return "RC-";
    case PAGE_EXECUTE:
      return "--X";
    case PAGE_EXECUTE_READ:
      return "R-X";
    case PAGE_EXECUTE_READWRITE:
      return "RWX";
    case PAGE_EXECUTE_WRITECOPY:
      return "RCX";
    default:
      return "???";
  }
}

int linux_protection(uint32_t protect) {
  switch (protect & 0xff) {
    case PAGE_READONLY:
      return PROT_READ;
    case PAGE_READWRITE:
    case PAGE_WRITECOPY:
      return PROT_READ | PROT_WRITE;
    case PAGE_EXECUTE:
      return PROT_EXEC;
    case PAGE_EXECUTE_READ:
      return PROT_READ | PROT_EXEC;
    case PAGE_EXECUTE_READWRITE:
    case PAGE_EXECUTE_WRITECOPY:
      return PROT_READ | PROT_WRITE | PROT_EXEC;
    default:
      return PROT_NONE;
  }
}

}  // namespace pemap::win
