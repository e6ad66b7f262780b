// Strict base64 (RFC 4648 §4, §10 vectors), hex, percent-decoding, UTF-8 validation (RFC 3629)
// and the Secret type's comparisons and moves.
#include "util/encoding.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <utility>

#include "gatehouse/secret.hpp"

namespace gatehouse::util {
namespace {

using namespace std::string_literals;

// ---- base64 ---------------------------------------------------------------------------------

struct Rfc4648Vector {
  std::string plain;
  std::string base64;
  std::string base16;
};

// RFC 4648 §10.
const Rfc4648Vector kRfc4648Vectors[] = {
    {"", "", ""},
    {"f", "Zg==", "66"},
    {"fo", "Zm8=", "666F"},
    {"foo", "Zm9v", "666F6F"},
    {"foob", "Zm9vYg==", "666F6F62"},
    {"fooba", "Zm9vYmE=", "666F6F6261"},
    {"foobar", "Zm9vYmFy", "666F6F626172"},
};

TEST(Base64, EncodesTheRfc4648Vectors) {
  for (const auto& v : kRfc4648Vectors) EXPECT_EQ(base64_encode(v.plain), v.base64) << v.plain;
}

TEST(Base64, DecodesTheRfc4648Vectors) {
  for (const auto& v : kRfc4648Vectors) {
    const auto decoded = base64_decode(v.base64);
    ASSERT_TRUE(decoded.has_value()) << v.base64;
    EXPECT_EQ(*decoded, v.plain);
  }
}

TEST(Base64, RoundTripsEveryByteValue) {
  std::string all;
  for (int c = 0; c < 256; ++c) all.push_back(static_cast<char>(c));
  for (std::size_t len = 0; len <= all.size(); len += 37) {
    const std::string plain = all.substr(0, len);
    const auto decoded = base64_decode(base64_encode(plain));
    ASSERT_TRUE(decoded.has_value()) << len;
    EXPECT_EQ(*decoded, plain);
  }
}

TEST(Base64, UsesTheStandardAlphabetWithPlusAndSlash) {
  EXPECT_EQ(base64_encode("\xfb\xff\xbf"s), "+/+/");
  EXPECT_EQ(base64_decode("+/+/"), "\xfb\xff\xbf"s);
  // The URL-safe alphabet (RFC 4648 §5) is a different encoding.
  EXPECT_FALSE(base64_decode("-_-_").has_value());
}

TEST(Base64, RefusesMissingOrWrongPadding) {
  EXPECT_FALSE(base64_decode("Zg").has_value());
  EXPECT_FALSE(base64_decode("Zg=").has_value());
  EXPECT_FALSE(base64_decode("Zg===").has_value());
  EXPECT_FALSE(base64_decode("Zm8").has_value());
  EXPECT_FALSE(base64_decode("Zm9vYg").has_value());
  EXPECT_FALSE(base64_decode("Z").has_value());
  EXPECT_FALSE(base64_decode("Z===").has_value());
  EXPECT_FALSE(base64_decode("=").has_value());
  EXPECT_FALSE(base64_decode("====").has_value());
  EXPECT_FALSE(base64_decode("Zm9v=").has_value());
  EXPECT_FALSE(base64_decode("Z=g=").has_value());
}

TEST(Base64, RefusesDataAfterPadding) {
  EXPECT_FALSE(base64_decode("Zg==Zg==").has_value());
  EXPECT_FALSE(base64_decode("Zg==x").has_value());
  EXPECT_FALSE(base64_decode("Zm8=Zm9v").has_value());
}

TEST(Base64, RefusesNonZeroPadBits) {
  // RFC 4648 §3.5: "Zh==" would decode to "f" only by ignoring set pad bits; strict refuses it.
  EXPECT_FALSE(base64_decode("Zh==").has_value());
  EXPECT_FALSE(base64_decode("Zm9=").has_value());
}

TEST(Base64, RefusesAsciiCharactersOutsideTheAlphabet) {
  for (const char* bad : {"Zm9v!mFy", "Zm9v*mFy", "Zm9vYmF.", "Zm9v%mFy", "Zm9v-mFy", "Zm9v_mFy"}) {
    EXPECT_FALSE(base64_decode(bad).has_value()) << bad;
  }
  EXPECT_FALSE(base64_decode("Zm9v\0mFy"s).has_value());
}

TEST(Base64, RefusesBytesAbove0x7F) {
  // None of these is in the alphabet. (libsodium 1.0.18, Debian 12's, decodes each of them as if
  // it were '/', so "Zm9v\x80mFy" would come out as "foo\xfe" "ar".)
  for (int c = 0x80; c <= 0xFF; ++c) {
    std::string in = "Zm9v";
    in.push_back(static_cast<char>(c));
    in += "mFy";
    EXPECT_FALSE(base64_decode(in).has_value()) << "byte 0x" << std::hex << c;
  }
  EXPECT_FALSE(base64_decode("\xc3\xa9\xc3\xa9").has_value());
}

TEST(Base64, RefusesWhitespaceAndLineBreaks) {
  for (const char* bad : {"Zm9v YmFy", " Zm9vYmFy", "Zm9vYmFy ", "Zm9v\nYmFy", "Zm9vYmFy\n",
                          "Zm9v\r\nYmFy", "Zm9v\tYmFy", "Zg= =", "Zg=\n="}) {
    EXPECT_FALSE(base64_decode(bad).has_value()) << '"' << bad << '"';
  }
}

// ---- hex ------------------------------------------------------------------------------------

TEST(Hex, EncodesLowerCaseTwoDigitsPerByte) {
  EXPECT_EQ(hex_encode(""), "");
  EXPECT_EQ(hex_encode("\x00\x01\x7f\x80\xff"s), "00017f80ff");
  for (const auto& v : kRfc4648Vectors) {
    std::string lower = v.base16;
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    EXPECT_EQ(hex_encode(v.plain), lower);
  }
}

TEST(Hex, DecodesTheRfc4648VectorsAndEitherCase) {
  for (const auto& v : kRfc4648Vectors) {
    EXPECT_EQ(hex_decode(v.base16), v.plain) << v.base16;
  }
  EXPECT_EQ(hex_decode("DeadBEEF"), "\xde\xad\xbe\xef"s);
  EXPECT_EQ(hex_decode("00"), "\0"s);
}

TEST(Hex, RefusesOddLengthAndNonHexDigits) {
  EXPECT_FALSE(hex_decode("0").has_value());
  EXPECT_FALSE(hex_decode("abc").has_value());
  EXPECT_FALSE(hex_decode("0g").has_value());
  EXPECT_FALSE(hex_decode("g0").has_value());
  EXPECT_FALSE(hex_decode("0x00").has_value());
  EXPECT_FALSE(hex_decode(" 00").has_value());
  EXPECT_FALSE(hex_decode("-1").has_value());
}

TEST(Hex, RoundTripsEveryByteValue) {
  std::string all;
  for (int c = 0; c < 256; ++c) all.push_back(static_cast<char>(c));
  EXPECT_EQ(hex_decode(hex_encode(all)), all);
}

// ---- percent-decoding -----------------------------------------------------------------------

TEST(PercentDecode, DecodesEscapesInEitherCaseAndPlusAsSpace) {
  EXPECT_EQ(percent_decode(""), "");
  EXPECT_EQ(percent_decode("plain"), "plain");
  EXPECT_EQ(percent_decode("a%20b"), "a b");
  EXPECT_EQ(percent_decode("a+b"), "a b");
  EXPECT_EQ(percent_decode("%41%42%43"), "ABC");
  EXPECT_EQ(percent_decode("%2b%2B"), "++");
  EXPECT_EQ(percent_decode("%25"), "%");
  EXPECT_EQ(percent_decode("%E2%82%AC"), "\xe2\x82\xac");
  EXPECT_EQ(percent_decode("%00"), "\0"s);
  EXPECT_EQ(percent_decode("%41"), "A");  // an escape ending exactly at the end
  EXPECT_EQ(percent_decode("x%41"), "xA");
}

TEST(PercentDecode, RefusesTruncatedEscapes) {
  EXPECT_FALSE(percent_decode("%").has_value());
  EXPECT_FALSE(percent_decode("%4").has_value());
  EXPECT_FALSE(percent_decode("abc%").has_value());
  EXPECT_FALSE(percent_decode("abc%4").has_value());
  EXPECT_FALSE(percent_decode("%41%4").has_value());
}

TEST(PercentDecode, RefusesNonHexEscapes) {
  EXPECT_FALSE(percent_decode("%zz").has_value());
  EXPECT_FALSE(percent_decode("%4g").has_value());
  EXPECT_FALSE(percent_decode("%g4").has_value());
  EXPECT_FALSE(percent_decode("% 41").has_value());
  EXPECT_FALSE(percent_decode("%%41").has_value());
  EXPECT_FALSE(percent_decode("%-1").has_value());
}

// ---- UTF-8 ----------------------------------------------------------------------------------

TEST(Utf8, AcceptsWellFormedText) {
  EXPECT_TRUE(is_valid_utf8(""));
  EXPECT_TRUE(is_valid_utf8("plain ascii ~!"));
  EXPECT_TRUE(is_valid_utf8("a\0b"s));
  EXPECT_TRUE(is_valid_utf8("\x7f"));
  EXPECT_TRUE(is_valid_utf8("\xc2\x80"));          // U+0080, smallest two-byte
  EXPECT_TRUE(is_valid_utf8("\xc3\xa9"));          // é
  EXPECT_TRUE(is_valid_utf8("\xdf\xbf"));          // U+07FF
  EXPECT_TRUE(is_valid_utf8("\xe0\xa0\x80"));      // U+0800, smallest three-byte
  EXPECT_TRUE(is_valid_utf8("\xe2\x82\xac"));      // €
  EXPECT_TRUE(is_valid_utf8("\xed\x9f\xbf"));      // U+D7FF, just below the surrogates
  EXPECT_TRUE(is_valid_utf8("\xee\x80\x80"));      // U+E000, just above them
  EXPECT_TRUE(is_valid_utf8("\xef\xbf\xbf"));      // U+FFFF
  EXPECT_TRUE(is_valid_utf8("\xf0\x90\x80\x80"));  // U+10000, smallest four-byte
  EXPECT_TRUE(is_valid_utf8("\xf0\x9d\x84\x9e"));  // 𝄞
  EXPECT_TRUE(is_valid_utf8("\xf4\x8f\xbf\xbf"));  // U+10FFFF, the last code point
  EXPECT_TRUE(is_valid_utf8("p:ss w\xc3\xb6rd \xe2\x82\xac\xf0\x9f\x98\x80"));
}

TEST(Utf8, RefusesOverlongForms) {
  EXPECT_FALSE(is_valid_utf8("\xc0\x80"));          // U+0000 in two bytes
  EXPECT_FALSE(is_valid_utf8("\xc0\xaf"));          // '/' in two bytes
  EXPECT_FALSE(is_valid_utf8("\xc1\xbf"));          // U+007F in two bytes
  EXPECT_FALSE(is_valid_utf8("\xe0\x80\x80"));      // U+0000 in three bytes
  EXPECT_FALSE(is_valid_utf8("\xe0\x80\xaf"));      // '/' in three bytes
  EXPECT_FALSE(is_valid_utf8("\xe0\x9f\xbf"));      // U+07FF in three bytes
  EXPECT_FALSE(is_valid_utf8("\xf0\x80\x80\x80"));  // U+0000 in four bytes
  EXPECT_FALSE(is_valid_utf8("\xf0\x8f\xbf\xbf"));  // U+FFFF in four bytes
}

TEST(Utf8, RefusesSurrogates) {
  EXPECT_FALSE(is_valid_utf8("\xed\xa0\x80"));              // U+D800
  EXPECT_FALSE(is_valid_utf8("\xed\xaf\xbf"));              // U+DBFF
  EXPECT_FALSE(is_valid_utf8("\xed\xb0\x80"));              // U+DC00
  EXPECT_FALSE(is_valid_utf8("\xed\xbf\xbf"));              // U+DFFF
  EXPECT_FALSE(is_valid_utf8("\xed\xa0\xbd\xed\xb8\x80"));  // CESU-8 pair for U+1F600
}

TEST(Utf8, RefusesCodePointsAboveU10FFFF) {
  EXPECT_FALSE(is_valid_utf8("\xf4\x90\x80\x80"));  // U+110000
  EXPECT_FALSE(is_valid_utf8("\xf4\xbf\xbf\xbf"));
  EXPECT_FALSE(is_valid_utf8("\xf5\x80\x80\x80"));
  EXPECT_FALSE(is_valid_utf8("\xf7\xbf\xbf\xbf"));
  EXPECT_FALSE(is_valid_utf8("\xf8\x88\x80\x80\x80"));      // old five-byte form
  EXPECT_FALSE(is_valid_utf8("\xfc\x84\x80\x80\x80\x80"));  // old six-byte form
  EXPECT_FALSE(is_valid_utf8("\xfe"));
  EXPECT_FALSE(is_valid_utf8("\xff"));
}

TEST(Utf8, RefusesTruncatedSequences) {
  EXPECT_FALSE(is_valid_utf8("\xc3"));
  EXPECT_FALSE(is_valid_utf8("ab\xc3"));
  EXPECT_FALSE(is_valid_utf8("\xe2\x82"));
  EXPECT_FALSE(is_valid_utf8("\xe2"));
  EXPECT_FALSE(is_valid_utf8("\xf0\x9d\x84"));
  EXPECT_FALSE(is_valid_utf8("\xf0\x9d"));
  EXPECT_FALSE(is_valid_utf8("\xf0"));
  // A sequence cut short by an ASCII byte or by the start of another sequence.
  EXPECT_FALSE(
      is_valid_utf8("\xc3"
                    "A"));
  EXPECT_FALSE(
      is_valid_utf8("\xe2\x82"
                    "A"));
  EXPECT_FALSE(is_valid_utf8("\xe2\x82\xc3\xa9"));
  EXPECT_FALSE(
      is_valid_utf8("\xf0\x9d\x84"
                    "A"));
}

TEST(Utf8, RefusesStrayContinuationBytes) {
  EXPECT_FALSE(is_valid_utf8("\x80"));
  EXPECT_FALSE(is_valid_utf8("\xbf"));
  EXPECT_FALSE(is_valid_utf8("a\x80z"));
  EXPECT_FALSE(is_valid_utf8("\xc3\xa9\xa9"));  // one continuation too many
}

// ---- random bytes ---------------------------------------------------------------------------

TEST(RandomBytes, GivesTheRequestedLengthAndDiffersBetweenCalls) {
  EXPECT_EQ(random_bytes(0).size(), 0u);
  EXPECT_EQ(random_bytes(1).size(), 1u);
  std::set<std::string> seen;
  for (int i = 0; i < 64; ++i) {
    auto b = random_bytes(32);
    ASSERT_EQ(b.size(), 32u);
    seen.insert(std::move(b));
  }
  EXPECT_EQ(seen.size(), 64u);
}

}  // namespace
}  // namespace gatehouse::util

// ---- Secret ---------------------------------------------------------------------------------

namespace gatehouse {
namespace {

using namespace std::string_literals;

TEST(Secret, RevealsWhatItHolds) {
  const Secret s("hunter2");
  EXPECT_EQ(s.reveal(), "hunter2");
  EXPECT_EQ(s.size(), 7u);
  EXPECT_FALSE(s.empty());
  EXPECT_TRUE(Secret().empty());
  EXPECT_TRUE(Secret("").empty());
  EXPECT_EQ(Secret("a\0b"s).size(), 3u);
}

TEST(Secret, EqualsOnlyTheSameBytes) {
  const Secret s("hunter2");
  EXPECT_TRUE(s.equals("hunter2"));
  EXPECT_FALSE(s.equals("hunter3"));
  EXPECT_FALSE(s.equals("Hunter2"));
  EXPECT_FALSE(s.equals("hunter"));    // a prefix
  EXPECT_FALSE(s.equals("hunter22"));  // an extension
  EXPECT_FALSE(s.equals(""));
  EXPECT_TRUE(Secret().equals(""));
  EXPECT_FALSE(Secret().equals("x"));
}

TEST(ConstantTimeEqual, ComparesContentAndLength) {
  EXPECT_TRUE(constant_time_equal("", ""));
  EXPECT_TRUE(constant_time_equal("abc", "abc"));
  EXPECT_FALSE(constant_time_equal("abc", "abd"));
  EXPECT_FALSE(constant_time_equal("abc", "xbc"));
  EXPECT_FALSE(constant_time_equal("a", ""));
  EXPECT_FALSE(constant_time_equal("", "a"));
  EXPECT_FALSE(constant_time_equal("abc", "abcd"));
  EXPECT_FALSE(constant_time_equal("abcd", "abc"));
}

TEST(ConstantTimeEqual, DifferentLengthsAreUnequalEvenWhenTheTailIsZeroBytes) {
  // A comparison that pads the shorter side with zeros must still see the lengths differ.
  EXPECT_FALSE(constant_time_equal("abc", "abc\0"s));
  EXPECT_FALSE(constant_time_equal("abc\0\0"s, "abc"));
  EXPECT_FALSE(constant_time_equal("", "\0"s));
  EXPECT_TRUE(constant_time_equal("a\0b"s, "a\0b"s));
  EXPECT_FALSE(constant_time_equal("a\0b"s, "a\0c"s));
  // 256 bytes apart in length: a length difference that is 0 modulo 256 is still a difference.
  EXPECT_FALSE(constant_time_equal(std::string(256, 'x'), ""));
  EXPECT_FALSE(constant_time_equal(std::string(300, '\0'), std::string(44, '\0')));
}

TEST(Secret, MoveConstructionLeavesTheSourceEmpty) {
  Secret from("correct horse");
  Secret to(std::move(from));
  EXPECT_EQ(to.reveal(), "correct horse");
  EXPECT_TRUE(from.empty());  // NOLINT(bugprone-use-after-move): the contract under test
  EXPECT_EQ(from.size(), 0u);
  EXPECT_TRUE(from.equals(""));
}

TEST(Secret, MoveAssignmentLeavesTheSourceEmptyAndReplacesTheTarget) {
  Secret from("a long secret that does not fit the small-string buffer");
  Secret to("old");
  to = std::move(from);
  EXPECT_EQ(to.reveal(), "a long secret that does not fit the small-string buffer");
  EXPECT_TRUE(from.empty());  // NOLINT(bugprone-use-after-move)
}

TEST(Secret, CopiesAreIndependent) {
  Secret a("one");
  Secret b(a);
  Secret c("other");
  c = a;
  EXPECT_EQ(a.reveal(), "one");
  EXPECT_EQ(b.reveal(), "one");
  EXPECT_EQ(c.reveal(), "one");
  Secret moved(std::move(a));
  EXPECT_EQ(b.reveal(), "one");  // the copy is unaffected by moving the original
  EXPECT_EQ(c.reveal(), "one");
}

TEST(Secret, SelfAssignmentKeepsTheValue) {
  Secret s("keep me");
  Secret& alias = s;
  s = alias;
  EXPECT_EQ(s.reveal(), "keep me");
  s = std::move(alias);
  EXPECT_EQ(s.reveal(), "keep me");
}

}  // namespace
}  // namespace gatehouse
