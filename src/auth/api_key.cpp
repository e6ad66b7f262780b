#include "auth/api_key.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "util/encoding.hpp"

namespace gatehouse::auth {

namespace {
constexpr std::string_view kPrefix = "gh_";
constexpr std::size_t kIdHex = 16;
constexpr std::size_t kSecretHex = 64;

bool all_lower_hex(std::string_view s) noexcept {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}
}  // namespace

std::optional<ApiKeyParts> parse_api_key(std::string_view key) noexcept {
  if (key.size() != kPrefix.size() + kIdHex + 1 + kSecretHex) return std::nullopt;
  if (!key.starts_with(kPrefix)) return std::nullopt;
  const std::string_view id = key.substr(kPrefix.size(), kIdHex);
  if (key[kPrefix.size() + kIdHex] != '_') return std::nullopt;
  const std::string_view secret = key.substr(kPrefix.size() + kIdHex + 1);
  if (!all_lower_hex(id) || !all_lower_hex(secret)) return std::nullopt;
  return ApiKeyParts{id, secret};
}

std::array<unsigned char, 32> hash_api_key_secret(std::string_view secret) noexcept {
  // Fetched once: the one-shot SHA256() looks the algorithm up on every call (bench/perf.md).
  static EVP_MD* const sha256 = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  std::array<unsigned char, 32> out{};
  EVP_Digest(secret.data(), secret.size(), out.data(), nullptr, sha256, nullptr);
  return out;
}

NewApiKey generate_api_key() {
  NewApiKey k;
  k.id = util::hex_encode(util::random_bytes(kIdHex / 2));
  std::string secret = util::hex_encode(util::random_bytes(kSecretHex / 2));
  k.key = std::string(kPrefix) + k.id + "_" + secret;
  k.secret_hash = hash_api_key_secret(secret);
  OPENSSL_cleanse(secret.data(), secret.size());
  return k;
}

ApiKeyVerifier::ApiKeyVerifier(std::vector<StorePtr> stores, const Clock& clock,
                               guard::FailedLoginLimiter* limiter)
    : stores_(std::move(stores)), clock_(clock), limiter_(limiter) {}

ApiKeyLookup ApiKeyVerifier::find(std::string_view id) const {
  for (const auto& store : stores_) {
    auto found = store->find_api_key(id);
    if (found.status != LookupStatus::unknown_user) return found;
  }
  return {};
}

bool ApiKeyVerifier::knows(std::string_view key) const {
  const auto parts = parse_api_key(key);
  return parts && find(parts->id).status == LookupStatus::found;
}

Outcome ApiKeyVerifier::verify(std::string_view key, std::string_view scheme,
                               std::optional<std::string_view> expected_owner) const {
  const std::string scheme_name(scheme);
  static constexpr std::string_view kInvalid = "invalid API key";
  const auto parts = parse_api_key(key);
  if (!parts) {
    return Outcome::fail(OutcomeKind::denied, scheme_name, "bad_key_format",
                         "the API key is not of the form gh_<id>_<secret>");
  }
  const auto found = find(parts->id);
  if (found.status == LookupStatus::error) {
    return Outcome::fail(OutcomeKind::error, scheme_name, "store_error", "key store unavailable");
  }
  if (found.status == LookupStatus::unknown_user || !found.record) {
    return Outcome::fail(OutcomeKind::denied, scheme_name, "unknown_key", std::string(kInvalid));
  }
  const ApiKeyRecord& rec = *found.record;
  const auto presented = hash_api_key_secret(parts->secret);
  if (CRYPTO_memcmp(presented.data(), rec.secret_hash.data(), presented.size()) != 0) {
    return Outcome::fail(OutcomeKind::denied, scheme_name, "bad_secret", std::string(kInvalid));
  }
  if (expected_owner && *expected_owner != rec.username) {
    return Outcome::fail(OutcomeKind::denied, scheme_name, "key_owner_mismatch",
                         "invalid username or password");
  }
  if (!rec.usable) {
    return Outcome::fail(OutcomeKind::denied, scheme_name, "revoked",
                         "the API key has been revoked");
  }
  const auto now_s = clock_.now_s();
  if (rec.expires && *rec.expires <= now_s) {
    return Outcome::fail(OutcomeKind::denied, scheme_name, "expired", "the API key has expired");
  }
  if (rec.last_used && rec.last_used->load(std::memory_order_relaxed) < now_s) {
    rec.last_used->store(now_s, std::memory_order_relaxed);
  }
  auto who = std::make_shared<Identity>();
  who->subject = rec.username;
  who->roles = rec.roles;
  who->scheme = scheme_name;
  who->store = "apikey";
  who->token_id = rec.id;
  who->auth_time = now_s;
  who->expires_at = rec.expires;
  return Outcome::granted(std::move(who), scheme_name);
}

Outcome ApiKeyVerifier::authenticate(std::string_view key, std::string_view scheme,
                                     std::string_view client_address,
                                     std::optional<std::string_view> expected_owner) const {
  const std::string_view user = expected_owner.value_or(std::string_view());
  if (limiter_ != nullptr) {
    if (auto refused = limiter_->check(user, client_address, clock_.now_ms())) {
      return refused->outcome(std::string(scheme));
    }
  }
  Outcome outcome = verify(key, scheme, expected_owner);
  if (limiter_ != nullptr && outcome.kind == OutcomeKind::denied &&
      (outcome.reason == "unknown_key" || outcome.reason == "bad_secret" ||
       outcome.reason == "key_owner_mismatch" || outcome.reason == "bad_key_format")) {
    limiter_->record_failure(user, client_address, clock_.now_ms());
  }
  return outcome;
}

}  // namespace gatehouse::auth
