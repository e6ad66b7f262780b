#include "schemes/digest.hpp"

#include <openssl/crypto.h>

#include <algorithm>
#include <stdexcept>

#include "auth/username.hpp"
#include "schemes/authorization_header.hpp"
#include "schemes/digest_params.hpp"
#include "util/encoding.hpp"

namespace gatehouse::schemes {

namespace {

bool equal_hex(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

constexpr std::string_view kBadLogin = "invalid username or password";

}  // namespace

Parsed parse_digest_credentials(std::string_view text) {
  DigestParseResult parsed = parse_digest_params(text);
  if (!parsed.ok()) return Parsed::malformed("Digest credentials: " + parsed.error);
  const DigestParams& p = *parsed.params;
  if (!p.qop_kind) {
    return Parsed::malformed("Digest credentials without qop (RFC 2069) are not accepted");
  }
  DigestCredentials c;
  c.userhash = p.userhash;
  if (p.userhash) {
    c.username = p.user();
  } else {
    // RFC 7616 §3.4.2 and RFC 8265: the same username profile as Basic.
    auto normalized = auth::normalize_username(p.user());
    if (!normalized) {
      return Parsed::malformed("the username is not valid (RFC 8265 UsernameCaseMapped)");
    }
    c.username = std::move(*normalized);
  }
  c.realm = p.realm;
  c.nonce = p.nonce;
  c.uri = p.uri;
  c.algorithm = std::string(to_string(p.algorithm));
  c.cnonce = p.cnonce.value_or("");
  c.opaque = p.opaque.value_or("");
  c.qop = p.qop;
  c.nc = p.nc;
  c.response = Secret(p.response);
  return Parsed::present(std::move(c));
}

DigestScheme::DigestScheme(DigestSettings settings, std::vector<StorePtr> chain,
                           const std::string& secret, const Clock& clock,
                           guard::FailedLoginLimiter* limiter)
    : settings_(std::move(settings)),
      chain_(std::move(chain)),
      clock_(clock),
      limiter_(limiter),
      nonces_(secret, settings_.realm, settings_.nonce_lifetime, clock),
      counters_(clock, settings_.nonce_lifetime),
      opaque_(digest_hex(DigestAlgorithm::sha256, secret +
                                                      "\x1f"
                                                      "opaque\x1f" +
                                                      settings_.realm)
                  .substr(0, 32)) {
  for (const auto& store : chain_) {
    if (!store->can(StoreCapability::digest_ha1)) {
      throw std::invalid_argument("store \"" + std::string(store->name()) +
                                  "\" cannot give the Digest HA1");
    }
  }
  if (settings_.algorithms.empty() || settings_.qops.empty()) {
    throw std::invalid_argument("Digest needs at least one algorithm and one qop");
  }
}

std::string DigestScheme::challenge() const {
  return digest_challenge(settings_.realm, settings_.algorithms.front(), settings_.qops,
                          nonces_.issue(), opaque_, false, settings_.userhash);
}

void DigestScheme::append_challenges(std::vector<std::string>& out, bool stale) const {
  // One challenge per algorithm, in the configured order (strongest first), each with its own
  // fresh nonce (RFC 7616 §3.7).
  for (const auto algorithm : settings_.algorithms) {
    out.push_back(digest_challenge(settings_.realm, algorithm, settings_.qops, nonces_.issue(),
                                   opaque_, stale, settings_.userhash));
  }
}

Parsed DigestScheme::parse(const Request& request) const {
  const auto header = request.header("Authorization");
  if (!header) return Parsed::absent();
  const auto value = split_authorization(*header);
  if (!value || !iequals(value->scheme, "Digest")) return Parsed::absent();
  if (request.header_count("Authorization") > 1) {
    return Parsed::malformed("more than one Authorization header");
  }
  return parse_digest_credentials(value->rest);
}

Outcome DigestScheme::deny(std::string reason, std::string description) const {
  return Outcome::fail(OutcomeKind::denied, "digest", std::move(reason), std::move(description));
}

void DigestScheme::record_failure(std::string_view username, const Request& request) const {
  if (limiter_ != nullptr) {
    limiter_->record_failure(username, request.remote_address, clock_.now_ms());
  }
}

Ha1Lookup DigestScheme::find_ha1(const DigestCredentials& c, DigestAlgorithm algorithm) const {
  for (const auto& store : chain_) {
    auto found = store->find_ha1(c.username, c.userhash, settings_.realm, ha1_algorithm(algorithm));
    if (found.status != LookupStatus::unknown_user) return found;
  }
  return {};
}

Outcome DigestScheme::check(const DigestCredentials& c, const Request& request) const {
  const auto algorithm = parse_digest_algorithm(c.algorithm);
  const auto qop = parse_digest_qop(c.qop);
  // Downgrade protection: only what this server offered.
  if (!algorithm || std::find(settings_.algorithms.begin(), settings_.algorithms.end(),
                              *algorithm) == settings_.algorithms.end()) {
    return deny("algorithm_not_offered", "the Digest algorithm was not offered");
  }
  if (!qop ||
      std::find(settings_.qops.begin(), settings_.qops.end(), *qop) == settings_.qops.end()) {
    return deny("qop_not_offered", "the Digest qop was not offered");
  }
  if (c.userhash && !settings_.userhash) {
    return deny("userhash_not_offered", "userhash was not offered");
  }
  if (c.realm != settings_.realm) return deny("wrong_realm", "the Digest realm does not match");
  if (!c.opaque.empty() && c.opaque != opaque_) {
    return deny("wrong_opaque", "the Digest opaque does not match");
  }
  // RFC 7616 §3.4.6: the response covers this request's target, not another one.
  if (c.uri != request.target) {
    return deny("uri_mismatch", "the Digest uri does not match the request target");
  }
  const NonceCheck nonce = nonces_.check(c.nonce);
  if (nonce.status == NonceCheck::Status::forged || nonce.status == NonceCheck::Status::malformed) {
    return deny("bad_nonce", "the Digest nonce was not issued by this server");
  }

  const Ha1Lookup found = find_ha1(c, *algorithm);
  if (found.status == LookupStatus::error) {
    return Outcome::fail(OutcomeKind::error, "digest", "store_error",
                         "credential store unavailable");
  }
  // The account's name when a store knows it; else the name as sent, or none for a userhash.
  const bool known = found.status == LookupStatus::found;
  const std::string_view counted_name = known        ? std::string_view(found.record.username)
                                        : c.userhash ? std::string_view()
                                                     : std::string_view(c.username);
  if (limiter_ != nullptr) {
    if (auto refused = limiter_->check(counted_name, request.remote_address, clock_.now_ms())) {
      return refused->outcome("digest");
    }
  }
  if (!known) {
    record_failure(counted_name, request);
    return Outcome::fail(OutcomeKind::unknown_user, "digest", "unknown_user",
                         std::string(kBadLogin));
  }
  const Ha1Record& rec = found.record;
  const std::string session = session_ha1(*algorithm, rec.ha1, c.nonce, c.cnonce);
  const std::string a2 = ha2(*algorithm, request.method, c.uri, *qop, request.body);
  const auto expected = response(*algorithm, session, c.nonce, c.nc, c.cnonce, c.qop, a2);
  if (!expected || !equal_hex(*expected, c.response.reveal())) {
    record_failure(rec.username, request);
    return deny("bad_response", std::string(kBadLogin));
  }
  // The response is right: only now may the nonce's state change (digest_replay.hpp).
  if (nonce.status == NonceCheck::Status::stale) {
    return Outcome::fail(OutcomeKind::stale, "digest", "stale_nonce",
                         "the Digest nonce has expired; retry with the new one");
  }
  std::uint32_t nc_value = 0;
  for (char ch : c.nc) {
    nc_value =
        nc_value * 16 + static_cast<std::uint32_t>(ch <= '9' ? ch - '0' : (ch | 0x20) - 'a' + 10);
  }
  switch (counters_.record(c.nonce, nc_value, nonce.issued_ms)) {
    case NonceCounter::Verdict::accepted:
      break;
    case NonceCounter::Verdict::replayed:
      record_failure(rec.username, request);
      return deny("replayed_nc", "the Digest nonce count was already used (replay)");
    case NonceCounter::Verdict::stale:
      return Outcome::fail(OutcomeKind::stale, "digest", "stale_nonce",
                           "the Digest nonce has expired; retry with the new one");
  }
  if (rec.disabled) return deny("disabled", std::string(kBadLogin));

  auto who = std::make_shared<Identity>();
  who->subject = rec.username;
  who->roles = rec.roles;
  who->scheme = "digest";
  who->auth_time = clock_.now_s();
  Outcome outcome = Outcome::granted(std::move(who), "digest");
  // RFC 7616 §3.5 Authentication-Info, computed on the final response (auth-int covers its body).
  const bool next = nonce.about_to_expire;
  outcome.finalize = [this, algorithm = *algorithm, session, c, next](Response& r) {
    const auto auth = rspauth(algorithm, session, c.nonce, c.nc, c.cnonce, c.qop, c.uri, r.body);
    if (!auth) return;
    std::string info = "rspauth=\"" + *auth + "\", cnonce=" + quote_string(c.cnonce) +
                       ", nc=" + c.nc + ", qop=" + c.qop;
    if (next) info += ", nextnonce=\"" + nonces_.issue() + "\"";
    r.set("Authentication-Info", std::move(info));
  };
  return outcome;
}

void DigestScheme::verify(Credentials credentials, const Request& request,
                          Completion<Outcome> done) const {
  const auto* c = std::get_if<DigestCredentials>(&credentials);
  if (c == nullptr) {
    done(Outcome::fail(OutcomeKind::error, "digest", "wrong_credentials", "internal error"));
    return;
  }
  done(check(*c, request));
}

}  // namespace gatehouse::schemes
