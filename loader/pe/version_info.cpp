// Parsing of VS_VERSIONINFO.
#include "pe/version_info.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "pe/utf16.hpp"

namespace pemap::pe {

std::string FixedFileInfo::version_text(uint32_t ms, uint32_t ls) {
  return fmt::format("{}.{}.{}.{}", ms >> 16, ms & 0xFFFF, ls >> 16, ls & 0xFFFF);
}

std::vector<std::string> version_file_flag_names(uint32_t flags) {
  static constexpr std::pair<uint32_t, const char*> names[] = {{0x01, "DEBUG"},        {0x02, "PRERELEASE"},
                                                               {0x04, "PATCHED"},      {0x08, "PRIVATEBUILD"},
                                                               {0x10, "INFOINFERRED"}, {0x20, "SPECIALBUILD"}};
  std::vector<std::string> out;
  for (const auto& [bit, name] : names)
    if (flags & bit) out.emplace_back(name), flags &= ~bit;
  if (flags) out.push_back(fmt::format("{:#x}", flags));
  return out;
}

std::string version_file_os_name(uint32_t os) {
  static constexpr const char* high[] = {"", "_DOS", "_OS216", "_OS232", "_NT", "_WINCE"};
  static constexpr const char* low[] = {"", "_WINDOWS16", "_PM16", "_PM32", "_WINDOWS32"};
  const uint32_t h = os >> 16, l = os & 0xFFFF;
  if (os == 0) return "VOS_UNKNOWN";
  if (h >= std::size(high) || l >= std::size(low)) return fmt::format("{:#x}", os);
  return fmt::format("VOS{}{}", high[h], low[l]);
}

std::string version_file_type_name(uint32_t type) {
  static constexpr const char* names[] = {"VFT_UNKNOWN", "VFT_APP", "VFT_DLL", "VFT_DRV",
                                          "VFT_FONT",    "VFT_VXD", "",        "VFT_STATIC_LIB"};
  if (type < std::size(names) && *names[type]) return names[type];
  return fmt::format("{:#x}", type);
}

namespace {

constexpr uint32_t kFixedSignature = 0xFEEF04BD;
constexpr uint64_t kHeader = 6;  // wLength, wValueLength, wType

// One node: wLength, wValueLength, wType, a NUL-terminated UTF-16 key, then its value and its children, each
// 32-bit aligned from the block's start.
struct Node {
  uint64_t start = 0, end = 0;  // within the block, the end clipped to the parent
  uint16_t value_length = 0, type = 0;
  std::string key;
  uint64_t value_at = 0, value_end = 0, children_at = 0;
};

class Reader {
 public:
  Reader(Bytes data, uint64_t rva, VersionInfo& out) : data_(data), rva_(rva), out_(out) {}

  // The node at `at` within [at, limit), or none (with a warning) when it does not fit.
  std::optional<Node> node(uint64_t at, uint64_t limit, std::string_view parent) {
    if (at + kHeader > limit) return std::nullopt;
    const uint16_t length = load<uint16_t>(data_, at);
    if (length < kHeader) {
      warn(at, fmt::format("a node in {} has wLength {}; the rest of {} is not read", parent, length, parent));
      return std::nullopt;
    }
    Node n;
    n.start = at;
    n.end = at + length;
    if (n.end > limit) {
      warn(at, fmt::format("a node's wLength {} runs {} bytes past the end of {}; read up to it", length, n.end - limit,
                           parent));
      n.end = limit;
    }
    n.value_length = load<uint16_t>(data_, at + 2);
    n.type = load<uint16_t>(data_, at + 4);
    const Bytes key_units = data_.subspan(at + kHeader, n.end - (at + kHeader));
    n.key = utf16_to_utf8(key_units, true);
    uint64_t key_end = at + kHeader;
    while (key_end + 2 <= n.end && load<uint16_t>(data_, key_end) != 0) key_end += 2;
    key_end = std::min(key_end + 2, n.end);
    n.value_at = std::min(align_up(key_end, 4), n.end);
    const uint64_t value_bytes = n.type == 1 ? uint64_t{n.value_length} * 2 : n.value_length;
    n.value_end = std::min(n.value_at + value_bytes, n.end);
    n.children_at = std::min(align_up(n.value_end, 4), n.end);
    return n;
  }

  // The children of `parent`, each handed to `each`.
  template <class F>
  void children(const Node& parent, F&& each) {
    for (uint64_t at = parent.children_at; at + kHeader <= parent.end;) {
      auto child = node(at, parent.end, "\"" + parent.key + "\"");
      if (!child) break;
      each(*child);
      at = align_up(child->end, 4);
    }
  }

  Bytes value(const Node& n) const { return data_.subspan(n.value_at, n.value_end - n.value_at); }
  // A String's text: wValueLength is in words but often wrong, so up to its NUL or the node's end.
  std::string text(const Node& n) const { return utf16_to_utf8(data_.subspan(n.value_at, n.end - n.value_at), true); }

  void warn(uint64_t at, std::string message) {
    out_.warnings.push_back(
        make_error(Status::success, "version resource", Location::rva(rva_ + at), std::move(message)));
  }

 private:
  Bytes data_;
  uint64_t rva_;
  VersionInfo& out_;
};

FixedFileInfo fixed_file_info(Bytes v) {
  FixedFileInfo f;
  uint32_t* fields[] = {
      &f.signature,          &f.struc_version,   &f.file_version_ms, &f.file_version_ls, &f.product_version_ms,
      &f.product_version_ls, &f.file_flags_mask, &f.file_flags,      &f.file_os,         &f.file_type,
      &f.file_subtype,       &f.file_date_ms,    &f.file_date_ls};
  for (size_t i = 0; i < std::size(fields); ++i) *fields[i] = load<uint32_t>(v, 4 * i);
  return f;
}

}  // namespace

Result<VersionInfo> parse_version_info(Bytes data, uint64_t rva) {
  VersionInfo out;
  Reader r(data, rva, out);
  auto root = r.node(0, data.size(), "the resource");
  if (!root)
    return make_error(Status::success, "version resource", Location::rva(rva),
                      fmt::format("{} bytes hold no VS_VERSIONINFO node", data.size()));
  if (root->key != "VS_VERSION_INFO")
    r.warn(0, fmt::format("the root's key is \"{}\", not \"VS_VERSION_INFO\"", root->key));
  const Bytes v = r.value(*root);
  if (v.size() >= 52 && load<uint32_t>(v, 0) == kFixedSignature)
    out.fixed = fixed_file_info(v);
  else if (!v.empty())
    r.warn(root->value_at, "the value is not a VS_FIXEDFILEINFO (52 bytes, signature 0xFEEF04BD)");
  r.children(*root, [&](const Node& block) {
    if (block.key == "StringFileInfo") {
      r.children(block, [&](const Node& table) {
        VersionStrings t{table.key, {}};
        r.children(table, [&](const Node& s) { t.strings.emplace_back(s.key, r.text(s)); });
        out.string_tables.push_back(std::move(t));
      });
    } else if (block.key == "VarFileInfo") {
      r.children(block, [&](const Node& var) {
        if (var.key != "Translation") return;
        const Bytes words = r.value(var);
        for (uint64_t i = 0; i + 4 <= words.size(); i += 4) out.translations.push_back(load<uint32_t>(words, i));
      });
    } else {
      r.warn(block.start,
             fmt::format("a block named \"{}\" is neither StringFileInfo nor VarFileInfo; not read", block.key));
    }
  });
  return out;
}

}  // namespace pemap::pe
