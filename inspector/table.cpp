// Rendering of aligned tables, kept or streamed, through one line writer.
#include "table.hpp"

#include <algorithm>

namespace pemap::inspect {
namespace {

// Display width in code points, so UTF-8 names line up.
size_t width(std::string_view s) {
  return static_cast<size_t>(std::count_if(s.begin(), s.end(), [](char c) { return (c & 0xc0) != 0x80; }));
}

// One line, held in `l` (which only grows): cells padded to `w`, two spaces apart, trailing spaces trimmed.
// Written byte by byte into a buffer sized for the widest line, as it runs once per row of the long tables.
template <class Range>
std::string_view format_line(std::string& l, std::string_view indent, const std::vector<Table::Column>& columns,
                             const std::vector<size_t>& w, const Range& cells) {
  size_t most = indent.size() + 1;
  for (size_t c = 0; c < columns.size(); ++c) most += w[c] + 2;
  for (const auto& cell : cells) most += std::string_view(cell).size();
  if (l.size() < most) l.resize(most);
  char* const start = l.data();
  char* p = start;
  indent.copy(p, indent.size());
  p += indent.size();
  auto it = cells.begin();
  for (size_t c = 0; c < columns.size(); ++c) {
    const std::string_view cell = it != cells.end() ? std::string_view(*it++) : std::string_view();
    const size_t pad = w[c] - std::min(w[c], width(cell));
    if (c) *p++ = ' ', *p++ = ' ';
    if (columns[c].align == Table::Align::right) p = std::fill_n(p, pad, ' ');
    p = std::copy(cell.begin(), cell.end(), p);
    if (columns[c].align == Table::Align::left && c + 1 < columns.size()) p = std::fill_n(p, pad, ' ');
  }
  while (p != start && p[-1] == ' ') --p;
  *p++ = '\n';
  return {start, static_cast<size_t>(p - start)};
}

// A text column with another after it pads its cells to at most this width; a longer cell runs into the gap
// before the next column, on its own line only. One demangled C++ name of 600 characters would otherwise pad
// every row of an export table to it.
constexpr size_t kMaxPadded = 64;

template <class Range>
void fit(std::vector<size_t>& w, const std::vector<Table::Column>& columns, const Range& cells) {
  size_t c = 0;
  for (auto it = cells.begin(); it != cells.end() && c < w.size(); ++it, ++c) {
    const bool capped = columns[c].align == Table::Align::left && c + 1 < columns.size();
    const size_t cell = width(std::string_view(*it));
    w[c] = std::max(w[c], capped ? std::min(cell, kMaxPadded) : cell);
  }
}

std::vector<size_t> title_widths(const std::vector<Table::Column>& columns) {
  std::vector<size_t> w(columns.size());
  for (size_t c = 0; c < columns.size(); ++c) w[c] = width(columns[c].title);
  return w;
}

std::vector<std::string_view> titles(const std::vector<Table::Column>& columns) {
  std::vector<std::string_view> t;
  for (const auto& c : columns) t.push_back(c.title);
  return t;
}

}  // namespace

std::string Table::render(const std::string& indent) const {
  std::vector<size_t> w = title_widths(columns_);
  for (const auto& r : rows_) fit(w, columns_, r);
  std::string out, line;
  out += format_line(line, indent, columns_, w, titles(columns_));
  for (const auto& r : rows_) out += format_line(line, indent, columns_, w, r);
  return out;
}

StreamTable::StreamTable(std::vector<Table::Column> columns)
    : columns_(std::move(columns)), widths_(title_widths(columns_)) {}

void StreamTable::measure(Cells row) { fit(widths_, columns_, row); }

void StreamTable::write_header(TextOut& out) const {
  out << format_line(line_, indent_, columns_, widths_, titles(columns_));
}

void StreamTable::write_row(TextOut& out, Cells row) const {
  out << format_line(line_, indent_, columns_, widths_, row);
}

}  // namespace pemap::inspect
