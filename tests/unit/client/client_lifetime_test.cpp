// Client lifetime: what Auth::async_renew receives outlives the caller's Client while the renewal
// is pending (a Client(io_context&) does not wait for its exchanges when destroyed).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <boost/asio/io_context.hpp>

#include <cstring>
#include <new>
#include <string>
#include <thread>

#include "gatehouse/client.hpp"

namespace gatehouse::client {
namespace {

// Answers every request on its connections with 401 and an empty body, until the peer closes.
class Always401 {
 public:
  Always401() {
    listener_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (listener_ < 0 || ::bind(listener_, reinterpret_cast<sockaddr*>(&addr), len) != 0 ||
        ::listen(listener_, 8) != 0 ||
        ::getsockname(listener_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      throw std::runtime_error("cannot listen on loopback");
    }
    url_ = "http://127.0.0.1:" + std::to_string(ntohs(addr.sin_port)) + "/";
    thread_ = std::thread([this] { serve(); });
  }
  ~Always401() {
    ::shutdown(listener_, SHUT_RDWR);
    thread_.join();
    ::close(listener_);
  }
  const std::string& url() const { return url_; }

 private:
  void serve() {
    for (;;) {
      const int fd = ::accept(listener_, nullptr, nullptr);
      if (fd < 0) return;
      std::string in;
      char buf[4096];
      for (;;) {
        const auto n = ::recv(fd, buf, sizeof buf, 0);
        if (n <= 0) break;
        in.append(buf, static_cast<std::size_t>(n));
        while (in.find("\r\n\r\n") != std::string::npos) {
          in.erase(0, in.find("\r\n\r\n") + 4);
          const std::string answer =
              "HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\nWWW-Authenticate: Bearer\r\n\r\n";
          if (::send(fd, answer.data(), answer.size(), MSG_NOSIGNAL) < 0) break;
        }
      }
      ::close(fd);
    }
  }
  int listener_ = -1;
  std::string url_;
  std::thread thread_;
};

// A 401 asks for renewal; async_renew keeps the Client it was given and its `done`, and the
// test sends the "refresh" through that Client later, as a deferred BearerAuth refresh would.
class DeferredRenewAuth final : public Auth {
 public:
  std::unique_ptr<AuthFlow> start(const Request&) override {
    struct Flow final : AuthFlow {
      void prepare(Request&) override {}
      Next on_response(Request&, Response& response) override {
        return response.status == 401 ? Next::renew : Next::done;
      }
    };
    return std::make_unique<Flow>();
  }
  void async_renew(Client& client, const Request&,
                   std::function<void(std::exception_ptr)> done) override {
    renew_client = &client;
    renew_done = std::move(done);
  }
  Client* renew_client = nullptr;
  std::function<void(std::exception_ptr)> renew_done;
};

TEST(ClientLifetime, RenewOutlivesTheCallersClient) {
  Always401 server;
  boost::asio::io_context io;
  alignas(Client) unsigned char storage[sizeof(Client)];
  auto* client = new (storage) Client(io, Options{});
  auto auth = std::make_shared<DeferredRenewAuth>();
  client->set_auth(auth);

  bool completed = false;
  std::string error;
  Request request;
  request.url = server.url();
  client->async_send(request, [&](std::exception_ptr e, Response) {
    completed = true;
    try {
      if (e) std::rethrow_exception(e);
    } catch (const std::exception& ex) {
      error = ex.what();
    }
  });
  while (auth->renew_client == nullptr && io.run_one() != 0) {
  }
  ASSERT_NE(auth->renew_client, nullptr);
  ASSERT_FALSE(completed);

  client->~Client();
  std::memset(storage, 0xA5, sizeof storage);  // as a freed and reused Client would look

  Request refresh;
  refresh.method = "POST";
  refresh.url = server.url();
  refresh.body = "refresh_token=r";
  std::string refresh_error;
  auth->renew_client->async_send(refresh,
                                 [&, done = auth->renew_done](std::exception_ptr e, Response) {
                                   try {
                                     if (e) std::rethrow_exception(e);
                                   } catch (const std::exception& ex) {
                                     refresh_error = ex.what();
                                   }
                                   done(e);
                                 });
  auth->renew_done = nullptr;
  auth->renew_client = nullptr;
  io.run();

  EXPECT_TRUE(completed);
  EXPECT_EQ(refresh_error, "the client was shut down");
  EXPECT_EQ(error, "the client was shut down");
}

// Destroying a Client(io_context&) while its renew is pending completes the exchange with
// "the client was shut down" once the Auth finishes.
TEST(ClientLifetime, DestroyedDuringRenewCompletes) {
  Always401 server;
  boost::asio::io_context io;
  auto auth = std::make_shared<DeferredRenewAuth>();
  bool completed = false;
  {
    Client client(io, Options{});
    client.set_auth(auth);
    Request request;
    request.url = server.url();
    client.async_send(request, [&](std::exception_ptr e, Response) { completed = e != nullptr; });
    while (auth->renew_client == nullptr && io.run_one() != 0) {
    }
    ASSERT_NE(auth->renew_client, nullptr);
  }
  auto done = std::move(auth->renew_done);
  auth->renew_client = nullptr;
  done(nullptr);  // renewed: the exchange resends through a client that is shut down
  io.run();
  EXPECT_TRUE(completed);
}

}  // namespace
}  // namespace gatehouse::client
