// `pemap disasm`: instructions from the entry point, an export or an address, with imports and fixups named; and
// the instruction each fixup of `pemap relocs --disasm` lands in.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "analysis/disassembler.hpp"
#include "commands.hpp"

namespace pemap::inspect {

struct DisasmOptions {
  bool entry = false;
  std::string export_name;
  std::optional<uint64_t> address;  ///< an RVA, or a VA of the image at its preferred base
  uint64_t count = 20;
};

int run_disasm(const CommonOptions& opts, const DisasmOptions& d);

/// "mov eax, 0x10004000": an instruction as one line.
std::string instruction_text(const analysis::Instruction& i);

/// Which instruction covers an RVA: each executable section (or a flat image's code section) is decoded by one
/// linear sweep from its start, as objdump decodes, the first time an RVA in it is asked for; only the bytes the
/// file backs (the zero fill after them is no code). Data inside code can put a few instructions out of step.
class CodeMap {
 public:
  static Result<CodeMap> for_image(const pe::Image& image);
  /// None for data (a section that is not executable), zero fill and gaps.
  const analysis::Instruction* at(uint64_t rva);

 private:
  CodeMap(const pe::Image& image, analysis::Disassembler dis);
  std::optional<std::pair<uint64_t, Bytes>> code_at(uint64_t rva) const;
  const pe::Image* image_;
  analysis::Disassembler dis_;
  std::map<uint64_t, std::vector<analysis::Instruction>> sweeps_;  ///< by where each sweep starts
};
/// Each base relocation with the instruction it patches (a linear sweep of its executable section), or "data".
int run_relocs_disasm(const CommonOptions& opts);

}  // namespace pemap::inspect
