// RFC 4559 Negotiate (SPNEGO, RFC 4178) client on MIT GSSAPI, with the options and semantics of
// httpx-gssapi 0.6 (docs/negotiate.md): mutual authentication REQUIRED/OPTIONAL/DISABLED,
// sanitizing of unauthenticated error responses, opportunistic first token, target name override,
// explicit principal and ccache, SPNEGO or raw Kerberos mechanism, delegation; plus 407
// Proxy-Authenticate challenges answered with Proxy-Authorization.
#include <spdlog/logger.h>

#include <cctype>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "client/gss.hpp"
#include "client/log.hpp"
#include "client/negotiate_internal.hpp"
#include "client/url.hpp"
#include "gatehouse/client.hpp"
#include "gatehouse/http.hpp"
#include "util/encoding.hpp"

namespace gatehouse::client {
namespace negotiate {

namespace {
bool is_space(char c) {
  return c == ' ' || c == '\t';
}
}  // namespace

std::optional<MutualAuthentication> parse_mutual(std::string_view text) {
  const auto value = ascii_lower(text);
  if (value == "required") return MutualAuthentication::required;
  if (value == "optional") return MutualAuthentication::optional;
  if (value == "disabled") return MutualAuthentication::disabled;
  return std::nullopt;
}

std::optional<Mechanism> parse_mechanism(std::string_view text) {
  const auto value = ascii_lower(text);
  if (value == "spnego") return Mechanism::spnego;
  if (value == "krb5" || value == "kerberos") return Mechanism::krb5;
  return std::nullopt;
}

std::string_view to_string(MutualAuthentication mode) {
  switch (mode) {
    case MutualAuthentication::required:
      return "required";
    case MutualAuthentication::optional:
      return "optional";
    case MutualAuthentication::disabled:
      return "disabled";
  }
  return "disabled";
}

std::string_view to_string(Mechanism mechanism) {
  switch (mechanism) {
    case Mechanism::spnego:
      return "spnego";
    case Mechanism::krb5:
      return "krb5";
  }
  return "spnego";
}

TargetName resolve_target_name(std::string_view option, std::string_view host) {
  if (util::has_control_chars(option) || util::has_control_chars(host)) {
    throw RequestError("negotiate: control character in the target name or host");
  }
  std::string name = option.empty() ? std::string("HTTP") : std::string(option);
  if (name.find('/') != std::string::npos) return {std::move(name), NameType::krb5_principal};
  if (name.find('@') != std::string::npos) return {std::move(name), NameType::hostbased_service};
  if (host.empty()) throw RequestError("negotiate: the request URL has no host");
  return {name + "@" + std::string(host), NameType::hostbased_service};
}

std::optional<NegotiateToken> find_negotiate(const std::vector<std::string>& header_values) {
  constexpr std::string_view scheme = "negotiate";
  for (const auto& value : header_values) {
    // Challenges are comma-separated; "Negotiate" must start one (after optional whitespace).
    std::size_t pos = 0;
    while (pos <= value.size()) {
      std::size_t start = pos;
      while (start < value.size() && is_space(value[start])) ++start;
      const std::size_t comma = value.find(',', start);
      const std::size_t end = comma == std::string::npos ? value.size() : comma;
      const std::string_view item(value.data() + start, end - start);
      if (item.size() >= scheme.size() && ascii_lower(item.substr(0, scheme.size())) == scheme &&
          (item.size() == scheme.size() || is_space(item[scheme.size()]))) {
        std::string_view token = item.substr(scheme.size());
        while (!token.empty() && is_space(token.front())) token.remove_prefix(1);
        while (!token.empty() && is_space(token.back())) token.remove_suffix(1);
        NegotiateToken out;
        if (!token.empty()) {
          auto decoded = util::base64_decode(token);
          if (decoded) {
            out.token = std::move(*decoded);
          } else {
            out.malformed = true;
          }
        }
        return out;
      }
      if (comma == std::string::npos) break;
      pos = comma + 1;
    }
  }
  return std::nullopt;
}

MutualAction mutual_action(MutualAuthentication mode, bool sanitize, unsigned status,
                           bool has_token) {
  if (mode == MutualAuthentication::disabled) return MutualAction::accept;
  if (has_token) return MutualAction::verify;
  if (status >= 400 || mode == MutualAuthentication::optional) {
    return mode == MutualAuthentication::required && sanitize ? MutualAction::sanitize
                                                              : MutualAction::return_as_is;
  }
  return MutualAction::fail;
}

void sanitize_response(Response& response) {
  Headers kept{{"content-length", "0"}};
  for (const char* name : {"date", "server"}) {
    if (const auto* value = response.header(name)) kept.emplace_back(name, *value);
  }
  response.headers = std::move(kept);
  response.body.clear();
}

}  // namespace negotiate

namespace {

using negotiate::MutualAction;

spdlog::logger& log() {
  return client_log();
}

// The host of an absolute http(s) URL, an IPv6 literal without brackets; "" when unparsable.
std::string host_of(const std::string& url) {
  try {
    return detail::parse_url(url).host;
  } catch (const RequestError&) {
    return {};
  }
}

gss_OID mechanism_oid(Mechanism mechanism) {
  switch (mechanism) {
    case Mechanism::spnego:
      return gss::spnego_mechanism();
    case Mechanism::krb5:
      return gss::krb5_mechanism();
  }
  return gss::spnego_mechanism();
}

class NegotiateFlow final : public AuthFlow {
 public:
  explicit NegotiateFlow(std::shared_ptr<const NegotiateOptions> options)
      : options_(std::move(options)) {}

  void prepare(Request& request) override {
    if (first_send_ && options_->opportunistic_auth) {
      const std::string host = host_of(request.url);
      origin_ = make_context(host);
      pending_ = Pending{"Authorization", "Negotiate " + first_token(*origin_, "initiating")};
      log().debug("negotiate: opportunistic token for {}", host);
    }
    first_send_ = false;
    // A token is good for one send (the acceptor's replay cache refuses it a second time).
    if (sent_header_) request.remove_header(*sent_header_);
    sent_header_.reset();
    if (pending_) {
      request.set_header(pending_->name, std::move(pending_->value));
      sent_header_ = pending_->name;
      pending_.reset();
    }
  }

  Next on_response(Request& request, Response& response) override {
    const bool proxy = response.status == 407;
    if (response.status == 401 || proxy) {
      return on_challenge(request, response, proxy);
    }
    handle_mutual_auth(response);
    return Next::done;
  }

 private:
  struct Pending {
    std::string name;
    std::string value;
  };

  std::unique_ptr<gss::InitiatorContext> make_context(const std::string& host) {
    const auto target = negotiate::resolve_target_name(options_->target_name, host);
    const gss_OID mech = mechanism_oid(options_->mechanism);
    OM_uint32 flags = GSS_C_SEQUENCE_FLAG;  // httpx-gssapi: out_of_sequence_detection, always
    if (options_->delegate) flags |= GSS_C_DELEG_FLAG;
    if (options_->mutual_authentication != MutualAuthentication::disabled) {
      flags |= GSS_C_MUTUAL_FLAG;
    }
    try {
      auto name = target.type == negotiate::NameType::krb5_principal
                      ? gss::Name::krb5_principal(target.name)
                      : gss::Name::hostbased_service(target.name);
      // Acquiring first turns "no ticket" into an error of its own (see first_token).
      auto cred = gss::Credential::acquire_initiator(options_->principal, options_->ccache, mech);
      log().debug("negotiate: context for {} ({}, mechanism {})", target.name,
                  target.type == negotiate::NameType::krb5_principal ? "principal" : "hostbased",
                  negotiate::to_string(options_->mechanism));
      return std::make_unique<gss::InitiatorContext>(std::move(cred), std::move(name), mech, flags);
    } catch (const gss::GssError& e) {
      // No usable credential (no ccache, no TGT, expired TGT, unknown explicit principal) is
      // the user's problem to fix, not the server's answer: fail the exchange clearly instead
      // of returning the 401 (docs/negotiate.md, "No ticket").
      throw SpnegoExchangeError("initiating context failed: " + std::string(e.what()));
    }
  }

  // The first token of a new context; a GSS failure is a SpnegoExchangeError.
  static std::string first_token(gss::InitiatorContext& context, std::string_view stage) {
    try {
      return util::base64_encode(context.step(std::nullopt));
    } catch (const gss::GssError& e) {
      throw SpnegoExchangeError(std::string(stage) + " context failed: " + e.what());
    }
  }

  Next on_challenge(Request& request, Response& response, bool proxy) {
    int& rounds = proxy ? proxy_rounds_ : origin_rounds_;
    const auto token = negotiate::find_negotiate(
        response.headers_named(proxy ? "Proxy-Authenticate" : "WWW-Authenticate"));
    if (!token) {
      log().debug("negotiate: {} without a Negotiate challenge, returned as is", response.status);
      return Next::done;
    }
    if (rounds >= 2) {
      log().debug("negotiate: {} after {} answered challenges, returned", response.status, rounds);
      return Next::done;
    }
    ++rounds;
    const std::string host = proxy ? response.proxy : host_of(request.url);
    if (host.empty()) {
      log().warn("negotiate: {} without a host to name the service, returned", response.status);
      return Next::done;
    }
    auto& context = proxy ? proxy_ : origin_;
    try {
      std::string out;
      // A challenge with a token continues a context still in progress (a multi-leg mechanism);
      // anything else starts afresh (RFC 4559 §5).
      if (context && context->started() && !context->complete() && !token->token.empty() &&
          !token->malformed) {
        out = util::base64_encode(context->step(token->token));
      } else {
        context = make_context(host);
        out = util::base64_encode(context->step(std::nullopt));
      }
      pending_ = Pending{proxy ? "Proxy-Authorization" : "Authorization", "Negotiate " + out};
      log().debug("negotiate: answering {} #{} for {}", response.status, rounds, host);
      return Next::retry;
    } catch (const gss::GssError& e) {
      if (e.no_credentials()) {
        throw SpnegoExchangeError("initiating context failed: " + std::string(e.what()));
      }
      // httpx-gssapi: a GSS failure while answering a challenge is logged, the 401 returned.
      log().warn("negotiate: initiating context failed for {}: {}; returning the {}", host,
                 e.what(), response.status);
      return Next::done;
    }
  }

  [[noreturn]] static void fail(const Response& response, std::string_view why) {
    log().info("negotiate: mutual authentication failed: {}", why);
    throw MutualAuthenticationError("Unable to authenticate " + std::to_string(response.status) +
                                        " " + response.url + ": " + std::string(why),
                                    response);
  }

  void handle_mutual_auth(Response& response) {
    const auto token = negotiate::find_negotiate(response.headers_named("WWW-Authenticate"));
    switch (negotiate::mutual_action(options_->mutual_authentication,
                                     options_->sanitize_mutual_error_response, response.status,
                                     token.has_value())) {
      case MutualAction::accept:
        return;
      case MutualAction::verify:
        if (token->malformed) fail(response, "the server's Negotiate token is not base64");
        if (!origin_ || !origin_->started()) {
          fail(response, "a Negotiate token arrived without a security context");
        }
        try {
          origin_->step(token->token);
        } catch (const gss::GssError& e) {
          fail(response, std::string("stepping context failed: ") + e.what());
        }
        // Stricter than httpx-gssapi: a token that leaves the context unfinished has not
        // authenticated the server.
        if (!origin_->complete()) fail(response, "the security context is not complete");
        if ((origin_->returned_flags() & GSS_C_MUTUAL_FLAG) == 0) {
          fail(response, "the mechanism did not authenticate the server");
        }
        log().debug("negotiate: server authenticated on {}", response.status);
        return;
      case MutualAction::return_as_is:
        if (response.status != 200) {
          log().warn("negotiate: mutual authentication unavailable on {} response",
                     response.status);
        }
        return;
      case MutualAction::sanitize:
        log().warn("negotiate: mutual authentication unavailable on {} response, sanitized",
                   response.status);
        negotiate::sanitize_response(response);
        return;
      case MutualAction::fail:
        fail(response, "the server sent no Negotiate token");
    }
  }

  std::shared_ptr<const NegotiateOptions> options_;
  std::unique_ptr<gss::InitiatorContext> origin_;
  std::unique_ptr<gss::InitiatorContext> proxy_;
  std::optional<Pending> pending_;
  std::optional<std::string> sent_header_;
  int origin_rounds_ = 0;
  int proxy_rounds_ = 0;
  bool first_send_ = true;
};

class NegotiateAuth final : public Auth {
 public:
  explicit NegotiateAuth(NegotiateOptions options)
      : options_(std::make_shared<const NegotiateOptions>(std::move(options))) {}
  std::unique_ptr<AuthFlow> start(const Request&) override {
    return std::make_unique<NegotiateFlow>(options_);
  }

 private:
  std::shared_ptr<const NegotiateOptions> options_;
};

}  // namespace

std::shared_ptr<Auth> negotiate_auth(NegotiateOptions options) {
  for (const auto* field : {&options.target_name, &options.principal, &options.ccache}) {
    if (util::has_control_chars(*field)) {
      throw RequestError("negotiate: control character in target_name, principal or ccache");
    }
  }
  return std::make_shared<NegotiateAuth>(std::move(options));
}

}  // namespace gatehouse::client
