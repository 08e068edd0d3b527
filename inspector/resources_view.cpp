// The resources command: tree, version information and manifest, in JSON and text.
#include "resources_view.hpp"

#include <fmt/format.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>

#include "analysis/manifest.hpp"
#include "json_text.hpp"
#include "pe/resources.hpp"
#include "pe/version_info.hpp"

namespace pemap::inspect {
namespace {

// A key as `<what>` (its text: the standard type name, #ID or the name) and `<what>_id` when it is an ID.
void key_fields(Printer& p, std::string_view what, std::string_view id_key, const pe::ResourceKey& key,
                bool type_level) {
  const auto standard = type_level && !key.named ? pe::resource_type_name(key.id) : std::string_view{};
  p.field(what, standard.empty() ? printable(key.text()) : std::string(standard));
  if (!key.named) p.field(id_key, key.id);
}

void version_fields(Printer& p, const pe::VersionInfo& v) {
  if (v.fixed) {
    const auto& f = *v.fixed;
    p.field("file_version", pe::FixedFileInfo::version_text(f.file_version_ms, f.file_version_ls));
    p.field("product_version", pe::FixedFileInfo::version_text(f.product_version_ms, f.product_version_ls));
    p.field("file_flags_mask", f.file_flags_mask);
    p.field("file_flags", f.file_flags);
    p.begin_array("file_flag_names");
    for (const auto& n : pe::version_file_flag_names(f.file_flags & f.file_flags_mask)) p.field({}, n);
    p.end_array();
    p.field("file_os", pe::version_file_os_name(f.file_os));
    p.field("file_type", pe::version_file_type_name(f.file_type));
    p.field("file_subtype", f.file_subtype);
    p.field("file_date", (uint64_t{f.file_date_ms} << 32) | f.file_date_ls);
  }
  p.begin_array("string_tables");
  for (const auto& t : v.string_tables) {
    p.begin_object();
    p.field("key", printable(t.key));
    p.begin_array("strings");
    for (const auto& [k, value] : t.strings) {
      p.begin_object();
      p.field("name", printable(k));
      p.field("value", printable(value));
      p.end_object();
    }
    p.end_array();
    p.end_object();
  }
  p.end_array();
  p.begin_array("translations");
  for (uint32_t t : v.translations) {
    p.begin_object();
    p.field("language", t & 0xFFFF);
    p.field("code_page", t >> 16);
    p.end_object();
  }
  p.end_array();
}

void manifest_fields(Printer& p, const analysis::Manifest& m) {
  if (m.execution_level) p.field("execution_level", printable(*m.execution_level));
  if (m.ui_access) p.field("ui_access", printable(*m.ui_access));
  p.begin_array("dependencies");
  for (const auto& d : m.dependencies) {
    p.begin_object();
    p.field("name", printable(d.name));
    p.field("version", printable(d.version));
    p.field("architecture", printable(d.architecture));
    p.field("public_key_token", printable(d.public_key_token));
    p.field("type", printable(d.type));
    p.end_object();
  }
  p.end_array();
  // The text's own line breaks (LF or CR LF) are kept as LF; anything else unprintable is escaped.
  std::string text;
  for (size_t at = 0; at <= m.text.size();) {
    const size_t nl = std::min(m.text.find('\n', at), m.text.size());
    auto line = std::string_view(m.text).substr(at, nl - at);
    if (line.ends_with('\r')) line.remove_suffix(1);
    text += (at ? "\n" : "") + printable(line);
    at = nl + 1;
  }
  p.field("text", text);
}

// Each resource of type `type` decoded by `decode` into an object of the array `key`, with its path first. Entries
// larger than `limit` are not decoded (a version resource's wLength is 16-bit; a manifest is text), and entries
// that share their data with one decoded before name it instead of decoding it again, so that a tree of many
// entries over one huge data entry costs what one does.
template <class Decode>
void decoded(const pe::Image& image, const pe::Resources& r, uint32_t type, std::string_view key, uint64_t limit,
             Printer& p, Warnings& w, Decode decode) {
  std::map<std::pair<uint32_t, uint32_t>, std::string> done;
  p.begin_array(key);
  for (const auto& e : r.entries) {
    if (e.type.named || e.type.id != type) continue;
    if (e.size > limit) {
      w.add(make_error(Status::success, "resource data " + e.path(), Location::rva(e.rva),
                       fmt::format("{:#x} bytes, more than a {} holds ({:#x}): not decoded", e.size, key, limit)));
      continue;
    }
    const auto [it, fresh] = done.emplace(std::pair(e.rva, e.size), printable(e.path()));
    if (!fresh) {
      p.begin_object();
      p.field("resource", printable(e.path()));
      p.field("same_data_as", it->second);
      p.end_object();
      continue;
    }
    auto bytes = pe::resource_bytes(image, e);
    if (!bytes) {
      w.add(bytes.error());
      continue;
    }
    p.begin_object();
    p.field("resource", printable(e.path()));
    decode(*bytes, e.rva);
    p.end_object();
  }
  p.end_array();
}

std::string str(const json& v) { return v.is_string() ? v.get<std::string>() : v.dump(); }
std::string hex(const json& v) { return fmt::format("{:#x}", v.get<uint64_t>()); }

}  // namespace

void model_resources(const pe::Image& image, Printer& p, Warnings& w) {
  const auto parsed = pe::parse_resources(image);
  const auto* r = w.parsed(parsed);
  p.field("present", r && r->present);
  if (!r || !r->present) return;
  p.field("directory_rva", image.directory(pe::kDirResource).VirtualAddress);
  p.field("time_date_stamp", r->time_date_stamp);
  p.begin_array("entries");
  for (const auto& e : r->entries) {
    p.begin_object();
    p.field("path", printable(e.path()));
    key_fields(p, "type", "type_id", e.type, true);
    key_fields(p, "name", "name_id", e.name, false);
    key_fields(p, "language", "language_id", e.language, false);
    p.field("rva", e.rva);
    p.field("size", e.size);
    p.field("code_page", e.code_page);
    if (auto s = section_ref(image, e.rva))
      p.field("section", *s);
    else
      p.field("section", nullptr);
    p.end_object();
  }
  p.end_array();
  decoded(image, *r, 16, "version_info", 0xFFFF, p, w, [&](const std::vector<std::byte>& bytes, uint64_t rva) {
    auto v = pe::parse_version_info(bytes, rva);
    if (!v) {
      p.field("error", printable(v.error().message));
      return w.add(v.error());
    }
    w.add(v->warnings);
    version_fields(p, *v);
  });
  decoded(image, *r, 24, "manifests", 1 << 20, p, w, [&](const std::vector<std::byte>& bytes, uint64_t rva) {
    const auto m = analysis::read_manifest(bytes, rva);
    w.add(m.warnings);
    manifest_fields(p, m);
  });
}

std::string render_resources(const json& d) {
  if (!d["present"].get<bool>()) return "  no resource directory\n";
  std::string out =
      fmt::format("Resource directory (RVA {}): {} entries\n", hex(d["directory_rva"]), d["entries"].size());
  Table t({{"Type"},
           {"Name"},
           {"Language"},
           {"RVA", Table::Align::right},
           {"Size", Table::Align::right},
           {"Code page", Table::Align::right},
           {"Section"}});
  for (const auto& e : d["entries"])
    t.add({str(e["type"]), str(e["name"]), str(e["language"]), hex(e["rva"]), hex(e["size"]),
           std::to_string(e["code_page"].get<uint64_t>()), e["section"].is_null() ? "-" : str(e["section"])});
  out += t.render();
  const auto line = [](std::string_view name, const std::string& value) {
    return fmt::format("  {:<28} {}\n", name, value);
  };
  for (const auto& v : d["version_info"]) {
    out += fmt::format("Version information ({})\n", str(v["resource"]));
    if (v.contains("same_data_as")) {
      out += line("Same data as", str(v["same_data_as"]));
      continue;
    }
    if (v.contains("error")) {
      out += line("Not decoded", str(v["error"]));
      continue;
    }
    if (v.contains("file_version")) {
      out += line("FileVersion", str(v["file_version"]));
      out += line("ProductVersion", str(v["product_version"]));
      std::string flags;
      for (const auto& f : v["file_flag_names"]) flags += (flags.empty() ? "" : " ") + str(f);
      out += line("FileFlags", flags.empty() ? "-" : flags);
      out += line("FileOS", str(v["file_os"]));
      out += line("FileType", str(v["file_type"]));
    }
    for (const auto& table : v["string_tables"]) {
      out += fmt::format("  StringFileInfo {}\n", str(table["key"]));
      for (const auto& s : table["strings"]) out += fmt::format("    {:<26} {}\n", str(s["name"]), str(s["value"]));
    }
    std::string tr;
    for (const auto& x : v["translations"])
      tr += fmt::format("{}{:#06x} {}", tr.empty() ? "" : ", ", x["language"].get<uint64_t>(),
                        x["code_page"].get<uint64_t>());
    if (!tr.empty()) out += line("Translation", tr);
  }
  for (const auto& m : d["manifests"]) {
    out += fmt::format("Manifest ({})\n", str(m["resource"]));
    if (m.contains("same_data_as")) {
      out += line("Same data as", str(m["same_data_as"]));
      continue;
    }
    if (m.contains("execution_level"))
      out += line("requestedExecutionLevel",
                  str(m["execution_level"]) + (m.contains("ui_access") ? " uiAccess=" + str(m["ui_access"]) : ""));
    for (const auto& dep : m["dependencies"])
      out += line("dependentAssembly", fmt::format("{} {} {} {}", str(dep["name"]), str(dep["version"]),
                                                   str(dep["architecture"]), str(dep["public_key_token"])));
    std::string text = str(m["text"]);
    size_t at = 0;
    while (at < text.size()) {
      const size_t nl = std::min(text.find('\n', at), text.size());
      out += "  | " + text.substr(at, nl - at) + "\n";
      at = nl + 1;
    }
  }
  return out;
}

void write_resources(const pe::Image& image, TextOut& out, Warnings& w) {
  TreeBuilder t;
  model_resources(image, t, w);
  out << render_resources(t.document());
}

namespace {

// Whether one part of an --extract path names `key`.
bool part_matches(std::string_view part, const pe::ResourceKey& key, bool type_level) {
  if (key.named) return part == key.name;
  if (type_level && part == pe::resource_type_name(key.id)) return true;
  if (part.starts_with('#')) part.remove_prefix(1);
  return !part.empty() && part.find_first_not_of("0123456789") == std::string_view::npos && part.size() <= 10 &&
         std::stoull(std::string(part)) == key.id;
}

}  // namespace

int run_resource_extract(const CommonOptions& opts, const std::string& path, const std::string& out_file) {
  if (opts.inputs.size() != 1) {
    std::cerr << "pemap resources --extract: give one file\n";
    return exit_unusable;
  }
  std::vector<std::string> parts;
  for (size_t at = 0; at <= path.size();) {
    const size_t slash = std::min(path.find('/', at), path.size());
    parts.push_back(path.substr(at, slash - at));
    at = slash + 1;
  }
  if (parts.size() < 2 || parts.size() > 3) {
    std::cerr << fmt::format("pemap resources --extract: '{}' is not TYPE/NAME or TYPE/NAME/LANGUAGE\n", path);
    return exit_unusable;
  }
  auto opened = open_image(opts.inputs[0]);
  if (!opened) {
    std::cerr << fmt::format("pemap: {}: {}\n", opts.inputs[0], opened.error().to_string());
    return exit_unusable;
  }
  const pe::Image& image = opened->image;
  auto r = pe::parse_resources(image);
  if (!r) {
    std::cerr << fmt::format("pemap: {}: {}\n", opts.inputs[0], r.error().to_string());
    return exit_unusable;
  }
  for (const auto& e : r->entries) {
    if (!part_matches(parts[0], e.type, true) || !part_matches(parts[1], e.name, false) ||
        (parts.size() == 3 && !part_matches(parts[2], e.language, false)))
      continue;
    if (uint64_t{e.rva} + e.size > image.optional_header().size_of_image) {
      std::cerr << fmt::format("pemap: {}: resource data {} at RVA {:#x}: {:#x} bytes run past SizeOfImage {:#x}\n",
                               opts.inputs[0], printable(e.path()), e.rva, e.size,
                               image.optional_header().size_of_image);
      return exit_unusable;
    }
    // The bytes as the mapped image holds them, a piece at a time: a hostile entry may claim most of 4 GiB of
    // SizeOfImage, nearly all of it zero fill.
    std::ofstream file;
    if (out_file != "-") file.open(out_file, std::ios::binary | std::ios::trunc);
    std::ostream& os = out_file == "-" ? std::cout : file;
    constexpr uint64_t kPiece = 1 << 16;
    for (uint64_t done = 0; os && done < e.size; done += kPiece) {
      const auto piece = image.copy_range(e.rva + done, std::min(kPiece, e.size - done), "resource data");
      if (!piece) break;  // not reached: the whole entry lies within SizeOfImage
      os.write(reinterpret_cast<const char*>(piece->data()), static_cast<std::streamsize>(piece->size()));
    }
    os.flush();
    if (file.is_open()) file.close();
    if (!os || (file.is_open() && !file)) {
      std::cerr << fmt::format("pemap resources --extract: cannot write {}\n", out_file);
      if (out_file != "-") std::remove(out_file.c_str());  // no partial file left behind
      return exit_unusable;
    }
    if (out_file != "-")
      std::cerr << fmt::format("pemap: {}: wrote {} ({} bytes) to {}\n", opts.inputs[0], printable(e.path()), e.size,
                               out_file);
    // Bytes the file should hold but, cut short, does not: written as the zeros a dump reads, and said.
    if (auto cut = image.cut_short(e.rva, e.size, "resource data " + e.path())) {
      std::cerr << fmt::format("pemap: {}: warning: {}\n", opts.inputs[0], printable(cut->to_string()));
      return exit_findings;
    }
    return exit_ok;
  }
  std::string have;
  for (size_t i = 0; i < r->entries.size() && i < 20; ++i) have += (i ? ", " : "") + printable(r->entries[i].path());
  std::cerr << fmt::format("pemap: {}: no resource matches '{}' (it has {}{})\n", opts.inputs[0], path,
                           have.empty() ? "none" : have, r->entries.size() > 20 ? ", ..." : "");
  return exit_unusable;
}

}  // namespace pemap::inspect
