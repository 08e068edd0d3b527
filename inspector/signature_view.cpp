// The signature command.
#include "signature_view.hpp"

#include <fmt/format.h>

#include <iostream>
#include <optional>

#include "analysis/authenticode.hpp"
#include "json_text.hpp"
#include "pe/certificates.hpp"
#include "table.hpp"

namespace pemap::inspect {
namespace {

std::string_view type_name(uint16_t type) {
  switch (type) {
    case 1:
      return "X509";
    case 2:
      return "PKCS_SIGNED_DATA";
    case 3:
      return "RESERVED_1";
    case 4:
      return "TS_STACK_SIGNED";
    default:
      return "unknown";
  }
}

void print_signature(Printer& p, const analysis::Signature& s, const std::string& trust_store) {
  p.field("content_type", s.content_type);
  p.field("digest_algorithm", s.digest_algorithm);
  p.field("signed_digest", s.signed_digest);
  p.field("computed_digest", s.computed_digest);
  p.field("digest", s.digest_matches ? "matches" : "does not match");
  p.field("signature_valid", s.signature_valid);
  if (!s.signature_valid) p.field("signature_error", printable(s.signature_error));
  if (!s.trusted)
    p.field("trust", "not checked");
  else
    p.field("trust", *s.trusted ? "trusted" : "not trusted");
  if (s.trusted && !*s.trusted) p.field("trust_error", printable(s.trust_error));
  if (s.trusted) p.field("trust_store", printable(trust_store));
  p.begin_array("signers");
  for (const auto& si : s.signers) {
    p.begin_object();
    p.field("subject", printable(si.subject));
    p.field("issuer", printable(si.issuer));
    p.field("serial", si.serial);
    p.field("digest_algorithm", si.digest_algorithm);
    if (si.signing_time)
      p.field("signing_time", *si.signing_time);
    else
      p.field("signing_time", nullptr);
    p.end_object();
  }
  p.end_array();
  p.begin_array("certificates");
  for (const auto& c : s.certificates) {
    p.begin_object();
    p.field("subject", printable(c.subject));
    p.field("issuer", printable(c.issuer));
    p.field("serial", c.serial);
    p.field("not_before", c.not_before);
    p.field("not_after", c.not_after);
    p.end_object();
  }
  p.end_array();
}

Result<int> report(const std::string& path, const std::function<Printer&()>& open, Warnings& w,
                   const analysis::TrustStore* trust) {
  auto opened = open_image(path);
  if (!opened) return opened.take_error();
  const pe::Image& image = opened->image;
  auto table = pe::parse_certificate_table(image);
  if (!table) return table.take_error();
  w.add(table->warnings);
  Printer& p = open();
  p.field("present", table->present);
  if (!table->present) return int(exit_ok);
  p.field("offset", table->offset);
  p.field("size", table->size);
  p.begin_array("entries");
  int rc = exit_ok;
  for (const auto& e : table->entries) {
    p.begin_object();
    p.field("offset", e.offset);
    p.field("length", e.length);
    p.field("revision", e.revision);
    p.field("type", e.type);
    p.field("type_name", type_name(e.type));
    auto sig = analysis::read_signature(image, e, trust);
    if (!sig) {
      w.add(sig.error());
      rc = exit_findings;
    } else {
      p.begin_object("signature");
      print_signature(p, *sig, trust ? trust->path() : std::string());
      p.end_object();
      const auto finding = [&](std::string message) {
        w.add(make_error(Status::success, "Authenticode signature", Location::offset(e.offset), std::move(message)));
        rc = exit_findings;
      };
      if (!sig->digest_matches)
        finding(
            fmt::format("the image digest does not match: signed {} {}, this file's {}; the file changed after "
                        "it was signed",
                        sig->digest_algorithm, sig->signed_digest, sig->computed_digest));
      if (!sig->signature_valid) finding("the signature does not verify: " + sig->signature_error);
      if (sig->trusted && !*sig->trusted)
        finding("the signer's chain does not lead to the trust store: " + sig->trust_error);
    }
    p.end_object();
  }
  p.end_array();
  return rc;
}

std::string render(const std::string& path, const json& d, bool many) {
  std::string out = many ? "== " + path + "\n" : std::string();
  if (!d["present"].get<bool>()) return out + "  no certificate table: the file is not signed\n";
  const auto line = [](std::string_view k, const std::string& v) { return fmt::format("  {:<24} {}\n", k, v); };
  const auto str = [](const json& v) { return v.is_string() ? v.get<std::string>() : v.dump(); };
  out += fmt::format("Certificate table (file offset {:#x}, {:#x} bytes): {} entries\n", d["offset"].get<uint64_t>(),
                     d["size"].get<uint64_t>(), d["entries"].size());
  Table t({{"#", Table::Align::right},
           {"Offset", Table::Align::right},
           {"Length", Table::Align::right},
           {"Revision", Table::Align::right},
           {"Type"}});
  int i = 0;
  for (const auto& e : d["entries"])
    t.add({std::to_string(i++), fmt::format("{:#x}", e["offset"].get<uint64_t>()),
           fmt::format("{:#x}", e["length"].get<uint64_t>()), fmt::format("{:#06x}", e["revision"].get<uint64_t>()),
           str(e["type_name"])});
  out += t.render();
  i = 0;
  for (const auto& e : d["entries"]) {
    const int n = i++;
    if (!e.contains("signature")) continue;
    const auto& s = e["signature"];
    out += fmt::format("Signature {} (Authenticode, PKCS#7 SignedData)\n", n);
    out += line("Image digest (" + str(s["digest_algorithm"]) + ")", str(s["digest"]));
    out += line("  signed", str(s["signed_digest"]));
    out += line("  computed", str(s["computed_digest"]));
    out += line("Signature", s["signature_valid"].get<bool>() ? "valid: the signer's key signed this content"
                                                              : "does not verify: " + str(s["signature_error"]));
    std::string trust = "not checked: no trust store given (--trust-store FILE)";
    if (str(s["trust"]) == "trusted") trust = "trusted: the chain leads to " + str(s["trust_store"]);
    if (str(s["trust"]) == "not trusted")
      trust = "not trusted by " + str(s["trust_store"]) + ": " + str(s["trust_error"]);
    out += line("Trust", trust);
    for (const auto& si : s["signers"]) {
      out += line("Signer", si["subject"].get<std::string>().empty() ? str(si["issuer"]) : str(si["subject"]));
      out += line("  serial", str(si["serial"]) + ", issued by " + str(si["issuer"]));
      out +=
          line("  signed attributes", str(si["digest_algorithm"]) +
                                          (si["signing_time"].is_null() ? "" : ", signed " + str(si["signing_time"])));
    }
    for (const auto& c : s["certificates"]) {
      out += line("Certificate", str(c["subject"]));
      out += line("  issued by", str(c["issuer"]) + ", serial " + str(c["serial"]));
      out += line("  valid", str(c["not_before"]) + " to " + str(c["not_after"]));
    }
  }
  return out;
}

}  // namespace

int run_signature(const CommonOptions& opts, const std::string& trust_store) {
  std::optional<analysis::TrustStore> trust;
  if (!trust_store.empty()) {
    auto loaded = analysis::TrustStore::load(trust_store);
    if (!loaded) {
      std::cerr << "pemap signature: " << loaded.error().to_string() << "\n";
      return exit_unusable;
    }
    trust.emplace(std::move(*loaded));
  }
  return print_each_file(
      opts,
      [&](const std::string& path, const std::function<Printer&()>& open, Warnings& w) {
        return report(path, open, w, trust ? &*trust : nullptr);
      },
      render);
}

}  // namespace pemap::inspect
