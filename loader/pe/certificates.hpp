// The attribute certificate table (the security directory) and the bytes Authenticode's image digest covers.
#pragma once

#include <cstdint>
#include <vector>

#include "pe/image.hpp"

namespace pemap::pe {

/// One WIN_CERTIFICATE: a revision, a type, and the certificate bytes (for type 2, a PKCS#7 SignedData).
struct Certificate {
  uint64_t offset = 0;  ///< file offset of the entry
  uint32_t length = 0;  ///< dwLength: the header's 8 bytes included
  uint16_t revision = 0, type = 0;
  Bytes data;  ///< bCertificate; views the file
};

struct CertificateTable {
  bool present = false;
  uint64_t offset = 0, size = 0;  ///< the directory's: a file offset, not an RVA
  std::vector<Certificate> entries;
  std::vector<Error> warnings;
};

inline constexpr uint16_t kWinCertRevision2 = 0x0200;
inline constexpr uint16_t kWinCertTypePkcsSignedData = 0x0002;

/// The table the security directory names: its VirtualAddress is a file offset, and the table is never mapped.
/// Entries are 8-byte aligned; one that runs past the table or the file ends the walk with a warning.
Result<CertificateTable> parse_certificate_table(const Image& image);

/// A stretch of the file: [offset, offset + size).
struct FileRange {
  uint64_t offset = 0, size = 0;
};

/// The bytes the Authenticode image digest covers, in the order they are hashed (the PE/COFF specification,
/// "Calculating the PE Image Hash"): the headers up to SizeOfHeaders without CheckSum and the security directory's
/// entry; each section's raw data in order of PointerToRawData; then what follows the last section to the end of
/// the file, less the certificate table at its end.
std::vector<FileRange> authenticode_ranges(const Image& image);

}  // namespace pemap::pe
