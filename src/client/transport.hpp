#pragma once
// The client's wire: HTTP/1.1 over TCP or TLS, a keep-alive pool per route, proxies. The only
// client translation unit with Beast/Asio/OpenSSL; this header keeps them out.
//
// Threading: every operation of one Transport, and every completion it makes, runs on one strand
// of the io_context (a client is I/O bound; one strand means the pool and the exchanges of a
// client need no locks, whatever number of threads run the io_context).
#include <exception>
#include <functional>
#include <memory>
#include <string>

#include "client/url.hpp"
#include "gatehouse/client.hpp"

namespace boost::asio {
class io_context;
}

namespace gatehouse::client::detail {

class Transport {
 public:
  // RequestError for a malformed proxy in `options`.
  Transport(boost::asio::io_context& io, const Options& options);
  ~Transport();
  Transport(const Transport&) = delete;
  Transport& operator=(const Transport&) = delete;

  // Runs `fn` on the transport's strand, never inline. `fn` must not throw.
  void post(std::function<void()> fn);
  // True on a thread that is running the io_context (sync waits there would deadlock).
  bool io_running_in_this_thread() const;

  using Done = std::function<void(std::exception_ptr, Response)>;
  // One request and its response (no redirects, no auth) on a pooled or new connection through
  // the URL's proxy. Sets Host (unless given), User-Agent (unless given) and Content-Length.
  // A reused connection that fails before any byte of response is retried once on a new one for
  // idempotent methods. Errors: TimeoutError, TransportError. A proxy's 407 to CONNECT comes
  // back as the response (its body is not read). `done` runs exactly once, on the strand; the
  // Response's url is left empty.
  void async_exchange(const Url& url, const Request& request, Done done);
  // The proxy authority ("host:port") the URL goes through; empty when direct.
  std::string proxy_for(const Url& url) const;
  // Closes every idle and active connection (their exchanges fail with TransportError) and
  // refuses new exchanges. Asynchronous: takes effect on the strand.
  void shutdown();

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

// An io_context run by one owned thread until stop().
class IoThread {
 public:
  IoThread();
  ~IoThread();  // stop()
  boost::asio::io_context& io() noexcept;
  bool in_thread() const noexcept;
  // Lets run() return once no work is left, then joins. Idempotent.
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace gatehouse::client::detail
