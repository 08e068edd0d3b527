// Protection colours, patterns and words.
#include "picture_style.hpp"

#include <fmt/format.h>

#include "markup.hpp"

namespace pemap::inspect {
namespace {

struct Kind {
  const char* cls;
  const char* words;
  const char* letters;  // as VirtualQuery's protection is written
};
constexpr Kind kKinds[] = {
    {"p-r", "read-only", "R--"},
    {"p-rx", "execute/read (code)", "R-X"},
    {"p-wc", "copy-on-write: a page becomes this process's own when written", "RC-"},
    {"p-wcx", "execute, copy-on-write", "RCX"},
    {"p-shared", "read/write (in an image view: a shared section, one page for every view)", "RW-"},
    {"p-x", "execute only", "--X"},
    {"p-rwx", "read/write/execute", "RWX"},
    {"p-none", "no access", "---"},
    {"p-reserve", "reserved, not committed", "(reserve)"},
};

// Colours from a palette that stays distinct under the common colour blindnesses; the patterns carry the
// difference too.
constexpr std::string_view kStyle = R"(
.pemap-picture { font: 11px system-ui, sans-serif; }
.pemap-picture .heading { font-weight: 600; font-size: 12px; }
.pemap-picture .subheading { fill: #555; }
.pemap-picture .axis { text-anchor: end; font-family: ui-monospace, monospace; fill: #333; }
.pemap-picture .grid { stroke: #777; stroke-width: 0.6; }
.pemap-picture .break path { fill: none; stroke: #999; stroke-width: 1.2; }
.pemap-picture .breaktext { text-anchor: middle; fill: #666; font-style: italic; }
.pemap-picture .outline { fill: none; stroke: #222; stroke-width: 1; }
.pemap-picture .bandtext, .pemap-picture .regiontext { font-family: ui-monospace, monospace; fill: #111;
  paint-order: stroke; stroke: #fff; stroke-width: 3px; stroke-linejoin: round; }
.pemap-picture .ghost rect { fill: none; stroke: #555; stroke-width: 1.2; stroke-dasharray: 5 3; }
.pemap-picture .ghost text { text-anchor: middle; fill: #555; font-style: italic; }
.pemap-picture .rowtitle { font-family: ui-monospace, monospace; }
.pemap-picture .rownote { text-anchor: end; fill: #8a2be2; }
.pemap-picture .private { fill: #8a2be2; stroke: #4b0082; stroke-width: 0.5; }
.pemap-picture .violation { fill: #e60000; }
.pemap-picture .count { font-size: 8px; fill: #fff; }
.pemap-picture .arrow { fill: none; stroke: #c0392b; stroke-width: 1.1; opacity: 0.8; }
.pemap-picture .same-frame { fill: none; stroke: #1b4f72; stroke-width: 3; }
.pemap-picture .own-frame { fill: #f5b041; fill-opacity: 0.55; stroke: #9c640c; stroke-width: 1; }
.pemap-picture .no-frame { fill: none; stroke: #aaa; stroke-dasharray: 3 2; }
.pemap-picture .pagetext { font-family: ui-monospace, monospace; font-size: 10px; fill: #111;
  paint-order: stroke; stroke: #fff; stroke-width: 3px; stroke-linejoin: round; }
.pemap-picture .p-r { fill: #d5d8dc; }
.pemap-picture .p-rx { fill: #f0b27a; }
.pemap-picture .p-wc { fill: url(#hatch-wc); }
.pemap-picture .p-wcx { fill: url(#hatch-wcx); }
.pemap-picture .p-shared { fill: url(#dots-shared); }
.pemap-picture .p-rwx { fill: url(#cross-rwx); }
.pemap-picture .p-none { fill: #f8f9f9; }
.pemap-picture .p-x { fill: #fad7a0; }
.pemap-picture .p-reserve { fill: #fff; stroke: #aaa; stroke-dasharray: 2 2; }
)";

static_assert(std::size(kKinds) + 3 == kLegendRows, "legend_svg draws a row for each kind and three marks");

}  // namespace

std::string picture_defs() {
  Markup m;
  m.open("defs");
  m.raw(
      R"svg(<pattern id="hatch-wc" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">)svg"
      R"svg(<rect width="6" height="6" fill="#abebc6"/><line x1="0" y1="0" x2="0" y2="6" stroke="#1e8449" )svg"
      R"svg(stroke-width="2"/></pattern>)svg");
  m.raw(
      R"svg(<pattern id="hatch-wcx" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(-45)">)svg"
      R"svg(<rect width="6" height="6" fill="#f0b27a"/><line x1="0" y1="0" x2="0" y2="6" stroke="#1e8449" )svg"
      R"svg(stroke-width="2"/></pattern>)svg");
  m.raw(R"svg(<pattern id="dots-shared" width="6" height="6" patternUnits="userSpaceOnUse">)svg"
        R"svg(<rect width="6" height="6" fill="#aed6f1"/><circle cx="3" cy="3" r="1.4" fill="#1b4f72"/></pattern>)svg");
  m.raw(R"svg(<pattern id="cross-rwx" width="6" height="6" patternUnits="userSpaceOnUse">)svg"
        R"svg(<rect width="6" height="6" fill="#f5b7b1"/><path d="M0 0L6 6M6 0L0 6" stroke="#922b21" )svg"
        R"svg(stroke-width="1"/></pattern>)svg");
  m.raw(R"svg(<marker id="arrowhead" viewBox="0 0 8 8" refX="7" refY="4" markerWidth="6" markerHeight="6" )svg"
        R"svg(orient="auto"><path d="M0 0L8 4L0 8z" fill="#c0392b"/></marker>)svg");
  m.open("style").raw(kStyle).close();
  m.close();
  return m.str();
}

void open_picture(Markup& svg, double width, double height, const std::string& label) {
  svg.open("svg", {{"xmlns", "http://www.w3.org/2000/svg"},
                   {"class", "pemap-picture"},
                   {"viewBox", fmt::format("0 0 {} {}", coord(width), coord(height))},
                   {"width", coord(width)},
                   {"height", coord(height)},
                   {"role", "img"},
                   {"aria-label", label}});
  svg.raw(picture_defs());
}

std::string protection_class(std::string_view protect, std::string_view state) {
  if (state == "reserve") return "p-reserve";
  for (const auto& k : kKinds)
    if (protect == k.letters) return k.cls;
  return "p-none";
}

std::string protection_words(std::string_view protect, std::string_view state) {
  if (state == "reserve") return "reserved, not committed";
  for (const auto& k : kKinds)
    if (protect == k.letters) return k.words;
  return "protection " + std::string(protect);
}

std::string legend_svg(double x, double y) {
  Markup m;
  m.open("g", {{"class", "legend"}});
  double row = y;
  for (const auto& k : kKinds) {
    m.empty("rect", {{"class", k.cls},
                     {"x", coord(x)},
                     {"y", coord(row)},
                     {"width", "22"},
                     {"height", "12"},
                     {"stroke", "#222"},
                     {"stroke-width", "0.6"}});
    m.element("text", {{"x", coord(x + 28)}, {"y", coord(row + 10)}}, fmt::format("{}  {}", k.letters, k.words));
    row += 17;
  }
  m.empty("rect", {{"class", "private"}, {"x", coord(x)}, {"y", coord(row + 1)}, {"width", "22"}, {"height", "9"}});
  m.element("text", {{"x", coord(x + 28)}, {"y", coord(row + 10)}},
            "a page a fixup wrote: this process's own copy now (hover: how many fixups)");
  row += 17;
  m.open("g", {{"class", "ghost"}});
  m.empty("rect", {{"x", coord(x)}, {"y", coord(row)}, {"width", "22"}, {"height", "12"}});
  m.close();
  m.element("text", {{"x", coord(x + 28)}, {"y", coord(row + 10)}},
            "where a displaced module wanted to be: its preferred base, taken");
  row += 17;
  m.empty("line",
          {{"class", "grid"}, {"x1", coord(x)}, {"x2", coord(x + 22)}, {"y1", coord(row + 6)}, {"y2", coord(row + 6)}});
  m.element("text", {{"x", coord(x + 28)}, {"y", coord(row + 10)}},
            "a 64 KiB boundary: every view and reservation starts on one (the allocation granularity)");
  m.close();
  return m.str();
}

}  // namespace pemap::inspect
