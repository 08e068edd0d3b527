// Narration: one sentence per event.
#include "narrate.hpp"

#include <fmt/format.h>

#include "json_text.hpp"

namespace pemap::inspect {

namespace {

std::string counts_text(const std::map<std::string, uint64_t>& counts) {
  std::string out;
  for (const auto& [what, n] : counts) out += fmt::format("{}{} {}", out.empty() ? "" : ", ", n, what);
  return out;
}

std::string plural(uint64_t n, std::string_view one, std::string_view many) {
  return fmt::format("{} {}", n, n == 1 ? one : many);
}

std::string imported_by(const ldr::Event& e) {
  return e.target.empty() ? std::string() : fmt::format(" (imported by {})", e.target);
}

}  // namespace

std::string describe(const ldr::Event& e) {
  using ldr::Step;
  const std::string m = printable(e.module), t = printable(e.target);
  switch (e.step) {
    case Step::find:
      if (!e.ok && !e.path.empty())
        return fmt::format("Pass over {} for {}{}: {}", printable(e.path), m, imported_by(e), e.reason);
      return e.ok ? fmt::format("Find {}{}: {} ({})", m, imported_by(e), printable(e.path), e.where)
                  : fmt::format("Find {}{}: not on the search path", m, imported_by(e));
    case Step::section:
      return fmt::format("Create an image section (SEC_IMAGE) for {}: {}, SizeOfImage {:#x}", m,
                         plural(e.count, "section", "sections"), e.size);
    case Step::map:
      if (e.how == "preferred") return fmt::format("Map {} at its preferred base {:#x}", m, e.preferred);
      return fmt::format("Map {} at {:#x} ({}), not its preferred base {:#x}: {}", m, e.address, e.how, e.preferred,
                         e.reason);
    case Step::relocate:
      if (!e.ok) return fmt::format("Relocating {} is refused: {}", m, e.reason);
      if (e.delta == 0) return fmt::format("No relocation for {}: {}", m, e.reason);
      if (!e.reason.empty())
        return fmt::format("{} moved by {:+#x} but is not relocated: {}; header ImageBase set to {:#x}", m, e.delta,
                           e.reason, e.address);
      return fmt::format(
                 "Relocate {} by {:+#x}: {} ({}) on {}, each now a private copy; header ImageBase set to "
                 "{:#x}",
                 m, e.delta, plural(e.value, "fixup", "fixups"), counts_text(e.counts),
                 plural(e.count, "page", "pages"), e.address) +
             (e.how.empty() ? "" : "; " + e.how);
    case Step::cookie:
      return fmt::format("Set {}'s /GS security cookie at {:#x} to {:#x} (it held the compiler's default)", m,
                         e.address, e.value);
    case Step::imports:
      return e.count == 0
                 ? fmt::format("{} imports nothing", m)
                 : fmt::format("Walk {}'s import directory: {} ({})", m, plural(e.count, "module", "modules"), t);
    case Step::dependency:
      return fmt::format("{} needs {}: {}", m, t, printable(e.reason));
    case Step::apiset:
      return e.ok ? fmt::format("{} is an API set: {} maps it to {}", m, e.reason.empty() ? "the schema" : e.reason, t)
                  : fmt::format("{} is an API set with no host in the schema", m);
    case Step::reference:
      return fmt::format("{} is already loaded: its reference count is now {}", t, e.count);
    case Step::bind:
      return fmt::format("Bind {}'s {} from {}", m, plural(e.count, "import", "imports"), t);
    case Step::bound:
      return e.ok ? fmt::format("{}'s bound imports from {} are still valid: {}", m, t, e.reason)
                  : fmt::format("{}'s bound imports from {} are stale: {}", m, t, e.reason);
    case Step::delay:
      return e.ok ? fmt::format("Bind {}'s {} delay-load imports from {} now (--bind-delay)", m, e.count, t)
                  : fmt::format("{}'s {} delay-load imports from {} are left for their first call", m, e.count, t);
    case Step::missing:
      if (e.function.empty())
        return fmt::format("{} is missing: {}'s {} from it go to trap addresses", t, m,
                           plural(e.count, "import", "imports"));
      return e.ok ? fmt::format("{}!{} cannot be resolved ({}): {}'s slot gets the trap address {:#x}", t,
                                printable(e.function), printable(e.reason), m, e.address)
                  : fmt::format("{}!{}, imported by {}, cannot be resolved: {}", t, printable(e.function), m,
                                printable(e.reason));
    case Step::protect:
      return e.reason.empty()
                 ? fmt::format("Give {}'s {} regions their final protections: no page is both writable and executable",
                               m, e.count)
                 : fmt::format(
                       "Give {}'s {} regions their final protections: {} writable and executable, because "
                       "its characteristics ask for that",
                       m, e.count, printable(e.reason));
    case Step::tls_index:
      return fmt::format("Write {}'s TLS index {} at {:#x} (AddressOfIndex)", m, e.value, e.address);
    case Step::reread:
      return fmt::format("Read {}'s headers and tables again from its mapped image: {}", m, printable(e.reason));
    case Step::tls:
      return fmt::format("{} has {}, the first at {:#x}: they run before its entry point", m,
                         plural(e.count, "TLS callback", "TLS callbacks"), e.address);
    case Step::entry:
      return e.address ? fmt::format("{}'s entry point is at {:#x}", m, e.address)
                       : fmt::format("{} has no entry point", m);
    case Step::loaded:
      return fmt::format("{} is in the module list at {:#x}, reference count {}", m, e.address, e.count);
    case Step::failed:
      return fmt::format("Loading {} failed, and what it loaded is unloaded: {}", m, printable(e.reason));
    case Step::unload:
      if (!e.ok) return fmt::format("FreeLibrary({}) changes nothing: {}", m, printable(e.reason));
      return fmt::format("{}'s reference count reached 0: unmapped from {:#x}", m, e.address);
  }
  return {};
}

std::string narrate(const std::vector<ldr::Event>& events) {
  std::string out;
  std::vector<unsigned> number;  // the step number at each depth
  for (const auto& e : events) {
    number.resize(e.depth + 1);
    ++number[e.depth];
    std::string label;
    for (unsigned n : number) label += fmt::format("{}.", n);
    if (e.depth > 0) label.pop_back();
    out += fmt::format("{:{}}{} {}\n", "", 2 * e.depth, label, describe(e));
  }
  return out;
}

}  // namespace pemap::inspect
