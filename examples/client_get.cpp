// gatehouse's HTTP client, sync and async: `client_get URL` sends a GET with a custom header,
// first blocking, then asynchronously on the caller's io_context, and prints both statuses.
#include <boost/asio/io_context.hpp>

#include <exception>
#include <iostream>
#include <utility>

#include "gatehouse/client.hpp"

namespace client = gatehouse::client;

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: client_get URL\n";
    return 2;
  }
  const std::string url = argv[1];

  // Sync: the client owns its I/O thread; send() blocks and throws client::Error subclasses.
  try {
    client::Client http;  // options_from_environment(): http_proxy, https_proxy, no_proxy
    client::Request request;
    request.url = url;
    request.set_header("X-Example", "client_get");
    const client::Response response = http.send(request);
    std::cout << "sync: " << response.status << " " << response.reason << " ("
              << response.body.size() << " bytes)\n";
  } catch (const client::TimeoutError& e) {
    std::cerr << "sync: timed out: " << e.what() << "\n";
    return 1;
  } catch (const client::Error& e) {
    std::cerr << "sync: " << e.what() << "\n";
    return 1;
  }

  // Async: the client runs on our io_context; the handler gets an exception_ptr or a Response.
  boost::asio::io_context io;
  int status = 0;
  {
    client::Options options = client::options_from_environment();
    options.timeout = std::chrono::seconds(10);
    client::Client http(io, options);
    client::Request request;
    request.url = url;
    request.headers = {{"X-Example", "async"}};
    http.async_send(std::move(request), [&](std::exception_ptr error, client::Response response) {
      if (error) {
        try {
          std::rethrow_exception(error);
        } catch (const std::exception& e) {
          std::cerr << "async: " << e.what() << "\n";
        }
        return;
      }
      status = static_cast<int>(response.status);
      std::cout << "async: " << response.status << " " << response.reason << "\n";
    });
    io.run();
  }
  return status == 0 ? 1 : 0;
}
