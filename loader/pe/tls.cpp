// Parsing of the TLS directory.
#include "pe/tls.hpp"

#include <fmt/format.h>

namespace pemap::pe {

namespace {

// The directory's own fields, as the format lays them out, into `out`; the error when they cannot be read.
std::optional<Error> read_directory(const Image& image, const DataDirectory& dir, Tls& out) {
  return with_format(image.format(), [&](auto traits) -> std::optional<Error> {
    auto raw = image.read_rva<typename decltype(traits)::TlsDirectory>(dir.VirtualAddress, "TLS directory");
    if (!raw) return raw.take_error();
    out.start_of_raw_data = raw->StartAddressOfRawData;
    out.end_of_raw_data = raw->EndAddressOfRawData;
    out.address_of_index = raw->AddressOfIndex;
    out.address_of_callbacks = raw->AddressOfCallBacks;
    out.size_of_zero_fill = raw->SizeOfZeroFill;
    out.characteristics = raw->Characteristics;
    return std::nullopt;
  });
}

}  // namespace

std::optional<uint64_t> tls_address_of_index(const Image& image) {
  Tls t;
  const auto used = image.used_directory(kDirTls);
  if (!used || read_directory(image, *used, t)) return std::nullopt;
  return t.address_of_index;
}

Result<Tls> parse_tls(const Image& image) {
  Tls out;
  const auto used = image.used_directory(kDirTls);
  if (!used) return out;
  const DataDirectory dir = *used;
  if (auto e = read_directory(image, dir, out)) return *e;
  out.present = true;
  if (auto cut = image.directory_unreadable(kDirTls, "TLS directory",
                                            image.is_pe32plus() ? sizeof(TlsDirectory64) : sizeof(TlsDirectory32)))
    out.warnings.push_back(std::move(*cut));
  if (out.address_of_callbacks == 0) return out;
  auto rva = image.va_to_rva(out.address_of_callbacks);
  if (!rva) {
    out.warnings.push_back(make_error(Status::success, "TLS directory", Location::rva(dir.VirtualAddress),
                                      fmt::format("AddressOfCallBacks {:#x} is outside the image at its preferred "
                                                  "base",
                                                  out.address_of_callbacks)));
    return out;
  }
  const uint64_t limit = image.file().size() / image.pointer_size() + 1;
  for (uint64_t i = 0;; ++i) {
    if (i >= limit) {
      out.warnings.push_back(make_error(Status::success, "TLS callbacks", Location::rva(*rva),
                                        "no NULL terminator within the file's size; the list is cut here"));
      break;
    }
    auto cb = image.read_pointer(*rva + i * image.pointer_size(), "TLS callback array");
    if (!cb) {
      out.warnings.push_back(cb.take_error());
      break;
    }
    if (*cb == 0) break;
    out.callbacks.push_back(*cb);
  }
  return out;
}

}  // namespace pemap::pe
