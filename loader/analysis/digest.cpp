// Message digests through OpenSSL.
#include "analysis/digest.hpp"

#include <stdexcept>

#include "analysis/crypto_library.hpp"

namespace pemap::analysis {

std::string_view digest_name(DigestKind kind) {
  switch (kind) {
    case DigestKind::md5:
      return "md5";
    case DigestKind::sha1:
      return "sha1";
    case DigestKind::sha256:
      return "sha256";
  }
  return "";
}

struct Digest::Context {
  const Crypto& c = crypto_or_throw();
  EVP_MD_CTX* ctx = c.EVP_MD_CTX_new();
  ~Context() { c.EVP_MD_CTX_free(ctx); }
};

Digest::Digest(DigestKind kind) : ctx_(std::make_unique<Context>()) {
  const Crypto& c = ctx_->c;
  const EVP_MD* md = kind == DigestKind::md5 ? c.EVP_md5() : kind == DigestKind::sha1 ? c.EVP_sha1() : c.EVP_sha256();
  if (!ctx_->ctx) throw std::bad_alloc();
  // MD5, SHA-1 and SHA-256 are in OpenSSL's default provider; only a FIPS-only configuration refuses MD5.
  if (c.EVP_DigestInit_ex(ctx_->ctx, md, nullptr) != 1)
    throw std::runtime_error("OpenSSL cannot compute " + std::string(digest_name(kind)) + " here");
}

Digest::~Digest() = default;

void Digest::update(Bytes bytes) {
  if (!bytes.empty()) ctx_->c.EVP_DigestUpdate(ctx_->ctx, bytes.data(), bytes.size());
}

std::vector<std::byte> Digest::finish() {
  std::vector<std::byte> out(EVP_MAX_MD_SIZE);
  unsigned n = 0;
  ctx_->c.EVP_DigestFinal_ex(ctx_->ctx, reinterpret_cast<unsigned char*>(out.data()), &n);
  out.resize(n);
  return out;
}

std::string hex_text(Bytes bytes) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * bytes.size());
  for (std::byte b : bytes) {
    out += digits[std::to_integer<unsigned>(b) >> 4];
    out += digits[std::to_integer<unsigned>(b) & 0xF];
  }
  return out;
}

std::string hex_digest(DigestKind kind, Bytes bytes) {
  Digest d(kind);
  d.update(bytes);
  const auto out = d.finish();
  return hex_text(out);
}

}  // namespace pemap::analysis
