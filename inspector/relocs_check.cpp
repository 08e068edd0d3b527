// pemap relocs --check: the relocation test harness. The image at the base asked for and, unrelocated, elsewhere,
// compared byte for byte against what the listed fixups allow.
#include <fmt/format.h>

#include <cstring>
#include <iostream>

#include "json_text.hpp"
#include "memory/image_section.hpp"
#include "memory/win32.hpp"
#include "model.hpp"
#include "relocate.hpp"
#include "relocs_check.hpp"

namespace pemap::inspect {

json compare_relocated(const std::vector<std::byte>& before, const std::vector<std::byte>& after,
                       const pe::Relocations& relocs, int64_t delta) {
  // A reference: the unrelocated bytes with each fixup's arithmetic applied in file order, and for each
  // byte whether some fixup covers it.
  auto expected = before;
  std::vector<bool> covered(before.size());
  relocs.for_each([&](const pe::RelocEntry& e) {
    const unsigned w = pe::reloc_width(e.type);
    if (e.type == pe::reloc_type::absolute || w == 0 || e.rva + w > expected.size()) return;
    uint64_t v = 0;
    std::memcpy(&v, expected.data() + e.rva, w);
    v = relocated_value(e.type, v, delta, e.highadj_param.value_or(0));
    std::memcpy(expected.data() + e.rva, &v, w);
    for (unsigned k = 0; k < w; ++k) covered[e.rva + k] = true;
  });
  json violations = json::array();
  uint64_t count = 0;
  for (uint64_t i = 0; i < after.size(); ++i) {
    const bool differs = after[i] != before[i];
    const char* why = differs && !covered[i]    ? "changed outside every fixup"
                      : after[i] != expected[i] ? "not the value its fixups give"
                                                : nullptr;
    if (!why) continue;
    if (++count <= 20)
      violations.push_back({{"rva", i},
                            {"before", static_cast<unsigned>(before[i])},
                            {"after", static_cast<unsigned>(after[i])},
                            {"expected", static_cast<unsigned>(expected[i])},
                            {"reason", why}});
  }
  return json{{"bytes_compared", after.size()}, {"violations", count}, {"first_violations", std::move(violations)}};
}

namespace {

Result<json> check_one(const std::string& path, uint64_t base) {
  auto section = win::ImageSection::create(path);
  if (!section) return section.take_error();
  const auto& image = (*section)->image();
  auto relocs = pe::parse_relocations(image);
  if (!relocs) return relocs.take_error();
  // The view asked for first: the reference view, which is never relocated, then goes wherever is free (at the
  // preferred base unless `base` holds it), so it cannot take the range asked for.
  auto moved = win::ImageView::map(*section, reinterpret_cast<void*>(base));
  if (!moved) return moved.take_error();
  auto reference = win::ImageView::map(*section);
  if (!reference) return reference.take_error();
  const int64_t delta = static_cast<int64_t>(base - (*section)->preferred_base());
  auto stats = apply_relocations(**section, moved->base(), *relocs, delta);
  if (!stats) return stats.take_error();

  json report = compare_relocated(reference->bytes(), moved->bytes(), *relocs, delta);
  json per_type = json::object();
  for (const auto& [type, n] : stats->per_type) per_type[std::string(pe::reloc_type_name(type, relocs->machine))] = n;
  return json{{"preferred_base", (*section)->preferred_base()},
              {"base", base},
              {"delta", delta},
              {"fixups", per_type},
              {"pages_made_private", stats->pages_made_private},
              {"bytes_compared", report["bytes_compared"]},
              {"violations", report["violations"]},
              {"first_violations", std::move(report["first_violations"])}};
}

std::string render_check(const std::string& path, const json& d, bool /*many: the path starts each report*/) {
  std::string types;
  for (const auto& [k, v] : d["fixups"].items())
    types += fmt::format("{}{} {}", types.empty() ? "" : ", ", k, v.get<uint64_t>());
  const uint64_t violations = d["violations"].get<uint64_t>();
  std::string out =
      fmt::format("{}: preferred base {:#x}, loaded at {:#x} (delta {:#x})\n", printable(path),
                  d["preferred_base"].get<uint64_t>(), d["base"].get<uint64_t>(), d["delta"].get<int64_t>());
  out += fmt::format("  fixups applied: {}; {} pages made private\n", types.empty() ? "none" : types,
                     d["pages_made_private"].get<uint64_t>());
  out += fmt::format("  {} bytes compared: {}\n", d["bytes_compared"].get<uint64_t>(),
                     violations ? fmt::format("{} VIOLATIONS", violations)
                                : std::string("every difference is a listed fixup, by exactly its delta"));
  for (const auto& v : d["first_violations"])
    out += fmt::format("  RVA {:#x}: {:02x} -> {:02x}, expected {:02x}: {}\n", v["rva"].get<uint64_t>(),
                       v["before"].get<unsigned>(), v["after"].get<unsigned>(), v["expected"].get<unsigned>(),
                       v["reason"].get<std::string>());
  return out;
}

}  // namespace

int run_relocs_check(const CommonOptions& opts, uint64_t base) {
  return print_each_file(
      opts, [&](const std::string& path) { return check_one(path, base); }, render_check,
      [](const json& d) { return d["violations"].get<uint64_t>() ? int(exit_findings) : int(exit_ok); });
}

}  // namespace pemap::inspect
