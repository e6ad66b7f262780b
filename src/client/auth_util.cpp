#include "client/auth_util.hpp"
#include "gatehouse/http.hpp"

#include <boost/url.hpp>

namespace gatehouse::client::detail {
namespace {}  // namespace

std::string origin_of(std::string_view url) {
  auto parsed = boost::urls::parse_absolute_uri(url);
  if (!parsed) return {};
  const std::string scheme = ascii_lower(parsed->scheme());
  if (scheme != "http" && scheme != "https") return {};
  std::string port = parsed->has_port() ? std::string(parsed->port()) : "";
  if (port.empty()) port = scheme == "https" ? "443" : "80";
  return scheme + "://" + ascii_lower(parsed->encoded_host()) + ":" + port;
}

std::string request_target(std::string_view url) {
  auto parsed = boost::urls::parse_absolute_uri(url);
  if (!parsed) return {};
  std::string target(parsed->encoded_path());
  if (target.empty()) target = "/";
  if (parsed->has_query()) {
    target += '?';
    target += parsed->encoded_query();
  }
  return target;
}

bool is_https(std::string_view url) {
  auto parsed = boost::urls::parse_absolute_uri(url);
  return parsed && ascii_lower(parsed->scheme()) == "https";
}

std::optional<std::string> with_query_param(std::string_view url, std::string_view name,
                                            std::string_view value) {
  // By hand on the encoded query: Boost.URL 1.81's params().set() corrupts the heap when it
  // replaces an existing parameter, and its erase(key) leaves encoded duplicates behind.
  auto parsed = boost::urls::parse_absolute_uri(url);
  if (!parsed) return std::nullopt;
  std::string query;
  std::string_view rest = parsed->encoded_query();
  while (parsed->has_query() && !rest.empty()) {
    const auto amp = rest.find('&');
    const std::string_view pair = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view{} : rest.substr(amp + 1);
    if (pair.substr(0, pair.find('=')) == name) continue;
    if (!query.empty()) query += '&';
    query += pair;
  }
  if (!query.empty()) query += '&';
  // RFC 3986 §2.3: unreserved bytes as is, everything else %XX.
  query += boost::urls::encode(name, boost::urls::unreserved_chars) + "=" +
           boost::urls::encode(value, boost::urls::unreserved_chars);
  boost::urls::url out(*parsed);
  out.set_encoded_query(query);
  return std::string(out.buffer());
}

ChallengeList origin_challenges(const Response& response) {
  if (response.status != 401) return {};
  return parse_challenges(response.headers_named("WWW-Authenticate"));
}

}  // namespace gatehouse::client::detail
