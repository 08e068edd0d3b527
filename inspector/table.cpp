// Rendering of aligned tables, kept or streamed, through one line writer.
#include "table.hpp"

#include <algorithm>

namespace pemap::inspect {
namespace {

// Display width in code points, so UTF-8 names line up.
size_t width(std::string_view s) {
  return static_cast<size_t>(std::count_if(s.begin(), s.end(), [](char c) { return (c & 0xc0) != 0x80; }));
}

// One line into `l` (cleared first): cells padded to `w`, two spaces apart, trailing spaces trimmed.
template <class Range>
void format_line(std::string& l, std::string_view indent, const std::vector<Table::Column>& columns,
                 const std::vector<size_t>& w, const Range& cells) {
  l.assign(indent);
  auto it = cells.begin();
  for (size_t c = 0; c < columns.size(); ++c) {
    const std::string_view cell = it != cells.end() ? std::string_view(*it++) : std::string_view();
    const size_t pad = w[c] - std::min(w[c], width(cell));
    if (c) l += "  ";
    if (columns[c].align == Table::Align::right) l.append(pad, ' ');
    l += cell;
    if (columns[c].align == Table::Align::left) l.append(pad, ' ');
  }
  while (!l.empty() && l.back() == ' ') l.pop_back();
  l += '\n';
}

template <class Range>
void fit(std::vector<size_t>& w, const Range& cells) {
  size_t c = 0;
  for (auto it = cells.begin(); it != cells.end() && c < w.size(); ++it, ++c)
    w[c] = std::max(w[c], width(std::string_view(*it)));
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
  for (const auto& r : rows_) fit(w, r);
  std::string out, line;
  format_line(line, indent, columns_, w, titles(columns_));
  out += line;
  for (const auto& r : rows_) {
    format_line(line, indent, columns_, w, r);
    out += line;
  }
  return out;
}

StreamTable::StreamTable(std::vector<Table::Column> columns)
    : columns_(std::move(columns)), widths_(title_widths(columns_)) {}

void StreamTable::measure(Cells row) { fit(widths_, row); }

void StreamTable::write_header(TextOut& out) const {
  format_line(line_, indent_, columns_, widths_, titles(columns_));
  out << line_;
}

void StreamTable::write_row(TextOut& out, Cells row) const {
  format_line(line_, indent_, columns_, widths_, row);
  out << line_;
}

}  // namespace pemap::inspect
