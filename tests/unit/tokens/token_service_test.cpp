// The token lifecycle under a fake clock, on a real SQLite store in a temp dir (SPEC §6):
// login, expiry, refresh, grace-window replay, late reuse revoking one family only, maximum age,
// idle timeout, logout, revocation seen by another instance, key rotation.
#include "tokens/token_service.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <thread>

#include "../temp_dir.hpp"
#include "jose/base64url.hpp"
#include "state/state_store.hpp"
#include "util/clock.hpp"

namespace gatehouse::tokens {
namespace {

class TokenServiceTest : public ::testing::Test {
 protected:
  TokenServiceTest() {
    store_ = state::open_state_store("sqlite:" + dir_.file("gatehouse.db"));
    store_->add_user({"alice", "x", {"User"}, false, 0, 0});
    store_->add_user({"root", "x", {"Admin", "User"}, false, 0, 0});
    settings_.issuer = "http://issuer.test";
    settings_.audience = "gatehouse";
    settings_.access_ttl_s = 600;
    settings_.refresh_ttl_s = 14 * 86400;
    settings_.session_max_age_s = 30 * 86400;
    settings_.session_idle_s = 14 * 86400;
    settings_.reuse_grace_s = 10;
    settings_.key_rotation_s = 0;
    settings_.leeway_s = 30;
  }

  std::unique_ptr<TokenService> make(std::shared_ptr<state::StateStore> store = nullptr) {
    auto s = store ? store : store_;
    UserLookup users = [s](std::string_view name) -> std::optional<UserStatus> {
      const auto row = s->find_user(name);
      if (!row) return std::nullopt;
      return UserStatus{!row->disabled, row->roles};
    };
    UserActive active = [s](std::string_view name) {
      const auto row = s->find_user(name);
      return row && !row->disabled;
    };
    return std::make_unique<TokenService>(settings_, s, "0123456789abcdef0123456789abcdef", users,
                                          active, clock_);
  }

  // A service signing with `alg` on a new store in `dir` holding the user alice.
  std::unique_ptr<TokenService> make_on_fresh_store(jose::Alg alg, const testing::TempDir& dir) {
    store_ = state::open_state_store("sqlite:" + dir.file("gatehouse.db"));
    store_->add_user({"alice", "x", {"User"}, false, 0, 0});
    settings_.alg = alg;
    return make();
  }

  static TokenPair pair_of(std::variant<TokenPair, TokenError> v) {
    if (auto* e = std::get_if<TokenError>(&v)) {
      ADD_FAILURE() << "expected a token pair, got " << e->error << ": " << e->description;
      return {};
    }
    return std::get<TokenPair>(std::move(v));
  }
  static TokenError error_of(std::variant<TokenPair, TokenError> v) {
    if (std::get_if<TokenPair>(&v) != nullptr) {
      ADD_FAILURE() << "expected an error, got a token pair";
      return {};
    }
    return std::get<TokenError>(std::move(v));
  }
  static std::string kid_of(const std::string& jwt) {
    const auto header = jose::b64url_decode(jwt.substr(0, jwt.find('.')));
    return std::string(boost::json::parse(*header).as_object().at("kid").as_string());
  }

  testing::TempDir dir_;
  FakeClock clock_{1'800'000'000'000};
  std::shared_ptr<state::StateStore> store_;
  TokenSettings settings_;
};

TEST_F(TokenServiceTest, LoginGivesAnAccessTokenThatAuthenticates) {
  auto service = make();
  const TokenPair pair = pair_of(service->login("alice", "password"));
  EXPECT_EQ(pair.expires_in, 600);
  EXPECT_EQ(pair.refresh_expires_in, 14 * 86400);
  EXPECT_TRUE(pair.refresh_token.starts_with("ghr_"));
  const Outcome outcome = service->authenticate(pair.access_token);
  ASSERT_EQ(outcome.kind, OutcomeKind::granted) << outcome.description;
  EXPECT_EQ(outcome.identity->subject, "alice");
  EXPECT_EQ(outcome.identity->scheme, "bearer");
  EXPECT_EQ(outcome.identity->session_id, pair.session_id);
  EXPECT_EQ(outcome.identity->roles, std::vector<std::string>{"User"});
  EXPECT_EQ(outcome.identity->expires_at, clock_.now_s() + 600);
  // The cached path answers the same.
  EXPECT_EQ(service->authenticate(pair.access_token).identity->subject, "alice");
}

TEST_F(TokenServiceTest, PairJsonHasTheDocumentedShape) {
  auto service = make();
  const auto json = boost::json::parse(pair_of(service->login("alice", "password")).json());
  const auto& o = json.as_object();
  EXPECT_EQ(o.at("token_type").as_string(), "Bearer");
  EXPECT_EQ(o.at("expires_in").as_int64(), 600);
  EXPECT_TRUE(o.contains("access_token") && o.contains("refresh_token") &&
              o.contains("refresh_expires_in"));
}

TEST_F(TokenServiceTest, AccessTokenExpiresAfterItsLifetimePlusLeeway) {
  auto service = make();
  const TokenPair pair = pair_of(service->login("alice", "password"));
  clock_.advance(std::chrono::seconds(600 + 29));
  EXPECT_EQ(service->authenticate(pair.access_token).kind, OutcomeKind::granted);
  // A fresh instance has not cached it: the leeway rule alone decides.
  EXPECT_EQ(make()->authenticate(pair.access_token).kind, OutcomeKind::granted);
  clock_.advance(std::chrono::seconds(2));
  const Outcome expired = service->authenticate(pair.access_token);
  EXPECT_EQ(expired.kind, OutcomeKind::denied);
  EXPECT_EQ(expired.reason, "expired");
}

TEST_F(TokenServiceTest, RefreshRotatesAndTheNewPairWorks) {
  auto service = make();
  const TokenPair first = pair_of(service->login("alice", "password"));
  clock_.advance(std::chrono::seconds(300));
  const TokenPair second = pair_of(service->refresh(first.refresh_token));
  EXPECT_NE(second.refresh_token, first.refresh_token);
  EXPECT_NE(second.access_token, first.access_token);
  EXPECT_EQ(second.session_id, first.session_id);
  EXPECT_EQ(service->authenticate(second.access_token).kind, OutcomeKind::granted);
  const TokenPair third = pair_of(service->refresh(second.refresh_token));
  EXPECT_EQ(service->authenticate(third.access_token).kind, OutcomeKind::granted);
}

TEST_F(TokenServiceTest, RetiredTokenWithinGraceGetsTheSamePairAgain) {
  auto service = make();
  const TokenPair first = pair_of(service->login("alice", "password"));
  const TokenPair second = pair_of(service->refresh(first.refresh_token));
  clock_.advance(std::chrono::seconds(9));
  const TokenPair again = pair_of(service->refresh(first.refresh_token));
  EXPECT_EQ(again.refresh_token, second.refresh_token);
  EXPECT_EQ(again.access_token, second.access_token);  // EdDSA is deterministic: same claims
  // The session lives on.
  EXPECT_EQ(service->authenticate(second.access_token).kind, OutcomeKind::granted);
  pair_of(service->refresh(second.refresh_token));
}

// ECDSA signatures are randomized: the replay must return the token issued, not a re-signed one.
TEST_F(TokenServiceTest, GraceReplayIsIdenticalForEveryAlgorithm) {
  for (const auto alg : {jose::Alg::EdDSA, jose::Alg::ES256, jose::Alg::RS256, jose::Alg::HS256}) {
    testing::TempDir dir;
    auto service = make_on_fresh_store(alg, dir);
    const TokenPair first = pair_of(service->login("alice", "password"));
    const TokenPair second = pair_of(service->refresh(first.refresh_token));
    const TokenPair again = pair_of(service->refresh(first.refresh_token));
    EXPECT_EQ(again.access_token, second.access_token) << jose::to_string(alg);
    EXPECT_EQ(again.refresh_token, second.refresh_token) << jose::to_string(alg);
  }
}

TEST_F(TokenServiceTest, ZeroGraceMeansStrictSingleUse) {
  settings_.reuse_grace_s = 0;
  auto service = make();
  const TokenPair first = pair_of(service->login("alice", "password"));
  const TokenPair second = pair_of(service->refresh(first.refresh_token));
  EXPECT_EQ(error_of(service->refresh(first.refresh_token)).error, "invalid_grant");
  EXPECT_EQ(service->authenticate(second.access_token).kind, OutcomeKind::denied);
}

TEST_F(TokenServiceTest, GraceEndsAfterItsLength) {
  auto service = make();
  const TokenPair first = pair_of(service->login("alice", "password"));
  pair_of(service->refresh(first.refresh_token));
  clock_.advance(std::chrono::seconds(10));
  EXPECT_EQ(error_of(service->refresh(first.refresh_token)).error, "invalid_grant");
}

TEST_F(TokenServiceTest, LateReuseRevokesThatSessionOnly) {
  auto service = make();
  const TokenPair stolen = pair_of(service->login("alice", "password"));
  const TokenPair other = pair_of(service->login("alice", "password"));
  const TokenPair rotated = pair_of(service->refresh(stolen.refresh_token));
  clock_.advance(std::chrono::seconds(11));
  const TokenError reuse = error_of(service->refresh(stolen.refresh_token));
  EXPECT_EQ(reuse.error, "invalid_grant");
  EXPECT_NE(reuse.description.find("already used"), std::string::npos);
  // The whole family is dead: its newest refresh token and its access tokens.
  EXPECT_EQ(error_of(service->refresh(rotated.refresh_token)).error, "invalid_grant");
  const Outcome revoked = service->authenticate(rotated.access_token);
  EXPECT_EQ(revoked.kind, OutcomeKind::denied);
  EXPECT_EQ(revoked.reason, "revoked");
  // The user's other session is untouched.
  EXPECT_EQ(service->authenticate(other.access_token).kind, OutcomeKind::granted);
  pair_of(service->refresh(other.refresh_token));
  const auto row = store_->find_session(stolen.session_id);
  ASSERT_TRUE(row.has_value());
  EXPECT_EQ(row->revoked_reason, "reuse");
}

TEST_F(TokenServiceTest, TwoGenerationsBackIsReuseEvenWithinGrace) {
  auto service = make();
  const TokenPair g1 = pair_of(service->login("alice", "password"));
  const TokenPair g2 = pair_of(service->refresh(g1.refresh_token));
  pair_of(service->refresh(g2.refresh_token));
  EXPECT_EQ(error_of(service->refresh(g1.refresh_token)).error, "invalid_grant");
  EXPECT_EQ(service->authenticate(g2.access_token).kind, OutcomeKind::denied);
}

TEST_F(TokenServiceTest, ConcurrentRefreshOfOneTokenGivesBothTheSamePair) {
  auto service = make();
  const TokenPair first = pair_of(service->login("alice", "password"));
  std::variant<TokenPair, TokenError> a, b;
  std::thread ta([&] { a = service->refresh(first.refresh_token); });
  std::thread tb([&] { b = service->refresh(first.refresh_token); });
  ta.join();
  tb.join();
  const TokenPair pa = pair_of(std::move(a));
  const TokenPair pb = pair_of(std::move(b));
  EXPECT_EQ(pa.refresh_token, pb.refresh_token);
  EXPECT_EQ(pa.access_token, pb.access_token);
}

TEST_F(TokenServiceTest, SessionEndsAtItsMaximumAgeEvenWhenRefreshed) {
  settings_.session_max_age_s = 3600;
  auto service = make();
  TokenPair pair = pair_of(service->login("alice", "password"));
  for (int i = 0; i < 3; ++i) {
    clock_.advance(std::chrono::seconds(1000));
    pair = pair_of(service->refresh(pair.refresh_token));
  }
  EXPECT_EQ(pair.refresh_expires_in, 600);  // bounded by the maximum age
  clock_.advance(std::chrono::seconds(600));
  const TokenError error = error_of(service->refresh(pair.refresh_token));
  EXPECT_NE(error.description.find("maximum age"), std::string::npos);
}

TEST_F(TokenServiceTest, SessionEndsWhenIdle) {
  settings_.session_idle_s = 100;
  auto service = make();
  const TokenPair pair = pair_of(service->login("alice", "password"));
  clock_.advance(std::chrono::seconds(99));
  const TokenPair next = pair_of(service->refresh(pair.refresh_token));
  clock_.advance(std::chrono::seconds(100));
  const TokenError error = error_of(service->refresh(next.refresh_token));
  EXPECT_NE(error.description.find("idle"), std::string::npos);
}

TEST_F(TokenServiceTest, RefreshTokenExpiresAfterItsLifetime) {
  settings_.refresh_ttl_s = 500;
  auto service = make();
  const TokenPair pair = pair_of(service->login("alice", "password"));
  clock_.advance(std::chrono::seconds(500));
  EXPECT_NE(error_of(service->refresh(pair.refresh_token)).description.find("expired"),
            std::string::npos);
}

TEST_F(TokenServiceTest, LogoutStopsAccessAndRefreshAtOnce) {
  auto service = make();
  const TokenPair pair = pair_of(service->login("alice", "password"));
  ASSERT_EQ(service->authenticate(pair.access_token).kind, OutcomeKind::granted);  // cached
  EXPECT_TRUE(service->revoke_session(pair.session_id, "logout"));
  EXPECT_EQ(service->authenticate(pair.access_token).kind, OutcomeKind::denied);
  EXPECT_EQ(error_of(service->refresh(pair.refresh_token)).error, "invalid_grant");
  EXPECT_FALSE(service->revoke_session(pair.session_id, "logout"));
}

TEST_F(TokenServiceTest, AnotherInstanceSeesTheRevocationAfterMaintain) {
  auto a = make();
  std::shared_ptr<state::StateStore> other_store =
      state::open_state_store("sqlite:" + dir_.file("gatehouse.db"));
  auto b = make(other_store);
  const TokenPair pair = pair_of(a->login("alice", "password"));
  ASSERT_EQ(b->authenticate(pair.access_token).kind, OutcomeKind::granted);
  EXPECT_TRUE(a->revoke_session(pair.session_id, "logout"));
  b->maintain();
  EXPECT_EQ(b->authenticate(pair.access_token).kind, OutcomeKind::denied);
}

TEST_F(TokenServiceTest, DisabledUserLosesAccessAndRefresh) {
  auto service = make();
  const TokenPair pair = pair_of(service->login("alice", "password"));
  store_->set_disabled("alice", true, 0);
  EXPECT_EQ(service->authenticate(pair.access_token).reason, "user_inactive");
  EXPECT_EQ(error_of(service->refresh(pair.refresh_token)).error, "invalid_grant");
  EXPECT_EQ(error_of(service->login("alice", "password")).error, "invalid_grant");
}

TEST_F(TokenServiceTest, RefreshPicksUpRoleChanges) {
  auto service = make();
  const TokenPair pair = pair_of(service->login("alice", "password"));
  store_->set_roles("alice", {"User", "Editor"}, 0);
  const TokenPair next = pair_of(service->refresh(pair.refresh_token));
  EXPECT_EQ(service->authenticate(next.access_token).identity->roles,
            (std::vector<std::string>{"User", "Editor"}));
}

TEST_F(TokenServiceTest, ForgedAndCrossedTokensAreRefused) {
  auto service = make();
  const TokenPair pair = pair_of(service->login("alice", "password"));
  std::string tampered = pair.refresh_token;
  tampered.back() = tampered.back() == 'A' ? 'B' : 'A';
  EXPECT_EQ(error_of(service->refresh(tampered)).error, "invalid_grant");
  // The next generation's number with the old MAC.
  std::string bumped = pair.refresh_token;
  bumped.replace(4 + 33, 1, "2");
  EXPECT_EQ(error_of(service->refresh(bumped)).error, "invalid_grant");
  // Another server secret: not ours.
  EXPECT_EQ(error_of(service->refresh("ghr_" + std::string(32, 'a') + "_1_AAAA")).error,
            "invalid_grant");
  // A refresh token is not an access token, and the reverse.
  EXPECT_EQ(service->authenticate(pair.refresh_token).kind, OutcomeKind::denied);
  EXPECT_EQ(error_of(service->refresh(pair.access_token)).error, "invalid_grant");
  EXPECT_EQ(error_of(service->refresh("")).error, "invalid_grant");
}

TEST_F(TokenServiceTest, RotationKeepsOldTokensValidUntilTheyExpire) {
  auto service = make();
  const TokenPair before = pair_of(service->login("alice", "password"));
  const std::string old_kid = kid_of(before.access_token);
  KeyRing::rotate(*store_, jose::Alg::EdDSA, clock_);
  service->maintain();
  const TokenPair after = pair_of(service->login("alice", "password"));
  EXPECT_NE(kid_of(after.access_token), old_kid);
  // Never verified before the rotation, so not cached: verified by the retired key.
  EXPECT_EQ(service->authenticate(before.access_token).kind, OutcomeKind::granted);
  EXPECT_NE(service->jwks().find(old_kid), std::string::npos);
  clock_.advance(std::chrono::seconds(600 + 30 + 2));
  service->maintain();
  EXPECT_EQ(service->jwks().find(old_kid), std::string::npos);
  EXPECT_NE(service->jwks().find(kid_of(after.access_token)), std::string::npos);
}

TEST_F(TokenServiceTest, KeysRotateOnSchedule) {
  settings_.key_rotation_s = 3600;
  auto service = make();
  const std::string first = kid_of(pair_of(service->login("alice", "password")).access_token);
  clock_.advance(std::chrono::seconds(3599));
  service->maintain();
  EXPECT_EQ(kid_of(pair_of(service->login("alice", "password")).access_token), first);
  clock_.advance(std::chrono::seconds(1));
  service->maintain();
  EXPECT_NE(kid_of(pair_of(service->login("alice", "password")).access_token), first);
  EXPECT_EQ(store_->list_signing_keys().size(), 2u);
}

TEST_F(TokenServiceTest, EveryAlgorithmSignsAndVerifies) {
  for (const auto alg : {jose::Alg::EdDSA, jose::Alg::ES256, jose::Alg::RS256, jose::Alg::HS256}) {
    testing::TempDir dir;
    auto service = make_on_fresh_store(alg, dir);
    const TokenPair pair = pair_of(service->login("alice", "password"));
    EXPECT_EQ(service->authenticate(pair.access_token).kind, OutcomeKind::granted)
        << jose::to_string(alg);
    // A symmetric key is never published.
    EXPECT_EQ(service->jwks() == "{\"keys\":[]}", alg == jose::Alg::HS256) << service->jwks();
  }
}

TEST_F(TokenServiceTest, IntrospectionReportsActiveAndInactiveTokens) {
  auto service = make();
  const TokenPair pair = pair_of(service->login("alice", "password"));
  auto access = boost::json::parse(service->introspect(pair.access_token)).as_object();
  EXPECT_TRUE(access.at("active").as_bool());
  EXPECT_EQ(access.at("sub").as_string(), "alice");
  EXPECT_EQ(access.at("token_type").as_string(), "access_token");
  auto refresh = boost::json::parse(service->introspect(pair.refresh_token)).as_object();
  EXPECT_TRUE(refresh.at("active").as_bool());
  EXPECT_EQ(refresh.at("token_type").as_string(), "refresh_token");
  const TokenPair next = pair_of(service->refresh(pair.refresh_token));
  EXPECT_FALSE(boost::json::parse(service->introspect(pair.refresh_token)).at("active").as_bool());
  service->revoke_session(next.session_id, "logout");
  EXPECT_FALSE(boost::json::parse(service->introspect(next.access_token)).at("active").as_bool());
  EXPECT_FALSE(boost::json::parse(service->introspect("garbage")).at("active").as_bool());
}

TEST_F(TokenServiceTest, RevokeTokenAcceptsRefreshAndAccessTokens) {
  auto service = make();
  const TokenPair a = pair_of(service->login("alice", "password"));
  const TokenPair b = pair_of(service->login("alice", "password"));
  EXPECT_TRUE(service->revoke_token(a.refresh_token, "revoke"));
  EXPECT_TRUE(service->revoke_token(b.access_token, "revoke"));
  EXPECT_FALSE(service->revoke_token("nonsense", "revoke"));
  EXPECT_EQ(service->authenticate(a.access_token).kind, OutcomeKind::denied);
  EXPECT_EQ(service->authenticate(b.access_token).kind, OutcomeKind::denied);
}

TEST_F(TokenServiceTest, SessionsListsLiveSessionsWithTheirEnd) {
  auto service = make();
  pair_of(service->login("alice", "password"));
  const TokenPair gone = pair_of(service->login("alice", "password"));
  pair_of(service->login("root", "password"));
  service->revoke_session(gone.session_id, "logout");
  EXPECT_EQ(service->sessions("alice").size(), 1u);
  EXPECT_EQ(service->sessions(std::nullopt).size(), 2u);
  EXPECT_EQ(service->sessions("alice")[0].expires, clock_.now_s() + 14 * 86400);
}

}  // namespace
}  // namespace gatehouse::tokens
