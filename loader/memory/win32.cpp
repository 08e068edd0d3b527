// Names for Win32 codes.
#include "memory/win32.hpp"

#include <sys/mman.h>

#include <fmt/format.h>

namespace pemap::win {

Error win32_error(Win32Error code, std::string_view call, std::string_view message, Status status) {
  return make_error(status, std::string(call), Location{}, fmt::format("{}: {}", win32_error_name(code), message),
                    code);
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
