// An Authenticode signature (a PKCS#7 SignedData in the certificate table) read with OpenSSL, and the image digest
// recomputed and compared with the one it signs.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "pe/certificates.hpp"

namespace pemap::analysis {

struct CertificateSummary {
  std::string subject, issuer, serial;  ///< names in RFC 2253 form, the serial in hexadecimal
  std::string not_before, not_after;
};

struct SignerSummary {
  std::string issuer, serial;               ///< as the SignerInfo names its certificate
  std::string subject;                      ///< of that certificate, when the signature carries it
  std::string digest_algorithm;             ///< of the signed attributes ("sha256")
  std::optional<std::string> signing_time;  ///< the signingTime attribute, when present
};

struct Signature {
  std::string content_type;      ///< "1.3.6.1.4.1.311.2.1.4" (SpcIndirectDataContent) for Authenticode
  std::string digest_algorithm;  ///< of the image digest
  std::string signed_digest;     ///< the image digest the signature carries, hexadecimal
  std::string computed_digest;   ///< the digest of this file's bytes, computed as Windows computes it
  bool digest_matches = false;
  /// The signer's key signed these attributes, and their messageDigest is the digest of the signed content: the
  /// signature itself, with no view on whom to trust.
  bool signature_valid = false;
  std::string signature_error;  ///< why not, from OpenSSL
  /// With a trust store: whether the signer's chain leads to one of its certificates; none without one.
  std::optional<bool> trusted;
  std::string trust_error;
  std::vector<SignerSummary> signers;
  std::vector<CertificateSummary> certificates;  ///< the chain as stored, in the signature's order
};

/// Certificates to verify signers' chains against, read once from a file of PEM certificates.
class TrustStore {
 public:
  static Result<TrustStore> load(const std::string& path);
  ~TrustStore();
  TrustStore(TrustStore&&) noexcept;
  TrustStore& operator=(TrustStore&&) noexcept;
  const std::string& path() const { return path_; }

 private:
  friend Result<Signature> read_signature(const pe::Image&, const pe::Certificate&, const TrustStore*);
  struct Store;
  TrustStore(std::unique_ptr<Store> s, std::string path);
  std::unique_ptr<Store> store_;
  std::string path_;
};

/// The signature in `entry` (a WIN_CERTIFICATE of type PKCS_SIGNED_DATA) of `image`; with `trust`, whether the
/// signer's chain leads to one of its certificates. The error says why the bytes are not an Authenticode signature.
Result<Signature> read_signature(const pe::Image& image, const pe::Certificate& entry,
                                 const TrustStore* trust = nullptr);

}  // namespace pemap::analysis
