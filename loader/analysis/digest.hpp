// Message digests (OpenSSL's EVP): the hashes analysts compare files by, and Authenticode's image digest.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "pe/bytes.hpp"

namespace pemap::analysis {

enum class DigestKind : uint8_t { md5, sha1, sha256 };

/// "md5", "sha1", "sha256".
std::string_view digest_name(DigestKind kind);

/// A digest fed in pieces.
class Digest {
 public:
  explicit Digest(DigestKind kind);
  ~Digest();
  Digest(const Digest&) = delete;
  Digest& operator=(const Digest&) = delete;
  void update(Bytes bytes);
  /// The digest's bytes; the object is spent.
  std::vector<std::byte> finish();

 private:
  struct Context;
  std::unique_ptr<Context> ctx_;
};

/// Lower-case hexadecimal, two digits a byte.
std::string hex_text(Bytes bytes);
/// hex_text of the digest of `bytes`.
std::string hex_digest(DigestKind kind, Bytes bytes);

}  // namespace pemap::analysis
