// Fuzzes the WWW-Authenticate / Proxy-Authenticate parser (src/client/challenge.cpp) and the
// Digest client's choice of a challenge. Properties checked on every input:
// - bounded: never more than kMaxChallenges challenges;
// - a failure says why, and an accepted input yields challenges whose schemes are tokens;
// - every challenge has either a token68 or parameters, never both;
// - re-serializing the accepted challenges parses back to the same challenges;
// - a picked Digest challenge has a nonce, one of the offered Digest challenges' nonces.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "client/auth_digest.hpp"
#include "client/challenge.hpp"
#include "gatehouse/http.hpp"
#include "schemes/authorization_header.hpp"

namespace {

using gatehouse::client::Challenge;
using gatehouse::client::ChallengeList;

std::string serialize(const ChallengeList& list) {
  std::string out;
  for (const Challenge& c : list.challenges) {
    if (!out.empty()) out += ", ";
    out += c.scheme;
    if (!c.token68.empty()) {
      out += " " + c.token68;
      continue;
    }
    bool first = true;
    for (const auto& p : c.params) {
      out += first ? " " : ", ";
      first = false;
      out += p.name + "=" + gatehouse::quote_string(p.value);
    }
  }
  return out;
}

bool same(const ChallengeList& a, const ChallengeList& b) {
  if (a.challenges.size() != b.challenges.size()) return false;
  for (std::size_t i = 0; i < a.challenges.size(); ++i) {
    const Challenge& x = a.challenges[i];
    const Challenge& y = b.challenges[i];
    if (x.scheme != y.scheme || x.token68 != y.token68 || x.params.size() != y.params.size()) {
      return false;
    }
    for (std::size_t j = 0; j < x.params.size(); ++j) {
      if (x.params[j].name != y.params[j].name || x.params[j].value != y.params[j].value) {
        return false;
      }
    }
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const ChallengeList list = gatehouse::client::parse_challenges(input);
  if (list.challenges.size() > gatehouse::client::kMaxChallenges) __builtin_trap();
  for (const Challenge& c : list.challenges) {
    if (c.scheme.empty()) __builtin_trap();
    for (const char ch : c.scheme) {
      if (!gatehouse::schemes::is_tchar(ch)) __builtin_trap();
    }
    if (!c.token68.empty() && !c.params.empty()) __builtin_trap();
  }
  if (!list.ok() && list.error.empty()) __builtin_trap();
  if (list.ok()) {
    const ChallengeList again = gatehouse::client::parse_challenges(serialize(list));
    if (!again.ok() || !same(list, again)) __builtin_trap();
  }
  if (const auto picked = gatehouse::client::detail::pick_digest_challenge(list)) {
    if (picked->nonce.empty()) __builtin_trap();
    bool offered = false;
    for (const Challenge& c : list.challenges) {
      const std::string* nonce = c.is("Digest") ? c.param("nonce") : nullptr;
      if (nonce != nullptr && *nonce == picked->nonce) offered = true;
    }
    if (!offered) __builtin_trap();
  }
  return 0;
}
