// The hashes command.
#include "fingerprints_view.hpp"

#include <fmt/format.h>

#include "analysis/fingerprints.hpp"
#include "analysis/fuzzy_hash.hpp"
#include "json_text.hpp"
#include "pe/checksum.hpp"

namespace pemap::inspect {
namespace {

constexpr analysis::DigestKind kKinds[] = {analysis::DigestKind::md5, analysis::DigestKind::sha1,
                                           analysis::DigestKind::sha256};

void digests(Printer& p, Bytes bytes) {
  for (auto kind : kKinds) p.field(analysis::digest_name(kind), analysis::hex_digest(kind, bytes));
}

std::string str(const json& v) { return v.is_string() ? v.get<std::string>() : v.dump(); }

}  // namespace

void model_hashes(const pe::Image& image, Printer& p, Warnings& w) {
  p.begin_object("whole_file");
  p.field("size", image.file().size());
  digests(p, image.file());
  const auto similarity = [&](std::string_view name, const std::string& hash) {
    if (hash.empty())
      p.field(name, nullptr);
    else
      p.field(name, hash);
  };
  similarity("ssdeep", analysis::ssdeep_hash(image.file()));
  similarity("tlsh", analysis::tlsh_hash(image.file()));
  p.end_object();
  p.field("checksum", pe::compute_checksum(image));
  auto imp = analysis::imphash(image);
  w.add(imp.warnings);
  if (imp.md5.empty())
    p.field("imphash", nullptr);
  else
    p.field("imphash", imp.md5);
  p.begin_array("sections");
  for (const auto& s : image.sections()) {
    const Bytes raw = analysis::section_raw_data(image, s);
    p.begin_object();
    p.field("name", printable(s.name));
    p.field("raw_offset", static_cast<uint64_t>(raw.data() - image.file().data()));
    p.field("raw_size", raw.size());
    digests(p, raw);
    p.field("entropy", analysis::entropy(raw));
    p.end_object();
  }
  p.end_array();
  if (auto ov = image.overlay_offset()) {
    const Bytes raw = image.file().subspan(*ov);
    p.begin_object("overlay");
    p.field("offset", *ov);
    p.field("size", raw.size());
    digests(p, raw);
    p.field("entropy", analysis::entropy(raw));
    p.end_object();
  }
}

std::string render_hashes(const json& d) {
  std::string out;
  const auto line = [](std::string_view name, const std::string& value) {
    return fmt::format("  {:<10} {}\n", name, value);
  };
  out += fmt::format("File ({} bytes)\n", d["whole_file"]["size"].get<uint64_t>());
  for (const char* k : {"md5", "sha1", "sha256"}) out += line(k, str(d["whole_file"][k]));
  const json& file = d["whole_file"];
  out += line("ssdeep", file.contains("ssdeep") && file["ssdeep"].is_string() ? str(file["ssdeep"]) : "-");
  out += line("tlsh", file.contains("tlsh") && file["tlsh"].is_string()
                          ? str(file["tlsh"])
                          : "- (TLSH needs 256 bytes or more, with some variety)");
  out += line("imphash", d["imphash"].is_null() ? "- (no imports)" : str(d["imphash"]));
  out += line("checksum", fmt::format("{:#x} (the optional header's CheckSum as imagehlp computes it)",
                                      d["checksum"].get<uint64_t>()));
  const auto part = [&](const std::string& title, const json& s) {
    out += fmt::format("{} (offset {:#x}, {:#x} bytes, entropy {:.3f})\n", title, s["raw_offset"].get<uint64_t>(),
                       s["raw_size"].get<uint64_t>(), s["entropy"].get<double>());
    for (const char* k : {"md5", "sha1", "sha256"}) out += line(k, str(s[k]));
  };
  for (const auto& s : d["sections"]) part("Section " + (str(s["name"]).empty() ? "\"\"" : str(s["name"])), s);
  if (d.contains("overlay")) {
    json o = d["overlay"];
    o["raw_offset"] = o["offset"];
    o["raw_size"] = o["size"];
    part("Overlay", o);
  }
  return out;
}

void write_hashes(const pe::Image& image, TextOut& out, Warnings& w) {
  TreeBuilder t;
  model_hashes(image, t, w);
  out << render_hashes(t.document());
}

}  // namespace pemap::inspect
