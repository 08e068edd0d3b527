// One error type for the whole library: what went wrong, where, in which structure, and the NTSTATUS Windows would
// give.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace pemap {

/// NTSTATUS values the Windows image loader returns for the rejections we mirror.
enum class Status : uint32_t {
  success = 0,
  invalid_image_format = 0xC000007B,      // STATUS_INVALID_IMAGE_FORMAT
  invalid_file_for_section = 0xC0000020,  // STATUS_INVALID_FILE_FOR_SECTION
  invalid_image_not_mz = 0xC000012F,      // STATUS_INVALID_IMAGE_NOT_MZ
  invalid_image_protect = 0xC0000130,     // STATUS_INVALID_IMAGE_PROTECT
  invalid_image_win_16 = 0xC0000131,      // STATUS_INVALID_IMAGE_WIN_16
  conflicting_addresses = 0xC0000018,     // STATUS_CONFLICTING_ADDRESSES
  section_too_big = 0xC0000040,           // STATUS_SECTION_TOO_BIG
  entrypoint_not_found = 0xC0000139,      // STATUS_ENTRYPOINT_NOT_FOUND
  ordinal_not_found = 0xC0000138,         // STATUS_ORDINAL_NOT_FOUND
  dll_not_found = 0xC0000135,             // STATUS_DLL_NOT_FOUND
  dll_init_failed = 0xC0000142,           // STATUS_DLL_INIT_FAILED: a DllMain returned FALSE
  io_error = 0xC0000185,                  // STATUS_IO_DEVICE_ERROR: the OS refused to read the file
  object_name_not_found = 0xC0000034,     // STATUS_OBJECT_NAME_NOT_FOUND: no such file (ERROR_FILE_NOT_FOUND)
  object_path_not_found = 0xC000003A,     // STATUS_OBJECT_PATH_NOT_FOUND: no such directory (ERROR_PATH_NOT_FOUND)
  access_denied = 0xC0000022,             // STATUS_ACCESS_DENIED (ERROR_ACCESS_DENIED)
};

/// True for the statuses of a file the OS would not open or read, as opposed to a rule the image breaks.
bool is_file_status(Status s);

std::string_view status_name(Status s);

/// Where in the file or image a problem sits.
struct Location {
  enum class Kind : uint8_t { none, file_offset, rva };
  Kind kind = Kind::none;
  uint64_t value = 0;

  static Location offset(uint64_t v) { return {Kind::file_offset, v}; }
  static Location rva(uint64_t v) { return {Kind::rva, v}; }
};

/// The GetLastError() codes pemap gives: what a Win32 caller sees for the same failure.
enum class Win32Error : uint32_t {
  success = 0,
  file_not_found = 2,
  path_not_found = 3,
  access_denied = 5,
  invalid_handle = 6,
  not_enough_memory = 8,
  bad_length = 24,
  invalid_parameter = 87,
  disk_full = 112,
  insufficient_buffer = 122,
  mod_not_found = 126,
  proc_not_found = 127,
  already_exists = 183,
  bad_exe_format = 193,
  no_more_items = 259,
  invalid_address = 487,
  noaccess = 998,
  invalid_flags = 1004,
  file_invalid = 1006,
  no_unicode_translation = 1113,
  dll_init_failed = 1114,
  mapped_alignment = 1132,
};

/// "ERROR_MOD_NOT_FOUND".
std::string_view win32_error_name(Win32Error e);

/// A problem with context. `structure` names the PE structure ("section header #3"),
/// `message` states the rule that was broken, `status` is what Windows would return.
struct Error {
  Status status = Status::invalid_image_format;
  std::string structure;
  Location where;
  std::string message;
  uint32_t win32 = 0;  ///< the GetLastError() code of a Win32 call (section and view calls), 0 if none;
                       ///< the message names it (ERROR_ACCESS_DENIED...)

  /// "section header #3 at offset 0x1f8: ... (STATUS_INVALID_IMAGE_FORMAT)"
  std::string to_string() const;
  /// The Win32 code a Win32 caller gets for this failure (an image the parser refused is ERROR_BAD_EXE_FORMAT to
  /// CreateFileMapping).
  Error& set_win32(Win32Error code) {
    win32 = static_cast<uint32_t>(code);
    return *this;
  }
};

Error make_error(Status status, std::string structure, Location where, std::string message);
/// The same, for a failure a Win32 call reports as `win32` too.
Error make_error(Status status, std::string structure, Location where, std::string message, Win32Error win32);

/// Value or Error, like std::expected (not available on every compiler we build with).
template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}      // NOLINT(google-explicit-constructor)
  Result(Error error) : v_(std::in_place_index<1>, std::move(error)) {}  // NOLINT(google-explicit-constructor)

  bool has_value() const { return v_.index() == 0; }
  explicit operator bool() const { return has_value(); }

  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  const Error& error() const { return std::get<1>(v_); }
  Error&& take_error() { return std::get<1>(std::move(v_)); }

 private:
  std::variant<T, Error> v_;
};

}  // namespace pemap
