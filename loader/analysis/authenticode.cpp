// Authenticode through OpenSSL.
#include "analysis/authenticode.hpp"

#include <openssl/x509v3.h>

#include <memory>

#include <fmt/format.h>

#include "analysis/crypto_library.hpp"
#include "analysis/digest.hpp"

namespace pemap::analysis {
namespace {

// libcrypto's functions: read_signature and TrustStore::load open it before anything here runs.
const Crypto& ssl() { return crypto_or_throw(); }

struct Free {
  void operator()(PKCS7* p) const { ssl().PKCS7_free(p); }
  void operator()(BIO* p) const { ssl().BIO_free_all(p); }
  void operator()(X509_STORE* p) const { ssl().X509_STORE_free(p); }
  void operator()(EVP_MD_CTX* p) const { ssl().EVP_MD_CTX_free(p); }
  void operator()(ASN1_OBJECT* p) const { ssl().ASN1_OBJECT_free(p); }
  void operator()(BIGNUM* p) const { ssl().BN_free(p); }
};
using Pkcs7Ptr = std::unique_ptr<PKCS7, Free>;
using BioPtr = std::unique_ptr<BIO, Free>;
using StorePtr = std::unique_ptr<X509_STORE, Free>;
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, Free>;
using ObjPtr = std::unique_ptr<ASN1_OBJECT, Free>;
using BnPtr = std::unique_ptr<BIGNUM, Free>;

// The headers' stack macros, through the functions they expand to.
template <class Stack>
int stack_size(const Stack* s) {
  return ssl().OPENSSL_sk_num(reinterpret_cast<const OPENSSL_STACK*>(s));
}
template <class T, class Stack>
T* stack_at(const Stack* s, int i) {
  return static_cast<T*>(ssl().OPENSSL_sk_value(reinterpret_cast<const OPENSSL_STACK*>(s), i));
}

constexpr const char* kSpcIndirectDataContent = "1.3.6.1.4.1.311.2.1.4";

Error bad(const pe::Certificate& entry, std::string message) {
  return make_error(Status::success, "Authenticode signature", Location::offset(entry.offset), std::move(message));
}

// What OpenSSL's error queue says, emptied.
std::string openssl_error() {
  std::string out;
  while (unsigned long e = ssl().ERR_get_error()) {
    char text[256];
    ssl().ERR_error_string_n(e, text, sizeof text);
    out = text;  // the first error queued is usually the cause; the last is kept as the most specific
  }
  return out.empty() ? "no reason given" : out;
}

std::string bio_text(BIO* bio) {
  char* data = nullptr;
  const long n = ssl().BIO_ctrl(bio, BIO_CTRL_INFO, 0, &data);  // BIO_get_mem_data
  return n > 0 ? std::string(data, static_cast<size_t>(n)) : std::string();
}

std::string name_text(const X509_NAME* name) {
  BioPtr bio(ssl().BIO_new(ssl().BIO_s_mem()));
  ssl().X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_RFC2253);
  return bio_text(bio.get());
}

std::string serial_text(const ASN1_INTEGER* serial) {
  BnPtr bn(ssl().ASN1_INTEGER_to_BN(serial, nullptr));
  if (!bn) return "?";
  char* hex = ssl().BN_bn2hex(bn.get());
  std::string out(hex ? hex : "?");
  ssl().CRYPTO_free(hex, __FILE__, __LINE__);  // OPENSSL_free
  return out;
}

std::string time_text(const ASN1_TIME* t) {
  BioPtr bio(ssl().BIO_new(ssl().BIO_s_mem()));
  ssl().ASN1_TIME_print_ex(bio.get(), t, ASN1_DTFLGS_ISO8601);
  return bio_text(bio.get());
}

std::string object_text(const ASN1_OBJECT* obj, bool numeric) {
  char text[128];
  ssl().OBJ_obj2txt(text, sizeof text, obj, numeric ? 1 : 0);
  return text;
}

// One DER element at `p` within [p, end): its tag, and its contents.
struct Element {
  int tag = 0;
  const unsigned char* start = nullptr;  // of the whole element
  const unsigned char* contents = nullptr;
  long length = 0;
  const unsigned char* end() const { return contents + length; }
};
std::optional<Element> element(const unsigned char* p, const unsigned char* end) {
  Element e;
  e.start = p;
  int xclass = 0;
  const unsigned char* q = p;
  if (ssl().ASN1_get_object(&q, &e.length, &e.tag, &xclass, end - p) & 0x80) return std::nullopt;
  e.contents = q;
  if (e.length < 0 || e.length > end - q) return std::nullopt;
  return e;
}

// SpcIndirectDataContent ::= SEQUENCE { data SpcAttributeTypeAndOptionalValue, messageDigest DigestInfo }, and
// DigestInfo ::= SEQUENCE { AlgorithmIdentifier, OCTET STRING }: the algorithm and the digest.
struct Indirect {
  const unsigned char* contents = nullptr;  // what the signature's messageDigest covers: the SEQUENCE's contents
  long length = 0;
  ObjPtr algorithm;
  std::vector<std::byte> digest;
};
std::optional<Indirect> indirect_data(const unsigned char* p, long n) {
  const unsigned char* end = p + n;
  auto outer = element(p, end);
  if (!outer || outer->tag != V_ASN1_SEQUENCE) return std::nullopt;
  auto data = element(outer->contents, outer->end());
  if (!data) return std::nullopt;
  auto info = element(data->end(), outer->end());
  if (!info || info->tag != V_ASN1_SEQUENCE) return std::nullopt;
  auto alg = element(info->contents, info->end());
  if (!alg || alg->tag != V_ASN1_SEQUENCE) return std::nullopt;
  const unsigned char* q = alg->contents;
  Indirect out;
  out.algorithm.reset(ssl().d2i_ASN1_OBJECT(nullptr, &q, alg->length));
  auto octets = element(alg->end(), info->end());
  if (!out.algorithm || !octets || octets->tag != V_ASN1_OCTET_STRING) return std::nullopt;
  out.contents = outer->contents;
  out.length = outer->length;
  const auto* bytes = reinterpret_cast<const std::byte*>(octets->contents);
  out.digest.assign(bytes, bytes + octets->length);
  return out;
}

// The image digest over authenticode_ranges, with `md`; none when this OpenSSL cannot compute it (MD4 lives in the
// legacy provider, which is not loaded).
std::optional<std::string> image_digest(const pe::Image& image, const EVP_MD* md) {
  MdCtxPtr ctx(ssl().EVP_MD_CTX_new());
  if (!ctx) throw std::bad_alloc();
  if (ssl().EVP_DigestInit_ex(ctx.get(), md, nullptr) != 1) return std::nullopt;
  for (const auto& r : pe::authenticode_ranges(image))
    ssl().EVP_DigestUpdate(ctx.get(), image.file().data() + r.offset, r.size);
  std::vector<std::byte> out(EVP_MAX_MD_SIZE);
  unsigned n = 0;
  ssl().EVP_DigestFinal_ex(ctx.get(), reinterpret_cast<unsigned char*>(out.data()), &n);
  out.resize(n);
  return hex_text(out);
}

}  // namespace

struct TrustStore::Store {
  StorePtr store{ssl().X509_STORE_new()};
};

TrustStore::TrustStore(std::unique_ptr<Store> s, std::string path) : store_(std::move(s)), path_(std::move(path)) {}
TrustStore::~TrustStore() = default;
TrustStore::TrustStore(TrustStore&&) noexcept = default;
TrustStore& TrustStore::operator=(TrustStore&&) noexcept = default;

Result<TrustStore> TrustStore::load(const std::string& path) {
  if (!crypto()) return crypto().error();
  ssl().ERR_clear_error();
  auto s = std::make_unique<Store>();
  if (!s->store || ssl().X509_STORE_load_file(s->store.get(), path.c_str()) != 1)
    return make_error(Status::success, "trust store", Location{},
                      fmt::format("{}: cannot be read as PEM certificates: {}", path, openssl_error()));
  ssl().X509_STORE_set_purpose(s->store.get(), X509_PURPOSE_ANY);  // code signing is not among PKCS7_verify's purposes
  return TrustStore(std::move(s), path);
}

Result<Signature> read_signature(const pe::Image& image, const pe::Certificate& entry, const TrustStore* trust) {
  if (!crypto()) return crypto().error();
  const Crypto& c = ssl();
  c.ERR_clear_error();
  if (entry.type != pe::kWinCertTypePkcsSignedData)
    return bad(entry, fmt::format("wCertificateType {} is not PKCS_SIGNED_DATA (2)", entry.type));
  const auto* der = reinterpret_cast<const unsigned char*>(entry.data.data());
  const unsigned char* p = der;
  Pkcs7Ptr p7(c.d2i_PKCS7(nullptr, &p, static_cast<long>(entry.data.size())));
  if (!p7) return bad(entry, "not a DER PKCS#7 structure: " + openssl_error());
  if (c.OBJ_obj2nid(p7->type) != NID_pkcs7_signed) return bad(entry, "a PKCS#7 structure, but not SignedData");
  if (!p7->d.sign) return bad(entry, "SignedData with no content (its optional part left out)");
  PKCS7* inner = p7->d.sign->contents;
  Signature out;
  out.content_type = inner && inner->type ? object_text(inner->type, true) : "";
  if (out.content_type != kSpcIndirectDataContent)
    return bad(entry, fmt::format("the signed content is {}, not SpcIndirectDataContent ({})",
                                  out.content_type.empty() ? "missing" : out.content_type, kSpcIndirectDataContent));
  if (!inner->d.other || inner->d.other->type != V_ASN1_SEQUENCE)
    return bad(entry, "SpcIndirectDataContent is not a SEQUENCE");
  const ASN1_STRING* seq = inner->d.other->value.sequence;
  auto indirect = indirect_data(seq->data, seq->length);
  if (!indirect) return bad(entry, "SpcIndirectDataContent holds no DigestInfo");
  const EVP_MD* md = c.EVP_get_digestbyname(c.OBJ_nid2sn(c.OBJ_obj2nid(indirect->algorithm.get())));
  out.digest_algorithm = object_text(indirect->algorithm.get(), false);
  out.signed_digest = hex_text(indirect->digest);
  if (!md) return bad(entry, "the image digest's algorithm " + out.digest_algorithm + " is not one OpenSSL has");
  auto computed = image_digest(image, md);
  if (!computed)
    return bad(entry, "the image digest's algorithm " + out.digest_algorithm +
                          " is not available in this OpenSSL: " + openssl_error());
  out.computed_digest = *computed;
  out.digest_matches = out.computed_digest == out.signed_digest;

  // The certificates as stored, and each signer with the certificate it names.
  STACK_OF(X509)* certs = p7->d.sign->cert;  // d.sign was checked above
  for (int i = 0; certs && i < stack_size(certs); ++i) {
    X509* x = stack_at<X509>(certs, i);
    out.certificates.push_back({name_text(c.X509_get_subject_name(x)), name_text(c.X509_get_issuer_name(x)),
                                serial_text(c.X509_get_serialNumber(x)), time_text(c.X509_get0_notBefore(x)),
                                time_text(c.X509_get0_notAfter(x))});
  }
  STACK_OF(PKCS7_SIGNER_INFO)* infos = c.PKCS7_get_signer_info(p7.get());
  for (int i = 0; infos && i < stack_size(infos); ++i) {
    PKCS7_SIGNER_INFO* si = stack_at<PKCS7_SIGNER_INFO>(infos, i);
    SignerSummary s;
    s.issuer = name_text(si->issuer_and_serial->issuer);
    s.serial = serial_text(si->issuer_and_serial->serial);
    s.digest_algorithm = object_text(si->digest_alg->algorithm, false);
    if (X509* x = certs ? c.X509_find_by_issuer_and_serial(certs, si->issuer_and_serial->issuer,
                                                           si->issuer_and_serial->serial)
                        : nullptr)
      s.subject = name_text(c.X509_get_subject_name(x));
    if (ASN1_TYPE* t = c.PKCS7_get_signed_attribute(si, NID_pkcs9_signingTime);
        t && (t->type == V_ASN1_UTCTIME || t->type == V_ASN1_GENERALIZEDTIME))
      s.signing_time = time_text(t->value.utctime);
    out.signers.push_back(std::move(s));
  }

  // The signature over the content: Authenticode's messageDigest covers the SEQUENCE's contents, not its header.
  const auto verify = [&](X509_STORE* store, int flags, std::string& error) {
    BioPtr content(c.BIO_new_mem_buf(indirect->contents, static_cast<int>(indirect->length)));
    c.ERR_clear_error();
    const bool ok = c.PKCS7_verify(p7.get(), nullptr, store, content.get(), nullptr, flags | PKCS7_BINARY) == 1;
    if (!ok) error = openssl_error();
    return ok;
  };
  StorePtr empty(c.X509_STORE_new());
  out.signature_valid = verify(empty.get(), PKCS7_NOVERIFY, out.signature_error);
  if (trust) {
    out.trusted = verify(trust->store_->store.get(), 0, out.trust_error);
    if (!*out.trusted)
      out.trust_error += " (the chain is checked at the current time: a timestamp countersignature is not consulted)";
  }
  c.ERR_clear_error();
  return out;
}

}  // namespace pemap::analysis
