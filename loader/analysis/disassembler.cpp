// Decoding through Capstone.
#include "analysis/disassembler.hpp"

#include <capstone/capstone.h>

#include <memory>

#include <fmt/format.h>

#include "analysis/shared_library.hpp"

namespace pemap::analysis {
namespace {

// Capstone's functions, from the library of the ABI these headers describe, opened at the first disassembly.
struct Capstone {
  decltype(&::cs_open) open = nullptr;
  decltype(&::cs_option) option = nullptr;
  decltype(&::cs_malloc) malloc = nullptr;
  decltype(&::cs_free) free = nullptr;
  decltype(&::cs_disasm_iter) disasm_iter = nullptr;
  decltype(&::cs_insn_group) insn_group = nullptr;
  decltype(&::cs_close) close = nullptr;
};

const Result<Capstone>& capstone() {
  static const Result<Capstone> loaded = []() -> Result<Capstone> {
    auto lib = SharedLibrary::open("libcapstone.so." + std::to_string(CS_API_MAJOR));
    if (!lib) return lib.take_error();
    Capstone c;
    for (auto e : {lib->bind("cs_open", c.open), lib->bind("cs_option", c.option), lib->bind("cs_malloc", c.malloc),
                   lib->bind("cs_free", c.free), lib->bind("cs_disasm_iter", c.disasm_iter),
                   lib->bind("cs_insn_group", c.insn_group), lib->bind("cs_close", c.close)})
      if (e) return *e;
    return c;
  }();
  return loaded;
}

}  // namespace

struct Disassembler::Handle {
  csh cs = 0;
  cs_arch arch = CS_ARCH_X86;
  unsigned bad_size = 1;  // how far to step over a byte nothing decodes from
  ~Handle() {
    if (cs) capstone()->close(&cs);  // a handle exists only once Capstone loaded
  }
};

Disassembler::Disassembler(std::unique_ptr<Handle> h) : handle_(std::move(h)) {}
Disassembler::~Disassembler() = default;
Disassembler::Disassembler(Disassembler&&) noexcept = default;
Disassembler& Disassembler::operator=(Disassembler&&) noexcept = default;

Result<Disassembler> Disassembler::for_machine(uint16_t machine) {
  const auto& cs = capstone();
  if (!cs) return cs.error();
  auto h = std::make_unique<Handle>();
  cs_mode mode{};
  switch (machine) {
    case 0x14C:  // I386
      h->arch = CS_ARCH_X86, mode = CS_MODE_32;
      break;
    case 0x8664:  // AMD64
      h->arch = CS_ARCH_X86, mode = CS_MODE_64;
      break;
    case 0xAA64:  // ARM64
      h->arch = CS_ARCH_ARM64, mode = CS_MODE_ARM, h->bad_size = 4;
      break;
    case 0x1C4:  // ARMNT: Windows on ARM runs Thumb-2 only
      h->arch = CS_ARCH_ARM, mode = CS_MODE_THUMB, h->bad_size = 2;
      break;
    default:
      return make_error(
          Status::success, "disassembler", Location{},
          fmt::format("machine {:#x} is not one pemap disassembles (I386, AMD64, ARM64, ARMNT)", machine));
  }
  if (cs->open(h->arch, mode, &h->cs) != CS_ERR_OK)
    return make_error(Status::success, "disassembler", Location{}, "Capstone cannot open this architecture");
  cs->option(h->cs, CS_OPT_DETAIL, CS_OPT_ON);
  return Disassembler(std::move(h));
}

std::vector<Instruction> Disassembler::decode(Bytes code, uint64_t address, size_t max) const {
  std::vector<Instruction> out;
  const Capstone& cs = *capstone();  // loaded, since this disassembler exists
  const auto free_insn = [&cs](cs_insn* i) { cs.free(i, 1); };
  const std::unique_ptr<cs_insn, decltype(free_insn)> owned(cs.malloc(handle_->cs), free_insn);
  cs_insn* insn = owned.get();
  if (!insn) throw std::bad_alloc();
  const auto* p = reinterpret_cast<const uint8_t*>(code.data());
  size_t left = code.size();
  uint64_t at = address;
  while (left > 0 && out.size() < max) {
    Instruction i;
    if (cs.disasm_iter(handle_->cs, &p, &left, &at, insn)) {
      i.address = insn->address;
      const auto* b = reinterpret_cast<const std::byte*>(insn->bytes);
      i.bytes.assign(b, b + insn->size);
      i.mnemonic = insn->mnemonic;
      i.operands = insn->op_str;
      if (handle_->arch == CS_ARCH_X86 && insn->detail) {
        const cs_x86& x = insn->detail->x86;
        for (uint8_t k = 0; k < x.op_count; ++k) {
          const cs_x86_op& op = x.operands[k];
          // fs: and gs: operands (the TEB, the PEB) are not image addresses.
          const bool flat =
              op.type == X86_OP_MEM && (op.mem.segment == X86_REG_INVALID || op.mem.segment == X86_REG_DS);
          if (flat && op.mem.base == X86_REG_RIP && op.mem.index == X86_REG_INVALID)
            i.memory_target = insn->address + insn->size + static_cast<uint64_t>(op.mem.disp);
          else if (flat && op.mem.base == X86_REG_INVALID && op.mem.index == X86_REG_INVALID)
            i.memory_target = static_cast<uint64_t>(op.mem.disp) & (x.addr_size == 4 ? 0xFFFFFFFFull : ~0ull);
          else if (op.type == X86_OP_IMM && cs.insn_group(handle_->cs, insn, CS_GRP_JUMP))
            i.branch_target = static_cast<uint64_t>(op.imm);
          else if (op.type == X86_OP_IMM && cs.insn_group(handle_->cs, insn, CS_GRP_CALL))
            i.branch_target = static_cast<uint64_t>(op.imm);
        }
      }
    } else {
      const size_t n = std::min<size_t>(handle_->bad_size, left);
      i.address = at;
      const auto* b = reinterpret_cast<const std::byte*>(p);
      i.bytes.assign(b, b + n);
      i.mnemonic = "(bad)";
      p += n, left -= n, at += n;
    }
    out.push_back(std::move(i));
  }
  return out;
}

}  // namespace pemap::analysis
