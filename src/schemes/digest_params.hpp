#pragma once
// Parser for the auth-param list of HTTP Digest credentials (RFC 7616 §3.4, RFC 9110 §11.2,
// §5.6.4 quoted-string, RFC 8187 ext-value for username*) and the writer of the Digest
// challenge (RFC 7616 §3.3). Pure functions: no I/O, no exceptions for bad input — a result
// value carries either the parameters or a description of what is wrong. Descriptions name
// parameters but never echo a value (no response, no nonce, no username).
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "schemes/digest_compute.hpp"

namespace gatehouse::schemes {

inline constexpr std::size_t kMaxDigestParamValue = 4096;  // bytes, after unquoting
inline constexpr std::size_t kMaxDigestParams = 32;

// One auth-param: name lower-cased, value unquoted (quoted-pairs resolved).
struct AuthParam {
  std::string name;
  std::string value;
  bool quoted = false;
};

struct AuthParamList {
  std::vector<AuthParam> params;  // in order of appearance
  std::string error;              // empty on success
  bool ok() const noexcept { return error.empty(); }
};

// RFC 9110 §11.2 #auth-param: `name=token` or `name="quoted-string"`, separated by commas with
// optional whitespace; empty list elements are skipped. Refuses duplicate names, unterminated
// quotes, bad escapes, controls, values over kMaxDigestParamValue and more than kMaxDigestParams
// parameters. Names are compared case-insensitively and returned lower-cased.
AuthParamList parse_auth_params(std::string_view input);

struct DigestParams {
  // Exactly one of username and username_star is set. With userhash, `username` is the hex
  // userhash as sent.
  std::optional<std::string> username;
  std::optional<std::string> username_star;  // RFC 8187 ext-value, percent-decoded UTF-8
  std::string realm;
  std::string nonce;
  std::string uri;
  std::string response;                              // hex of the algorithm's length, lower-cased
  DigestAlgorithm algorithm = DigestAlgorithm::md5;  // absent means MD5 (RFC 7616 §3.4)
  std::optional<std::string> cnonce;
  std::optional<std::string> opaque;
  std::string qop;                    // as sent (it enters the hash); empty when absent
  std::optional<DigestQop> qop_kind;  // parsed qop; set exactly when qop is present
  std::string nc;                     // as sent, 8 hex digits (it enters the hash); empty if absent
  std::uint32_t nc_value = 0;         // nc as a number
  bool userhash = false;

  // The username the client names: username* when present, else username.
  const std::string& user() const noexcept { return username_star ? *username_star : *username; }
};

struct DigestParseResult {
  std::optional<DigestParams> params;  // set on success
  std::string error;                   // set on failure; never contains a parameter value
  bool ok() const noexcept { return params.has_value(); }
};

// Parses the part of `Authorization: Digest <params>` after the scheme (see
// split_authorization). Unknown parameters are ignored (RFC 7616 §3.4) but still count towards
// the limits and the duplicate check.
DigestParseResult parse_digest_params(std::string_view input);

// RFC 7616 §3.3 WWW-Authenticate value:
//   Digest realm="..", qop="auth, auth-int", algorithm=SHA-256, nonce="..", opaque="..",
//   charset=UTF-8, userhash=true[, stale=true]
// qop is left out when `qops` is empty, opaque when empty, userhash and stale when false.
std::string digest_challenge(std::string_view realm, DigestAlgorithm algorithm,
                             std::span<const DigestQop> qops, std::string_view nonce,
                             std::string_view opaque, bool stale, bool userhash);

}  // namespace gatehouse::schemes
