// The exceptions command.
#include "exceptions_view.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "pe/names.hpp"
#include "pe/unwind.hpp"
#include "table.hpp"

namespace pemap::inspect {
namespace {

std::string flag_text(uint8_t flags) {
  std::string out;
  if (flags & 1) out += " EHANDLER";
  if (flags & 2) out += " UHANDLER";
  if (flags & 4) out += " CHAININFO";
  return out.empty() ? "-" : out.substr(1);
}

void arm64_codes(Printer& p, std::string_view name, const std::vector<pe::Arm64UnwindCode>& codes) {
  p.begin_array(name);
  for (const auto& c : codes)
    p.record({}, {Field::num("index", c.index), Field::num("bytes", c.bytes), Field::num("length", c.length),
                  Field::str("text", c.text)});
  p.end_array();
}

void arm64_xdata(Printer& p, const pe::Arm64Xdata& x) {
  p.begin_object("xdata");
  p.field("function_length", x.function_length);
  p.field("version", x.version);
  p.field("x", x.x);
  p.field("e", x.e);
  p.field("epilog_count", x.epilog_count);
  p.field("code_words", x.code_words);
  arm64_codes(p, "prolog", x.prolog);
  p.begin_array("epilogs");
  for (const auto& e : x.epilogs) {
    p.begin_object();
    if (!x.e) p.field("start_offset", e.start_offset * 4);
    p.field("start_index", e.start_index);
    if (e.reserved) p.field("reserved_bits", e.reserved);
    arm64_codes(p, "codes", e.codes);
    p.end_object();
  }
  p.end_array();
  if (x.handler) p.field("handler", *x.handler);
  if (x.codes_cut) p.field("codes_cut", true);
  p.end_object();
}

Result<int> report(const std::string& path, bool unwind, const std::function<Printer&()>& open, Warnings& w) {
  auto opened = open_image(path);
  if (!opened) return opened.take_error();
  const pe::Image& image = opened->image;
  auto table = pe::parse_exceptions(image, unwind);
  if (!table) return table.take_error();
  w.add(table->warnings);
  Printer& p = open();
  p.field("present", table->present);
  p.field("machine", pe::machine_name(table->machine));
  p.begin_array("functions");
  for (const auto& f : table->functions) {
    p.begin_object();
    p.field("begin", f.begin);
    if (table->machine == 0xAA64) {
      p.field("length", f.length);
      p.field("unwind_data", f.unwind);
      p.field("packed", f.packed);
      p.field("detail", f.arm64_detail);
      if (f.xdata) arm64_xdata(p, *f.xdata);
    } else {
      p.field("end", f.end);
      p.field("unwind_info", f.unwind);
    }
    if (f.info) {
      const auto& u = *f.info;
      p.begin_object("unwind");
      p.field("version", u.version);
      p.field("flags", u.flags);
      p.field("flag_names", flag_text(u.flags));
      p.field("prolog_size", u.prolog_size);
      if (u.frame_register) {
        p.field("frame_register", pe::x64_register_name(u.frame_register));
        p.field("frame_offset", u.frame_offset * 16);
      }
      p.begin_array("codes");
      for (const auto& c : u.codes)
        p.record({}, {Field::num("offset", c.offset), Field::num("op", c.op), Field::str("text", c.text)});
      p.end_array();
      if (u.handler) p.field("handler", *u.handler);
      if (u.chained) {
        p.begin_object("chained");
        p.field("begin", u.chained->begin);
        p.field("end", u.chained->end);
        p.field("unwind_info", u.chained->unwind_info);
        p.end_object();
      }
      p.end_object();
    }
    p.end_object();
  }
  p.end_array();
  return int(exit_ok);
}

bool unwind_arm64(const json& fns) {
  return std::any_of(fns.begin(), fns.end(), [](const json& f) { return f.contains("xdata"); });
}

// Each ARM64 function with its packed fields, or its .xdata record's codes: the prolog's, then each epilog's.
std::string render_arm64_unwind(const json& fns) {
  const auto hex = [](const json& v) { return fmt::format("{:#x}", v.get<uint64_t>()); };
  const auto codes = [&](const json& list) {
    std::string out;
    for (const auto& c : list)
      out += fmt::format("        {:<#{}x}  {}\n", c["bytes"].get<uint64_t>(), 10, c["text"].get<std::string>());
    return out;
  };
  std::string out;
  for (const auto& f : fns) {
    out += fmt::format("  {} length {} unwind data {}: {}\n", hex(f["begin"]), hex(f["length"]), hex(f["unwind_data"]),
                       f["detail"].get<std::string>());
    if (!f.contains("xdata")) continue;
    const auto& x = f["xdata"];
    out += "      prolog:\n" + codes(x["prolog"]);
    for (const auto& e : x["epilogs"]) {
      out += e.contains("start_offset")
                 ? fmt::format("      epilog at +{} (from code {}):\n", hex(e["start_offset"]),
                               e["start_index"].get<uint64_t>())
                 : fmt::format("      epilog (from code {}):\n", e["start_index"].get<uint64_t>());
      out += codes(e["codes"]);
    }
    if (x.contains("handler")) out += fmt::format("      handler at RVA {}\n", hex(x["handler"]));
    if (x.contains("codes_cut")) out += "      (more codes than this file can hold: the rest are not decoded)\n";
  }
  return out;
}

std::string render(const std::string& path, const json& d, bool many) {
  std::string out = many ? "== " + path + "\n" : std::string();
  if (!d["present"].get<bool>()) return out + "  no exception directory\n";
  const auto hex = [](const json& v) { return fmt::format("{:#x}", v.get<uint64_t>()); };
  const auto& fns = d["functions"];
  out += fmt::format("Exception directory ({}): {} functions\n", d["machine"].get<std::string>(), fns.size());
  const bool arm64 = !fns.empty() && fns[0].contains("length");
  const bool unwind = !fns.empty() && fns[0].contains("unwind");
  if (arm64 && unwind_arm64(fns)) return out + render_arm64_unwind(fns);
  if (arm64) {
    Table t({{"Begin", Table::Align::right},
             {"Length", Table::Align::right},
             {"Unwind data", Table::Align::right},
             {"Detail"}});
    for (const auto& f : fns)
      t.add({hex(f["begin"]), hex(f["length"]), hex(f["unwind_data"]), f["detail"].get<std::string>()});
    return out + t.render();
  }
  if (!unwind) {
    Table t({{"Begin", Table::Align::right}, {"End", Table::Align::right}, {"UnwindInfo", Table::Align::right}});
    for (const auto& f : fns) t.add({hex(f["begin"]), hex(f["end"]), hex(f["unwind_info"])});
    return out + t.render();
  }
  for (const auto& f : fns) {
    out += fmt::format("  {}..{}  UNWIND_INFO {}", hex(f["begin"]), hex(f["end"]), hex(f["unwind_info"]));
    if (!f.contains("unwind")) {
      out += ": not readable\n";
      continue;
    }
    const auto& u = f["unwind"];
    out += fmt::format(": version {}, flags {}, prolog {} bytes", u["version"].get<uint64_t>(),
                       u["flag_names"].get<std::string>(), u["prolog_size"].get<uint64_t>());
    if (u.contains("frame_register"))
      out += fmt::format(", frame {}+{:#x}", u["frame_register"].get<std::string>(), u["frame_offset"].get<uint64_t>());
    out += "\n";
    for (const auto& c : u["codes"])
      out += fmt::format("      {:#04x}: {}\n", c["offset"].get<uint64_t>(), c["text"].get<std::string>());
    if (u.contains("handler")) out += fmt::format("      handler at RVA {}\n", hex(u["handler"]));
    if (u.contains("chained"))
      out += fmt::format("      chained to {}..{} (UNWIND_INFO {})\n", hex(u["chained"]["begin"]),
                         hex(u["chained"]["end"]), hex(u["chained"]["unwind_info"]));
  }
  return out;
}

}  // namespace

int run_exceptions(const CommonOptions& opts, bool unwind) {
  return print_each_file(
      opts,
      [&](const std::string& path, const std::function<Printer&()>& open, Warnings& w) {
        return report(path, unwind, open, w);
      },
      render);
}

}  // namespace pemap::inspect
