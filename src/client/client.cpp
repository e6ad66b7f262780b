// Client: the exchange loop (auth flows, retries, renewal, redirects) over detail::Transport.
// Every step of an exchange runs on the transport's strand, so an Exchange needs no lock.
#include <openssl/crypto.h>

#include <atomic>
#include <cstdlib>
#include <future>
#include <mutex>

#include "client/log.hpp"
#include "client/transport.hpp"
#include "client/url.hpp"
#include "gatehouse/client.hpp"
#include "gatehouse/http.hpp"

namespace gatehouse::client {
namespace {

constexpr int kMaxSendsPerHop = 6;

bool is_redirect(unsigned status) {
  return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

void drop_body(Request& request) {
  if (!request.body.empty()) OPENSSL_cleanse(request.body.data(), request.body.size());
  request.body.clear();
  for (std::string_view name :
       {"Content-Type", "Content-Length", "Content-Encoding", "Transfer-Encoding"}) {
    request.remove_header(name);
  }
}

}  // namespace

Options options_from_environment() {
  return detail::options_from([](const char* name) { return std::getenv(name); });
}

namespace {

// The credentials, body and URL of an exchange's request copies are overwritten when the exchange
// is done with them, before their memory goes back to the allocator (the caller's own Request is
// the caller's to manage).
void wipe(std::string& s) noexcept {
  if (!s.empty()) OPENSSL_cleanse(s.data(), s.size());
}
void wipe(Request& request) noexcept {
  for (auto& [name, value] : request.headers) {
    if (iequals(name, "authorization") || iequals(name, "proxy-authorization") ||
        iequals(name, "x-api-key") || iequals(name, "cookie")) {
      wipe(value);
    }
  }
  wipe(request.body);
  // The API key may sit in the query (ApiKeyPlacement::query).
  wipe(request.url);
}

// Client::Impl's state, outside the class so the exchange machinery below can name it.
struct Core : std::enable_shared_from_this<Core> {
  Core(boost::asio::io_context* caller_io, Options o) : options(std::move(o)) {
    if (caller_io == nullptr) {
      owned = std::make_unique<detail::IoThread>();
      caller_io = &owned->io();
    }
    transport = std::make_unique<detail::Transport>(*caller_io, options);
  }

  std::shared_ptr<Auth> current_auth() const {
    std::lock_guard lock(mutex);
    return auth;
  }

  const Options options;
  std::unique_ptr<detail::IoThread> owned;  // null when the caller runs the io_context
  std::unique_ptr<detail::Transport> transport;
  mutable std::mutex mutex;
  std::shared_ptr<Auth> auth;          // guarded by mutex
  std::atomic<bool> shut_down{false};  // the caller's Client is gone
  // What Auth::async_renew receives: a Client that shares this core and lives as long as it,
  // so as long as any exchange (which holds the core) is pending, even after the caller's Client
  // is destroyed (its sends then fail with "the client was shut down"). Destroying it does
  // nothing. Last member: destroyed first.
  const Client* facade_address = nullptr;
  std::unique_ptr<Client> facade;
};

// One call of async_send: every hop (redirect) and every send of each hop.
struct Exchange : std::enable_shared_from_this<Exchange> {
  std::shared_ptr<Core> client;
  Request request;  // the caller's, as changed by redirects
  Request wire;     // what this hop sends: `request` as prepared by the hop's flow
  Client::Handler handler;
  detail::Url url;
  detail::Url original_url;
  std::shared_ptr<Auth> auth;  // the caller's (request.auth, else the client's, else none)
  std::unique_ptr<AuthFlow> flow;
  int sends = 0;  // in this hop
  int redirects = 0;
  bool renewed = false;
  bool completed = false;

  void start() {
    try {
      check_request(request);
      url = detail::parse_url(request.url);
      original_url = url;
      auth = request.auth ? request.auth : client->current_auth();
      if (!auth) auth = no_auth();
      flow = auth->start(request);
      wire = request;
      if (flow->renew_before_send()) {
        // The request as the flow would send it names the stale credential, so a renewal that
        // another exchange finished meanwhile is not repeated (BearerAuth compares tokens).
        flow->prepare(wire);
        renewed = true;
      }
    } catch (...) {
      return finish(std::current_exception(), {});
    }
    if (renewed) return renew({});
    send();
  }

  static void check_request(const Request& request) {
    detail::check_method(request.method);
    for (const auto& [name, value] : request.headers) detail::check_header(name, value);
  }

  void send() {
    try {
      flow->prepare(wire);
      if (wire.url != url.str()) {  // a flow may edit the URL (the API key's query parameter)
        detail::Url edited = detail::parse_url(wire.url);
        if (!detail::same_origin(edited, url)) {
          throw RequestError("an auth flow must not move the request to another origin");
        }
        url = std::move(edited);
      }
      check_request(wire);
    } catch (...) {
      return finish(std::current_exception(), {});
    }
    ++sends;
    client->transport->async_exchange(
        url, wire, [self = shared_from_this()](std::exception_ptr error, Response response) {
          self->on_response(error, std::move(response));
        });
  }

  void on_response(std::exception_ptr error, Response response) {
    if (error) return finish(error, {});
    response.url = url.str();
    Next next = Next::done;
    try {
      next = flow->on_response(wire, response);
    } catch (...) {
      return finish(std::current_exception(), {});
    }
    switch (next) {
      case Next::done:
        return follow_or_finish(std::move(response));
      case Next::retry:
        if (sends >= kMaxSendsPerHop) return finish(nullptr, std::move(response));
        return send();
      case Next::renew:
        if (renewed || sends >= kMaxSendsPerHop) return finish(nullptr, std::move(response));
        renewed = true;
        return renew(std::move(response));
    }
  }

  void renew(Response response) {
    if (client->shut_down) {
      return finish(std::make_exception_ptr(TransportError("the client was shut down")), {});
    }
    auto self = shared_from_this();
    auto once = std::make_shared<std::atomic<bool>>(false);
    try {
      // The facade stays valid while `done` is pending: the callback holds this exchange, which
      // holds the core that owns the facade.
      auth->async_renew(*client->facade, wire, [self, once](std::exception_ptr error) {
        if (once->exchange(true)) return;
        // Back onto the strand: the Auth may complete on any thread.
        self->client->transport->post([self, error] {
          if (error) return self->finish(error, {});
          self->send();
        });
      });
    } catch (...) {
      if (!once->exchange(true)) finish(std::current_exception(), {});
    }
  }

  // RFC 9110 §15.4: follow 301/302/303/307/308 with a Location.
  void follow_or_finish(Response response) {
    const std::string* location = response.header("Location");
    if (!client->options.follow_redirects || !is_redirect(response.status) || location == nullptr) {
      return finish(nullptr, std::move(response));
    }
    if (redirects >= client->options.max_redirects) {
      return finish(
          std::make_exception_ptr(TransportError("too many redirects (more than " +
                                                 std::to_string(client->options.max_redirects) +
                                                 ") from " + detail::redact_url(request.url))),
          {});
    }
    detail::Url next;
    try {
      next = detail::resolve_url(url, *location);
    } catch (const RequestError& e) {
      return finish(std::make_exception_ptr(TransportError(std::string("redirect: ") + e.what())),
                    {});
    }
    // A body (a password, a refresh token, a device code) is never re-sent to another origin:
    // a cross-origin 307/308 of a request with a body goes to the caller instead.
    if (!detail::same_origin(next, url) && (response.status == 307 || response.status == 308) &&
        !request.body.empty()) {
      client_log().debug("{} to another origin with a request body: not followed", response.status);
      return finish(nullptr, std::move(response));
    }
    ++redirects;
    // §15.4.4: 303 → GET without a body (HEAD stays HEAD); §15.4.2/§15.4.3: 301/302 after POST
    // → GET without a body, as browsers and httpx do; 307/308 keep method and body.
    if (response.status == 303 ||
        ((response.status == 301 || response.status == 302) && request.method == "POST")) {
      if (request.method != "HEAD") request.method = "GET";
      drop_body(request);
    }
    // Credentials never reach another origin (RFC 9110 §15.4 security notes; as curl and httpx).
    if (!detail::same_origin(next, url)) {
      request.remove_header("Authorization");
      request.remove_header("Cookie");
      request.remove_header("Host");
      if (client->transport->proxy_for(next) != client->transport->proxy_for(url)) {
        request.remove_header("Proxy-Authorization");
      }
    }
    client_log().debug("{} redirect {} -> {}", response.status, detail::redact_url(url.str()),
                       detail::redact_url(next.str()));
    url = std::move(next);
    request.url = url.str();
    sends = 0;
    try {
      // The auth flow runs only for the origin the caller addressed.
      flow =
          detail::same_origin(url, original_url) ? auth->start(request) : no_auth()->start(request);
    } catch (...) {
      return finish(std::current_exception(), {});
    }
    // Headers a flow set stay with their hop: each hop starts from the caller's request.
    wipe(wire);
    wire = request;
    send();
  }

  void finish(std::exception_ptr error, Response response) {
    if (completed) return;
    completed = true;
    flow.reset();
    wipe(wire);
    wipe(request);
    try {
      handler(error, std::move(response));
    } catch (const std::exception& e) {
      client_log().error("a client completion handler threw: {}", e.what());
    } catch (...) {
      client_log().error("a client completion handler threw");
    }
  }
};

}  // namespace

struct Client::Impl : Core {
  Impl(boost::asio::io_context* caller_io, Options o) : Core(caller_io, std::move(o)) {
    // Non-owning: the facade lives inside this Impl (an owning pointer would be a cycle).
    facade.reset(new Client(std::shared_ptr<Impl>(std::shared_ptr<Impl>(), this)));
    facade_address = facade.get();
  }
};

Client::Client(std::shared_ptr<Impl> impl) noexcept : impl_(std::move(impl)) {}

Client::Client(Options options) : impl_(std::make_shared<Impl>(nullptr, std::move(options))) {}

Client::Client(boost::asio::io_context& io, Options options)
    : impl_(std::make_shared<Impl>(&io, std::move(options))) {}

Client::~Client() {
  if (impl_->facade_address == this) return;
  impl_->shut_down = true;
  impl_->transport->shutdown();
  // Owned thread: pending exchanges fail ("shut down") and complete before the join returns.
  if (impl_->owned) impl_->owned->stop();
}

void Client::set_auth(std::shared_ptr<Auth> auth) {
  std::lock_guard lock(impl_->mutex);
  impl_->auth = std::move(auth);
}

std::shared_ptr<Auth> Client::auth() const {
  return impl_->current_auth();
}

const Options& Client::options() const noexcept {
  return impl_->options;
}

Response Client::get(std::string url, Headers headers) {
  Request request;
  request.url = std::move(url);
  request.headers = std::move(headers);
  return send(std::move(request));
}

Response Client::send(Request request) {
  const bool on_io_thread =
      impl_->owned ? impl_->owned->in_thread() : impl_->transport->io_running_in_this_thread();
  if (on_io_thread) {
    throw Error("Client::send() called on the client's I/O thread (use async_send)");
  }
  auto promise = std::make_shared<std::promise<Response>>();
  auto future = promise->get_future();
  async_send(std::move(request), [promise](std::exception_ptr error, Response response) {
    if (error) {
      promise->set_exception(error);
    } else {
      promise->set_value(std::move(response));
    }
  });
  return future.get();
}

void Client::async_send(Request request, Handler handler) {
  auto exchange = std::make_shared<Exchange>();
  exchange->client = impl_->shared_from_this();  // the facade's impl_ does not own the core
  exchange->request = std::move(request);
  exchange->handler = std::move(handler);
  impl_->transport->post([exchange] { exchange->start(); });
}

}  // namespace gatehouse::client
