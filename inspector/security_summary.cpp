// The security summary of `info`.
#include "security_summary.hpp"

#include <fmt/format.h>

#include "pe/load_config.hpp"
#include "pe/relocs.hpp"

namespace pemap::inspect {

namespace {
constexpr uint64_t kGuardCfInstrumented = 0x100;  // IMAGE_GUARD_CF_INSTRUMENTED
constexpr uint16_t kMachineI386 = 0x14C;
}  // namespace

void print_security(const pe::Image& image, Printer& p) {
  const uint16_t dll = image.optional_header().dll_characteristics;
  const bool stripped = image.file_header().Characteristics & pe::file_flag::relocs_stripped;
  // Read quietly: info lists the tables' own warnings already.
  Warnings quiet;
  const auto relocs = pe::parse_relocations(image);
  const auto* r = quiet.parsed(relocs);
  const bool has_relocs = !stripped && r && r->entry_count() > 0;
  const auto lc = pe::parse_load_config(image);
  const auto* l = quiet.parsed(lc);
  const auto lc_field = [&](std::string_view name) -> uint64_t {
    if (!l || !l->present) return 0;
    return l->get(name).value_or(0);
  };
  const bool dynamic_base = dll & pe::dll_flag::dynamic_base;
  p.begin_object("security");
  p.field("dynamic_base", dynamic_base);
  p.field("relocations", has_relocs);
  p.field("aslr", dynamic_base && has_relocs);
  p.field("high_entropy_va", image.is_pe32plus() && dynamic_base && (dll & pe::dll_flag::high_entropy_va));
  p.field("nx_compat", (dll & pe::dll_flag::nx_compat) != 0);
  p.field("cfg", (dll & pe::dll_flag::guard_cf) && (lc_field("GuardFlags") & kGuardCfInstrumented));
  if (image.file_header().Machine != kMachineI386)
    p.field("safeseh", "n/a");
  else if (dll & pe::dll_flag::no_seh)
    p.field("safeseh", "NO_SEH");
  else
    p.field("safeseh", lc_field("SEHandlerTable") != 0 && lc_field("SEHandlerCount") != 0 ? "yes" : "no");
  p.field("gs", lc_field("SecurityCookie") != 0);
  p.field("authenticode", image.directory(pe::kDirSecurity).Size != 0);
  p.field("force_integrity", (dll & pe::dll_flag::force_integrity) != 0);
  p.end_object();
}

std::string render_security(const json& s) {
  const auto yes = [&](const char* k) { return s[k].get<bool>() ? "yes" : "no"; };
  std::string aslr = yes("aslr");
  if (s["dynamic_base"].get<bool>() && !s["relocations"].get<bool>())
    aslr = "no (DYNAMIC_BASE, but no relocations: the image cannot move)";
  else if (!s["dynamic_base"].get<bool>())
    aslr = "no (no DYNAMIC_BASE)";
  const std::string safeseh = s["safeseh"].get<std::string>();
  const std::pair<const char*, std::string> rows[] = {
      {"ASLR", aslr},
      {"High-entropy ASLR", yes("high_entropy_va")},
      {"DEP (NX_COMPAT)", yes("nx_compat")},
      {"Control Flow Guard", yes("cfg")},
      {"SafeSEH", safeseh == "n/a"      ? "n/a (not x86: exceptions are table-based)"
                  : safeseh == "NO_SEH" ? "NO_SEH (no exception handlers at all)"
                                        : safeseh},
      {"/GS security cookie", yes("gs")},
      {"Authenticode signature", s["authenticode"].get<bool>() ? "present" : "none"},
      {"FORCE_INTEGRITY", yes("force_integrity")},
  };
  std::string out = "  Security\n";
  for (const auto& [k, v] : rows) out += fmt::format("    {:<26} {}\n", k, v);
  return out;
}

}  // namespace pemap::inspect
