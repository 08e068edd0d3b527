// The LIEF 0.9 peer of `pemap all` for bench/peers.sh: parse one file with LIEF and print its headers, data
// directories, sections, imports, exports, every base relocation entry and TLS, as a LIEF user would.
#include <LIEF/PE.hpp>
#include <cinttypes>
#include <cstdio>
#include <exception>
#include <iostream>
#include <memory>

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: lief_inspect FILE\n");
    return 2;
  }
  std::unique_ptr<LIEF::PE::Binary> b;
  try {
    b = LIEF::PE::Parser::parse(argv[1]);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "lief_inspect: %s: %s\n", argv[1], e.what());
    return 2;
  }
  if (!b) return 2;
  try {
    std::cout << b->dos_header() << "\n" << b->header() << "\n" << b->optional_header() << "\n";
    for (const auto& d : b->data_directories()) std::cout << d << "\n";
    std::cout << std::flush;
    // Section fields one by one: LIEF's operator<< for a section also hashes its content (entropy).
    for (const auto& s : b->sections())
      std::printf("section %s va %#" PRIx64 " vsize %#" PRIx64 " rawptr %#" PRIx64 " rawsize %#" PRIx64 " chars %#x\n",
                  s.name().c_str(), s.virtual_address(), uint64_t{s.virtual_size()}, uint64_t{s.pointerto_raw_data()},
                  uint64_t{s.size()}, s.characteristics());
    if (b->has_imports())
      for (const auto& im : b->imports()) {
        std::printf("import %s\n", im.name().c_str());
        for (const auto& e : im.entries()) {
          if (e.is_ordinal())
            std::printf("  %#" PRIx64 " #%u\n", e.iat_address(), unsigned{e.ordinal()});
          else
            std::printf("  %#" PRIx64 " %u %s\n", e.iat_address(), unsigned{e.hint()}, e.name().c_str());
        }
      }
    if (b->has_exports()) {
      const auto& ex = b->get_export();
      std::printf("exports of %s base %u\n", ex.name().c_str(), ex.ordinal_base());
      for (const auto& e : ex.entries())
        std::printf("  %u %#x %s\n", unsigned{e.ordinal()}, e.address(), e.name().c_str());
    }
    if (b->has_relocations())
      for (const auto& r : b->relocations()) {
        std::printf("block page %#x size %#x\n", r.virtual_address(), r.block_size());
        for (const auto& e : r.entries())
          std::printf("  %#x %s\n", r.virtual_address() + e.position(), LIEF::PE::to_string(e.type()));
      }
    if (b->has_tls()) std::cout << b->tls() << "\n";
  } catch (const std::exception& e) {
    std::fflush(stdout);
    std::fprintf(stderr, "lief_inspect: %s: %s\n", argv[1], e.what());
    return 1;
  }
  return 0;
}
