// RFC 7515 §2 / Appendix C base64url without padding, decoded strictly.
#include "jose/base64url.hpp"

#include <gtest/gtest.h>

#include <random>
#include <string>

namespace gatehouse::jose {
namespace {

using namespace std::string_literals;

TEST(Base64url, EncodesTheRfc4648Vectors) {
  // RFC 4648 §10 with the padding removed.
  EXPECT_EQ(b64url_encode(""), "");
  EXPECT_EQ(b64url_encode("f"), "Zg");
  EXPECT_EQ(b64url_encode("fo"), "Zm8");
  EXPECT_EQ(b64url_encode("foo"), "Zm9v");
  EXPECT_EQ(b64url_encode("foob"), "Zm9vYg");
  EXPECT_EQ(b64url_encode("fooba"), "Zm9vYmE");
  EXPECT_EQ(b64url_encode("foobar"), "Zm9vYmFy");
}

TEST(Base64url, EncodesTheRfc7515AppendixCExample) {
  const std::string bytes = "\x03\xec\xff\xe0\xc1"s;
  EXPECT_EQ(b64url_encode(bytes), "A-z_4ME");
  EXPECT_EQ(b64url_decode("A-z_4ME"), bytes);
}

TEST(Base64url, DecodesTheRfc4648Vectors) {
  EXPECT_EQ(b64url_decode(""), "");
  EXPECT_EQ(b64url_decode("Zg"), "f");
  EXPECT_EQ(b64url_decode("Zm8"), "fo");
  EXPECT_EQ(b64url_decode("Zm9v"), "foo");
  EXPECT_EQ(b64url_decode("Zm9vYg"), "foob");
  EXPECT_EQ(b64url_decode("Zm9vYmE"), "fooba");
  EXPECT_EQ(b64url_decode("Zm9vYmFy"), "foobar");
}

TEST(Base64url, RoundTripsEveryByteAtEveryLength) {
  std::mt19937 rng(7515);
  for (std::size_t length = 0; length <= 70; ++length) {
    std::string bytes(length, '\0');
    for (char& c : bytes) c = static_cast<char>(rng() & 0xFF);
    const std::string text = b64url_encode(bytes);
    EXPECT_EQ(text.find_first_of("=+/"), std::string::npos);
    EXPECT_EQ(b64url_decode(text), bytes) << length;
  }
  std::string all;
  for (int c = 0; c < 256; ++c) all.push_back(static_cast<char>(c));
  EXPECT_EQ(b64url_decode(b64url_encode(all)), all);
}

TEST(Base64url, RefusesPaddingAndTheStandardAlphabet) {
  EXPECT_FALSE(b64url_decode("Zg=="));
  EXPECT_FALSE(b64url_decode("Zm8="));
  EXPECT_FALSE(b64url_decode("A+z/4ME"));
  EXPECT_FALSE(b64url_decode("A-z/4ME"));
  EXPECT_FALSE(b64url_decode("A+z_4ME"));
}

TEST(Base64url, RefusesWhitespaceAndOtherBytes) {
  EXPECT_FALSE(b64url_decode("Zm9v YmFy"));
  EXPECT_FALSE(b64url_decode(" Zm9v"));
  EXPECT_FALSE(b64url_decode("Zm9v\n"));
  EXPECT_FALSE(b64url_decode("Zm9v\r\nYmFy"));
  EXPECT_FALSE(b64url_decode("Zm9v\tYmFy"));
  EXPECT_FALSE(b64url_decode("Zm9v.YmFy"));
  EXPECT_FALSE(b64url_decode("Zm9v\0YmFy"s));
  EXPECT_FALSE(b64url_decode("Zm9v\xc3\xa9"));  // non-ASCII
  EXPECT_FALSE(b64url_decode("Zm9v\xff\xff"));
}

TEST(Base64url, RefusesLengthsOfOneModFour) {
  EXPECT_FALSE(b64url_decode("Z"));
  EXPECT_FALSE(b64url_decode("Zm9vY"));
  EXPECT_FALSE(b64url_decode("Zm9vYmFyZ"));
}

TEST(Base64url, RefusesNonCanonicalTrailingBits) {
  // "f" is Zg; Zh..Zv carry the same first byte with non-zero unused bits (RFC 4648 §3.5).
  EXPECT_FALSE(b64url_decode("Zh"));
  EXPECT_FALSE(b64url_decode("Zv"));
  // "fo" is Zm8; Zm9 sets one of the two unused bits.
  EXPECT_FALSE(b64url_decode("Zm9"));
  EXPECT_FALSE(b64url_decode("Zm-"));
  EXPECT_FALSE(b64url_decode("Zm9vYh"));
  EXPECT_TRUE(b64url_decode("Zm8"));
  EXPECT_TRUE(b64url_decode("Zg"));
}

}  // namespace
}  // namespace gatehouse::jose
