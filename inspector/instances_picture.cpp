// Drawing the instances of a DLL.
#include "instances_picture.hpp"

#include <algorithm>
#include <map>

#include <fmt/format.h>

#include "markup.hpp"
#include "picture_style.hpp"

namespace pemap::inspect {
namespace {

constexpr double kLeft = 190, kTop = 70, kColumnW = 170, kPageH = 20, kPageW = 120;

}  // namespace

std::string instances_svg(const json& doc) {
  const json instances = json_array(doc, "instances");
  // Every page (by RVA) with the frame each instance has there.
  std::map<uint64_t, std::vector<uint64_t>> frames;
  std::map<uint64_t, std::pair<std::string, std::string>> page_info;  // RVA -> section, protection
  for (size_t i = 0; i < instances.size(); ++i) {
    const auto& in = instances[i];
    for (const auto& r : json_array(in, "regions")) {
      const uint64_t rva = json_number(r, "rva");
      const json fr = json_array(r, "frames");
      for (size_t k = 0; k < fr.size(); ++k) {
        auto& f = frames[rva + k * 4096];
        f.resize(instances.size(), 0);
        f[i] = fr[k].is_number_unsigned() ? fr[k].get<uint64_t>() : 0;
        page_info[rva + k * 4096] = {json_text(r, "name"), json_text(r, "protect")};
      }
    }
  }
  const double width = kLeft + static_cast<double>(std::max<size_t>(instances.size(), 1)) * kColumnW + 20;
  const double content = kTop + static_cast<double>(frames.size()) * (kPageH + 2) + 20;
  const double height = content + kLegendHeight + 3 * 17 + 12;
  Markup svg;
  open_picture(svg, width, height, "pages of " + json_text(doc, "dll") + " in each process");
  svg.element("text", {{"class", "heading"}, {"x", "8"}, {"y", "20"}},
              fmt::format("{} in {} processes", json_text(doc, "dll"), instances.size()));
  svg.element("text", {{"class", "subheading"}, {"x", "8"}, {"y", "36"}},
              "F1, F2, ...: physical pages; a thick blue frame: a page other processes hold too, orange: its own");
  for (size_t i = 0; i < instances.size(); ++i) {
    const auto& in = instances[i];
    const double x = kLeft + static_cast<double>(i) * kColumnW;
    svg.element("text", {{"class", "heading"}, {"x", coord(x)}, {"y", coord(kTop - 12)}},
                fmt::format("process {}{}", i + 1, in.contains("ok") && in["ok"] == false ? " (failed)" : ""));
  }
  // Physical frames by name, F1, F2, ... in the order the picture meets them: the same name is the same page of
  // memory, and the picture reads the same from run to run (the frame numbers do not).
  std::map<uint64_t, std::string> frame_names;
  std::map<uint64_t, size_t> holders;  // how many processes hold each frame
  for (const auto& [rva, fs] : frames)
    for (uint64_t f : fs)
      if (f != 0) frame_names.emplace(f, "F" + std::to_string(frame_names.size() + 1)), ++holders[f];
  size_t row = 0;
  for (const auto& [rva, fs] : frames) {
    const double y = kTop + static_cast<double>(row++) * (kPageH + 2);
    const auto& [section, protect] = page_info[rva];
    svg.element("text", {{"class", "axis"}, {"x", coord(kLeft - 10)}, {"y", coord(y + 14)}},
                fmt::format("{} +{:#x} {}", section, rva, protect));
    for (size_t i = 0; i < fs.size(); ++i) {
      const double x = kLeft + static_cast<double>(i) * kColumnW;
      const uint64_t base = json_number(instances[i], "base");
      // Shared: another process holds this very frame; own: no other process does.
      const bool same = fs[i] != 0 && holders[fs[i]] > 1;
      const std::string verdict = fs[i] == 0 ? "not in memory" : same ? "shared" : "own";
      svg.open("g", {{"class", "page " + verdict},
                     {"data-process", std::to_string(i + 1)},
                     {"data-section", section},
                     {"data-address", hex_address(base + rva)},
                     {"data-frame", fs[i] ? frame_names[fs[i]] : "-"},
                     {"data-verdict", verdict}});
      svg.element("title", {},
                  fmt::format("process {}: {} page at {:#x} (RVA {:#x}), {}: physical page {}{}", i + 1, section,
                              base + rva, rva, protect, fs[i] ? frame_names[fs[i]] : "none (not resident, or hidden)",
                              same    ? ", held by other processes too"
                              : fs[i] ? ", this process's own"
                                      : ""));
      svg.empty("rect", {{"class", protection_class(protect, "commit")},
                         {"x", coord(x)},
                         {"y", coord(y)},
                         {"width", coord(kPageW)},
                         {"height", coord(kPageH)}});
      svg.empty("rect", {{"class", same    ? "same-frame"
                                   : fs[i] ? "own-frame"
                                           : "no-frame"},
                         {"x", coord(x)},
                         {"y", coord(y)},
                         {"width", coord(kPageW)},
                         {"height", coord(kPageH)}});
      svg.element("text", {{"class", "pagetext"}, {"x", coord(x + 4)}, {"y", coord(y + 14)}},
                  fs[i] == 0 ? "-" : fmt::format("{} {}", same ? "shared" : "own", frame_names[fs[i]]));
      svg.close();
    }
  }
  // The marks of this picture, then the protections' legend.
  const std::pair<const char*, const char*> marks[] = {
      {"same-frame", "a physical page another process holds too: one copy for them all"},
      {"own-frame", "a physical page no other process holds: this process's own copy"},
      {"no-frame", "not in memory (never touched), or the kernel hides frames from this user"}};
  double mark_y = content;
  svg.open("g", {{"class", "legend"}});
  for (const auto& [cls, words] : marks) {
    svg.empty("rect", {{"class", "p-r"}, {"x", "8"}, {"y", coord(mark_y)}, {"width", "22"}, {"height", "12"}});
    svg.empty("rect", {{"class", cls}, {"x", "8"}, {"y", coord(mark_y)}, {"width", "22"}, {"height", "12"}});
    svg.element("text", {{"x", "36"}, {"y", coord(mark_y + 10)}}, words);
    mark_y += 17;
  }
  svg.close();
  svg.raw(legend_svg(8, mark_y + 4));
  svg.close();
  return svg.str();
}

}  // namespace pemap::inspect
