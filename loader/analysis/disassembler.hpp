// Instructions decoded with Capstone, for the machines PE images are built for.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "pe/bytes.hpp"
#include "pe/error.hpp"

namespace pemap::analysis {

struct Instruction {
  uint64_t address = 0;  ///< a VA
  std::vector<std::byte> bytes;
  std::string mnemonic, operands;  ///< "(bad)" and empty for a byte nothing decodes from
  /// The address a memory operand reads, when it is fixed: RIP-relative, or an absolute displacement with no base
  /// and no index (how x86 code reads an IAT slot).
  std::optional<uint64_t> memory_target;
  /// The immediate target of a direct call or jump.
  std::optional<uint64_t> branch_target;
  bool valid() const { return mnemonic != "(bad)"; }
  uint64_t end() const { return address + bytes.size(); }
};

class Disassembler {
 public:
  /// For a COFF machine: I386, AMD64, ARM64, ARMNT (Thumb-2); other machines are an error that names them.
  static Result<Disassembler> for_machine(uint16_t machine);
  ~Disassembler();
  Disassembler(Disassembler&&) noexcept;
  Disassembler& operator=(Disassembler&&) noexcept;

  /// Up to `max` instructions from `code`, the first at `address`; a byte nothing decodes from is a "(bad)"
  /// instruction of one byte (x86) or of the architecture's instruction size, and decoding goes on after it.
  std::vector<Instruction> decode(Bytes code, uint64_t address, size_t max) const;

 private:
  struct Handle;
  explicit Disassembler(std::unique_ptr<Handle> h);
  std::unique_ptr<Handle> handle_;
};

}  // namespace pemap::analysis
