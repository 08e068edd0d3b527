// File helpers for the tests.
#include "support/files.hpp"

#include <algorithm>
#include <fstream>
#include <iterator>
#include <sstream>
#include <stdexcept>

namespace pemap::test {

std::vector<std::byte> read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path.string());
  std::vector<char> chars((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<std::byte> out(chars.size());
  for (size_t i = 0; i < chars.size(); ++i) out[i] = static_cast<std::byte>(chars[i]);
  return out;
}

std::filesystem::path testdata_dir() { return PEMAP_TESTDATA_DIR; }
std::filesystem::path corpus_dir() { return PEMAP_CORPUS_DIR; }
std::filesystem::path tests_dir() { return PEMAP_TESTS_DIR; }

std::vector<std::vector<std::pair<std::string, std::string>>> read_tsv(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read " + path.string());
  auto split = [](const std::string& line) {
    std::vector<std::string> cells;
    std::stringstream ss(line);
    std::string cell;
    while (std::getline(ss, cell, '\t')) cells.push_back(cell);
    return cells;
  };
  std::string line;
  std::getline(in, line);
  const auto header = split(line);
  std::vector<std::vector<std::pair<std::string, std::string>>> rows;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    const auto cells = split(line);
    std::vector<std::pair<std::string, std::string>> row;
    for (size_t i = 0; i < header.size(); ++i) row.emplace_back(header[i], i < cells.size() ? cells[i] : "");
    rows.push_back(std::move(row));
  }
  return rows;
}

std::string tsv_get(const std::vector<std::pair<std::string, std::string>>& row, const std::string& column) {
  for (const auto& [k, v] : row)
    if (k == column) return v;
  throw std::runtime_error("no column " + column);
}

std::vector<std::string> pemap_shm_names() {
  std::vector<std::string> out;
  for (const auto& e : std::filesystem::directory_iterator("/dev/shm"))
    if (e.path().filename().string().rfind("pemap", 0) == 0) out.push_back(e.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace pemap::test
