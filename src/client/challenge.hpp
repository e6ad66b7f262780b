#pragma once
// Parser for WWW-Authenticate and Proxy-Authenticate (RFC 9110 §11.6.1, §11.7.1):
//
//   WWW-Authenticate = #challenge
//   challenge        = auth-scheme [ 1*SP ( token68 / #auth-param ) ]
//   auth-param       = token BWS "=" BWS ( token / quoted-string )
//
// Commas separate both the challenges and the parameters of one challenge, so a list element is
// a new challenge when it is a token NOT followed by "=" (RFC 9110 §11.6.1's note on parsing).
// Pure functions, bounded (kMaxChallenges, and parse_auth_params' limits per challenge), no
// exceptions for bad input.
#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "schemes/digest_params.hpp"

namespace gatehouse::client {

inline constexpr std::size_t kMaxChallenges = 32;  // over all fields of one response

struct Challenge {
  std::string scheme;                             // as sent; compare with is()
  std::string token68;                            // set when the challenge carries a token68
  std::vector<schemes::AuthParam> params;         // names lower-cased, values unquoted
  bool is(std::string_view name) const noexcept;  // case-insensitive scheme match
  const std::string* param(std::string_view lower_name) const noexcept;
};

struct ChallengeList {
  std::vector<Challenge> challenges;  // every complete, valid challenge, in order
  std::string error;                  // the first problem met; never echoes a value
  bool ok() const noexcept { return error.empty(); }
};

// One field value. On an error the challenges before the bad one are kept and parsing of this
// field stops (a challenge whose parameters cannot be read is dropped whole).
ChallengeList parse_challenges(std::string_view field_value);
// Several fields (a response may repeat the header); a bad field does not spoil the others.
ChallengeList parse_challenges(std::span<const std::string> field_values);

}  // namespace gatehouse::client
