// The markup writer.
#include "markup.hpp"

#include <cmath>
#include <cstdint>

#include <fmt/format.h>

namespace pemap::inspect {

std::string escape_markup(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        // XML allows no other C0 control, even as a reference: a visible escape stands for it.
        if (static_cast<unsigned char>(c) < 0x20 && c != '\t' && c != '\n' && c != '\r')
          out += fmt::format("\\x{:02x}", static_cast<unsigned>(c));
        else
          out += c;
    }
  }
  return out;
}

void Markup::attributes(std::initializer_list<Attr> attrs) {
  for (const auto& [name, value] : attrs) {
    out_ += ' ';
    out_ += name;
    out_ += "=\"";
    out_ += escape_markup(value);
    out_ += '"';
  }
}

Markup& Markup::open(std::string_view tag, std::initializer_list<Attr> attrs) {
  out_ += '<';
  out_ += tag;
  attributes(attrs);
  out_ += '>';
  open_.emplace_back(tag);
  return *this;
}

Markup& Markup::close() {
  out_ += "</" + open_.back() + ">";
  open_.pop_back();
  return *this;
}

Markup& Markup::empty(std::string_view tag, std::initializer_list<Attr> attrs) {
  out_ += '<';
  out_ += tag;
  attributes(attrs);
  out_ += "/>";
  return *this;
}

Markup& Markup::element(std::string_view tag, std::initializer_list<Attr> attrs, std::string_view content) {
  open(tag, attrs);
  text(content);
  return close();
}

Markup& Markup::text(std::string_view content) {
  out_ += escape_markup(content);
  return *this;
}

Markup& Markup::raw(std::string_view markup) {
  out_ += markup;
  return *this;
}

std::string coord(double v) {
  if (!std::isfinite(v)) return "0";
  std::string s = fmt::format("{:.2f}", v);
  while (s.back() == '0') s.pop_back();
  if (s.back() == '.') s.pop_back();
  return s == "-0" ? "0" : s;
}

std::string hex_address(uint64_t v) { return fmt::format("{:#x}", v); }

}  // namespace pemap::inspect
