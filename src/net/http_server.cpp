// The only translation unit that includes Boost.Beast/Asio (they dominate build time).
#include "net/http_server.hpp"

#include <spdlog/spdlog.h>

#include "util/log.hpp"

#include <array>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <condition_variable>
#include <csignal>
#include <ctime>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_set>

namespace gatehouse::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;
// Concrete executor types instead of any_io_executor: no type-erased executor copies per op.
using Executor = asio::io_context::executor_type;
using Socket = asio::basic_stream_socket<tcp, Executor>;
using Acceptor = asio::basic_socket_acceptor<tcp, Executor>;
using reuse_port = asio::detail::socket_option::boolean<SOL_SOCKET, SO_REUSEPORT>;

std::optional<ListenAddress> parse_listen_address(std::string_view text) {
  std::string_view host, port;
  if (text.starts_with('[')) {
    const auto close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return std::nullopt;
    }
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else {
    const auto colon = text.rfind(':');
    if (colon == std::string_view::npos) return std::nullopt;
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) return std::nullopt;  // IPv6 needs brackets
  }
  if (host.empty() || port.empty() || port.size() > 5) return std::nullopt;
  unsigned value = 0;
  for (char c : port) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + static_cast<unsigned>(c - '0');
  }
  if (value > 65535) return std::nullopt;
  if (host != "localhost") {
    boost::system::error_code ec;
    asio::ip::make_address(std::string(host), ec);
    if (ec) return std::nullopt;
  }
  return ListenAddress{std::string(host), static_cast<std::uint16_t>(value)};
}

namespace {

constexpr std::size_t kReadChunk = 4096;

class Connection;

// RFC 9110 §7.2 / RFC 3986 §3.2.2: uri-host [ ":" port ]; empty is allowed (RFC 9112 §3.2).
bool valid_host(std::string_view v) {
  for (const char c : v) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    std::string_view("-._~%!$&'()*+,;=:[]").find(c) != std::string_view::npos;
    if (!ok) return false;
  }
  return true;
}

using SteadyTime = std::chrono::steady_clock::time_point;
// How often a worker looks for connections past their deadline, and so the precision of every
// timeout. Deadlines are plain numbers on the connection, checked by one timer per worker: no
// timer syscall per request (a per-operation timer re-arms the timerfd on every request).
constexpr auto kSweepInterval = std::chrono::milliseconds(250);

struct Worker {
  asio::io_context ioc{1};
  std::vector<std::unique_ptr<Acceptor>> acceptors;
  std::unordered_set<Connection*> connections;  // touched only on this worker's thread
  std::thread thread;
  asio::steady_timer sweep{ioc};
  SteadyTime now = std::chrono::steady_clock::now();  // refreshed by every sweep
};

struct Shared {
  Limits limits;
  RequestHandler handler;
  std::atomic<int> active{0};
  std::atomic<bool> draining{false};
};

// RFC 9110 §6.6.1 Date, formatted once per second per thread.
std::string_view http_date() {
  thread_local std::time_t cached_second = 0;
  thread_local char buffer[64];
  thread_local std::size_t length = 0;
  const std::time_t now = std::time(nullptr);
  if (now != cached_second) {
    std::tm tm{};
    gmtime_r(&now, &tm);
    length = std::strftime(buffer, sizeof buffer, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    cached_second = now;
  }
  return {buffer, length};
}

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(Socket&& socket, Worker& worker, Shared& shared)
      : socket_(std::move(socket)), worker_(worker), shared_(shared) {}
  ~Connection() { shared_.active.fetch_sub(1, std::memory_order_relaxed); }

  void start() {
    worker_.connections.insert(this);
    boost::system::error_code ec;
    const auto endpoint = socket_.remote_endpoint(ec);
    remote_ = ec ? std::string("unknown") : endpoint.address().to_string();
    socket_.set_option(tcp::no_delay(true), ec);
    wait_for_request();
  }

  // Called on this connection's thread when the server starts draining.
  void on_drain() {
    if (state_ == State::idle) socket_.cancel();
  }

  // Called by the worker's sweep: past the deadline, the pending operation is cancelled and its
  // handler sees operation_aborted with timed_out_ set.
  void check_deadline(SteadyTime now) {
    if (now < deadline_ || state_ == State::closed) return;
    deadline_ = SteadyTime::max();
    timed_out_ = true;
    beast::error_code ec;
    socket_.cancel(ec);
  }

 private:
  enum class State { idle, reading, handling, writing, closed };

  void wait_for_request() {
    if (shared_.draining.load(std::memory_order_relaxed)) return close();
    state_ = State::idle;
    if (buffer_.size() > 0) return read_request();  // pipelined bytes already buffered
    // Until the first byte: the idle timeout (keep-alive) or, for a new connection, read timeout.
    expires_after(first_request_ ? shared_.limits.read_timeout : shared_.limits.idle_timeout);
    socket_.async_read_some(buffer_.prepare(kReadChunk),
                            [self = shared_from_this()](beast::error_code ec, std::size_t n) {
                              if (ec) return self->close();
                              self->buffer_.commit(n);
                              self->read_request();
                            });
  }

  void read_request() {
    state_ = State::reading;
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(shared_.limits.max_header_bytes));
    parser_->body_limit(shared_.limits.max_body_bytes);
    // One deadline for the whole request, headers and body: a client dribbling bytes is cut off.
    expires_after(shared_.limits.read_timeout);
    http::async_read(
        socket_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_read(ec); });
  }

  void on_read(beast::error_code ec) {
    if (ec) return on_read_error(ec);
    state_ = State::handling;
    deadline_ = SteadyTime::max();
    auto& message = parser_->get();
    // RFC 9112 §6.3: with Transfer-Encoding, chunked must be the final coding; otherwise the
    // body length is unknown and its bytes would be parsed as the next request (smuggling).
    if (message.find(http::field::transfer_encoding) != message.end() && !message.chunked()) {
      return send_error(400, "invalid_request",
                        "Transfer-Encoding must end with chunked (RFC 9112 section 6.3)");
    }
    // RFC 9112 §3.2: an HTTP/1.1 request has exactly one Host, with a valid value.
    if (message.version() >= 11) {
      const auto host = message.find(http::field::host);
      if (message.count(http::field::host) != 1 || !valid_host(host->value())) {
        return send_error(400, "invalid_request", "exactly one valid Host header is required");
      }
    }
    keep_alive_ = message.keep_alive();
    http_version_ = message.version();
    head_ = message.method() == http::verb::head;

    request_.method = message.method_string();
    request_.target = message.target();
    const auto question = request_.target.find('?');
    request_.path = request_.target.substr(0, question);
    request_.query = question == std::string_view::npos ? std::string_view{}
                                                        : request_.target.substr(question + 1);
    request_.body = message.body();
    request_.remote_address = remote_;
    request_.headers.clear();
    for (const auto& field : message) {
      request_.headers.push_back({field.name_string(), field.value()});
    }
    request_.path_params.clear();

    pending_.emplace(asio::make_work_guard(worker_.ioc));
    shared_.handler(request_, [self = shared_from_this()](Response response) {
      asio::dispatch(
          self->socket_.get_executor(),
          [self, response = std::move(response)]() mutable { self->send(std::move(response)); });
    });
  }

  void on_read_error(beast::error_code ec) {
    if (ec == asio::error::operation_aborted && timed_out_) {
      // The sweep cut a request that did not arrive within read_timeout (a slow client).
      if (parser_ && (parser_->got_some() || buffer_.size() > 0)) {
        return send_error(408, "request_timeout", "the request was not received in time");
      }
      return close();
    }
    if (ec == http::error::end_of_stream || ec == asio::error::operation_aborted ||
        ec == asio::error::connection_reset || ec == asio::error::eof) {
      return close();
    }
    if (ec == http::error::header_limit) {
      return send_error(431, "request_header_fields_too_large",
                        "the request headers exceed " +
                            std::to_string(shared_.limits.max_header_bytes) + " bytes");
    }
    if (ec == http::error::body_limit) {
      return send_error(
          413, "content_too_large",
          "the request body exceeds " + std::to_string(shared_.limits.max_body_bytes) + " bytes");
    }
    if (ec.category() == http::make_error_code(http::error::bad_target).category()) {
      return send_error(400, "invalid_request", "malformed HTTP request: " + ec.message());
    }
    close();
  }

  void send_error(int status, std::string_view code, std::string description) {
    linger_ = true;
    keep_alive_ = false;
    head_ = false;
    auto response = Response::error(status, code, description);
    response.close = true;
    send(std::move(response));
  }

  void send(Response response) {
    pending_.reset();
    state_ = State::writing;
    const bool keep =
        keep_alive_ && !response.close && !shared_.draining.load(std::memory_order_relaxed);
    serialize(response, keep);
    expires_after(shared_.limits.read_timeout);
    asio::async_write(socket_, asio::buffer(out_),
                      [self = shared_from_this(), keep](beast::error_code ec, std::size_t) {
                        if (!ec && self->linger_) return self->linger_close();
                        if (ec || !keep) return self->close();
                        self->first_request_ = false;
                        self->wait_for_request();
                      });
  }

  // The response head and body into one buffer, written with a single send: cheaper than
  // Beast's serializer for the small responses this server makes (RFC 9112 §4, §6).
  void serialize(const Response& response, bool keep) {
    out_.clear();
    const std::string status = std::to_string(response.status);
    const std::string length = std::to_string(response.body.size());
    out_.append("HTTP/1.1 ").append(status).append(" ").append(reason_phrase(response.status));
    out_.append("\r\nServer: gatehouse\r\nDate: ").append(http_date());
    for (const auto& [name, value] : response.headers) {
      // Handlers build header values; refuse to let one smuggle a line break into the head.
      if (name.find_first_of("\r\n:") != std::string::npos ||
          value.find_first_of("\r\n") != std::string::npos) {
        util::diag().error("dropped response header with a line break: {}", name);
        continue;
      }
      out_.append("\r\n").append(name).append(": ").append(value);
    }
    out_.append("\r\nContent-Length: ").append(length);
    if (!keep) {
      out_.append("\r\nConnection: close");
    } else if (http_version_ < 11) {
      out_.append("\r\nConnection: keep-alive");
    }
    out_.append("\r\n\r\n");
    if (!head_) out_.append(response.body);  // HEAD: the GET length, no body
  }

  // After an early error answer (413, 431, 400) the client may still be sending: stop writing,
  // read and discard for a moment, then close, so it sees the answer rather than a reset.
  void linger_close() {
    beast::error_code ec;
    socket_.shutdown(tcp::socket::shutdown_send, ec);
    expires_after(std::chrono::seconds(1));
    discard_input();
  }
  void discard_input() {
    socket_.async_read_some(asio::buffer(discard_),
                            [self = shared_from_this()](beast::error_code ec, std::size_t n) {
                              self->discarded_ += n;
                              if (ec || self->discarded_ > kMaxDiscard) return self->close();
                              self->discard_input();
                            });
  }

  void close() {
    if (state_ == State::closed) return;
    state_ = State::closed;
    worker_.connections.erase(this);
    beast::error_code ec;
    socket_.shutdown(tcp::socket::shutdown_send, ec);
    socket_.close(ec);
  }

  void expires_after(std::chrono::steady_clock::duration d) {
    timed_out_ = false;
    deadline_ = worker_.now + d;
  }

  Socket socket_;
  SteadyTime deadline_ = SteadyTime::max();
  bool timed_out_ = false;
  Worker& worker_;
  Shared& shared_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::string out_;
  Request request_;
  std::string remote_;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> pending_;
  State state_ = State::idle;
  bool keep_alive_ = false;
  bool head_ = false;
  bool first_request_ = true;
  bool linger_ = false;
  unsigned http_version_ = 11;
  static constexpr std::size_t kMaxDiscard = 1 << 20;
  std::array<char, 4096> discard_{};
  std::size_t discarded_ = 0;
};

}  // namespace

struct HttpServer::Impl {
  std::vector<ListenAddress> listen;
  Shared shared;
  std::vector<std::unique_ptr<Worker>> workers;
  std::vector<std::uint16_t> ports;
  bool started = false;

  std::mutex stop_mutex;
  std::condition_variable stop_cv;
  bool stop_requested = false;

  void accept_on(Worker& worker, Acceptor& acceptor) {
    acceptor.async_accept(
        worker.ioc, [this, &worker, &acceptor](beast::error_code ec, Socket socket) {
          if (ec == asio::error::operation_aborted || !acceptor.is_open()) return;
          if (ec) {
            // Out of descriptors and the like: back off briefly instead of spinning.
            util::diag().warn("accept failed: {}", ec.message());
            auto timer =
                std::make_shared<asio::steady_timer>(worker.ioc, std::chrono::milliseconds(50));
            timer->async_wait([this, &worker, &acceptor, timer](beast::error_code) {
              if (!shared.draining) accept_on(worker, acceptor);
            });
            return;
          }
          const int now = shared.active.fetch_add(1, std::memory_order_relaxed) + 1;
          if (now > shared.limits.max_connections) {
            shared.active.fetch_sub(1, std::memory_order_relaxed);
            refuse(std::move(socket));
          } else {
            std::make_shared<Connection>(std::move(socket), worker, shared)->start();
          }
          accept_on(worker, acceptor);
        });
  }

  // Over the connection cap: a short 503 and close, without reading the request.
  static void refuse(Socket socket) {
    static constexpr std::string_view kBusy =
        "HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\nContent-Length: 0\r\n"
        "Connection: close\r\n\r\n";
    auto owned = std::make_shared<Socket>(std::move(socket));
    asio::async_write(*owned, asio::buffer(kBusy.data(), kBusy.size()),
                      [owned](beast::error_code, std::size_t) {
                        beast::error_code ignored;
                        owned->shutdown(tcp::socket::shutdown_send, ignored);
                        owned->close(ignored);
                      });
  }

  // Every kSweepInterval: refresh the worker's clock and cancel what is past its deadline.
  void sweep(Worker& worker) {
    worker.sweep.expires_after(kSweepInterval);
    worker.sweep.async_wait([this, &worker](beast::error_code ec) {
      if (ec) return;
      worker.now = std::chrono::steady_clock::now();
      for (Connection* c : worker.connections) c->check_deadline(worker.now);
      // While draining, stop once the last connection is gone so the worker's run() returns.
      if (!(shared.draining && worker.connections.empty())) sweep(worker);
    });
  }

  void drain() {
    shared.draining = true;
    for (auto& w : workers) {
      asio::post(w->ioc, [worker = w.get()] {
        beast::error_code ec;
        for (auto& a : worker->acceptors) a->close(ec);
        // Copy: on_drain may close a connection, which erases it from the set.
        const std::vector<Connection*> snapshot(worker->connections.begin(),
                                                worker->connections.end());
        for (auto* c : snapshot) c->on_drain();
      });
    }
  }
};

HttpServer::HttpServer(std::vector<ListenAddress> listen, int threads, Limits limits,
                       RequestHandler handler)
    : impl_(std::make_unique<Impl>()) {
  impl_->listen = std::move(listen);
  impl_->shared.limits = limits;
  impl_->shared.handler = std::move(handler);
  if (threads < 1) threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  for (int i = 0; i < threads; ++i) impl_->workers.push_back(std::make_unique<Worker>());
}

HttpServer::~HttpServer() {
  if (impl_->started) {
    stop();
    for (auto& w : impl_->workers) {
      w->ioc.stop();
      if (w->thread.joinable()) w->thread.join();
    }
  }
}

void HttpServer::start() {
  if (impl_->started) return;
  for (const auto& address : impl_->listen) {
    const auto ip =
        asio::ip::make_address(address.host == "localhost" ? "127.0.0.1" : address.host);
    std::uint16_t port = address.port;
    for (auto& worker : impl_->workers) {
      auto acceptor = std::make_unique<Acceptor>(worker->ioc.get_executor());
      const tcp::endpoint endpoint(ip, port);
      beast::error_code ec;
      acceptor->open(endpoint.protocol(), ec);
      if (!ec) acceptor->set_option(asio::socket_base::reuse_address(true), ec);
      if (!ec) acceptor->set_option(reuse_port(true), ec);
      if (!ec && ip.is_v6()) acceptor->set_option(asio::ip::v6_only(true), ec);
      if (!ec) acceptor->bind(endpoint, ec);
      if (!ec) acceptor->listen(asio::socket_base::max_listen_connections, ec);
      if (ec) {
        throw std::runtime_error("cannot listen on " + address.host + ":" + std::to_string(port) +
                                 ": " + ec.message());
      }
      port = acceptor->local_endpoint().port();  // port 0: every thread shares the chosen port
      worker->acceptors.push_back(std::move(acceptor));
    }
    impl_->ports.push_back(port);
  }
  for (auto& worker : impl_->workers) {
    for (auto& acceptor : worker->acceptors) impl_->accept_on(*worker, *acceptor);
    impl_->sweep(*worker);
    worker->thread = std::thread([w = worker.get()] {
      for (;;) {
        try {
          w->ioc.run();
          return;
        } catch (const std::exception& e) {
          util::diag().error("I/O thread: {}", e.what());  // a bug; keep the thread serving
        } catch (...) {
          util::diag().error("I/O thread: non-standard exception");
        }
      }
    });
  }
  impl_->started = true;
}

std::vector<std::uint16_t> HttpServer::ports() const {
  return impl_->ports;
}

int HttpServer::active_connections() const noexcept {
  return impl_->shared.active.load(std::memory_order_relaxed);
}

void HttpServer::stop() {
  {
    std::lock_guard lock(impl_->stop_mutex);
    impl_->stop_requested = true;
  }
  impl_->stop_cv.notify_all();
}

void HttpServer::run(bool handle_signals) {
  start();
  asio::io_context control;
  std::optional<asio::signal_set> signals;
  std::thread signal_thread;
  if (handle_signals) {
    signals.emplace(control, SIGINT, SIGTERM);
    signals->async_wait([this](beast::error_code ec, int signal) {
      if (ec) return;
      util::diag().info("signal {} received: draining", signal);
      stop();
    });
    signal_thread = std::thread([&control] { control.run(); });
  }
  {
    std::unique_lock lock(impl_->stop_mutex);
    impl_->stop_cv.wait(lock, [this] { return impl_->stop_requested; });
  }
  if (handle_signals) {
    asio::post(control, [&signals] { signals->cancel(); });
    signal_thread.join();
  }

  impl_->drain();
  // Each worker's run() returns once its in-flight requests are answered; past the drain
  // deadline the rest are cut.
  const auto deadline = std::chrono::steady_clock::now() + impl_->shared.limits.drain_timeout;
  for (auto& w : impl_->workers) {
    while (!w->ioc.stopped() && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
  for (auto& w : impl_->workers) {
    w->ioc.stop();
    if (w->thread.joinable()) w->thread.join();
  }
  impl_->started = false;
}

}  // namespace gatehouse::net
