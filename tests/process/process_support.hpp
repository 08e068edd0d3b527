// Helpers shared by the loader tests: testdata paths, temporary directories of built PEs, file-side facts
// (exports, relocations) to compare a loaded module with, reads from a module's view.
#pragma once

#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <ostream>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "pe/error.hpp"
#include "pe/exports.hpp"
#include "pe/image.hpp"
#include "process/process.hpp"
#include "support/files.hpp"
#include "support/pe_builder.hpp"

namespace pemap {

// gtest would print the status as raw bytes.
inline void PrintTo(Status s, std::ostream* os) { *os << status_name(s); }

namespace ldr::test {

namespace fs = std::filesystem;

inline fs::path bin(const std::string& arch) { return pemap::test::testdata_dir() / "bin" / arch; }
inline std::string bin(const std::string& arch, const std::string& file) { return (bin(arch) / file).string(); }
inline std::string system_dir(const std::string& arch) { return (bin(arch) / "system").string(); }

/// LoadOptions with the stub system DLLs on the search path (pemap load --path bin/ARCH/system).
inline LoadOptions with_system(const std::string& arch) {
  LoadOptions o;
  o.search_dirs = {system_dir(arch)};
  return o;
}

/// A PE file read and parsed on its own, as the file says (not as any loader mapped it).
struct FileImage {
  std::vector<std::byte> bytes;
  std::unique_ptr<pe::Image> image;  // views `bytes`

  explicit FileImage(const std::string& path) : bytes(pemap::test::read_file(path)) {
    auto parsed = pe::Image::parse({bytes.data(), bytes.size()});
    if (!parsed) throw std::runtime_error(path + ": " + parsed.error().to_string());
    image = std::make_unique<pe::Image>(std::move(*parsed));
  }
  pe::Exports exports() const {
    auto e = pe::parse_exports(*image);
    if (!e) throw std::runtime_error(e.error().to_string());
    return std::move(*e);
  }
  /// The RVA of the export named `name` (0 when there is none).
  uint32_t export_rva(std::string_view name) const {
    for (const auto& e : exports().entries)
      if (e.name == name) return e.rva;
    return 0;
  }
  uint32_t ordinal_rva(uint32_t ordinal) const {
    for (const auto& e : exports().entries)
      if (e.ordinal == ordinal) return e.rva;
    return 0;
  }
};

/// The exports of a testdata image as pefile reads them (testdata_exports.tsv, which the testdata_exports_pefile
/// test keeps equal to pefile's reading): expected addresses the parser under test does not compute.
class PefileExports {
 public:
  /// `path`: an image under testdata/bin, as a loaded module's path names it.
  explicit PefileExports(const std::string& path)
      : file_(fs::relative(fs::weakly_canonical(path), fs::weakly_canonical(pemap::test::testdata_dir() / "bin"))
                  .string()) {}
  /// The RVA of the export named `name` (0 when there is none).
  uint32_t export_rva(std::string_view name) const { return find("name", std::string(name)); }
  uint32_t ordinal_rva(uint32_t ordinal) const { return find("ordinal", std::to_string(ordinal)); }

 private:
  uint32_t find(const std::string& column, const std::string& value) const {
    static const auto rows = pemap::test::read_tsv(pemap::test::tests_dir() / "process" / "testdata_exports.tsv");
    for (const auto& row : rows)
      if (pemap::test::tsv_get(row, "file") == file_ && pemap::test::tsv_get(row, column) == value)
        return static_cast<uint32_t>(std::stoul(pemap::test::tsv_get(row, "rva"), nullptr, 16));
    return 0;
  }
  std::string file_;
};

/// A little-endian value of `width` bytes from a module's live view; every byte must be mapped readable.
inline uint64_t view_value(const Module& m, uint64_t rva, unsigned width) {
  uint64_t v = 0;
  std::memcpy(&v, m.view->base() + rva, width);
  return v;
}

inline unsigned pointer_size(const Module& m) { return m.section->image().pointer_size(); }

/// A directory of its own under the system temp directory, removed with everything in it at scope exit.
class TempDir {
 public:
  TempDir() {
    static unsigned counter = 0;
    path_ = fs::temp_directory_path() /
            ("pemap-process-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }
  /// Writes `pe` as `name` in the directory; returns its path.
  std::string write(const std::string& name, const pemap::test::BuiltPe& pe) const {
    const fs::path p = path_ / name;
    std::ofstream out(p, std::ios::binary);
    out.write(reinterpret_cast<const char*>(pe.bytes.data()), static_cast<std::streamsize>(pe.bytes.size()));
    if (!out) throw std::runtime_error("cannot write " + p.string());
    return p.string();
  }
  std::string copy(const std::string& from, const std::string& name) const {
    const fs::path p = path_ / name;
    fs::copy_file(from, p, fs::copy_options::overwrite_existing);
    return p.string();
  }

 private:
  fs::path path_;
};

/// By-name import entry (hint, name) for PeBuilder.
inline pemap::test::ImportEntry by_name(std::string name, uint16_t hint = 0) {
  return std::pair<uint16_t, std::string>{hint, std::move(name)};
}

/// A DLL with a code section (16 bytes per export slot, RET-filled) and the given exports.
inline pemap::test::PeBuilder dll_builder(bool pe32plus, uint64_t base, const std::string& name,
                                          std::vector<pemap::test::Export> exports, bool sort_names = true) {
  pemap::test::PeBuilder b(pe32plus);
  b.image_base(base).characteristics(static_cast<uint16_t>((pe32plus ? 0x0022 : 0x0102) | 0x2000 /*DLL*/));
  b.entry_point(0);
  b.add_section({.name = ".text", .data = std::vector<std::byte>(0x100, std::byte{0xc3})});
  if (!exports.empty()) b.add_exports(name, 1, std::move(exports), sort_names);
  return b;
}

/// An importer (an .exe at the builder's default base) with a code section and the given imports (none: no import
/// directory).
inline pemap::test::PeBuilder exe_builder(bool pe32plus, std::vector<pemap::test::Import> imports,
                                          uint32_t idata_characteristics = 0xC0000040) {
  pemap::test::PeBuilder b(pe32plus);
  b.add_section({.name = ".text", .data = std::vector<std::byte>(0x100, std::byte{0xc3})});
  if (!imports.empty()) b.add_imports(std::move(imports), idata_characteristics);
  return b;
}

inline const Binding* binding(const Module& m, std::string_view function, bool delay = false) {
  for (const auto& b : m.bindings)
    if (b.function() == function && b.delay == delay) return &b;
  return nullptr;
}

inline std::vector<std::string> module_names(const Process& p) {
  std::vector<std::string> out;
  for (const auto& m : p.modules()) out.push_back(m->name);
  return out;
}

inline std::string arch_name(const testing::TestParamInfo<std::string>& info) { return info.param; }
inline std::string format_name(const testing::TestParamInfo<bool>& info) { return info.param ? "PE32plus" : "PE32"; }

}  // namespace ldr::test
}  // namespace pemap
