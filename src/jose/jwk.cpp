#include "jose/jwk.hpp"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/param_build.h>
#include <openssl/rand.h>

#include <array>
#include <climits>
#include <stdexcept>
#include <utility>

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include "gatehouse/secret.hpp"
#include "jose/base64url.hpp"
#include "jose/json_strict.hpp"

namespace gatehouse::jose {

namespace {

template <typename T, void (*Free)(T*)>
struct Deleter {
  void operator()(T* p) const noexcept { Free(p); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>>;
using PkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, Deleter<EVP_PKEY_CTX, EVP_PKEY_CTX_free>>;
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, Deleter<EVP_MD_CTX, EVP_MD_CTX_free>>;
using BnPtr = std::unique_ptr<BIGNUM, Deleter<BIGNUM, BN_clear_free>>;
using ParamBldPtr = std::unique_ptr<OSSL_PARAM_BLD, Deleter<OSSL_PARAM_BLD, OSSL_PARAM_BLD_free>>;
using ParamPtr = std::unique_ptr<OSSL_PARAM, Deleter<OSSL_PARAM, OSSL_PARAM_free>>;
using EcdsaSigPtr = std::unique_ptr<ECDSA_SIG, Deleter<ECDSA_SIG, ECDSA_SIG_free>>;

constexpr std::size_t kEd25519Bytes = 32;
constexpr std::size_t kP256Bytes = 32;
constexpr std::size_t kEs256SignatureBytes = 2 * kP256Bytes;  // R || S, RFC 7518 §3.4
constexpr std::size_t kHs256Bytes = 32;                       // SHA-256 output
constexpr int kMinRsaBits = 2048;                             // RFC 7518 §3.3
constexpr int kMaxRsaBits = 16384;

// RFC 7518 §6.3.2 RSA private key members, with the OpenSSL parameter each one is.
struct RsaPart {
  const char* member;
  const char* param;
};
constexpr RsaPart kRsaPrivateParts[] = {
    {"d", OSSL_PKEY_PARAM_RSA_D},          {"p", OSSL_PKEY_PARAM_RSA_FACTOR1},
    {"q", OSSL_PKEY_PARAM_RSA_FACTOR2},    {"dp", OSSL_PKEY_PARAM_RSA_EXPONENT1},
    {"dq", OSSL_PKEY_PARAM_RSA_EXPONENT2}, {"qi", OSSL_PKEY_PARAM_RSA_COEFFICIENT1},
};

// Bytes that held key material: wiped when they go out of scope.
class Scrubbed {
 public:
  explicit Scrubbed(std::string bytes) noexcept : bytes_(std::move(bytes)) {}
  Scrubbed(Scrubbed&& other) noexcept : bytes_(std::move(other.bytes_)) {}
  Scrubbed(const Scrubbed&) = delete;
  Scrubbed& operator=(const Scrubbed&) = delete;
  Scrubbed& operator=(Scrubbed&&) = delete;
  ~Scrubbed() {
    if (bytes_.capacity() > 0) OPENSSL_cleanse(bytes_.data(), bytes_.capacity());
  }
  const std::string& bytes() const noexcept { return bytes_; }
  std::string& bytes() noexcept { return bytes_; }

 private:
  std::string bytes_;
};

// OpenSSL reports failures on a per-thread queue that TLS code reads too; a failure handled here
// must not be left on it.
[[noreturn]] void throw_openssl(const char* what) {
  ERR_clear_error();
  throw std::runtime_error(std::string(what) + " failed in OpenSSL");
}

const unsigned char* bytes_of(std::string_view s) noexcept {
  static const unsigned char empty = 0;
  return s.empty() ? &empty : reinterpret_cast<const unsigned char*>(s.data());
}

std::string quoted(std::string_view s) {
  return boost::json::serialize(boost::json::value(boost::json::string_view(s.data(), s.size())));
}

// ---- signing primitives ----------------------------------------------------------------------

std::string evp_sign(EVP_PKEY* pkey, const EVP_MD* md, std::string_view input) {
  MdCtxPtr ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, md, nullptr, pkey) != 1) {
    throw_openssl("EVP_DigestSignInit");
  }
  const int max_size = EVP_PKEY_get_size(pkey);
  if (max_size <= 0) throw_openssl("EVP_PKEY_get_size");
  std::string signature(static_cast<std::size_t>(max_size), '\0');
  std::size_t length = signature.size();
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(signature.data()), &length,
                     bytes_of(input), input.size()) != 1) {
    throw_openssl("EVP_DigestSign");
  }
  signature.resize(length);
  return signature;
}

bool evp_verify(EVP_PKEY* pkey, const EVP_MD* md, std::string_view input,
                const unsigned char* signature, std::size_t signature_size) noexcept {
  MdCtxPtr ctx(EVP_MD_CTX_new());
  const bool ok =
      ctx && EVP_DigestVerifyInit(ctx.get(), nullptr, md, nullptr, pkey) == 1 &&
      EVP_DigestVerify(ctx.get(), signature, signature_size, bytes_of(input), input.size()) == 1;
  if (!ok) ERR_clear_error();
  return ok;
}

bool hmac_sha256(std::string_view key, std::string_view input,
                 std::array<unsigned char, kHs256Bytes>& out) noexcept {
  unsigned int length = 0;
  const bool ok = HMAC(EVP_sha256(), bytes_of(key), static_cast<int>(key.size()), bytes_of(input),
                       input.size(), out.data(), &length) != nullptr &&
                  length == out.size();
  if (!ok) ERR_clear_error();
  return ok;
}

// RFC 7518 §3.4: the JWS signature is R and S as 32-byte big-endian integers, not OpenSSL's DER.
std::string der_to_raw_es256(const std::string& der) {
  const unsigned char* p = reinterpret_cast<const unsigned char*>(der.data());
  EcdsaSigPtr sig(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size())));
  if (!sig) throw_openssl("d2i_ECDSA_SIG");
  const BIGNUM* r = nullptr;
  const BIGNUM* s = nullptr;
  ECDSA_SIG_get0(sig.get(), &r, &s);
  std::string raw(kEs256SignatureBytes, '\0');
  auto* out = reinterpret_cast<unsigned char*>(raw.data());
  if (BN_bn2binpad(r, out, kP256Bytes) != kP256Bytes ||
      BN_bn2binpad(s, out + kP256Bytes, kP256Bytes) != kP256Bytes) {
    throw_openssl("BN_bn2binpad");
  }
  return raw;
}

bool verify_es256(EVP_PKEY* pkey, std::string_view input, std::string_view signature) noexcept {
  if (signature.size() != kEs256SignatureBytes) return false;
  const unsigned char* raw = bytes_of(signature);
  BnPtr r(BN_bin2bn(raw, kP256Bytes, nullptr));
  BnPtr s(BN_bin2bn(raw + kP256Bytes, kP256Bytes, nullptr));
  EcdsaSigPtr sig(ECDSA_SIG_new());
  if (!r || !s || !sig || ECDSA_SIG_set0(sig.get(), r.get(), s.get()) != 1) {
    ERR_clear_error();
    return false;
  }
  (void)r.release();  // owned by sig now
  (void)s.release();
  std::array<unsigned char, 80> der{};  // a P-256 ECDSA-Sig-Value is at most 72 bytes
  const int der_size = i2d_ECDSA_SIG(sig.get(), nullptr);
  if (der_size <= 0 || static_cast<std::size_t>(der_size) > der.size()) {
    ERR_clear_error();
    return false;
  }
  unsigned char* out = der.data();
  if (i2d_ECDSA_SIG(sig.get(), &out) != der_size) {
    ERR_clear_error();
    return false;
  }
  return evp_verify(pkey, EVP_sha256(), input, der.data(), static_cast<std::size_t>(der_size));
}

// ---- key import and export -------------------------------------------------------------------

PkeyPtr pkey_from_params(const char* type, int selection, OSSL_PARAM_BLD* builder) {
  ParamPtr params(OSSL_PARAM_BLD_to_param(builder));
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  EVP_PKEY* raw = nullptr;
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &raw, selection, params.get()) != 1) {
    ERR_clear_error();
    return nullptr;
  }
  return PkeyPtr(raw);
}

// EVP_PKEY_public_check: EC point on the curve and in the group; RSA modulus odd and composite,
// exponent odd and >= 65537. EVP_PKEY_check adds the private part and that it matches.
bool key_is_valid(EVP_PKEY* pkey, bool with_private) noexcept {
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, pkey, nullptr));
  const bool ok =
      ctx && (with_private ? EVP_PKEY_check(ctx.get()) : EVP_PKEY_public_check(ctx.get())) == 1;
  if (!ok) ERR_clear_error();
  return ok;
}

// The big-endian bytes of a BIGNUM parameter: minimal when `width` is 0 (RFC 7518 §2
// Base64urlUInt), else left-padded to `width`.
std::string bn_param(const EVP_PKEY* pkey, const char* name, int width) {
  BIGNUM* raw = nullptr;
  if (EVP_PKEY_get_bn_param(pkey, name, &raw) != 1) throw_openssl("EVP_PKEY_get_bn_param");
  BnPtr bn(raw);
  const int size = width > 0 ? width : BN_num_bytes(bn.get());
  std::string out(static_cast<std::size_t>(size), '\0');
  auto* p = reinterpret_cast<unsigned char*>(out.data());
  if (BN_bn2binpad(bn.get(), p, size) != size) throw_openssl("BN_bn2binpad");
  return out;
}

std::string raw_ed25519(const EVP_PKEY* pkey, bool private_part) {
  std::string out(kEd25519Bytes, '\0');
  std::size_t size = out.size();
  auto* p = reinterpret_cast<unsigned char*>(out.data());
  const int rc = private_part ? EVP_PKEY_get_raw_private_key(pkey, p, &size)
                              : EVP_PKEY_get_raw_public_key(pkey, p, &size);
  if (rc != 1 || size != kEd25519Bytes) throw_openssl("EVP_PKEY_get_raw_key");
  return out;
}

// Appends JWK members in a fixed order; values are quoted JSON strings.
class JwkWriter {
 public:
  explicit JwkWriter(std::size_t expected_size) { text_.reserve(expected_size); }
  ~JwkWriter() {
    if (text_.capacity() > 0) OPENSSL_cleanse(text_.data(), text_.capacity());
  }
  JwkWriter(const JwkWriter&) = delete;
  JwkWriter& operator=(const JwkWriter&) = delete;

  void member(std::string_view name, std::string_view json_string) {
    text_ += text_.empty() ? "{\"" : ",\"";
    text_ += name;
    text_ += "\":";
    text_ += json_string;
  }
  // A base64url value needs no escaping.
  void b64(std::string_view name, std::string_view bytes) {
    Scrubbed encoded(b64url_encode(bytes));
    text_ += text_.empty() ? "{\"" : ",\"";
    text_ += name;
    text_ += "\":\"";
    text_ += encoded.bytes();
    text_ += '"';
  }
  std::string finish() {
    text_ += '}';
    return text_;
  }

 private:
  std::string text_;
};

std::string_view kty_of(Alg alg) noexcept {
  switch (alg) {
    case Alg::EdDSA:
      return "OKP";
    case Alg::ES256:
      return "EC";
    case Alg::RS256:
      return "RSA";
    case Alg::HS256:
      return "oct";
  }
  return "oct";
}

// Members before "kid": the key type and its public (and, when asked, private) parts.
void write_key_parts(JwkWriter& out, const EVP_PKEY* pkey, std::string_view secret, Alg alg,
                     bool with_private) {
  out.member("kty", quoted(kty_of(alg)));
  switch (alg) {
    case Alg::EdDSA:
      out.member("crv", "\"Ed25519\"");
      out.b64("x", raw_ed25519(pkey, false));
      if (with_private) {
        Scrubbed d(raw_ed25519(pkey, true));
        out.b64("d", d.bytes());
      }
      return;
    case Alg::ES256:
      out.member("crv", "\"P-256\"");
      out.b64("x", bn_param(pkey, OSSL_PKEY_PARAM_EC_PUB_X, kP256Bytes));
      out.b64("y", bn_param(pkey, OSSL_PKEY_PARAM_EC_PUB_Y, kP256Bytes));
      if (with_private) {
        Scrubbed d(bn_param(pkey, OSSL_PKEY_PARAM_PRIV_KEY, kP256Bytes));
        out.b64("d", d.bytes());
      }
      return;
    case Alg::RS256:
      out.b64("n", bn_param(pkey, OSSL_PKEY_PARAM_RSA_N, 0));
      out.b64("e", bn_param(pkey, OSSL_PKEY_PARAM_RSA_E, 0));
      if (with_private) {
        for (const RsaPart& part : kRsaPrivateParts) {
          Scrubbed value(bn_param(pkey, part.param, 0));
          out.b64(part.member, value.bytes());
        }
      }
      return;
    case Alg::HS256:
      if (with_private) out.b64("k", secret);
      return;
  }
}

std::string generated_secret() {
  Scrubbed secret(std::string(kHs256Bytes, '\0'));
  if (RAND_bytes(reinterpret_cast<unsigned char*>(secret.bytes().data()), kHs256Bytes) != 1) {
    throw_openssl("RAND_bytes");
  }
  return secret.bytes();
}

void check_kid(const std::string& kid) {
  if (kid.size() > kMaxKidBytes) throw std::invalid_argument("kid longer than 256 bytes");
}

}  // namespace

struct Key::State {
  Alg alg = Alg::HS256;
  std::string kid;
  bool has_private = false;
  PkeyPtr pkey;   // EdDSA, ES256, RS256
  Secret secret;  // HS256
};

Key::Key(std::shared_ptr<const State> state) noexcept : state_(std::move(state)) {}

std::string_view to_string(Alg alg) noexcept {
  switch (alg) {
    case Alg::EdDSA:
      return "EdDSA";
    case Alg::ES256:
      return "ES256";
    case Alg::RS256:
      return "RS256";
    case Alg::HS256:
      return "HS256";
  }
  return "HS256";
}

std::optional<Alg> parse_alg(std::string_view name) noexcept {
  for (const Alg alg : {Alg::EdDSA, Alg::ES256, Alg::RS256, Alg::HS256}) {
    if (name == to_string(alg)) return alg;
  }
  return std::nullopt;
}

Key Key::generate(Alg alg, std::string kid) {
  check_kid(kid);
  auto state = std::make_shared<State>();
  state->alg = alg;
  state->kid = std::move(kid);
  state->has_private = true;
  switch (alg) {
    case Alg::EdDSA:
      state->pkey.reset(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
      break;
    case Alg::ES256:
      state->pkey.reset(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
      break;
    case Alg::RS256:
      // e defaults to 65537.
      state->pkey.reset(
          EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<std::size_t>(kMinRsaBits)));
      break;
    case Alg::HS256: {
      Scrubbed secret(generated_secret());
      state->secret = Secret(secret.bytes());
      return Key(std::move(state));
    }
  }
  if (!state->pkey) throw_openssl("EVP_PKEY_Q_keygen");
  return Key(std::move(state));
}

Key Key::from_secret(std::string_view secret, std::string kid) {
  if (secret.size() < kHs256Bytes) {
    throw std::invalid_argument("HS256 secret shorter than 32 bytes");
  }
  if (secret.size() > static_cast<std::size_t>(INT_MAX)) {
    throw std::invalid_argument("HS256 secret too long");
  }
  check_kid(kid);
  auto state = std::make_shared<State>();
  state->alg = Alg::HS256;
  state->kid = std::move(kid);
  state->has_private = true;
  state->secret = Secret(secret);
  return Key(std::move(state));
}

namespace {

// The members of one JWK, read strictly. Every member used here is a string (RFC 7517 §4,
// RFC 7518 §6, RFC 8037 §2); the constructor's caller checks that first.
class JwkMembers {
 public:
  explicit JwkMembers(const boost::json::object& jwk) noexcept : jwk_(jwk) {}

  bool has(const char* name) const { return jwk_.contains(name); }
  std::optional<std::string_view> text(const char* name) const {
    const auto* member = jwk_.if_contains(name);
    if (member == nullptr) return std::nullopt;
    const auto& s = member->get_string();
    return std::string_view(s.data(), s.size());
  }
  // The strict base64url bytes of member `name`, of exactly `size` bytes unless `size` is 0;
  // nullopt when absent or malformed. Check has() to tell the two apart.
  std::optional<Scrubbed> bytes(const char* name, std::size_t size = 0) const {
    const auto value = text(name);
    if (!value) return std::nullopt;
    auto decoded = b64url_decode(*value);
    if (!decoded) return std::nullopt;
    Scrubbed bytes(std::move(*decoded));
    if (size != 0 && bytes.bytes().size() != size) return std::nullopt;
    return bytes;
  }

 private:
  const boost::json::object& jwk_;
};

// An imported asymmetric key, or why not.
struct Imported {
  PkeyPtr pkey;
  bool has_private = false;
  std::string error;
};

Imported refusal(std::string reason) {
  Imported imported;
  imported.error = std::move(reason);
  return imported;
}

// RFC 8037 §2: {"kty":"OKP","crv":"Ed25519","x":..., "d"?:...}
Imported import_ed25519(const JwkMembers& jwk) {
  const auto crv = jwk.text("crv");
  if (!crv) return refusal("missing \"crv\"");
  if (*crv != "Ed25519") return refusal("unsupported \"crv\"");
  if (!jwk.has("x")) return refusal("missing \"x\"");
  const auto x = jwk.bytes("x", kEd25519Bytes);
  if (!x) return refusal("\"x\" is not 32 bytes of base64url");
  Imported imported;
  if (jwk.has("d")) {
    const auto d = jwk.bytes("d", kEd25519Bytes);
    if (!d) return refusal("\"d\" is not 32 bytes of base64url");
    imported.pkey.reset(EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr,
                                                     bytes_of(d->bytes()), kEd25519Bytes));
    if (!imported.pkey) throw_openssl("EVP_PKEY_new_raw_private_key");
    if (raw_ed25519(imported.pkey.get(), false) != x->bytes()) {
      return refusal("\"x\" is not the public key of \"d\"");
    }
    imported.has_private = true;
  } else {
    imported.pkey.reset(EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, bytes_of(x->bytes()),
                                                    kEd25519Bytes));
    if (!imported.pkey) throw_openssl("EVP_PKEY_new_raw_public_key");
  }
  return imported;
}

// RFC 7518 §6.2: {"kty":"EC","crv":"P-256","x":...,"y":..., "d"?:...}
Imported import_p256(const JwkMembers& jwk) {
  const auto crv = jwk.text("crv");
  if (!crv) return refusal("missing \"crv\"");
  if (*crv != "P-256") return refusal("unsupported \"crv\"");
  if (!jwk.has("x") || !jwk.has("y")) return refusal("missing \"x\" or \"y\"");
  const auto x = jwk.bytes("x", kP256Bytes);
  const auto y = jwk.bytes("y", kP256Bytes);
  if (!x || !y) return refusal("\"x\" or \"y\" is not 32 bytes of base64url");
  const bool with_private = jwk.has("d");
  BnPtr scalar;
  if (with_private) {
    const auto d = jwk.bytes("d", kP256Bytes);
    if (!d) return refusal("\"d\" is not 32 bytes of base64url");
    scalar.reset(BN_secure_new());
    if (!scalar || BN_bin2bn(bytes_of(d->bytes()), kP256Bytes, scalar.get()) == nullptr) {
      throw_openssl("BN_bin2bn");
    }
  }
  // SEC 1 §2.3.3 uncompressed point: 0x04 || X || Y.
  const std::string point = "\x04" + x->bytes() + y->bytes();
  ParamBldPtr builder(OSSL_PARAM_BLD_new());
  if (!builder ||
      OSSL_PARAM_BLD_push_utf8_string(builder.get(), OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) !=
          1 ||
      OSSL_PARAM_BLD_push_octet_string(builder.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                       point.size()) != 1 ||
      (scalar &&
       OSSL_PARAM_BLD_push_BN(builder.get(), OSSL_PKEY_PARAM_PRIV_KEY, scalar.get()) != 1)) {
    throw_openssl("OSSL_PARAM_BLD");
  }
  Imported imported;
  imported.pkey =
      pkey_from_params("EC", with_private ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY, builder.get());
  if (!imported.pkey || !key_is_valid(imported.pkey.get(), with_private)) {
    return refusal(with_private ? "invalid P-256 key pair" : "point not on the P-256 curve");
  }
  imported.has_private = with_private;
  return imported;
}

// RFC 7518 §6.3: {"kty":"RSA","n":...,"e":...} plus, for a private key, all of "d", "p", "q",
// "dp", "dq", "qi" (§6.3.2: the CRT members are optional there, required here).
Imported import_rsa(const JwkMembers& jwk) {
  if (jwk.has("oth")) return refusal("multi-prime RSA keys are not supported");
  if (!jwk.has("n") || !jwk.has("e")) return refusal("missing \"n\" or \"e\"");
  const auto n = jwk.bytes("n");
  const auto e = jwk.bytes("e");
  if (!n || !e) return refusal("\"n\" or \"e\" is not base64url");
  BnPtr n_bn(BN_bin2bn(bytes_of(n->bytes()), static_cast<int>(n->bytes().size()), nullptr));
  BnPtr e_bn(BN_bin2bn(bytes_of(e->bytes()), static_cast<int>(e->bytes().size()), nullptr));
  if (!n_bn || !e_bn) throw_openssl("BN_bin2bn");
  const int bits = BN_num_bits(n_bn.get());
  if (bits < kMinRsaBits) return refusal("RSA modulus shorter than 2048 bits");
  if (bits > kMaxRsaBits) return refusal("RSA modulus longer than 16384 bits");
  // SP 800-56B §6.2: e odd, 65537 <= e < 2^256.
  const int e_bits = BN_num_bits(e_bn.get());
  if (!BN_is_odd(e_bn.get()) || e_bits < 17 || e_bits > 256) {
    return refusal("RSA exponent must be odd and at least 65537");
  }

  std::size_t present = 0;
  for (const RsaPart& part : kRsaPrivateParts) present += jwk.has(part.member) ? 1 : 0;
  if (present != 0 && present != std::size(kRsaPrivateParts)) {
    return refusal("an RSA private key needs all of \"d\", \"p\", \"q\", \"dp\", \"dq\", \"qi\"");
  }
  const bool with_private = present != 0;

  ParamBldPtr builder(OSSL_PARAM_BLD_new());
  if (!builder || OSSL_PARAM_BLD_push_BN(builder.get(), OSSL_PKEY_PARAM_RSA_N, n_bn.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(builder.get(), OSSL_PKEY_PARAM_RSA_E, e_bn.get()) != 1) {
    throw_openssl("OSSL_PARAM_BLD");
  }
  // The builder refers to the BIGNUMs until OSSL_PARAM_BLD_to_param.
  std::array<BnPtr, std::size(kRsaPrivateParts)> private_bns;
  if (with_private) {
    for (std::size_t i = 0; i < private_bns.size(); ++i) {
      const auto value = jwk.bytes(kRsaPrivateParts[i].member);
      if (!value || value->bytes().empty()) {
        return refusal(std::string("\"") + kRsaPrivateParts[i].member + "\" is not base64url");
      }
      private_bns[i].reset(BN_secure_new());
      if (!private_bns[i] ||
          BN_bin2bn(bytes_of(value->bytes()), static_cast<int>(value->bytes().size()),
                    private_bns[i].get()) == nullptr ||
          OSSL_PARAM_BLD_push_BN(builder.get(), kRsaPrivateParts[i].param, private_bns[i].get()) !=
              1) {
        throw_openssl("OSSL_PARAM_BLD");
      }
    }
  }
  Imported imported;
  imported.pkey =
      pkey_from_params("RSA", with_private ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY, builder.get());
  if (!imported.pkey || !key_is_valid(imported.pkey.get(), with_private)) {
    return refusal(with_private ? "invalid RSA private key" : "invalid RSA public key");
  }
  imported.has_private = with_private;
  return imported;
}

}  // namespace

std::optional<Key> Key::from_jwk(std::string_view jwk_json, std::string* error,
                                 std::optional<Alg> default_alg) {
  const auto refuse = [error](std::string_view reason) -> std::optional<Key> {
    if (error != nullptr) *error = "JWK: " + std::string(reason);
    return std::nullopt;
  };

  std::string parse_error;
  const auto object = parse_object_strict(jwk_json, &parse_error);
  if (!object) return refuse(parse_error);
  for (const char* name : {"kty", "crv", "x", "y", "d", "n", "e", "p", "q", "dp", "dq", "qi", "k",
                           "alg", "kid", "use"}) {
    const auto* member = object->if_contains(name);
    if (member != nullptr && !member->is_string()) {
      return refuse(std::string("\"") + name + "\" is not a string");
    }
  }
  const JwkMembers jwk(*object);

  const auto kty = jwk.text("kty");
  if (!kty) return refuse("missing \"kty\"");
  if (*kty != "OKP" && *kty != "EC" && *kty != "RSA" && *kty != "oct") {
    return refuse("unsupported \"kty\"");
  }
  // RFC 7517 §4.2
  if (const auto use = jwk.text("use"); use && *use != "sig")
    return refuse("\"use\" is not \"sig\"");

  std::optional<Alg> alg;
  if (const auto alg_name = jwk.text("alg")) {
    alg = parse_alg(*alg_name);
    if (!alg) return refuse("unsupported \"alg\"");
  } else if (default_alg) {
    alg = default_alg;
  } else if (*kty == "OKP") {
    alg = Alg::EdDSA;
  } else if (*kty == "EC") {
    alg = Alg::ES256;
  } else {
    return refuse("an RSA or oct key needs an \"alg\"");
  }
  if (*kty != kty_of(*alg)) return refuse("\"kty\" does not fit the algorithm");

  auto state = std::make_shared<State>();
  state->alg = *alg;
  if (const auto kid = jwk.text("kid")) {
    if (kid->size() > kMaxKidBytes) return refuse("\"kid\" longer than 256 bytes");
    state->kid = std::string(*kid);
  }

  Imported imported;
  switch (*alg) {
    case Alg::EdDSA:
      imported = import_ed25519(jwk);
      break;
    case Alg::ES256:
      imported = import_p256(jwk);
      break;
    case Alg::RS256:
      imported = import_rsa(jwk);
      break;
    case Alg::HS256: {  // RFC 7518 §6.4
      if (!jwk.has("k")) return refuse("missing \"k\"");
      const auto k = jwk.bytes("k");
      if (!k) return refuse("\"k\" is not base64url");
      if (k->bytes().size() < kHs256Bytes) return refuse("\"k\" shorter than 32 bytes");
      if (k->bytes().size() > static_cast<std::size_t>(INT_MAX)) return refuse("\"k\" too long");
      state->secret = Secret(k->bytes());
      state->has_private = true;
      return Key(std::move(state));
    }
  }
  if (!imported.error.empty()) return refuse(imported.error);
  state->pkey = std::move(imported.pkey);
  state->has_private = imported.has_private;
  return Key(std::move(state));
}

Alg Key::alg() const noexcept {
  return state_->alg;
}

const std::string& Key::kid() const noexcept {
  return state_->kid;
}

bool Key::has_private() const noexcept {
  return state_->has_private;
}

bool Key::is_symmetric() const noexcept {
  return state_->alg == Alg::HS256;
}

std::string Key::public_jwk() const {
  if (is_symmetric()) return {};
  JwkWriter out(512 + state_->kid.size() * 6);
  write_key_parts(out, state_->pkey.get(), state_->secret.reveal(), state_->alg, false);
  if (!state_->kid.empty()) out.member("kid", quoted(state_->kid));
  out.member("alg", quoted(to_string(state_->alg)));
  out.member("use", "\"sig\"");
  return out.finish();
}

std::string Key::private_jwk() const {
  if (!has_private()) throw std::logic_error("private_jwk: the key has no private part");
  JwkWriter out(16384 + state_->kid.size() * 6);
  write_key_parts(out, state_->pkey.get(), state_->secret.reveal(), state_->alg, true);
  if (!state_->kid.empty()) out.member("kid", quoted(state_->kid));
  out.member("alg", quoted(to_string(state_->alg)));
  out.member("use", "\"sig\"");
  return out.finish();
}

std::string Key::sign(std::string_view signing_input) const {
  const State& state = *state_;
  if (!state.has_private) throw std::logic_error("sign: the key has no private part");
  switch (state.alg) {
    case Alg::EdDSA:
      return evp_sign(state.pkey.get(), nullptr, signing_input);  // RFC 8032 PureEdDSA
    case Alg::ES256: {
      Scrubbed der(evp_sign(state.pkey.get(), EVP_sha256(), signing_input));
      return der_to_raw_es256(der.bytes());
    }
    case Alg::RS256:
      return evp_sign(state.pkey.get(), EVP_sha256(), signing_input);
    case Alg::HS256: {
      std::array<unsigned char, kHs256Bytes> mac{};
      if (!hmac_sha256(state.secret.reveal(), signing_input, mac)) throw_openssl("HMAC");
      return std::string(reinterpret_cast<const char*>(mac.data()), mac.size());
    }
  }
  throw std::logic_error("sign: unknown algorithm");
}

bool Key::verify(std::string_view signing_input, std::string_view signature) const noexcept {
  const State& state = *state_;
  switch (state.alg) {
    case Alg::EdDSA:
      if (signature.size() != 64) return false;  // RFC 8032 §5.1.6
      return evp_verify(state.pkey.get(), nullptr, signing_input, bytes_of(signature),
                        signature.size());
    case Alg::ES256:
      return verify_es256(state.pkey.get(), signing_input, signature);
    case Alg::RS256:
      return evp_verify(state.pkey.get(), EVP_sha256(), signing_input, bytes_of(signature),
                        signature.size());
    case Alg::HS256: {
      if (signature.size() != kHs256Bytes) return false;
      std::array<unsigned char, kHs256Bytes> mac{};
      const bool computed = hmac_sha256(state.secret.reveal(), signing_input, mac);
      const bool equal = CRYPTO_memcmp(mac.data(), bytes_of(signature), mac.size()) == 0;
      OPENSSL_cleanse(mac.data(), mac.size());
      return computed && equal;
    }
  }
  return false;
}

}  // namespace gatehouse::jose
