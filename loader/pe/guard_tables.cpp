// Parsing of the CFG function table and the SafeSEH handler table.
#include "pe/guard_tables.hpp"

#include <fmt/format.h>

#include "pe/scan_budget.hpp"

namespace pemap::pe {

std::vector<std::string> guard_flag_names(uint32_t flags) {
  static constexpr std::pair<uint32_t, const char*> names[] = {{0x100, "CF_INSTRUMENTED"},
                                                               {0x200, "CFW_INSTRUMENTED"},
                                                               {0x400, "CF_FUNCTION_TABLE_PRESENT"},
                                                               {0x800, "SECURITY_COOKIE_UNUSED"},
                                                               {0x1000, "PROTECT_DELAYLOAD_IAT"},
                                                               {0x2000, "DELAYLOAD_IAT_IN_ITS_OWN_SECTION"},
                                                               {0x4000, "CF_EXPORT_SUPPRESSION_INFO_PRESENT"},
                                                               {0x8000, "CF_ENABLE_EXPORT_SUPPRESSION"},
                                                               {0x10000, "CF_LONGJUMP_TABLE_PRESENT"},
                                                               {0x20000, "RF_INSTRUMENTED"},
                                                               {0x40000, "RF_ENABLE"},
                                                               {0x80000, "RF_STRICT"},
                                                               {0x100000, "RETPOLINE_PRESENT"},
                                                               {0x400000, "EH_CONTINUATION_TABLE_PRESENT"},
                                                               {0x800000, "XFG_ENABLED"},
                                                               {0x1000000, "CASTGUARD_PRESENT"},
                                                               {0x2000000, "MEMCPY_PRESENT"}};
  std::vector<std::string> out;
  const uint32_t stride = flags >> 28;
  flags &= 0x0FFFFFFF;
  for (const auto& [bit, name] : names)
    if (flags & bit) out.emplace_back(name), flags &= ~bit;
  if (flags) out.push_back(fmt::format("{:#x}", flags));
  if (stride) out.push_back(fmt::format("STRIDE_{}", stride));
  return out;
}

namespace {

// `count` entries of `width` bytes at `va`, the first four of each an RVA, and the fifth (if any) a flags byte.
void read_table(const Image& image, std::string_view structure, uint64_t va, uint64_t count, unsigned width,
                std::vector<uint32_t>& rvas, std::vector<uint8_t>* flags, std::vector<Error>& warnings) {
  if (va == 0 || count == 0) return;
  const auto rva = image.va_to_rva(va);
  const auto warn = [&](Location at, std::string message) {
    warnings.push_back(make_error(Status::success, std::string(structure), at, std::move(message)));
  };
  if (!rva) return warn(Location{}, fmt::format("its VA {:#x} is outside the image at its preferred base", va));
  if (count > entry_budget(image)) {
    warn(Location::rva(*rva),
         fmt::format("{} entries are more than this file can hold; the first {} are read", count, entry_budget(image)));
    count = entry_budget(image);
  }
  if (auto cut = image.cut_short(*rva, count * width, structure)) warnings.push_back(std::move(*cut));
  for (uint64_t i = 0; i < count; ++i) {
    const uint64_t at = *rva + i * width;
    // Entries must come from file bytes: a huge count over zero fill would list millions of zeros.
    if (image.file_span(at).size() < width) {
      warn(Location::rva(at), fmt::format("entries {} to {} lie outside the file's bytes; not listed", i, count - 1));
      break;
    }
    auto v = image.read_rva<uint32_t>(at, structure);
    if (!v) return warnings.push_back(v.take_error());
    rvas.push_back(*v);
    if (flags && width > 4) {
      auto f = image.read_uint(at + 4, 1, structure);
      flags->push_back(f ? static_cast<uint8_t>(*f) : uint8_t{0});
    }
  }
}

}  // namespace

GuardTables parse_guard_tables(const Image& image, const LoadConfig& config) {
  GuardTables out;
  if (!config.present) return out;
  const uint64_t guard_flags = config.get("GuardFlags").value_or(0);
  const unsigned stride = static_cast<unsigned>(guard_flags >> 28);
  read_table(image, "CFG function table", config.get("GuardCFFunctionTable").value_or(0),
             config.get("GuardCFFunctionCount").value_or(0), 4 + stride, out.cf_functions, &out.cf_function_flags,
             out.warnings);
  read_table(image, "SafeSEH handler table", config.get("SEHandlerTable").value_or(0),
             config.get("SEHandlerCount").value_or(0), 4, out.se_handlers, nullptr, out.warnings);
  return out;
}

}  // namespace pemap::pe
