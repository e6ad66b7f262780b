// Micro-benchmarks for the per-request work on the I/O thread: parsing the Authorization header,
// checking an API key, and the verified-credential cache that keeps argon2id/bcrypt off the hot
// path; plus reference timings of the hashing primitives those use. Bearer tokens: JWT verification
// per algorithm, TokenService::authenticate on a verified-token cache hit, and durable refresh
// rotations (TokenService::refresh on a SQLite store in a temp dir). Not run by ctest. Build with
// the release preset and run:
//   build/release/bench/gatehouse_micro_bench [--benchmark_filter=Cache]
// docs/perf.md explains the figures.
#include <benchmark/benchmark.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/params.h>
#include <openssl/sha.h>
#include <sodium.h>
#include <stdlib.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include <atomic>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <charconv>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "auth/api_key.hpp"
#include "auth/credential_cache.hpp"
#include "gatehouse/credential_store.hpp"
#include "gatehouse/identity.hpp"
#include "gatehouse/secret.hpp"
#include "jose/base64url.hpp"
#include "jose/jwk.hpp"
#include "jose/jws.hpp"
#include "jose/jwt.hpp"
#include "schemes/authorization_header.hpp"
#include "schemes/basic.hpp"
#include "state/state_store.hpp"
#include "stores/db_store.hpp"
#include "tokens/token_service.hpp"
#include "util/clock.hpp"
#include "util/encoding.hpp"
#include "util/log.hpp"

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

// ---------------------------------------------------------------- bearer tokens: JWT verification

// An access token shaped like TokenService::issue() makes (RFC 9068 claims, typ at+jwt), signed by
// a fresh key of `alg`; verified with the public key only (from its JWK), as the key ring does
// for keys it did not make. HS256 has no public JWK: the same secret verifies.
struct JwtFixture {
  jose::Key signer;
  std::optional<jose::Key> verifier;
  std::string token;
  jose::JwtPolicy policy;
  jose::KeyLookup lookup;
  std::int64_t now = 1'800'000'000;

  explicit JwtFixture(jose::Alg alg) : signer(jose::Key::generate(alg, "2026-11-24-bench")) {
    if (signer.is_symmetric()) {
      verifier = signer;
    } else {
      std::string error;
      verifier = jose::Key::from_jwk(signer.public_jwk(), &error);
      if (!verifier) throw std::runtime_error("public JWK refused: " + error);
    }
    boost::json::object claims;
    claims["iss"] = "http://127.0.0.1:8000";
    claims["sub"] = "alice";
    claims["aud"] = "gatehouse";
    claims["exp"] = now + 600;
    claims["nbf"] = now;
    claims["iat"] = now;
    claims["jti"] = "ce5e3f5cba13c4a46cb37df8e61d56e0";
    claims["sid"] = "f6582ff92b2bba515f45d3889a6a4038";
    claims["client_id"] = "gatehouse";
    claims["scope"] = "api";
    claims["roles"] = boost::json::array{"User"};
    token = jose::sign_jwt(signer, "at+jwt", claims);
    policy.issuer = "http://127.0.0.1:8000";
    policy.audience = "gatehouse";
    policy.typ = "at+jwt";
    policy.leeway_s = 30;
    const jose::Key* key = &*verifier;
    lookup = [key](std::string_view kid) { return kid == key->kid() ? key : nullptr; };
  }
};

constexpr jose::Alg kAlgs[] = {jose::Alg::EdDSA, jose::Alg::ES256, jose::Alg::RS256,
                               jose::Alg::HS256};

// verify_jwt: strict decode (base64url, header and claims JSON), key lookup, signature, claims
// policy. What TokenService::authenticate pays once per token (on a cache miss).
void BM_JwtVerify(benchmark::State& state) {
  const jose::Alg alg = kAlgs[state.range(0)];
  state.SetLabel(std::string(jose::to_string(alg)));
  JwtFixture f(alg);
  for (auto _ : state) {
    auto result = jose::verify_jwt(f.token, f.lookup, f.policy, f.now);
    benchmark::DoNotOptimize(result);
  }
  if (!std::holds_alternative<jose::VerifiedJwt>(
          jose::verify_jwt(f.token, f.lookup, f.policy, f.now))) {
    state.SkipWithError("token not verified");
  }
}
BENCHMARK(BM_JwtVerify)->DenseRange(0, 3);

// The signature alone (Key::verify over the decoded input), to separate the crypto from the
// parsing and claims work in BM_JwtVerify.
void BM_JwsSignatureOnly(benchmark::State& state) {
  const jose::Alg alg = kAlgs[state.range(0)];
  state.SetLabel(std::string(jose::to_string(alg)));
  JwtFixture f(alg);
  auto decoded = jose::decode_compact(f.token);
  const auto& jws = std::get<jose::DecodedJws>(decoded);
  for (auto _ : state) {
    bool ok = f.verifier->verify(jws.signing_input, jws.signature);
    benchmark::DoNotOptimize(ok);
  }
  if (!f.verifier->verify(jws.signing_input, jws.signature)) state.SkipWithError("bad signature");
}
BENCHMARK(BM_JwsSignatureOnly)->DenseRange(0, 3);

// decode_compact alone (no signature check, no claims policy) for the EdDSA token.
void BM_JwsDecodeOnly(benchmark::State& state) {
  JwtFixture f(jose::Alg::EdDSA);
  for (auto _ : state) {
    auto decoded = jose::decode_compact(f.token);
    benchmark::DoNotOptimize(decoded);
  }
}
BENCHMARK(BM_JwsDecodeOnly);

// Signing (login and every refresh sign one access token).
void BM_JwtSign(benchmark::State& state) {
  const jose::Alg alg = kAlgs[state.range(0)];
  state.SetLabel(std::string(jose::to_string(alg)));
  JwtFixture f(alg);
  const auto decoded = jose::decode_compact(f.token);
  const std::string payload = std::get<jose::DecodedJws>(decoded).payload;
  for (auto _ : state) {
    auto token = jose::sign_compact(f.signer, "at+jwt", payload);
    benchmark::DoNotOptimize(token);
  }
}
BENCHMARK(BM_JwtSign)->DenseRange(0, 3);

// Reference, not gatehouse code: the same Ed25519 signature checked by libsodium (which gatehouse
// links already) instead of OpenSSL 3's EVP_DigestVerify (BM_JwsSignatureOnly/0).
void BM_Ref_Ed25519Verify_Libsodium(benchmark::State& state) {
  if (sodium_init() < 0) state.SkipWithError("sodium_init failed");
  JwtFixture f(jose::Alg::EdDSA);
  const auto decoded = jose::decode_compact(f.token);
  const auto& jws = std::get<jose::DecodedJws>(decoded);
  const auto jwk = boost::json::parse(f.signer.public_jwk()).as_object();
  const auto x = jose::b64url_decode(std::string_view(jwk.at("x").as_string()));
  if (!x || x->size() != crypto_sign_PUBLICKEYBYTES || jws.signature.size() != crypto_sign_BYTES) {
    state.SkipWithError("unexpected Ed25519 key or signature size");
    return;
  }
  const auto* pk = reinterpret_cast<const unsigned char*>(x->data());
  const auto* sig = reinterpret_cast<const unsigned char*>(jws.signature.data());
  const auto* msg = reinterpret_cast<const unsigned char*>(jws.signing_input.data());
  for (auto _ : state) {
    int rc = crypto_sign_verify_detached(sig, msg, jws.signing_input.size(), pk);
    benchmark::DoNotOptimize(rc);
  }
  if (crypto_sign_verify_detached(sig, msg, jws.signing_input.size(), pk) != 0) {
    state.SkipWithError("libsodium refused the signature");
  }
}
BENCHMARK(BM_Ref_Ed25519Verify_Libsodium);

// ---------------------------------------------------------------- bearer tokens: TokenService

// A private temp directory, removed at the end. TMPDIR decides where it lives (and so whether
// fsync reaches a disk: /dev/shm is tmpfs, where fsync costs nothing).
class BenchTempDir {
 public:
  explicit BenchTempDir(const std::string& base) {
    std::string pattern = (std::filesystem::path(base) / "gatehouse-bench-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed in " + base);
    path_ = pattern;
  }
  BenchTempDir(const BenchTempDir&) = delete;
  BenchTempDir& operator=(const BenchTempDir&) = delete;
  ~BenchTempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

std::string bench_tmp_base() {
  const char* t = ::getenv("TMPDIR");
  return t != nullptr && *t != '\0' ? t : "/tmp";
}

// TokenService on a SQLite store (WAL, synchronous=FULL, as `serve` opens it) with user "alice" in
// the db store; the user callbacks are the server's (src/app/server.cpp build_tokens) over the
// DbStore snapshot alone.
struct TokenFixture {
  SystemClock clock;
  BenchTempDir dir;
  std::shared_ptr<state::StateStore> store;
  std::shared_ptr<stores::DbStore> db;
  std::unique_ptr<tokens::TokenService> service;

  explicit TokenFixture(const std::string& base = bench_tmp_base())
      : dir(base), store(state::open_state_store("sqlite:" + dir.file("gatehouse.db"))) {
    store->add_user({"alice", "x", {"User"}, false, 0, 0});
    db = std::make_shared<stores::DbStore>(store, clock);
    tokens::TokenSettings settings;
    settings.issuer = "http://127.0.0.1:8000";
    settings.key_rotation_s = 0;
    auto dbs = db;
    tokens::UserLookup users = [dbs](std::string_view name) -> std::optional<tokens::UserStatus> {
      const PasswordLookup lookup = dbs->find_password(name);
      if (lookup.status != LookupStatus::found) return std::nullopt;
      return tokens::UserStatus{!lookup.record.disabled, lookup.record.roles};
    };
    tokens::UserActive active = [dbs](std::string_view name) {
      const auto known = dbs->user_active(name);
      return known && *known;
    };
    service = std::make_unique<tokens::TokenService>(
        settings, store, "0123456789abcdef0123456789abcdef", users, active, clock);
  }

  tokens::TokenPair login() {
    auto result = service->login("alice", "basic");
    if (auto* e = std::get_if<tokens::TokenError>(&result)) {
      throw std::runtime_error("login refused: " + e->description);
    }
    return std::get<tokens::TokenPair>(std::move(result));
  }
};

// authenticate() for a token already in the verified-token cache: cache lookup (sharded mutex,
// hash of the whole ~450-byte token), revocation set, user active, Outcome. What every Bearer
// request after a token's first costs on the I/O thread. threads:2: the two I/O threads on one
// token (one cache shard).
void BM_TokenAuthenticateCached(benchmark::State& state) {
  static TokenFixture* shared = nullptr;
  static std::string token;
  if (state.thread_index() == 0) {
    shared = new TokenFixture();
    token = shared->login().access_token;
    if (shared->service->authenticate(token).kind != OutcomeKind::granted) {
      state.SkipWithError("token refused");
    }
  }
  for (auto _ : state) {
    auto outcome = shared->service->authenticate(token);
    benchmark::DoNotOptimize(outcome);
  }
  if (state.thread_index() == 0) {
    delete shared;
    shared = nullptr;
  }
}
BENCHMARK(BM_TokenAuthenticateCached)->Threads(1)->Threads(2);

// authenticate() on a token not yet cached: a fresh login per 1,000 iterations would dominate, so
// this uses a service whose cache holds nothing useful: each iteration verifies one of 64 tokens
// round-robin with a 16-entry cache (the tokens spread over 16 shards of one entry each, so
// almost every lookup misses). Includes verify_jwt (EdDSA), the claims -> Identity copy and the
// cache insert.
void BM_TokenAuthenticateUncached(benchmark::State& state) {
  struct Small : TokenFixture {
    Small() {
      tokens::TokenSettings settings;
      settings.issuer = "http://127.0.0.1:8000";
      settings.key_rotation_s = 0;
      settings.cache_entries = 16;
      auto dbs = db;
      service = std::make_unique<tokens::TokenService>(
          settings, store, "0123456789abcdef0123456789abcdef",
          [dbs](std::string_view name) -> std::optional<tokens::UserStatus> {
            const PasswordLookup lookup = dbs->find_password(name);
            if (lookup.status != LookupStatus::found) return std::nullopt;
            return tokens::UserStatus{!lookup.record.disabled, lookup.record.roles};
          },
          [dbs](std::string_view name) {
            const auto known = dbs->user_active(name);
            return known && *known;
          },
          clock);
    }
  } f;
  std::vector<std::string> tokens;
  for (int i = 0; i < 64; ++i) tokens.push_back(f.login().access_token);
  std::size_t i = 0;
  for (auto _ : state) {
    auto outcome = f.service->authenticate(tokens[i++ & 63]);
    benchmark::DoNotOptimize(outcome);
  }
}
BENCHMARK(BM_TokenAuthenticateUncached);

// TokenService::refresh, chained (each call presents the previous call's refresh token): parse
// and MAC check, SELECT the session, the user lookup, one UPDATE committed with fsync (WAL,
// synchronous=FULL), a new EdDSA access token. Real time, since the fsync waits.
// Arg 0: the temp dir in $TMPDIR (default /tmp: the disk); Arg 1: /dev/shm (tmpfs, fsync free),
// to separate the CPU from the disk. threads:N: N chains on one service (as N connections).
TokenFixture& refresh_fixture(std::int64_t where) {
  static std::mutex mutex;
  static std::unique_ptr<TokenFixture> fixtures[2];
  std::lock_guard lock(mutex);
  auto& f = fixtures[where == 0 ? 0 : 1];
  if (!f) f = std::make_unique<TokenFixture>(where == 0 ? bench_tmp_base() : "/dev/shm");
  return *f;
}

void BM_TokenRefresh(benchmark::State& state) {
  TokenFixture& f = refresh_fixture(state.range(0));
  std::string token = f.login().refresh_token;  // this thread's own session (chain)
  for (auto _ : state) {
    auto result = f.service->refresh(token);
    auto* pair = std::get_if<tokens::TokenPair>(&result);
    if (pair == nullptr) {
      state.SkipWithError(
          ("refresh refused: " + std::get<tokens::TokenError>(result).description).c_str());
      break;
    }
    token = std::move(pair->refresh_token);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_TokenRefresh)->Arg(0)->Arg(1)->UseRealTime()->Threads(1)->Threads(2);

// ---------------------------------------------------------------- bearer tokens: per-request work
// around TokenService::authenticate (docs/perf.md "Bearer tokens"): what the Bearer route pays on
// a cache hit besides the cache itself. The BM_Ref_* here are not gatehouse code: candidate
// replacements, as evidence for the proposals.

// A real 503-byte gatehouse access token (EdDSA, as `serve` issues them).
const std::string kAccessToken = [] {
  JwtFixture f(jose::Alg::EdDSA);
  return f.token;
}();

// BearerScheme::parse checks the RFC 6750 b64token syntax over the whole token.
void BM_IsToken68_AccessToken(benchmark::State& state) {
  for (auto _ : state) {
    bool ok = schemes::is_token68(kAccessToken);
    benchmark::DoNotOptimize(ok);
  }
}
BENCHMARK(BM_IsToken68_AccessToken);

#if defined(__SSE2__)
// The same check 16 bytes at a time with SSE2 (baseline x86-64): range compares for letters and
// digits, equality for the six symbols, one movemask per block; the '=' padding is found first.
bool token68_sse2(std::string_view s) noexcept {
  std::size_t end = s.find('=');
  if (end == std::string_view::npos) end = s.size();
  if (end == 0) return false;
  for (std::size_t i = end; i < s.size(); ++i) {
    if (s[i] != '=') return false;
  }
  std::size_t i = 0;
  const auto in = [](__m128i v, char lo, char hi) {
    return _mm_and_si128(_mm_cmpgt_epi8(v, _mm_set1_epi8(static_cast<char>(lo - 1))),
                         _mm_cmplt_epi8(v, _mm_set1_epi8(static_cast<char>(hi + 1))));
  };
  for (; i + 16 <= end; i += 16) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s.data() + i));
    __m128i ok = _mm_or_si128(in(_mm_or_si128(v, _mm_set1_epi8(0x20)), 'a', 'z'), in(v, '0', '9'));
    for (const char c : {'-', '.', '_', '~', '+', '/'}) {
      ok = _mm_or_si128(ok, _mm_cmpeq_epi8(v, _mm_set1_epi8(c)));
    }
    if (_mm_movemask_epi8(ok) != 0xFFFF) return false;
  }
  for (; i < end; ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    const bool ok = ((c | 0x20u) - 'a' < 26u) || (c - unsigned{'0'} < 10u) || c == '-' ||
                    c == '.' || c == '_' || c == '~' || c == '+' || c == '/';
    if (!ok) return false;
  }
  return true;
}
void BM_Ref_Token68Sse2_AccessToken(benchmark::State& state) {
  // Agreement with is_token68 on the token, on every single byte value inside a valid token,
  // and on padding shapes.
  bool agree = token68_sse2(kAccessToken) == schemes::is_token68(kAccessToken);
  for (int c = 0; c < 256; ++c) {
    std::string t = kAccessToken.substr(0, 40);
    t[20] = static_cast<char>(c);
    agree &= token68_sse2(t) == schemes::is_token68(t);
  }
  for (const std::string_view t : {"abc==", "a=b", "==", "", "abcdefghijklmnopq=r", "A"}) {
    agree &= token68_sse2(t) == schemes::is_token68(t);
  }
  if (!agree) state.SkipWithError("SSE2 check and is_token68 disagree");
  for (auto _ : state) {
    bool ok = token68_sse2(kAccessToken);
    benchmark::DoNotOptimize(ok);
  }
}
BENCHMARK(BM_Ref_Token68Sse2_AccessToken);
#endif  // __SSE2__

// gatehouse::Secret holding the token: construct, move once (the Bearer path moves it three times
// per request: Parsed -> Credentials -> verify), destroy both. Secret's move constructor copies
// the bytes and wipes the source.
void BM_SecretMove_AccessToken(benchmark::State& state) {
  for (auto _ : state) {
    Secret a(kAccessToken);
    Secret b(std::move(a));
    benchmark::DoNotOptimize(b);
  }
}
BENCHMARK(BM_SecretMove_AccessToken);

// The same with a move that takes the heap buffer (std::string's move); the destructor still
// wipes the one buffer once.
void BM_Ref_StringMoveAndWipe_AccessToken(benchmark::State& state) {
  for (auto _ : state) {
    std::string a(kAccessToken);
    std::string b(std::move(a));
    OPENSSL_cleanse(a.data(), a.capacity());
    OPENSSL_cleanse(b.data(), b.capacity());
    benchmark::DoNotOptimize(b);
  }
}
BENCHMARK(BM_Ref_StringMoveAndWipe_AccessToken);

// The /auth/whoami body for a Bearer identity: a copy of src/app/server.cpp identity_json()
// (boost::json::object, then serialize) ...
Identity bearer_identity() {
  Identity who;
  who.subject = "alice";
  who.roles = {"User"};
  who.scheme = "bearer";
  who.store = "token";
  who.session_id = "f6582ff92b2bba515f45d3889a6a4038";
  who.token_id = "ce5e3f5cba13c4a46cb37df8e61d56e0";
  who.expires_at = 1'795'547'815;
  return who;
}
void BM_WhoamiJson_BoostJson(benchmark::State& state) {
  const Identity who = bearer_identity();
  for (auto _ : state) {
    boost::json::object o;
    o["user"] = who.subject;
    o["scheme"] = who.scheme;
    boost::json::array roles;
    for (const auto& r : who.roles) roles.emplace_back(r);
    o["roles"] = std::move(roles);
    if (!who.session_id.empty()) o["session"] = who.session_id;
    if (who.expires_at) o["expires_at"] = *who.expires_at;
    std::string body = boost::json::serialize(o);
    benchmark::DoNotOptimize(body);
  }
}
BENCHMARK(BM_WhoamiJson_BoostJson);

// ... and the same bytes appended to one reserved string (strings escaped, numbers by to_chars).
void append_json_string(std::string& out, std::string_view s) {
  out.push_back('"');
  for (const char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(c);
    } else if (u < 0x20) {
      static constexpr char kHex[] = "0123456789abcdef";
      out.append("\\u00");
      out.push_back(kHex[u >> 4]);
      out.push_back(kHex[u & 15]);
    } else {
      out.push_back(c);
    }
  }
  out.push_back('"');
}
std::string whoami_direct(const Identity& who) {
  std::string out;
  out.reserve(96 + who.subject.size() + who.session_id.size());
  out.append(R"({"user":)");
  append_json_string(out, who.subject);
  out.append(R"(,"scheme":)");
  append_json_string(out, who.scheme);
  out.append(R"(,"roles":[)");
  for (std::size_t i = 0; i < who.roles.size(); ++i) {
    if (i) out.push_back(',');
    append_json_string(out, who.roles[i]);
  }
  out.push_back(']');
  if (!who.session_id.empty()) {
    out.append(R"(,"session":)");
    append_json_string(out, who.session_id);
  }
  if (who.expires_at) {
    char buf[24];
    const auto r = std::to_chars(buf, buf + sizeof buf, *who.expires_at);
    out.append(R"(,"expires_at":)").append(buf, r.ptr);
  }
  out.push_back('}');
  return out;
}
void BM_Ref_WhoamiJson_Direct(benchmark::State& state) {
  const Identity who = bearer_identity();
  {
    boost::json::object o;
    o["user"] = who.subject;
    o["scheme"] = who.scheme;
    o["roles"] = boost::json::array{"User"};
    o["session"] = who.session_id;
    o["expires_at"] = *who.expires_at;
    if (boost::json::serialize(o) != whoami_direct(who)) state.SkipWithError("different JSON");
  }
  for (auto _ : state) {
    std::string body = whoami_direct(who);
    benchmark::DoNotOptimize(body);
  }
}
BENCHMARK(BM_Ref_WhoamiJson_Direct);

// The verified-token cache hashes the whole token (std::hash over ~500 bytes) to find its entry.
void BM_TokenCacheHashWholeToken(benchmark::State& state) {
  for (auto _ : state) {
    std::size_t h = std::hash<std::string_view>{}(kAccessToken);
    benchmark::DoNotOptimize(h);
  }
}
BENCHMARK(BM_TokenCacheHashWholeToken);

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

// BENCHMARK_MAIN, with gatehouse's diagnostics at "warn": the token fixtures log an audit line
// per login, which would interleave with the table.
int main(int argc, char** argv) {
  util::diag().set_level(spdlog::level::warn);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
