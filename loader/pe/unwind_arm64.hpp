// ARM64 unwind data: the .xdata record a RUNTIME_FUNCTION points to when its unwind data is not packed, with its
// unwind codes decoded (Microsoft's "ARM64 exception handling").
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "pe/image.hpp"

namespace pemap::pe {

/// One ARM64 unwind code: 1 to 4 bytes of the record's code stream, and the instruction it stands for in the
/// prolog (or, undone, in an epilog), as llvm-readobj names it: "stp x29, x30, [sp, #-16]!", "end".
struct Arm64UnwindCode {
  uint32_t index = 0;  ///< its first byte's position in the code stream
  uint8_t length = 1;
  uint32_t bytes = 0;  ///< its bytes, the first the most significant: 0xe0001117
  std::string text;
};

struct Arm64EpilogScope {
  uint32_t start_offset = 0;  ///< in instructions (4 bytes each) from the function's start
  uint32_t start_index = 0;   ///< the code its unwinding starts at
  uint8_t reserved = 0;       ///< bits 18-21, which should be 0
  std::vector<Arm64UnwindCode> codes;
};

struct Arm64Xdata {
  uint32_t rva = 0;
  uint32_t function_length = 0;  ///< in bytes
  uint8_t version = 0;
  bool x = false;  ///< an exception handler follows the codes
  bool e = false;  ///< one epilog, packed: epilog_count is the index of its first code
  uint32_t epilog_count = 0, code_words = 0;
  std::vector<Arm64UnwindCode> prolog;
  std::vector<Arm64EpilogScope> epilogs;  ///< E: one, when its codes are not the prolog's (index not 0)
  std::optional<uint32_t> handler;        ///< X: the language handler's RVA
  bool codes_cut = false;                 ///< the budget ran out before every code was decoded
};

/// What the record's first word says: FunctionLength, Vers, X, E, EpilogCount and CodeWords (both 0 when a
/// second word holds them).
Arm64Xdata arm64_xdata_header(uint32_t first_word);

/// The codes from `start` to the first "end" (or the stream's end), at most `budget` of them (each one decoded
/// is taken from it); `prolog` picks the prolog's words for each ("sub sp", "stp ... [sp, #-16]!") or the
/// epilog's ("add sp", "ldp ... [sp], #16").
std::vector<Arm64UnwindCode> decode_arm64_codes(Bytes codes, uint32_t start, bool prolog, uint64_t& budget);

/// The record at `rva`: its one or two header words, epilog scopes, codes and handler, read whole when the file
/// holds them; one that runs past the image or the file is an error. Its codes are decoded within `budget` (a
/// record may hold 65535 epilog scopes, each listing up to 1020 codes); `codes_cut` says when it ran out.
Result<Arm64Xdata> read_arm64_xdata(const Image& image, uint32_t rva, uint64_t& budget);

}  // namespace pemap::pe
