// ssdeep and TLSH through their libraries.
#include "analysis/fuzzy_hash.hpp"

#include <fuzzy.h>
#include <tlsh.h>

#include <algorithm>
#include <cstdint>
#include <limits>

namespace pemap::analysis {

std::string ssdeep_hash(Bytes bytes) {
  if (bytes.size() > std::numeric_limits<uint32_t>::max()) return {};
  char result[FUZZY_MAX_RESULT] = {};
  if (fuzzy_hash_buf(reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<uint32_t>(bytes.size()),
                     result) != 0)
    return {};
  return result;
}

std::string tlsh_hash(Bytes bytes) {
  Tlsh t;
  constexpr size_t kChunk = size_t{1} << 30;  // update() takes an unsigned int length
  for (size_t at = 0; at < bytes.size(); at += kChunk) {
    const size_t n = std::min(kChunk, bytes.size() - at);
    t.update(reinterpret_cast<const unsigned char*>(bytes.data() + at), static_cast<unsigned>(n));
  }
  t.final();
  const char* hash = t.getHash();  // "" when the data gave no hash
  return hash ? hash : "";
}

}  // namespace pemap::analysis
