// Reading a manifest with libxml2.
#include "analysis/manifest.hpp"

#include <libxml/parser.h>
#include <libxml/tree.h>

#include <cstring>
#include <memory>

#include <fmt/format.h>

#include "analysis/shared_library.hpp"
#include "pe/utf16.hpp"

namespace pemap::analysis {
namespace {

// libxml2's functions, opened at the first manifest (it brings ICU, which costs every process that links it).
struct LibXml2 {
  decltype(&::xmlReadMemory) read_memory = nullptr;
  decltype(&::xmlFreeDoc) free_doc = nullptr;
  decltype(&::xmlGetLastError) last_error = nullptr;
  decltype(&::xmlResetLastError) reset_last_error = nullptr;
  decltype(&::xmlDocGetRootElement) root = nullptr;
};

const Result<LibXml2>& libxml2() {
  static const Result<LibXml2> loaded = []() -> Result<LibXml2> {
    auto lib = SharedLibrary::open("libxml2.so.2");
    if (!lib) return lib.take_error();
    LibXml2 x;
    for (auto e : {lib->bind("xmlReadMemory", x.read_memory), lib->bind("xmlFreeDoc", x.free_doc),
                   lib->bind("xmlGetLastError", x.last_error), lib->bind("xmlResetLastError", x.reset_last_error),
                   lib->bind("xmlDocGetRootElement", x.root)})
      if (e) return *e;
    return x;
  }();
  return loaded;
}

// An attribute's value, read from the tree itself (its text children), so that nothing needs xmlFree.
std::optional<std::string> property(xmlNode* node, const char* name) {
  for (xmlAttr* a = node->properties; a; a = a->next) {
    if (std::strcmp(reinterpret_cast<const char*>(a->name), name) != 0) continue;
    std::string out;
    for (xmlNode* c = a->children; c; c = c->next)
      if (c->content) out += reinterpret_cast<const char*>(c->content);
    return out;
  }
  return std::nullopt;
}

std::string attribute(xmlNode* node, const char* name) { return property(node, name).value_or(std::string()); }

bool named(xmlNode* node, const char* name) {
  return node->type == XML_ELEMENT_NODE && std::strcmp(reinterpret_cast<const char*>(node->name), name) == 0;
}

// Manifests are a few levels deep; a deeper document is walked no further than this.
constexpr int kMaxDepth = 64;

void walk(xmlNode* node, Manifest& out, int depth) {
  if (depth > kMaxDepth) return;
  for (; node; node = node->next) {
    if (named(node, "requestedExecutionLevel")) {
      out.execution_level = attribute(node, "level");
      out.ui_access = property(node, "uiAccess");
    } else if (named(node, "dependentAssembly")) {
      for (xmlNode* c = node->children; c; c = c->next)
        if (named(c, "assemblyIdentity"))
          out.dependencies.push_back({attribute(c, "name"), attribute(c, "version"),
                                      attribute(c, "processorArchitecture"), attribute(c, "publicKeyToken"),
                                      attribute(c, "type")});
    }
    walk(node->children, out, depth + 1);
  }
}

}  // namespace

Manifest read_manifest(Bytes data, uint64_t rva) {
  Manifest out;
  const auto starts = [&](std::initializer_list<unsigned> bom) {
    if (data.size() < bom.size()) return false;
    size_t i = 0;
    for (unsigned b : bom)
      if (std::to_integer<unsigned>(data[i++]) != b) return false;
    return true;
  };
  if (starts({0xFF, 0xFE}))
    out.text = pe::utf16_to_utf8(data.subspan(2));
  else
    out.text = as_chars(starts({0xEF, 0xBB, 0xBF}) ? data.subspan(3) : data);
  // Trailing NULs and padding are common after the document.
  while (!out.text.empty() && (out.text.back() == '\0' || out.text.back() == ' ')) out.text.pop_back();
  if (out.text.empty()) {
    out.warnings.push_back(make_error(Status::success, "manifest", Location::rva(rva), "empty: no XML at all"));
    return out;
  }
  const auto& xml = libxml2();
  if (!xml) {
    out.warnings.push_back(xml.error());
    return out;
  }
  xml->reset_last_error();  // so that an error below is this document's, not an earlier one's
  const auto doc = std::unique_ptr<xmlDoc, decltype(xml->free_doc)>(
      xml->read_memory(out.text.data(), static_cast<int>(std::min<size_t>(out.text.size(), INT32_MAX)), "manifest.xml",
                       "UTF-8", XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING),
      xml->free_doc);
  if (!doc) {
    const xmlError* e = xml->last_error();
    out.warnings.push_back(make_error(Status::success, "manifest", Location::rva(rva),
                                      fmt::format("not well-formed XML{}{}", e && e->message ? ": " : "",
                                                  e && e->message ? std::string(e->message) : std::string())));
    while (!out.warnings.back().message.empty() && out.warnings.back().message.back() == '\n')
      out.warnings.back().message.pop_back();
    return out;
  }
  walk(xml->root(doc.get()), out, 0);
  return out;
}

}  // namespace pemap::analysis
