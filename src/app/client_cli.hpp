#pragma once
// The client half of the `gatehouse` command line (docs/client-cli.md): `login`, `logout` and
// `request`. cli.cpp constructs ClientCommands on its CLI11 app before parsing and calls run()
// after. Exit codes: 0 ok (2xx, or 3xx with --no-follow), 1 HTTP error or request/auth failure,
// 2 usage error.
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace CLI {
class App;
}

namespace gatehouse::cli {

class ClientCommands {
 public:
  explicit ClientCommands(CLI::App& app);
  ~ClientCommands();
  ClientCommands(const ClientCommands&) = delete;
  ClientCommands& operator=(const ClientCommands&) = delete;
  // After a successful parse: the exit code when one of these commands ran, else nullopt.
  std::optional<int> run();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// What `-v` prints in place of secrets (exposed for tests).
// Authorization / Proxy-Authorization: the scheme and "****"; Cookie: each value; Set-Cookie:
// the value (attributes kept); X-API-Key and other key/token headers: "****".
std::string mask_header(std::string_view name, std::string_view value);
// The user-info password and the values of query parameters that carry credentials (api_key,
// access_token, …).
std::string mask_url(std::string_view url);
// JSON (any depth) or form bodies: the values of members named access_token, refresh_token,
// id_token, password, client_secret, device_code, token, api_key. Other bodies unchanged.
std::string mask_body(std::string_view body);
// `body` re-indented with two spaces per level (numbers and strings kept byte for byte), or
// nullopt when it is not JSON.
std::optional<std::string> pretty_json(std::string_view body);

}  // namespace gatehouse::cli
