// auto_auth: answers whatever the server offers with whatever credentials were given.
//
// Order (strongest first): Negotiate (when NegotiateOptions are given; a failure to start the
// GSSAPI context, e.g. no ticket, falls through to the next scheme), Bearer (when tokens are
// given; also the choice for a 401 without any challenge, like auth-adventures' servers send),
// Digest and Basic (when a password is given), Apikey (when a key is given; sent as
// `Authorization: Apikey KEY`). A scheme is used only when a challenge of the first 401
// offers it; from then on that scheme's own flow handles the exchange (its retry limits apply, so
// a wrong password ends with the server's 401).
//
// The first request goes without credentials, or with the bearer token when tokens are given (or
// with Negotiate when opportunistic_auth is set). Once Digest, Basic or Apikey succeeded on an
// origin (the origin answered a request carrying it with anything but 401), later requests there
// start with it (Digest then reuses its nonce), saving a round trip. A scheme whose credentials
// were refused is not remembered: a wrong password is not sent preemptively again.
#include <array>
#include <map>
#include <mutex>
#include <optional>

#include "client/auth_util.hpp"
#include "gatehouse/client.hpp"

namespace gatehouse::client {
namespace {

enum class Kind { negotiate, bearer, digest, basic, apikey };
constexpr std::array kOrder{Kind::negotiate, Kind::bearer, Kind::digest, Kind::basic, Kind::apikey};
constexpr std::size_t kMaxRememberedOrigins = 64;

std::string_view scheme_name(Kind kind) noexcept {
  switch (kind) {
    case Kind::negotiate:
      return "Negotiate";
    case Kind::bearer:
      return "Bearer";
    case Kind::digest:
      return "Digest";
    case Kind::basic:
      return "Basic";
    case Kind::apikey:
      return "Apikey";
  }
  return "";
}

class AutoAuth final : public Auth, public std::enable_shared_from_this<AutoAuth> {
 public:
  explicit AutoAuth(AutoCredentials credentials) : opportunistic_(false) {
    if (credentials.negotiate) {
      opportunistic_ = credentials.negotiate->opportunistic_auth;
      negotiate_ = negotiate_auth(*credentials.negotiate);
    }
    bearer_ = std::move(credentials.bearer);
    if (credentials.password) {
      digest_ = digest_auth(credentials.user, *credentials.password);
      basic_ = basic_auth(credentials.user, *credentials.password, /*preemptive=*/true);
    }
    if (credentials.api_key) {
      apikey_ = api_key_auth(*credentials.api_key, ApiKeyPlacement::authorization);
    }
  }

  std::unique_ptr<AuthFlow> start(const Request& request) override;

  void async_renew(Client& client, const Request& failed,
                   std::function<void(std::exception_ptr)> done) override {
    if (bearer_) return bearer_->async_renew(client, failed, std::move(done));
    Auth::async_renew(client, failed, std::move(done));
  }

  Auth* handler(Kind kind) const noexcept {
    switch (kind) {
      case Kind::negotiate:
        return negotiate_.get();
      case Kind::bearer:
        return bearer_.get();
      case Kind::digest:
        return digest_.get();
      case Kind::basic:
        return basic_.get();
      case Kind::apikey:
        return apikey_.get();
    }
    return nullptr;
  }

  std::optional<Kind> remembered(const std::string& origin) {
    const std::lock_guard lock(mutex_);
    const auto it = chosen_.find(origin);
    if (it == chosen_.end()) return std::nullopt;
    return it->second;
  }
  void remember(const std::string& origin, Kind kind) {
    if (origin.empty() || (kind != Kind::digest && kind != Kind::basic && kind != Kind::apikey)) {
      return;
    }
    const std::lock_guard lock(mutex_);
    if (!chosen_.contains(origin) && chosen_.size() == kMaxRememberedOrigins) {
      chosen_.erase(chosen_.begin());
    }
    chosen_[origin] = kind;
  }
  bool opportunistic() const noexcept { return opportunistic_; }

 private:
  bool opportunistic_;
  std::shared_ptr<Auth> negotiate_;
  std::shared_ptr<BearerAuth> bearer_;
  std::shared_ptr<Auth> digest_;
  std::shared_ptr<Auth> basic_;
  std::shared_ptr<Auth> apikey_;
  std::mutex mutex_;
  std::map<std::string, Kind> chosen_;  // origin → the scheme that worked there
};

class AutoFlow final : public AuthFlow {
 public:
  AutoFlow(std::shared_ptr<AutoAuth> auth, const Request& request) : auth_(std::move(auth)) {
    origin_ = detail::origin_of(request.url);
    std::optional<Kind> first = auth_->remembered(origin_);
    if (!first && auth_->handler(Kind::bearer) != nullptr) first = Kind::bearer;
    if (!first && auth_->opportunistic()) first = Kind::negotiate;
    if (first) {
      kind_ = first;
      current_ = auth_->handler(*first)->start(request);
    }
  }

  void prepare(Request& request) override {
    if (current_) current_->prepare(request);
  }

  Next on_response(Request& request, Response& response) override {
    // The origin answered the credentials of the chosen scheme: remembered unless it refused
    // them (401), or the answer is a proxy's 407, which says nothing about them.
    if (unconfirmed_ && response.status != 401 && response.status != 407) {
      auth_->remember(origin_, *kind_);
      unconfirmed_ = false;
    }
    if (response.status != 401 || decided_) {
      return current_ ? current_->on_response(request, response) : Next::done;
    }
    decided_ = true;
    const auto challenges = detail::origin_challenges(response);
    auto offered = [&](Kind kind) {
      if (auth_->handler(kind) == nullptr) return false;
      for (const auto& challenge : challenges.challenges) {
        if (challenge.is(scheme_name(kind))) return true;
      }
      return kind == Kind::bearer && kind_ == Kind::bearer && challenges.challenges.empty();
    };
    for (std::size_t i = 0; i < kOrder.size(); ++i) {
      const Kind kind = kOrder[i];
      if (!offered(kind)) continue;
      if (kind == kind_) return current_->on_response(request, response);
      auto flow = auth_->handler(kind)->start(request);
      Next next = Next::done;
      try {
        next = flow->on_response(request, response);
      } catch (const SpnegoExchangeError&) {
        if (i + 1 == kOrder.size()) throw;
        continue;  // no ticket, no KDC: try the next scheme
      }
      if (next == Next::done) continue;
      if (kind_) request.remove_header("Authorization");
      current_ = std::move(flow);
      kind_ = kind;
      unconfirmed_ = true;
      return next;
    }
    return Next::done;
  }

 private:
  std::shared_ptr<AutoAuth> auth_;
  std::string origin_;
  std::unique_ptr<AuthFlow> current_;
  std::optional<Kind> kind_;
  bool decided_ = false;      // the first 401 chose the scheme
  bool unconfirmed_ = false;  // kind_ answers the origin's 401; remember it once it is accepted
};

std::unique_ptr<AuthFlow> AutoAuth::start(const Request& request) {
  return std::make_unique<AutoFlow>(shared_from_this(), request);
}

}  // namespace

std::shared_ptr<Auth> auto_auth(AutoCredentials credentials) {
  return std::make_shared<AutoAuth>(std::move(credentials));
}

}  // namespace gatehouse::client
