// HTTP Digest (RFC 7616) end to end inside the scheme: DigestScheme with a StaticStore of
// {PLAIN} users and a FakeClock, fed hand-built Requests whose Authorization headers are computed
// here with the digest_compute functions (the client side). Covers the grants for every
// algorithm and qop, Authentication-Info, nonce lifetime, replay, the attacks of the issue, and
// failed-login throttling (SPEC §10).
#include "schemes/digest.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "schemes/digest_compute.hpp"
#include "schemes/digest_params.hpp"
#include "stores/static_store.hpp"
#include "util/clock.hpp"

namespace gatehouse::schemes {
namespace {

using namespace std::chrono_literals;

const std::string kSecret = "0123456789abcdef0123456789abcdef-digest-scheme-test";
const std::string kRealm = "gatehouse@example.org";

constexpr DigestAlgorithm kAllAlgorithms[] = {
    DigestAlgorithm::sha512_256_sess, DigestAlgorithm::sha512_256, DigestAlgorithm::sha256_sess,
    DigestAlgorithm::sha256,          DigestAlgorithm::md5_sess,   DigestAlgorithm::md5,
};

std::vector<StaticUser> users() {
  return {
      {"demo", "{PLAIN}demo", {"User"}},
      {"admin", "{PLAIN}s3cret: with colon", {"Admin", "User"}},
      // A hashed password cannot give HA1: unknown to Digest.
      {"hashed", "$argon2id$v=19$m=65536,t=3,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA", {"User"}},
  };
}

// Delegates to a StaticStore but reports one user as disabled (StaticStore has no such flag).
class DisablingStore final : public CredentialStore {
 public:
  DisablingStore(StorePtr inner, std::string disabled)
      : inner_(std::move(inner)), disabled_(std::move(disabled)) {}
  std::string_view name() const noexcept override { return "disabling"; }
  bool can(StoreCapability c) const noexcept override { return inner_->can(c); }
  Ha1Lookup find_ha1(std::string_view name, bool is_userhash, std::string_view realm,
                     Ha1Algorithm algorithm) const override {
    Ha1Lookup found = inner_->find_ha1(name, is_userhash, realm, algorithm);
    if (found.status == LookupStatus::found && found.record.username == disabled_) {
      found.record.disabled = true;
    }
    return found;
  }

 private:
  StorePtr inner_;
  std::string disabled_;
};

// A store without the digest_ha1 capability.
class PasswordOnlyStore final : public CredentialStore {
 public:
  std::string_view name() const noexcept override { return "password-only"; }
  bool can(StoreCapability c) const noexcept override { return c == StoreCapability::password; }
};

DigestSettings settings(std::vector<DigestAlgorithm> algorithms = {DigestAlgorithm::sha256,
                                                                   DigestAlgorithm::md5},
                        std::vector<DigestQop> qops = {DigestQop::auth, DigestQop::auth_int},
                        std::string realm = kRealm) {
  DigestSettings s;
  s.realm = std::move(realm);
  s.algorithms = std::move(algorithms);
  s.qops = std::move(qops);
  s.nonce_lifetime = 300'000ms;
  return s;
}

// The parameters of one challenge, by (lower-case) name.
using Params = std::map<std::string, std::string>;

Params params_of(const std::string& challenge) {
  EXPECT_TRUE(challenge.starts_with("Digest ")) << challenge;
  const AuthParamList list = parse_auth_params(std::string_view(challenge).substr(7));
  EXPECT_TRUE(list.ok()) << list.error << ": " << challenge;
  Params out;
  for (const auto& p : list.params) out[p.name] = p.value;
  return out;
}

// What a client puts into its Authorization header; `header()` computes the response.
struct ClientSide {
  std::string user = "demo";
  std::string password = "demo";
  std::string realm = kRealm;
  std::string nonce;
  std::string opaque;
  DigestAlgorithm algorithm = DigestAlgorithm::md5;
  std::string qop = "auth";
  std::string nc = "00000001";
  std::string cnonce = "0a4f113b";
  std::string method = "GET";
  std::string uri = "/auth/whoami";
  std::string body;  // the body the response hash covers (auth-int)
  bool userhash = false;

  std::string session() const {
    return session_ha1(algorithm, ha1(algorithm, user, realm, Secret(password)), nonce, cnonce);
  }
  std::string response_hash() const {
    const auto q = parse_digest_qop(qop).value_or(DigestQop::auth);
    const std::string a2 = ha2(algorithm, method, uri, q, body);
    return response(algorithm, session(), nonce, nc, cnonce, qop, a2).value_or("<nullopt>");
  }
  std::string header() const {
    const std::string name = userhash ? schemes::userhash(algorithm, user, realm) : user;
    std::string h = "Digest username=\"" + name + "\", realm=\"" + realm + "\", nonce=\"" + nonce +
                    "\", uri=\"" + uri + "\", algorithm=" + std::string(to_string(algorithm)) +
                    ", qop=" + qop + ", nc=" + nc + ", cnonce=\"" + cnonce + "\", response=\"" +
                    response_hash() + "\"";
    if (!opaque.empty()) h += ", opaque=\"" + opaque + "\"";
    if (userhash) h += ", userhash=true";
    return h;
  }
};

// A request as the connection would hand it over; owns the bytes the Request's views point to.
struct Sent {
  std::string method = "GET";
  std::string target = "/auth/whoami";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;

  Request request() const {
    Request r;
    r.method = method;
    r.target = target;
    const auto q = std::string_view(target).find('?');
    r.path = std::string_view(target).substr(0, q);
    if (q != std::string_view::npos) r.query = std::string_view(target).substr(q + 1);
    r.body = body;
    r.remote_address = "192.0.2.7";
    for (const auto& [k, v] : headers) r.headers.push_back({k, v});
    return r;
  }
};

Outcome verify_sync(const DigestScheme& scheme, const Request& request) {
  const Parsed parsed = scheme.parse(request);
  if (parsed.kind != Parsed::Kind::present) {
    ADD_FAILURE() << "not present: " << parsed.description;
    return Outcome::fail(OutcomeKind::malformed, "digest", "test", parsed.description);
  }
  std::optional<Outcome> result;
  scheme.verify(parsed.credentials, request, [&](Outcome o) { result = std::move(o); });
  EXPECT_TRUE(result.has_value()) << "verify did not complete synchronously";
  return result ? std::move(*result) : Outcome{};
}

// Limits no test of the protocol reaches; the throttling tests bring their own.
guard::ThrottleLimits roomy_limits() {
  guard::ThrottleLimits l;
  l.user_limit = 1000;
  l.address_limit = 1000;
  return l;
}

class DigestSchemeTest : public ::testing::Test {
 protected:
  FakeClock clock;
  StorePtr store = std::make_shared<stores::StaticStore>(users());
  guard::FailedLoginLimiter limiter{roomy_limits()};

  std::unique_ptr<DigestScheme> make(DigestSettings s = settings(),
                                     const std::string& secret = kSecret) {
    return std::make_unique<DigestScheme>(std::move(s), std::vector<StorePtr>{store}, secret, clock,
                                          &limiter);
  }

  // The limiter keys that have failures counted against them.
  std::vector<std::string> counted_keys() const {
    std::vector<std::string> keys;
    for (const auto& [key, tat] : limiter.snapshot(clock.now_ms())) keys.push_back(key);
    return keys;
  }

  // The challenge the scheme offers for `algorithm`.
  static Params challenge_for(const DigestScheme& scheme, DigestAlgorithm algorithm,
                              bool stale = false) {
    std::vector<std::string> out;
    scheme.append_challenges(out, stale);
    for (const auto& c : out) {
      Params p = params_of(c);
      if (parse_digest_algorithm(p["algorithm"]) == algorithm) return p;
    }
    ADD_FAILURE() << "no challenge for " << to_string(algorithm);
    return {};
  }

  // A client that answers the scheme's challenge for `algorithm` (uses its nonce and opaque).
  static ClientSide client_for(const DigestScheme& scheme, DigestAlgorithm algorithm) {
    Params p = challenge_for(scheme, algorithm);
    ClientSide c;
    c.algorithm = algorithm;
    c.realm = p["realm"];
    c.nonce = p["nonce"];
    c.opaque = p["opaque"];
    return c;
  }

  static Sent sent_by(const ClientSide& c) {
    Sent s;
    s.method = c.method;
    s.target = c.uri;
    s.body = c.body;
    s.headers = {{"Host", "example.org"}, {"Authorization", c.header()}};
    return s;
  }

  static Outcome send(const DigestScheme& scheme, const Sent& sent) {
    return verify_sync(scheme, sent.request());
  }
  static Outcome send(const DigestScheme& scheme, const ClientSide& c) {
    return send(scheme, sent_by(c));
  }
};

std::string describe(const Outcome& o) {
  return std::string(to_string(o.kind)) + " " + o.reason + ": " + o.description;
}

// ---- grants -----------------------------------------------------------------------------------

TEST_F(DigestSchemeTest, GrantsEveryAlgorithmWithQopAuth) {
  const auto scheme = make(settings({std::begin(kAllAlgorithms), std::end(kAllAlgorithms)}));
  for (const auto alg : kAllAlgorithms) {
    const ClientSide c = client_for(*scheme, alg);
    const Outcome o = send(*scheme, c);
    ASSERT_EQ(o.kind, OutcomeKind::granted) << to_string(alg) << " " << describe(o);
    ASSERT_TRUE(o.identity);
    EXPECT_EQ(o.identity->subject, "demo");
    EXPECT_EQ(o.identity->scheme, "digest");
    EXPECT_EQ(o.identity->roles, std::vector<std::string>{"User"});
    EXPECT_EQ(o.scheme, "digest");
  }
  EXPECT_EQ(limiter.failures(), 0u);
}

TEST_F(DigestSchemeTest, GrantsEveryAlgorithmWithQopAuthIntOverTheBody) {
  const auto scheme = make(settings({std::begin(kAllAlgorithms), std::end(kAllAlgorithms)}));
  for (const auto alg : kAllAlgorithms) {
    ClientSide c = client_for(*scheme, alg);
    c.qop = "auth-int";
    c.method = "POST";
    c.body = "{\"hello\": \"w\xc3\xb6rld\"}";
    const Outcome o = send(*scheme, c);
    EXPECT_EQ(o.kind, OutcomeKind::granted) << to_string(alg) << " " << describe(o);
    // auth-int with an empty body (a GET) works too.
    ClientSide g = client_for(*scheme, alg);
    g.qop = "auth-int";
    EXPECT_EQ(send(*scheme, g).kind, OutcomeKind::granted) << to_string(alg);
  }
}

TEST_F(DigestSchemeTest, PasswordWithColonAndRolesComeFromTheStore) {
  const auto scheme = make();
  ClientSide c = client_for(*scheme, DigestAlgorithm::sha256);
  c.user = "admin";
  c.password = "s3cret: with colon";
  const Outcome o = send(*scheme, c);
  ASSERT_EQ(o.kind, OutcomeKind::granted) << describe(o);
  EXPECT_EQ(o.identity->subject, "admin");
  EXPECT_EQ(o.identity->roles, (std::vector<std::string>{"Admin", "User"}));
}

TEST_F(DigestSchemeTest, UsernameIsLookedUpCaseMappedButHashedAsSent) {
  // Current behaviour: the name is normalized for the lookup ("Demo" finds "demo"), and the
  // store's HA1 is over the stored name, so a client that hashed "Demo" does not match (unlike
  // Basic, where "Demo" works). A wrong response, not an unknown user.
  const auto scheme = make();
  ClientSide c = client_for(*scheme, DigestAlgorithm::md5);
  c.user = "Demo";
  const Outcome o = send(*scheme, c);
  EXPECT_EQ(o.kind, OutcomeKind::denied) << describe(o);
  EXPECT_EQ(o.reason, "bad_response");
}

TEST_F(DigestSchemeTest, QueryStringIsPartOfTheUri) {
  const auto scheme = make();
  ClientSide c = client_for(*scheme, DigestAlgorithm::sha256);
  c.uri = "/auth/whoami?x=1&y=%20";
  EXPECT_EQ(send(*scheme, c).kind, OutcomeKind::granted);
}

// ---- Authentication-Info ------------------------------------------------------------------------

TEST_F(DigestSchemeTest, FinalizeAddsAuthenticationInfoWithRspauth) {
  const auto scheme = make(settings({std::begin(kAllAlgorithms), std::end(kAllAlgorithms)}));
  for (const auto alg : kAllAlgorithms) {
    const ClientSide c = client_for(*scheme, alg);
    const Outcome o = send(*scheme, c);
    ASSERT_EQ(o.kind, OutcomeKind::granted) << describe(o);
    ASSERT_TRUE(o.finalize) << to_string(alg);
    Response r = Response::json(200, "{\"user\":\"demo\"}");
    o.finalize(r);
    const std::string* info = r.find("Authentication-Info");
    ASSERT_NE(info, nullptr) << to_string(alg);
    ASSERT_FALSE(info->starts_with("Digest")) << *info;  // §3.5: no scheme name
    Params p = params_of("Digest " + *info);
    const auto expected =
        rspauth(alg, c.session(), c.nonce, c.nc, c.cnonce, c.qop, c.uri);  // auth: no body
    ASSERT_TRUE(expected);
    EXPECT_EQ(p["rspauth"], *expected) << to_string(alg);
    EXPECT_EQ(p["cnonce"], c.cnonce);
    EXPECT_EQ(p["nc"], c.nc);
    EXPECT_EQ(p["qop"], "auth");
    EXPECT_EQ(p.count("nextnonce"), 0u) << "a fresh nonce needs no nextnonce";
    // rspauth is not the request's response (A2 has an empty method).
    EXPECT_NE(p["rspauth"], c.response_hash());
  }
}

TEST_F(DigestSchemeTest, AuthIntRspauthCoversTheResponseBody) {
  const auto scheme = make();
  for (const auto alg : {DigestAlgorithm::sha256, DigestAlgorithm::md5}) {
    ClientSide c = client_for(*scheme, alg);
    c.qop = "auth-int";
    c.method = "PUT";
    c.body = "request body";
    const Outcome o = send(*scheme, c);
    ASSERT_EQ(o.kind, OutcomeKind::granted) << describe(o);
    Response r = Response::text(200, "the response body");
    o.finalize(r);
    const std::string* info = r.find("Authentication-Info");
    ASSERT_NE(info, nullptr);
    Params p = params_of("Digest " + *info);
    EXPECT_EQ(p["qop"], "auth-int");
    EXPECT_EQ(p["rspauth"],
              rspauth(alg, c.session(), c.nonce, c.nc, c.cnonce, c.qop, c.uri, "the response body")
                  .value());
    // Not computed over the request body or an empty one.
    EXPECT_NE(p["rspauth"],
              rspauth(alg, c.session(), c.nonce, c.nc, c.cnonce, c.qop, c.uri, c.body).value());
    EXPECT_NE(p["rspauth"],
              rspauth(alg, c.session(), c.nonce, c.nc, c.cnonce, c.qop, c.uri, "").value());
  }
}

TEST_F(DigestSchemeTest, NextnonceNearExpiryAndItWorks) {
  const auto scheme = make();
  ClientSide c = client_for(*scheme, DigestAlgorithm::sha256);
  clock.advance(285s);  // within the last 10% of the 300 s lifetime
  const Outcome o = send(*scheme, c);
  ASSERT_EQ(o.kind, OutcomeKind::granted) << describe(o);
  Response r = Response::json(200, "{}");
  o.finalize(r);
  const std::string* info = r.find("Authentication-Info");
  ASSERT_NE(info, nullptr);
  Params p = params_of("Digest " + *info);
  ASSERT_EQ(p.count("nextnonce"), 1u) << *info;
  EXPECT_NE(p["nextnonce"], c.nonce);
  EXPECT_EQ(p["nextnonce"].size(), NonceService::kEncodedSize);

  // The old nonce goes stale; the nextnonce carries on (nc restarts at 1 for a new nonce).
  clock.advance(20s);
  ClientSide old = c;
  old.nc = "00000002";
  EXPECT_EQ(send(*scheme, old).kind, OutcomeKind::stale);
  ClientSide next = c;
  next.nonce = p["nextnonce"];
  const Outcome o2 = send(*scheme, next);
  EXPECT_EQ(o2.kind, OutcomeKind::granted) << describe(o2);
}

// ---- refusals ----------------------------------------------------------------------------------

TEST_F(DigestSchemeTest, WrongPasswordIsDenied) {
  const auto scheme = make();
  for (const auto alg : {DigestAlgorithm::sha256, DigestAlgorithm::md5}) {
    ClientSide c = client_for(*scheme, alg);
    c.password = "wrong";
    const Outcome o = send(*scheme, c);
    EXPECT_EQ(o.kind, OutcomeKind::denied) << describe(o);
    EXPECT_EQ(o.reason, "bad_response");
    EXPECT_FALSE(o.identity);
  }
  EXPECT_EQ(limiter.failures(), 2u);
  EXPECT_EQ(counted_keys(), (std::vector<std::string>{"addr:192.0.2.7", "user:demo"}));
}

TEST_F(DigestSchemeTest, UnknownUserIsUnknownUser) {
  const auto scheme = make();
  for (const std::string user : {"nobody", "hashed"}) {
    ClientSide c = client_for(*scheme, DigestAlgorithm::sha256);
    c.user = user;
    const Outcome o = send(*scheme, c);
    EXPECT_EQ(o.kind, OutcomeKind::unknown_user) << user << " " << describe(o);
    EXPECT_EQ(o.description, "invalid username or password");  // same text as a wrong password
  }
}

TEST_F(DigestSchemeTest, DisabledUserIsDenied) {
  store = std::make_shared<DisablingStore>(store, "demo");
  const auto scheme = make();
  const Outcome o = send(*scheme, client_for(*scheme, DigestAlgorithm::sha256));
  EXPECT_EQ(o.kind, OutcomeKind::denied) << describe(o);
  EXPECT_EQ(o.reason, "disabled");
  EXPECT_EQ(o.description, "invalid username or password");
  EXPECT_FALSE(o.identity);
  // Another user of the same store is fine.
  ClientSide a = client_for(*scheme, DigestAlgorithm::sha256);
  a.user = "admin";
  a.password = "s3cret: with colon";
  EXPECT_EQ(send(*scheme, a).kind, OutcomeKind::granted);
}

TEST_F(DigestSchemeTest, SameNcTwiceIsAReplay) {
  const auto scheme = make();
  const ClientSide c = client_for(*scheme, DigestAlgorithm::sha256);
  const Sent sent = sent_by(c);
  ASSERT_EQ(send(*scheme, sent).kind, OutcomeKind::granted);
  const Outcome again = send(*scheme, sent);
  EXPECT_EQ(again.kind, OutcomeKind::denied) << describe(again);
  EXPECT_EQ(again.reason, "replayed_nc");
  EXPECT_FALSE(again.identity);
}

TEST_F(DigestSchemeTest, NcMustStrictlyIncrease) {
  const auto scheme = make();
  ClientSide c = client_for(*scheme, DigestAlgorithm::md5);
  c.nc = "00000005";
  ASSERT_EQ(send(*scheme, c).kind, OutcomeKind::granted);
  c.nc = "00000004";
  Outcome o = send(*scheme, c);
  EXPECT_EQ(o.kind, OutcomeKind::denied) << describe(o);
  EXPECT_EQ(o.reason, "replayed_nc");
  c.nc = "00000001";
  EXPECT_EQ(send(*scheme, c).kind, OutcomeKind::denied);
  c.nc = "00000006";
  EXPECT_EQ(send(*scheme, c).kind, OutcomeKind::granted);
  c.nc = "0000000A";  // hex, upper case: 10 > 6
  EXPECT_EQ(send(*scheme, c).kind, OutcomeKind::granted);
  c.nc = "0000000a";  // the same count in lower case is still a replay
  EXPECT_EQ(send(*scheme, c).kind, OutcomeKind::denied);
  // A gap is fine; nc is per nonce, so another nonce starts again at 1.
  ClientSide other = client_for(*scheme, DigestAlgorithm::md5);
  EXPECT_EQ(send(*scheme, other).kind, OutcomeKind::granted);
}

TEST_F(DigestSchemeTest, NcZeroIsRefused) {
  const auto scheme = make();
  ClientSide c = client_for(*scheme, DigestAlgorithm::sha256);
  c.nc = "00000000";
  EXPECT_NE(send(*scheme, c).kind, OutcomeKind::granted);
}

TEST_F(DigestSchemeTest, ExpiredNonceWithRightPasswordIsStale) {
  const auto scheme = make();
  const ClientSide c = client_for(*scheme, DigestAlgorithm::sha256);
  clock.advance(301s);
  const Outcome o = send(*scheme, c);
  EXPECT_EQ(o.kind, OutcomeKind::stale) << describe(o);
  EXPECT_FALSE(o.identity);
  std::vector<std::string> out;
  scheme->append_challenges(out, true);
  ASSERT_EQ(out.size(), 2u);
  for (const auto& ch : out) {
    EXPECT_EQ(params_of(ch)["stale"], "true") << ch;
    // The fresh nonce in the stale challenge works.
    ClientSide retry = c;
    retry.algorithm = *parse_digest_algorithm(params_of(ch)["algorithm"]);
    retry.nonce = params_of(ch)["nonce"];
    EXPECT_EQ(send(*scheme, retry).kind, OutcomeKind::granted);
  }
  std::vector<std::string> fresh;
  scheme->append_challenges(fresh, false);
  for (const auto& ch : fresh) EXPECT_EQ(ch.find("stale"), std::string::npos) << ch;
}

TEST_F(DigestSchemeTest, ExpiredNonceWithWrongPasswordIsDeniedNotStale) {
  // stale=true would tell a guesser nothing useful, but it must not turn a bad password into a
  // silent retry either.
  const auto scheme = make();
  ClientSide c = client_for(*scheme, DigestAlgorithm::sha256);
  c.password = "wrong";
  clock.advance(301s);
  EXPECT_EQ(send(*scheme, c).kind, OutcomeKind::denied);
}

TEST_F(DigestSchemeTest, NonceFromAnotherRealmOrSecretIsRefused) {
  const auto scheme = make();
  const auto other_realm = make(settings({DigestAlgorithm::sha256, DigestAlgorithm::md5},
                                         {DigestQop::auth, DigestQop::auth_int}, "other realm"));
  const auto other_secret = make(settings(), "another secret, at least sixteen bytes");
  for (const DigestScheme* foreign : {other_realm.get(), other_secret.get()}) {
    ClientSide c = client_for(*scheme, DigestAlgorithm::sha256);
    c.nonce = challenge_for(*foreign, DigestAlgorithm::sha256)["nonce"];
    const Outcome o = send(*scheme, c);
    EXPECT_EQ(o.kind, OutcomeKind::denied) << describe(o);
    EXPECT_EQ(o.reason, "bad_nonce");
  }
  // The other realm's own challenge, answered faithfully (realm included), is still wrong here.
  ClientSide c = client_for(*other_realm, DigestAlgorithm::sha256);
  const Outcome o = send(*scheme, c);
  EXPECT_EQ(o.kind, OutcomeKind::denied) << describe(o);
}

TEST_F(DigestSchemeTest, TamperedNonceIsRefused) {
  const auto scheme = make();
  const ClientSide good = client_for(*scheme, DigestAlgorithm::sha256);
  // Positions in the time, the random part and the MAC (not the last character, whose low bits
  // are padding).
  for (const std::size_t i : {std::size_t{0}, std::size_t{5}, std::size_t{12}, std::size_t{30},
                              std::size_t{45}, NonceService::kEncodedSize - 2}) {
    ClientSide c = good;
    c.nonce[i] = c.nonce[i] == 'A' ? 'B' : 'A';
    const Outcome o = send(*scheme, c);  // the response is right for the tampered nonce
    EXPECT_EQ(o.kind, OutcomeKind::denied) << i << " " << describe(o);
    EXPECT_EQ(o.reason, "bad_nonce") << i;
  }
  for (const std::string& bad :
       std::vector<std::string>{"", "x", "not a nonce at all", std::string(54, 'A'),
                                good.nonce + "A", good.nonce.substr(1)}) {
    ClientSide c = good;
    c.nonce = bad;
    const Sent sent = sent_by(c);
    const Parsed parsed = scheme->parse(sent.request());
    if (parsed.kind == Parsed::Kind::malformed) continue;  // refusing to parse is fine too
    const Outcome o = send(*scheme, sent);
    EXPECT_EQ(o.kind, OutcomeKind::denied) << "'" << bad << "' " << describe(o);
  }
  EXPECT_EQ(send(*scheme, good).kind, OutcomeKind::granted);
}

TEST_F(DigestSchemeTest, UriOtherThanTheTargetIsRefused) {
  const auto scheme = make();
  const ClientSide c = client_for(*scheme, DigestAlgorithm::sha256);  // computed for /auth/whoami
  for (const std::string target :
       {"/auth/verify", "/auth/whoami?admin=1", "/auth/whoami/", "/AUTH/whoami"}) {
    Sent sent = sent_by(c);
    sent.target = target;
    const Outcome o = send(*scheme, sent);
    EXPECT_EQ(o.kind, OutcomeKind::denied) << target << " " << describe(o);
    EXPECT_EQ(o.reason, "uri_mismatch") << target;
  }
  // Consistent uri and response, but for a different target than the request's.
  ClientSide other = c;
  other.uri = "/auth/verify";
  Sent sent = sent_by(other);
  sent.target = "/auth/whoami";
  EXPECT_EQ(send(*scheme, sent).kind, OutcomeKind::denied);
  EXPECT_EQ(send(*scheme, c).kind, OutcomeKind::granted);  // nothing above consumed the nc
}

TEST_F(DigestSchemeTest, MethodSwapIsRefused) {
  const auto scheme = make();
  const ClientSide c = client_for(*scheme, DigestAlgorithm::sha256);  // computed for GET
  Sent sent = sent_by(c);
  sent.method = "POST";
  const Outcome o = send(*scheme, sent);
  EXPECT_EQ(o.kind, OutcomeKind::denied) << describe(o);
  EXPECT_EQ(o.reason, "bad_response");
}

TEST_F(DigestSchemeTest, AuthIntBodySwapIsRefused) {
  const auto scheme = make();
  ClientSide c = client_for(*scheme, DigestAlgorithm::md5);
  c.qop = "auth-int";
  c.method = "POST";
  c.body = "amount=10";
  Sent sent = sent_by(c);
  sent.body = "amount=10000";
  Outcome o = send(*scheme, sent);
  EXPECT_EQ(o.kind, OutcomeKind::denied) << describe(o);
  EXPECT_EQ(o.reason, "bad_response");
  sent.body = "";
  EXPECT_EQ(send(*scheme, sent).kind, OutcomeKind::denied);
  // With qop=auth the body is not covered (that is what auth-int is for).
  ClientSide a = client_for(*scheme, DigestAlgorithm::md5);
  a.method = "POST";
  a.body = "amount=10";
  Sent s2 = sent_by(a);
  s2.body = "amount=10000";
  EXPECT_EQ(send(*scheme, s2).kind, OutcomeKind::granted);
}

TEST_F(DigestSchemeTest, AlgorithmNotOfferedIsADowngrade) {
  const auto scheme = make(settings({DigestAlgorithm::sha256}));
  for (const auto alg : {DigestAlgorithm::md5, DigestAlgorithm::md5_sess,
                         DigestAlgorithm::sha256_sess, DigestAlgorithm::sha512_256}) {
    ClientSide c = client_for(*scheme, DigestAlgorithm::sha256);
    c.algorithm = alg;  // a correct response, but with an algorithm the server did not offer
    const Outcome o = send(*scheme, c);
    EXPECT_EQ(o.kind, OutcomeKind::denied) << to_string(alg) << " " << describe(o);
    EXPECT_EQ(o.reason, "algorithm_not_offered") << to_string(alg);
  }
  // No algorithm parameter means MD5 (RFC 7616 §3.4): also a downgrade here.
  ClientSide c = client_for(*scheme, DigestAlgorithm::sha256);
  c.algorithm = DigestAlgorithm::md5;
  std::string h = c.header();
  const auto pos = h.find("algorithm=MD5, ");
  ASSERT_NE(pos, std::string::npos);
  h.erase(pos, std::string("algorithm=MD5, ").size());
  Sent sent = sent_by(c);
  sent.headers = {{"Authorization", h}};
  const Outcome o = send(*scheme, sent);
  EXPECT_EQ(o.kind, OutcomeKind::denied) << describe(o);
  EXPECT_EQ(o.reason, "algorithm_not_offered");
}

TEST_F(DigestSchemeTest, AbsentAlgorithmMeansMd5WhenOffered) {
  const auto scheme = make();
  ClientSide c = client_for(*scheme, DigestAlgorithm::md5);
  std::string h = c.header();
  const auto pos = h.find("algorithm=MD5, ");
  ASSERT_NE(pos, std::string::npos);
  h.erase(pos, std::string("algorithm=MD5, ").size());
  Sent sent = sent_by(c);
  sent.headers = {{"Authorization", h}};
  EXPECT_EQ(send(*scheme, sent).kind, OutcomeKind::granted);
}

TEST_F(DigestSchemeTest, QopNotOfferedIsRefused) {
  const auto scheme = make(settings({DigestAlgorithm::sha256}, {DigestQop::auth}));
  ClientSide c = client_for(*scheme, DigestAlgorithm::sha256);
  c.qop = "auth-int";
  const Outcome o = send(*scheme, c);
  EXPECT_EQ(o.kind, OutcomeKind::denied) << describe(o);
  EXPECT_EQ(o.reason, "qop_not_offered");

  const auto int_only = make(settings({DigestAlgorithm::sha256}, {DigestQop::auth_int}));
  ClientSide d = client_for(*int_only, DigestAlgorithm::sha256);
  d.qop = "auth";
  EXPECT_EQ(send(*int_only, d).reason, "qop_not_offered");
  d.qop = "auth-int";
  EXPECT_EQ(send(*int_only, d).kind, OutcomeKind::granted);
}

TEST_F(DigestSchemeTest, WrongOpaqueIsRefused) {
  const auto scheme = make();
  ClientSide c = client_for(*scheme, DigestAlgorithm::sha256);
  ASSERT_FALSE(c.opaque.empty());
  ASSERT_GE(c.opaque.size(), 16u);
  c.opaque[0] = c.opaque[0] == '0' ? '1' : '0';
  const Outcome o = send(*scheme, c);
  EXPECT_EQ(o.kind, OutcomeKind::denied) << describe(o);
  EXPECT_EQ(o.reason, "wrong_opaque");
  // Another secret's opaque.
  const auto other = make(settings(), "another secret, at least sixteen bytes");
  c.opaque = challenge_for(*other, DigestAlgorithm::sha256)["opaque"];
  EXPECT_EQ(send(*scheme, c).reason, "wrong_opaque");
}

TEST_F(DigestSchemeTest, WrongRealmIsRefused) {
  const auto scheme = make();
  ClientSide c = client_for(*scheme, DigestAlgorithm::sha256);
  c.realm = "other realm";  // HA1 and response consistently for the other realm
  const Outcome o = send(*scheme, c);
  EXPECT_EQ(o.kind, OutcomeKind::denied) << describe(o);
  EXPECT_EQ(o.reason, "wrong_realm");
}

TEST_F(DigestSchemeTest, RFC2069FormAndMalformedHeadersAreMalformed) {
  const auto scheme = make();
  const ClientSide c = client_for(*scheme, DigestAlgorithm::md5);
  const std::string good = c.header();
  const std::string hex32(32, 'a');
  const std::vector<std::string> bad = {
      "Digest",
      "Digest ",
      "Digest ,,,=",
      "Digest username=\"demo\"",
      "Digest username=\"a\", username=\"b\", realm=\"r\"",
      "Digest username=\"demo\", realm=\"" + kRealm + "\", nonce=\"" + c.nonce +
          "\", uri=\"/auth/whoami\", response=\"" + hex32 + "\"",  // RFC 2069: no qop
      "Digest username=\"demo\", realm=\"" + kRealm + "\", nonce=\"" + c.nonce +
          "\", uri=\"/auth/whoami\", response=\"zz\", qop=auth, nc=1, cnonce=\"c\"",
      "Digest username=\"demo\", realm=\"" + kRealm + "\", nonce=\"" + c.nonce +
          "\", uri=\"/auth/whoami\", response=\"" + hex32 + "\", qop=auth, cnonce=\"c\"",  // nc?
      "Digest username=\"demo\", realm=\"" + kRealm + "\", nonce=\"" + c.nonce +
          "\", uri=\"/auth/whoami\", response=\"" + hex32 + "\", qop=auth, nc=00000001",  // cn?
      "Digest username=\"demo\", realm=\"" + kRealm + "\", nonce=\"" + c.nonce +
          "\", uri=\"/auth/whoami\", response=\"" + hex32 + "\", qop=bogus, nc=00000001, " +
          "cnonce=\"c\"",
      "Digest username=\"demo\", realm=\"" + kRealm + "\", nonce=\"" + c.nonce +
          "\", uri=\"/auth/whoami\", response=\"" + hex32 +
          "\", qop=auth, nc=00000001, cnonce=\"c\", algorithm=SHA-512",
      good.substr(0, good.size() - 1),  // unterminated quoted-string
      good + ", x=\"" + std::string(5000, 'y') + "\"",
      good + ", userhash=maybe",
  };
  for (const auto& header : bad) {
    Sent sent;
    sent.headers = {{"Authorization", header}};
    const Parsed parsed = scheme->parse(sent.request());
    EXPECT_EQ(parsed.kind, Parsed::Kind::malformed) << header.substr(0, 200);
    // The description never echoes the response or the nonce.
    EXPECT_EQ(parsed.description.find(c.nonce), std::string::npos) << parsed.description;
    EXPECT_EQ(parsed.description.find(hex32), std::string::npos) << parsed.description;
  }
  // Two Authorization headers.
  Sent twice;
  twice.headers = {{"Authorization", good}, {"Authorization", good}};
  EXPECT_EQ(scheme->parse(twice.request()).kind, Parsed::Kind::malformed);
  // Other schemes and no header at all are absent (another scheme may take them).
  for (const std::string other : {"Basic ZGVtbzpkZW1v", "Bearer abc", "Digestive x=1"}) {
    Sent s;
    s.headers = {{"Authorization", other}};
    EXPECT_EQ(scheme->parse(s.request()).kind, Parsed::Kind::absent) << other;
  }
  EXPECT_EQ(scheme->parse(Sent{}.request()).kind, Parsed::Kind::absent);
  // The scheme name is case-insensitive.
  Sent lower;
  lower.headers = {{"authorization", "digest" + good.substr(6)}};
  EXPECT_EQ(scheme->parse(lower.request()).kind, Parsed::Kind::present);
}

TEST_F(DigestSchemeTest, VerifyWithOtherCredentialsIsAnError) {
  const auto scheme = make();
  std::optional<Outcome> result;
  scheme->verify(PasswordCredentials{"demo", Secret("demo")}, Sent{}.request(),
                 [&](Outcome o) { result = std::move(o); });
  ASSERT_TRUE(result);
  EXPECT_EQ(result->kind, OutcomeKind::error);
}

// ---- userhash ---------------------------------------------------------------------------------

TEST_F(DigestSchemeTest, UserhashWithTheRightHashIsGranted) {
  DigestSettings s = settings({DigestAlgorithm::sha256, DigestAlgorithm::md5});
  s.userhash = true;
  const auto scheme = make(s);
  for (const auto alg : {DigestAlgorithm::sha256, DigestAlgorithm::md5}) {
    const Params ch = challenge_for(*scheme, alg);
    EXPECT_EQ(ch.at("userhash"), "true");
    ClientSide c = client_for(*scheme, alg);
    c.userhash = true;
    const Outcome o = send(*scheme, c);
    ASSERT_EQ(o.kind, OutcomeKind::granted) << to_string(alg) << " " << describe(o);
    EXPECT_EQ(o.identity->subject, "demo");
    // The header carried the hash, not the name.
    const std::string header = c.header();
    EXPECT_EQ(header.find("username=\"demo\""), std::string::npos);
    EXPECT_NE(header.find(schemes::userhash(alg, "demo", kRealm)), std::string::npos);
  }
  // A wrong userhash (another realm's) is unknown; the hash with the wrong password is denied.
  ClientSide c = client_for(*scheme, DigestAlgorithm::sha256);
  c.userhash = true;
  c.user = "nobody";
  EXPECT_EQ(send(*scheme, c).kind, OutcomeKind::unknown_user);
  c.user = "demo";
  c.password = "wrong";
  EXPECT_EQ(send(*scheme, c).kind, OutcomeKind::denied);
}

TEST_F(DigestSchemeTest, UserhashIsRefusedWhenNotOffered) {
  const auto scheme = make(settings({DigestAlgorithm::sha256}));  // userhash = false
  ClientSide c = client_for(*scheme, DigestAlgorithm::sha256);
  c.userhash = true;
  const Outcome o = send(*scheme, c);
  EXPECT_EQ(o.kind, OutcomeKind::denied);
  EXPECT_EQ(o.reason, "userhash_not_offered");
}

// ---- challenges ---------------------------------------------------------------------------------

TEST_F(DigestSchemeTest, OneChallengePerAlgorithmInOrderWithDistinctNonces) {
  const std::vector<DigestAlgorithm> order = {DigestAlgorithm::sha512_256, DigestAlgorithm::sha256,
                                              DigestAlgorithm::md5_sess, DigestAlgorithm::md5};
  const auto scheme = make(settings(order));
  std::vector<std::string> out{"Basic realm=\"x\""};  // appends, keeps what is there
  scheme->append_challenges(out, false);
  ASSERT_EQ(out.size(), order.size() + 1);
  EXPECT_EQ(out[0], "Basic realm=\"x\"");
  std::vector<std::string> nonces;
  for (std::size_t i = 0; i < order.size(); ++i) {
    Params p = params_of(out[i + 1]);
    EXPECT_EQ(p["algorithm"], to_string(order[i]));
    EXPECT_EQ(p["realm"], kRealm);
    EXPECT_EQ(p["qop"], "auth, auth-int");
    EXPECT_EQ(p["charset"], "UTF-8");
    EXPECT_EQ(p["nonce"].size(), NonceService::kEncodedSize);
    EXPECT_FALSE(p["opaque"].empty());
    EXPECT_EQ(p.count("stale"), 0u);
    EXPECT_EQ(p.count("userhash"), 0u);
    for (const auto& n : nonces) EXPECT_NE(n, p["nonce"]);
    nonces.push_back(p["nonce"]);
  }
  // challenge() is the first (strongest) one.
  EXPECT_EQ(params_of(scheme->challenge())["algorithm"], to_string(order.front()));
  // A second 401 gets new nonces.
  std::vector<std::string> again;
  scheme->append_challenges(again, false);
  for (const auto& ch : again) {
    for (const auto& n : nonces) EXPECT_NE(params_of(ch)["nonce"], n);
  }
}

TEST_F(DigestSchemeTest, ConstructionRefusesUnusableSettings) {
  EXPECT_THROW(DigestScheme(settings(), {std::make_shared<PasswordOnlyStore>()}, kSecret, clock),
               std::invalid_argument);
  EXPECT_THROW(DigestScheme(settings({}), {store}, kSecret, clock), std::invalid_argument);
  EXPECT_THROW(DigestScheme(settings({DigestAlgorithm::md5}, {}), {store}, kSecret, clock),
               std::invalid_argument);
  EXPECT_THROW(DigestScheme(settings(), {store}, "short", clock), std::invalid_argument);
}

// ---- failed-login throttling (SPEC §10) ----------------------------------------------------

class DigestThrottleTest : public DigestSchemeTest {
 protected:
  static guard::ThrottleLimits limits() {
    guard::ThrottleLimits l;  // Roundup's 4 per 600 s per user
    l.address_limit = 6;
    return l;
  }
  std::unique_ptr<DigestScheme> make_throttled(DigestSettings s = settings()) {
    return std::make_unique<DigestScheme>(std::move(s), std::vector<StorePtr>{store}, kSecret,
                                          clock, &limiter_defaults);
  }
  // A client with a fresh nonce and a fresh nc, so no failure below is a replay.
  static ClientSide fresh(const DigestScheme& scheme, std::string user, std::string password) {
    ClientSide c = client_for(scheme, DigestAlgorithm::sha256);
    c.user = std::move(user);
    c.password = std::move(password);
    return c;
  }
  guard::FailedLoginLimiter limiter_defaults{limits()};
};

TEST_F(DigestThrottleTest, WrongResponsesLockTheUserAndTheRightOneIsThenRefused) {
  const auto scheme = make_throttled();
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(send(*scheme, fresh(*scheme, "demo", "wrong")).kind, OutcomeKind::denied) << i;
  }
  const Outcome o = send(*scheme, fresh(*scheme, "demo", "demo"));
  ASSERT_EQ(o.kind, OutcomeKind::throttled) << describe(o);
  EXPECT_EQ(o.scheme, "digest");
  EXPECT_EQ(o.reason, "user_throttled");
  EXPECT_EQ(o.retry_after, 150);
  EXPECT_FALSE(o.finalize) << "no Authentication-Info for a refused login";
  EXPECT_EQ(limiter_defaults.failures(), 4u);
  // Another user is fine; after one emission interval demo is let in again.
  ClientSide admin = fresh(*scheme, "admin", "s3cret: with colon");
  EXPECT_EQ(send(*scheme, admin).kind, OutcomeKind::granted);
  clock.advance(150s);
  EXPECT_EQ(send(*scheme, fresh(*scheme, "demo", "demo")).kind, OutcomeKind::granted);
}

TEST_F(DigestThrottleTest, UnknownUsersCountAndAreLockedByName) {
  const auto scheme = make_throttled();
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(send(*scheme, fresh(*scheme, "Nobody", "x")).kind, OutcomeKind::unknown_user);
  }
  // The name is counted as the schemes normalize it (RFC 8265 case mapping).
  EXPECT_EQ(send(*scheme, fresh(*scheme, "nobody", "x")).kind, OutcomeKind::throttled);
}

TEST_F(DigestThrottleTest, ReplayCountsAsAFailure) {
  const auto scheme = make_throttled();
  const ClientSide c = fresh(*scheme, "demo", "demo");
  ASSERT_EQ(send(*scheme, c).kind, OutcomeKind::granted);
  EXPECT_EQ(send(*scheme, c).reason, "replayed_nc");
  EXPECT_EQ(limiter_defaults.failures(), 1u);
}

TEST_F(DigestThrottleTest, UnmatchedUserhashCountsAgainstTheAddressOnly) {
  DigestSettings s = settings({DigestAlgorithm::sha256});
  s.userhash = true;
  const auto scheme = make_throttled(s);
  for (int i = 0; i < 6; ++i) {
    ClientSide c = fresh(*scheme, "nobody-" + std::to_string(i), "x");
    c.userhash = true;
    EXPECT_EQ(send(*scheme, c).kind, OutcomeKind::unknown_user) << i;
  }
  std::vector<std::string> keys;
  for (const auto& [key, tat] : limiter_defaults.snapshot(clock.now_ms())) keys.push_back(key);
  EXPECT_EQ(keys, (std::vector<std::string>{"addr:192.0.2.7"}));
  // The address is now over its limit: a right userhash login from it is refused.
  ClientSide c = fresh(*scheme, "demo", "demo");
  c.userhash = true;
  const Outcome o = send(*scheme, c);
  EXPECT_EQ(o.kind, OutcomeKind::throttled) << describe(o);
  EXPECT_EQ(o.reason, "address_throttled");
}

}  // namespace
}  // namespace gatehouse::schemes
