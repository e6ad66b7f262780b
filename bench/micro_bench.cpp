// Micro-benchmarks for the per-request work on the I/O thread: parsing the Authorization header,
// checking an API key, and the verified-credential cache that keeps argon2id/bcrypt off the hot
// path; plus reference timings of the hashing primitives those use. Not run by ctest. Build with
// the release preset and run:
//   build/release/bench/gatehouse_micro_bench [--benchmark_filter=Cache]
// docs/perf.md explains the figures.
#include <benchmark/benchmark.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/params.h>
#include <openssl/sha.h>
#include <sodium.h>

#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "auth/api_key.hpp"
#include "auth/credential_cache.hpp"
#include "gatehouse/credential_store.hpp"
#include "schemes/authorization_header.hpp"
#include "schemes/basic.hpp"
#include "util/clock.hpp"
#include "util/encoding.hpp"

namespace {

using namespace gatehouse;

// ---------------------------------------------------------------- Authorization header parsing

const std::string kBasicHeader =
    "Basic " + util::base64_encode("alice:correct horse battery staple");

void BM_SplitAuthorization(benchmark::State& state) {
  const std::string_view header = kBasicHeader;
  for (auto _ : state) {
    auto v = schemes::split_authorization(header);
    benchmark::DoNotOptimize(v);
  }
}
BENCHMARK(BM_SplitAuthorization);

// split + base64 decode + UTF-8 checks + RFC 8265 username normalization (ICU), i.e. everything
// BasicScheme::parse does for a well-formed header.
void BM_ParseBasicHeader(benchmark::State& state) {
  const std::string_view header = kBasicHeader;
  for (auto _ : state) {
    const auto v = schemes::split_authorization(header);
    auto parsed = schemes::parse_basic_credentials(v->rest);
    benchmark::DoNotOptimize(parsed);
  }
}
BENCHMARK(BM_ParseBasicHeader);

// A malformed header is refused before any decoding work.
void BM_ParseBasicHeaderMalformed(benchmark::State& state) {
  const std::string_view header = "Basic not*base64!";
  for (auto _ : state) {
    const auto v = schemes::split_authorization(header);
    auto parsed = schemes::parse_basic_credentials(v->rest);
    benchmark::DoNotOptimize(parsed);
  }
}
BENCHMARK(BM_ParseBasicHeaderMalformed);

// ---------------------------------------------------------------- API keys

// An in-memory key store shaped like the db store's snapshot: a hash map from id to record.
class MemoryKeyStore final : public CredentialStore {
 public:
  std::string_view name() const noexcept override { return "memory"; }
  bool can(StoreCapability c) const noexcept override { return c == StoreCapability::api_key; }
  ApiKeyLookup find_api_key(std::string_view id) const override {
    const auto it = keys_.find(std::string(id));
    if (it == keys_.end()) return {};
    return {LookupStatus::found, it->second};
  }
  // Adds a key for `user` and returns the full key string.
  std::string add(const std::string& user) {
    const auto k = auth::generate_api_key();
    auto rec = std::make_shared<ApiKeyRecord>();
    rec->id = k.id;
    rec->username = user;
    rec->secret_hash = k.secret_hash;
    rec->roles = {"User"};
    rec->last_used = std::make_shared<std::atomic<std::int64_t>>(0);
    keys_.emplace(k.id, std::move(rec));
    return k.key;
  }

 private:
  std::unordered_map<std::string, std::shared_ptr<const ApiKeyRecord>> keys_;
};

struct ApiKeyFixture {
  SystemClock clock;
  std::shared_ptr<MemoryKeyStore> store = std::make_shared<MemoryKeyStore>();
  std::string good;
  std::string bad_secret;
  std::string unknown_id;
  std::unique_ptr<auth::ApiKeyVerifier> verifier;

  explicit ApiKeyFixture(int n_keys) {
    for (int i = 0; i < n_keys; ++i) good = store->add("user" + std::to_string(i));
    bad_secret = good;
    bad_secret.back() = bad_secret.back() == '0' ? '1' : '0';
    unknown_id = auth::generate_api_key().key;
    verifier = std::make_unique<auth::ApiKeyVerifier>(std::vector<StorePtr>{store}, clock);
  }
};

void BM_ParseApiKey(benchmark::State& state) {
  const std::string key = auth::generate_api_key().key;
  for (auto _ : state) {
    auto parts = auth::parse_api_key(key);
    benchmark::DoNotOptimize(parts);
  }
}
BENCHMARK(BM_ParseApiKey);

// parse + lookup + SHA-256 of the secret + constant-time compare + Identity allocation.
void BM_ApiKeyVerifyGood(benchmark::State& state) {
  ApiKeyFixture f(static_cast<int>(state.range(0)));
  for (auto _ : state) {
    auto outcome = f.verifier->verify(f.good, "apikey");
    benchmark::DoNotOptimize(outcome);
  }
  if (f.verifier->verify(f.good, "apikey").kind != OutcomeKind::granted) {
    state.SkipWithError("good key not granted");
  }
}
BENCHMARK(BM_ApiKeyVerifyGood)->Arg(1)->Arg(10000);

// Both I/O threads verifying keys at once (one shared verifier, as in the server).
void BM_ApiKeyVerifyGoodShared(benchmark::State& state) {
  static ApiKeyFixture shared(10000);
  for (auto _ : state) {
    auto outcome = shared.verifier->verify(shared.good, "apikey");
    benchmark::DoNotOptimize(outcome);
  }
}
BENCHMARK(BM_ApiKeyVerifyGoodShared)->Threads(1)->Threads(2);

void BM_ApiKeyVerifyBadSecret(benchmark::State& state) {
  ApiKeyFixture f(static_cast<int>(state.range(0)));
  for (auto _ : state) {
    auto outcome = f.verifier->verify(f.bad_secret, "apikey");
    benchmark::DoNotOptimize(outcome);
  }
  if (f.verifier->verify(f.bad_secret, "apikey").kind != OutcomeKind::denied) {
    state.SkipWithError("bad secret not denied");
  }
}
BENCHMARK(BM_ApiKeyVerifyBadSecret)->Arg(10000);

void BM_ApiKeyVerifyUnknownId(benchmark::State& state) {
  ApiKeyFixture f(static_cast<int>(state.range(0)));
  for (auto _ : state) {
    auto outcome = f.verifier->verify(f.unknown_id, "apikey");
    benchmark::DoNotOptimize(outcome);
  }
}
BENCHMARK(BM_ApiKeyVerifyUnknownId)->Arg(10000);

// ---------------------------------------------------------------- verified-credential cache

constexpr std::string_view kStoredHash =
    "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$"
    "0nS9c1kJm4bZ7m0JrUNZ9C3M0bN0fW3Pp5bq0Z6t9y0";

struct CacheFixture {
  SystemClock clock;
  auth::CredentialCache cache{std::string(32, 'k'), 60'000, 10'000, clock};
  explicit CacheFixture(int fill) {
    for (int i = 0; i < fill; ++i) {
      cache.insert(cache.key_for("db", "user" + std::to_string(i), kStoredHash, "password"));
    }
  }
};

// The HMAC-SHA-256 that names an entry (computed on every Basic request before the lookup).
// threads:2 shows what the two I/O threads pay when they compute it at the same time.
void BM_CredentialCacheKeyFor(benchmark::State& state) {
  static CacheFixture shared(0);
  for (auto _ : state) {
    auto key = shared.cache.key_for("db", "alice", kStoredHash, "correct horse battery staple");
    benchmark::DoNotOptimize(key);
  }
}
BENCHMARK(BM_CredentialCacheKeyFor)->Threads(1)->Threads(2);

// key_for + contains, the entry present (every Basic request after the first within the TTL).
void BM_CredentialCacheHit(benchmark::State& state) {
  static CacheFixture* shared = nullptr;
  if (state.thread_index() == 0) {
    shared = new CacheFixture(static_cast<int>(state.range(0)));
    shared->cache.insert(
        shared->cache.key_for("db", "alice", kStoredHash, "correct horse battery staple"));
  }
  for (auto _ : state) {
    const auto key =
        shared->cache.key_for("db", "alice", kStoredHash, "correct horse battery staple");
    bool hit = shared->cache.contains(key);
    benchmark::DoNotOptimize(hit);
  }
  if (state.thread_index() == 0) {
    if (!shared->cache.contains(
            shared->cache.key_for("db", "alice", kStoredHash, "correct horse battery staple"))) {
      state.SkipWithError("expected a hit");
    }
    delete shared;
    shared = nullptr;
  }
}
BENCHMARK(BM_CredentialCacheHit)->Arg(1000)->Threads(1)->Threads(2);

// key_for + contains, the entry absent (first request, or a wrong password: the slow hash follows).
void BM_CredentialCacheMiss(benchmark::State& state) {
  CacheFixture f(static_cast<int>(state.range(0)));
  for (auto _ : state) {
    const auto key = f.cache.key_for("db", "alice", kStoredHash, "wrong password");
    bool hit = f.cache.contains(key);
    benchmark::DoNotOptimize(hit);
  }
  if (f.cache.contains(f.cache.key_for("db", "alice", kStoredHash, "wrong password"))) {
    state.SkipWithError("expected a miss");
  }
}
BENCHMARK(BM_CredentialCacheMiss)->Arg(1000);

// contains() alone, to separate the HMAC from the sharded map lookup (threads:2: both threads on
// the same entry, hence the same shard mutex — the worst case).
void BM_CredentialCacheContainsOnly(benchmark::State& state) {
  static CacheFixture shared(1000);
  const auto key = shared.cache.key_for("db", "alice", kStoredHash, "correct horse battery staple");
  if (state.thread_index() == 0) shared.cache.insert(key);
  for (auto _ : state) {
    bool hit = shared.cache.contains(key);
    benchmark::DoNotOptimize(hit);
  }
}
BENCHMARK(BM_CredentialCacheContainsOnly)->Threads(1)->Threads(2);

// ---------------------------------------------------------------- reference: hashing primitives
// Not gatehouse code: the same SHA-256 / HMAC-SHA-256 computed different ways, to show what the
// one-shot OpenSSL 3 calls used by hash_api_key_secret() and CredentialCache::key_for() cost
// compared with a pre-fetched EVP_MD / EVP_MAC or libsodium (docs/perf.md, "Findings").

const std::string kSecret64(64, 'a');  // an API key secret is 64 hex digits

void BM_Ref_Sha256_OpenSSLOneShot(benchmark::State& state) {  // SHA256(): fetches the MD each call
  unsigned char out[32];
  for (auto _ : state) {
    SHA256(reinterpret_cast<const unsigned char*>(kSecret64.data()), kSecret64.size(), out);
    benchmark::DoNotOptimize(out);
  }
}
BENCHMARK(BM_Ref_Sha256_OpenSSLOneShot)->Threads(1)->Threads(2);

void BM_Ref_Sha256_OpenSSLPrefetched(benchmark::State& state) {
  EVP_MD* md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  unsigned char out[32];
  unsigned int len = 0;
  for (auto _ : state) {
    EVP_DigestInit_ex2(ctx, md, nullptr);
    EVP_DigestUpdate(ctx, kSecret64.data(), kSecret64.size());
    EVP_DigestFinal_ex(ctx, out, &len);
    benchmark::DoNotOptimize(out);
  }
  EVP_MD_CTX_free(ctx);
  EVP_MD_free(md);
}
BENCHMARK(BM_Ref_Sha256_OpenSSLPrefetched);

void BM_Ref_Sha256_Libsodium(benchmark::State& state) {
  if (sodium_init() < 0) state.SkipWithError("sodium_init failed");
  unsigned char out[crypto_hash_sha256_BYTES];
  for (auto _ : state) {
    crypto_hash_sha256(out, reinterpret_cast<const unsigned char*>(kSecret64.data()),
                       kSecret64.size());
    benchmark::DoNotOptimize(out);
  }
}
BENCHMARK(BM_Ref_Sha256_Libsodium);

// ~140 bytes: the length-prefixed (store, user, argon2id hash, password) message key_for() MACs.
const std::string kCacheMessage(140, 'm');
const std::string kCacheSecret(32, 'k');

void BM_Ref_HmacSha256_OpenSSLOneShot(benchmark::State& state) {  // what key_for() does today
  unsigned char out[32];
  unsigned int len = 0;
  for (auto _ : state) {
    HMAC(EVP_sha256(), kCacheSecret.data(), static_cast<int>(kCacheSecret.size()),
         reinterpret_cast<const unsigned char*>(kCacheMessage.data()), kCacheMessage.size(), out,
         &len);
    benchmark::DoNotOptimize(out);
  }
}
BENCHMARK(BM_Ref_HmacSha256_OpenSSLOneShot)->Threads(1)->Threads(2);

void BM_Ref_HmacSha256_OpenSSLKeyedCtxDup(benchmark::State& state) {  // keyed once, dup per call
  EVP_MAC* mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  EVP_MAC_CTX* keyed = EVP_MAC_CTX_new(mac);
  char digest[] = "SHA256";
  OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string("digest", digest, 0),
                         OSSL_PARAM_construct_end()};
  EVP_MAC_init(keyed, reinterpret_cast<const unsigned char*>(kCacheSecret.data()),
               kCacheSecret.size(), params);
  unsigned char out[32];
  std::size_t len = 0;
  for (auto _ : state) {
    EVP_MAC_CTX* ctx = EVP_MAC_CTX_dup(keyed);
    EVP_MAC_update(ctx, reinterpret_cast<const unsigned char*>(kCacheMessage.data()),
                   kCacheMessage.size());
    EVP_MAC_final(ctx, out, &len, sizeof out);
    EVP_MAC_CTX_free(ctx);
    benchmark::DoNotOptimize(out);
  }
  EVP_MAC_CTX_free(keyed);
  EVP_MAC_free(mac);
}
BENCHMARK(BM_Ref_HmacSha256_OpenSSLKeyedCtxDup)->Threads(1)->Threads(2);

void BM_Ref_HmacSha256_Libsodium(benchmark::State& state) {
  if (sodium_init() < 0) state.SkipWithError("sodium_init failed");
  unsigned char out[crypto_auth_hmacsha256_BYTES];
  for (auto _ : state) {
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, reinterpret_cast<const unsigned char*>(kCacheSecret.data()),
                                kCacheSecret.size());
    crypto_auth_hmacsha256_update(&st, reinterpret_cast<const unsigned char*>(kCacheMessage.data()),
                                  kCacheMessage.size());
    crypto_auth_hmacsha256_final(&st, out);
    benchmark::DoNotOptimize(out);
  }
}
BENCHMARK(BM_Ref_HmacSha256_Libsodium);

}  // namespace

BENCHMARK_MAIN();
