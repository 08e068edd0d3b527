// SVG and HTML written as text: elements with escaped attributes and text, nested by open/close.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace pemap::inspect {

/// `text` with &, <, >, " and ' written as entities, for an attribute or element content; a C0 control other than
/// tab and line ends, which XML does not allow at all, as "\xNN".
std::string escape_markup(std::string_view text);

/// One attribute: a name and its value, escaped when written.
using Attr = std::pair<std::string_view, std::string>;

class Markup {
 public:
  /// <tag attrs...>; close() writes the matching end tag.
  Markup& open(std::string_view tag, std::initializer_list<Attr> attrs = {});
  Markup& close();
  /// <tag attrs.../> with no content.
  Markup& empty(std::string_view tag, std::initializer_list<Attr> attrs = {});
  /// <tag attrs...>text</tag>.
  Markup& element(std::string_view tag, std::initializer_list<Attr> attrs, std::string_view text);
  Markup& text(std::string_view text);
  /// Already-escaped markup (a child document, a style sheet, a script).
  Markup& raw(std::string_view markup);
  /// The text so far; every element opened must have been closed.
  const std::string& str() const { return out_; }

 private:
  void attributes(std::initializer_list<Attr> attrs);
  std::string out_;
  std::vector<std::string> open_;
};

/// A number for a coordinate: at most two decimals, no trailing zeros ("12", "3.5").
std::string coord(double v);
/// An address or RVA as the text outputs write it: "0x10000000".
std::string hex_address(uint64_t v);

}  // namespace pemap::inspect
