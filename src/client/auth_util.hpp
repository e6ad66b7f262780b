#pragma once
// Pieces of a request URL and of a 401/407 response that every client auth handler needs.
#include <optional>
#include <string>
#include <string_view>

#include "client/challenge.hpp"
#include "gatehouse/client.hpp"

namespace gatehouse::client::detail {

// "http://host:port", scheme and host lower-cased, the default port made explicit; empty when
// `url` is not an absolute http or https URL.
std::string origin_of(std::string_view url);
// RFC 9112 §3.2.1 origin-form: the path ("/" when empty) and "?query", as sent on the wire (this
// is Digest's `uri`, RFC 7616 §3.4). Empty when `url` cannot be parsed.
std::string request_target(std::string_view url);
bool is_https(std::string_view url);
// `url` with the query parameter `name` set to `value` (percent-encoded; replaces earlier
// values). nullopt when `url` cannot be parsed.
std::optional<std::string> with_query_param(std::string_view url, std::string_view name,
                                            std::string_view value);

// RFC 9110 §11.6.1/§11.7.1: a 401 carries WWW-Authenticate and is answered with Authorization, a
// 407 Proxy-Authenticate and Proxy-Authorization. challenge_target answers only 401s: the
// origin's user and password are never offered to a proxy (anyone on the path can send a 407,
// and a CONNECT would carry them in clear). Proxy credentials come from the proxy URL
// (transport) or from Negotiate (HTTP@proxy), so a 407 here is nullopt.
enum class Target { origin, proxy };
std::optional<Target> challenge_target(unsigned status) noexcept;
std::string_view challenge_field(Target target) noexcept;
std::string_view credentials_field(Target target) noexcept;
// Every challenge of the response for `target` (unparsable parts left out).
ChallengeList challenges_of(const Response& response, Target target);

}  // namespace gatehouse::client::detail
