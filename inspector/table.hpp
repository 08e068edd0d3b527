// Aligned text columns: numbers right-aligned, text left-aligned, widths fitted to the content.
#pragma once

#include <algorithm>
#include <initializer_list>
#include <memory>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace pemap::inspect {

class Table {
 public:
  enum class Align { left, right };
  struct Column {
    std::string title;
    Align align = Align::left;
  };
  explicit Table(std::vector<Column> columns) : columns_(std::move(columns)) {}
  void add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
  bool empty() const { return rows_.empty(); }
  /// Header line, rows; trailing spaces trimmed; every line indented by `indent`.
  std::string render(const std::string& indent = "  ") const;

 private:
  std::vector<Column> columns_;
  std::vector<std::vector<std::string>> rows_;
};

/// Text written as it is made: kept in a buffer of about 64 KiB, then handed to the stream.
class TextOut {
 public:
  explicit TextOut(std::ostream& os) : os_(os), buf_(new char[kChunk]), cap_(kChunk) {}
  TextOut(const TextOut&) = delete;
  TextOut& operator=(const TextOut&) = delete;
  ~TextOut() { flush(); }
  TextOut& operator<<(std::string_view s) {
    char* p = reserve(s.size());
    commit(std::copy(s.begin(), s.end(), p));
    return *this;
  }
  void flush() {
    os_.write(buf_.get(), static_cast<std::streamsize>(used_));
    used_ = 0;
  }
  /// Room for at most `n` more bytes, written in place (not cleared); commit(end) keeps those before `end`.
  char* reserve(size_t n) {
    if (used_ + n > cap_) flush();
    if (n > cap_) buf_.reset(new char[n]), cap_ = n;
    return buf_.get() + used_;
  }
  void commit(const char* end) {
    used_ = static_cast<size_t>(end - buf_.get());
    if (used_ >= kChunk) flush();
  }

 private:
  static constexpr size_t kChunk = 64 * 1024;
  std::ostream& os_;
  std::unique_ptr<char[]> buf_;
  size_t cap_;
  size_t used_ = 0;
};

using Cells = std::initializer_list<std::string_view>;

/// The same lines as Table::render, for rows that are made twice instead of kept: once to fit the
/// widths, once to print (a table of 590,000 imports costs one row of memory).
class StreamTable {
 public:
  explicit StreamTable(std::vector<Table::Column> columns);
  void measure(Cells row);
  void write_header(TextOut& out) const;
  void write_row(TextOut& out, Cells row) const;

 private:
  std::vector<Table::Column> columns_;
  std::vector<size_t> widths_;
  std::string indent_ = "  ";
  mutable std::string line_;
};

/// `rows(emit)` calls emit(Cells) for every row, the same rows each time it is called; writes the table.
template <class Rows>
void write_table(TextOut& out, std::vector<Table::Column> columns, Rows&& rows) {
  StreamTable t(std::move(columns));
  rows([&](Cells cells) { t.measure(cells); });
  t.write_header(out);
  rows([&](Cells cells) { t.write_row(out, cells); });
}

}  // namespace pemap::inspect
