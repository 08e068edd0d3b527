// pemap apiset: one printer for the schema, whichever its source.
#include "apiset_command.hpp"

#include <iostream>

#include <fmt/format.h>

#include "json_text.hpp"
#include "process/apiset.hpp"
#include "process/process.hpp"
#include "table.hpp"

namespace pemap::inspect {
namespace {

void print_schema(const ldr::ApiSetSchema& schema, Printer& p) {
  p.field("source", printable(schema.source()));
  p.field("contracts", schema.size());
  p.begin_array("entries");
  for (const auto& [key, c] : schema.contracts()) {
    p.begin_object();
    p.field("name", printable(c.entry));
    p.field("host", printable(c.host));
    p.begin_array("exceptions");
    for (const auto& [importer, host] : c.except)
      p.record({}, {Field::str("importer", printable(importer)), Field::str("host", printable(host))});
    p.end_array();
    p.end_object();
  }
  p.end_array();
}

std::string render(const json& d) {
  std::string out = fmt::format("API-set schema: {} ({} contracts)\n", d["source"].get<std::string>(),
                                d["contracts"].get<uint64_t>());
  Table t({{"Contract"}, {"Host"}, {"Exceptions (importer: host)"}});
  for (const auto& e : d["entries"]) {
    std::string except;
    for (const auto& x : e["exceptions"])
      except += fmt::format("{}{}: {}", except.empty() ? "" : ", ", x["importer"].get<std::string>(),
                            x["host"].get<std::string>());
    const std::string host = e["host"].get<std::string>();
    t.add({e["name"].get<std::string>(), host.empty() ? "(none)" : host, except});
  }
  return out + t.render();
}

}  // namespace

int run_apiset(const ApiSetOptions& opts) {
  ldr::LoadOptions load;
  if (opts.file.empty()) {
    if (auto searched = apply_search(opts.search, load, WineDefault::yes); !searched) {
      std::cerr << "pemap apiset: " << searched.error().to_string() << "\n";
      return exit_unusable;
    }
  } else {
    auto schema = ldr::ApiSetSchema::read_dll(opts.file);
    if (!schema) {
      std::cerr << "pemap: " << printable(opts.file) << ": " << schema.error().to_string() << "\n";
      return exit_unusable;
    }
    load.api_sets = std::move(*schema);
  }
  if (opts.json) {
    JsonDocuments docs(std::cout, json_style(opts.jsonl), false);
    print_schema(load.api_sets, docs.begin());
    docs.end();
    return exit_ok;
  }
  TreeBuilder tree;
  print_schema(load.api_sets, tree);
  std::cout << render(tree.document());
  return exit_ok;
}

}  // namespace pemap::inspect
