// Similarity digests: two files that differ a little have hashes that differ a little. ssdeep (libfuzzy) and TLSH
// (libtlsh), as Debian packages them.
#pragma once

#include <string>

#include "pe/bytes.hpp"

namespace pemap::analysis {

/// ssdeep's context-triggered piecewise hash, "blocksize:hash:hash", as `ssdeep -b` prints it; empty for more
/// than 4 GiB of bytes, which libfuzzy's buffer interface cannot take.
std::string ssdeep_hash(Bytes bytes);

/// TLSH as libtlsh 3.4 computes it (128 buckets, a 1-byte checksum: 70 hexadecimal digits in upper case, as
/// `tlsh -f` prints them); empty when TLSH declines: fewer than 256 bytes, or too little variety in them.
std::string tlsh_hash(Bytes bytes);

}  // namespace pemap::analysis
