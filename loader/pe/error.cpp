// Formatting of errors and NTSTATUS names.
#include "pe/error.hpp"

#include <fmt/format.h>

namespace pemap {

std::string_view status_name(Status s) {
  switch (s) {
    case Status::success:
      return "STATUS_SUCCESS";
    case Status::invalid_image_format:
      return "STATUS_INVALID_IMAGE_FORMAT";
    case Status::invalid_file_for_section:
      return "STATUS_INVALID_FILE_FOR_SECTION";
    case Status::invalid_image_not_mz:
      return "STATUS_INVALID_IMAGE_NOT_MZ";
    case Status::invalid_image_protect:
      return "STATUS_INVALID_IMAGE_PROTECT";
    case Status::invalid_image_win_16:
      return "STATUS_INVALID_IMAGE_WIN_16";
    case Status::conflicting_addresses:
      return "STATUS_CONFLICTING_ADDRESSES";
    case Status::section_too_big:
      return "STATUS_SECTION_TOO_BIG";
    case Status::entrypoint_not_found:
      return "STATUS_ENTRYPOINT_NOT_FOUND";
    case Status::ordinal_not_found:
      return "STATUS_ORDINAL_NOT_FOUND";
    case Status::dll_not_found:
      return "STATUS_DLL_NOT_FOUND";
    case Status::dll_init_failed:
      return "STATUS_DLL_INIT_FAILED";
    case Status::io_error:
      return "STATUS_IO_DEVICE_ERROR";
    case Status::object_name_not_found:
      return "STATUS_OBJECT_NAME_NOT_FOUND";
    case Status::object_path_not_found:
      return "STATUS_OBJECT_PATH_NOT_FOUND";
    case Status::access_denied:
      return "STATUS_ACCESS_DENIED";
  }
  return "STATUS_UNKNOWN";
}

bool is_file_status(Status s) {
  return s == Status::io_error || s == Status::object_name_not_found || s == Status::object_path_not_found ||
         s == Status::access_denied;
}

std::string Error::to_string() const {
  std::string out = structure;
  switch (where.kind) {
    case Location::Kind::file_offset:
      out += fmt::format(" at offset {:#x}", where.value);
      break;
    case Location::Kind::rva:
      out += fmt::format(" at RVA {:#x}", where.value);
      break;
    case Location::Kind::none:
      break;
  }
  out += ": ";
  out += message;
  if (status != Status::success) out += fmt::format(" ({})", status_name(status));
  return out;
}

Error make_error(Status status, std::string structure, Location where, std::string message) {
  return Error{status, std::move(structure), where, std::move(message)};
}

Error make_error(Status status, std::string structure, Location where, std::string message, Win32Error win32) {
  Error e = make_error(status, std::move(structure), where, std::move(message));
  e.set_win32(win32);
  return e;
}

std::string_view win32_error_name(Win32Error e) {
  switch (e) {
    case Win32Error::success:
      return "ERROR_SUCCESS";
    case Win32Error::file_not_found:
      return "ERROR_FILE_NOT_FOUND";
    case Win32Error::path_not_found:
      return "ERROR_PATH_NOT_FOUND";
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
    case Win32Error::mod_not_found:
      return "ERROR_MOD_NOT_FOUND";
    case Win32Error::proc_not_found:
      return "ERROR_PROC_NOT_FOUND";
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
    case Win32Error::bad_length:
      return "ERROR_BAD_LENGTH";
    case Win32Error::insufficient_buffer:
      return "ERROR_INSUFFICIENT_BUFFER";
    case Win32Error::no_more_items:
      return "ERROR_NO_MORE_ITEMS";
    case Win32Error::noaccess:
      return "ERROR_NOACCESS";
    case Win32Error::invalid_flags:
      return "ERROR_INVALID_FLAGS";
    case Win32Error::no_unicode_translation:
      return "ERROR_NO_UNICODE_TRANSLATION";
    case Win32Error::dll_init_failed:
      return "ERROR_DLL_INIT_FAILED";
  }
  return "ERROR_UNKNOWN";
}

}  // namespace pemap
