// What analysts identify a file and its sections by: digests, imphash, entropy.
#pragma once

#include <string>
#include <vector>

#include "analysis/digest.hpp"
#include "pe/image.hpp"

namespace pemap::analysis {

/// A section's raw data as its hashes and entropy cover it: SizeOfRawData bytes from PointerToRawData, rounded
/// down to 512 when FileAlignment is at least 512 (where the memory manager starts reading it), clipped to the file.
/// pefile reads a section's data the same way, so the hashes match those analysts already have.
Bytes section_raw_data(const pe::Image& image, const pe::Section& section);

/// Shannon entropy in bits per byte, 0 to 8; 0 for no bytes.
double entropy(Bytes bytes);

struct Imphash {
  std::string md5;                    ///< empty when the image imports nothing
  std::vector<std::string> elements;  ///< "kernel32.getprocaddress", in import order: what md5 hashes, comma-joined
  std::vector<Error> warnings;
};

/// The import hash as Mandiant defined it and pefile computes it: for each function the normal import table names,
/// in order, the DLL name lower-cased without a .dll, .ocx or .sys extension, a dot, and the function's name
/// lower-cased, or for an import by ordinal the name pefile's table gives that ordinal of ws2_32.dll, wsock32.dll
/// or oleaut32.dll, else "ord" and the ordinal in decimal; joined by commas, MD5 in hexadecimal.
Imphash imphash(const pe::Image& image);

}  // namespace pemap::analysis
