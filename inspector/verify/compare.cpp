// Comparing our facts with LIEF's: every difference is a finding; LIEF 0.9's documented gaps are labelled as such.
#include <algorithm>
#include <map>

#include <fmt/format.h>

#include "json_text.hpp"
#include "verify/facts.hpp"

namespace pemap::inspect {
namespace {

struct Findings {
  std::vector<Finding> list;
  void disagree(std::string area, std::string msg) {
    list.push_back({Finding::Kind::disagreement, std::move(area), std::move(msg)});
  }
  void lief_gap(std::string area, std::string msg) {
    list.push_back({Finding::Kind::lief_limitation, std::move(area), std::move(msg)});
  }
  void stricter(std::string area, std::string msg) {
    list.push_back({Finding::Kind::stricter, std::move(area), std::move(msg)});
  }
};

// Names are already printable; long ones are cut so one hostile name cannot flood the report.
std::string q(const std::string& s) { return "'" + (s.size() > 60 ? s.substr(0, 57) + "..." : s) + "'"; }

void compare_sections(const Facts& a, const Facts& b, Findings& out) {
  if (a.sections.size() != b.sections.size()) {
    out.disagree("sections", fmt::format("pemap sees {} sections, LIEF {}", a.sections.size(), b.sections.size()));
    return;
  }
  for (size_t i = 0; i < a.sections.size(); ++i) {
    const auto &x = a.sections[i], &y = b.sections[i];
    if (x.name != y.name && y.name == x.header_name)
      out.lief_gap("sections",
                   fmt::format("LIEF 0.9 does not resolve long section names: {} is {}", q(y.name), q(x.name)));
    else if (x.name != y.name)
      out.disagree("sections", fmt::format("section #{} name: pemap {}, LIEF {}", i, q(x.name), q(y.name)));
    auto field = [&](const char* what, uint32_t u, uint32_t v) {
      if (u != v)
        out.disagree("sections", fmt::format("section #{} {} {}: pemap {:#x}, LIEF {:#x}", i, q(x.name), what, u, v));
    };
    field("VirtualAddress", x.va, y.va);
    field("VirtualSize", x.vsize, y.vsize);
    field("PointerToRawData", x.raw_pointer, y.raw_pointer);
    field("SizeOfRawData", x.raw_size, y.raw_size);
    field("Characteristics", x.characteristics, y.characteristics);
  }
}

bool same_relocs(const Facts::Reloc& x, const Facts::Reloc& y) { return x.rva == y.rva && x.type == y.type; }

void compare_relocs(const Facts& a, const Facts& b, Findings& out) {
  if (a.relocs.size() == b.relocs.size() && std::equal(a.relocs.begin(), a.relocs.end(), b.relocs.begin(), same_relocs))
    return;
  if (a.data_directories <= 5 && a.relocs.empty())
    return out.lief_gap("relocations", fmt::format("LIEF 0.9 reads all 16 data directories; this header has {}, "
                                                   "so the loader sees no relocation directory ({} LIEF entries)",
                                                   a.data_directories, b.relocs.size()));
  if (a.relocs_lief_skips && b.relocs.empty())
    return out.lief_gap("relocations",
                        "LIEF 0.9 parses relocations only when a section's raw data holds the "
                        "directory's file offset; here none does (sectionless or flat image)");
  if (a.relocs_lief_reads_other_bytes)
    return out.lief_gap("relocations",
                        "LIEF 0.9 maps the relocation directory's RVA to other file bytes than "
                        "Windows maps there (no 512-byte rounding, no mapped headers, no zero fill)");
  if (a.relocs_zero_page_at >= 0 && b.relocs.size() == static_cast<size_t>(a.relocs_zero_page_at) &&
      std::equal(b.relocs.begin(), b.relocs.end(), a.relocs.begin(), same_relocs))
    return out.lief_gap("relocations", fmt::format("LIEF 0.9 stops at a block for page RVA 0 (flat images have "
                                                   "one); {} entries from there on",
                                                   a.relocs.size() - b.relocs.size()));
  const bool lief_prefix =
      b.relocs.size() < a.relocs.size() && std::equal(b.relocs.begin(), b.relocs.end(), a.relocs.begin(), same_relocs);
  if (a.relocs_irregular && lief_prefix)
    return out.lief_gap("relocations", fmt::format("LIEF 0.9 drops the blocks from a malformed one on ({} of {} "
                                                   "entries kept); pemap walks on as the loader does, with a warning",
                                                   b.relocs.size(), a.relocs.size()));
  const size_t n = std::min(a.relocs.size(), b.relocs.size());
  size_t shown = 0;
  for (size_t i = 0; i < n && shown < 20; ++i)
    if (a.relocs[i].rva != b.relocs[i].rva || a.relocs[i].type != b.relocs[i].type) {
      out.disagree("relocations", fmt::format("entry #{}: pemap RVA {:#x} type {}, LIEF RVA {:#x} type {}", i,
                                              a.relocs[i].rva, a.relocs[i].type, b.relocs[i].rva, b.relocs[i].type));
      ++shown;
    }
  if (a.relocs.size() != b.relocs.size())
    out.disagree("relocations", fmt::format("pemap sees {} entries, LIEF {}", a.relocs.size(), b.relocs.size()));
}

void compare_entries(const Facts::Module& x, const Facts::Module& y, Findings& out) {
  if (x.entries.size() != y.entries.size())
    out.disagree("imports",
                 fmt::format("{}: pemap sees {} functions, LIEF {}", q(x.dll), x.entries.size(), y.entries.size()));
  auto label = [](const Facts::Import& imp) {
    return imp.by_ordinal ? fmt::format("#{}", imp.ordinal) : fmt::format("{} (hint {})", q(imp.name), imp.hint);
  };
  size_t shown = 0;
  for (size_t k = 0; k < std::min(x.entries.size(), y.entries.size()) && shown < 20; ++k) {
    const auto &e = x.entries[k], &f = y.entries[k];
    if (e.by_ordinal != f.by_ordinal || e.ordinal != f.ordinal || e.name != f.name || e.hint != f.hint ||
        e.iat_rva != f.iat_rva) {
      out.disagree("imports", fmt::format("{} entry #{}: pemap {} IAT {:#x}, LIEF {} IAT {:#x}", q(x.dll), k, label(e),
                                          e.iat_rva, label(f), f.iat_rva));
      ++shown;
    }
  }
}

// Modules LIEF cannot see as Windows does (its RVA mapping reads other bytes, or it skips the name)
// are explained one by one; every other module must match a LIEF module of the same name, in order.
void compare_imports(const Facts& ours, const Facts& b, Findings& out) {
  if (ours.data_directories <= 1 && ours.imports.empty() && !b.imports.empty())
    return out.lief_gap(
        "imports", fmt::format("LIEF 0.9 reads all 16 data directories; this header has {}", ours.data_directories));
  size_t skipped = 0;
  std::string other_bytes;
  std::vector<std::string> lief_only;
  size_t cursor = 0;
  for (const auto& m : ours.imports) {
    if (m.lief_skips_name) {
      ++skipped;
      continue;
    }
    if (m.lief_reads_other_bytes) {
      other_bytes += (other_bytes.empty() ? "" : ", ") + q(m.dll);
      continue;
    }
    size_t at = cursor;
    while (at < b.imports.size() && b.imports[at].dll != m.dll) ++at;
    if (at == b.imports.size()) {
      out.disagree("imports", fmt::format("module {} is missing in LIEF", q(m.dll)));
      continue;
    }
    compare_entries(m, b.imports[at], out);
    for (size_t k = cursor; k < at; ++k) lief_only.push_back(b.imports[k].dll);
    cursor = at + 1;
  }
  for (size_t k = cursor; k < b.imports.size(); ++k) lief_only.push_back(b.imports[k].dll);
  // A module LIEF read from other bytes can come out under another name; without that, an extra one is real.
  if (other_bytes.empty())
    for (const auto& dll : lief_only)
      out.disagree("imports", fmt::format("LIEF lists module {}, pemap does not", q(dll)));
  if (skipped)
    out.lief_gap("imports", fmt::format("LIEF 0.9 skips modules whose name is shorter than 4 characters or not "
                                        "printable ({} here)",
                                        skipped));
  if (!other_bytes.empty())
    out.lief_gap("imports", "LIEF 0.9 maps the RVAs of " + other_bytes +
                                " to other file bytes than Windows maps there (no 512-byte rounding, no mapped "
                                "headers, no zero fill, VirtualSize 0 never matches)");
}

void compare_exports(const Facts& a, const Facts& b, Findings& out) {
  if (a.exports_lief_reads_other_bytes && (a.exports.size() != b.exports.size() || !a.exports.empty()))
    return out.lief_gap("exports", "LIEF 0.9 maps the export tables' RVAs to other file bytes than Windows maps there");
  // Keyed by (16-bit ordinal, name): LIEF keeps ordinals in 16 bits, and one address may carry several names.
  std::multimap<uint32_t, const Facts::Export*> lief;
  for (const auto& e : b.exports) lief.emplace(e.ordinal & 0xffffu, &e);
  size_t noname_missing = 0, fwd_plain = 0, wide = 0;
  std::vector<std::string> forwarders;
  for (const auto& e : a.exports) {
    if (!e.forwarder.empty()) forwarders.push_back(e.forwarder);
    if (e.ordinal > 0xffff) ++wide;
    auto [lo, hi] = lief.equal_range(e.ordinal & 0xffffu);
    auto it = std::find_if(lo, hi, [&](const auto& p) { return p.second->name == e.name; });
    if (it == hi && !e.forwarder.empty())  // LIEF 0.9 may name the entry after the forwarder string
      it = std::find_if(lo, hi, [&](const auto& p) { return p.second->name == e.forwarder; });
    if (it == hi) {
      if (e.name.empty())
        ++noname_missing;
      else
        out.disagree("exports", fmt::format("ordinal {} {} is missing in LIEF", e.ordinal, q(e.name)));
      continue;
    }
    if (!e.forwarder.empty()) {
      ++fwd_plain;  // LIEF 0.9 keeps the forwarder string's RVA as if it were code
    } else if (it->second->rva != e.rva) {
      out.disagree("exports", fmt::format("ordinal {} {}: pemap RVA {:#x}, LIEF {:#x}", e.ordinal, q(e.name), e.rva,
                                          it->second->rva));
    }
    lief.erase(it);
  }
  size_t fake = 0;
  for (const auto& [ord, e] : lief) {
    if (e->rva == 0 && std::find(forwarders.begin(), forwarders.end(), e->name) != forwarders.end()) {
      ++fake;
      continue;
    }
    out.disagree("exports", fmt::format("LIEF lists ordinal {} {} at {:#x}, pemap does not", ord, q(e->name), e->rva));
  }
  if (fake)
    out.lief_gap("exports", fmt::format("LIEF 0.9 adds an entry named after each forwarder string, at address 0 "
                                        "({} here)",
                                        fake));
  if (wide)
    out.lief_gap("exports", fmt::format("LIEF 0.9 keeps ordinals in 16 bits; {} ordinals here are wider "
                                        "(the first is {:#x})",
                                        wide, a.exports.front().ordinal));
  if (noname_missing)
    out.lief_gap("exports", fmt::format("LIEF 0.9 drops exports without a name ({} here)", noname_missing));
  if (fwd_plain)
    out.lief_gap("exports", fmt::format("LIEF 0.9 shows forwarders as plain exports ({} here)", fwd_plain));
}

}  // namespace

std::vector<Finding> compare(const Facts& a, const Facts& b) {
  Findings out;
  if (!a.error.empty() || !b.error.empty()) {
    if (!a.error.empty() && b.error.empty() && a.refused_by_header_rule)
      out.stricter("parse",
                   fmt::format("pemap refuses the headers as Windows 7 and later do ({}); LIEF 0.9 reads on", a.error));
    else if (a.error.empty() != b.error.empty())
      out.disagree("parse", fmt::format("pemap: {}; LIEF: {}", a.error.empty() ? "parsed" : a.error,
                                        b.error.empty() ? "parsed" : b.error));
    return out.list;
  }
  if (a.image_base != b.image_base)
    out.disagree("headers", fmt::format("ImageBase: pemap {:#x}, LIEF {:#x}", a.image_base, b.image_base));
  if (a.entry_point != b.entry_point)
    out.disagree("headers", fmt::format("AddressOfEntryPoint: pemap {:#x}, LIEF {:#x}", a.entry_point, b.entry_point));
  compare_sections(a, b, out);
  compare_relocs(a, b, out);
  compare_imports(a, b, out);
  compare_exports(a, b, out);
  if (a.tls_callbacks != b.tls_callbacks && a.tls_lief_skips && b.tls_callbacks.empty())
    out.lief_gap("tls",
                 "LIEF 0.9 parses TLS only when a section's raw data holds the directory's file offset; "
                 "here none does");
  else if (a.tls_callbacks != b.tls_callbacks && a.tls_lief_reads_other_bytes)
    out.lief_gap("tls",
                 "LIEF 0.9 maps the TLS directory or callback array to other file bytes than Windows maps there");
  else if (a.tls_callbacks != b.tls_callbacks)
    out.disagree("tls", fmt::format("pemap sees {} callbacks, LIEF {} (or different addresses)", a.tls_callbacks.size(),
                                    b.tls_callbacks.size()));
  if (a.security_cookie && b.security_cookie && *a.security_cookie != *b.security_cookie) {
    if ((*a.security_cookie & 0xffffffffu) == *b.security_cookie)
      out.lief_gap("load config",
                   fmt::format("LIEF 0.9 truncates the 64-bit security cookie {:#x} to 32 bits", *a.security_cookie));
    else
      out.disagree("load config",
                   fmt::format("SecurityCookie: pemap {:#x}, LIEF {:#x}", *a.security_cookie, *b.security_cookie));
  }
  if (a.resources != b.resources && a.resources.size() == b.resources.size() && a.resources_lief_reads_other_bytes) {
    out.lief_gap("resources",
                 "LIEF 0.9 reads a resource's bytes where its offset arithmetic puts them, not where Windows maps "
                 "them (past a section's raw data Windows maps zeros)");
  } else if (a.resources != b.resources) {
    size_t k = 0;
    while (k < a.resources.size() && k < b.resources.size() && a.resources[k] == b.resources[k]) ++k;
    out.disagree("resources", fmt::format("pemap lists {} entries, LIEF {}; the first difference, entry {}: pemap {}, "
                                          "LIEF {}",
                                          a.resources.size(), b.resources.size(), k,
                                          k < a.resources.size() ? q(a.resources[k]) : "none",
                                          k < b.resources.size() ? q(b.resources[k]) : "none"));
  }
  // LIEF 0.9 keeps the Rich entries in reverse order (the entries, not their order, are the fact) and reads the
  // zero padding after "DanS" as one more entry, (0, 0, 0).
  auto rich_a = a.rich_entries, rich_b = b.rich_entries;
  std::sort(rich_a.begin(), rich_a.end());
  std::sort(rich_b.begin(), rich_b.end());
  const Facts::RichEntry zero{};
  if (rich_b.size() == rich_a.size() + 1 && !rich_b.empty() && rich_b.front() == zero &&
      std::find(rich_a.begin(), rich_a.end(), zero) == rich_a.end()) {
    rich_b.erase(rich_b.begin());
    if (a.rich_key == b.rich_key && rich_a == rich_b)
      out.lief_gap("rich header", "LIEF 0.9 reads the zero padding after \"DanS\" as one more entry, (0, 0, 0)");
  }
  if (a.rich_key != b.rich_key || rich_a != rich_b)
    out.disagree("rich header",
                 fmt::format("pemap: {}, LIEF: {}",
                             a.rich_key ? fmt::format("key {:#x}, {} entries", *a.rich_key, a.rich_entries.size())
                                        : std::string("none"),
                             b.rich_key ? fmt::format("key {:#x}, {} entries", *b.rich_key, b.rich_entries.size())
                                        : std::string("none")));
  if (a.signed_ != b.signed_)
    out.disagree("signature", fmt::format("pemap finds {} PKCS#7 signature, LIEF {}", a.signed_ ? "a" : "no",
                                          b.signed_ ? "one" : "none"));
  if (a.delay_import_modules)
    out.lief_gap("delay imports",
                 fmt::format("LIEF 0.9 does not parse delay-load imports ({} modules here)", a.delay_import_modules));
  return out.list;
}

}  // namespace pemap::inspect
