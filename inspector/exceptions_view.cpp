// The exceptions command.
#include "exceptions_view.hpp"

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

std::string render(const std::string& path, const json& d, bool many) {
  std::string out = many ? "== " + path + "\n" : std::string();
  if (!d["present"].get<bool>()) return out + "  no exception directory\n";
  const auto hex = [](const json& v) { return fmt::format("{:#x}", v.get<uint64_t>()); };
  const auto& fns = d["functions"];
  out += fmt::format("Exception directory ({}): {} functions\n", d["machine"].get<std::string>(), fns.size());
  const bool arm64 = !fns.empty() && fns[0].contains("length");
  const bool unwind = !fns.empty() && fns[0].contains("unwind");
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
