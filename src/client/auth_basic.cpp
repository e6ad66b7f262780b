// RFC 7617 Basic: `Authorization: Basic base64(user ":" password)`, user and password as UTF-8
// bytes (the charset="UTF-8" the gatehouse server and most others announce).
#include <openssl/crypto.h>

#include <memory>
#include <optional>
#include <string>

#include "client/auth_util.hpp"
#include "gatehouse/client.hpp"
#include "util/encoding.hpp"

namespace gatehouse::client {
namespace {

class BasicFlow final : public AuthFlow {
 public:
  BasicFlow(std::shared_ptr<const Secret> credentials, bool preemptive)
      : credentials_(std::move(credentials)), preemptive_(preemptive) {}

  void prepare(Request& request) override {
    if (!answering_ && !preemptive_) return;
    sent_ = true;
    request.set_header("Authorization", "Basic " + std::string(credentials_->reveal()));
  }

  // A 401 that offers Basic is answered once when nothing was sent yet (not preemptive, or
  // started by auto_auth after the response). Any other response, including a second 401 (a
  // wrong password), goes to the caller.
  Next on_response(Request&, Response& response) override {
    if (sent_) return Next::done;
    for (const auto& challenge : detail::origin_challenges(response).challenges) {
      if (challenge.is("Basic")) {
        answering_ = true;
        return Next::retry;
      }
    }
    return Next::done;
  }

 private:
  std::shared_ptr<const Secret> credentials_;  // base64(user ":" password)
  bool preemptive_;
  bool answering_ = false;  // a 401 offered Basic
  bool sent_ = false;
};

class BasicAuth final : public Auth {
 public:
  BasicAuth(Secret credentials, bool preemptive)
      : credentials_(std::make_shared<const Secret>(std::move(credentials))),
        preemptive_(preemptive) {}

  std::unique_ptr<AuthFlow> start(const Request&) override {
    return std::make_unique<BasicFlow>(credentials_, preemptive_);
  }

 private:
  std::shared_ptr<const Secret> credentials_;
  bool preemptive_;
};

}  // namespace

std::shared_ptr<Auth> basic_auth(std::string user, Secret password, bool preemptive) {
  // RFC 7617 §2: the user-id cannot contain ':'; neither part may contain control characters.
  if (user.find(':') != std::string::npos) {
    throw RequestError("Basic: the user name must not contain ':' (RFC 7617 §2)");
  }
  if (util::has_control_chars(user) || util::has_control_chars(password.reveal())) {
    throw RequestError("Basic: control characters in the user name or password (RFC 7617 §2)");
  }
  std::string joined;
  joined.reserve(user.size() + 1 + password.size());  // no reallocation leaves a copy behind
  joined.append(user).append(":").append(password.reveal());
  std::string encoded = util::base64_encode(joined);
  Secret credentials{encoded};
  OPENSSL_cleanse(joined.data(), joined.size());
  OPENSSL_cleanse(encoded.data(), encoded.size());
  return std::make_shared<BasicAuth>(std::move(credentials), preemptive);
}

}  // namespace gatehouse::client
