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

// RFC 9110 §11.6.1: the challenges of a 401's WWW-Authenticate fields (unparsable parts left
// out); empty for any other status. Basic, Digest and auto answer only these: the origin's user
// and password are never offered to a proxy's 407 (anyone on the path can send one, and a
// CONNECT would carry them in clear). Proxy credentials come from the proxy URL (transport) or
// from Negotiate (HTTP@proxy).
ChallengeList origin_challenges(const Response& response);

}  // namespace gatehouse::client::detail
