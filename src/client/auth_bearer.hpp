#pragma once
// BearerAuth's implementation, visible to tests: renew() takes the function that sends the
// refresh request, so the single-flight logic can be driven without a network.
#include <atomic>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "gatehouse/client.hpp"

namespace gatehouse::client::detail {

// A server's expires_in is believed up to ten years (no overflow, whatever it sends).
inline constexpr std::int64_t kMaxExpiresIn = 10LL * 365 * 24 * 3600;
// A token this close to its expires_at (seconds) is refreshed before a request rather than after
// its 401 (clock skew and the request's own flight time).
inline constexpr std::int64_t kRefreshAhead = 30;

using RefreshSender = std::function<void(Request, Client::Handler)>;

// What a BeforeRefresh hook decides. `fresher`: tokens that replace the current ones without a
// refresh (another holder of the same tokens, e.g. another process sharing a token cache,
// refreshed them already); the failed requests are retried with them and on_refreshed is not
// called. `hold` is kept alive until the refresh this call allows has ended, after on_refreshed
// saw its tokens or it failed (e.g. a file lock held around refresh and store).
struct RefreshGate {
  std::optional<TokenSet> fresher;
  std::shared_ptr<void> hold;
};
// Called with the current tokens when a refresh is about to be sent, under no lock, on the
// thread that runs renew() (the client's I/O thread); it may block. An exception fails the
// renewal's waiters with it.
using BeforeRefresh = std::function<RefreshGate(const TokenSet& current)>;

class BearerAuthImpl final : public BearerAuth,
                             public std::enable_shared_from_this<BearerAuthImpl> {
 public:
  BearerAuthImpl(TokenSet tokens, std::function<void(const TokenSet&)> on_refreshed,
                 BeforeRefresh before_refresh = {});

  std::unique_ptr<AuthFlow> start(const Request& request) override;
  void async_renew(Client& client, const Request& failed,
                   std::function<void(std::exception_ptr)> done) override;
  TokenSet tokens() const override;
  std::uint64_t refresh_count() const noexcept override { return refresh_count_.load(); }

  // Single flight: when `failed` carried an access token other than the current one, someone
  // refreshed already and `done` completes at once; when a refresh is under way `done` waits for
  // it; otherwise this call sends the one refresh request through `send`. Every waiter gets the
  // same outcome. A refresh token the server refused is not sent again. When a BeforeRefresh
  // hook is set it runs first and may supply fresher tokens instead (see RefreshGate).
  void renew(const Request& failed, const RefreshSender& send,
             std::function<void(std::exception_ptr)> done);

  // The current access token, for AuthFlow::prepare.
  Secret access_token() const;
  // The access token expires within kRefreshAhead of `now` (unix seconds) and can be refreshed.
  bool expires_soon(std::int64_t now) const;

  // The refresh request for the current tokens (gatehouse JSON or OAuth 2.0 form, RFC 6749 §6).
  static Request refresh_request(const TokenSet& tokens);
  // A token response (RFC 6749 §5.1): the new set, or an exception for the waiters.
  static TokenSet parse_refresh_response(const TokenSet& old, const Response& response,
                                         std::int64_t now);

 private:
  void finish(std::exception_ptr error, std::optional<TokenSet> fresh, bool announce = true);

  mutable std::mutex mutex_;
  TokenSet tokens_;
  bool refreshing_ = false;
  Secret refused_refresh_token_;  // the refresh token the server refused, if any
  std::vector<std::function<void(std::exception_ptr)>> waiters_;
  std::function<void(const TokenSet&)> on_refreshed_;
  BeforeRefresh before_refresh_;
  std::atomic<std::uint64_t> refresh_count_{0};
};

// bearer_auth() with a BeforeRefresh hook (the CLI's token-cache lock; not in the public API).
std::shared_ptr<BearerAuth> bearer_auth_with_gate(TokenSet tokens,
                                                  std::function<void(const TokenSet&)> on_refreshed,
                                                  BeforeRefresh before_refresh);

}  // namespace gatehouse::client::detail
