// Embedding gatehouse: a server with one public and one protected route, users from the config.
//   hello_server [PORT]     (default 8080; 0 picks a free port, printed on stdout)
#include <gatehouse/server.hpp>

#include <iostream>
#include <string>

int main(int argc, char** argv) {
  gatehouse::Config config;
  config.server.listen = {"127.0.0.1:" + std::string(argc > 1 ? argv[1] : "8080")};
  config.log.access = "";                 // no access log
  config.auth.schemes = {"basic"};        // Basic only
  config.auth.basic.stores = {"static"};  // users from the config, no database
  config.auth.static_users = {{"alice", "{PLAIN}wonderland", {"User"}},
                              {"root", "{PLAIN}toor", {"Admin", "User"}}};

  gatehouse::Server server(config);
  server.route("GET", "/hello", gatehouse::Access::anyone(),
               [](const gatehouse::Request&, const gatehouse::Identity*) {
                 return gatehouse::Response::json(200, R"({"hello":"world"})");
               });
  server.route("GET", "/me", gatehouse::Access::role("User"),
               [](const gatehouse::Request&, const gatehouse::Identity* who) {
                 return gatehouse::Response::json(200, "{\"user\":\"" + who->subject + "\"}");
               });
  server.route("GET", "/admin", gatehouse::Access::role("Admin"),
               [](const gatehouse::Request&, const gatehouse::Identity*) {
                 return gatehouse::Response::json(200, R"({"admin":true})");
               });
  server.start();
  std::cout << server.ports().front() << std::endl;
  return server.run();
}
