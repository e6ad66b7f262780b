// Bearer with refresh: the header, one renewal per exchange, and the single-flight refresh
// driven through BearerAuthImpl::renew with a fake sender.
#include "client/auth_bearer.hpp"

#include <gtest/gtest.h>

#include <chrono>

#include <atomic>
#include <memory>
#include <thread>
#include <utility>

namespace gatehouse::client {
namespace {

Request req(std::string url, std::string method = "GET", std::string body = {}) {
  Request r;
  r.method = std::move(method);
  r.url = std::move(url);
  r.body = std::move(body);
  return r;
}

using detail::BearerAuthImpl;

TokenSet tokens(std::string access = "A1", std::string refresh = "R1") {
  TokenSet t;
  t.access_token = Secret(access);
  t.refresh_token = Secret(refresh);
  t.refresh_url = "http://h/auth/refresh";
  return t;
}

Request sent_with(std::string_view access) {
  Request r = req("http://h/x");
  r.set_header("Authorization", "Bearer " + std::string(access));
  return r;
}

Response json(unsigned code, std::string body) {
  Response r;
  r.status = code;
  r.body = std::move(body);
  return r;
}

TEST(ClientBearer, HeaderAndOneRenewalPerExchange) {
  auto auth = bearer_auth(tokens());
  Request request = req("http://h/x");
  auto flow = auth->start(request);
  flow->prepare(request);
  EXPECT_EQ(*request.header("Authorization"), "Bearer A1");
  auto unauthorized = json(401, "");
  EXPECT_EQ(flow->on_response(request, unauthorized), Next::renew);
  EXPECT_EQ(flow->on_response(request, unauthorized), Next::done);
}

TEST(ClientBearer, AKnownExpiryRenewsBeforeTheFirstSendOnce) {
  const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  const auto renews_first = [](TokenSet t) {
    auto auth = bearer_auth(std::move(t));
    Request request = req("http://h/x");
    return auth->start(request)->renew_before_send();
  };
  TokenSet expired = tokens();
  expired.expires_at = now - 1;
  EXPECT_TRUE(renews_first(expired));
  TokenSet soon = tokens();
  soon.expires_at = now + 10;  // within detail::kRefreshAhead
  EXPECT_TRUE(renews_first(soon));
  TokenSet fresh = tokens();
  fresh.expires_at = now + 600;
  EXPECT_FALSE(renews_first(fresh));
  EXPECT_FALSE(renews_first(tokens()));  // expires_at unknown: wait for the 401
  TokenSet no_refresh = tokens("A1", "");
  no_refresh.expires_at = now - 1;
  EXPECT_FALSE(renews_first(no_refresh));  // nothing to refresh with: try the token as it is

  // The renewal before the send is the exchange's one renewal: a 401 after it is final.
  auto auth = bearer_auth(expired);
  Request request = req("http://h/x");
  auto flow = auth->start(request);
  ASSERT_TRUE(flow->renew_before_send());
  auto unauthorized = json(401, "");
  EXPECT_EQ(flow->on_response(request, unauthorized), Next::done);
}

TEST(ClientBearer, RefreshRequests) {
  auto t = tokens("A", "R+/=");
  auto json_request = BearerAuthImpl::refresh_request(t);
  EXPECT_EQ(json_request.method, "POST");
  EXPECT_EQ(json_request.url, "http://h/auth/refresh");
  EXPECT_EQ(json_request.body, R"({"refresh_token":"R+/="})");
  EXPECT_EQ(*json_request.header("Content-Type"), "application/json");
  EXPECT_EQ(json_request.auth, no_auth());
  t.refresh_style = TokenSet::RefreshStyle::oauth_form;
  t.client_id = "cli ent";
  auto form = BearerAuthImpl::refresh_request(t);
  EXPECT_EQ(form.body, "grant_type=refresh_token&refresh_token=R%2B%2F%3D&client_id=cli%20ent");
  EXPECT_EQ(*form.header("Content-Type"), "application/x-www-form-urlencoded");
}

TEST(ClientBearer, RefreshResponses) {
  const auto old = tokens();
  auto fresh = BearerAuthImpl::parse_refresh_response(
      old, json(200, R"({"access_token":"A2","refresh_token":"R2","expires_in":600})"), 1000);
  EXPECT_TRUE(fresh.access_token.equals("A2"));
  EXPECT_TRUE(fresh.refresh_token.equals("R2"));
  EXPECT_EQ(fresh.expires_at, 1600);
  EXPECT_EQ(fresh.refresh_url, old.refresh_url);
  auto keep = BearerAuthImpl::parse_refresh_response(old, json(200, R"({"access_token":"A3"})"), 0);
  EXPECT_TRUE(keep.refresh_token.equals("R1"));
  EXPECT_THROW(BearerAuthImpl::parse_refresh_response(old, json(401, "{}"), 0),
               SessionExpiredError);
  EXPECT_THROW(BearerAuthImpl::parse_refresh_response(old, json(400, "{}"), 0),
               SessionExpiredError);
  EXPECT_THROW(BearerAuthImpl::parse_refresh_response(old, json(200, "not json"), 0),
               TransportError);
  EXPECT_THROW(BearerAuthImpl::parse_refresh_response(old, json(503, ""), 0), TransportError);
}

// The fake sender keeps the handler; the test completes it later, as the I/O thread would.
struct PendingSend {
  std::vector<Request> sent;
  std::vector<Client::Handler> handlers;
  detail::RefreshSender sender() {
    return [this](Request r, Client::Handler h) {
      sent.push_back(std::move(r));
      handlers.push_back(std::move(h));
    };
  }
};

TEST(ClientBearer, SingleFlight) {
  std::vector<std::string> announced;
  auto auth = std::make_shared<BearerAuthImpl>(
      tokens(), [&](const TokenSet& t) { announced.emplace_back(t.access_token.reveal()); });
  PendingSend pending;
  int succeeded = 0;
  for (int i = 0; i < 20; ++i) {
    auth->renew(sent_with("A1"), pending.sender(), [&](std::exception_ptr e) {
      EXPECT_FALSE(e);
      ++succeeded;
    });
  }
  ASSERT_EQ(pending.sent.size(), 1u);
  EXPECT_EQ(auth->refresh_count(), 1u);
  EXPECT_EQ(succeeded, 0);
  pending.handlers[0](nullptr, json(200, R"({"access_token":"A2","refresh_token":"R2"})"));
  EXPECT_EQ(succeeded, 20);
  EXPECT_EQ(announced, std::vector<std::string>{"A2"});
  EXPECT_TRUE(auth->tokens().access_token.equals("A2"));
  // A request that failed with the old token after the refresh: retried at once.
  auth->renew(sent_with("A1"), pending.sender(), [&](std::exception_ptr e) {
    EXPECT_FALSE(e);
    ++succeeded;
  });
  EXPECT_EQ(succeeded, 21);
  EXPECT_EQ(pending.sent.size(), 1u);
  // The new token refused too: a second refresh, with the new refresh token.
  auth->renew(sent_with("A2"), pending.sender(), [](std::exception_ptr) {});
  ASSERT_EQ(pending.sent.size(), 2u);
  EXPECT_EQ(pending.sent[1].body, R"({"refresh_token":"R2"})");
  EXPECT_EQ(auth->refresh_count(), 2u);
}

TEST(ClientBearer, RefusedRefreshExpiresTheSessionForEveryWaiter) {
  auto auth = std::make_shared<BearerAuthImpl>(tokens(), nullptr);
  PendingSend pending;
  int expired = 0;
  auto expect_expired = [&](std::exception_ptr e) {
    ASSERT_TRUE(e);
    try {
      std::rethrow_exception(e);
    } catch (const SessionExpiredError& error) {
      EXPECT_STREQ(error.what(), "session expired: log in again");
      ++expired;
    }
  };
  for (int i = 0; i < 5; ++i) auth->renew(sent_with("A1"), pending.sender(), expect_expired);
  pending.handlers[0](nullptr, json(401, R"({"error":"invalid_grant"})"));
  EXPECT_EQ(expired, 5);
  // The refused refresh token is not sent again.
  auth->renew(sent_with("A1"), pending.sender(), expect_expired);
  EXPECT_EQ(expired, 6);
  EXPECT_EQ(pending.sent.size(), 1u);
}

TEST(ClientBearer, NoRefreshTokenExpiresAtOnce) {
  TokenSet t;
  t.access_token = Secret("A");
  auto auth = std::make_shared<BearerAuthImpl>(t, nullptr);
  PendingSend pending;
  bool failed = false;
  auth->renew(sent_with("A"), pending.sender(), [&](std::exception_ptr e) {
    EXPECT_THROW(std::rethrow_exception(e), SessionExpiredError);
    failed = true;
  });
  EXPECT_TRUE(failed);
  EXPECT_TRUE(pending.sent.empty());
}

TEST(ClientBearer, TransportErrorsReachTheWaitersAndAllowALaterRefresh) {
  auto auth = std::make_shared<BearerAuthImpl>(tokens(), nullptr);
  PendingSend pending;
  int transport = 0;
  auth->renew(sent_with("A1"), pending.sender(), [&](std::exception_ptr e) {
    EXPECT_THROW(std::rethrow_exception(e), TransportError);
    ++transport;
  });
  pending.handlers[0](std::make_exception_ptr(TransportError("connect refused")), Response{});
  EXPECT_EQ(transport, 1);
  auth->renew(sent_with("A1"), pending.sender(), [](std::exception_ptr) {});
  EXPECT_EQ(pending.sent.size(), 2u);
}

TEST(ClientBearer, ConcurrentRenewalsFromThreadsSendOneRefresh) {
  auto auth = std::make_shared<BearerAuthImpl>(tokens(), nullptr);
  std::atomic<int> sends{0}, done{0};
  std::mutex mutex;
  Client::Handler handler;
  detail::RefreshSender sender = [&](Request, Client::Handler h) {
    ++sends;
    const std::lock_guard lock(mutex);
    handler = std::move(h);
  };
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&] {
      auth->renew(sent_with("A1"), sender, [&](std::exception_ptr e) {
        EXPECT_FALSE(e);
        ++done;
      });
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(sends.load(), 1);
  handler(nullptr, json(200, R"({"access_token":"A2"})"));
  EXPECT_EQ(done.load(), 8);
}

// The BeforeRefresh hook (the CLI's token-cache lock): fresher tokens are adopted without a
// refresh and not announced; otherwise the refresh goes out, and the hold lives until the new
// tokens were announced.
TEST(ClientBearer, BeforeRefreshMayAdoptFresherTokensInsteadOfRefreshing) {
  std::vector<std::string> announced;
  int asked = 0;
  auto auth = std::make_shared<BearerAuthImpl>(
      tokens(), [&](const TokenSet& t) { announced.emplace_back(t.access_token.reveal()); },
      [&](const TokenSet& current) {
        ++asked;
        EXPECT_TRUE(current.refresh_token.equals("R1"));
        return detail::RefreshGate{tokens("A9", "R9"), nullptr};
      });
  PendingSend pending;
  int succeeded = 0;
  auth->renew(sent_with("A1"), pending.sender(), [&](std::exception_ptr e) {
    EXPECT_FALSE(e);
    ++succeeded;
  });
  EXPECT_EQ(asked, 1);
  EXPECT_EQ(succeeded, 1);
  EXPECT_TRUE(pending.sent.empty());
  EXPECT_EQ(auth->refresh_count(), 0u);
  EXPECT_TRUE(auth->tokens().access_token.equals("A9"));
  EXPECT_TRUE(auth->tokens().refresh_token.equals("R9"));
  EXPECT_TRUE(announced.empty());
}

TEST(ClientBearer, BeforeRefreshHoldLastsUntilTheNewTokensWereAnnounced) {
  auto held = std::make_shared<int>(0);
  std::weak_ptr<int> watch = held;
  bool held_while_announcing = false;
  auto auth = std::make_shared<BearerAuthImpl>(
      tokens(), [&](const TokenSet&) { held_while_announcing = !watch.expired(); },
      [&](const TokenSet&) {
        detail::RefreshGate gate;
        gate.hold = std::exchange(held, nullptr);
        return gate;
      });
  PendingSend pending;
  auth->renew(sent_with("A1"), pending.sender(), [](std::exception_ptr e) { EXPECT_FALSE(e); });
  ASSERT_EQ(pending.sent.size(), 1u);
  EXPECT_EQ(pending.sent[0].body, R"({"refresh_token":"R1"})");
  EXPECT_FALSE(watch.expired());
  const Client::Handler copy = pending.handlers[0];  // a copy of the handler must not keep it
  pending.handlers[0](nullptr, json(200, R"({"access_token":"A2","refresh_token":"R2"})"));
  EXPECT_TRUE(held_while_announcing);
  EXPECT_TRUE(watch.expired());
  EXPECT_TRUE(auth->tokens().access_token.equals("A2"));
}

TEST(ClientBearer, BeforeRefreshFailureFailsTheWaitersAndReleasesTheHold) {
  auto auth = std::make_shared<BearerAuthImpl>(tokens(), nullptr, [](const TokenSet&) {
    throw TransportError("no lock");
    return detail::RefreshGate{};
  });
  PendingSend pending;
  bool failed = false;
  auth->renew(sent_with("A1"), pending.sender(), [&](std::exception_ptr e) {
    EXPECT_THROW(std::rethrow_exception(e), TransportError);
    failed = true;
  });
  EXPECT_TRUE(failed);
  EXPECT_TRUE(pending.sent.empty());
  // A refused refresh releases the hold as well.
  auto held = std::make_shared<int>(0);
  std::weak_ptr<int> watch = held;
  auto refused = std::make_shared<BearerAuthImpl>(tokens(), nullptr, [&](const TokenSet&) {
    return detail::RefreshGate{std::nullopt, std::exchange(held, nullptr)};
  });
  refused->renew(sent_with("A1"), pending.sender(), [](std::exception_ptr) {});
  ASSERT_EQ(pending.sent.size(), 1u);
  pending.handlers[0](nullptr, json(401, "{}"));
  EXPECT_TRUE(watch.expired());
}

}  // namespace
}  // namespace gatehouse::client
