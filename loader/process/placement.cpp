// Placement over the real address space: /proc/self/maps says what is taken; MAP_FIXED_NOREPLACE (inside
// ImageView::map) makes the final say, so a range taken in between is simply tried again.
#include "process/placement.hpp"

#include <algorithm>
#include <fstream>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "memory/win32.hpp"

namespace pemap::ldr {

namespace {

constexpr uint64_t kGranule = win::kAllocationGranularity;
constexpr uint64_t kUserLimit = 0x7fff'ffff'0000;  // the top of the 47-bit user space, granule aligned

struct Busy {
  uint64_t start, end;
};

std::vector<Busy> busy_ranges() {
  std::vector<Busy> out;
  std::ifstream maps("/proc/self/maps");
  std::string line;
  while (std::getline(maps, line)) {
    const auto dash = line.find('-');
    const auto space = line.find(' ');
    if (dash == std::string::npos || space == std::string::npos || space < dash) continue;
    out.push_back({std::stoull(line.substr(0, dash), nullptr, 16),
                   std::stoull(line.substr(dash + 1, space - dash - 1), nullptr, 16)});
  }
  std::sort(out.begin(), out.end(), [](const Busy& a, const Busy& b) { return a.start < b.start; });
  return out;
}

Error placement_error(std::string message) {
  return make_error(Status::conflicting_addresses, "image placement", Location{}, std::move(message),
                    Win32Error::invalid_address);
}

}  // namespace

uint64_t address_limit(const pe::Image& image) {
  if (image.is_pe32plus()) return kUserLimit;
  return (image.file_header().Characteristics & pe::file_flag::large_address_aware) ? 0x1'0000'0000 : 0x8000'0000;
}

Placer::Placer(PlacementPolicy policy) : policy_(policy), rng_(policy.aslr_seed.value_or(0)) {}

std::optional<uint64_t> Placer::first_free(uint64_t start, uint64_t size, uint64_t limit) {
  uint64_t candidate = align_up(std::max(start, kGranule), kGranule);
  for (const Busy& b : busy_ranges()) {
    if (b.end <= candidate) continue;
    if (b.start >= candidate && b.start - candidate >= size) break;
    candidate = align_up(b.end, kGranule);
  }
  if (candidate >= limit || size > limit - candidate) return std::nullopt;
  return candidate;
}

Result<Placement> Placer::place(const std::shared_ptr<const win::ImageSection>& section,
                                std::optional<uint64_t> forced) {
  const uint64_t size = section->size();
  const uint64_t preferred = section->preferred_base();
  const uint64_t limit = address_limit(section->image());
  const char* format = section->pe32plus() ? "PE32+" : "PE32";
  if (forced) {
    if (*forced % kGranule != 0)
      return placement_error(fmt::format("forced base {:#x} is not a multiple of 64 KiB", *forced));
    // A view asked for at address 0 goes wherever is free (MapViewOfFileEx's NULL): no image is ever placed there.
    if (*forced == 0) return placement_error("forced base 0: the first 64 KiB of the address space are never mapped");
    if (*forced >= limit || size > limit - *forced)
      return placement_error(fmt::format("forced base {:#x}: a {} image of {:#x} bytes must end below {:#x}", *forced,
                                         format, size, limit));
    auto view = win::ImageView::map(section, reinterpret_cast<void*>(*forced));
    if (!view) return placement_error(fmt::format("forced base {:#x}: {}", *forced, view.error().message));
    return Placement{std::move(*view), "forced", *forced == preferred ? "" : "a base forced with --base"};
  }

  const bool dynamic = section->image().optional_header().dll_characteristics & pe::dll_flag::dynamic_base;
  std::string reason;
  bool usable = true;
  const bool stripped = section->image().file_header().Characteristics & pe::file_flag::relocs_stripped;
  if (policy_.aslr_seed && dynamic && !stripped && !section->flat()) {
    reason = "DYNAMIC_BASE asks for ASLR";
  } else if (preferred % kGranule != 0 || preferred < kGranule || preferred >= limit || size > limit - preferred) {
    reason = fmt::format("preferred base {:#x} is not a usable {} address", preferred, format);
    usable = false;
  } else if (auto view = win::ImageView::map(section, reinterpret_cast<void*>(preferred)); view) {
    return Placement{std::move(*view), "preferred", ""};
  } else if (view.error().status != Status::conflicting_addresses) {
    // The range was free but the view could not be built there (65,535 sections alternating protections pass
    // vm.max_map_count): it would fail anywhere, and "taken" would be a lie.
    return view.take_error();
  } else {
    reason = fmt::format("{:#x}..{:#x} is taken", preferred, preferred + size);
  }

  if (policy_.aslr_seed) {
    // Windows' bands: 32-bit images below 0x78000000, 64-bit ones high in user space.
    const uint64_t lo = section->pe32plus() ? 0x7ff0'0000'0000 : 0x1000'0000;
    const uint64_t hi = section->pe32plus() ? 0x7ff8'0000'0000 : 0x7800'0000;
    if (size < hi - lo) {
      std::uniform_int_distribution<uint64_t> granule(0, (hi - lo - size) / kGranule);
      for (int attempt = 0; attempt < 64; ++attempt) {
        const uint64_t at = lo + granule(rng_) * kGranule;
        auto view = win::ImageView::map(section, reinterpret_cast<void*>(at));
        if (view) return Placement{std::move(*view), "aslr", reason, usable};
        if (view.error().status != Status::conflicting_addresses) return view.take_error();
      }
    }
  }
  for (int attempt = 0; attempt < 8; ++attempt) {  // another mapping may take the range between look and map
    auto at = first_free(policy_.bottom_up_start, size, limit);
    if (!at) break;
    auto view = win::ImageView::map(section, reinterpret_cast<void*>(*at));
    if (view) return Placement{std::move(*view), "bottom-up", reason, usable};
    if (view.error().status != Status::conflicting_addresses) return view.take_error();
  }
  return placement_error(
      fmt::format("no free range of {:#x} bytes below {:#x} for a {} image ({})", size, limit, format, reason));
}

}  // namespace pemap::ldr
