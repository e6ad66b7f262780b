// Bearer tokens (RFC 6750 §2.1) with transparent refresh (RFC 6749 §6, or gatehouse's
// /auth/refresh). A 401 makes the flow answer Next::renew once; the client then calls
// async_renew, which is single-flight: any number of concurrent 401s send one refresh request,
// and each request is retried once with the new access token. A refused refresh fails every
// waiter with SessionExpiredError("session expired: log in again").
#include "client/auth_bearer.hpp"

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <algorithm>
#include <chrono>
#include <utility>

#include "client/login.hpp"
#include "gatehouse/http.hpp"
#include "jose/json_strict.hpp"

namespace gatehouse::client::detail {
namespace {

constexpr std::string_view kSessionExpired = "session expired: log in again";

std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The token after "Bearer " in the request's Authorization header; empty when there is none.
std::string_view sent_access_token(const Request& request) {
  const std::string* value = request.header("Authorization");
  if (value == nullptr) return {};
  std::string_view v = *value;
  if (v.size() < 7 || !iequals(v.substr(0, 7), "Bearer ")) return {};
  return v.substr(7);
}

class BearerFlow final : public AuthFlow {
 public:
  explicit BearerFlow(std::shared_ptr<BearerAuthImpl> auth) : auth_(std::move(auth)) {}

  void prepare(Request& request) override {
    const Secret access = auth_->access_token();
    if (access.empty()) return;
    request.set_header("Authorization", "Bearer " + std::string(access.reveal()));
  }

  // An access token whose expires_at has passed (or passes within kRefreshAhead) is refreshed
  // before the request instead of after its 401, when there is a refresh token to do it with.
  bool renew_before_send() override {
    if (auth_->expires_soon(unix_now())) {
      renewed_ = true;
      return true;
    }
    return false;
  }

  // RFC 6750 §3.1: a 401 means the token is invalid or expired. One renewal per exchange; a 401
  // after it goes to the caller.
  Next on_response(Request&, Response& response) override {
    if (response.status != 401 || renewed_) return Next::done;
    renewed_ = true;
    return Next::renew;
  }

 private:
  std::shared_ptr<BearerAuthImpl> auth_;
  bool renewed_ = false;
};

}  // namespace

BearerAuthImpl::BearerAuthImpl(TokenSet tokens, std::function<void(const TokenSet&)> on_refreshed,
                               BeforeRefresh before_refresh)
    : tokens_(std::move(tokens)),
      on_refreshed_(std::move(on_refreshed)),
      before_refresh_(std::move(before_refresh)) {}

std::unique_ptr<AuthFlow> BearerAuthImpl::start(const Request&) {
  return std::make_unique<BearerFlow>(shared_from_this());
}

bool BearerAuthImpl::expires_soon(std::int64_t now) const {
  const std::lock_guard lock(mutex_);
  return tokens_.expires_at != 0 && now + kRefreshAhead >= tokens_.expires_at &&
         !tokens_.refresh_token.empty() && !tokens_.refresh_url.empty() &&
         !tokens_.refresh_token.equals(refused_refresh_token_.reveal());
}

TokenSet BearerAuthImpl::tokens() const {
  const std::lock_guard lock(mutex_);
  return tokens_;
}

Secret BearerAuthImpl::access_token() const {
  const std::lock_guard lock(mutex_);
  return tokens_.access_token;
}

void BearerAuthImpl::async_renew(Client& client, const Request& failed,
                                 std::function<void(std::exception_ptr)> done) {
  renew(
      failed,
      [&client](Request request, Client::Handler handler) {
        client.async_send(std::move(request), std::move(handler));
      },
      std::move(done));
}

void BearerAuthImpl::renew(const Request& failed, const RefreshSender& send,
                           std::function<void(std::exception_ptr)> done) {
  TokenSet current;
  {
    std::unique_lock lock(mutex_);
    const std::string_view used = sent_access_token(failed);
    if (!used.empty() && !tokens_.access_token.equals(used)) {
      lock.unlock();
      done(nullptr);  // refreshed since that request was sent: retry with the new token
      return;
    }
    if (refreshing_) {
      waiters_.push_back(std::move(done));
      return;
    }
    if (tokens_.refresh_token.empty() || tokens_.refresh_url.empty() ||
        tokens_.refresh_token.equals(refused_refresh_token_.reveal())) {
      lock.unlock();
      done(std::make_exception_ptr(SessionExpiredError(std::string(kSessionExpired))));
      return;
    }
    refreshing_ = true;
    waiters_.push_back(std::move(done));
    current = tokens_;
  }
  // Released (reset) once the refresh has ended, whichever copy of the handler runs it.
  auto hold = std::make_shared<std::shared_ptr<void>>();
  if (before_refresh_) {
    try {
      RefreshGate gate = before_refresh_(current);
      *hold = std::move(gate.hold);
      if (gate.fresher) {
        hold->reset();
        finish(nullptr, std::move(gate.fresher), /*announce=*/false);
        return;
      }
    } catch (...) {
      hold->reset();
      finish(std::current_exception(), std::nullopt);
      return;
    }
  }
  ++refresh_count_;
  Request refresh = refresh_request(current);
  auto self = shared_from_this();
  try {
    send(std::move(refresh),
         [self, old = current, hold](std::exception_ptr error, Response response) {
           if (error) {
             self->finish(error, std::nullopt);
           } else {
             try {
               self->finish(nullptr, parse_refresh_response(old, response, unix_now()));
             } catch (...) {
               self->finish(std::current_exception(), std::nullopt);
             }
           }
           hold->reset();
         });
  } catch (...) {
    finish(std::current_exception(), std::nullopt);
    hold->reset();
  }
}

void BearerAuthImpl::finish(std::exception_ptr error, std::optional<TokenSet> fresh,
                            bool announce_fresh) {
  std::vector<std::function<void(std::exception_ptr)>> waiters;
  std::optional<TokenSet> announce;
  {
    const std::lock_guard lock(mutex_);
    if (fresh) {
      tokens_ = std::move(*fresh);
      if (announce_fresh) announce = tokens_;
    } else if (error) {
      try {
        std::rethrow_exception(error);
      } catch (const SessionExpiredError&) {
        refused_refresh_token_ = tokens_.refresh_token;
      } catch (...) {
      }
    }
    refreshing_ = false;
    waiters.swap(waiters_);
  }
  if (announce && on_refreshed_) {
    try {
      on_refreshed_(*announce);
    } catch (...) {  // a failing cache write must not fail the requests
    }
  }
  for (auto& waiter : waiters) waiter(error);
}

Request BearerAuthImpl::refresh_request(const TokenSet& tokens) {
  Request request;
  request.method = "POST";
  request.url = tokens.refresh_url;
  request.auth = no_auth();
  request.set_header("Accept", "application/json");
  switch (tokens.refresh_style) {
    case TokenSet::RefreshStyle::gatehouse_json: {
      boost::json::object body;
      body["refresh_token"] = tokens.refresh_token.reveal();
      request.body = boost::json::serialize(body);
      request.set_header("Content-Type", "application/json");
      break;
    }
    case TokenSet::RefreshStyle::oauth_form:
      std::vector<std::pair<std::string, std::string_view>> fields{
          {"grant_type", "refresh_token"}, {"refresh_token", tokens.refresh_token.reveal()}};
      if (!tokens.client_id.empty()) fields.emplace_back("client_id", tokens.client_id);
      request.body = form_encode(fields);
      request.set_header("Content-Type", "application/x-www-form-urlencoded");
      break;
  }
  return request;
}

TokenSet BearerAuthImpl::parse_refresh_response(const TokenSet& old, const Response& response,
                                                std::int64_t now) {
  // RFC 6749 §5.2: a refused grant is 400 (or 401 with client authentication); gatehouse's
  // /auth/refresh answers 401. Those end the session; anything else (404, 408, 429, 5xx) says
  // nothing about the refresh token, which may be tried again later.
  if (response.status == 400 || response.status == 401) {
    throw SessionExpiredError(std::string(kSessionExpired));
  }
  if (response.status < 200 || response.status >= 300) {
    throw TransportError("token refresh failed: HTTP " + std::to_string(response.status));
  }
  std::string error;
  const auto object = jose::parse_object_strict(response.body, &error);
  const boost::json::value* access = object ? object->if_contains("access_token") : nullptr;
  if (access == nullptr || !access->is_string() || access->get_string().empty()) {
    throw TransportError("token refresh: the response has no access_token");
  }
  TokenSet fresh = old;
  fresh.access_token = Secret(std::string_view(access->get_string()));
  if (const auto* refresh = object->if_contains("refresh_token");
      refresh != nullptr && refresh->is_string() && !refresh->get_string().empty()) {
    fresh.refresh_token = Secret(std::string_view(refresh->get_string()));
  }
  fresh.expires_at = 0;
  if (const auto* expires_in = object->if_contains("expires_in"); expires_in != nullptr) {
    if (expires_in->is_int64() && expires_in->get_int64() > 0) {
      fresh.expires_at = now + std::min(expires_in->get_int64(), kMaxExpiresIn);
    } else if (expires_in->is_uint64()) {
      fresh.expires_at = now + kMaxExpiresIn;
    }
  }
  return fresh;
}

}  // namespace gatehouse::client::detail

namespace gatehouse::client {

TokenSet TokenSet::gatehouse(std::string_view base_url, Secret access_token, Secret refresh_token) {
  TokenSet tokens;
  tokens.access_token = std::move(access_token);
  tokens.refresh_token = std::move(refresh_token);
  std::string base(base_url);
  while (!base.empty() && base.back() == '/') base.pop_back();
  tokens.refresh_url = base + "/auth/refresh";
  return tokens;
}

std::shared_ptr<BearerAuth> bearer_auth(TokenSet tokens,
                                        std::function<void(const TokenSet&)> on_refreshed) {
  return std::make_shared<detail::BearerAuthImpl>(std::move(tokens), std::move(on_refreshed));
}

std::shared_ptr<BearerAuth> detail::bearer_auth_with_gate(
    TokenSet tokens, std::function<void(const TokenSet&)> on_refreshed,
    BeforeRefresh before_refresh) {
  return std::make_shared<detail::BearerAuthImpl>(std::move(tokens), std::move(on_refreshed),
                                                  std::move(before_refresh));
}

}  // namespace gatehouse::client
