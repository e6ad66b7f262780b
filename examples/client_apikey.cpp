// API keys with gatehouse's client: `Authorization: Apikey KEY` (default), `X-API-Key: KEY`, or
// `?api_key=KEY` (https only, unless allowed: a key in a URL ends up in logs).
//   client_apikey URL KEY [header|x-api-key|query]
//   client_apikey http://127.0.0.1:8000/auth/whoami gh_... x-api-key
#include <gatehouse/client.hpp>

#include <iostream>
#include <string>

int main(int argc, char** argv) {
  if (argc < 3 || argc > 4) {
    std::cerr << "usage: client_apikey URL KEY [header|x-api-key|query]\n";
    return 2;
  }
  namespace gc = gatehouse::client;
  const std::string where = argc == 4 ? argv[3] : "header";
  auto placement = gc::ApiKeyPlacement::authorization;
  if (where == "x-api-key") placement = gc::ApiKeyPlacement::x_api_key;
  if (where == "query") placement = gc::ApiKeyPlacement::query;
  try {
    gc::Client client;
    client.set_auth(gc::api_key_auth(gatehouse::Secret(argv[2]), placement));
    gc::Request request;
    request.url = argv[1];
    const gc::Response response = client.send(request);
    std::cout << response.status << " " << response.body << "\n";
  } catch (const gc::Error& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
