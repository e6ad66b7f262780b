#include "tokens/token_cache.hpp"

#include <gtest/gtest.h>

namespace gatehouse::tokens {
namespace {

IdentityPtr who(std::string name) {
  auto i = std::make_shared<Identity>();
  i->subject = std::move(name);
  return i;
}

TEST(VerifiedTokenCache, FindsWhatWasInsertedUntilItExpires) {
  VerifiedTokenCache cache(100);
  cache.insert("header.payload.signature-A", who("alice"), 1000, 900);
  ASSERT_NE(cache.find("header.payload.signature-A", 999), nullptr);
  EXPECT_EQ(cache.find("header.payload.signature-A", 999)->subject, "alice");
  EXPECT_EQ(cache.find("header.payload.signature-B", 999), nullptr);
  EXPECT_EQ(cache.find("header.payload.signature-A", 1000), nullptr);  // exp reached
  EXPECT_EQ(cache.size(), 0u);                                         // and dropped
}

// The hash looks at the last 16 bytes only; equality still compares whole tokens.
TEST(VerifiedTokenCache, TokensSharingTheirTailAreStillToldApart) {
  VerifiedTokenCache cache(100);
  const std::string tail(16, 'x');
  cache.insert("alice." + tail, who("alice"), 1000, 0);
  cache.insert("bob." + tail, who("bob"), 1000, 0);
  EXPECT_EQ(cache.find("alice." + tail, 1)->subject, "alice");
  EXPECT_EQ(cache.find("bob." + tail, 1)->subject, "bob");
  EXPECT_EQ(cache.find("carol." + tail, 1), nullptr);
}

TEST(VerifiedTokenCache, StaysWithinItsCapacity) {
  VerifiedTokenCache cache(64);
  for (int i = 0; i < 10000; ++i) {
    cache.insert("token-" + std::to_string(i) + "-signature", who("u"), 1000, 0);
  }
  EXPECT_LE(cache.size(), 64u);
  // Expired entries make room first.
  VerifiedTokenCache small(16);
  for (int i = 0; i < 16; ++i) small.insert("old-" + std::to_string(i), who("u"), 10, 0);
  small.insert("fresh", who("u"), 1000, 20);
  EXPECT_NE(small.find("fresh", 21), nullptr);
}

}  // namespace
}  // namespace gatehouse::tokens
