// The tables an analyst reads beside the loader's: the resource tree (and its hostile shapes), version
// information, the Rich header, the PE checksum, UTF-16 names, digests, entropy and imphash.
#include <cstdint>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "analysis/demangle.hpp"
#include "analysis/disassembler.hpp"
#include "analysis/fingerprints.hpp"
#include "analysis/manifest.hpp"
#include "pe/checksum.hpp"
#include "pe/clr.hpp"
#include "pe/resources.hpp"
#include "pe/rich_header.hpp"
#include "pe/unwind.hpp"
#include "pe/utf16.hpp"
#include "pe/version_info.hpp"
#include "support/pe_builder.hpp"
#include "unit_helpers.hpp"

namespace pemap::pe {
namespace {

using test::PeBuilder;
using unit::describe;
using unit::find_warning;
using unit::parse;
using unit::pattern;
using unit::put_le;

constexpr uint32_t kRsrc = 0x3000;  // the resource section's RVA in every image here
constexpr uint32_t kSub = 0x80000000;

// A resource section written by hand: directories and entries at chosen offsets from its start.
struct Tree {
  std::vector<std::byte> bytes = std::vector<std::byte>(0x1000);
  // A directory at `at` with `named` named and `ids` ID entries; returns where its entries begin.
  size_t dir(size_t at, uint16_t named, uint16_t ids) {
    put_le(bytes, at + 4, 0x12345678, 4);  // TimeDateStamp
    put_le(bytes, at + 12, named, 2);
    put_le(bytes, at + 14, ids, 2);
    return at + 16;
  }
  void entry(size_t at, uint32_t name, uint32_t target) {
    put_le(bytes, at, name, 4);
    put_le(bytes, at + 4, target, 4);
  }
  void data(size_t at, uint32_t rva, uint32_t size, uint32_t code_page = 0) {
    put_le(bytes, at, rva, 4);
    put_le(bytes, at + 4, size, 4);
    put_le(bytes, at + 8, code_page, 4);
  }
  void name(size_t at, std::u16string_view text) {
    put_le(bytes, at, text.size(), 2);
    for (size_t i = 0; i < text.size(); ++i) put_le(bytes, at + 2 + 2 * i, text[i], 2);
  }
};

test::BuiltPe image_with(const Tree& t, bool pe32plus = true) {
  PeBuilder b(pe32plus);
  b.add_section({.name = ".text", .data = pattern(0x200), .virtual_address = 0x1000});
  b.add_section({.name = ".rsrc", .data = t.bytes, .characteristics = 0x40000040, .virtual_address = kRsrc});
  b.set_directory(2, kRsrc, static_cast<uint32_t>(t.bytes.size()));
  return b.build();
}

// RT_VERSION/#1/#1033 and a named type "MY" / named entry "Жx😀" / language 0.
Tree two_entries() {
  Tree t;
  size_t e = t.dir(0, 1, 1);
  t.entry(e, kSub | 0x300, kSub | 0x40);  // named type
  t.entry(e + 8, 16, kSub | 0x100);       // RT_VERSION
  t.name(0x300, u"MY");
  size_t n = t.dir(0x40, 1, 0);
  t.entry(n, kSub | 0x310, kSub | 0x60);
  t.name(0x310, u"Жx\U0001F600");
  size_t l = t.dir(0x60, 0, 1);
  t.entry(l, 0, 0x200);
  t.data(0x200, kRsrc + 0x400, 0x20, 1252);
  n = t.dir(0x100, 0, 1);
  t.entry(n, 1, kSub | 0x120);
  l = t.dir(0x120, 0, 1);
  t.entry(l, 1033, 0x210);
  t.data(0x210, kRsrc + 0x500, 0x40);
  for (size_t i = 0; i < 0x20; ++i) t.bytes[0x400 + i] = std::byte(0xA0 + i);
  return t;
}

TEST(Resources, TreeOfThreeLevelsWithNamesFromUtf16) {
  const auto built = image_with(two_entries());
  auto image = parse(built);
  ASSERT_TRUE(image) << image.error().to_string();
  auto r = parse_resources(*image);
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->warnings.empty()) << describe(r->warnings);
  ASSERT_EQ(r->entries.size(), 2u);
  const auto& named = r->entries[0];
  EXPECT_TRUE(named.type.named);
  EXPECT_EQ(named.type.name, "MY");
  EXPECT_EQ(named.name.name, "\xD0\x96x\xF0\x9F\x98\x80");  // Ж, x, and a surrogate pair
  EXPECT_EQ(named.rva, kRsrc + 0x400);
  EXPECT_EQ(named.size, 0x20u);
  EXPECT_EQ(named.code_page, 1252u);
  EXPECT_EQ(r->entries[1].path(), "RT_VERSION/#1/#1033");
  EXPECT_EQ(r->time_date_stamp, 0x12345678u);
  auto bytes = resource_bytes(*image, named);
  ASSERT_TRUE(bytes);
  ASSERT_EQ(bytes->size(), 0x20u);
  EXPECT_EQ((*bytes)[5], std::byte(0xA5));
}

// The tree as parse_resources reads it from an image that holds it (Resources keeps no view of the file).
Resources resources_of(const Tree& t) {
  const auto built = image_with(t);
  auto image = parse(built);
  EXPECT_TRUE(image);
  if (!image) return {};
  auto r = parse_resources(*image);
  EXPECT_TRUE(r);
  return r ? std::move(*r) : Resources{};
}

TEST(Resources, LoopBackToTheRootEndsWithAWarning) {
  Tree t;
  size_t e = t.dir(0, 0, 1);
  t.entry(e, 3, kSub | 0x40);
  e = t.dir(0x40, 0, 2);
  t.entry(e, 1, kSub | 0x0);       // the name level points back at the root
  t.entry(e + 8, 2, kSub | 0x40);  // and at itself
  const auto r = resources_of(t);
  EXPECT_TRUE(r.entries.empty());
  EXPECT_TRUE(find_warning(r.warnings, "resource directory", "reached a second time")) << describe(r.warnings);
}

TEST(Resources, NestingBelowTheLanguageAndDataAboveItAreNotListed) {
  Tree t;
  size_t e = t.dir(0, 0, 2);
  t.entry(e, 3, kSub | 0x40);
  t.entry(e + 8, 4, 0x200);  // data at the type level
  e = t.dir(0x40, 0, 1);
  t.entry(e, 1, kSub | 0x60);
  e = t.dir(0x60, 0, 1);
  t.entry(e, 0, kSub | 0x80);  // a fourth level
  t.dir(0x80, 0, 0);
  t.data(0x200, kRsrc, 4);
  const auto r = resources_of(t);
  EXPECT_TRUE(r.entries.empty());
  EXPECT_TRUE(find_warning(r.warnings, "resource directory", "below the language level")) << describe(r.warnings);
  EXPECT_TRUE(find_warning(r.warnings, "resource directory", "at the type level points to data"))
      << describe(r.warnings);
}

TEST(Resources, DataPastTheImageIsListedWithAWarningAndNotRead) {
  Tree t;
  size_t e = t.dir(0, 0, 1);
  t.entry(e, 10, kSub | 0x40);
  e = t.dir(0x40, 0, 1);
  t.entry(e, 1, kSub | 0x60);
  e = t.dir(0x60, 0, 1);
  t.entry(e, 0, 0x200);
  t.data(0x200, 0x7FFFFF00, 0x1000);
  const auto built = image_with(t);
  auto image = parse(built);
  ASSERT_TRUE(image);
  auto r = parse_resources(*image);
  ASSERT_TRUE(r);
  ASSERT_EQ(r->entries.size(), 1u);
  EXPECT_TRUE(find_warning(r->warnings, "resource directory", "runs past SizeOfImage")) << describe(r->warnings);
  EXPECT_FALSE(resource_bytes(*image, r->entries[0]));
}

TEST(Resources, AHugeEntryCountStopsAtTheEndOfTheSectionsBytes) {
  Tree t;
  size_t e = t.dir(0, 0xFFFF, 0xFFFF);  // 131,070 entries declared, 0x1000 bytes to hold them
  for (size_t i = 0; i < 16; ++i) t.entry(e + 8 * i, static_cast<uint32_t>(i), kSub | 0x0);
  const auto r = resources_of(t);
  EXPECT_TRUE(r.entries.empty());
  // Every entry that points back at the root is reported once; the walk ends where the section's bytes do.
  EXPECT_FALSE(r.warnings.empty());
  EXPECT_LE(r.warnings.size(), 101u);
}

// A VS_VERSIONINFO block written by hand: the fixed info, one string table of two strings, a translation.
std::vector<std::byte> version_block() {
  std::vector<std::byte> b;
  auto u16 = [&](uint16_t v) { b.push_back(std::byte(v & 0xFF)), b.push_back(std::byte(v >> 8)); };
  auto u32 = [&](uint32_t v) { u16(v & 0xFFFF), u16(static_cast<uint16_t>(v >> 16)); };
  auto key = [&](std::u16string_view k) {
    for (char16_t c : k) u16(c);
    u16(0);
    while (b.size() % 4) b.push_back(std::byte{0});
  };
  // Each node's wLength is patched when it ends.
  auto open = [&](uint16_t value_length, uint16_t type, std::u16string_view k) {
    const size_t at = b.size();
    u16(0), u16(value_length), u16(type);
    key(k);
    return at;
  };
  auto close = [&](size_t at) {
    const auto len = static_cast<uint16_t>(b.size() - at);
    b[at] = std::byte(len & 0xFF), b[at + 1] = std::byte(len >> 8);
    while (b.size() % 4) b.push_back(std::byte{0});
  };
  const size_t root = open(52, 0, u"VS_VERSION_INFO");
  for (uint32_t v : {0xFEEF04BDu, 0x10000u, 0x00010002u, 0x00030004u, 0x00050006u, 0x00070008u, 0x3Fu, 0x2u, 0x40004u,
                     2u, 0u, 0u, 0u})
    u32(v);
  const size_t sfi = open(0, 1, u"StringFileInfo");
  const size_t table = open(0, 1, u"040904b0");
  const size_t s1 = open(5, 1, u"CompanyName");
  key(u"Acme");
  close(s1);
  const size_t s2 = open(3, 1, u"Note");
  key(u"Ω!");
  close(s2);
  close(table);
  close(sfi);
  const size_t vfi = open(0, 1, u"VarFileInfo");
  const size_t var = open(4, 0, u"Translation");
  u32(0x04B00409);
  close(var);
  close(vfi);
  close(root);
  return b;
}

TEST(VersionInfo, FixedInfoStringsAndTranslation) {
  const auto block = version_block();
  auto v = parse_version_info(block, 0x5000);
  ASSERT_TRUE(v) << v.error().to_string();
  EXPECT_TRUE(v->warnings.empty()) << describe(v->warnings);
  ASSERT_TRUE(v->fixed);
  EXPECT_EQ(FixedFileInfo::version_text(v->fixed->file_version_ms, v->fixed->file_version_ls), "1.2.3.4");
  EXPECT_EQ(version_file_os_name(v->fixed->file_os), "VOS_NT_WINDOWS32");
  EXPECT_EQ(version_file_type_name(v->fixed->file_type), "VFT_DLL");
  EXPECT_EQ(version_file_flag_names(v->fixed->file_flags), std::vector<std::string>{"PRERELEASE"});
  ASSERT_EQ(v->string_tables.size(), 1u);
  EXPECT_EQ(v->string_tables[0].key, "040904b0");
  ASSERT_EQ(v->string_tables[0].strings.size(), 2u);
  EXPECT_EQ(v->string_tables[0].strings[0], (std::pair<std::string, std::string>{"CompanyName", "Acme"}));
  EXPECT_EQ(v->string_tables[0].strings[1].second, "\xCE\xA9!");
  EXPECT_EQ(v->translations, std::vector<uint32_t>{0x04B00409});
}

TEST(VersionInfo, EveryTruncationEndsWithinTheBlock) {
  const auto block = version_block();
  for (size_t n = 0; n < block.size(); ++n) {
    const Bytes cut(block.data(), n);
    auto v = parse_version_info(cut, 0);  // each cut either parses what fits, with warnings, or is refused
    if (v) {
      EXPECT_LE(v->string_tables.size(), 1u);
    }
  }
  // A node that claims more than its parent holds is read up to the parent's end.
  auto bad = block;
  bad[0] = std::byte{0xFF}, bad[1] = std::byte{0xFF};
  auto v = parse_version_info(bad, 0);
  ASSERT_TRUE(v);
  EXPECT_TRUE(find_warning(v->warnings, "version resource", "runs")) << describe(v->warnings);
  EXPECT_EQ(v->string_tables.size(), 1u);
}

// A DOS stub holding a Rich header for two tools, masked with `key`.
std::vector<std::byte> stub_with_rich(uint32_t key) {
  std::vector<std::byte> stub(0x80 + 0x30);
  auto put = [&](size_t at, uint32_t v) { put_le(stub, at, v ^ key, 4); };
  put(0x80, 0x536E6144);  // "DanS"
  put(0x84, 0), put(0x88, 0), put(0x8C, 0);
  put(0x90, (0x0105u << 16) | 30133), put(0x94, 12);  // Utc1900_CPP
  put(0x98, (0x0102u << 16) | 30133), put(0x9C, 1);   // Linker1400
  put_le(stub, 0xA0, 0x68636952, 4);                  // "Rich"
  put_le(stub, 0xA4, key, 4);
  return stub;
}

TEST(RichHeader, EntriesUnderTheKeyAndTheChecksumRule) {
  // The key the linker would write is the checksum; find it by computing with a wrong key first.
  PeBuilder b(true);
  b.add_section({.name = ".text", .data = pattern(0x200)});
  auto built = b.build();
  const auto splice = [&](const std::vector<std::byte>& stub) {
    auto out = built;
    // The builder's headers start with a 64-byte DOS header; move the NT headers behind the stub.
    const uint32_t old_lfanew = static_cast<uint32_t>(load<uint32_t>(unit::bytes_of(built), 0x3C));
    std::vector<std::byte> bytes(out.bytes.begin(), out.bytes.begin() + 0x40);
    bytes.insert(bytes.end(), stub.begin() + 0x40, stub.end());
    const uint32_t lfanew = static_cast<uint32_t>(bytes.size());
    bytes.insert(bytes.end(), out.bytes.begin() + old_lfanew, out.bytes.end());
    put_le(bytes, 0x3C, lfanew, 4);
    out.bytes = bytes;
    return out;
  };
  auto probe = splice(stub_with_rich(0));
  auto image = parse(probe);
  ASSERT_TRUE(image) << image.error().to_string();
  auto rich = parse_rich_header(*image);
  ASSERT_TRUE(rich);
  const uint32_t checksum = rich->checksum;  // what a linker would have written as the key
  auto good = splice(stub_with_rich(checksum));
  auto image2 = parse(good);
  ASSERT_TRUE(image2);
  rich = parse_rich_header(*image2);
  ASSERT_TRUE(rich);
  EXPECT_TRUE(rich->valid());
  ASSERT_EQ(rich->entries.size(), 2u);
  EXPECT_EQ(rich->entries[0].product, 0x0105);
  EXPECT_EQ(rich->entries[0].build, 30133);
  EXPECT_EQ(rich->entries[0].count, 12u);
  EXPECT_EQ(rich_product_name(rich->entries[1].product), "Linker1400");
  // A byte of the DOS header changed after linking breaks the checksum; e_lfanew's bytes do not count.
  good.bytes[0x02] ^= std::byte{1};
  auto image3 = parse(good);
  ASSERT_TRUE(image3);
  EXPECT_FALSE(parse_rich_header(*image3)->valid());
}

TEST(Checksum, SumOfWordsWithCarryPlusLengthLeavesTheFieldOut) {
  PeBuilder b(false);
  b.add_section({.name = ".text", .data = pattern(0x201)});
  b.overlay({std::byte{0x20}});  // an odd size: the last byte is a word of its own
  auto built = b.build();
  ASSERT_EQ(built.bytes.size() % 2, 1u);
  auto image = parse(built);
  ASSERT_TRUE(image);
  const uint32_t sum = compute_checksum(*image);
  // Writing the sum into CheckSum does not change it: the field is left out.
  put_le(built.bytes, checksum_offset(*image), sum, 4);
  auto again = parse(built);
  ASSERT_TRUE(again);
  EXPECT_EQ(compute_checksum(*again), sum);
  // Adding 1 to the high byte of a word adds 0x100 to the sum; the odd last byte is a word of its own.
  const size_t at = built.bytes.size() - 0x100;  // odd, since the size is
  ASSERT_EQ(at % 2, 1u);
  built.bytes[at] = std::byte{0x10};
  auto low = parse(built);
  ASSERT_TRUE(low);
  const uint32_t base = compute_checksum(*low);
  built.bytes[at] = std::byte{0x11};
  auto high = parse(built);
  ASSERT_TRUE(high);
  EXPECT_EQ(compute_checksum(*high), base + 0x100);
  built.bytes.back() = std::byte{0x21};
  auto last = parse(built);
  ASSERT_TRUE(last);
  EXPECT_EQ(compute_checksum(*last), base + 0x101);
}

TEST(Utf16, SurrogatesAndOddBytes) {
  const uint8_t good[] = {0x41, 0x00, 0x3D, 0xD8, 0x00, 0xDE, 0x00, 0x00, 0x42, 0x00};
  EXPECT_EQ(utf16_to_utf8(std::as_bytes(std::span(good))), std::string("A\xF0\x9F\x98\x80\0B", 7));
  EXPECT_EQ(utf16_to_utf8(std::as_bytes(std::span(good)), true), "A\xF0\x9F\x98\x80");
  const uint8_t lone[] = {0x00, 0xDC, 0x41};  // a low surrogate alone, then an odd byte
  EXPECT_EQ(utf16_to_utf8(std::as_bytes(std::span(lone))), "\xEF\xBF\xBD");
}

TEST(Fingerprints, EntropyAndImphashOrdinalNames) {
  std::vector<std::byte> all(256 * 4);
  for (size_t i = 0; i < all.size(); ++i) all[i] = std::byte(i & 0xFF);
  EXPECT_DOUBLE_EQ(analysis::entropy(all), 8.0);
  EXPECT_DOUBLE_EQ(analysis::entropy(std::vector<std::byte>(100, std::byte{7})), 0.0);
  EXPECT_DOUBLE_EQ(analysis::entropy({}), 0.0);

  PeBuilder b(false);
  b.add_section({.name = ".text", .data = pattern(0x100)});
  using HintName = std::pair<uint16_t, std::string>;
  b.add_imports({{.dll = "KERNEL32.dll", .entries = {HintName{0, "ExitProcess"}}},
                 {.dll = "ws2_32.dll", .entries = {uint16_t{115}, uint16_t{999}}},
                 {.dll = "Custom.OCX", .entries = {uint16_t{3}}}});
  const auto built = b.build();
  auto image = parse(built);
  ASSERT_TRUE(image);
  const auto h = analysis::imphash(*image);
  EXPECT_EQ(h.elements,
            (std::vector<std::string>{"kernel32.exitprocess", "ws2_32.wsastartup", "ws2_32.ord999", "custom.ord3"}));
  EXPECT_EQ(h.md5, analysis::hex_digest(analysis::DigestKind::md5,
                                        std::as_bytes(std::span(std::string_view(
                                            "kernel32.exitprocess,ws2_32.wsastartup,ws2_32.ord999,custom.ord3")))));
  EXPECT_EQ(analysis::hex_digest(analysis::DigestKind::md5, {}), "d41d8cd98f00b204e9800998ecf8427e");
}

TEST(Manifest, ExecutionLevelAndDependenciesWithoutNamespacePrefixes) {
  const std::string xml =
      "\xEF\xBB\xBF<?xml version='1.0'?>\r\n<assembly xmlns='urn:schemas-microsoft-com:asm.v1' "
      "xmlns:asmv3='urn:schemas-microsoft-com:asm.v3'><asmv3:trustInfo><asmv3:security><asmv3:requestedPrivileges>"
      "<asmv3:requestedExecutionLevel level='requireAdministrator' uiAccess='false'/></asmv3:requestedPrivileges>"
      "</asmv3:security></asmv3:trustInfo><dependency><dependentAssembly><assemblyIdentity type='win32' "
      "name='Microsoft.Windows.Common-Controls' version='6.0.0.0' processorArchitecture='*' "
      "publicKeyToken='6595b64144ccf1df'/></dependentAssembly></dependency></assembly>\0\0";
  const auto m = analysis::read_manifest(std::as_bytes(std::span(xml)), 0x7000);
  EXPECT_TRUE(m.warnings.empty()) << describe(m.warnings);
  EXPECT_EQ(m.execution_level, "requireAdministrator");
  EXPECT_EQ(m.ui_access, "false");
  ASSERT_EQ(m.dependencies.size(), 1u);
  EXPECT_EQ(m.dependencies[0].name, "Microsoft.Windows.Common-Controls");
  EXPECT_EQ(m.dependencies[0].version, "6.0.0.0");
  EXPECT_FALSE(m.text.starts_with("\xEF"));
  // An entity that would expand is not expanded, and broken XML is a warning, not a failure.
  const std::string bomb =
      "<!DOCTYPE a [<!ENTITY x 'xxxxxxxxxx'><!ENTITY y '&x;&x;&x;&x;&x;&x;&x;&x;&x;&x;'>]><assembly>&y;&y;";
  const auto broken = analysis::read_manifest(std::as_bytes(std::span(bomb)), 0x7000);
  EXPECT_TRUE(find_warning(broken.warnings, "manifest", "not well-formed")) << describe(broken.warnings);
}

// An x64 image whose .pdata names two functions, the first with an UNWIND_INFO of every common code and a
// handler, the second chained to the first; `codes` overrides the first one's code count.
test::BuiltPe unwind_image(uint8_t code_count = 9) {
  std::vector<std::byte> xdata(0x200);
  // Version 1, flags EHANDLER; prologue 0x20 bytes; frame register RBP (5) at offset 2*16.
  put_le(xdata, 0, 1 | (1 << 3), 1);
  put_le(xdata, 1, 0x20, 1);
  put_le(xdata, 2, code_count, 1);
  put_le(xdata, 3, 5 | (2 << 4), 1);
  const uint16_t codes[] = {
      0x1E | (3 << 8),  // SET_FPREG
      0x1A | (4 << 8) | (3 << 12),
      6,  // SAVE_NONVOL RBX, 6*8
      0x12 | (1 << 8) | (0 << 12),
      20,                           // ALLOC_LARGE 20*8
      0x0C | (2 << 8) | (4 << 12),  // ALLOC_SMALL 4*8+8
      0x08 | (8 << 8) | (6 << 12),
      3,                             // SAVE_XMM128 XMM6, 3*16
      0x01 | (0 << 8) | (15 << 12),  // PUSH_NONVOL R15
  };
  for (size_t i = 0; i < std::size(codes); ++i) put_le(xdata, 4 + 2 * i, codes[i], 2);
  put_le(xdata, 4 + 2 * 10, 0x1400, 4);  // the handler, after the codes rounded up to an even count
  // The second: version 1, CHAININFO, no codes, then the chained RUNTIME_FUNCTION.
  put_le(xdata, 0x40, 1 | (4 << 3), 1);
  put_le(xdata, 0x44, 0x1000, 4), put_le(xdata, 0x48, 0x1080, 4), put_le(xdata, 0x4C, 0x3000, 4);
  std::vector<std::byte> pdata(0x200);
  put_le(pdata, 0, 0x1000, 4), put_le(pdata, 4, 0x1080, 4), put_le(pdata, 8, 0x3000, 4);
  put_le(pdata, 12, 0x1080, 4), put_le(pdata, 16, 0x1100, 4), put_le(pdata, 20, 0x3040, 4);
  PeBuilder b(true);
  b.add_section({.name = ".text", .data = pattern(0x200), .virtual_address = 0x1000});
  b.add_section({.name = ".pdata", .data = pdata, .characteristics = 0x40000040, .virtual_address = 0x2000});
  b.add_section({.name = ".xdata", .data = xdata, .characteristics = 0x40000040, .virtual_address = 0x3000});
  b.set_directory(3, 0x2000, 24);
  return b.build();
}

TEST(Unwind, EveryCommonCodeAHandlerAndAChain) {
  const auto built = unwind_image();
  auto image = parse(built);
  ASSERT_TRUE(image);
  auto t = parse_exceptions(*image, true);
  ASSERT_TRUE(t);
  EXPECT_TRUE(t->warnings.empty()) << describe(t->warnings);
  ASSERT_EQ(t->functions.size(), 2u);
  const auto& f = t->functions[0];
  ASSERT_TRUE(f.info);
  EXPECT_EQ(f.info->prolog_size, 0x20);
  EXPECT_EQ(x64_register_name(f.info->frame_register), "RBP");
  std::vector<std::string> texts;
  for (const auto& c : f.info->codes) texts.push_back(c.text);
  EXPECT_EQ(texts, (std::vector<std::string>{"SET_FPREG reg=RBP, offset=0x20", "SAVE_NONVOL reg=RBX, offset=0x30",
                                             "ALLOC_LARGE size=160", "ALLOC_SMALL size=40",
                                             "SAVE_XMM128 reg=XMM6, offset=0x30", "PUSH_NONVOL reg=R15"}));
  EXPECT_EQ(f.info->handler, 0x1400u);
  const auto& g = t->functions[1];
  ASSERT_TRUE(g.info && g.info->chained);
  EXPECT_EQ(g.info->chained->begin, 0x1000u);
  EXPECT_EQ(g.info->chained->unwind_info, 0x3000u);
}

TEST(Unwind, CodesPastTheirCountAndRecordsPastTheFileEndWithWarnings) {
  // A code count of 255 reads zero codes past the nine written (PUSH_NONVOL RAX at offset 0), never past the
  // section; a directory Size far beyond the file lists what the file holds.
  auto built = unwind_image(255);
  auto image = parse(built);
  ASSERT_TRUE(image);
  auto t = parse_exceptions(*image, true);
  ASSERT_TRUE(t);
  ASSERT_TRUE(t->functions[0].info);
  EXPECT_GT(t->functions[0].info->codes.size(), 6u);
  PeBuilder b(true);
  b.add_section({.name = ".pdata", .data = pattern(0x200), .characteristics = 0x40000040});
  b.set_directory(3, 0x1000, 0x7FFFFFF0);
  const auto big = b.build();
  auto image2 = parse(big);
  ASSERT_TRUE(image2);
  auto t2 = parse_exceptions(*image2, false);
  ASSERT_TRUE(t2);
  EXPECT_LE(t2->functions.size(), 0x200u / 12);
  EXPECT_TRUE(find_warning(t2->warnings, "exception directory", "")) << describe(t2->warnings);
}

// Each ARM64 unwind code in turn, with the instruction Microsoft's encoding gives it, worked out by hand from the
// bit fields ("ARM64 exception handling", Unwind codes).
TEST(UnwindArm64, EveryCodeInAPrologAndTheEpilogsWords) {
  const std::vector<std::pair<std::vector<uint8_t>, std::string>> prolog = {
      {{0x05}, "sub sp, #80"},                      // alloc_s: 5 x 16
      {{0x22}, "stp x19, x20, [sp, #-16]!"},        // save_r19r20_x: 2 x 8
      {{0x42}, "stp x29, x30, [sp, #16]"},          // save_fplr: 2 x 8
      {{0x83}, "stp x29, x30, [sp, #-32]!"},        // save_fplr_x: (3 + 1) x 8
      {{0xC1, 0x00}, "sub sp, #4096"},              // alloc_m: 0x100 x 16
      {{0xC8, 0x42}, "stp x20, x21, [sp, #16]"},    // save_regp: x19 + 1, 2 x 8
      {{0xCC, 0x83}, "stp x21, x22, [sp, #-32]!"},  // save_regp_x: x19 + 2, (3 + 1) x 8
      {{0xD0, 0xC4}, "str x22, [sp, #32]"},         // save_reg: x19 + 3, 4 x 8
      {{0xD4, 0x21}, "str x20, [sp, #-16]!"},       // save_reg_x: x19 + 1, (1 + 1) x 8
      {{0xD6, 0x41}, "stp x21, lr, [sp, #8]"},      // save_lrpair: x19 + 2 x 1, 1 x 8
      {{0xD8, 0x42}, "stp d9, d10, [sp, #16]"},     // save_fregp: d8 + 1
      {{0xDA, 0x03}, "stp d8, d9, [sp, #-32]!"},    // save_fregp_x
      {{0xDC, 0x81}, "str d10, [sp, #8]"},          // save_freg: d8 + 2
      {{0xDE, 0x41}, "str d10, [sp, #-16]!"},       // save_freg_x: d8 + 2, (1 + 1) x 8
      {{0xE0, 0x00, 0x01, 0x00}, "sub sp, #4096"},  // alloc_l: 0x100 x 16
      {{0xE1}, "mov fp, sp"},                       // set_fp
      {{0xE2, 0x04}, "add fp, sp, #32"},            // add_fp: 4 x 8
      {{0xE3}, "nop"},
      {{0xE5}, "end_c"},
      {{0xE6}, "save next"},
      {{0xE7, 0x00, 0x02}, "str x0, [sp, #16]"},        // save_any_reg: x0, no writeback, 2 x 8
      {{0xE7, 0x61, 0x43}, "stp d1, d2, [sp, #-64]!"},  // paired d1, writeback, (3 + 1) x 16
      {{0xE8}, "trap frame"},
      {{0xE9}, "machine frame"},
      {{0xEA}, "context"},
      {{0xEB}, "EC context"},
      {{0xEC}, "clear unwound to call"},
      {{0xFC}, "pacibsp"},
      {{0xF0}, "reserved code 0xf0"},
      {{0xE4}, "end"},
  };
  std::vector<std::byte> stream;
  for (const auto& [bytes, text] : prolog)
    for (uint8_t b : bytes) stream.push_back(std::byte{b});
  stream.push_back(std::byte{0x05});  // after "end": not decoded
  uint64_t budget = 1000;
  const auto codes = decode_arm64_codes(stream, 0, true, budget);
  ASSERT_EQ(codes.size(), prolog.size());
  uint32_t index = 0;
  for (size_t i = 0; i < codes.size(); ++i) {
    EXPECT_EQ(codes[i].text, prolog[i].second) << "code " << i;
    EXPECT_EQ(codes[i].index, index) << "code " << i;
    EXPECT_EQ(codes[i].length, prolog[i].first.size()) << "code " << i;
    index += codes[i].length;
  }
  EXPECT_EQ(codes[4].bytes, 0xC100u);
  EXPECT_EQ(codes[14].bytes, 0xE0000100u);
  EXPECT_EQ(budget, 1000u - (prolog.size() - 1));  // "end" ends the walk before it is counted

  // The epilog's words undo the prolog's: add for sub, ldp/ldr after the stack pointer for pre-decrements.
  const std::vector<std::byte> epilog = {std::byte{0x05}, std::byte{0x22}, std::byte{0xE1},
                                         std::byte{0xE2}, std::byte{0x04}, std::byte{0xFC}};
  std::vector<std::string> texts;
  for (const auto& c : decode_arm64_codes(epilog, 0, false, budget)) texts.push_back(c.text);
  EXPECT_EQ(texts, (std::vector<std::string>{"add sp, #80", "ldp x19, x20, [sp], #16", "mov sp, fp", "sub sp, fp, #32",
                                             "autibsp"}));

  // A code cut by the stream's end, and a budget that runs out.
  const std::vector<std::byte> cut = {std::byte{0xE3}, std::byte{0xE0}, std::byte{0x00}};
  const auto last = decode_arm64_codes(cut, 0, true, budget);
  ASSERT_EQ(last.size(), 2u);
  EXPECT_EQ(last[1].text, "0xe0 runs past the unwind codes");
  uint64_t two = 2;
  EXPECT_EQ(decode_arm64_codes(stream, 0, true, two).size(), 2u);
  EXPECT_EQ(two, 0u);
}

TEST(Clr, HeaderMetadataRootAndStreams) {
  std::vector<std::byte> text(0x200);
  // IMAGE_COR20_HEADER at 0x2000: cb 72, runtime 2.5, metadata at 0x2048 (0x60 bytes), ILONLY, token 0x06000001.
  put_le(text, 0, 72, 4), put_le(text, 4, 2, 2), put_le(text, 6, 5, 2);
  put_le(text, 8, 0x2048, 4), put_le(text, 12, 0x60, 4), put_le(text, 16, 1, 4), put_le(text, 20, 0x06000001, 4);
  const size_t md = 0x48;
  put_le(text, md, 0x424A5342, 4), put_le(text, md + 4, 1, 2), put_le(text, md + 6, 1, 2);
  put_le(text, md + 12, 12, 4);
  unit::put_str(text, md + 16, "v4.0.30319");
  put_le(text, md + 28 + 2, 2, 2);  // flags 0, two streams
  put_le(text, md + 32, 0x40, 4), put_le(text, md + 36, 0x10, 4);
  unit::put_str(text, md + 40, "#~");
  put_le(text, md + 44, 0x50, 4), put_le(text, md + 48, 0x10, 4);
  unit::put_str(text, md + 52, "#Strings");
  PeBuilder b(false);
  b.add_section({.name = ".text", .data = text, .virtual_address = 0x2000});
  b.set_directory(14, 0x2000, 72);
  const auto built = b.build();
  auto image = parse(built);
  ASSERT_TRUE(image);
  auto c = parse_clr(*image);
  ASSERT_TRUE(c);
  EXPECT_TRUE(c->warnings.empty()) << describe(c->warnings);
  EXPECT_EQ(c->flags, kClrIlOnly);
  EXPECT_EQ(clr_flag_names(c->flags), std::vector<std::string>{"ILONLY"});
  EXPECT_EQ(c->entry_point, 0x06000001u);
  ASSERT_TRUE(c->metadata_root);
  EXPECT_EQ(c->metadata_root->version, "v4.0.30319");
  ASSERT_EQ(c->metadata_root->streams.size(), 2u);
  EXPECT_EQ(c->metadata_root->streams[1].name, "#Strings");
  EXPECT_EQ(c->metadata_root->streams[1].offset, 0x50u);
}

TEST(Demangle, ItaniumAndMicrosoftSchemes) {
  EXPECT_EQ(analysis::demangle("_Z3addii"), "add(int, int)");
  EXPECT_EQ(analysis::demangle("__Z3addii"), "add(int, int)");  // the form with an extra underscore
  EXPECT_EQ(analysis::demangle("?add@@YAHHH@Z"), "int __cdecl add(int, int)");
  EXPECT_EQ(analysis::demangle("ExitProcess"), std::nullopt);
  EXPECT_EQ(analysis::demangle("_Zbroken!"), std::nullopt);
  EXPECT_EQ(analysis::demangle("_Z" + std::string(5000, 'x')), std::nullopt);
  // f(A<int, int>, A<S0_, S0_>, A<S2_, S2_>, ...): each parameter's template arguments are the one before it, so
  // 40 parameters (under 600 bytes) would print 2^40 times "A<int, int>". The demangler is stopped at 64 KiB.
  std::string exponential = "_Z1f1AIiiE";
  for (int i = 1; i < 40; ++i) {
    // The substitution that names the parameter before: S<seq-id>_, its index 2i-1 less one, in base 36.
    std::string seq;
    for (int x = 2 * i - 2;; x /= 36) {
      seq.insert(seq.begin(), "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"[x % 36]);
      if (x < 36) break;
    }
    exponential += "1AIS" + seq + "_S" + seq + "_E";
  }
  EXPECT_EQ(analysis::demangle(exponential), std::nullopt);
  // A shorter chain of the same kind prints in full: 5 levels.
  EXPECT_EQ(analysis::demangle("_Z1f1AIiiE1AIS0_S0_E"), "f(A<int, int>, A<A<int, int>, A<int, int> >)");
}

TEST(Disassembler, DecodesNamesOperandsAndStepsOverBadBytes) {
  auto dis = analysis::Disassembler::for_machine(0x8664);
  ASSERT_TRUE(dis);
  const uint8_t code[] = {0x48, 0x83, 0xEC, 0x28, 0xFF, 0x15, 0x10, 0x00, 0x00,
                          0x00, 0xE8, 0x00, 0x01, 0x00, 0x00, 0x06};  // 0x06 (push es) does not exist in 64-bit mode
  const auto out = dis->decode(std::as_bytes(std::span(code)), 0x140001000, 10);
  ASSERT_EQ(out.size(), 4u);
  EXPECT_EQ(out[0].mnemonic + " " + out[0].operands, "sub rsp, 0x28");
  EXPECT_EQ(out[1].memory_target, 0x140001004u + 6 + 0x10);
  EXPECT_EQ(out[2].branch_target, 0x14000100Au + 5 + 0x100);
  EXPECT_FALSE(out[3].valid());
  EXPECT_FALSE(analysis::Disassembler::for_machine(0x1F0));  // PowerPC
}

}  // namespace
}  // namespace pemap::pe
