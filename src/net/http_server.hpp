#pragma once
// The HTTP/1.1 server on Boost.Beast/Asio, behind a header free of Boost: one io_context per
// thread, each with its own SO_REUSEPORT acceptor per listen address; a connection lives on one
// thread. Enforces header/body size limits, read and idle timeouts, a connection cap, and drains
// gracefully on stop().
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "gatehouse/config.hpp"
#include "gatehouse/http.hpp"
#include "gatehouse/outcome.hpp"

namespace gatehouse::net {

struct Limits {
  std::size_t max_header_bytes = 16384;
  std::size_t max_body_bytes = 1048576;
  Duration read_timeout = std::chrono::seconds(15);
  Duration idle_timeout = std::chrono::seconds(60);
  Duration drain_timeout = std::chrono::seconds(10);
  int max_connections = 10000;
};

// Handles one request; must call `done` exactly once, from any thread.
using RequestHandler = std::function<void(Request& request, Completion<Response> done)>;

struct ListenAddress {
  std::string host;  // numeric IPv4/IPv6 or "localhost"
  std::uint16_t port = 0;
};
// "HOST:PORT" or "[V6]:PORT"; nullopt when malformed.
std::optional<ListenAddress> parse_listen_address(std::string_view text);

class HttpServer {
 public:
  HttpServer(std::vector<ListenAddress> listen, int threads, Limits limits, RequestHandler handler);
  ~HttpServer();

  // Binds every listener (throws std::runtime_error naming the address) and starts the threads.
  void start();
  std::vector<std::uint16_t> ports() const;
  // Blocks until stop() is called or, when handle_signals, SIGINT/SIGTERM arrives; then drains:
  // stops accepting, lets requests in flight finish (up to drain_timeout) and joins the threads.
  void run(bool handle_signals);
  void stop();  // thread-safe; wakes run()
  int active_connections() const noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace gatehouse::net
