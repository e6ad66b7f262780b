// HTTP/1.1 client transport on Boost.Beast/Asio with OpenSSL: connections, TLS (RFC 6125 host
// checks via asio's host_name_verification), proxies (RFC 9110 §9.3.6 CONNECT, absolute-form
// targets per RFC 9112 §3.2.2) and the keep-alive pool.
#include "client/transport.hpp"

#include <openssl/crypto.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>
#include <poll.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <deque>
#include <optional>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "client/log.hpp"
#include "gatehouse/http.hpp"
#include "util/encoding.hpp"

namespace gatehouse::client::detail {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using boost::system::error_code;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
constexpr std::uint32_t kHeaderLimit = 64 * 1024;
using Strand = asio::strand<asio::io_context::executor_type>;
using Message = http::request<http::string_body>;
using Parser = http::response_parser<http::string_body>;

std::string ms(std::chrono::milliseconds d) {
  return std::to_string(d.count()) + " ms";
}

// host:port, always with the port (CONNECT's authority-form, RFC 9112 §3.2.3).
std::string host_port(const Url& url) {
  return (url.ipv6() ? "[" + url.host + "]" : url.host) + ":" + std::to_string(url.port);
}

bool is_ip_literal(const std::string& host) {
  error_code ec;
  asio::ip::make_address(host, ec);
  return !ec;
}

// RFC 9110 §9.2.2.
bool idempotent(std::string_view method) {
  for (std::string_view m : {"GET", "HEAD", "PUT", "DELETE", "OPTIONS", "TRACE"}) {
    if (method == m) return true;
  }
  return false;
}

void wipe(std::string_view s) noexcept {
  // The views come from buffers the caller owns and may write (Beast's field storage).
  if (!s.empty()) OPENSSL_cleanse(const_cast<char*>(s.data()), s.size());
}

bool credential_field(std::string_view name) noexcept {
  return iequals(name, "authorization") || iequals(name, "proxy-authorization") ||
         iequals(name, "x-api-key") || iequals(name, "cookie");
}

// Overwrites the credentials of a request header (and its target, which may hold an API key)
// before the memory is released; the serializer writes straight from these buffers.
template <class Header>
void wipe_header(Header& header) noexcept {
  for (const auto& field : header) {
    if (credential_field(field.name_string())) wipe(field.value());
  }
  wipe(header.target());
}

// The exchange's copies of a request: its Request and its Beast message.
struct WipeOnExit {
  WipeOnExit(Request& r, Message& m) noexcept : request(r), msg(m) {}
  Request& request;
  Message& msg;
  WipeOnExit(const WipeOnExit&) = delete;
  WipeOnExit& operator=(const WipeOnExit&) = delete;
  ~WipeOnExit() {
    wipe_header(msg.base());
    wipe(msg.body());
    for (const auto& [name, value] : request.headers) {
      if (credential_field(name)) wipe(value);
    }
    wipe(request.body);
    wipe(request.url);
  }
};

struct Conn {
  Conn(const Strand& strand, std::string key) : key(std::move(key)) { plain.emplace(strand); }
  std::string key;
  std::optional<beast::tcp_stream> plain;
  std::optional<ssl::stream<beast::tcp_stream>> tls;
  beast::flat_buffer buffer;
  std::string verify_error;  // the first certificate problem met during the handshake
  std::chrono::steady_clock::time_point idle_since;
  beast::tcp_stream& tcp() { return tls ? tls->next_layer() : *plain; }
  void close() {
    error_code ec;
    tcp().socket().shutdown(tcp::socket::shutdown_both, ec);
    tcp().close();
  }
  // An idle connection is usable while nothing is readable: readable means the peer closed
  // (EOF), reset, or sent bytes nobody asked for.
  bool idle_and_open() {
    if (!tcp().socket().is_open()) return false;
    pollfd p{tcp().socket().native_handle(), POLLIN, 0};
    return ::poll(&p, 1, 0) == 0;
  }
};

struct Route {
  std::string key;               // pool key
  const Proxy* proxy = nullptr;  // null: direct
  bool tunnel = false;           // https through `proxy` via CONNECT
  bool absolute_form = false;    // http through `proxy`
};

}  // namespace

struct Transport::Impl : std::enable_shared_from_this<Transport::Impl> {
  Impl(asio::io_context& io, const Options& o) : io(io), strand(asio::make_strand(io)), options(o) {
    if (!o.http_proxy.empty()) http_proxy = parse_proxy(o.http_proxy);
    if (!o.https_proxy.empty()) https_proxy = parse_proxy(o.https_proxy);
  }

  asio::io_context& io;
  Strand strand;
  const Options options;
  std::optional<Proxy> http_proxy;
  std::optional<Proxy> https_proxy;
  std::unique_ptr<ssl::context> tls_context;  // made on first https use
  std::unordered_map<std::string, std::deque<std::unique_ptr<Conn>>> idle;
  std::unordered_set<Conn*> active;
  bool closed = false;

  // Registers a connection as in use, so shutdown() can close it.
  struct InUse {
    InUse(Impl& impl, Conn& conn) : impl(impl), conn(&conn) { impl.active.insert(&conn); }
    ~InUse() { impl.active.erase(conn); }
    InUse(const InUse&) = delete;
    InUse& operator=(const InUse&) = delete;
    Impl& impl;
    Conn* conn;
  };

  Route route_for(const Url& url) const {
    Route route;
    const Proxy* proxy = url.https() ? (https_proxy ? &*https_proxy : nullptr)
                                     : (http_proxy ? &*http_proxy : nullptr);
    if (proxy && no_proxy_matches(options.no_proxy, url)) proxy = nullptr;
    route.proxy = proxy;
    if (!proxy) {
      route.key = url.scheme + "://" + host_port(url);
    } else if (url.https()) {
      route.tunnel = true;
      route.key = "https://" + host_port(url) + " via " + proxy->authority;
    } else {
      route.absolute_form = true;
      route.key = "proxy " + proxy->authority;
    }
    return route;
  }

  ssl::context& tls() {
    if (!tls_context) {
      auto ctx = std::make_unique<ssl::context>(ssl::context::tls_client);
      SSL_CTX_set_min_proto_version(ctx->native_handle(), TLS1_2_VERSION);
      error_code ec;
      if (options.ca_file.empty()) {
        ctx->set_default_verify_paths(ec);
      } else {
        ctx->load_verify_file(options.ca_file, ec);
      }
      if (ec && options.verify_tls) {
        throw TransportError("cannot load CA certificates" +
                             (options.ca_file.empty() ? std::string(" (system store)")
                                                      : " from " + options.ca_file) +
                             ": " + ec.message());
      }
      tls_context = std::move(ctx);
    }
    return *tls_context;
  }

  std::unique_ptr<Conn> take_idle(const std::string& key) {
    auto it = idle.find(key);
    if (it == idle.end()) return nullptr;
    auto& list = it->second;
    while (!list.empty()) {
      auto conn = std::move(list.back());
      list.pop_back();
      const bool expired =
          std::chrono::steady_clock::now() - conn->idle_since >= options.keepalive_expiry;
      if (!expired && conn->idle_and_open()) return conn;
      client_log().debug("dropping a pooled connection to {} ({})", key,
                         expired ? "idle longer than keepalive_expiry" : "the server closed it");
      conn->close();
    }
    return nullptr;
  }

  void put_idle(std::unique_ptr<Conn> conn) {
    auto& list = idle[conn->key];
    if (closed || list.size() >= options.max_idle_connections_per_origin) {
      conn->close();
      return;
    }
    conn->tcp().expires_never();
    conn->idle_since = std::chrono::steady_clock::now();
    list.push_back(std::move(conn));
  }

  [[noreturn]] void fail(error_code ec, const std::string& what, std::chrono::milliseconds limit) {
    if (closed) throw TransportError("the client was shut down");
    if (ec == beast::error::timeout) throw TimeoutError(what + " timed out after " + ms(limit));
    if (ec == ssl::error::stream_truncated) {
      throw TransportError(what +
                           ": the TLS peer closed the connection without close_notify: the "
                           "response may be truncated");
    }
    if (ec == http::error::body_limit) {
      throw TransportError(what + ": the response exceeds max_response_bytes (" +
                           std::to_string(options.max_response_bytes) + ")");
    }
    if (ec == http::error::header_limit) {
      throw TransportError(what + ": the response header exceeds " + std::to_string(kHeaderLimit) +
                           " bytes");
    }
    throw TransportError(what + ": " + ec.message());
  }

  Message make_message(const Url& url, const Route& route, const Request& request) const {
    Message msg;
    msg.version(11);
    msg.method_string(request.method);
    msg.target(route.absolute_form ? url.str() : url.target);
    bool has_host = false;
    bool has_agent = false;
    for (const auto& [name, value] : request.headers) {
      if (iequals(name, "content-length") || iequals(name, "transfer-encoding")) continue;
      // Proxy credentials go only to a proxy: on CONNECT when tunnelling, never to an origin.
      if (iequals(name, "proxy-authorization") && !route.absolute_form) continue;
      has_host = has_host || iequals(name, "host");
      has_agent = has_agent || iequals(name, "user-agent");
      msg.insert(name, value);
    }
    if (!has_host) msg.set(http::field::host, url.authority());
    if (!has_agent && !options.user_agent.empty()) {
      msg.set(http::field::user_agent, options.user_agent);
    }
    if (route.absolute_form && route.proxy->credentials &&
        request.header("Proxy-Authorization") == nullptr) {
      msg.set(http::field::proxy_authorization,
              "Basic " + util::base64_encode(*route.proxy->credentials));
    }
    msg.body() = request.body;
    msg.prepare_payload();
    return msg;
  }

  static Response to_response(http::response<http::string_body>&& msg) {
    Response response;
    response.status = msg.result_int();
    response.reason = std::string(msg.reason());
    for (const auto& field : msg) {
      response.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
    }
    response.body = std::move(msg.body());
    return response;
  }

  template <class Stream>
  asio::awaitable<error_code> roundtrip(Stream& stream, beast::flat_buffer& buffer, Message& msg,
                                        std::optional<Parser>& parser, bool head) {
    auto [write_ec, written] = co_await http::async_write(stream, msg, use_tuple);
    if (write_ec) co_return write_ec;
    for (;;) {
      parser.emplace();
      parser->body_limit(options.max_response_bytes);
      parser->header_limit(kHeaderLimit);
      if (head) parser->skip(true);
      // A TLS close without close_notify (ssl::error::stream_truncated) is an error here: a body
      // framed by Content-Length or chunked is complete before the close is read, and one ended
      // only by the close may have been cut by an attacker (RFC 9112 §9.8, RFC 8446 §6.1).
      auto [ec, read] = co_await http::async_read(stream, buffer, *parser, use_tuple);
      if (ec) co_return ec;
      const unsigned status = parser->get().result_int();
      // RFC 9110 §15.2: skip interim responses (101 ends HTTP/1.1 on this connection).
      if (status < 100 || status >= 200 || status == 101) co_return error_code{};
    }
  }

  // A new connection for `route`, through the proxy's CONNECT tunnel and the TLS handshake as
  // needed. Null with `refusal` set when the proxy answered CONNECT with 407.
  asio::awaitable<std::unique_ptr<Conn>> connect(const Url& url, const Route& route,
                                                 const Request& request,
                                                 std::optional<Response>& refusal) {
    auto conn = std::make_unique<Conn>(strand, route.key);
    InUse in_use(*this, *conn);
    const std::string& host = route.proxy ? route.proxy->host : url.host;
    const std::uint16_t port = route.proxy ? route.proxy->port : url.port;
    const std::string peer = route.proxy ? "proxy " + route.proxy->authority : host_port(url);
    const auto limit = options.connect_timeout;
    conn->tcp().expires_after(limit);

    std::vector<tcp::endpoint> endpoints;
    error_code ec;
    const auto address = asio::ip::make_address(host, ec);
    if (!ec) {
      endpoints.emplace_back(address, port);
    } else {
      // The system resolver cannot be interrupted; the timer makes the wait end on time.
      auto resolver = std::make_shared<tcp::resolver>(strand);
      auto timer = std::make_shared<asio::steady_timer>(strand, limit);
      auto timed_out = std::make_shared<bool>(false);
      timer->async_wait([resolver, timed_out](error_code e) {
        if (!e) {
          *timed_out = true;
          resolver->cancel();
        }
      });
      auto [resolve_ec, results] =
          co_await resolver->async_resolve(host, std::to_string(port), use_tuple);
      timer->cancel();
      if (*timed_out) throw TimeoutError("resolving " + host + " timed out after " + ms(limit));
      if (resolve_ec) fail(resolve_ec, "cannot resolve " + host, limit);
      for (const auto& entry : results) endpoints.push_back(entry.endpoint());
    }
    auto [connect_ec, endpoint] = co_await conn->plain->async_connect(endpoints, use_tuple);
    if (connect_ec) fail(connect_ec, "connecting to " + peer, limit);
    conn->plain->socket().set_option(tcp::no_delay(true), ec);

    if (route.tunnel) {
      http::request<http::empty_body> connect_msg{http::verb::connect, host_port(url), 11};
      connect_msg.set(http::field::host, host_port(url));
      if (!options.user_agent.empty()) connect_msg.set(http::field::user_agent, options.user_agent);
      if (const auto* given = request.header("Proxy-Authorization")) {
        connect_msg.set(http::field::proxy_authorization, *given);
      } else if (route.proxy->credentials) {
        connect_msg.set(http::field::proxy_authorization,
                        "Basic " + util::base64_encode(*route.proxy->credentials));
      }
      auto [write_ec, written] = co_await http::async_write(*conn->plain, connect_msg, use_tuple);
      wipe_header(connect_msg.base());
      if (write_ec) fail(write_ec, "CONNECT through " + peer, limit);
      http::response_parser<http::empty_body> answer;
      answer.skip(true);  // RFC 9110 §9.3.6: a 2xx to CONNECT has no body
      answer.header_limit(kHeaderLimit);
      auto [read_ec, read] =
          co_await http::async_read(*conn->plain, conn->buffer, answer, use_tuple);
      if (read_ec) fail(read_ec, "CONNECT through " + peer, limit);
      const unsigned status = answer.get().result_int();
      if (status == 407) {
        Response response;
        response.status = status;
        response.reason = std::string(answer.get().reason());
        for (const auto& field : answer.get()) {
          response.headers.emplace_back(std::string(field.name_string()),
                                        std::string(field.value()));
        }
        conn->close();
        refusal = std::move(response);
        co_return nullptr;
      }
      if (status < 200 || status > 299) {
        conn->close();
        throw TransportError(peer + " refused CONNECT to " + host_port(url) + ": " +
                             std::to_string(status) + " " + std::string(answer.get().reason()));
      }
      if (conn->buffer.size() != 0) {
        throw TransportError(peer + " sent data after its CONNECT response");
      }
    }

    if (url.https()) {
      auto& context = tls();
      conn->tls.emplace(std::move(*conn->plain), context);
      conn->plain.reset();
      auto& stream = *conn->tls;
      // RFC 6066 §3: SNI carries host names only, never an address.
      if (!is_ip_literal(url.host) &&
          !SSL_set_tlsext_host_name(stream.native_handle(), url.host.c_str())) {
        throw TransportError("TLS: cannot set the server name " + url.host);
      }
      if (options.verify_tls) {
        stream.set_verify_mode(ssl::verify_peer);
        Conn* raw = conn.get();
        stream.set_verify_callback([raw, host = url.host,
                                    check = ssl::host_name_verification(url.host)](
                                       bool preverified, ssl::verify_context& context) mutable {
          if (!preverified) {
            if (raw->verify_error.empty()) {
              raw->verify_error =
                  X509_verify_cert_error_string(X509_STORE_CTX_get_error(context.native_handle()));
            }
            return false;
          }
          if (!check(preverified, context)) {
            if (raw->verify_error.empty()) {
              raw->verify_error = "the certificate does not match the host name " + host;
            }
            return false;
          }
          return true;
        });
      } else {
        stream.set_verify_mode(ssl::verify_none);
      }
      auto [handshake_ec] = co_await stream.async_handshake(ssl::stream_base::client, use_tuple);
      if (handshake_ec) {
        if (!conn->verify_error.empty() && handshake_ec != beast::error::timeout) {
          throw TransportError("TLS certificate verification failed for " + url.host + ": " +
                               conn->verify_error);
        }
        fail(handshake_ec, "TLS handshake with " + host_port(url), limit);
      }
    }
    co_return conn;
  }

  static asio::awaitable<Response> exchange(std::shared_ptr<Impl> self, Url url, Request request) {
    auto& impl = *self;
    if (impl.closed) throw TransportError("the client was shut down");
    const Route route = impl.route_for(url);
    Message msg = impl.make_message(url, route, request);
    const WipeOnExit wipe_on_exit{request, msg};
    const bool head = request.method == "HEAD";
    const auto started = std::chrono::steady_clock::now();
    bool fresh_only = false;
    for (;;) {
      std::unique_ptr<Conn> conn = fresh_only ? nullptr : impl.take_idle(route.key);
      const bool reused = conn != nullptr;
      if (!conn) {
        std::optional<Response> refusal;
        conn = co_await impl.connect(url, route, request, refusal);
        if (refusal) {
          refusal->proxy = route.proxy ? route.proxy->host : std::string();
          co_return std::move(*refusal);
        }
      }
      std::optional<Parser> parser;
      error_code ec;
      {
        InUse in_use(impl, *conn);
        conn->tcp().expires_after(impl.options.timeout);
        if (conn->tls) {
          ec = co_await impl.roundtrip(*conn->tls, conn->buffer, msg, parser, head);
        } else {
          ec = co_await impl.roundtrip(*conn->plain, conn->buffer, msg, parser, head);
        }
      }
      if (ec) {
        conn->close();
        const bool got_some = parser && parser->got_some();
        // RFC 9112 §9.3.1: a reused connection may have been closed by the server meanwhile.
        if (!impl.closed && reused && !got_some && ec != beast::error::timeout &&
            idempotent(request.method)) {
          client_log().debug("{} {}: the reused connection failed ({}); retrying on a new one",
                             request.method, redact_url(url.str()), ec.message());
          fresh_only = true;
          continue;
        }
        impl.fail(ec, request.method + " " + redact_url(url.str()), impl.options.timeout);
      }
      const bool keep =
          parser->keep_alive() && conn->buffer.size() == 0 && parser->get().result_int() != 101;
      Response response = to_response(parser->release());
      if (route.proxy) response.proxy = route.proxy->host;
      if (keep) {
        impl.put_idle(std::move(conn));
      } else {
        conn->close();
      }
      if (client_log().should_log(spdlog::level::debug)) {
        const auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(
            std::chrono::steady_clock::now() - started);
        client_log().debug(
            "{} {} -> {} in {} ({} connection{}{})", request.method, redact_url(url.str()),
            response.status, ms(elapsed), reused ? "reused" : "new",
            route.proxy ? ", via proxy " + route.proxy->authority : "", keep ? "" : ", closed");
      }
      if (client_log().should_log(spdlog::level::trace)) {
        for (const auto& [name, value] : request.headers) {
          client_log().trace("> {}", header_for_log(name, value));
        }
        for (const auto& [name, value] : response.headers) {
          client_log().trace("< {}", header_for_log(name, value));
        }
      }
      co_return response;
    }
  }

  void shutdown() {
    closed = true;
    for (auto& [key, list] : idle) {
      for (auto& conn : list) conn->close();
    }
    idle.clear();
    for (Conn* conn : active) conn->close();
  }
};

Transport::Transport(asio::io_context& io, const Options& options)
    : impl_(std::make_shared<Impl>(io, options)) {}

Transport::~Transport() = default;

void Transport::post(std::function<void()> fn) {
  asio::post(impl_->strand, std::move(fn));
}

bool Transport::io_running_in_this_thread() const {
  return impl_->io.get_executor().running_in_this_thread();
}

void Transport::async_exchange(const Url& url, const Request& request, Done done) {
  asio::co_spawn(impl_->strand, Impl::exchange(impl_, url, request),
                 [done = std::move(done)](std::exception_ptr error, Response response) {
                   done(error, std::move(response));
                 });
}

std::string Transport::proxy_for(const Url& url) const {
  const Route route = impl_->route_for(url);
  return route.proxy ? route.proxy->authority : std::string();
}

void Transport::shutdown() {
  asio::post(impl_->strand, [impl = impl_] { impl->shutdown(); });
}

struct IoThread::Impl {
  asio::io_context io{1};
  asio::executor_work_guard<asio::io_context::executor_type> work{io.get_executor()};
  std::thread thread;
};

IoThread::IoThread() : impl_(std::make_unique<Impl>()) {
  impl_->thread = std::thread([io = &impl_->io] {
    for (;;) {
      try {
        io->run();
        return;
      } catch (const std::exception& e) {
        client_log().error("client I/O thread: {}", e.what());
      }
    }
  });
}

IoThread::~IoThread() {
  stop();
}

asio::io_context& IoThread::io() noexcept {
  return impl_->io;
}

bool IoThread::in_thread() const noexcept {
  return std::this_thread::get_id() == impl_->thread.get_id();
}

void IoThread::stop() {
  impl_->work.reset();
  if (impl_->thread.joinable()) impl_->thread.join();
}

}  // namespace gatehouse::client::detail
