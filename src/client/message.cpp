// Request/Response header helpers, no_auth() and the default Auth::async_renew.
#include <algorithm>
#include <exception>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "gatehouse/client.hpp"
#include "gatehouse/http.hpp"

namespace gatehouse::client {
namespace {

const std::string* first_named(const Headers& headers, std::string_view name) noexcept {
  for (const auto& [key, value] : headers) {
    if (iequals(key, name)) return &value;
  }
  return nullptr;
}

class NoAuthFlow final : public AuthFlow {
 public:
  void prepare(Request&) override {}
  Next on_response(Request&, Response&) override { return Next::done; }
};

class NoAuth final : public Auth {
 public:
  std::unique_ptr<AuthFlow> start(const Request&) override {
    return std::make_unique<NoAuthFlow>();
  }
};

}  // namespace

const std::string* Request::header(std::string_view name) const noexcept {
  return first_named(headers, name);
}

void Request::set_header(std::string_view name, std::string value) {
  remove_header(name);
  headers.emplace_back(std::string(name), std::move(value));
}

void Request::remove_header(std::string_view name) {
  std::erase_if(headers, [&](const auto& field) { return iequals(field.first, name); });
}

const std::string* Response::header(std::string_view name) const noexcept {
  return first_named(headers, name);
}

std::vector<std::string> Response::headers_named(std::string_view name) const {
  std::vector<std::string> values;
  for (const auto& [key, value] : headers) {
    if (iequals(key, name)) values.push_back(value);
  }
  return values;
}

void Auth::async_renew(Client&, const Request&, std::function<void(std::exception_ptr)> done) {
  done(std::make_exception_ptr(SessionExpiredError("session expired: log in again")));
}

std::shared_ptr<Auth> no_auth() {
  static const auto instance = std::make_shared<NoAuth>();
  return instance;
}

}  // namespace gatehouse::client
