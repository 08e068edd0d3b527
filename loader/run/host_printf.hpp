// msvcrt.dll's printf format language, for the host printf family: Windows x64 code passes its arguments the Microsoft
// way (every one an 8-byte slot, va_list a plain pointer to them) and expects msvcrt's reading of the format (32-bit
// long, I64/I32/I sizes, %S and %C wide in a narrow printf, %p as 16 upper-case hex digits, three-digit exponents).
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>
#include <string>

namespace pemap::run {

/// The arguments of a Microsoft x64 variadic call: consecutive 8-byte slots, the first four spilled to the shadow
/// space by the callee's ms_abi prologue (what __builtin_ms_va_start gives), or the va_list a vprintf receives.
/// The caller guarantees the slots are there, as msvcrt's va_arg does.
class MsArgs {
 public:
  explicit MsArgs(const void* slots) : next_(static_cast<const unsigned char*>(slots)) {}
  uint64_t next() {
    uint64_t v = 0;
    std::memcpy(&v, next_, sizeof v);
    next_ += sizeof v;
    return v;
  }
  double next_double() { return std::bit_cast<double>(next()); }

 private:
  const unsigned char* next_;
};

/// Appends what msvcrt.dll's printf writes for `format` in the "C" locale to `out`. Returns 0, or the errno msvcrt
/// sets where its printf returns -1: EILSEQ (42) for a wide string (%S, %ls, %ws) holding a character above U+00FF,
/// which the C locale cannot convert; EINVAL (22) for %n with a NULL pointer, and (pemap's limit) for a field wider
/// than 1 MiB. What came before the failure stays in `out`. Like msvcrt.dll: %zu, %jd and %td are not conversions
/// (the letters print as text); %n writes the count so far; '0' pads strings too; floating point keeps 17
/// significant digits (zeros after them), rounds halfway cases away from zero, writes three exponent digits and
/// 1.#INF00, 1.#QNAN0, -1.#IND00 for infinity and NaN; a bad pointer argument faults. Unlike it: %a is glibc's
/// hexadecimal form (with msvcrt's default precision 6).
int format_msvcrt(std::string& out, const char* format, MsArgs& args);

}  // namespace pemap::run
