// Builds a few images with PeBuilder and writes them to /tmp for inspection
// with:  llvm-readobj --file-headers --sections --coff-imports --coff-exports
//          --coff-basereloc --coff-tls-directory --coff-load-config
//          --coff-debug-directory FILE
// Also checks a few offsets/fields itself; exits non-zero on failure.
#include <cstdio>
#include <fstream>
#include <iostream>
#include <string>

#include "pe_builder.hpp"

using namespace pemap::test;

namespace {

int failures = 0;

void expect(bool ok, const std::string& what) {
  if (!ok) {
    std::cerr << "FAIL: " << what << "\n";
    ++failures;
  }
}

std::string read_str(const BuiltPe& pe, uint32_t off) {
  std::string r;
  while (off < pe.bytes.size() && pe.get8(off) != 0) r.push_back(static_cast<char>(pe.get8(off++)));
  return r;
}

void write(const BuiltPe& pe, const std::string& path) {
  std::string buf;
  for (std::byte x : pe.bytes) buf.push_back(static_cast<char>(x));
  std::ofstream out(path, std::ios::binary);
  out << buf;
  std::cout << path << " (" << pe.bytes.size() << " bytes)\n";
}

PeBuilder full_image(bool pe32plus) {
  PeBuilder b(pe32plus);
  const uint64_t ib = pe32plus ? 0x140000000ull : 0x400000ull;
  b.time_date_stamp(0x5f000000);
  std::vector<std::byte> code(0x40, std::byte{0xc3});
  b.add_section({.name = ".text", .data = code});
  b.add_section(
      {.name = ".data", .virtual_size = 0x2000, .data = to_bytes("hello, data"), .characteristics = 0xC0000040});
  b.add_section({.name = ".verylongsectionname", .data = to_bytes("long name"), .characteristics = 0x40000040});
  b.add_imports({
      {.dll = "KERNEL32.dll",
       .entries = {std::pair<uint16_t, std::string>{0x10, "ExitProcess"},
                   std::pair<uint16_t, std::string>{0x20, "GetLastError"}, uint16_t{7}}},
      {.dll = "WS2_32.dll", .entries = {uint16_t{115}, uint16_t{3}}},
      {.dll = "USER32.dll", .entries = {std::pair<uint16_t, std::string>{0, "MessageBoxA"}}, .use_lookup_table = false},
  });
  b.add_exports("selfcheck.dll", 5,
                {
                    {.name = "Zeta"},
                    {.name = "Alpha", .rva = 0x1020},
                    {.name = "", .noname = true},
                    {.name = "Fwd", .forwarder = "KERNEL32.ExitProcess"},
                    {.name = "FwdOrd", .forwarder = "WS2_32.#12", .ordinal = 12},
                });
  if (pe32plus)
    b.add_relocs({{0x1000, {0xA000, 0xA008, 0x0000}}, {0x2000, {0xA010, 0x0000}}});
  else
    b.add_relocs({{0x1000, {0x3000, 0x3004, 0x0000}}, {0x2000, {0x3010, 0x0000}}});
  b.add_tls({ib + 0x1010, ib + 0x1020}, 0x30);
  b.add_delay_imports({{.dll = "dbghelp.dll", .names = {"SymInitialize", "SymCleanup"}},
                       {.dll = "version.dll", .names = {"GetFileVersionInfoA"}}});
  b.add_debug_codeview("C:\\build\\selfcheck.pdb",
                       {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10},
                       3);
  b.add_load_config(pe32plus ? 0x100 : 0x94, ib + 0x2000);
  b.overlay(to_bytes("OVERLAY-DATA"));
  return b;
}

void check_common(const BuiltPe& pe, bool pe32plus) {
  expect(pe.get16(0) == 0x5a4d, "MZ");
  expect(pe.get32(0x3c) == pe.nt_offset, "e_lfanew");
  expect(pe.get32(pe.nt_offset) == 0x4550, "PE sig");
  expect(pe.optional_offset == pe.coff_offset + 20, "optional offset");
  expect(pe.get16(pe.optional_offset) == (pe32plus ? 0x20b : 0x10b), "magic");
  expect(pe.get16(pe.coff_offset + 16) == (pe32plus ? 240 : 224), "SizeOfOptionalHeader");
  expect(pe.section_table_offset == pe.optional_offset + (pe32plus ? 240u : 224u), "section table offset");
  expect(pe.data_dir_offset == pe.optional_offset + (pe32plus ? 112u : 96u), "data dir offset");
  expect(pe.get32(pe.data_dir_entry_offset(1)) == pe.import_rva, "import dir");
  expect(pe.get32(pe.data_dir_entry_offset(0)) == pe.export_rva, "export dir");
  expect(pe.get32(pe.data_dir_entry_offset(5)) == pe.reloc_rva, "reloc dir");
  expect(pe.get32(pe.data_dir_entry_offset(9)) == pe.tls_rva, "tls dir");
  expect(pe.get32(pe.data_dir_entry_offset(13)) == pe.delay_import_rva, "delay dir");
  expect(pe.get32(pe.data_dir_entry_offset(6)) == pe.debug_rva, "debug dir");
  expect(pe.get32(pe.data_dir_entry_offset(10)) == pe.load_config_rva, "load config dir");
  expect(pe.section_rvas.at(0) == 0x1000, ".text at 0x1000");
  expect(pe.section_raw_offsets.at(0) == 0x400, ".text raw at 0x400");
  expect(pe.string_table_offset != 0 && pe.get32(pe.coff_offset + 8) == pe.string_table_offset, "PointerToSymbolTable");
  expect(pe.string_table_offset + pe.get32(pe.string_table_offset) == pe.bytes.size(), "string table at EOF");
  expect(pe.overlay_offset != 0 && pe.get8(pe.overlay_offset) == 'O', "overlay");
  auto lc = pe.rva_to_offset(pe.load_config_rva);
  expect(lc && pe.get32(*lc) == (pe32plus ? 0x100u : 0x94u), "load config Size");
  // Section header name of the long section is "/4"
  expect(pe.get16(pe.section_header_offset(2)) == ('/' | ('4' << 8)), "long name /4");
  const uint64_t ib = pe32plus ? 0x140000000ull : 0x400000ull;
  const unsigned ps = pe32plus ? 8 : 4;
  auto ptr = [&](uint32_t off) { return pe32plus ? pe.get64(off) : pe.get32(off); };
  // TLS: AddressOfCallBacks -> {cb1, cb2, 0}
  const uint32_t tls = pe.rva_to_offset(pe.tls_rva).value_or(0);
  const uint32_t cbs = pe.rva_to_offset(static_cast<uint32_t>(ptr(tls + 3 * ps) - ib)).value_or(0);
  expect(ptr(cbs) == ib + 0x1010 && ptr(cbs + ps) == ib + 0x1020 && ptr(cbs + 2 * ps) == 0, "TLS callbacks");
  // Exports: names sorted, ordinal table consistent
  const uint32_t ex = pe.rva_to_offset(pe.export_rva).value_or(0);
  expect(pe.get32(ex + 20) == 8 && pe.get32(ex + 24) == 4, "export counts");
  const uint32_t names = pe.rva_to_offset(pe.get32(ex + 32)).value_or(0);
  const uint32_t ords = pe.rva_to_offset(pe.get32(ex + 36)).value_or(0);
  const char* want[] = {"Alpha", "Fwd", "FwdOrd", "Zeta"};
  const uint16_t want_ord[] = {1, 3, 7, 0};
  for (int i = 0; i < 4; ++i) {
    expect(read_str(pe, pe.rva_to_offset(pe.get32(names + 4 * i)).value_or(0)) == want[i], "export name order");
    expect(pe.get16(ords + 2 * i) == want_ord[i], "export name ordinal");
  }
  // Imports: third descriptor has OriginalFirstThunk == 0; ordinal thunk flag
  const uint32_t im = pe.rva_to_offset(pe.import_rva).value_or(0);
  expect(pe.get32(im + 40) == 0 && pe.get32(im + 56) != 0 && pe.get32(im + 60) == 0, "import descriptors");
  const uint32_t k32_ilt = pe.rva_to_offset(pe.get32(im)).value_or(0);
  expect(ptr(k32_ilt + 2 * ps) == (pe32plus ? 0x8000000000000007ull : 0x80000007ull), "ordinal thunk");
  bool threw = false;
  try {
    BuiltPe copy = pe;
    copy.put32(static_cast<uint32_t>(copy.bytes.size() - 2), 0);
  } catch (const std::out_of_range&) {
    threw = true;
  }
  expect(threw, "put32 range check");
}

}  // namespace

int main(int argc, char** argv) {
  // With a directory, the images are written there too, for a look with other tools; the check itself writes nothing.
  const std::string dir = argc > 1 ? argv[1] : "";
  {
    BuiltPe pe = full_image(false).build();
    check_common(pe, false);
    if (!dir.empty()) write(pe, dir + "/pemap_pe32.exe");
  }
  {
    BuiltPe pe = full_image(true).compute_checksum().build();
    check_common(pe, true);
    if (!dir.empty()) write(pe, dir + "/pemap_pe64.exe");
  }
  {
    // PE32 DLL: bound imports, checksum, old-style (0x40) load config.
    PeBuilder b(false);
    b.characteristics(0x2102).image_base(0x10000000).compute_checksum();
    b.add_section({.name = ".text", .data = std::vector<std::byte>(0x20, std::byte{0x90})});
    b.add_imports({{.dll = "KERNEL32.dll", .entries = {std::pair<uint16_t, std::string>{1, "Sleep"}}}});
    b.add_bound_imports({{"KERNEL32.dll", 0x12345678}, {"NTDLL.DLL", 0x9abcdef0}});
    b.add_exports("va.dll", 1, {{.name = "Exported"}});
    b.add_load_config(0x40, 0x10003000);
    BuiltPe pe = b.build();
    const uint32_t bo = pe.bound_import_offset;
    expect(bo == pe.section_table_offset + 40 * 4, "bound offset");
    expect(pe.get32(pe.data_dir_entry_offset(11)) == bo, "bound dir");
    expect(pe.get32(bo) == 0x12345678 && pe.get32(bo + 8) == 0x9abcdef0 && pe.get32(bo + 16) == 0, "bound ts");
    expect(read_str(pe, bo + pe.get16(bo + 12)) == "NTDLL.DLL", "bound name");
    if (!dir.empty()) write(pe, dir + "/pemap_pe32_bound.dll");
  }
  {
    // PE32 with VA-form (Attributes = 0) delay imports. llvm-readobj 14 reads
    // every delay descriptor field as an RVA, so this one is checked here only.
    PeBuilder b(false);
    b.add_section({.name = ".text", .data = std::vector<std::byte>(0x20, std::byte{0x90})});
    b.add_delay_imports({{.dll = "old.dll", .names = {"OldFunc"}, .rva_form = false}});
    BuiltPe pe = b.build();
    auto va_to_off = [&](uint32_t va) { return pe.rva_to_offset(va - 0x400000).value_or(0); };
    const uint32_t d = pe.rva_to_offset(pe.delay_import_rva).value_or(0);
    expect(d && pe.get32(d) == 0, "VA-form attributes");
    expect(read_str(pe, va_to_off(pe.get32(d + 4))) == "old.dll", "VA-form dll name");
    const uint32_t int_entry = pe.get32(va_to_off(pe.get32(d + 16)));
    expect(read_str(pe, va_to_off(int_entry) + 2) == "OldFunc", "VA-form INT entry");
    expect(pe.get32(va_to_off(pe.get32(d + 12))) == 0x401000, "VA-form IAT entry");
    if (!dir.empty()) write(pe, dir + "/pemap_pe32_vadelay.exe");
  }
  {
    // Minimal PE32+ with odd knobs: low alignment (SA == FA == 0x200), 0x10 dirs.
    PeBuilder b(true);
    b.section_alignment(0x200).file_alignment(0x200).e_lfanew(0x40);
    b.add_section({.name = ".text", .data = std::vector<std::byte>(0x10, std::byte{0xcc})});
    BuiltPe pe = b.build();
    expect(pe.section_rvas.at(0) == pe.section_raw_offsets.at(0), "low alignment rva == raw");
    if (!dir.empty()) write(pe, dir + "/pemap_pe64_min.exe");
  }
  if (failures) {
    std::cerr << failures << " failure(s)\n";
    return 1;
  }
  std::cout << "selfcheck OK\n";
  return 0;
}
