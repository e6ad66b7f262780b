// HTTP Digest (RFC 7616) with gatehouse's client: the strongest offered algorithm, nonce reuse
// and rspauth checking are automatic.
//   client_digest URL USER PASSWORD
//   client_digest http://127.0.0.1:8000/auth/whoami demo demo
#include <gatehouse/client.hpp>

#include <iostream>

int main(int argc, char** argv) {
  if (argc != 4) {
    std::cerr << "usage: client_digest URL USER PASSWORD\n";
    return 2;
  }
  namespace gc = gatehouse::client;
  try {
    gc::Client client;
    client.set_auth(gc::digest_auth(argv[2], gatehouse::Secret(argv[3])));
    gc::Request request;
    request.url = argv[1];
    for (int i = 0; i < 2; ++i) {  // the second request reuses the nonce: no 401 round trip
      const gc::Response response = client.send(request);
      std::cout << response.status << " " << response.body << "\n";
    }
  } catch (const gc::Error& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
