// OpenSSL's libcrypto, opened at first use (dlopen). Linked, it binds its 3,000 symbols when each pemap process
// starts (the library asks for BIND_NOW), about 1 ms: half of what a whole `pemap info` of a small file costs
// without it, for a library only digests and signatures need.
#pragma once

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pkcs7.h>
#include <openssl/stack.h>
#include <openssl/x509.h>

#include "pe/error.hpp"

namespace pemap::analysis {

/// The libcrypto functions pemap calls, by their own names. The headers' macros that stand for calls
/// (sk_X509_num, BIO_get_mem_data, OPENSSL_free, PKCS7_type_is_signed, EVP_get_digestbyobj) are written out
/// with the functions they expand to. One group of functions a line:
// clang-format off
#define PEMAP_CRYPTO_FUNCTIONS(X)                                                                              \
  X(ERR_get_error) X(ERR_error_string_n) X(ERR_clear_error) X(CRYPTO_free)                                    \
  X(EVP_MD_CTX_new) X(EVP_MD_CTX_free) X(EVP_DigestInit_ex) X(EVP_DigestUpdate) X(EVP_DigestFinal_ex)         \
  X(EVP_md5) X(EVP_sha1) X(EVP_sha256) X(EVP_get_digestbyname)                                                \
  X(BIO_new) X(BIO_s_mem) X(BIO_new_mem_buf) X(BIO_ctrl) X(BIO_free_all)                                      \
  X(ASN1_get_object) X(ASN1_INTEGER_to_BN) X(ASN1_TIME_print_ex) X(ASN1_OBJECT_free) X(d2i_ASN1_OBJECT)      \
  X(BN_bn2hex) X(BN_free) X(OBJ_obj2txt) X(OBJ_obj2nid) X(OBJ_nid2sn) X(OPENSSL_sk_num) X(OPENSSL_sk_value)  \
  X(X509_NAME_print_ex) X(X509_get_subject_name) X(X509_get_issuer_name) X(X509_get_serialNumber)             \
  X(X509_get0_notBefore) X(X509_get0_notAfter) X(X509_find_by_issuer_and_serial)                              \
  X(X509_STORE_new) X(X509_STORE_free) X(X509_STORE_load_file) X(X509_STORE_set_purpose)                      \
  X(d2i_PKCS7) X(PKCS7_free) X(PKCS7_get_signer_info) X(PKCS7_get_signed_attribute) X(PKCS7_verify)
// clang-format on

struct Crypto {
#define PEMAP_CRYPTO_FUNCTION(name) decltype(&::name) name = nullptr;
  PEMAP_CRYPTO_FUNCTIONS(PEMAP_CRYPTO_FUNCTION)
#undef PEMAP_CRYPTO_FUNCTION
};

/// libcrypto of the ABI these headers describe, opened and bound the first time; the error names the library or
/// the function it lacks.
const Result<Crypto>& crypto();

/// crypto(), or a std::runtime_error saying why not, for callers with no Result to return it in.
const Crypto& crypto_or_throw();

}  // namespace pemap::analysis
