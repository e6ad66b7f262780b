// Hand-written: Boost.Beast's http::param_list reads only `;`-separated parameters of one value
// and no library on this system parses the RFC 9110 challenge list, whose commas separate both
// challenges and parameters. The parameter list itself is read by schemes::parse_auth_params,
// the server's Digest parser; this file only finds where each challenge starts and ends.
#include "client/challenge.hpp"

#include "gatehouse/http.hpp"
#include "schemes/authorization_header.hpp"

namespace gatehouse::client {
namespace {

using schemes::is_tchar;

bool is_ows(char c) noexcept {
  return c == ' ' || c == '\t';
}

bool is_token68_char(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~' || c == '+' || c == '/';
}

std::size_t skip_ows(std::string_view in, std::size_t i) noexcept {
  while (i < in.size() && is_ows(in[i])) ++i;
  return i;
}

std::size_t skip_token(std::string_view in, std::size_t i) noexcept {
  while (i < in.size() && is_tchar(in[i])) ++i;
  return i;
}

// A token68 starting at i that ends the list element: token68 OWS ( "," / end ). Returns its
// end, or npos.
std::size_t token68_end(std::string_view in, std::size_t i) noexcept {
  std::size_t j = i;
  while (j < in.size() && is_token68_char(in[j])) ++j;
  if (j == i) return std::string_view::npos;
  while (j < in.size() && in[j] == '=') ++j;
  const std::size_t after = skip_ows(in, j);
  if (after < in.size() && in[after] != ',') return std::string_view::npos;
  return j;
}

// The end of an auth-param value starting at i (a token or a quoted-string), or npos when there
// is none. The quoted-string's content is checked later by parse_auth_params.
std::size_t value_end(std::string_view in, std::size_t i) noexcept {
  if (i < in.size() && in[i] == '"') {
    for (std::size_t j = i + 1; j < in.size(); ++j) {
      if (in[j] == '\\') {
        ++j;
      } else if (in[j] == '"') {
        return j + 1;
      }
    }
    return std::string_view::npos;
  }
  const std::size_t j = skip_token(in, i);
  return j == i ? std::string_view::npos : j;
}

// True when the list element at i is `token BWS "="`, i.e. an auth-param (not a new challenge).
bool starts_auth_param(std::string_view in, std::size_t i) noexcept {
  const std::size_t j = skip_token(in, i);
  if (j == i) return false;
  const std::size_t k = skip_ows(in, j);
  return k < in.size() && in[k] == '=';
}

}  // namespace

bool Challenge::is(std::string_view name) const noexcept {
  return iequals(scheme, name);
}

const std::string* Challenge::param(std::string_view lower_name) const noexcept {
  for (const auto& p : params) {
    if (p.name == lower_name) return &p.value;
  }
  return nullptr;
}

ChallengeList parse_challenges(std::string_view in) {
  ChallengeList list;
  std::size_t i = 0;
  const std::size_t n = in.size();
  while (true) {
    while (i < n && (is_ows(in[i]) || in[i] == ',')) ++i;  // empty list elements (§5.6.1)
    if (i == n) break;
    if (list.challenges.size() == kMaxChallenges) {
      list.error = "too many challenges";
      break;
    }
    const std::size_t scheme_start = i;
    i = skip_token(in, i);
    if (i == scheme_start) {
      list.error = "expected an auth-scheme";
      break;
    }
    Challenge challenge;
    challenge.scheme.assign(in.substr(scheme_start, i - scheme_start));
    if (i == n || in[i] == ',') {  // a scheme alone
      list.challenges.push_back(std::move(challenge));
      continue;
    }
    if (!is_ows(in[i])) {  // 1*SP (a tab is tolerated) between the scheme and the rest
      list.error = "expected a space after the auth-scheme";
      break;
    }
    i = skip_ows(in, i);
    if (i == n || in[i] == ',') {
      list.challenges.push_back(std::move(challenge));
      continue;
    }
    // token68 first: "abc==" would otherwise read as the parameter abc with the value "=".
    if (const std::size_t end = token68_end(in, i); end != std::string_view::npos) {
      challenge.token68.assign(in.substr(i, end - i));
      i = end;
      list.challenges.push_back(std::move(challenge));
      continue;
    }
    if (!starts_auth_param(in, i)) {
      list.error = "expected a token68 or auth-params after " + challenge.scheme;
      break;
    }
    // #auth-param: up to the first list element that is not `token BWS "="`.
    const std::size_t params_start = i;
    std::size_t params_end = i;
    bool bad = false;
    while (true) {
      std::size_t j = skip_token(in, i);
      j = skip_ows(in, j);
      ++j;  // '=' (starts_auth_param held)
      j = skip_ows(in, j);
      j = value_end(in, j);
      if (j == std::string_view::npos) {
        bad = true;
        break;
      }
      params_end = j;
      j = skip_ows(in, j);
      if (j < n && in[j] != ',') {
        bad = true;
        break;
      }
      while (j < n && (is_ows(in[j]) || in[j] == ',')) ++j;
      i = j;
      if (i == n || !starts_auth_param(in, i)) break;
    }
    if (bad) {
      list.error = "malformed parameters in the " + challenge.scheme + " challenge";
      break;
    }
    auto params = schemes::parse_auth_params(in.substr(params_start, params_end - params_start));
    if (!params.ok()) {
      list.error = challenge.scheme + " challenge: " + params.error;
      break;
    }
    challenge.params = std::move(params.params);
    list.challenges.push_back(std::move(challenge));
  }
  return list;
}

ChallengeList parse_challenges(std::span<const std::string> field_values) {
  ChallengeList all;
  for (const auto& value : field_values) {
    auto one = parse_challenges(value);
    for (auto& challenge : one.challenges) {
      if (all.challenges.size() == kMaxChallenges) {
        if (all.error.empty()) all.error = "too many challenges";
        return all;
      }
      all.challenges.push_back(std::move(challenge));
    }
    if (all.error.empty()) all.error = std::move(one.error);
  }
  return all;
}

}  // namespace gatehouse::client
