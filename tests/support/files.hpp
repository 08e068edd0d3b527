// Test helpers for files on disk: whole-file reads and the locations of testdata and the corpus.
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>
#include <vector>

namespace pemap::test {

std::vector<std::byte> read_file(const std::filesystem::path& path);
std::filesystem::path testdata_dir();  ///< testdata/ in the source tree
std::filesystem::path corpus_dir();    ///< ../shared/corpus/corkami, may not exist
std::filesystem::path tests_dir();     ///< tests/ in the source tree: the known results kept beside the tests
/// Rows of a tab-separated file with a header line, as column name -> value.
std::vector<std::vector<std::pair<std::string, std::string>>> read_tsv(const std::filesystem::path& path);
/// The entries of /dev/shm whose names start with "pemap", sorted: pemap never makes one, and one left behind would
/// outlive every process.
std::vector<std::string> pemap_shm_names();
std::string tsv_get(const std::vector<std::pair<std::string, std::string>>& row, const std::string& column);

}  // namespace pemap::test
