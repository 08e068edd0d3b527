// The tables the load configuration points to: Control Flow Guard's function table and the x86 SafeSEH handler
// table, and GuardFlags by name.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "pe/load_config.hpp"

namespace pemap::pe {

struct GuardTables {
  std::vector<uint32_t> cf_functions;      ///< GuardCFFunctionTable: RVAs of valid indirect-call targets
  std::vector<uint8_t> cf_function_flags;  ///< per entry, when GuardFlags' stride gives each one extra byte
  std::vector<uint32_t> se_handlers;       ///< SEHandlerTable: RVAs of the x86 image's exception handlers
  std::vector<Error> warnings;
};

/// GuardFlags' bits by name ("CF_INSTRUMENTED", ...), and the function table's stride (bits 28-31) as
/// "STRIDE_n" when not 0.
std::vector<std::string> guard_flag_names(uint32_t flags);

/// Both tables, each read where its VA points (at the preferred base), entry by entry; a table that lies outside
/// the image, or runs past the file's bytes, ends with a warning. Counts are bounded by the file's size.
GuardTables parse_guard_tables(const Image& image, const LoadConfig& config);

}  // namespace pemap::pe
