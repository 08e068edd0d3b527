// The JSON text back end writes what nlohmann's dump(2) and dump() write for the same document, a member at a time.
#include "printer.hpp"

#include <algorithm>
#include <cassert>
#include <charconv>
#include <cmath>
#include <cstring>

namespace pemap::inspect {

void Printer::strings(std::string_view key, const std::vector<std::string_view>& v) {
  begin_array(key);
  for (auto s : v) string({}, s);
  end_array();
}

void Printer::record(std::string_view key, std::initializer_list<Field> fields) {
  begin_object(key);
  for (const Field& f : fields) {
    if (f.kind == Field::Kind::number)
      number(f.key, f.number);
    else if (f.kind == Field::Kind::string || f.kind == Field::Kind::word)
      string(f.key, f.string);
    else
      null(f.key);
  }
  end_object();
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

namespace {

bool needs_escape(char c) { return static_cast<unsigned char>(c) < 0x20 || c == '"' || c == '\\'; }

// A string with nothing to escape (pemap's own names), quoted. `p` has room for 2 + s.size() bytes; returns the end.
char* write_plain(char* p, std::string_view s) {
  assert(std::none_of(s.begin(), s.end(), needs_escape));
  *p++ = '"';
  p = std::copy(s.begin(), s.end(), p);
  *p++ = '"';
  return p;
}

// `s` quoted as nlohmann writes it: the quote, the backslash and the control characters escaped (\b \f \n \r \t,
// else \u00XX), UTF-8 as it is. `p` has room for 2 + 6 * s.size() bytes; returns the end.
char* write_quoted(char* p, std::string_view s) {
  static constexpr char hex[] = "0123456789abcdef";
  *p++ = '"';
  for (size_t i = 0; i < s.size();) {
    size_t j = i;
    while (j < s.size() && !needs_escape(s[j])) ++j;  // the run up to the next escape, copied at once
    std::memcpy(p, s.data() + i, j - i);
    p += j - i;
    if (j == s.size()) break;
    const auto u = static_cast<unsigned char>(s[j]);
    *p++ = '\\';
    switch (u) {
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
    i = j + 1;
  }
  *p++ = '"';
  return p;
}

// A new line indented by `indent` spaces (pretty style), the spaces stored 16 at a time: `p` has room for
// 1 + indent + kIndentSlack bytes; returns the end of the indentation.
constexpr size_t kIndentSlack = 15;
char* line_break(char* p, size_t indent) {
  static constexpr char spaces[16] = {' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' '};
  *p++ = '\n';
  for (size_t i = 0; i < indent; i += sizeof spaces) std::memcpy(p + i, spaces, sizeof spaces);
  return p + indent;
}

}  // namespace

// The separator, the line break and indentation, and the key with its colon, in one write.
void JsonWriter::member(std::string_view key) {
  if (levels_.empty()) return;
  Level& l = levels_.back();
  const bool pretty = style_ == Style::pretty;
  const size_t indent = pretty ? 2 * levels_.size() : 0;
  char* p = out_.reserve(2 + indent + kIndentSlack + (l.object ? 4 + 6 * key.size() : 0));
  if (!l.empty) *p++ = ',';
  if (pretty) {
    p = line_break(p, indent);
  }
  l.empty = false;
  if (l.object) {
    p = write_quoted(p, key);
    *p++ = ':';
    if (pretty) *p++ = ' ';
  }
  out_.commit(p);
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
  char* p = out_.reserve(2 + indent + kIndentSlack);
  if (style_ == Style::pretty && !was_empty) {
    p = line_break(p, indent);
  }
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

// The shortest digits that read back as `v`, laid out as nlohmann lays them out: plain, with ".0" on a whole
// number, while the decimal point falls within 15 digits left of the first and 4 right of it, else d.ddde+XX. JSON
// has no infinity or NaN: those are null.
void JsonWriter::real(std::string_view key, double v) {
  if (!std::isfinite(v)) return null(key);
  member(key);
  char buffer[32];
  const char* const sci = buffer;
  const char* const sci_end =
      std::to_chars(buffer, buffer + sizeof buffer, std::abs(v), std::chars_format::scientific).ptr;
  const char* const e = std::find(sci, sci_end, 'e');
  std::string digits(sci, 1);  // "d.ddd" without its point
  if (e - sci > 2) digits.append(sci + 2, e);
  int exponent = 0;
  std::from_chars(e + (e[1] == '+' ? 2 : 1), sci_end, exponent);
  const int k = static_cast<int>(digits.size()), n = exponent + 1;  // n: where the point falls after digit 1..k
  std::string text = std::signbit(v) ? "-" : "";
  if (v == 0) {
    text += "0.0";
  } else if (k <= n && n <= 15) {
    text += digits + std::string(static_cast<size_t>(n - k), '0') + ".0";
  } else if (0 < n && n <= 15) {
    text += digits.substr(0, static_cast<size_t>(n)) + "." + digits.substr(static_cast<size_t>(n));
  } else if (-4 < n && n <= 0) {
    text += "0." + std::string(static_cast<size_t>(-n), '0') + digits;
  } else {
    text.append(sci, sci_end);
  }
  out_ << text;
}

void JsonWriter::null(std::string_view key) {
  member(key);
  out_ << "null";
}

void JsonWriter::string(std::string_view key, std::string_view v) {
  member(key);
  quoted(v);
}

bool JsonWriter::frame_fits(std::initializer_list<Field> fields) const {
  if (frame_.depth != levels_.size() || frame_.keys.size() != fields.size()) return false;
  const std::string_view* k = frame_.keys.data();
  for (const Field& f : fields) {
    if (f.key.data() != k->data() || f.key.size() != k->size()) return false;
    ++k;
  }
  return true;
}

// The text around the values of a record in an array at this depth.
void JsonWriter::make_frame(std::initializer_list<Field> fields) {
  const bool pretty = style_ == Style::pretty;
  const std::string outer = pretty ? "\n" + std::string(2 * levels_.size(), ' ') : "";
  const std::string inner = pretty ? "\n" + std::string(2 * levels_.size() + 2, ' ') : "";
  frame_ = {levels_.size(), {}, outer + "{", {}};
  for (const Field& f : fields) {
    frame_.keys.push_back(f.key);
    if (frame_.keys.size() > 1) frame_.text += ',';
    frame_.text += inner + '"' + std::string(f.key) + (pretty ? "\": " : "\":");
    frame_.ends.push_back(frame_.text.size());
  }
  frame_.text += (fields.size() != 0 ? outer : "") + "}";
  frame_.ends.push_back(frame_.text.size());
  frame_.text.append(kFrameSlack, ' ');
}

namespace {

// text[from, to) to `p`, in whole 16-byte blocks: `text` is readable, and `p` writable, 15 bytes past `to`.
char* copy_blocks(char* p, const char* text, size_t from, size_t to) {
  for (size_t i = from; i < to; i += 16) std::memcpy(p + (i - from), text + i, 16);
  return p + (to - from);
}

}  // namespace

// The same bytes as member(key), begin_object, the fields and end_object. In an array (the rows of the long tables)
// the text between the values is the frame's, made once for the rows of one table.
void JsonWriter::record(std::string_view key, std::initializer_list<Field> fields) {
  if (levels_.empty() || levels_.back().object) return Printer::record(key, fields);
  if (!frame_fits(fields)) make_frame(fields);
  size_t room = 1 + frame_.text.size() + fields.size() * kFrameSlack;
  for (const Field& f : fields)
    room += f.kind == Field::Kind::string || f.kind == Field::Kind::word ? 2 + 6 * f.string.size() : 20;
  char* p = out_.reserve(room);
  Level& l = levels_.back();
  if (!l.empty) *p++ = ',';
  l.empty = false;
  const char* text = frame_.text.data();
  const size_t* end = frame_.ends.data();
  size_t at = 0;
  for (const Field& f : fields) {
    p = copy_blocks(p, text, at, *end);
    at = *end++;
    if (f.kind == Field::Kind::number)
      p = std::to_chars(p, p + 20, f.number).ptr;
    else if (f.kind == Field::Kind::string)
      p = write_quoted(p, f.string);
    else if (f.kind == Field::Kind::word)
      p = write_plain(p, f.string);
    else
      p = std::copy_n("null", 4, p);
  }
  p = copy_blocks(p, text, at, *end);
  out_.commit(p);
}

void JsonWriter::quoted(std::string_view s) { out_.commit(write_quoted(out_.reserve(2 + 6 * s.size()), s)); }

JsonDocuments::JsonDocuments(std::ostream& os, JsonWriter::Style style, Shape shape)
    : out_(os), writer_(out_, style), lines_(style == JsonWriter::Style::line), shape_(shape) {
  if (shape_ == Shape::files && !lines_) {
    writer_.begin_object();
    writer_.begin_array("files");
  }
}

Printer& JsonDocuments::begin(std::optional<std::string_view> file) {
  if (shape_ == Shape::array && !lines_ && count_ == 0) writer_.begin_array();
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

void JsonDocuments::finish(const std::function<void(Printer&)>& totals) {
  if (lines_) return;
  if (shape_ == Shape::files) {
    writer_.end_array();
    if (totals) totals(writer_);
    writer_.end_object();
    out_ << "\n";
  } else if (count_ == 0) {
    out_ << "[]\n";
  } else if (shape_ == Shape::array) {
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

std::string json_text(const json& d, std::string_view key) {
  const auto it = d.is_object() ? d.find(key) : d.end();
  return it != d.end() && it->is_string() ? it->get<std::string>() : std::string();
}

const json& json_array(const json& d, std::string_view key) {
  static const json empty = json::array();
  const auto it = d.is_object() ? d.find(key) : d.end();
  return it != d.end() && it->is_array() ? *it : empty;
}

uint64_t json_number(const json& d, std::string_view key) {
  const auto it = d.is_object() ? d.find(key) : d.end();
  return it != d.end() && it->is_number_unsigned() ? it->get<uint64_t>() : 0;
}

}  // namespace pemap::inspect
