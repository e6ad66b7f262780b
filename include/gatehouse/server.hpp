#pragma once
// Embedding gatehouse: build a Server from a Config, add routes with an access policy, run.
//
//   gatehouse::Config config;                       // defaults: 127.0.0.1:8000, db store
//   gatehouse::Server server(config);
//   server.route("GET", "/hello", gatehouse::Access::role("User"),
//                [](const gatehouse::Request&, const gatehouse::Identity* who) {
//                  return gatehouse::Response::json(200, "{\"hello\":\"" + who->subject + "\"}");
//                });
//   return server.run();                            // until SIGINT/SIGTERM, then drains
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "gatehouse/config.hpp"
#include "gatehouse/credential_store.hpp"
#include "gatehouse/http.hpp"
#include "gatehouse/identity.hpp"
#include "gatehouse/outcome.hpp"

namespace gatehouse {

// Who may call a route.
struct Access {
  // optional: credentials may be absent (the handler gets who == nullptr, e.g. to act as an
  // anonymous user); credentials that are present must be valid.
  enum class Kind { anyone, optional, authenticated, role };
  Kind kind = Kind::authenticated;
  std::string required_role;  // for Kind::role

  static Access anyone() { return {Kind::anyone, {}}; }
  static Access optional() { return {Kind::optional, {}}; }
  static Access authenticated() { return {Kind::authenticated, {}}; }
  static Access role(std::string r) { return {Kind::role, std::move(r)}; }
};

// `who` is null on Access::anyone routes, and on Access::optional ones without credentials.
using Handler = std::function<Response(const Request& request, const Identity* who)>;
// A handler whose answer needs slow work (a database write, a password hash): it calls `done`
// exactly once, from any thread (typically a worker). `request` and `who` stay valid until then.
using AsyncHandler =
    std::function<void(const Request& request, const Identity* who, Completion<Response> done)>;

class Server {
 public:
  // Opens the store (creating it on first start), builds schemes and stores from the config.
  // Throws ConfigError (every problem) or std::runtime_error (cannot open the store).
  explicit Server(Config config);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Adds a route; `pattern` may contain {name} segments. Call before start()/run().
  void route(std::string method, std::string pattern, Access access, Handler handler);
  void route_async(std::string method, std::string pattern, Access access, AsyncHandler handler);
  // Adds a credential store usable in [auth.basic] stores under its name().
  void add_store(StorePtr store);

  // Binds the listeners and starts the I/O threads; returns at once.
  void start();
  // Ports actually bound (useful with port 0), in listen order. Valid after start().
  std::vector<std::uint16_t> ports() const;
  // Blocks until stop() or SIGINT/SIGTERM, then drains in-flight requests. Calls start() if needed.
  int run();
  // Asks the server to drain and stop; safe from any thread and from signal context via run().
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace gatehouse
