// Reading a manifest with libxml2.
#include "analysis/manifest.hpp"

#include <libxml/parser.h>
#include <libxml/tree.h>

#include <cstring>
#include <memory>

#include <fmt/format.h>

#include "pe/utf16.hpp"

namespace pemap::analysis {
namespace {

std::string attribute(xmlNode* node, const char* name) {
  xmlChar* v = xmlGetProp(node, reinterpret_cast<const xmlChar*>(name));
  if (!v) return {};
  std::string out(reinterpret_cast<const char*>(v));
  xmlFree(v);
  return out;
}

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
      if (xmlHasProp(node, reinterpret_cast<const xmlChar*>("uiAccess"))) out.ui_access = attribute(node, "uiAccess");
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
  xmlResetLastError();  // so that an error below is this document's, not an earlier one's
  const auto doc = std::unique_ptr<xmlDoc, decltype(&xmlFreeDoc)>(
      xmlReadMemory(out.text.data(), static_cast<int>(std::min<size_t>(out.text.size(), INT32_MAX)), "manifest.xml",
                    "UTF-8", XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING),
      &xmlFreeDoc);
  if (!doc) {
    const xmlError* e = xmlGetLastError();
    out.warnings.push_back(make_error(Status::success, "manifest", Location::rva(rva),
                                      fmt::format("not well-formed XML{}{}", e && e->message ? ": " : "",
                                                  e && e->message ? std::string(e->message) : std::string())));
    while (!out.warnings.back().message.empty() && out.warnings.back().message.back() == '\n')
      out.warnings.back().message.pop_back();
    return out;
  }
  walk(xmlDocGetRootElement(doc.get()), out, 0);
  return out;
}

}  // namespace pemap::analysis
