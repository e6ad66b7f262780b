// API keys (gatehouse's `Apikey` scheme, auth-adventures' query parameter): `Authorization:
// Apikey KEY`, `X-API-Key: KEY` or `?api_key=KEY`. A key in the query ends up in access logs and
// browser history, so it is only sent over https unless the caller allows otherwise.
#include <memory>
#include <string>

#include "client/auth_util.hpp"
#include "gatehouse/client.hpp"
#include "util/encoding.hpp"

namespace gatehouse::client {
namespace {

struct ApiKeyConfig {
  Secret key;
  ApiKeyPlacement placement;
  bool allow_insecure_query;
};

class ApiKeyFlow final : public AuthFlow {
 public:
  explicit ApiKeyFlow(std::shared_ptr<const ApiKeyConfig> config) : config_(std::move(config)) {}

  void prepare(Request& request) override {
    sent_ = true;
    const std::string key(config_->key.reveal());
    switch (config_->placement) {
      case ApiKeyPlacement::authorization:
        request.set_header("Authorization", "Apikey " + key);
        return;
      case ApiKeyPlacement::x_api_key:
        request.set_header("X-API-Key", key);
        return;
      case ApiKeyPlacement::query: {
        if (!config_->allow_insecure_query && !detail::is_https(request.url)) {
          throw RequestError(
              "API key: refusing to put the key in the query of a plain http:// URL "
              "(allow_insecure_query to override)");
        }
        auto url = detail::with_query_param(request.url, "api_key", key);
        if (!url) throw RequestError("API key: cannot add the query parameter to the URL");
        request.url = std::move(*url);
        return;
      }
    }
  }

  // The key goes with every request; a 401 is answered only when nothing was sent yet (auto_auth
  // starts this flow after the server's challenge).
  Next on_response(Request&, Response& response) override {
    return (response.status == 401 && !sent_) ? Next::retry : Next::done;
  }

 private:
  std::shared_ptr<const ApiKeyConfig> config_;
  bool sent_ = false;
};

class ApiKeyAuth final : public Auth {
 public:
  explicit ApiKeyAuth(ApiKeyConfig config)
      : config_(std::make_shared<const ApiKeyConfig>(std::move(config))) {}
  std::unique_ptr<AuthFlow> start(const Request&) override {
    return std::make_unique<ApiKeyFlow>(config_);
  }

 private:
  std::shared_ptr<const ApiKeyConfig> config_;
};

}  // namespace

std::shared_ptr<Auth> api_key_auth(Secret key, ApiKeyPlacement placement,
                                   bool allow_insecure_query) {
  if (key.empty() || util::has_control_chars(key.reveal())) {
    throw RequestError("API key: empty or with control characters");
  }
  return std::make_shared<ApiKeyAuth>(
      ApiKeyConfig{std::move(key), placement, allow_insecure_query});
}

}  // namespace gatehouse::client
