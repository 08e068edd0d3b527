// The certificate table and the Authenticode digest's ranges.
#include "pe/certificates.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "pe/checksum.hpp"

namespace pemap::pe {

Result<CertificateTable> parse_certificate_table(const Image& image) {
  CertificateTable out;
  const DataDirectory dir = image.directory(kDirSecurity);
  if (dir.VirtualAddress == 0 || dir.Size == 0) return out;
  out.present = true;
  out.offset = dir.VirtualAddress;
  out.size = dir.Size;
  const Bytes file = image.file();
  const auto warn = [&](uint64_t at, std::string message) {
    out.warnings.push_back(make_error(Status::success, "certificate table", Location::offset(at), std::move(message)));
  };
  uint64_t end = out.offset + out.size;
  if (end > file.size()) {
    warn(out.offset,
         fmt::format("{:#x} bytes from offset {:#x} run past the end of the file ({:#x} bytes): the file is "
                     "cut short",
                     out.size, out.offset, file.size()));
    end = file.size();
  }
  if (out.offset + out.size < file.size())
    warn(out.offset + out.size, fmt::format("{} bytes follow the table: signing tools put it at the end of the file, "
                                            "and the image digest covers what follows it",
                                            file.size() - (out.offset + out.size)));
  for (uint64_t at = out.offset; at < end;) {
    if (end - at < 8) {
      warn(at, fmt::format("{} bytes left, too few for a WIN_CERTIFICATE header", end - at));
      break;
    }
    Certificate c;
    c.offset = at;
    c.length = load<uint32_t>(file, at);
    c.revision = load<uint16_t>(file, at + 4);
    c.type = load<uint16_t>(file, at + 6);
    if (c.length < 8 || c.length > end - at) {
      warn(at, fmt::format("dwLength {:#x} does not fit in the {:#x} bytes left of the table", c.length, end - at));
      break;
    }
    c.data = file.subspan(at + 8, c.length - 8);
    out.entries.push_back(c);
    at += align_up(c.length, 8);
  }
  return out;
}

std::vector<FileRange> authenticode_ranges(const Image& image) {
  const uint64_t size = image.file().size();
  const uint64_t checksum = checksum_offset(image);
  const uint64_t security = image.optional_header_offset() +
                            (image.is_pe32plus() ? sizeof(OptionalHeader64) : sizeof(OptionalHeader32)) +
                            kDirSecurity * sizeof(DataDirectory);
  const uint64_t headers = std::min<uint64_t>(image.optional_header().size_of_headers, size);
  std::vector<FileRange> out;
  const auto add = [&](uint64_t from, uint64_t to) {
    to = std::min(to, size);
    if (to > from) out.push_back({from, to - from});
  };
  add(0, std::min(checksum, headers));
  add(checksum + 4, std::min(security, headers));
  add(security + sizeof(DataDirectory), headers);
  std::vector<const Section*> sections;
  for (const auto& s : image.sections())
    if (s.header.SizeOfRawData != 0) sections.push_back(&s);
  std::stable_sort(sections.begin(), sections.end(), [](const Section* a, const Section* b) {
    return a->header.PointerToRawData < b->header.PointerToRawData;
  });
  uint64_t hashed_to = headers;
  for (const Section* s : sections) {
    const uint64_t from = s->header.PointerToRawData;
    add(from, from + s->header.SizeOfRawData);
    hashed_to = std::max(hashed_to, std::min<uint64_t>(from + s->header.SizeOfRawData, size));
  }
  // The rest of the file, less the certificate table (signing tools put it at the end; whatever follows it is
  // hashed too).
  const DataDirectory dir = image.directory(kDirSecurity);
  const uint64_t table = dir.VirtualAddress, table_end = uint64_t{dir.VirtualAddress} + dir.Size;
  if (dir.VirtualAddress == 0 || dir.Size == 0 || table_end <= hashed_to) {
    add(hashed_to, size);
  } else {
    add(hashed_to, std::max(hashed_to, table));
    add(std::max(hashed_to, table_end), size);
  }
  return out;
}

}  // namespace pemap::pe
