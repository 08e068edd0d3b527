// Aligned text columns: numbers right-aligned, text left-aligned, widths fitted to the content.
#pragma once

#include <string>
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

}  // namespace pemap::inspect
