// The calls themselves: a function pointer with the ms_abi attribute lets the compiler set up RCX/RDX/R8/R9 and
// the shadow space.
#include "run/call.hpp"

#include <fmt/format.h>

namespace pemap::run {

Result<bool> can_run(const ldr::Module& m) {
#if defined(__x86_64__)
  const auto& image = m.image();
  if (!image.is_pe32plus())
    return make_error(Status::invalid_image_format, "optional header", Location::offset(image.optional_header_offset()),
                      fmt::format("{} is PE32: its code needs the CPU in 32-bit mode, so pemap maps, relocates and "
                                  "binds it but never runs it",
                                  m.name));
  if (image.file_header().Machine != pe::machine::amd64)
    return make_error(Status::invalid_image_format, "COFF header", Location::offset(image.dos_header().e_lfanew + 4),
                      fmt::format("{} is for machine {:#x}, not x86-64", m.name, image.file_header().Machine));
  return true;
#else
  return make_error(Status::invalid_image_format, "run", Location{},
                    fmt::format("{}: running image code needs an x86-64 host", m.name));
#endif
}

Result<uint64_t> call(const ldr::Module& m, uint64_t address, std::span<const uint64_t> args) {
  if (auto ok = can_run(m); !ok) return ok.take_error();
  if (args.size() > 4)
    return make_error(Status::invalid_image_format, "run", Location{}, "at most four arguments (RCX, RDX, R8, R9)");
  if (address < m.base || address - m.base >= m.section->size())
    return make_error(
        Status::invalid_image_format, "run", Location{},
        fmt::format("{:#x} is not inside {} ({:#x}..{:#x})", address, m.name, m.base, m.base + m.section->size()));
#if defined(__x86_64__)
  uint64_t a[4] = {};
  for (size_t i = 0; i < args.size(); ++i) a[i] = args[i];
  using Fn = uint64_t(__attribute__((ms_abi))*)(uint64_t, uint64_t, uint64_t, uint64_t);
  const auto fn = reinterpret_cast<Fn>(static_cast<uintptr_t>(address));
  return fn(a[0], a[1], a[2], a[3]);
#else
  return 0;
#endif
}

Result<uint64_t> call_dll_main(const ldr::Module& m, uint32_t reason) {
  if (m.entry_point == 0) return uint64_t{1};
  const uint64_t args[] = {m.base, reason, 0};
  return call(m, m.entry_point, args);
}

Result<uint64_t> export_address(const ldr::Module& m, std::string_view name) {
  const auto found = m.exports().by_name(name, 0);
  if (!found.entry)
    return make_error(Status::entrypoint_not_found, fmt::format("export directory of {}", m.name), Location{},
                      fmt::format("{}!{} is not exported", m.name, name));
  if (found.entry->is_forwarder())
    return make_error(
        Status::entrypoint_not_found, fmt::format("export directory of {}", m.name), Location{},
        fmt::format("{}!{} is a forwarder ({}): call its target", m.name, name, found.entry->forwarder.substr(0, 256)));
  return m.base + found.entry->rva;
}

}  // namespace pemap::run
