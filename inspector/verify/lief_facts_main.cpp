// pemap-lief: LIEF 0.9's facts about one file, as JSON on stdout. `pemap verify` runs it as a child
// process, so a crash or hang in LIEF is reported rather than inherited, and so pemap itself does not
// link libLIEF (whose start-up costs more than inspecting most files).
#include <iostream>
#include <memory>
#include <string>

#include <LIEF/PE.hpp>
#include <LIEF/utils.hpp>
#include <nlohmann/json.hpp>

#include "json_text.hpp"
#include "verify/facts.hpp"

namespace {

using pemap::inspect::Facts;
using pemap::inspect::printable;

Facts gather(const std::string& path) {
  Facts f;
  try {
    std::unique_ptr<LIEF::PE::Binary> b = LIEF::PE::Parser::parse(path);
    if (!b) {
      f.error = "LIEF returned no binary";
      return f;
    }
    f.image_base = b->optional_header().imagebase();
    f.entry_point = b->optional_header().addressof_entrypoint();
    for (const auto& s : b->sections())
      f.sections.push_back({printable(s.name()),
                            {},
                            static_cast<uint32_t>(s.virtual_address()),
                            s.virtual_size(),
                            s.pointerto_raw_data(),
                            s.sizeof_raw_data(),
                            s.characteristics()});
    // LIEF 0.9 raises has_imports() and friends only when a whole table parsed; what it did read before
    // stopping is still in the lists, and that is what it states about the file.
    for (const auto& r : b->relocations())
      for (const auto& e : r.entries())
        f.relocs.push_back(
            {static_cast<uint32_t>(r.virtual_address() + (e.data() & 0xfffu)), static_cast<uint8_t>(e.data() >> 12)});
    for (const auto& im : b->imports()) {
      Facts::Module m{printable(im.name()), {}};
      for (const auto& e : im.entries()) {
        const bool ord = e.is_ordinal();
        m.entries.push_back({ord ? std::string() : printable(e.name()), ord, ord ? e.ordinal() : uint16_t{0},
                             ord ? uint16_t{0} : e.hint(), static_cast<uint32_t>(e.iat_address())});
      }
      f.imports.push_back(std::move(m));
    }
    if (b->has_exports())
      for (const auto& e : b->get_export().entries())
        f.exports.push_back({e.ordinal(), e.address(), printable(e.name()), {}});
    if (b->has_tls()) f.tls_callbacks = b->tls().callbacks();
    if (b->has_configuration()) f.security_cookie = b->load_configuration().security_cookie();
    if (b->has_resources()) {
      // Three levels under the root, as pemap lists them: type, name, language (a data node).
      const auto key = [](const LIEF::PE::ResourceNode& n) {
        pemap::pe::ResourceKey k;
        k.named = n.has_name();
        if (k.named)
          k.name = LIEF::u16tou8(n.name());
        else
          k.id = n.id();
        return k;
      };
      for (const auto& type : b->resources().childs())
        for (const auto& name : type.childs())
          for (const auto& lang : name.childs()) {
            if (!lang.is_data()) continue;
            const auto& data = static_cast<const LIEF::PE::ResourceData&>(lang);
            pemap::pe::ResourceEntry e{key(type), key(name), key(lang)};
            e.size = static_cast<uint32_t>(data.content().size());
            e.code_page = data.code_page();
            const auto& bytes = data.content();
            f.resources.push_back(
                pemap::inspect::resource_fact(e, std::as_bytes(std::span(bytes.data(), bytes.size()))));
          }
    }
    if (b->has_rich_header()) {
      f.rich_key = b->rich_header().key();
      for (const auto& e : b->rich_header().entries()) f.rich_entries.push_back({e.id(), e.build_id(), e.count()});
    }
    f.signed_ = b->has_signature();
  } catch (const std::exception& e) {
    f = Facts{};
    f.error = std::string("LIEF threw: ") + e.what();
  }
  return f;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: pemap-lief FILE   (run by `pemap verify`)\n";
    return 2;
  }
  const nlohmann::json j = gather(argv[1]);
  std::cout << j.dump();
  std::cout.flush();
  return std::cout ? 0 : 3;
}
