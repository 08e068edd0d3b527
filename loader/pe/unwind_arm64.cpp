// ARM64 .xdata records and unwind codes.
#include "pe/unwind_arm64.hpp"

#include <fmt/format.h>

namespace pemap::pe {
namespace {

// The stack-pointer forms of a save or restore: the prolog pre-decrements ("[sp, #-16]!"), the epilog
// post-increments ("[sp], #16"); without writeback both address [sp, #offset].
std::string sp_writeback(bool prolog, uint32_t offset) {
  return prolog ? fmt::format("[sp, #-{}]!", offset) : fmt::format("[sp], #{}", offset);
}
std::string sp_offset(uint32_t offset) { return fmt::format("[sp, #{}]", offset); }

// save_any_reg (0xe7): any x, d or q register, alone or paired, with or without writeback.
std::string save_any_reg(uint8_t b1, uint8_t b2, bool prolog) {
  const bool writeback = b1 & 0x20, paired = b1 & 0x40;
  const unsigned kind = b2 >> 6, reg = b1 & 0x1F;
  unsigned offset = b2 & 0x3F;
  if (writeback) ++offset;
  offset *= (!writeback && !paired && kind != 2) ? 8 : 16;
  if ((b1 & 0x80) || kind == 3 || reg > 31u - paired - (kind == 0)) return "invalid save_any_reg encoding";
  const char r = kind == 0 ? 'x' : kind == 1 ? 'd' : 'q';
  std::string regs = paired ? fmt::format("{}{}, {}{}", r, reg, r, reg + 1) : fmt::format("{}{}", r, reg);
  const char* op = paired ? (prolog ? "stp" : "ldp") : (prolog ? "str" : "ldr");
  return fmt::format("{} {}, {}", op, regs, writeback ? sp_writeback(prolog, offset) : sp_offset(offset));
}

// One code at `c` (`n` bytes left in the stream): its length and its text; length 0 when the stream ends first.
std::pair<uint8_t, std::string> decode_one(const uint8_t* c, size_t n, bool prolog) {
  const uint8_t b = c[0];
  const char* alloc = prolog ? "sub" : "add";
  const char* pair = prolog ? "stp" : "ldp";
  const char* single = prolog ? "str" : "ldr";
  const auto need = [&](uint8_t len) { return n >= len; };
  if (b < 0x20) return {1, fmt::format("{} sp, #{}", alloc, (b & 0x1F) * 16)};  // alloc_s
  if (b < 0x40) return {1, fmt::format("{} x19, x20, {}", pair, sp_writeback(prolog, (b & 0x1F) * 8))};
  if (b < 0x80) return {1, fmt::format("{} x29, x30, {}", pair, sp_offset((b & 0x3F) * 8))};  // save_fplr
  if (b < 0xC0) return {1, fmt::format("{} x29, x30, {}", pair, sp_writeback(prolog, ((b & 0x3F) + 1) * 8))};
  if (b < 0xE0 && b != 0xDF) {
    if (!need(2)) return {0, {}};
    const uint8_t b1 = c[1];
    const unsigned x4 = ((b & 3u) << 2) | (b1 >> 6);  // a 4-bit register field across the two bytes
    const unsigned x3 = ((b & 1u) << 2) | (b1 >> 6);  // a 3-bit one
    const unsigned z = b1 & 0x3F;
    if (b < 0xC8) return {2, fmt::format("{} sp, #{}", alloc, (((b & 7u) << 8) | b1) * 16)};  // alloc_m
    if (b < 0xCC) return {2, fmt::format("{} x{}, x{}, {}", pair, 19 + x4, 20 + x4, sp_offset(z * 8))};
    if (b < 0xD0) return {2, fmt::format("{} x{}, x{}, {}", pair, 19 + x4, 20 + x4, sp_writeback(prolog, (z + 1) * 8))};
    if (b < 0xD4) return {2, fmt::format("{} x{}, {}", single, 19 + x4, sp_offset(z * 8))};  // save_reg
    if (b < 0xD6) {                                                                          // save_reg_x
      const unsigned reg = 19 + (((b & 1u) << 3) | (b1 >> 5));
      return {2, fmt::format("{} x{}, {}", single, reg, sp_writeback(prolog, ((b1 & 0x1F) + 1) * 8))};
    }
    if (b < 0xD8) return {2, fmt::format("{} x{}, lr, {}", pair, 19 + 2 * x3, sp_offset(z * 8))};  // save_lrpair
    if (b < 0xDA) return {2, fmt::format("{} d{}, d{}, {}", pair, 8 + x3, 9 + x3, sp_offset(z * 8))};
    if (b < 0xDC) return {2, fmt::format("{} d{}, d{}, {}", pair, 8 + x3, 9 + x3, sp_writeback(prolog, (z + 1) * 8))};
    if (b < 0xDE) return {2, fmt::format("{} d{}, {}", single, 8 + x3, sp_offset(z * 8))};  // save_freg
    return {2, fmt::format("{} d{}, {}", single, 8 + (b1 >> 5), sp_writeback(prolog, ((b1 & 0x1F) + 1) * 8))};
  }
  switch (b) {
    case 0xDF:  // alloc_z: SVE vector lengths
      if (!need(2)) return {0, {}};
      return {2, fmt::format("addvl sp, #{}", prolog ? -int{c[1]} : int{c[1]})};
    case 0xE0:  // alloc_l
      if (!need(4)) return {0, {}};
      return {4, fmt::format("{} sp, #{}", alloc, ((uint32_t{c[1]} << 16) | (uint32_t{c[2]} << 8) | c[3]) * 16)};
    case 0xE1:
      return {1, prolog ? "mov fp, sp" : "mov sp, fp"};
    case 0xE2:
      if (!need(2)) return {0, {}};
      return {2, prolog ? fmt::format("add fp, sp, #{}", c[1] * 8) : fmt::format("sub sp, fp, #{}", c[1] * 8)};
    case 0xE3:
      return {1, "nop"};
    case 0xE4:
      return {1, "end"};
    case 0xE5:
      return {1, "end_c"};
    case 0xE6:
      return {1, prolog ? "save next" : "restore next"};
    case 0xE7:
      if (!need(3)) return {0, {}};
      if (c[1] & 0x80) return {3, "reserved encoding"};
      if ((c[2] & 0xC0) == 0xC0) {  // an SVE z or p register, at a multiple of the vector length
        const unsigned offset = ((c[1] & 0x60u) << 1) | (c[2] & 0x3Fu);
        return {3, fmt::format("{} {}{}, [sp, #{}, mul vl]", single, (c[1] & 0x10) ? 'p' : 'z',
                               (c[1] & 0x0F) + ((c[1] & 0x10) ? 0 : 8), offset)};
      }
      return {3, save_any_reg(c[1], c[2], prolog)};
    case 0xE8:
      return {1, "trap frame"};
    case 0xE9:
      return {1, "machine frame"};
    case 0xEA:
      return {1, "context"};
    case 0xEB:
      return {1, "EC context"};
    case 0xEC:
      return {1, "clear unwound to call"};
    case 0xFC:
      return {1, prolog ? "pacibsp" : "autibsp"};
    default:
      return {1, fmt::format("reserved code {:#04x}", b)};
  }
}

}  // namespace

std::vector<Arm64UnwindCode> decode_arm64_codes(Bytes codes, uint32_t start, bool prolog, uint64_t& budget) {
  std::vector<Arm64UnwindCode> out;
  const auto* c = reinterpret_cast<const uint8_t*>(codes.data());
  for (size_t i = start; i < codes.size() && budget > 0; --budget) {
    auto [length, text] = decode_one(c + i, codes.size() - i, prolog);
    Arm64UnwindCode code;
    code.index = static_cast<uint32_t>(i);
    code.length = length ? length : static_cast<uint8_t>(codes.size() - i);
    for (size_t k = 0; k < code.length; ++k) code.bytes = code.bytes << 8 | c[i + k];
    code.text = length ? std::move(text) : fmt::format("{:#04x} runs past the unwind codes", c[i]);
    out.push_back(std::move(code));
    if (!length || c[i] == 0xE4) break;
    i += length;
  }
  return out;
}

Arm64Xdata arm64_xdata_header(uint32_t first_word) {
  Arm64Xdata x;
  x.function_length = (first_word & 0x3FFFF) * 4;
  x.version = static_cast<uint8_t>((first_word >> 18) & 3);
  x.x = (first_word >> 20) & 1;
  x.e = (first_word >> 21) & 1;
  x.epilog_count = (first_word >> 22) & 0x1F;
  x.code_words = first_word >> 27;
  return x;
}

Result<Arm64Xdata> read_arm64_xdata(const Image& image, uint32_t rva, uint64_t& budget) {
  auto first = image.read_rva<uint32_t>(rva, ".xdata record");
  if (!first) return first.take_error();
  Arm64Xdata x = arm64_xdata_header(*first);
  x.rva = rva;
  uint32_t header_words = 1;
  if (x.epilog_count == 0 && x.code_words == 0) {  // the counts did not fit: a second word holds them
    auto second = image.read_rva<uint32_t>(uint64_t{rva} + 4, ".xdata record");
    if (!second) return second.take_error();
    x.epilog_count = *second & 0xFFFF;
    x.code_words = (*second >> 16) & 0xFF;
    header_words = 2;
  }
  const uint32_t scope_words = x.e ? 0 : x.epilog_count;
  const uint64_t size = 4 * (uint64_t{header_words} + scope_words + x.code_words) + (x.x ? 4 : 0);
  if (auto cut = image.cut_short(rva, size, ".xdata record")) return *cut;
  auto bytes = image.copy_range(rva, size, ".xdata record");
  if (!bytes) return bytes.take_error();
  const Bytes record(*bytes);
  const Bytes codes = record.subspan(4 * (uint64_t{header_words} + scope_words), 4 * uint64_t{x.code_words});
  x.prolog = decode_arm64_codes(codes, 0, true, budget);
  if (x.e) {
    if (x.epilog_count != 0) {
      Arm64EpilogScope s;
      s.start_index = x.epilog_count;
      s.codes = decode_arm64_codes(codes, x.epilog_count, false, budget);
      x.epilogs.push_back(std::move(s));
    }
  } else {
    for (uint32_t i = 0; i < scope_words && budget > 0; ++i) {
      const uint32_t w = load<uint32_t>(record, 4 * (uint64_t{header_words} + i));
      Arm64EpilogScope s;
      s.start_offset = w & 0x3FFFF;
      s.reserved = static_cast<uint8_t>((w >> 18) & 0xF);
      s.start_index = w >> 22;
      s.codes = decode_arm64_codes(codes, s.start_index, false, budget);
      x.epilogs.push_back(std::move(s));
    }
  }
  x.codes_cut = budget == 0;
  if (x.x) x.handler = load<uint32_t>(record, size - 4);
  return x;
}

}  // namespace pemap::pe
