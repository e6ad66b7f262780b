// RFC 7616 Digest for the client. One DigestAuth is shared by the requests of a client: it keeps
// the last challenge per origin, so later requests answer it preemptively (as curl and httpx do)
// and save the 401 round trip, and one nonce count per nonce (RFC 7616 §3.4: nc counts the
// requests sent with a nonce), under a mutex. Each exchange's flow answers at most three
// challenges and never the same nonce twice, so a wrong password ends with the server's 401.
#include "client/auth_digest.hpp"

#include <boost/url/encode.hpp>
#include <boost/url/grammar/alnum_chars.hpp>
#include <boost/url/grammar/lut_chars.hpp>

#include <openssl/rand.h>

#include <array>
#include <cstdint>
#include <cstdio>
#include <deque>
#include <map>
#include <mutex>
#include <set>
#include <utility>

#include "client/auth_util.hpp"
#include "gatehouse/http.hpp"
#include "util/encoding.hpp"

namespace gatehouse::client::detail {
namespace {

using schemes::DigestAlgorithm;
using schemes::DigestQop;

constexpr std::size_t kMaxOrigins = 64;         // remembered challenges (one per origin)
constexpr std::size_t kMaxCountedNonces = 256;  // nonces whose count is remembered
constexpr int kMaxAnswers = 3;                  // challenges answered per exchange

int strength(DigestAlgorithm algorithm) noexcept {
  switch (schemes::base(algorithm)) {
    case DigestAlgorithm::md5:
      return 1;
    case DigestAlgorithm::sha256:
      return 2;
    case DigestAlgorithm::sha512_256:
      return 3;
    case DigestAlgorithm::md5_sess:
    case DigestAlgorithm::sha256_sess:
    case DigestAlgorithm::sha512_256_sess:
      break;
  }
  return 0;
}

std::string random_cnonce() {
  std::array<unsigned char, 16> bytes{};
  if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) {
    throw Error("Digest: no random bytes for the client nonce (OpenSSL RAND_bytes failed)");
  }
  return util::hex_encode(
      std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
}

std::string format_nc(std::uint32_t nc) {
  std::array<char, 9> buffer{};
  std::snprintf(buffer.data(), buffer.size(), "%08x", nc);
  return std::string(buffer.data(), 8);
}

bool needs_ext_value(std::string_view user) noexcept {
  for (const unsigned char c : user) {
    if (c < 0x20 || c >= 0x7F) return true;
  }
  return false;
}

// RFC 8187 ext-value for username* (RFC 7616 §3.4): UTF-8'' and attr-chars or %XX.
std::string ext_value(std::string_view value) {
  // attr-char (RFC 8187 §3.2.1): ALPHA / DIGIT / "!" / "#" / "$" / "&" / "+" / "-" / "." / "^" /
  // "_" / "`" / "|" / "~"; everything else is %XX.
  static constexpr boost::urls::grammar::lut_chars kAttrChars =
      boost::urls::grammar::lut_chars(boost::urls::grammar::alnum_chars) +
      boost::urls::grammar::lut_chars("!#$&+-.^_`|~");
  return "UTF-8''" + boost::urls::encode(value, kAttrChars);
}

std::optional<DigestQop> choose_qop(std::string_view offered) {
  bool auth = false, auth_int = false;
  while (!offered.empty()) {
    const auto comma = offered.find(',');
    const auto qop = schemes::parse_digest_qop(trim(offered.substr(0, comma)));
    if (qop == DigestQop::auth) auth = true;
    if (qop == DigestQop::auth_int) auth_int = true;
    if (comma == std::string_view::npos) break;
    offered.remove_prefix(comma + 1);
  }
  if (auth) return DigestQop::auth;
  if (auth_int) return DigestQop::auth_int;
  return std::nullopt;
}

bool is_true(const std::string* value) noexcept {
  return value != nullptr && iequals(*value, "true");
}

class DigestAuth;

// What one send carried, to check the server's rspauth (RFC 7616 §3.5).
struct Sent {
  DigestChallenge challenge;
  std::string session_ha1;
  std::string nc;
  std::string cnonce;
  std::string qop;
  std::string uri;
  bool answered = false;  // answered a challenge of this exchange (not a remembered one)
};

class DigestFlow final : public AuthFlow {
 public:
  DigestFlow(std::shared_ptr<DigestAuth> auth, std::string origin)
      : auth_(std::move(auth)), origin_(std::move(origin)) {}
  void prepare(Request& request) override;
  Next on_response(Request& request, Response& response) override;

 private:
  // Verifies rspauth (throws on a mismatch); returns the nextnonce, if any.
  std::optional<std::string> check_authentication_info(const Response& response);

  std::shared_ptr<DigestAuth> auth_;
  std::string origin_;
  std::optional<DigestChallenge> pending_;  // the challenge the next prepare() answers
  std::optional<Sent> sent_;
  bool answered_challenge_ = false;  // this exchange already answered a 401
  int answers_ = 0;
  std::set<std::string> nonces_sent_;
};

class DigestAuth final : public Auth, public std::enable_shared_from_this<DigestAuth> {
 public:
  DigestAuth(std::string user, Secret password, CnonceSource cnonce)
      : user_(std::move(user)), password_(std::move(password)), cnonce_(std::move(cnonce)) {}

  std::unique_ptr<AuthFlow> start(const Request& request) override {
    return std::make_unique<DigestFlow>(shared_from_this(), origin_of(request.url));
  }

  const std::string& user() const noexcept { return user_; }
  const Secret& password() const noexcept { return password_; }
  std::string cnonce() const { return cnonce_ ? cnonce_() : random_cnonce(); }

  // Remembers `challenge` as the origin's current one (answered preemptively from now on).
  void remember(const std::string& origin, const DigestChallenge& challenge) {
    if (origin.empty()) return;
    const std::lock_guard lock(mutex_);
    if (!last_.contains(origin) && last_.size() == kMaxOrigins) last_.erase(last_.begin());
    last_[origin] = challenge;
    last_[origin].stale = false;
  }
  // The origin's current challenge, if any.
  std::optional<DigestChallenge> remembered(const std::string& origin) {
    const std::lock_guard lock(mutex_);
    const auto it = last_.find(origin);
    if (it == last_.end()) return std::nullopt;
    return it->second;
  }
  void forget(const std::string& origin, const std::string& nonce) {
    const std::lock_guard lock(mutex_);
    const auto it = last_.find(origin);
    if (it != last_.end() && it->second.nonce == nonce) last_.erase(it);
  }
  // §3.5 nextnonce: the origin's next requests use `next` instead of `nonce`.
  void adopt_nextnonce(const std::string& origin, const std::string& nonce,
                       const std::string& next) {
    const std::lock_guard lock(mutex_);
    const auto it = last_.find(origin);
    if (it != last_.end() && it->second.nonce == nonce) it->second.nonce = next;
  }
  // The next nonce count for `nonce` (1 for a nonce never sent); nullopt when the count is
  // exhausted.
  std::optional<std::uint32_t> next_nc(const std::string& nonce) {
    const std::lock_guard lock(mutex_);
    auto it = counts_.find(nonce);
    if (it == counts_.end()) {
      if (counts_.size() == kMaxCountedNonces) {
        counts_.erase(order_.front());
        order_.pop_front();
      }
      it = counts_.emplace(nonce, 0).first;
      order_.push_back(nonce);
    }
    if (it->second == UINT32_MAX) return std::nullopt;
    return ++it->second;
  }

 private:
  const std::string user_;
  const Secret password_;
  const CnonceSource cnonce_;
  std::mutex mutex_;
  std::map<std::string, DigestChallenge> last_;  // origin → its current challenge
  std::map<std::string, std::uint32_t> counts_;  // nonce → last nc sent
  std::deque<std::string> order_;                // counts_ keys, oldest first
};

void DigestFlow::prepare(Request& request) {
  origin_ = origin_of(request.url);  // a redirect may have moved the exchange
  DigestChallenge challenge;
  const bool answered = pending_.has_value();
  if (pending_) {
    challenge = *pending_;
  } else if (!origin_.empty()) {
    auto remembered = auth_->remembered(origin_);
    if (!remembered) return;
    challenge = std::move(*remembered);
  } else {
    return;
  }
  const auto nc_value = auth_->next_nc(challenge.nonce);
  if (!nc_value) {  // 2^32 requests on one nonce: wait for a fresh challenge
    auth_->forget(origin_, challenge.nonce);
    return;
  }
  const std::string uri = request_target(request.url);
  if (uri.empty()) throw RequestError("Digest: cannot take the request-target of the URL");

  Sent sent;
  sent.challenge = challenge;
  sent.answered = answered;
  sent.uri = uri;
  sent.nc = format_nc(*nc_value);
  sent.cnonce = auth_->cnonce();
  sent.qop = std::string(schemes::to_string(challenge.qop));
  const DigestAlgorithm algorithm = challenge.algorithm;
  const std::string ha1 =
      schemes::ha1(algorithm, auth_->user(), challenge.realm, auth_->password());
  sent.session_ha1 = schemes::session_ha1(algorithm, ha1, challenge.nonce, sent.cnonce);
  const std::string ha2 = schemes::ha2(algorithm, request.method, uri, challenge.qop, request.body);
  const auto response = schemes::response(algorithm, sent.session_ha1, challenge.nonce, sent.nc,
                                          sent.cnonce, sent.qop, ha2);
  if (!response) throw Error("Digest: the hash could not be computed (OpenSSL)");

  std::string value = "Digest ";
  if (challenge.userhash) {
    value +=
        "username=" + quote_string(schemes::userhash(algorithm, auth_->user(), challenge.realm));
  } else if (needs_ext_value(auth_->user())) {
    value += "username*=" + ext_value(auth_->user());
  } else {
    value += "username=" + quote_string(auth_->user());
  }
  value += ", realm=" + quote_string(challenge.realm);
  value += ", uri=" + quote_string(uri);
  value += ", algorithm=" + std::string(schemes::to_string(algorithm));
  value += ", nonce=" + quote_string(challenge.nonce);
  value += ", nc=" + sent.nc;
  value += ", cnonce=" + quote_string(sent.cnonce);
  value += ", qop=" + sent.qop;
  value += ", response=" + quote_string(*response);
  if (challenge.opaque) value += ", opaque=" + quote_string(*challenge.opaque);
  if (challenge.userhash) value += ", userhash=true";
  request.set_header("Authorization", std::move(value));

  nonces_sent_.insert(challenge.nonce);
  pending_.reset();
  sent_ = std::move(sent);
}

std::optional<std::string> DigestFlow::check_authentication_info(const Response& response) {
  constexpr std::string_view field = "Authentication-Info";
  const std::string* info = response.header(field);
  if (info == nullptr) return std::nullopt;
  const auto params = schemes::parse_auth_params(*info);
  if (!params.ok()) throw TransportError("Digest: malformed " + std::string(field));
  const std::string* rspauth = nullptr;
  const std::string* nextnonce = nullptr;
  for (const auto& param : params.params) {
    if (param.name == "rspauth") rspauth = &param.value;
    if (param.name == "nextnonce") nextnonce = &param.value;
  }
  if (rspauth != nullptr) {
    const auto expected =
        schemes::rspauth(sent_->challenge.algorithm, sent_->session_ha1, sent_->challenge.nonce,
                         sent_->nc, sent_->cnonce, sent_->qop, sent_->uri, response.body);
    if (!expected || !constant_time_equal(*expected, *rspauth)) {
      throw TransportError("Digest rspauth mismatch: the server does not know the password");
    }
  }
  if (nextnonce == nullptr || nextnonce->empty()) return std::nullopt;
  return *nextnonce;
}

Next DigestFlow::on_response(Request&, Response& response) {
  if (sent_) {
    const auto nextnonce = check_authentication_info(response);
    if (response.status != 401 && response.status != 407) {  // a proxy's 407 says nothing
      // Accepted. A nonce this exchange got in its own 401 is shared only now, after its nc=1
      // went through: requests on other connections reusing it earlier could overtake it and
      // make a server that wants nc to increase refuse it as a replay.
      if (sent_->answered) auth_->remember(origin_, sent_->challenge);
      if (nextnonce) auth_->adopt_nextnonce(origin_, sent_->challenge.nonce, *nextnonce);
    }
  }
  const auto challenge = pick_digest_challenge(origin_challenges(response));
  if (!challenge) return Next::done;
  if (sent_) {
    // After an answered challenge only stale=true (RFC 7616 §3.3: the credentials were right,
    // the nonce too old) is worth another try; after a preemptive send any fresh challenge is.
    if (answered_challenge_ && !challenge->stale) return Next::done;
    if (nonces_sent_.contains(challenge->nonce)) return Next::done;
  }
  if (++answers_ > kMaxAnswers) return Next::done;
  answered_challenge_ = true;
  pending_ = challenge;
  return Next::retry;
}

}  // namespace

std::optional<DigestChallenge> pick_digest_challenge(const ChallengeList& challenges) {
  std::optional<DigestChallenge> best;
  for (const auto& c : challenges.challenges) {
    if (!c.is("Digest")) continue;
    const std::string* realm = c.param("realm");
    const std::string* nonce = c.param("nonce");
    const std::string* qop = c.param("qop");
    if (realm == nullptr || nonce == nullptr || nonce->empty() || qop == nullptr) continue;
    DigestChallenge candidate;
    if (const std::string* algorithm = c.param("algorithm")) {
      const auto parsed = schemes::parse_digest_algorithm(*algorithm);
      if (!parsed) continue;
      candidate.algorithm = *parsed;
    }
    const auto chosen_qop = choose_qop(*qop);
    if (!chosen_qop) continue;
    candidate.qop = *chosen_qop;
    candidate.realm = *realm;
    candidate.nonce = *nonce;
    if (const std::string* opaque = c.param("opaque")) candidate.opaque = *opaque;
    candidate.userhash = is_true(c.param("userhash"));
    candidate.stale = is_true(c.param("stale"));
    if (!best || strength(candidate.algorithm) > strength(best->algorithm)) {
      best = std::move(candidate);
    }
  }
  return best;
}

std::shared_ptr<Auth> make_digest_auth(std::string user, Secret password, CnonceSource cnonce) {
  return std::make_shared<DigestAuth>(std::move(user), std::move(password), std::move(cnonce));
}

}  // namespace gatehouse::client::detail

namespace gatehouse::client {

std::shared_ptr<Auth> digest_auth(std::string user, Secret password) {
  return detail::make_digest_auth(std::move(user), std::move(password), {});
}

}  // namespace gatehouse::client
