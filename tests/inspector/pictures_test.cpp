// The pictures drawn from documents of every shape: what a load or instances document says is drawn where it
// should be, names from a file never reach the page as markup, and documents of the wrong shape (missing members,
// wrong types, addresses at the top of the 64-bit space) draw without a crash.
#include <gtest/gtest.h>

#include <string>

#include "address_space_picture.hpp"
#include "instances_picture.hpp"
#include "markup.hpp"
#include "picture_page.hpp"

namespace pemap::inspect {
namespace {

size_t count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

// A load of two modules: liba.dll at its preferred base, libb.dll displaced from the same base, with two pages its
// fixups wrote; five events, libb.dll mapped at the fourth.
json two_modules() {
  return json::parse(R"~({
    "file": "app.exe", "loaded": true,
    "modules": [
      {"name": "liba.dll", "base": 268435456, "preferred_base": 268435456, "size": 8192, "placed": "preferred",
       "regions": [{"address": 268435456, "size": 4096, "state": "commit", "protect": "R--", "sections": ["(headers)"]},
                   {"address": 268439552, "size": 4096, "state": "commit", "protect": "R-X", "sections": [".text"]}],
       "fixup_pages": [], "bindings": []},
      {"name": "libb.dll", "base": 65536, "preferred_base": 268435456, "size": 8192, "placed": "bottom-up",
       "displaced": "0x10000000..0x10002000 is taken",
       "regions": [{"address": 65536, "size": 8192, "state": "commit", "protect": "RC-", "sections": [".data"]}],
       "fixup_pages": [{"rva": 0, "fixups": 7}, {"rva": 4096, "fixups": 2}],
       "bindings": [{"dll": "liba.dll", "function": "f", "iat_rva": 4096, "address": 268439600, "target": "liba.dll!f",
                     "via": [], "how": "hint"}]}],
    "events": [{"step": "find", "module": "liba.dll", "text": "Find liba.dll"},
               {"step": "map", "module": "liba.dll", "text": "Map liba.dll"},
               {"step": "find", "module": "libb.dll", "text": "Find libb.dll"},
               {"step": "map", "module": "libb.dll", "text": "Map libb.dll"},
               {"step": "relocate", "module": "libb.dll", "text": "Relocate libb.dll"},
               {"step": "bind", "module": "libb.dll", "target": "liba.dll", "text": "Bind libb.dll"}]
  })~");
}

TEST(Pictures, ALoadIsDrawnWithItsGhostPrivatePagesAndSteps) {
  const json doc = two_modules();
  const std::string svg = address_space_svg(doc);
  EXPECT_EQ(svg.rfind("<svg xmlns=\"http://www.w3.org/2000/svg\"", 0), 0u);
  EXPECT_NE(
      svg.find(R"~(class="module" data-module="liba.dll" data-base="0x10000000" data-size="0x2000" data-from="1")~"),
      std::string::npos);
  EXPECT_NE(svg.find(R"~(class="module" data-module="libb.dll" data-base="0x10000" data-size="0x2000" data-from="3")~"),
            std::string::npos);
  EXPECT_NE(svg.find(R"~(class="ghost" data-module="libb.dll" data-from="3")~"), std::string::npos);
  EXPECT_NE(svg.find(R"~(data-address="0x10000" data-fixups="7")~"), std::string::npos);
  EXPECT_NE(svg.find(R"~(data-address="0x11000" data-fixups="2")~"), std::string::npos);
  EXPECT_NE(svg.find(R"~(class="fixups" data-module="libb.dll" data-from="4")~"), std::string::npos);
  // The two stretches in use (0x10000 and 0x10000000) with a break between them for the free space.
  EXPECT_EQ(count(svg, "class=\"break\""), 1u);
  EXPECT_NE(svg.find("data-clusters=\"10000 12000 "), std::string::npos);
  // Each region twice: in the band and in the row.
  EXPECT_EQ(count(svg, "data-address=\"0x10001000\" data-size=\"0x1000\" data-protect=\"R-X\""), 2u);

  const std::string page = load_page(doc);
  EXPECT_EQ(page.rfind("<!DOCTYPE html>", 0), 0u);
  EXPECT_EQ(count(page, "<li data-step="), 6u);
  EXPECT_NE(page.find(R"~(<tr data-from="5"><td>liba.dll!f</td><td>0x11000</td>)~"), std::string::npos);
  EXPECT_EQ(count(page, "<script>"), 2u);  // the page's own two, and no other
  // Nothing is fetched when the page is viewed: the only URL in it is the SVG namespace, which names, not loads.
  std::string rest = page;
  for (size_t at; (at = rest.find("http://www.w3.org/2000/svg")) != std::string::npos;) rest.erase(at, 26);
  for (const char* fetch : {"http:", "https:", "src=", "href=", "@import", "fetch(", "XMLHttpRequest", "<link"})
    EXPECT_EQ(rest.find(fetch), std::string::npos) << fetch;
}

TEST(Pictures, BytesThatBrokeTheRelocationRuleAreMarked) {
  json doc = two_modules();
  doc["modules"][1]["violations"] = json::parse(R"~([{"rva": 4100, "reason": "no fixup covers it"}])~");
  const std::string svg = address_space_svg(doc);
  EXPECT_EQ(count(svg, R"(class="violation")"), 1u);
  EXPECT_NE(svg.find(R"(data-address="0x11004")"), std::string::npos);
  EXPECT_NE(svg.find("no fixup covers it"), std::string::npos);
}

// An ImageBase need only be 64 KiB aligned: a module (and its ghost) at the top of the 64-bit space ends past 2^64.
// The 64 KiB ticks are counted, not stepped through by address, which would wrap and never end.
TEST(Pictures, AModuleAtTheTopOfTheSpaceDrawsInBoundedTime) {
  const json doc = json::parse(R"~({"modules": [{"name": "top", "base": 65536, "size": 8192,
      "preferred_base": 18446744073709486080, "regions": [], "fixup_pages": [], "bindings": []}]})~");
  const std::string svg = address_space_svg(doc);
  EXPECT_LT(svg.size(), 100000u);
  EXPECT_NE(svg.find(R"(class="ghost")"), std::string::npos);
}

TEST(Pictures, LongLabelsAreShortenedBetweenCharacters) {
  json doc = two_modules();
  // A section name of 100 Cyrillic letters (2 bytes each) in a region too narrow for it.
  std::string name;
  for (int i = 0; i < 100; ++i) name += "\xd0\x96";
  doc["modules"][0]["regions"][1]["sections"] = json::array({name});
  const std::string svg = address_space_svg(doc);
  std::string label;  // the region's label (its hover text holds the whole name)
  for (size_t at = svg.find(R"(class="regiontext")"); at != std::string::npos;
       at = svg.find(R"(class="regiontext")", at + 1)) {
    const size_t from = svg.find('>', at) + 1, end = svg.find("</text>", from);
    if (svg.compare(from, 2, "\xd0\x96") == 0) label = svg.substr(from, end - from);
  }
  ASSERT_FALSE(label.empty());
  EXPECT_EQ(label.substr(label.size() - 3), "…");
  EXPECT_EQ((label.size() - 3) % 2, 0u) << "cut inside a character";
}

TEST(Pictures, NamesFromTheFileAreTextNotMarkup) {
  json doc = two_modules();
  doc["modules"][0]["name"] = "<script>alert(1)</script>\"'&";
  doc["events"][1]["text"] = "</li><script>x()</script>";
  const std::string page = load_page(doc);
  EXPECT_EQ(count(page, "<script"), 2u);  // the page's own
  EXPECT_NE(page.find("&lt;script&gt;alert(1)&lt;/script&gt;&quot;&#39;&amp;"), std::string::npos);
  EXPECT_EQ(escape_markup("a<b>&\"'"), "a&lt;b&gt;&amp;&quot;&#39;");
  EXPECT_EQ(escape_markup(std::string("a\x01"
                                      "b\tc",
                                      5)),
            "a\\x01b\tc");  // XML allows no C0 control but these
}

TEST(Pictures, DocumentsOfAnyShapeDrawWithoutACrash) {
  const char* shapes[] = {
      "{}",
      R"~({"modules": 5, "events": "x"})~",
      R"~({"modules": [{}], "events": [{}]})~",
      R"~({"modules": [{"name": 1, "base": "x", "regions": "x", "fixup_pages": [1], "bindings": [{"iat_rva": "a"}]}]})~",
      R"~({"modules": [{"name": "top", "base": 18446744073709547520, "size": 18446744073709551615,
                      "preferred_base": 0, "regions": [{"address": 18446744073709547520, "size": 8192}],
                      "fixup_pages": [{"rva": 18446744073709551615, "fixups": 1}]}]})~",
      R"~({"instances": [{"regions": [{"rva": 18446744073709551615, "frames": [1, "x", null]}]}, 7]})~",
  };
  for (const char* s : shapes) {
    const json doc = json::parse(s);
    EXPECT_NO_THROW({
      EXPECT_FALSE(address_space_svg(doc).empty()) << s;
      EXPECT_FALSE(load_page(doc).empty()) << s;
      EXPECT_FALSE(instances_svg(doc).empty()) << s;
    }) << s;
  }
}

TEST(Pictures, InstancesNameEachPhysicalPageAndMarkTheSharedOnes) {
  const json doc = json::parse(R"~({"dll": "shared.dll", "instances": [
      {"ok": true, "base": 4096000, "regions": [{"rva": 4096, "name": ".data", "protect": "RC-", "frames": [11]},
                                               {"rva": 8192, "name": "Shared", "protect": "RW-", "frames": [99]}]},
      {"ok": true, "base": 4096000, "regions": [{"rva": 4096, "name": ".data", "protect": "RC-", "frames": [12]},
                                               {"rva": 8192, "name": "Shared", "protect": "RW-", "frames": [99]}]}]})~");
  const std::string svg = instances_svg(doc);
  EXPECT_NE(
      svg.find(R"~(data-process="1" data-section=".data" data-address="0x3e9000" data-frame="F1" data-verdict="own")~"),
      std::string::npos);
  EXPECT_NE(
      svg.find(R"~(data-process="2" data-section=".data" data-address="0x3e9000" data-frame="F2" data-verdict="own")~"),
      std::string::npos);
  EXPECT_EQ(count(svg, R"~(data-section="Shared" data-address="0x3ea000" data-frame="F3" data-verdict="shared")~"), 2u);
  // A page one process never touched does not make the others' shared page "own".
  json partial = doc;
  partial["instances"][1]["regions"][1]["frames"] = json::array({0});
  partial["instances"].push_back(doc["instances"][0]);
  const std::string three = instances_svg(partial);
  EXPECT_NE(
      three.find(
          R"~(data-process="3" data-section="Shared" data-address="0x3ea000" data-frame="F3" data-verdict="shared")~"),
      std::string::npos);
  EXPECT_NE(
      three.find(
          R"~(data-process="2" data-section="Shared" data-address="0x3ea000" data-frame="-" data-verdict="not in memory")~"),
      std::string::npos);
}

}  // namespace
}  // namespace pemap::inspect
