// gatehouse_client_probe: drives gatehouse::client::Client from a JSON script, for the
// integration tests (tests/integration/*client*.py get its path in GATEHOUSE_CLIENT_PROBE).
//
// Input: one JSON document on stdin.
//   {"options": {"ca_file": "", "verify_tls": true, "timeout_ms": 30000,
//                "connect_timeout_ms": 10000, "follow_redirects": true, "max_redirects": 10,
//                "max_response_bytes": N, "max_idle_connections_per_origin": 8,
//                "keepalive_expiry_ms": 5000,
//                "user_agent": "...",
//                "use_env_proxies": false,          // true: start from options_from_environment()
//                "http_proxy": "", "https_proxy": "", "no_proxy": ""},   // override either way
//    "auth": {"kind": "none" | "static_header" | "retry_once" | "retry_always" | "renew" |
//             "throw" | <the scheme kinds in probe_auth.cpp>, ...fields of that kind},
//    "mode": "sync" | "async",     // default sync
//    "concurrency": N,             // default 1: the request list runs N times at once
//                                  //   (sync: N threads; async: N chains on one io_context)
//    "requests": [{"method": "GET", "url": "...", "headers": [["Name", "value"], ...],
//                  "body": "...", "auth": {...}}]}    // "auth" here overrides the client's
// Every member is optional except "requests".
//
// Output: one JSON document on stdout.
//   {"results": [ {"status": 200, "reason": "OK", "headers": [["name", "value"], ...],
//                  "body": "...", "url": "..."}        // "body_base64" instead when not UTF-8
//               | {"error": "TimeoutError", "message": "...", "response": {...}} ],
//    "refresh_count": n, "tokens": {...}}    // the last two only for a BearerAuth
// results[copy * len(requests) + i] is request i of copy `copy`. "error" is the most derived
// of SessionExpiredError, MutualAuthenticationError (with "response"), SpnegoExchangeError,
// TimeoutError, TransportError, RequestError, Error, std::exception.
// Exit status: 0 whatever the requests did; 2 for bad input JSON (message on stderr).
#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>

#include <iostream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "gatehouse/client.hpp"
#include "probe_auth.hpp"
#include "util/encoding.hpp"

namespace json = boost::json;
using namespace gatehouse::client;

namespace {

// RFC 3629 §4 (the JSON output must decode as UTF-8; anything else goes out as base64).
bool valid_utf8(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    const std::size_t extra = c < 0x80             ? 0
                              : (c & 0xE0) == 0xC0 ? 1
                              : (c & 0xF0) == 0xE0 ? 2
                              : (c & 0xF8) == 0xF0 ? 3
                                                   : 4;
    if (extra == 4 || c == 0xC0 || c == 0xC1 || c > 0xF4 || i + extra >= s.size()) return false;
    for (std::size_t k = 1; k <= extra; ++k) {
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
    }
    if (extra > 0) {
      const auto d = static_cast<unsigned char>(s[i + 1]);
      if ((c == 0xE0 && d < 0xA0) || (c == 0xED && d >= 0xA0) || (c == 0xF0 && d < 0x90) ||
          (c == 0xF4 && d >= 0x90))
        return false;
    }
    i += extra + 1;
  }
  return true;
}

json::array headers_json(const Headers& headers) {
  json::array out;
  for (const auto& [name, value] : headers)
    out.push_back(json::array{json::string(name), json::string(value)});
  return out;
}

json::object response_json(const Response& response) {
  json::object out;
  out["status"] = response.status;
  out["reason"] = response.reason;
  out["headers"] = headers_json(response.headers);
  if (valid_utf8(response.body)) {
    out["body"] = response.body;
  } else {
    out["body_base64"] = gatehouse::util::base64_encode(response.body);
  }
  out["url"] = response.url;
  return out;
}

json::object error_json(std::exception_ptr error) {
  json::object out;
  const auto set = [&](const char* type, const std::exception& e) {
    out["error"] = type;
    out["message"] = e.what();
  };
  try {
    std::rethrow_exception(error);
  } catch (const SessionExpiredError& e) {
    set("SessionExpiredError", e);
  } catch (const MutualAuthenticationError& e) {
    set("MutualAuthenticationError", e);
    out["response"] = response_json(e.response());
  } catch (const SpnegoExchangeError& e) {
    set("SpnegoExchangeError", e);
  } catch (const TimeoutError& e) {
    set("TimeoutError", e);
  } catch (const TransportError& e) {
    set("TransportError", e);
  } catch (const RequestError& e) {
    set("RequestError", e);
  } catch (const Error& e) {
    set("Error", e);
  } catch (const std::exception& e) {
    set("std::exception", e);
  } catch (...) {
    out["error"] = "unknown";
    out["message"] = "";
  }
  return out;
}

const json::value* member(const json::object& o, std::string_view name) {
  return o.if_contains(name);
}

std::string string_or(const json::object& o, std::string_view name, std::string fallback) {
  const auto* v = member(o, name);
  if (v == nullptr) return fallback;
  if (!v->is_string()) throw std::invalid_argument(std::string(name) + ": want a string");
  return std::string(v->as_string());
}

std::int64_t int_or(const json::object& o, std::string_view name, std::int64_t fallback) {
  const auto* v = member(o, name);
  if (v == nullptr) return fallback;
  if (!v->is_int64() && !v->is_uint64())
    throw std::invalid_argument(std::string(name) + ": want an integer");
  return v->to_number<std::int64_t>();
}

bool bool_or(const json::object& o, std::string_view name, bool fallback) {
  const auto* v = member(o, name);
  if (v == nullptr) return fallback;
  if (!v->is_bool()) throw std::invalid_argument(std::string(name) + ": want true or false");
  return v->as_bool();
}

Options make_options(const json::object& o) {
  Options options = bool_or(o, "use_env_proxies", false) ? options_from_environment() : Options{};
  options.ca_file = string_or(o, "ca_file", options.ca_file);
  options.verify_tls = bool_or(o, "verify_tls", options.verify_tls);
  options.timeout = std::chrono::milliseconds(int_or(o, "timeout_ms", options.timeout.count()));
  options.connect_timeout =
      std::chrono::milliseconds(int_or(o, "connect_timeout_ms", options.connect_timeout.count()));
  options.follow_redirects = bool_or(o, "follow_redirects", options.follow_redirects);
  options.max_redirects = static_cast<int>(int_or(o, "max_redirects", options.max_redirects));
  options.max_response_bytes = static_cast<std::size_t>(
      int_or(o, "max_response_bytes", static_cast<std::int64_t>(options.max_response_bytes)));
  options.keepalive_expiry =
      std::chrono::milliseconds(int_or(o, "keepalive_expiry_ms", options.keepalive_expiry.count()));
  options.max_idle_connections_per_origin = static_cast<std::size_t>(
      int_or(o, "max_idle_connections_per_origin",
             static_cast<std::int64_t>(options.max_idle_connections_per_origin)));
  options.user_agent = string_or(o, "user_agent", options.user_agent);
  options.http_proxy = string_or(o, "http_proxy", options.http_proxy);
  options.https_proxy = string_or(o, "https_proxy", options.https_proxy);
  options.no_proxy = string_or(o, "no_proxy", options.no_proxy);
  return options;
}

Request make_request(const json::value& v) {
  if (!v.is_object()) throw std::invalid_argument("requests: want objects");
  const auto& o = v.as_object();
  Request request;
  request.method = string_or(o, "method", "GET");
  request.url = string_or(o, "url", "");
  request.body = string_or(o, "body", "");
  if (const auto* headers = member(o, "headers")) {
    if (!headers->is_array()) throw std::invalid_argument("headers: want [[name, value], ...]");
    for (const auto& h : headers->as_array()) {
      if (!h.is_array() || h.as_array().size() != 2 || !h.as_array()[0].is_string() ||
          !h.as_array()[1].is_string()) {
        throw std::invalid_argument("headers: want [[name, value], ...]");
      }
      request.headers.emplace_back(std::string(h.as_array()[0].as_string()),
                                   std::string(h.as_array()[1].as_string()));
    }
  }
  if (const auto* auth = member(o, "auth")) {
    if (!auth->is_object()) throw std::invalid_argument("auth: want an object");
    request.auth = gatehouse::client_probe::make_auth(auth->as_object()).auth;
  }
  return request;
}

}  // namespace

int main() {
  std::vector<Request> requests;
  Options options;
  gatehouse::client_probe::ProbeAuth auth;
  std::string mode;
  std::size_t concurrency = 1;
  try {
    const std::string input{std::istreambuf_iterator<char>(std::cin),
                            std::istreambuf_iterator<char>()};
    const json::value doc = json::parse(input);
    if (!doc.is_object()) throw std::invalid_argument("want a JSON object");
    const auto& root = doc.as_object();
    static const json::object empty;
    const auto* opts = member(root, "options");
    options = make_options(opts != nullptr && opts->is_object() ? opts->as_object() : empty);
    if (const auto* a = member(root, "auth")) {
      if (!a->is_object()) throw std::invalid_argument("auth: want an object");
      auth = gatehouse::client_probe::make_auth(a->as_object());
    }
    mode = string_or(root, "mode", "sync");
    if (mode != "sync" && mode != "async") throw std::invalid_argument("mode: sync or async");
    concurrency =
        static_cast<std::size_t>(std::max<std::int64_t>(1, int_or(root, "concurrency", 1)));
    const auto* list = member(root, "requests");
    if (list == nullptr || !list->is_array())
      throw std::invalid_argument("requests: want an array");
    for (const auto& r : list->as_array()) requests.push_back(make_request(r));
  } catch (const std::exception& e) {
    std::cerr << "gatehouse_client_probe: bad input: " << e.what() << "\n";
    return 2;
  }

  const std::size_t n = requests.size();
  std::vector<json::value> results(n * concurrency);
  const auto record = [&](std::size_t slot, std::exception_ptr error, const Response& response) {
    results[slot] = error ? json::value(error_json(error)) : json::value(response_json(response));
  };
  std::shared_ptr<BearerAuth> bearer = auth.bearer;

  if (mode == "sync") {
    Client client(options);
    if (auth.auth) client.set_auth(auth.auth);
    std::vector<std::thread> threads;
    for (std::size_t copy = 0; copy < concurrency; ++copy) {
      threads.emplace_back([&, copy] {
        for (std::size_t i = 0; i < n; ++i) {
          try {
            record(copy * n + i, nullptr, client.send(requests[i]));
          } catch (...) {
            record(copy * n + i, std::current_exception(), {});
          }
        }
      });
    }
    for (auto& t : threads) t.join();
  } else {
    boost::asio::io_context io;
    {
      Client client(io, options);
      if (auth.auth) client.set_auth(auth.auth);
      // Each copy is a chain: request i+1 starts when request i completes.
      std::function<void(std::size_t, std::size_t)> next = [&](std::size_t copy, std::size_t i) {
        if (i == n) return;
        client.async_send(requests[i], [&, copy, i](std::exception_ptr error, Response response) {
          record(copy * n + i, error, response);
          next(copy, i + 1);
        });
      };
      for (std::size_t copy = 0; copy < concurrency; ++copy) next(copy, 0);
      io.run();
    }
    io.restart();
    io.run();  // the shutdown the Client's destructor posted
  }

  json::object out;
  out["results"] = json::array(results.begin(), results.end());
  if (bearer) {
    out["refresh_count"] = bearer->refresh_count();
    const TokenSet tokens = bearer->tokens();
    out["tokens"] = json::object{{"access_token", tokens.access_token.reveal()},
                                 {"refresh_token", tokens.refresh_token.reveal()},
                                 {"expires_at", tokens.expires_at},
                                 {"refresh_url", tokens.refresh_url}};
  }
  std::cout << json::serialize(out) << "\n";
  return 0;
}
