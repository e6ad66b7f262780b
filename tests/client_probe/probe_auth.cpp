// The probe's auth kinds: one `if (kind == "...")` block each. Test-only auths (static_header,
// retry_once, retry_always, renew, throw) exercise the client's exchange loop without any real
// scheme.
#include "probe_auth.hpp"

#include "client/negotiate_internal.hpp"

#include <atomic>
#include <stdexcept>
#include <string>
#include <thread>

namespace gatehouse::client_probe {
namespace json = boost::json;
using namespace gatehouse::client;

namespace {

std::string field(const json::object& spec, std::string_view name) {
  const auto* value = spec.if_contains(name);
  if (value == nullptr || !value->is_string()) {
    throw std::invalid_argument("auth: missing string field '" + std::string(name) + "'");
  }
  return std::string(value->as_string());
}

std::string field_or(const json::object& spec, std::string_view name, std::string fallback) {
  const auto* value = spec.if_contains(name);
  return value != nullptr && value->is_string() ? std::string(value->as_string()) : fallback;
}

bool flag(const json::object& spec, std::string_view name, bool fallback) {
  const auto* value = spec.if_contains(name);
  return value != nullptr && value->is_bool() ? value->as_bool() : fallback;
}

// Sets `name: value` on every send.
class StaticHeaderAuth final : public Auth {
 public:
  StaticHeaderAuth(std::string name, std::string value)
      : name_(std::move(name)), value_(std::move(value)) {}
  std::unique_ptr<AuthFlow> start(const Request&) override {
    struct Flow final : AuthFlow {
      const StaticHeaderAuth* auth;
      explicit Flow(const StaticHeaderAuth* a) : auth(a) {}
      void prepare(Request& request) override { request.set_header(auth->name_, auth->value_); }
      Next on_response(Request&, Response&) override { return Next::done; }
    };
    return std::make_unique<Flow>(this);
  }

 private:
  std::string name_, value_;
};

// First send bare; on a 401, Next::retry with `name: value` (retry_once), or retry on every 401
// with `name: <send number>` (retry_always, to see the client's cap of 6 sends).
class RetryAuth final : public Auth {
 public:
  RetryAuth(std::string name, std::string value, bool always)
      : name_(std::move(name)), value_(std::move(value)), always_(always) {}
  std::unique_ptr<AuthFlow> start(const Request&) override {
    struct Flow final : AuthFlow {
      const RetryAuth* auth;
      int sends = 0;
      bool armed = false;
      explicit Flow(const RetryAuth* a) : auth(a) {}
      void prepare(Request& request) override {
        ++sends;
        if (auth->always_) {
          request.set_header(auth->name_, std::to_string(sends));
        } else if (armed) {
          request.set_header(auth->name_, auth->value_);
        }
      }
      Next on_response(Request&, Response& response) override {
        if (response.status != 401) return Next::done;
        if (auth->always_) return Next::retry;
        if (armed) return Next::done;
        armed = true;
        return Next::retry;
      }
    };
    return std::make_unique<Flow>(this);
  }

 private:
  std::string name_, value_;
  bool always_;
};

// Sends `name: <current value>`; a 401 answers Next::renew; async_renew completes from another
// thread, replacing the value with `renewed_value` (or failing with SessionExpiredError when
// "fail" is true). Counts renewals in renew_count.
class RenewAuth final : public Auth {
 public:
  RenewAuth(std::string name, std::string value, std::string renewed, bool fail)
      : name_(std::move(name)),
        value_(std::move(value)),
        renewed_(std::move(renewed)),
        fail_(fail) {}
  std::unique_ptr<AuthFlow> start(const Request&) override {
    struct Flow final : AuthFlow {
      RenewAuth* auth;
      explicit Flow(RenewAuth* a) : auth(a) {}
      void prepare(Request& request) override {
        std::lock_guard lock(auth->mutex_);
        request.set_header(auth->name_, auth->value_);
      }
      Next on_response(Request&, Response& response) override {
        return response.status == 401 ? Next::renew : Next::done;
      }
    };
    return std::make_unique<Flow>(this);
  }
  void async_renew(Client& client, const Request& failed,
                   std::function<void(std::exception_ptr)> done) override {
    if (fail_) return Auth::async_renew(client, failed, std::move(done));
    std::thread([this, done = std::move(done)] {
      {
        std::lock_guard lock(mutex_);
        value_ = renewed_;
      }
      done(nullptr);
    }).detach();
  }

 private:
  std::mutex mutex_;
  std::string name_, value_, renewed_;
  bool fail_;
};

// on_response throws TransportError(message): the exchange must fail with it.
class ThrowAuth final : public Auth {
 public:
  explicit ThrowAuth(std::string message) : message_(std::move(message)) {}
  std::unique_ptr<AuthFlow> start(const Request&) override {
    struct Flow final : AuthFlow {
      std::string message;
      explicit Flow(std::string m) : message(std::move(m)) {}
      void prepare(Request&) override {}
      Next on_response(Request&, Response&) override { throw TransportError(message); }
    };
    return std::make_unique<Flow>(message_);
  }

 private:
  std::string message_;
};

// The "bearer" kind's fields as a TokenSet.
TokenSet bearer_tokens(const json::object& spec) {
  TokenSet tokens;
  tokens.access_token = Secret(field_or(spec, "access_token", ""));
  tokens.refresh_token = Secret(field_or(spec, "refresh_token", ""));
  tokens.refresh_url = field_or(spec, "refresh_url", "");
  tokens.client_id = field_or(spec, "client_id", "");
  const std::string style = field_or(spec, "refresh_style", "gatehouse_json");
  if (style == "oauth_form") {
    tokens.refresh_style = TokenSet::RefreshStyle::oauth_form;
  } else if (style != "gatehouse_json") {
    throw std::invalid_argument("bearer: refresh_style gatehouse_json or oauth_form");
  }
  if (const auto* at = spec.if_contains("expires_at"); at && at->is_int64()) {
    tokens.expires_at = at->as_int64();
  }
  return tokens;
}

// The "negotiate" fields: mutual, mech, sanitize, opportunistic, delegate, target_name,
// principal, ccache.
NegotiateOptions negotiate_options(const json::object& spec) {
  NegotiateOptions options;
  const auto mode = client::negotiate::parse_mutual(field_or(spec, "mutual", "disabled"));
  if (!mode) throw std::invalid_argument("auth: negotiate mutual is required|optional|disabled");
  const auto mech = client::negotiate::parse_mechanism(field_or(spec, "mech", "spnego"));
  if (!mech) throw std::invalid_argument("auth: negotiate mech is spnego|krb5");
  options.mutual_authentication = *mode;
  options.mechanism = *mech;
  options.sanitize_mutual_error_response = flag(spec, "sanitize", true);
  options.opportunistic_auth = flag(spec, "opportunistic", false);
  options.delegate = flag(spec, "delegate", false);
  options.target_name = field_or(spec, "target_name", "");
  options.principal = field_or(spec, "principal", "");
  options.ccache = field_or(spec, "ccache", "");
  return options;
}

}  // namespace

ProbeAuth make_auth(const json::object& spec) {
  const std::string kind = field_or(spec, "kind", "none");
  ProbeAuth out;
  if (kind == "none") {
    out.auth = no_auth();
    return out;
  }
  if (kind == "static_header") {
    out.auth = std::make_shared<StaticHeaderAuth>(field(spec, "name"), field(spec, "value"));
    return out;
  }
  if (kind == "retry_once" || kind == "retry_always") {
    out.auth = std::make_shared<RetryAuth>(field(spec, "name"), field_or(spec, "value", ""),
                                           kind == "retry_always");
    return out;
  }
  if (kind == "renew") {
    out.auth =
        std::make_shared<RenewAuth>(field(spec, "name"), field(spec, "value"),
                                    field_or(spec, "renewed_value", ""), flag(spec, "fail", false));
    return out;
  }
  if (kind == "throw") {
    out.auth = std::make_shared<ThrowAuth>(field_or(spec, "message", "flow failed"));
    return out;
  }
  // ---- Real schemes: add one block per kind here ("basic", "digest", "apikey", "bearer",
  // "negotiate", "auto"), reading the kind's fields from `spec`. A BearerAuth also sets
  // out.bearer so the probe prints refresh_count and tokens.
  // "basic": user, password, preemptive (default true).
  if (kind == "basic") {
    out.auth = basic_auth(field(spec, "user"), Secret(field(spec, "password")),
                          flag(spec, "preemptive", true));
    return out;
  }
  // "digest": user, password.
  if (kind == "digest") {
    out.auth = digest_auth(field(spec, "user"), Secret(field(spec, "password")));
    return out;
  }
  // "apikey": key, placement ("authorization" default | "x_api_key" | "query"),
  // allow_insecure_query (default false).
  if (kind == "apikey") {
    const std::string placement = field_or(spec, "placement", "authorization");
    ApiKeyPlacement where = ApiKeyPlacement::authorization;
    if (placement == "x_api_key") {
      where = ApiKeyPlacement::x_api_key;
    } else if (placement == "query") {
      where = ApiKeyPlacement::query;
    } else if (placement != "authorization") {
      throw std::invalid_argument("apikey: placement authorization, x_api_key or query");
    }
    out.auth =
        api_key_auth(Secret(field(spec, "key")), where, flag(spec, "allow_insecure_query", false));
    return out;
  }
  // "bearer": access_token, refresh_token, refresh_url, refresh_style ("gatehouse_json" default
  // | "oauth_form"), client_id, expires_at (number).
  if (kind == "bearer") {
    out.bearer = bearer_auth(bearer_tokens(spec));
    out.auth = out.bearer;
    return out;
  }
  // "auto": user, password, api_key, bearer (an object with the "bearer" fields), negotiate (an
  // object with the "negotiate" fields).
  if (kind == "auto") {
    AutoCredentials credentials;
    credentials.user = field_or(spec, "user", "");
    if (const auto* password = spec.if_contains("password"); password && password->is_string()) {
      credentials.password = Secret(std::string_view(password->as_string()));
    }
    if (const auto* key = spec.if_contains("api_key"); key && key->is_string()) {
      credentials.api_key = Secret(std::string_view(key->as_string()));
    }
    if (const auto* bearer = spec.if_contains("bearer"); bearer && bearer->is_object()) {
      out.bearer = bearer_auth(bearer_tokens(bearer->as_object()));
      credentials.bearer = out.bearer;
    }
    if (const auto* negotiate = spec.if_contains("negotiate");
        negotiate && negotiate->is_object()) {
      credentials.negotiate = negotiate_options(negotiate->as_object());
    }
    out.auth = auto_auth(std::move(credentials));
    return out;
  }
  // "negotiate": fields mirror NegotiateOptions and the CLI flags (docs/negotiate.md).
  if (kind == "negotiate") {
    out.auth = negotiate_auth(negotiate_options(spec));
    return out;
  }
  throw std::invalid_argument("auth: unknown kind '" + kind + "'");
}

}  // namespace gatehouse::client_probe
