// Where an image goes: its preferred base when that range is free, else bottom-up on 64 KiB boundaries from a
// start address, or a random base from a seed (ASLR); a base forced per module for tests.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <random>
#include <string>

#include "memory/image_section.hpp"

namespace pemap::ldr {

struct PlacementPolicy {
  uint64_t bottom_up_start = 0x10000;  ///< the lowest address Windows hands out
  std::optional<uint64_t> aslr_seed;   ///< set: DYNAMIC_BASE images, and displaced ones, get a random base
};

/// Where an image view went, and why there.
struct Placement {
  win::ImageView view;
  std::string how;               ///< "preferred", "bottom-up", "aslr" or "forced"
  std::string reason;            ///< why not at the preferred base (empty when it is)
  bool preferred_usable = true;  ///< false when the preferred base could never be had (outside user space...)
};

/// The highest address + 1 an image may occupy: the 47-bit user space for PE32+; for PE32 the 2 GiB user space of
/// a 32-bit process, or 4 GiB when the image is LARGE_ADDRESS_AWARE (as under WOW64).
uint64_t address_limit(const pe::Image& image);

class Placer {
 public:
  explicit Placer(PlacementPolicy policy);

  /// Maps `section` as the policy says: at `forced` exactly if given (refused, with the rule, when not 64 KiB
  /// aligned, taken, or past the format's limit), else the preferred base, else another free base.
  Result<Placement> place(const std::shared_ptr<const win::ImageSection>& section, std::optional<uint64_t> forced);

  /// The lowest free 64 KiB-aligned range of `size` bytes at or above `start` and below `limit`, from the
  /// kernel's map of this process.
  static std::optional<uint64_t> first_free(uint64_t start, uint64_t size, uint64_t limit);

 private:
  PlacementPolicy policy_;
  std::mt19937_64 rng_;
};

}  // namespace pemap::ldr
