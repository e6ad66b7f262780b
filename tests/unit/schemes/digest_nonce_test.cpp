// Stateless Digest nonces (RFC 7616 §3.3, §5.4): time ‖ random ‖ truncated HMAC, base64url.
#include "schemes/digest_nonce.hpp"

#include <gtest/gtest.h>

#include <set>
#include <stdexcept>
#include <string>
#include <vector>

namespace gatehouse::schemes {
namespace {

using namespace std::chrono_literals;
using Status = NonceCheck::Status;

const std::string kSecret = "0123456789abcdef0123456789abcdef";

class NonceTest : public ::testing::Test {
 protected:
  FakeClock clock;
  NonceService service{kSecret, "realm@example.org", 300'000ms, clock};
};

TEST_F(NonceTest, AFreshNonceIsValid) {
  const std::string nonce = service.issue();
  EXPECT_EQ(nonce.size(), NonceService::kEncodedSize);
  for (char c : nonce) {
    EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_') << nonce;
  }
  const NonceCheck check = service.check(nonce);
  EXPECT_EQ(check.status, Status::valid);
  EXPECT_TRUE(check.valid());
  EXPECT_FALSE(check.about_to_expire);
  EXPECT_EQ(check.issued_ms, clock.now_ms());
}

TEST_F(NonceTest, NoncesAreUnique) {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) EXPECT_TRUE(seen.insert(service.issue()).second);
}

TEST_F(NonceTest, EveryTamperedCharacterIsRefused) {
  const std::string nonce = service.issue();
  for (std::size_t i = 0; i < nonce.size(); ++i) {
    std::string tampered = nonce;
    tampered[i] = tampered[i] == 'A' ? 'B' : 'A';
    const NonceCheck check = service.check(tampered);
    // Changing the last character may only change the unused trailing bits: then the text is not
    // canonical base64url and is malformed; otherwise the MAC fails.
    EXPECT_TRUE(check.status == Status::forged || check.status == Status::malformed)
        << "position " << i;
    EXPECT_FALSE(check.valid());
    EXPECT_EQ(check.issued_ms, 0);
  }
}

TEST_F(NonceTest, AnotherRealmsNonceIsForged) {
  NonceService other{kSecret, "other realm", 300'000ms, clock};
  EXPECT_EQ(service.check(other.issue()).status, Status::forged);
  EXPECT_EQ(other.check(service.issue()).status, Status::forged);
}

TEST_F(NonceTest, AnotherSecretsNonceIsForged) {
  NonceService other{"another secret, 32 bytes long!!!", "realm@example.org", 300'000ms, clock};
  EXPECT_EQ(service.check(other.issue()).status, Status::forged);
}

TEST_F(NonceTest, AServiceWithTheSameSecretAndRealmAcceptsIt) {
  // What a restart or a second instance sees: the nonce is stateless.
  NonceService twin{kSecret, "realm@example.org", 300'000ms, clock};
  EXPECT_TRUE(twin.check(service.issue()).valid());
}

TEST_F(NonceTest, ExpiresIntoStale) {
  const std::string nonce = service.issue();
  const std::int64_t issued = clock.now_ms();
  clock.advance(299'999ms);
  EXPECT_TRUE(service.check(nonce).valid());
  clock.advance(1ms);
  const NonceCheck check = service.check(nonce);
  EXPECT_EQ(check.status, Status::stale);
  EXPECT_EQ(check.issued_ms, issued);  // authentic: the scheme may still verify the response
  EXPECT_FALSE(check.about_to_expire);
  clock.advance(24h);
  EXPECT_EQ(service.check(nonce).status, Status::stale);
}

TEST_F(NonceTest, FlagsTheLastTenthOfTheLifetime) {
  const std::string nonce = service.issue();
  clock.advance(269'999ms);
  EXPECT_FALSE(service.check(nonce).about_to_expire);
  clock.advance(1ms);  // 270 s of 300 s
  const NonceCheck check = service.check(nonce);
  EXPECT_TRUE(check.valid());
  EXPECT_TRUE(check.about_to_expire);
}

TEST_F(NonceTest, ANonceFromTheNearFutureIsValidAndFromTheFarFutureStale) {
  FakeClock ahead(clock.now_ms() + 10'000);
  NonceService ahead_service{kSecret, "realm@example.org", 300'000ms, ahead};
  EXPECT_TRUE(service.check(ahead_service.issue()).valid());
  ahead.advance(300'000ms);
  EXPECT_EQ(service.check(ahead_service.issue()).status, Status::stale);
}

TEST_F(NonceTest, MalformedNoncesAreRefused) {
  const std::string nonce = service.issue();
  for (const std::string& bad : std::vector<std::string>{
           std::string{},
           std::string("abc"),
           nonce.substr(1),
           nonce + "A",
           nonce + "=",
           nonce.substr(0, 52) + "==",
           std::string(NonceService::kEncodedSize, '!'),
           std::string(NonceService::kEncodedSize, '+'),  // standard, not url-safe, alphabet
           std::string(NonceService::kEncodedSize - 1, 'A') + "\x80",
           std::string(NonceService::kEncodedSize - 1, 'A') + " ",
           std::string(NonceService::kEncodedSize, '\0'),
       }) {
    EXPECT_EQ(service.check(bad).status, Status::malformed) << bad;
  }
  // Well-formed base64url of the right length, but not ours.
  EXPECT_EQ(service.check(std::string(NonceService::kEncodedSize - 1, 'A') + "A").status,
            Status::forged);
}

TEST_F(NonceTest, RefusesNonCanonicalTrailingBits) {
  const std::string nonce = service.issue();
  // 40 bytes are 320 bits; 54 characters carry 324, so the last character's low 4 bits are 0.
  // An alternative spelling of the same bytes must not verify (NonceCounter keys on the text).
  const std::string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  const std::size_t last = alphabet.find(nonce.back());
  ASSERT_NE(last, std::string::npos);
  ASSERT_EQ(last % 16, 0u);
  std::string respelled = nonce;
  respelled.back() = alphabet[last + 1];
  EXPECT_EQ(service.check(respelled).status, Status::malformed);
}

TEST(NonceServiceSetup, RefusesAShortSecretAndANonPositiveLifetime) {
  FakeClock clock;
  EXPECT_THROW(NonceService("short", "r", 1000ms, clock), std::invalid_argument);
  EXPECT_THROW(NonceService(kSecret, "r", 0ms, clock), std::invalid_argument);
  EXPECT_NO_THROW(NonceService(kSecret, "", 1ms, clock));
}

}  // namespace
}  // namespace gatehouse::schemes
