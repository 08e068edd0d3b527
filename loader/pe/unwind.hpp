// The exception directory (.pdata): each function's RUNTIME_FUNCTION and, for x64, its UNWIND_INFO decoded; for
// ARM64, the packed unwind data or the .xdata record's header.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "pe/image.hpp"
#include "pe/unwind_arm64.hpp"

namespace pemap::pe {

/// One x64 unwind code: what the prologue did at `offset` (bytes into it), as llvm-readobj names it.
struct UnwindCode {
  uint8_t offset = 0;
  uint8_t op = 0;    ///< UWOP_*
  uint8_t info = 0;  ///< the op's 4-bit operand
  std::string text;  ///< "PUSH_NONVOL reg=RBX", "ALLOC_SMALL size=40", ...
};

struct UnwindInfo {
  uint32_t rva = 0;
  uint8_t version = 0, flags = 0;  ///< UNW_FLAG_EHANDLER 1, UHANDLER 2, CHAININFO 4
  uint8_t prolog_size = 0, code_count = 0;
  uint8_t frame_register = 0, frame_offset = 0;  ///< the offset in units of 16 bytes
  std::vector<UnwindCode> codes;
  std::optional<uint32_t> handler;  ///< EHANDLER or UHANDLER: the language handler's RVA
  struct Chained {
    uint32_t begin = 0, end = 0, unwind_info = 0;
  };
  std::optional<Chained> chained;  ///< CHAININFO: the primary function's entry
};

struct RuntimeFunction {
  uint32_t begin = 0, end = 0;     ///< end is 0 for ARM64 records, whose length is in the unwind data
  uint32_t unwind = 0;             ///< x64: the UNWIND_INFO's RVA; ARM64: the second word as in the file
  std::optional<UnwindInfo> info;  ///< x64, when asked for and readable
  // ARM64:
  bool packed = false;              ///< the second word holds the unwind data itself (its low 2 bits not 0)
  uint32_t length = 0;              ///< the function's length in bytes (packed, or from the .xdata header)
  std::string arm64_detail;         ///< the packed fields, or the .xdata header's, as text
  std::optional<Arm64Xdata> xdata;  ///< the .xdata record decoded, when asked for and readable
};

struct ExceptionTable {
  bool present = false;
  uint16_t machine = 0;
  std::vector<RuntimeFunction> functions;
  std::vector<Error> warnings;
};

/// x64 register names by number, as unwind codes use them: "RAX", ..., "R15".
std::string_view x64_register_name(unsigned number);

/// The directory's entries (12 bytes each for x64, 8 for ARM64; other machines are not read). With `decode`,
/// each x64 entry's UNWIND_INFO too, and each unpacked ARM64 entry's .xdata record; a record that cannot be read is a
/// warning on that function, and entries are bounded by the directory's Size and the file's.
Result<ExceptionTable> parse_exceptions(const Image& image, bool decode);

}  // namespace pemap::pe
