// A SPNEGO client: GET a URL with the Kerberos ticket from the default ccache (kinit first),
// requiring the server to authenticate itself too (docs/negotiate.md).
//   client_negotiate http://127.0.0.1:8080/protected
#include <iostream>

#include "gatehouse/client.hpp"

int main(int argc, char** argv) {
  namespace gc = gatehouse::client;
  if (argc != 2) {
    std::cerr << "usage: client_negotiate URL\n";
    return 2;
  }
  try {
    gc::NegotiateOptions options;
    options.mutual_authentication = gc::MutualAuthentication::required;
    gc::Client client;
    client.set_auth(gc::negotiate_auth(options));
    const auto response = client.get(argv[1]);
    std::cout << response.status << ' ' << response.reason << '\n' << response.body;
    return response.status < 400 ? 0 : 1;
  } catch (const gc::Error& e) {  // SpnegoExchangeError, MutualAuthenticationError, transport
    std::cerr << "client_negotiate: " << e.what() << '\n';
    return 1;
  }
}
