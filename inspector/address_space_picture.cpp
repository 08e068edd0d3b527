// Drawing the address space of a load.
#include "address_space_picture.hpp"

#include <algorithm>
#include <filesystem>
#include <map>
#include <optional>
#include <vector>

#include <fmt/format.h>

#include "json_text.hpp"
#include "markup.hpp"
#include "picture_style.hpp"
#include "process/module_name.hpp"

namespace pemap::inspect {
namespace {

constexpr double kWidth = 1000;
constexpr double kTop = 56;
// The address column: labels to its left, module bands, then room for the import arrows.
constexpr double kAxisX = 132, kBandW = 150, kArrowRoom = 44;
// The module panel: one row per module, its image drawn to the panel's width.
constexpr double kPanelX = kAxisX + kBandW + kArrowRoom + 24, kPanelW = kWidth - kPanelX - 16, kRowH = 70;
constexpr uint64_t kGranularity = 64 * 1024;
// Stretches of the address space closer than this are drawn as one, to scale; farther ones have a break between.
constexpr uint64_t kJoin = 4 * kGranularity;
constexpr double kMaxClusterPx = 240, kMinClusterPx = 34, kMaxPxPerPage = 6, kBreakPx = 30;

uint64_t num(const json& d, std::string_view key) { return json_number(d, key); }
std::string str(const json& d, std::string_view key) { return json_text(d, key); }

// start + size, held at the top of the 64-bit space: an ImageBase is only required to be 64 KiB aligned, so a
// module (or its ghost) may end past 2^64.
uint64_t end_of(uint64_t start, uint64_t size) { return size > UINT64_MAX - start ? UINT64_MAX : start + size; }

// `text` in at most `chars` characters, its end replaced by "…" when it is longer; never cut inside a UTF-8
// sequence (a standalone SVG with a broken one does not parse).
std::string shortened(const std::string& text, size_t chars) {
  size_t count = 0, at = 0;
  for (; at < text.size(); ++at)
    if ((static_cast<unsigned char>(text[at]) & 0xC0) != 0x80 && ++count > chars) break;
  if (at == text.size()) return text;
  size_t keep = 0;  // the bytes of the first chars - 1 characters
  for (size_t n = 0; keep < text.size(); ++keep)
    if ((static_cast<unsigned char>(text[keep]) & 0xC0) != 0x80 && ++n > (chars ? chars - 1 : 0)) break;
  return text.substr(0, keep) + "…";
}

std::string size_text(uint64_t bytes) {
  if (bytes >= (uint64_t{1} << 30)) return fmt::format("{:.1f} GiB", static_cast<double>(bytes) / (1 << 30));
  if (bytes >= (uint64_t{1} << 20)) return fmt::format("{:.1f} MiB", static_cast<double>(bytes) / (1 << 20));
  return fmt::format("{} KiB", bytes >> 10);
}

// The vertical axis: the stretches in use (modules, and ghosts at preferred bases), each drawn to a scale of its own
// (at least the largest one's), and breaks between them for the free space they leave out.
class Axis {
 public:
  struct Cluster {
    uint64_t start = 0, end = 0;
    double y = 0, scale = 0;  // px per byte
    double bottom() const { return y + static_cast<double>(end - start) * scale; }
  };

  explicit Axis(std::vector<std::pair<uint64_t, uint64_t>> spans) {
    std::sort(spans.begin(), spans.end());
    for (const auto& [start, end] : spans) {
      if (!clusters_.empty() && start <= end_of(clusters_.back().end, kJoin))
        clusters_.back().end = std::max(clusters_.back().end, end);
      else
        clusters_.push_back({start, end});
    }
    uint64_t largest = 1;
    for (const auto& c : clusters_) largest = std::max(largest, c.end - c.start);
    const double scale = std::min(kMaxClusterPx / static_cast<double>(largest), kMaxPxPerPage / 4096.0);
    double y = kTop;
    for (auto& c : clusters_) {
      c.y = y;
      c.scale = std::max(scale, kMinClusterPx / static_cast<double>(std::max<uint64_t>(c.end - c.start, 1)));
      y = c.bottom() + kBreakPx;
    }
    height_ = y - kBreakPx;
  }
  const std::vector<Cluster>& clusters() const { return clusters_; }
  double height() const { return height_; }
  /// The y of `address`, when a cluster holds it.
  std::optional<double> y(uint64_t address) const {
    for (const auto& c : clusters_)
      if (address >= c.start && address <= c.end) return c.y + static_cast<double>(address - c.start) * c.scale;
    return std::nullopt;
  }

 private:
  std::vector<Cluster> clusters_;
  double height_ = kTop;
};

void breaks_and_grid(Markup& svg, const Axis& axis) {
  const auto& cs = axis.clusters();
  for (size_t i = 0; i < cs.size(); ++i) {
    const auto& c = cs[i];
    svg.element("text", {{"class", "axis"}, {"x", coord(kAxisX - 6)}, {"y", coord(c.y + 4)}}, hex_address(c.start));
    svg.element("text", {{"class", "axis"}, {"x", coord(kAxisX - 6)}, {"y", coord(c.bottom() + 4)}},
                hex_address(c.end));
    // The allocation granularity: a tick at every 64 KiB boundary, where they are far enough apart to see.
    // (Counted in boundaries, not addresses: an address loop would wrap at the top of the space.)
    if (c.scale * kGranularity >= 5 && c.end > c.start)
      for (uint64_t k = c.start / kGranularity + 1; k <= (c.end - 1) / kGranularity; ++k) {
        const double y = c.y + static_cast<double>(k * kGranularity - c.start) * c.scale;
        svg.empty("line", {{"class", "grid"},
                           {"x1", coord(kAxisX - 4)},
                           {"x2", coord(kAxisX + kBandW)},
                           {"y1", coord(y)},
                           {"y2", coord(y)}});
      }
    if (i + 1 == cs.size()) break;
    const double top = c.bottom(), mid = top + kBreakPx / 2;
    const uint64_t free = cs[i + 1].start - c.end;
    svg.open("g", {{"class", "break"}});
    svg.element("title", {},
                fmt::format("{:#x}..{:#x}: {} not drawn (nothing of the load is there)", c.end, cs[i + 1].start,
                            size_text(free)));
    svg.empty("path", {{"d", fmt::format("M{} {} l10 -5 l10 10 l10 -10 l10 10 l10 -10 l10 10 l10 -10 l10 10 l10 "
                                         "-10 l10 10 l10 -10 l10 10 l10 -10 l10 10 l10 -5",
                                         coord(kAxisX), coord(mid))}});
    svg.element("text", {{"class", "breaktext"}, {"x", coord(kAxisX + kBandW / 2)}, {"y", coord(mid + 14)}},
                size_text(free) + " free");
    svg.close();
  }
}

// A module's regions over [y0, y1) of a band, or along a strip: each coloured by protection, with a pattern and
// its protection in words on hover.
void region_rects(Markup& svg, const json& m, bool vertical, double x, double y, double w, double h) {
  const uint64_t base = num(m, "base"), size = std::max<uint64_t>(num(m, "size"), 1);
  for (const auto& r : json_array(m, "regions")) {
    const uint64_t at = std::max(num(r, "address"), base);
    const uint64_t end = std::min(end_of(num(r, "address"), num(r, "size")), end_of(base, size));
    if (end <= at) continue;
    const double f0 = static_cast<double>(at - base) / static_cast<double>(size);
    const double f1 = static_cast<double>(end - base) / static_cast<double>(size);
    std::string sections;
    for (const auto& s : json_array(r, "sections"))
      if (s.is_string()) sections += (sections.empty() ? "" : ", ") + s.get<std::string>();
    const std::string protect = str(r, "protect");
    const std::string title =
        fmt::format("{}: {:#x}..{:#x} ({:#x} bytes), {} {}, {}", str(m, "name"), at, end, end - at, protect,
                    protection_words(protect, str(r, "state")), sections.empty() ? "no section" : sections);
    const double rx = vertical ? x : x + f0 * w, ry = vertical ? y + f0 * h : y;
    const double rw = vertical ? w : (f1 - f0) * w, rh = vertical ? (f1 - f0) * h : h;
    svg.open("rect", {{"class", "region " + protection_class(protect, str(r, "state"))},
                      {"x", coord(rx)},
                      {"y", coord(ry)},
                      {"width", coord(std::max(rw, 0.5))},
                      {"height", coord(std::max(rh, 0.5))},
                      {"data-address", hex_address(at)},
                      {"data-size", hex_address(end - at)},
                      {"data-protect", protect}});
    svg.element("title", {}, title);
    svg.close();
    if (!vertical && rw >= 34) {
      const std::string label = sections.empty() ? protect : sections;
      const size_t fit = static_cast<size_t>(rw / 7.0);
      svg.element("text", {{"class", "regiontext"}, {"x", coord(rx + 3)}, {"y", coord(ry + h - 6)}},
                  shortened(label, fit));
    }
  }
}

void module_band(Markup& svg, const Axis& axis, const json& m, const LoadSteps& steps) {
  const std::string name = str(m, "name");
  const uint64_t base = num(m, "base"), size = num(m, "size"), preferred = num(m, "preferred_base");
  const auto y0 = axis.y(base), y1 = axis.y(end_of(base, size));
  if (!y0 || !y1) return;
  const std::string from = steps.mapped(name);
  if (preferred != base) {
    if (const auto g0 = axis.y(preferred), g1 = axis.y(end_of(preferred, size)); g0 && g1) {
      svg.open("g", {{"class", "ghost"}, {"data-module", name}, {"data-from", from}});
      svg.element("title", {},
                  fmt::format("{}'s preferred base {:#x}: {}", name, preferred,
                              m.contains("displaced") ? str(m, "displaced") : "not used"));
      svg.empty("rect", {{"x", coord(kAxisX + 14)},
                         {"y", coord(*g0)},
                         {"width", coord(kBandW - 28)},
                         {"height", coord(*g1 - *g0)},
                         {"data-address", hex_address(preferred)}});
      svg.element("text", {{"x", coord(kAxisX + kBandW / 2)}, {"y", coord((*g0 + *g1) / 2 + 4)}},
                  name + " wanted this");
      svg.close();
    }
  }
  svg.open("g", {{"class", "module"},
                 {"data-module", name},
                 {"data-base", hex_address(base)},
                 {"data-size", hex_address(size)},
                 {"data-from", from}});
  svg.element("title", {},
              fmt::format("{} at {:#x}..{:#x} ({}), preferred base {:#x}, {}", name, base, end_of(base, size),
                          size_text(size), preferred, str(m, "placed")));
  region_rects(svg, m, true, kAxisX, *y0, kBandW, *y1 - *y0);
  svg.empty("rect", {{"class", "outline"},
                     {"x", coord(kAxisX)},
                     {"y", coord(*y0)},
                     {"width", coord(kBandW)},
                     {"height", coord(*y1 - *y0)}});
  svg.element("text", {{"class", "bandtext"}, {"x", coord(kAxisX + 5)}, {"y", coord(*y0 + 13)}},
              fmt::format("{} {:#x}", name, base));
  svg.close();
}

// A module's row in the panel: its image from RVA 0 to SizeOfImage, regions by protection, and below it the pages
// its fixups made private, each with its count.
void module_row(Markup& svg, const json& m, size_t row, const LoadSteps& steps) {
  const std::string name = str(m, "name");
  const uint64_t base = num(m, "base"), size = std::max<uint64_t>(num(m, "size"), 1);
  const double y = kTop + static_cast<double>(row) * kRowH;
  svg.open("g", {{"class", "row"}, {"data-module", name}, {"data-from", steps.mapped(name)}});
  std::string title = fmt::format("{} at {:#x}, {}", name, base, size_text(size));
  if (num(m, "preferred_base") != base)
    title += fmt::format(" (preferred base {:#x}: {})", num(m, "preferred_base"), str(m, "placed"));
  svg.element("text", {{"class", "rowtitle"}, {"x", coord(kPanelX)}, {"y", coord(y + 12)}}, title);
  region_rects(svg, m, false, kPanelX, y + 18, kPanelW, 22);
  svg.empty(
      "rect",
      {{"class", "outline"}, {"x", coord(kPanelX)}, {"y", coord(y + 18)}, {"width", coord(kPanelW)}, {"height", "22"}});
  svg.close();
  // Bytes a relocation check found changed without a fixup to explain them (relocs --check).
  for (const auto& v : json_array(m, "violations")) {
    const uint64_t rva = num(v, "rva");
    const double x = kPanelX + kPanelW * static_cast<double>(std::min(rva, size)) / static_cast<double>(size);
    svg.open("rect", {{"class", "violation"},
                      {"x", coord(x - 1)},
                      {"y", coord(y + 14)},
                      {"width", "3"},
                      {"height", "30"},
                      {"data-address", hex_address(base + rva)}});
    svg.element("title", {},
                fmt::format("{} byte at {:#x} (RVA {:#x}) changed: {}", name, base + rva, rva, str(v, "reason")));
    svg.close();
  }
  const json& pages = json_array(m, "fixup_pages");
  if (pages.empty()) return;
  svg.open("g", {{"class", "fixups"}, {"data-module", name}, {"data-from", steps.relocated(name)}});
  const double page_w = std::max(kPanelW * 4096.0 / static_cast<double>(size), 2.0);
  uint64_t total = 0;
  for (const auto& p : pages) {
    const uint64_t rva = num(p, "rva"), n = num(p, "fixups");
    total += n;
    const double x = kPanelX + kPanelW * static_cast<double>(rva) / static_cast<double>(size);
    svg.open("rect", {{"class", "private"},
                      {"x", coord(x)},
                      {"y", coord(y + 43)},
                      {"width", coord(page_w)},
                      {"height", "9"},
                      {"data-address", hex_address(base + rva)},
                      {"data-fixups", std::to_string(n)}});
    svg.element("title", {},
                fmt::format("{} page {:#x} (RVA {:#x}): {} fixups wrote it, so it is this process's "
                            "own copy now",
                            name, base + rva, rva, n));
    svg.close();
    if (page_w >= 22)
      svg.element("text", {{"class", "count"}, {"x", coord(x + 2)}, {"y", coord(y + 51)}}, std::to_string(n));
  }
  svg.element("text", {{"class", "rownote"}, {"x", coord(kPanelX + kPanelW)}, {"y", coord(y + 62)}},
              fmt::format("{} fixups made {} pages private", total, pages.size()));
  svg.close();
}

}  // namespace

std::string address_space_svg(const json& doc) {
  std::vector<std::pair<uint64_t, uint64_t>> spans;
  const json modules = json_array(doc, "modules");
  for (const auto& m : modules) {
    const uint64_t base = num(m, "base"), size = std::max<uint64_t>(num(m, "size"), 1);
    spans.emplace_back(base, end_of(base, size));
    if (num(m, "preferred_base") != base)
      spans.emplace_back(num(m, "preferred_base"), end_of(num(m, "preferred_base"), size));
  }
  const Axis axis(std::move(spans));
  const LoadSteps steps(doc);
  const double content = std::max(axis.height(), kTop + static_cast<double>(modules.size()) * kRowH) + 24;
  const double height = content + kLegendHeight + 8;
  Markup svg;
  open_picture(svg, kWidth, height, "address space of the load of " + str(doc, "file"));
  svg.element("text", {{"class", "heading"}, {"x", "8"}, {"y", "20"}}, "The address space, low addresses at the top");
  svg.element("text", {{"class", "subheading"}, {"x", "8"}, {"y", "34"}},
              "each stretch in use to scale; ⋯ breaks leave out free space");
  svg.element("text", {{"class", "heading"}, {"x", coord(kPanelX)}, {"y", "20"}},
              "Each image from RVA 0 to SizeOfImage");
  svg.element("text", {{"class", "subheading"}, {"x", coord(kPanelX)}, {"y", "34"}},
              "its regions as VirtualQuery reports them, in load order");
  breaks_and_grid(svg, axis);
  for (const auto& m : modules) module_band(svg, axis, m, steps);
  for (size_t i = 0; i < modules.size(); ++i) module_row(svg, modules[i], i, steps);
  // Where each stretch of the axis is, for a page's script to draw a module's import arrows on: "start end y
  // scale" (hexadecimal, hexadecimal, px, px per byte), separated by commas; and the group it draws them in.
  std::string clusters;
  for (const auto& c : axis.clusters())
    clusters += fmt::format("{}{:x} {:x} {} {}", clusters.empty() ? "" : ",", c.start, c.end, coord(c.y),
                            fmt::format("{:.9g}", c.scale));
  svg.empty("g", {{"class", "arrows"}, {"data-clusters", clusters}, {"data-x", coord(kAxisX + kBandW)}});
  svg.raw(legend_svg(kAxisX, content));
  svg.close();
  return svg.str();
}

}  // namespace pemap::inspect

namespace pemap::inspect {

json one_view_document(const std::string& path, const json& view, const std::string& placed) {
  const uint64_t base = json_number(view, "base");
  uint64_t end = base;
  for (const auto& r : json_array(view, "regions"))
    end = std::max(end, end_of(json_number(r, "address"), json_number(r, "size")));
  json module = {{"name", printable(std::filesystem::path(path).filename().string())},
                 {"base", base},
                 {"size", end - base},
                 {"preferred_base", view.contains("preferred_base") ? json_number(view, "preferred_base") : base},
                 {"placed", placed},
                 {"regions", json_array(view, "regions")},
                 {"fixup_pages", json_array(view, "fixup_pages")},
                 {"violations", json_array(view, "first_violations")},
                 {"bindings", json::array()}};
  return {{"file", printable(path)}, {"modules", json::array({module})}, {"events", json::array()}};
}

LoadSteps::LoadSteps(const json& doc) {
  const json& events = json_array(doc, "events");
  last_ = events.empty() ? 0 : events.size() - 1;
  for (size_t i = 0; i < events.size(); ++i) {
    const auto& e = events[i];
    const std::string step = json_text(e, "step"), module = ldr::ascii_lower(json_text(e, "module"));
    if (step == "map") mapped_.emplace(module, i);
    if (step == "relocate") relocated_.emplace(module, i);
    if (step == "bind" || step == "delay") bound_.emplace(module + "!" + ldr::ascii_lower(json_text(e, "target")), i);
  }
}

std::string LoadSteps::find(const std::map<std::string, size_t>& m, const std::string& key) const {
  const auto it = m.find(ldr::ascii_lower(key));
  return std::to_string(it == m.end() ? last_ : it->second);
}

}  // namespace pemap::inspect
