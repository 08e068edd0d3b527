// The LIEF 0.9 peer of `pemap all` for bench/peers.sh: parse one file with LIEF and print its headers, data
// directories, sections, imports, exports, every base relocation entry and TLS, as a LIEF user would. With
// --resources, the peer of `pemap resources` (the tree, each leaf's bytes, the version resource and the manifest);
// with --signature, the peer of `pemap signature` (the PKCS#7 SignedData LIEF parses).
#include <LIEF/PE.hpp>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <exception>
#include <iostream>
#include <memory>
#include <string>

namespace {

// Every node of the tree, each leaf with its size and code page (LIEF reads each leaf's bytes while parsing).
void print_resources(const LIEF::PE::ResourceNode& node, const std::string& path) {
  for (const auto& child : node.childs()) {
    const std::string key = child.has_name() ? LIEF::u16tou8(child.name()) : "#" + std::to_string(child.id());
    const std::string at = path.empty() ? key : path + "/" + key;
    if (child.is_data()) {
      const auto& data = static_cast<const LIEF::PE::ResourceData&>(child);
      std::printf("%s size %zu code page %u\n", at.c_str(), data.content().size(), data.code_page());
    } else {
      print_resources(child, at);
    }
  }
}

void print_all(const LIEF::PE::Binary& b) {
  std::cout << b.dos_header() << "\n" << b.header() << "\n" << b.optional_header() << "\n";
  for (const auto& d : b.data_directories()) std::cout << d << "\n";
  std::cout << std::flush;
  // Section fields one by one: LIEF's operator<< for a section also hashes its content (entropy).
  for (const auto& s : b.sections())
    std::printf("section %s va %#" PRIx64 " vsize %#" PRIx64 " rawptr %#" PRIx64 " rawsize %#" PRIx64 " chars %#x\n",
                s.name().c_str(), s.virtual_address(), uint64_t{s.virtual_size()}, uint64_t{s.pointerto_raw_data()},
                uint64_t{s.size()}, s.characteristics());
  if (b.has_imports())
    for (const auto& im : b.imports()) {
      std::printf("import %s\n", im.name().c_str());
      for (const auto& e : im.entries()) {
        if (e.is_ordinal())
          std::printf("  %#" PRIx64 " #%u\n", e.iat_address(), unsigned{e.ordinal()});
        else
          std::printf("  %#" PRIx64 " %u %s\n", e.iat_address(), unsigned{e.hint()}, e.name().c_str());
      }
    }
  if (b.has_exports()) {
    const auto& ex = b.get_export();
    std::printf("exports of %s base %u\n", ex.name().c_str(), ex.ordinal_base());
    for (const auto& e : ex.entries())
      std::printf("  %u %#x %s\n", unsigned{e.ordinal()}, e.address(), e.name().c_str());
  }
  if (b.has_relocations())
    for (const auto& r : b.relocations()) {
      std::printf("block page %#x size %#x\n", r.virtual_address(), r.block_size());
      for (const auto& e : r.entries())
        std::printf("  %#x %s\n", r.virtual_address() + e.position(), LIEF::PE::to_string(e.type()));
    }
  if (b.has_tls()) std::cout << b.tls() << "\n";
}

void print_resource_tables(const LIEF::PE::Binary& b) {
  if (!b.has_resources()) return;
  print_resources(b.resources(), "");
  const auto manager = b.resources_manager();
  std::fflush(stdout);
  if (manager.has_version()) std::cout << manager.version() << "\n";
  if (manager.has_manifest()) std::cout << manager.manifest() << "\n";
}

}  // namespace

int main(int argc, char** argv) {
  const std::string mode = argc == 3 ? argv[1] : "";
  if (!(argc == 2 || (argc == 3 && (mode == "--resources" || mode == "--signature")))) {
    std::fprintf(stderr, "usage: lief_inspect [--resources | --signature] FILE\n");
    return 2;
  }
  const char* path = argv[argc - 1];
  std::unique_ptr<LIEF::PE::Binary> b;
  try {
    b = LIEF::PE::Parser::parse(path);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "lief_inspect: %s: %s\n", path, e.what());
    return 2;
  }
  if (!b) return 2;
  try {
    if (mode == "--resources")
      print_resource_tables(*b);
    else if (mode == "--signature" && b->has_signature())
      std::cout << b->signature() << "\n";
    else if (mode == "--signature")
      std::puts("no signature");
    else
      print_all(*b);
  } catch (const std::exception& e) {
    std::fflush(stdout);
    std::fprintf(stderr, "lief_inspect: %s: %s\n", path, e.what());
    return 1;
  }
  return 0;
}
