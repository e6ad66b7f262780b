#pragma once
// The pure parts of the Negotiate client (src/client/auth_negotiate.cpp), unit-tested on their
// own: option spellings, the GSS target name, the server token in a challenge, and the
// mutual-authentication decision and sanitizing of httpx-gssapi 0.6.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "gatehouse/client.hpp"

namespace gatehouse::client::negotiate {

// "required" | "optional" | "disabled" and "spnego" | "krb5" (case-insensitive), as the CLI's
// --mutual and --mech and the probe's JSON spell them; nullopt for anything else.
std::optional<MutualAuthentication> parse_mutual(std::string_view text);
std::optional<Mechanism> parse_mechanism(std::string_view text);
std::string_view to_string(MutualAuthentication mode);
std::string_view to_string(Mechanism mechanism);

enum class NameType {
  hostbased_service,  // GSS_C_NT_HOSTBASED_SERVICE, "service@host" (RFC 2743 §4.1)
  krb5_principal,     // GSS_KRB5_NT_PRINCIPAL_NAME, "service/host[@REALM]" (RFC 1964 §2.1.1)
};
struct TargetName {
  std::string name;
  NameType type;
  bool operator==(const TargetName&) const = default;
};
// The acceptor name for a request to `host` (an IPv6 literal without brackets):
//   ""/"HTTP"/any name without '@' or '/' → "<name>@<host>" hostbased (httpx-gssapi);
//   a name with '/' → a Kerberos principal as given ("HTTP/alias.example@REALM"; no realm = the
//     default realm), for a service whose principal is not "<service>/<host>";
//   a name with '@' (and no '/') → hostbased as given ("HTTP@alias.example").
// Throws RequestError for an empty host or a name with control characters.
TargetName resolve_target_name(std::string_view option, std::string_view host);

// The Negotiate token of a challenge (RFC 4559 §4): the values of every WWW-Authenticate (or
// Proxy-Authenticate) field are searched for the auth-scheme "Negotiate" (case-insensitive, at
// the start of a challenge), and what follows it up to the next comma is its token68.
struct NegotiateToken {
  std::string token;       // decoded; empty for a bare "Negotiate"
  bool malformed = false;  // present but not valid base64
};
std::optional<NegotiateToken> find_negotiate(const std::vector<std::string>& header_values);

// httpx-gssapi's handle_mutual_auth for a final (non-401) response.
enum class MutualAction {
  accept,        // nothing to check (DISABLED)
  verify,        // the response carries a token: step the context; a failure is an error
  return_as_is,  // no token, error status or OPTIONAL: return the response unchanged
  sanitize,      // no token, error status, REQUIRED with sanitizing: sanitize_response()
  fail,          // no token, non-error status, REQUIRED: MutualAuthenticationError
};
MutualAction mutual_action(MutualAuthentication mode, bool sanitize, unsigned status,
                           bool has_token);

// An error response that could not be mutually authenticated, reduced to what cannot mislead:
// empty body, headers "content-length: 0" plus the original Date and Server (first values).
// Status, reason and URL are kept.
void sanitize_response(Response& response);

}  // namespace gatehouse::client::negotiate
