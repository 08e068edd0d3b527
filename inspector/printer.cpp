// The JSON text back end writes what nlohmann's dump(2) and dump() write for the same document, a member at a time.
#include "printer.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>

namespace pemap::inspect {

void Printer::strings(std::string_view key, const std::vector<std::string_view>& v) {
  begin_array(key);
  for (auto s : v) string({}, s);
  end_array();
}

void Printer::tree(std::string_view key, const json& v) {
  switch (v.type()) {
    case json::value_t::object:
      begin_object(key);
      members(v);
      end_object();
      break;
    case json::value_t::array:
      begin_array(key);
      for (const auto& e : v) tree({}, e);
      end_array();
      break;
    case json::value_t::string:
      string(key, v.get_ref<const std::string&>());
      break;
    case json::value_t::boolean:
      boolean(key, v.get<bool>());
      break;
    case json::value_t::number_unsigned:
      number(key, v.get<uint64_t>());
      break;
    case json::value_t::number_integer:
      field(key, v.get<int64_t>());
      break;
    case json::value_t::number_float:
      real(key, v.get<double>());
      break;
    default:
      null(key);
      break;
  }
}

void Printer::members(const json& v) {
  for (const auto& [k, member] : v.items()) tree(k, member);
}

void JsonWriter::member(std::string_view key) {
  if (levels_.empty()) return;
  Level& l = levels_.back();
  const size_t indent = style_ == Style::pretty ? 2 * levels_.size() : 0;
  char* const start = out_.reserve(2 + indent);
  char* p = start;
  if (!l.empty) *p++ = ',';
  if (style_ == Style::pretty) *p++ = '\n', p = std::fill_n(p, indent, ' ');
  out_.commit(p);
  l.empty = false;
  if (l.object) {
    quoted(key);
    out_ << (style_ == Style::pretty ? ": " : ":");
  }
}

void JsonWriter::open(std::string_view key, char bracket) {
  member(key);
  char* p = out_.reserve(1);
  *p++ = bracket;
  out_.commit(p);
  levels_.push_back({bracket == '{'});
}

void JsonWriter::close(char bracket) {
  const bool was_empty = levels_.back().empty;
  levels_.pop_back();
  const size_t indent = style_ == Style::pretty && !was_empty ? 2 * levels_.size() : 0;
  char* p = out_.reserve(2 + indent);
  if (style_ == Style::pretty && !was_empty) *p++ = '\n', p = std::fill_n(p, indent, ' ');
  *p++ = bracket;
  out_.commit(p);
}

void JsonWriter::number(std::string_view key, uint64_t v) {
  member(key);
  char* p = out_.reserve(20);
  out_.commit(std::to_chars(p, p + 20, v).ptr);
}

void JsonWriter::negative(std::string_view key, int64_t v) {
  member(key);
  char* p = out_.reserve(20);
  out_.commit(std::to_chars(p, p + 20, v).ptr);
}

void JsonWriter::boolean(std::string_view key, bool v) {
  member(key);
  out_ << (v ? "true" : "false");
}

// The shortest text that reads back as `v`, with ".0" on a whole number as nlohmann writes it; JSON has no
// infinity or NaN, so those are null.
void JsonWriter::real(std::string_view key, double v) {
  if (!std::isfinite(v)) return null(key);
  member(key);
  char* const start = out_.reserve(32);
  char* p = std::to_chars(start, start + 28, v).ptr;
  if (std::find_if(start, p, [](char c) { return c == '.' || c == 'e'; }) == p) *p++ = '.', *p++ = '0';
  out_.commit(p);
}

void JsonWriter::null(std::string_view key) {
  member(key);
  out_ << "null";
}

void JsonWriter::string(std::string_view key, std::string_view v) {
  member(key);
  quoted(v);
}

// As nlohmann escapes: the quote, the backslash and the control characters; UTF-8 passes as it is.
void JsonWriter::quoted(std::string_view s) {
  static constexpr char hex[] = "0123456789abcdef";
  char* const start = out_.reserve(2 + 6 * s.size());
  char* p = start;
  *p++ = '"';
  for (const char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u >= 0x20 && c != '"' && c != '\\') {
      *p++ = c;
      continue;
    }
    *p++ = '\\';
    switch (c) {
      case '"':
        *p++ = '"';
        break;
      case '\\':
        *p++ = '\\';
        break;
      case '\b':
        *p++ = 'b';
        break;
      case '\f':
        *p++ = 'f';
        break;
      case '\n':
        *p++ = 'n';
        break;
      case '\r':
        *p++ = 'r';
        break;
      case '\t':
        *p++ = 't';
        break;
      default:
        *p++ = 'u', *p++ = '0', *p++ = '0', *p++ = hex[u >> 4], *p++ = hex[u & 0xf];
        break;
    }
  }
  *p++ = '"';
  out_.commit(p);
}

JsonDocuments::JsonDocuments(std::ostream& os, JsonWriter::Style style, bool many)
    : out_(os), writer_(out_, style), lines_(style == JsonWriter::Style::line), many_(many) {}

Printer& JsonDocuments::begin(std::optional<std::string_view> file) {
  if (many_ && !lines_) {
    if (count_ == 0) writer_.begin_array();
  }
  ++count_;
  writer_.begin_object();
  if (file) writer_.string("file", *file);
  return writer_;
}

void JsonDocuments::end() {
  writer_.end_object();
  if (writer_.at_top()) out_ << "\n";
  out_.flush();
}

void JsonDocuments::finish() {
  if (lines_) return;
  if (count_ == 0) {
    out_ << "[]\n";
  } else if (many_) {
    writer_.end_array();
    out_ << "\n";
  }
  out_.flush();
}

void print_document(std::ostream& os, JsonWriter::Style style, const json& doc) {
  TextOut out(os);
  JsonWriter w(out, style);
  w.tree({}, doc);
  out << "\n";
}

json& TreeBuilder::slot(std::string_view key) {
  json& here = stack_.empty() ? root_ : *stack_.back();
  if (here.is_array()) {
    here.push_back(nullptr);
    return here.back();
  }
  return here[std::string(key)];
}

void TreeBuilder::open(std::string_view key, json v) {
  if (stack_.empty() && key.empty()) {
    root_ = std::move(v);
    stack_.push_back(&root_);
    return;
  }
  json& s = slot(key);
  s = std::move(v);
  stack_.push_back(&s);
}

}  // namespace pemap::inspect
