// Parsing of the exception directory, x64 unwind information, and which ARM64 records to decode.
#include "pe/unwind.hpp"

#include <map>

#include <fmt/format.h>

#include "pe/scan_budget.hpp"

namespace pemap::pe {

std::string_view x64_register_name(unsigned number) {
  static constexpr std::string_view names[] = {"RAX", "RCX", "RDX", "RBX", "RSP", "RBP", "RSI", "RDI",
                                               "R8",  "R9",  "R10", "R11", "R12", "R13", "R14", "R15"};
  return number < std::size(names) ? names[number] : "?";
}

namespace {

constexpr uint16_t kAmd64 = 0x8664, kArm64 = 0xAA64;
constexpr uint8_t kFlagEHandler = 1, kFlagUHandler = 2, kFlagChainInfo = 4;

// The unwind codes of `info`, from the raw slots: some ops take one or two more slots as their operand.
std::optional<Error> decode_codes(const Image& image, UnwindInfo& info) {
  std::vector<uint16_t> slots(info.code_count);
  for (unsigned i = 0; i < info.code_count; ++i) {
    auto v = image.read_rva<uint16_t>(uint64_t{info.rva} + 4 + 2 * i, "UNWIND_CODE");
    if (!v) return v.take_error();
    slots[i] = *v;
  }
  for (unsigned i = 0; i < slots.size();) {
    UnwindCode c;
    c.offset = static_cast<uint8_t>(slots[i] & 0xFF);
    c.op = static_cast<uint8_t>((slots[i] >> 8) & 0xF);
    c.info = static_cast<uint8_t>(slots[i] >> 12);
    const auto reg = x64_register_name(c.info);
    // The slots an op takes after its own, when the codes array holds them.
    const auto operand = [&](unsigned n) -> std::optional<uint32_t> {
      if (i + n >= slots.size()) return std::nullopt;
      return n == 1 ? uint32_t{slots[i + 1]} : (uint32_t{slots[i + 2]} << 16 | slots[i + 1]);
    };
    unsigned used = 1;
    switch (c.op) {
      case 0:
        c.text = fmt::format("PUSH_NONVOL reg={}", reg);
        break;
      case 1:
        used = c.info == 0 ? 2 : 3;
        if (auto v = operand(used - 1)) c.text = fmt::format("ALLOC_LARGE size={}", c.info == 0 ? *v * 8 : *v);
        break;
      case 2:
        c.text = fmt::format("ALLOC_SMALL size={}", c.info * 8 + 8);
        break;
      case 3:
        c.text = fmt::format("SET_FPREG reg={}, offset={:#x}", x64_register_name(info.frame_register),
                             info.frame_offset * 16);
        break;
      case 4:
        used = 2;
        if (auto v = operand(1)) c.text = fmt::format("SAVE_NONVOL reg={}, offset={:#x}", reg, *v * 8);
        break;
      case 5:
        used = 3;
        if (auto v = operand(2)) c.text = fmt::format("SAVE_NONVOL_FAR reg={}, offset={:#x}", reg, *v);
        break;
      case 6:
        used = 2, c.text = "EPILOG";
        break;  // version 2
      case 7:
        used = 3, c.text = "SPARE";
        break;
      case 8:
        used = 2;
        if (auto v = operand(1)) c.text = fmt::format("SAVE_XMM128 reg=XMM{}, offset={:#x}", c.info, *v * 16);
        break;
      case 9:
        used = 3;
        if (auto v = operand(2)) c.text = fmt::format("SAVE_XMM128_FAR reg=XMM{}, offset={:#x}", c.info, *v);
        break;
      case 10:
        c.text = fmt::format("PUSH_MACHFRAME errcode={}", c.info == 1 ? "yes" : "no");
        break;
      default:
        c.text = fmt::format("unknown op {}", c.op);
        break;
    }
    if (c.text.empty()) c.text = "truncated: its operand slots lie past CountOfCodes";
    info.codes.push_back(std::move(c));
    i += used;
  }
  return std::nullopt;
}

Result<UnwindInfo> read_unwind_info(const Image& image, uint32_t rva) {
  auto head = image.read_rva<uint32_t>(rva, "UNWIND_INFO");
  if (!head) return head.take_error();
  if (auto cut = image.cut_short(rva, 4, "UNWIND_INFO")) return *cut;
  UnwindInfo info;
  info.rva = rva;
  info.version = static_cast<uint8_t>(*head & 0x7);
  info.flags = static_cast<uint8_t>((*head >> 3) & 0x1F);
  info.prolog_size = static_cast<uint8_t>(*head >> 8);
  info.code_count = static_cast<uint8_t>(*head >> 16);
  info.frame_register = static_cast<uint8_t>((*head >> 24) & 0xF);
  info.frame_offset = static_cast<uint8_t>(*head >> 28);
  if (auto e = decode_codes(image, info)) return *e;
  const uint64_t after = uint64_t{rva} + 4 + 2 * align_up(info.code_count, 2);
  if (info.flags & kFlagChainInfo) {
    auto b = image.read_rva<uint32_t>(after, "chained RUNTIME_FUNCTION");
    auto e = image.read_rva<uint32_t>(after + 4, "chained RUNTIME_FUNCTION");
    auto u = image.read_rva<uint32_t>(after + 8, "chained RUNTIME_FUNCTION");
    if (!b || !e || !u)
      return make_error(Status::success, "UNWIND_INFO", Location::rva(rva), "its chained entry cannot be read");
    info.chained = UnwindInfo::Chained{*b, *e, *u};
  } else if (info.flags & (kFlagEHandler | kFlagUHandler)) {
    auto h = image.read_rva<uint32_t>(after, "exception handler");
    if (!h) return h.take_error();
    info.handler = *h;
  }
  return info;
}

std::string arm64_packed(uint32_t w) {
  return fmt::format("packed: Flag {}, RegF {}, RegI {}, H {}, CR {}, FrameSize {}", w & 3, (w >> 13) & 7,
                     (w >> 16) & 0xF, (w >> 20) & 1, (w >> 21) & 3, ((w >> 23) & 0x1FF) * 16);
}

// With E set, the epilog count field holds where the one epilog's codes start (0: they are the prolog's).
std::string xdata_header_text(const Arm64Xdata& x) {
  return fmt::format(".xdata: Vers {}, X {}, E {}, {} {}, CodeWords {}", x.version, int{x.x}, int{x.e},
                     x.e ? "EpilogStart" : "EpilogCount", x.epilog_count, x.code_words);
}

}  // namespace

Result<ExceptionTable> parse_exceptions(const Image& image, bool decode) {
  ExceptionTable out;
  out.machine = image.file_header().Machine;
  const auto used = image.used_directory(kDirException);
  if (!used) return out;
  out.present = true;
  if (out.machine != kAmd64 && out.machine != kArm64) {
    out.warnings.push_back(make_error(Status::success, "exception directory", Location::rva(used->VirtualAddress),
                                      "its records are read for AMD64 and ARM64 images only"));
    return out;
  }
  if (auto cut = image.directory_unreadable(kDirException, "exception directory", 8)) {
    out.warnings.push_back(std::move(*cut));
    return out;
  }
  const unsigned size = out.machine == kAmd64 ? 12 : 8;
  uint64_t n = used->Size / size;
  if (n > entry_budget(image)) n = entry_budget(image);
  EntryWarnings per_entry;
  // Many entries may name one UNWIND_INFO: each is decoded once, and the codes listed in all stay within the
  // file's entry budget.
  std::map<uint32_t, Result<UnwindInfo>> decoded;
  std::map<uint32_t, Result<Arm64Xdata>> xdata;
  uint64_t codes_left = entry_budget(image);
  for (uint64_t i = 0; i < n; ++i) {
    const uint64_t at = used->VirtualAddress + i * size;
    if (image.file_span(at).size() < size) {
      out.warnings.push_back(
          make_error(Status::success, "exception directory", Location::rva(at),
                     fmt::format("entries {} to {} lie outside the file's bytes; not listed", i, n - 1)));
      break;
    }
    // The whole record is in one region's file bytes (checked above), so each word reads.
    const auto word = [&](uint64_t rva) {
      auto v = image.read_rva<uint32_t>(rva, "RUNTIME_FUNCTION");
      return v ? *v : 0u;
    };
    if (decode && codes_left == 0) {
      out.warnings.push_back(make_error(Status::success, "exception directory", Location::rva(at),
                                        "more unwind codes than this file can hold; the rest are not decoded"));
      decode = false;
    }
    RuntimeFunction f;
    f.begin = word(at);
    if (out.machine == kAmd64) {
      f.end = word(at + 4);
      f.unwind = word(at + 8);
      if (decode) {
        auto it = decoded.find(f.unwind);
        if (it == decoded.end()) it = decoded.emplace(f.unwind, read_unwind_info(image, f.unwind)).first;
        if (it->second) {
          f.info = *it->second;
          codes_left -= std::min<uint64_t>(codes_left, f.info->codes.size() + 1);
        } else {
          per_entry.add(out.warnings, it->second.error());
        }
      }
    } else {
      f.unwind = word(at + 4);
      f.packed = (f.unwind & 3) != 0;
      if (f.packed) {
        f.length = ((f.unwind >> 2) & 0x7FF) * 4;
        f.arm64_detail = arm64_packed(f.unwind);
      } else if (decode) {
        auto it = xdata.find(f.unwind);
        if (it == xdata.end()) {
          it = xdata.emplace(f.unwind, read_arm64_xdata(image, f.unwind, codes_left)).first;
        } else if (it->second) {  // listed once more: its codes count again
          uint64_t listed = it->second->prolog.size() + 1;
          for (const auto& e : it->second->epilogs) listed += e.codes.size();
          codes_left -= std::min(codes_left, listed);
        }
        if (it->second) {
          f.xdata = *it->second;
          f.length = f.xdata->function_length;
          f.arm64_detail = xdata_header_text(*f.xdata);
        } else {
          per_entry.add(out.warnings, it->second.error());
        }
      } else if (auto x = image.read_rva<uint32_t>(f.unwind, ".xdata record")) {
        const Arm64Xdata header = arm64_xdata_header(*x);
        f.length = header.function_length;
        f.arm64_detail = xdata_header_text(header);
      } else {
        per_entry.add(out.warnings, x.take_error());
      }
    }
    out.functions.push_back(std::move(f));
  }
  per_entry.finish(out.warnings, "exception directory");
  return out;
}

}  // namespace pemap::pe
