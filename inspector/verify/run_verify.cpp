// `pemap verify`: our parse against LIEF's, file by file.
#include <iostream>

#include <fmt/format.h>

#include "commands.hpp"
#include "json_text.hpp"
#include "mapped_file.hpp"
#include "model.hpp"
#include "render.hpp"
#include "verify/facts.hpp"

namespace pemap::inspect {
namespace {

const char* kind_name(Finding::Kind k) {
  switch (k) {
    case Finding::Kind::disagreement:
      return "disagreement";
    case Finding::Kind::lief_limitation:
      return "LIEF limitation";
    case Finding::Kind::stricter:
      return "stricter than LIEF";
  }
  return "?";
}

}  // namespace

int run_verify(const CommonOptions& opts) {
  auto inputs = Inputs::expand(opts.inputs, opts.verbose);
  int rc = exit_ok;
  json all = json::array();
  size_t agreed = 0, disagreed = 0;
  // A file that cannot be used: refused, and in the JSON as {"file", "error"} like every command's.
  auto refuse = [&](const Input& in, const Error& e) {
    rc = std::max(rc, inputs.refuse(in, e));
    if (!opts.json || inputs.skips(in, e)) return;
    json j{{"file", printable(in.name)}, {"error", error_json(e)}};
    if (opts.jsonl)
      print_document(std::cout, JsonWriter::Style::line, j);
    else
      all.push_back(std::move(j));
  };
  for (const auto& in : inputs.files()) {
    auto file = MappedFile::open(in.path);
    if (!file) {
      refuse(in, file.error());
      continue;
    }
    const auto image = pe::Image::parse(file->bytes());
    // A file that is not a PE image is unusable input, not a verdict ("both refuse it" is for broken PEs).
    if (!image && not_a_pe_image(image.error())) {
      refuse(in, image.error());
      continue;
    }
    const Facts ours = facts_from_pemap(image);
    const Facts lief = facts_from_lief(in.path);
    const auto findings = compare(ours, lief);
    const bool bad = std::any_of(findings.begin(), findings.end(),
                                 [](const Finding& f) { return f.kind == Finding::Kind::disagreement; });
    bad ? ++disagreed : ++agreed;
    // Both parsers may agree on a cut file, but not on what the whole file holds.
    json warned{{"warnings", json::array()}};
    if (image && image->truncation()) warned["warnings"].push_back(error_json(*image->truncation()));
    if (bad || !warned["warnings"].empty()) rc = std::max<int>(rc, exit_findings);
    if (opts.json) {
      json list = json::array();
      for (const auto& f : findings)
        list.push_back({{"kind", kind_name(f.kind)}, {"area", f.area}, {"message", f.message}});
      json j{{"file", printable(in.name)}, {"agree", !bad}, {"findings", std::move(list)}};
      if (!warned["warnings"].empty()) j["warnings"] = warned["warnings"];
      if (!ours.error.empty()) j["pemap_error"] = printable(ours.error);
      if (!lief.error.empty()) j["lief_error"] = printable(lief.error);
      // --jsonl: a line per file as it is checked, and no totals (a pipeline counts them).
      if (opts.jsonl)
        print_document(std::cout, JsonWriter::Style::line, j);
      else
        all.push_back(std::move(j));
      report_warnings(in.name, warning_texts(warned));
      continue;
    }
    std::string status = bad ? "DISAGREE" : "agree";
    if (!ours.error.empty() && !lief.error.empty()) status += " (both refuse it)";
    std::cout << fmt::format("{}: {}\n", printable(in.name), status);
    for (const auto& f : findings) std::cout << fmt::format("  {} [{}] {}\n", kind_name(f.kind), f.area, f.message);
    report_warnings(in.name, warning_texts(warned));
  }
  if (opts.json) {
    if (!opts.jsonl)
      print_document(std::cout, JsonWriter::Style::pretty,
                     json{{"files", std::move(all)}, {"agree", agreed}, {"disagree", disagreed}});
  } else if (inputs.many() && agreed + disagreed > 0) {
    std::cout << fmt::format("{} files: {} agree, {} disagree\n", agreed + disagreed, agreed, disagreed);
  }
  return std::max(rc, inputs.finish());
}

}  // namespace pemap::inspect
