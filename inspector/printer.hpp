// The one way a command prints its findings: a tree of objects, arrays and values, handed over as it is walked.
// Two back ends: JsonWriter streams JSON text as the calls come (nothing holds the document), and TreeBuilder
// keeps a document: for the text layouts of the small reports, and for run's report, which waits for the
// program's own output.
#pragma once

#include <concepts>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "table.hpp"

namespace pemap::inspect {

using json = nlohmann::ordered_json;

/// A member of a document as a renderer reads it, whatever the document holds: `key`'s string, or "" when it is
/// missing or not a string (a const json's operator[] on a missing key is undefined behaviour).
std::string json_text(const json& d, std::string_view key);
/// `key`'s unsigned number, or 0 when it is missing or not one.
uint64_t json_number(const json& d, std::string_view key);
/// `key`'s array, or an empty one when it is missing or not an array.
const json& json_array(const json& d, std::string_view key);

/// One member of a flat record: a number, a string or null.
struct Field {
  enum class Kind : uint8_t { number, string, word, null };
  /// One of pemap's own member names: plain ASCII, nothing to escape, and in static storage (a string literal),
  /// since the JSON writer knows the rows of one table by their keys' addresses.
  std::string_view key;
  Kind kind = Kind::null;
  uint64_t number = 0;
  std::string_view string;
  static Field num(std::string_view key, uint64_t v) { return {key, Kind::number, v, {}}; }
  static Field str(std::string_view key, std::string_view v) { return {key, Kind::string, 0, v}; }
  /// A string from pemap's own vocabulary (a relocation type's name): plain ASCII, written as it is.
  static Field word(std::string_view key, std::string_view v) { return {key, Kind::word, 0, v}; }
  static Field none(std::string_view key) { return {key, Kind::null, 0, {}}; }
};

class Printer {
 public:
  virtual ~Printer() = default;
  // `key` names the member in an object; in an array it is not used. Strings are valid UTF-8 (see printable()).
  virtual void begin_object(std::string_view key = {}) = 0;
  virtual void end_object() = 0;
  virtual void begin_array(std::string_view key = {}) = 0;
  virtual void end_array() = 0;
  virtual void number(std::string_view key, uint64_t v) = 0;
  virtual void negative(std::string_view key, int64_t v) = 0;  ///< v < 0
  virtual void boolean(std::string_view key, bool v) = 0;
  virtual void real(std::string_view key, double v) = 0;
  virtual void string(std::string_view key, std::string_view v) = 0;
  virtual void null(std::string_view key) = 0;

  template <std::integral T>
  void field(std::string_view key, T v) {
    if constexpr (std::same_as<T, bool>)
      boolean(key, v);
    else if constexpr (std::is_signed_v<T>)
      v < 0 ? negative(key, v) : number(key, static_cast<uint64_t>(v));
    else
      number(key, v);
  }
  void field(std::string_view key, std::string_view v) { string(key, v); }
  void field(std::string_view key, const char* v) { string(key, v); }
  void field(std::string_view key, const std::string& v) { string(key, v); }
  void field(std::string_view key, std::nullptr_t) { null(key); }
  void field(std::string_view key, double v) { real(key, v); }
  /// An array of strings.
  void strings(std::string_view key, const std::vector<std::string_view>& v);
  /// An object of scalar members, the rows of the long tables (an import, an export, a relocation): one call,
  /// which a back end may write in one go. In an array, `key` is not used.
  virtual void record(std::string_view key, std::initializer_list<Field> fields);
  /// A value built elsewhere, as the member `key`.
  void tree(std::string_view key, const json& v);
  /// The members of the object `v`, into the object being printed.
  void members(const json& v);
};

/// JSON text: `pretty` is two-space indentation (one document); `line` is the compact form, for one document
/// per line (--jsonl). The caller ends each document with its newline.
class JsonWriter final : public Printer {
 public:
  enum class Style { pretty, line };
  JsonWriter(TextOut& out, Style style) : out_(out), style_(style) {}
  void begin_object(std::string_view key = {}) override { open(key, '{'); }
  void end_object() override { close('}'); }
  void begin_array(std::string_view key = {}) override { open(key, '['); }
  void end_array() override { close(']'); }
  void number(std::string_view key, uint64_t v) override;
  void negative(std::string_view key, int64_t v) override;
  void boolean(std::string_view key, bool v) override;
  void real(std::string_view key, double v) override;
  void string(std::string_view key, std::string_view v) override;
  void null(std::string_view key) override;
  void record(std::string_view key, std::initializer_list<Field> fields) override;
  bool at_top() const { return levels_.empty(); }

 private:
  struct Level {
    bool object;
    bool empty = true;
  };
  void member(std::string_view key);  // the separator, the line break and indentation, and the key
  void open(std::string_view key, char bracket);
  void close(char bracket);
  void quoted(std::string_view s);
  // The text between the values of the last record in an array: the same for every row of a table.
  struct RecordFrame {
    size_t depth = 0;
    std::vector<std::string_view> keys;  // Field::key: in static storage
    std::string text;                    // followed by kFrameSlack spaces, so that pieces copy in whole 16-byte blocks
    std::vector<size_t> ends;  // piece k is text[ends[k-1], ends[k]): before value k, or the close after the last
  };
  static constexpr size_t kFrameSlack = 16;
  bool frame_fits(std::initializer_list<Field> fields) const;
  void make_frame(std::initializer_list<Field> fields);
  TextOut& out_;
  Style style_;
  std::vector<Level> levels_;
  RecordFrame frame_;
};

/// How --json and --jsonl print a command's documents: with --jsonl each document on a line of its own (for jq,
/// DuckDB's read_json, Spark); with --json as `shape` says. Each document goes out whole before the next one begins.
class JsonDocuments {
 public:
  /// one: the document of the one file named ([] when there was none); array: an array of them (several files, or
  /// a directory, were named); files: an object whose "files" member is that array, then the totals finish() adds.
  enum class Shape { one, array, files };
  JsonDocuments(std::ostream& os, JsonWriter::Style style, Shape shape);
  JsonDocuments(std::ostream& os, JsonWriter::Style style, bool many)
      : JsonDocuments(os, style, many ? Shape::array : Shape::one) {}
  JsonDocuments(const JsonDocuments&) = delete;
  JsonDocuments& operator=(const JsonDocuments&) = delete;
  /// Opens a document: an object whose first member is "file" when `file` is given.
  Printer& begin(std::optional<std::string_view> file = std::nullopt);
  /// Closes it and hands it to the stream.
  void end();
  /// Closes the array (with Shape::files, `totals` then prints the object's other members; not with --jsonl).
  void finish(const std::function<void(Printer&)>& totals = {});

 private:
  TextOut out_;
  JsonWriter writer_;
  bool lines_;
  Shape shape_;
  size_t count_ = 0;
};

/// The style --json (indented) or --jsonl (a document a line) asks for.
inline JsonWriter::Style json_style(bool jsonl) { return jsonl ? JsonWriter::Style::line : JsonWriter::Style::pretty; }

/// One document (`doc`) as --json or --jsonl prints it.
void print_document(std::ostream& os, JsonWriter::Style style, const json& doc);

/// A document in memory (ordered_json), for the renderings that lay out a whole object at once.
class TreeBuilder final : public Printer {
 public:
  void begin_object(std::string_view key = {}) override { open(key, json::object()); }
  void end_object() override { stack_.pop_back(); }
  void begin_array(std::string_view key = {}) override { open(key, json::array()); }
  void end_array() override { stack_.pop_back(); }
  void number(std::string_view key, uint64_t v) override { slot(key) = v; }
  void negative(std::string_view key, int64_t v) override { slot(key) = v; }
  void boolean(std::string_view key, bool v) override { slot(key) = v; }
  void real(std::string_view key, double v) override { slot(key) = v; }
  void string(std::string_view key, std::string_view v) override { slot(key) = std::string(v); }
  void null(std::string_view key) override { slot(key) = nullptr; }
  /// The document: the object or array opened first, or an object of the members given at the top.
  json& document() { return root_; }

 private:
  json& slot(std::string_view key);
  void open(std::string_view key, json v);
  json root_ = json::object();
  std::vector<json*> stack_;
};

}  // namespace pemap::inspect
