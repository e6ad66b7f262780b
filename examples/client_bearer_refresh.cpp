// A bearer client that refreshes its access token by itself: a 401 makes one refresh (for any
// number of concurrent requests) and a retry; a refused refresh is
// SessionExpiredError("session expired: log in again").
//   client_bearer_refresh BASE_URL ACCESS_TOKEN REFRESH_TOKEN
//   client_bearer_refresh http://127.0.0.1:8000 "$ACCESS" "$REFRESH"
#include <gatehouse/client.hpp>

#include <iostream>
#include <string>

int main(int argc, char** argv) {
  if (argc != 4) {
    std::cerr << "usage: client_bearer_refresh BASE_URL ACCESS_TOKEN REFRESH_TOKEN\n";
    return 2;
  }
  namespace gc = gatehouse::client;
  const std::string base = argv[1];
  try {
    gc::Client client;
    auto tokens =
        gc::TokenSet::gatehouse(base, gatehouse::Secret{argv[2]}, gatehouse::Secret{argv[3]});
    client.set_auth(gc::bearer_auth(tokens, [](const gc::TokenSet&) { /* save them */ }));
    const gc::Response response = client.get(base + "/auth/whoami");

    std::cout << response.status << " " << response.body << "\n";
  } catch (const gc::SessionExpiredError& e) {
    std::cerr << e.what() << "\n";  // "session expired: log in again"
    return 1;
  } catch (const gc::Error& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
