#include "tokens/token_service.hpp"

#include <sodium.h>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <charconv>

#include "gatehouse/secret.hpp"
#include "jose/base64url.hpp"
#include "jose/jwt.hpp"
#include "util/encoding.hpp"
#include "util/log.hpp"

namespace gatehouse::tokens {

namespace {

constexpr std::string_view kRefreshPrefix = "ghr_";
constexpr std::size_t kSessionIdHex = 32;  // 128 random bits
constexpr std::string_view kAccessTyp = "at+jwt";

std::string hmac(std::string_view key, std::string_view message) {
  unsigned char out[crypto_auth_hmacsha256_BYTES];
  crypto_auth_hmacsha256_state state;
  crypto_auth_hmacsha256_init(&state, reinterpret_cast<const unsigned char*>(key.data()),
                              key.size());
  crypto_auth_hmacsha256_update(&state, reinterpret_cast<const unsigned char*>(message.data()),
                                message.size());
  crypto_auth_hmacsha256_final(&state, out);
  return std::string(reinterpret_cast<const char*>(out), sizeof out);
}

bool is_lower_hex(std::string_view s) {
  for (const char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

std::vector<std::string> string_list(const boost::json::value* v, bool* ok) {
  std::vector<std::string> out;
  if (v == nullptr) return out;
  const auto* array = v->if_array();
  if (array == nullptr) {
    *ok = false;
    return out;
  }
  for (const auto& item : *array) {
    const auto* s = item.if_string();
    if (s == nullptr) {
      *ok = false;
      return {};
    }
    out.emplace_back(*s);
  }
  return out;
}

std::int64_t number_claim(const boost::json::object& claims, std::string_view name) {
  const auto* v = claims.if_contains(name);
  if (v == nullptr) return 0;
  if (const auto* i = v->if_int64()) return *i;
  if (const auto* u = v->if_uint64()) return static_cast<std::int64_t>(*u);
  if (const auto* d = v->if_double()) return static_cast<std::int64_t>(*d);
  return 0;
}

std::string string_claim(const boost::json::object& claims, std::string_view name) {
  const auto* v = claims.if_contains(name);
  if (v == nullptr || !v->is_string()) return {};
  return std::string(v->get_string());
}

// The sealed copy of an access token (SessionRow::access_sealed): nonce ‖ secretbox, base64url.
std::string seal(std::string_view key, std::string_view plain) {
  std::string nonce = util::random_bytes(crypto_secretbox_NONCEBYTES);
  std::string box(crypto_secretbox_MACBYTES + plain.size(), '\0');
  crypto_secretbox_easy(reinterpret_cast<unsigned char*>(box.data()),
                        reinterpret_cast<const unsigned char*>(plain.data()), plain.size(),
                        reinterpret_cast<const unsigned char*>(nonce.data()),
                        reinterpret_cast<const unsigned char*>(key.data()));
  return jose::b64url_encode(nonce + box);
}

std::optional<std::string> unseal(std::string_view key, std::string_view sealed) {
  const auto raw = jose::b64url_decode(sealed);
  if (!raw || raw->size() < crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES) {
    return std::nullopt;
  }
  const std::string_view nonce(raw->data(), crypto_secretbox_NONCEBYTES);
  const std::string_view box = std::string_view(*raw).substr(crypto_secretbox_NONCEBYTES);
  std::string plain(box.size() - crypto_secretbox_MACBYTES, '\0');
  if (crypto_secretbox_open_easy(reinterpret_cast<unsigned char*>(plain.data()),
                                 reinterpret_cast<const unsigned char*>(box.data()), box.size(),
                                 reinterpret_cast<const unsigned char*>(nonce.data()),
                                 reinterpret_cast<const unsigned char*>(key.data())) != 0) {
    return std::nullopt;
  }
  return plain;
}

Outcome denied(std::string reason, std::string description) {
  return Outcome::fail(OutcomeKind::denied, "bearer", std::move(reason), std::move(description));
}

}  // namespace

std::string TokenPair::json() const {
  boost::json::object o;
  o["access_token"] = access_token;
  o["token_type"] = "Bearer";
  o["expires_in"] = expires_in;
  o["refresh_token"] = refresh_token;
  o["refresh_expires_in"] = refresh_expires_in;
  return boost::json::serialize(o);
}

TokenService::TokenService(TokenSettings settings, std::shared_ptr<state::StateStore> store,
                           std::string_view server_secret, UserLookup users, UserActive active,
                           const Clock& clock)
    : settings_(std::move(settings)),
      store_(std::move(store)),
      refresh_key_(hmac(server_secret, "gatehouse refresh tokens v1")),
      users_(std::move(users)),
      active_(std::move(active)),
      clock_(clock),
      keys_(store_,
            KeyRingSettings{settings_.alg, settings_.key_rotation_s,
                            settings_.access_ttl_s + settings_.leeway_s},
            clock),
      cache_(settings_.cache_entries) {
  load_revocations();
}

// ---- access tokens ----

Outcome TokenService::authenticate(std::string_view token) const {
  const std::int64_t now = clock_.now_s();
  IdentityPtr who = cache_.find(token, now);
  if (!who) {
    const auto& keys = keys_.keys();
    const jose::KeyLookup lookup = [&keys](std::string_view kid) -> const jose::Key* {
      const auto it = keys.verifiers.find(kid);
      return it == keys.verifiers.end() ? nullptr : &it->second;
    };
    jose::JwtPolicy policy;
    policy.issuer = settings_.issuer;
    policy.audience = settings_.audience;
    policy.typ = std::string(kAccessTyp);
    policy.leeway_s = settings_.leeway_s;
    auto verified = jose::verify_jwt(token, lookup, policy, now);
    if (const auto* error = std::get_if<jose::JwtError>(&verified)) {
      return denied(error->code, error->description);
    }
    const auto& jwt = std::get<jose::VerifiedJwt>(verified);
    bool ok = true;
    auto identity = std::make_shared<Identity>();
    identity->subject = string_claim(jwt.claims, "sub");
    identity->session_id = string_claim(jwt.claims, "sid");
    identity->token_id = string_claim(jwt.claims, "jti");
    identity->roles = string_list(jwt.claims.if_contains("roles"), &ok);
    identity->scheme = "bearer";
    identity->store = "token";
    identity->auth_time = number_claim(jwt.claims, "iat");
    identity->expires_at = jwt.exp;
    if (!ok || identity->subject.empty() || identity->session_id.empty()) {
      return denied("bad_claims", "the token lacks sub, sid or a valid roles list");
    }
    // Tokens are cached only for their remaining lifetime (leeway aside: after exp they are
    // verified again and refused or accepted by the leeway rule).
    cache_.insert(token, identity, jwt.exp, now);
    who = std::move(identity);
  }
  if (is_revoked(who->session_id)) return denied("revoked", "the session has been revoked");
  if (!active_(who->subject)) return denied("user_inactive", "the user is disabled or removed");
  return Outcome::granted(std::move(who), "bearer");
}

// ---- sessions and refresh ----

std::string TokenService::refresh_token_for(std::string_view session_id,
                                            std::int64_t generation) const {
  std::string body(session_id);
  body += '_';
  body += std::to_string(generation);
  const std::string mac = hmac(refresh_key_, body);
  return std::string(kRefreshPrefix) + body + "_" + jose::b64url_encode(mac);
}

std::optional<TokenService::ParsedRefresh> TokenService::parse_refresh(
    std::string_view token) const {
  if (token.size() > 128 || !token.starts_with(kRefreshPrefix)) return std::nullopt;
  std::string_view rest = token.substr(kRefreshPrefix.size());
  if (rest.size() < kSessionIdHex + 2 || rest[kSessionIdHex] != '_') return std::nullopt;
  const std::string_view sid = rest.substr(0, kSessionIdHex);
  if (!is_lower_hex(sid)) return std::nullopt;
  rest.remove_prefix(kSessionIdHex + 1);
  const auto sep = rest.find('_');
  if (sep == std::string_view::npos || sep == 0 || sep > 18) return std::nullopt;
  std::int64_t generation = 0;
  const auto digits = rest.substr(0, sep);
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), generation);
  if (ec != std::errc() || end != digits.data() + digits.size() || generation < 1 ||
      digits[0] == '0') {
    return std::nullopt;
  }
  // Compare the whole token against the one we would have made: constant time in the MAC.
  const std::string expected = refresh_token_for(sid, generation);
  if (!constant_time_equal(expected, token)) return std::nullopt;
  return ParsedRefresh{std::string(sid), generation};
}

TokenPair TokenService::issue(const state::SessionRow& session,
                              const std::vector<std::string>& roles) const {
  const auto& keys = keys_.keys();
  boost::json::object claims;
  claims["iss"] = settings_.issuer;
  claims["sub"] = session.username;
  claims["aud"] = settings_.audience;
  claims["exp"] = session.access_iat + settings_.access_ttl_s;
  claims["nbf"] = session.access_iat;
  claims["iat"] = session.access_iat;
  claims["jti"] = session.access_jti;
  claims["sid"] = session.id;
  claims["client_id"] = "gatehouse";
  claims["scope"] = "api";
  boost::json::array role_array;
  for (const auto& r : roles) role_array.emplace_back(r);
  claims["roles"] = std::move(role_array);

  TokenPair pair;
  pair.access_token = jose::sign_jwt(*keys.signer, kAccessTyp, claims);
  const std::int64_t now = clock_.now_s();
  pair.expires_in = std::max<std::int64_t>(0, session.access_iat + settings_.access_ttl_s - now);
  pair.refresh_token = refresh_token_for(session.id, session.generation);
  const std::int64_t refresh_end = std::min({session.rotated + settings_.refresh_ttl_s,
                                             session.created + settings_.session_max_age_s,
                                             session.last_used + settings_.session_idle_s});
  pair.refresh_expires_in = std::max<std::int64_t>(0, refresh_end - now);
  pair.session_id = session.id;
  return pair;
}

std::variant<TokenPair, TokenError> TokenService::login(std::string_view username,
                                                        std::string_view method) {
  const auto user = users_(username);
  if (!user || !user->active) return TokenError{"invalid_grant", "the user is disabled"};
  const std::int64_t now = clock_.now_s();
  state::SessionRow row;
  row.id = util::hex_encode(util::random_bytes(kSessionIdHex / 2));
  row.username = std::string(username);
  row.method = std::string(method);
  row.created = now;
  row.last_used = now;
  row.generation = 1;
  row.rotated = now;
  row.access_jti = util::hex_encode(util::random_bytes(16));
  row.access_iat = now;
  store_->add_session(row);
  util::diag().info("audit: login user={} session={} method={}", row.username, row.id, method);
  return issue(row, user->roles);
}

std::variant<TokenPair, TokenError> TokenService::refresh(std::string_view refresh_token) {
  const auto parsed = parse_refresh(refresh_token);
  if (!parsed) return TokenError{"invalid_grant", "the refresh token is not valid"};
  for (int attempt = 0; attempt < 2; ++attempt) {
    const std::int64_t now = clock_.now_s();
    auto row = store_->find_session(parsed->session_id);
    if (!row) return TokenError{"invalid_grant", "the session no longer exists"};
    if (row->revoked) return TokenError{"invalid_grant", "the session has been revoked"};
    if (now >= row->created + settings_.session_max_age_s) {
      return TokenError{"invalid_grant", "the session reached its maximum age: log in again"};
    }
    if (now >= row->last_used + settings_.session_idle_s) {
      return TokenError{"invalid_grant", "the session was idle too long: log in again"};
    }
    const auto user = users_(row->username);
    if (!user || !user->active) {
      return TokenError{"invalid_grant", "the user is disabled or removed"};
    }
    // Only the holder of the retired token can open the access token sealed for the replay.
    const std::string replay_key = hmac(refresh_key_, "replay " + std::string(refresh_token));
    if (parsed->generation == row->generation) {
      if (now >= row->rotated + settings_.refresh_ttl_s) {
        return TokenError{"invalid_grant", "the refresh token has expired"};
      }
      state::SessionRow next = *row;
      next.generation = row->generation + 1;
      next.rotated = now;
      next.last_used = now;
      next.access_jti = util::hex_encode(util::random_bytes(16));
      next.access_iat = now;
      TokenPair pair = issue(next, user->roles);
      next.access_sealed = seal(replay_key, pair.access_token);
      if (store_->rotate_session(next)) return pair;
      continue;  // another request rotated it first: look again
    }
    if (parsed->generation == row->generation - 1 && now - row->rotated < settings_.reuse_grace_s) {
      // A lost response or a second tab: the same pair again (the very access token issued, and
      // the same refresh token).
      TokenPair pair = issue(*row, user->roles);
      if (auto access = unseal(replay_key, row->access_sealed)) pair.access_token = *access;
      return pair;
    }
    if (parsed->generation < row->generation) {
      // A retired token outside the grace window: someone holds a copy. Revoke this family.
      if (store_->revoke_session(row->id, now, "reuse")) mark_revoked(row->id);
      util::diag().warn(
          "audit: refresh token reuse user={} session={} generation={} current={}: session revoked",
          row->username, row->id, parsed->generation, row->generation);
      return TokenError{"invalid_grant",
                        "the refresh token was already used; the session has been revoked"};
    }
    break;
  }
  return TokenError{"invalid_grant", "the refresh token is not valid"};
}

bool TokenService::revoke_session(std::string_view session_id, std::string_view reason) {
  if (!store_->revoke_session(session_id, clock_.now_s(), reason)) return false;
  mark_revoked(session_id);
  util::diag().info("audit: session {} revoked ({})", session_id, reason);
  return true;
}

std::size_t TokenService::revoke_user_sessions(std::string_view username, std::string_view reason) {
  const auto live = store_->list_sessions(username, false);
  const std::size_t n = store_->revoke_user_sessions(username, clock_.now_s(), reason);
  for (const auto& row : live) mark_revoked(row.id);
  util::diag().info("audit: {} sessions of {} revoked ({})", n, username, reason);
  return n;
}

bool TokenService::revoke_token(std::string_view token, std::string_view reason) {
  if (const auto parsed = parse_refresh(token)) return revoke_session(parsed->session_id, reason);
  const Outcome outcome = authenticate(token);
  if (outcome.kind == OutcomeKind::granted) {
    return revoke_session(outcome.identity->session_id, reason);
  }
  return false;
}

std::string TokenService::introspect(std::string_view token) const {
  boost::json::object o;
  const std::int64_t now = clock_.now_s();
  if (const auto parsed = parse_refresh(token)) {
    const auto row = store_->find_session(parsed->session_id);
    if (row && !row->revoked && row->generation == parsed->generation &&
        now < row->rotated + settings_.refresh_ttl_s &&
        now < row->created + settings_.session_max_age_s &&
        now < row->last_used + settings_.session_idle_s && active_(row->username)) {
      const SessionInfo session = info(*row);
      o["active"] = true;
      o["token_type"] = "refresh_token";
      o["sub"] = row->username;
      o["username"] = row->username;
      o["sid"] = row->id;
      o["iss"] = settings_.issuer;
      o["client_id"] = "gatehouse";
      o["iat"] = row->rotated;
      o["exp"] = std::min(session.expires, row->rotated + settings_.refresh_ttl_s);
      return boost::json::serialize(o);
    }
    o["active"] = false;
    return boost::json::serialize(o);
  }
  const Outcome outcome = authenticate(token);
  if (outcome.kind != OutcomeKind::granted) {
    o["active"] = false;
    return boost::json::serialize(o);
  }
  const Identity& who = *outcome.identity;
  o["active"] = true;
  o["token_type"] = "access_token";
  o["sub"] = who.subject;
  o["username"] = who.subject;
  o["sid"] = who.session_id;
  o["jti"] = who.token_id;
  o["iss"] = settings_.issuer;
  o["aud"] = settings_.audience;
  o["client_id"] = "gatehouse";
  o["scope"] = "api";
  o["iat"] = who.auth_time;
  o["nbf"] = who.auth_time;
  o["exp"] = who.expires_at.value_or(0);
  boost::json::array roles;
  for (const auto& r : who.roles) roles.emplace_back(r);
  o["roles"] = std::move(roles);
  return boost::json::serialize(o);
}

SessionInfo TokenService::info(state::SessionRow row) const {
  SessionInfo out;
  out.expires =
      std::min(row.created + settings_.session_max_age_s, row.last_used + settings_.session_idle_s);
  out.row = std::move(row);
  return out;
}

std::optional<SessionInfo> TokenService::session(std::string_view id) const {
  auto row = store_->find_session(id);
  if (!row) return std::nullopt;
  return info(std::move(*row));
}

std::vector<SessionInfo> TokenService::sessions(std::optional<std::string_view> username) const {
  std::vector<SessionInfo> out;
  const std::int64_t now = clock_.now_s();
  for (auto& row : store_->list_sessions(username, false)) {
    SessionInfo i = info(std::move(row));
    if (i.expires > now) out.push_back(std::move(i));
  }
  return out;
}

// ---- revocation set ----

void TokenService::load_revocations() {
  const std::uint64_t generation = store_->revocation_generation();
  const std::int64_t since = clock_.now_s() - settings_.access_ttl_s - settings_.leeway_s - 60;
  auto set = std::make_shared<util::StringMap<std::int64_t>>();
  for (auto& id : store_->revoked_sessions_since(since)) set->emplace(std::move(id), 0);
  std::lock_guard lock(revoked_mutex_);
  // Revocations this process made after the query above must not drop out of the set.
  for (const auto& [id, when] : *revoked_.get_shared()) {
    if (when >= since) set->emplace(id, when);
  }
  revocation_generation_ = generation;
  revoked_.publish(std::move(set));
}

void TokenService::mark_revoked(std::string_view session_id) {
  std::lock_guard lock(revoked_mutex_);
  auto set = std::make_shared<util::StringMap<std::int64_t>>(*revoked_.get_shared());
  set->insert_or_assign(std::string(session_id), clock_.now_s());
  revoked_.publish(std::move(set));
}

bool TokenService::is_revoked(std::string_view session_id) const {
  const auto& set = revoked_.get();
  return !set.empty() && set.find(session_id) != set.end();
}

void TokenService::maintain() noexcept {
  keys_.maintain();
  try {
    const std::int64_t now = clock_.now_s();
    bool reload = store_->revocation_generation() != revocation_generation_;
    if (now - last_prune_ >= 60) {
      reload = true;
      last_prune_ = now;
      store_->delete_sessions_before(now - settings_.session_max_age_s - 86400);
    }
    if (reload) load_revocations();
  } catch (const std::exception& e) {
    util::diag().error("sessions: {}", e.what());
  }
}

}  // namespace gatehouse::tokens
