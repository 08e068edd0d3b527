// `pemap verify`: our parse against LIEF's, file by file.
#include <iostream>

#include <fmt/format.h>

#include "commands.hpp"
#include "json_text.hpp"
#include "mapped_file.hpp"
#include "model.hpp"
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
  // --json: {"files": [...], "agree", "disagree"}; --jsonl: a line per file as it is checked, and no totals (a
  // pipeline counts them).
  std::optional<JsonDocuments> docs;
  if (opts.json) docs.emplace(std::cout, json_style(opts.jsonl), JsonDocuments::Shape::files);
  size_t agreed = 0, disagreed = 0;
  for (const auto& in : inputs.files()) {
    auto file = MappedFile::open(in.path);
    const auto image = file ? pe::Image::parse(file->bytes()) : Result<pe::Image>(file.error());
    // A file that is not a PE image is unusable input, not a verdict ("both refuse it" is for broken PEs).
    if (!file || (!image && not_a_pe_image(image.error()))) {
      const Error& e = image.error();
      rc = std::max(rc, inputs.refuse(in, e));
      if (docs && !inputs.skips(in, e)) {
        print_error(docs->begin(printable(in.name)), "error", e);
        docs->end();
      }
      continue;
    }
    const Facts ours = facts_from_pemap(image);
    const Facts lief = facts_from_lief(in.path);
    const auto findings = compare(ours, lief);
    const bool bad = std::any_of(findings.begin(), findings.end(),
                                 [](const Finding& f) { return f.kind == Finding::Kind::disagreement; });
    bad ? ++disagreed : ++agreed;
    // Both parsers may agree on a cut file, but not on what the whole file holds.
    Warnings w;
    if (image && image->truncation()) w.add(*image->truncation());
    if (bad || !w.empty()) rc = std::max<int>(rc, exit_findings);
    if (docs) {
      Printer& p = docs->begin(printable(in.name));
      p.field("agree", !bad);
      p.begin_array("findings");
      for (const auto& f : findings)
        p.record(
            {}, {Field::word("kind", kind_name(f.kind)), Field::str("area", f.area), Field::str("message", f.message)});
      p.end_array();
      w.print(p);
      if (!ours.error.empty()) p.field("pemap_error", printable(ours.error));
      if (!lief.error.empty()) p.field("lief_error", printable(lief.error));
      docs->end();
    } else {
      std::string status = bad ? "DISAGREE" : "agree";
      if (!ours.error.empty() && !lief.error.empty()) status += " (both refuse it)";
      std::cout << fmt::format("{}: {}\n", printable(in.name), status);
      for (const auto& f : findings) std::cout << fmt::format("  {} [{}] {}\n", kind_name(f.kind), f.area, f.message);
    }
    report_warnings(in.name, w.texts());
  }
  if (docs) {
    docs->finish([&](Printer& p) {
      p.field("agree", agreed);
      p.field("disagree", disagreed);
    });
  } else if (inputs.many() && agreed + disagreed > 0) {
    std::cout << fmt::format("{} files: {} agree, {} disagree\n", agreed + disagreed, agreed, disagreed);
  }
  return std::max(rc, inputs.finish());
}

}  // namespace pemap::inspect
