// RFC 9110 §11.4 credentials = auth-scheme [ 1*SP ( token68 / #auth-param ) ], §11.2 token68,
// §5.6.2 tchar.
#include "schemes/authorization_header.hpp"

#include <gtest/gtest.h>

#include <string>

namespace gatehouse::schemes {
namespace {

using namespace std::string_literals;

TEST(IsTchar, AcceptsExactlyTheRfc9110TokenCharacters) {
  const std::string specials = "!#$%&'*+-.^_`|~";
  for (int c = 0; c < 256; ++c) {
    const char ch = static_cast<char>(c);
    const bool expected = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                          (c >= '0' && c <= '9') || specials.find(ch) != std::string::npos;
    EXPECT_EQ(is_tchar(ch), expected) << "byte " << c;
  }
}

TEST(IsTchar, RefusesDelimitersSpaceAndControls) {
  for (char c : "\"(),/:;<=>?@[\\]{} \t"s) EXPECT_FALSE(is_tchar(c)) << c;
  EXPECT_FALSE(is_tchar('\0'));
  EXPECT_FALSE(is_tchar('\x7f'));
  EXPECT_FALSE(is_tchar('\x80'));
  EXPECT_FALSE(is_tchar('\xff'));
}

TEST(IsToken68, AcceptsItsAlphabetWithTrailingEquals) {
  EXPECT_TRUE(is_token68("a"));
  EXPECT_TRUE(is_token68("QWxhZGRpbjpvcGVuIHNlc2FtZQ=="));
  EXPECT_TRUE(is_token68("Zg=="));
  EXPECT_TRUE(is_token68("abc="));
  EXPECT_TRUE(is_token68("A-Za-z0-9-._~+/"));
  EXPECT_TRUE(is_token68("gh_0123456789abcdef_00ff"));
  EXPECT_TRUE(is_token68("x==========="));
}

TEST(IsToken68, RefusesEmptyOnlyEqualsAndEqualsInTheMiddle) {
  EXPECT_FALSE(is_token68(""));
  EXPECT_FALSE(is_token68("="));
  EXPECT_FALSE(is_token68("=="));
  EXPECT_FALSE(is_token68("=abc"));
  EXPECT_FALSE(is_token68("ab=c"));
  EXPECT_FALSE(is_token68("Zg==Zg=="));
}

TEST(IsToken68, RefusesCharactersOutsideItsAlphabet) {
  for (const char* bad :
       {"a b", "a,b", "a\"b", "a:b", "a;b", "a!b", "a*b", "a%b", "a\tb", "realm=\"x\"", "a\x80"}) {
    EXPECT_FALSE(is_token68(bad)) << bad;
  }
  EXPECT_FALSE(is_token68("a\0b"s));
  EXPECT_FALSE(is_token68("abc "));
}

TEST(SplitAuthorization, SplitsSchemeAndToken68) {
  const auto v = split_authorization("Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
  ASSERT_TRUE(v.has_value());
  EXPECT_EQ(v->scheme, "Basic");
  EXPECT_EQ(v->rest, "QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
}

TEST(SplitAuthorization, KeepsTheSchemeAsSent) {
  const auto v = split_authorization("bAsIc abc");
  ASSERT_TRUE(v.has_value());
  EXPECT_EQ(v->scheme, "bAsIc");
  EXPECT_EQ(v->rest, "abc");
}

TEST(SplitAuthorization, KeepsAuthParamsWhole) {
  const std::string params =
      "username=\"Mufasa\", realm=\"http-auth@example.org\", uri=\"/dir/index.html\", "
      "nc=00000001, qop=auth";
  const std::string value = "Digest " + params;
  const auto v = split_authorization(value);
  ASSERT_TRUE(v.has_value());
  EXPECT_EQ(v->scheme, "Digest");
  EXPECT_EQ(v->rest, params);
}

TEST(SplitAuthorization, SchemeAloneHasAnEmptyRest) {
  for (const char* value : {"Negotiate", "Negotiate ", "Negotiate \t ", " Negotiate"}) {
    const auto v = split_authorization(value);
    ASSERT_TRUE(v.has_value()) << '"' << value << '"';
    EXPECT_EQ(v->scheme, "Negotiate");
    EXPECT_EQ(v->rest, "");
  }
}

TEST(SplitAuthorization, TrimsSpacesAndTabsAroundTheParts) {
  const auto v = split_authorization(" \tBearer  \t abc.def.ghi \t ");
  ASSERT_TRUE(v.has_value());
  EXPECT_EQ(v->scheme, "Bearer");
  EXPECT_EQ(v->rest, "abc.def.ghi");
}

TEST(SplitAuthorization, KeepsInnerSpacesOfTheRest) {
  const auto v = split_authorization("Custom a  b");
  ASSERT_TRUE(v.has_value());
  EXPECT_EQ(v->rest, "a  b");
}

TEST(SplitAuthorization, RefusesValuesThatDoNotStartWithAToken) {
  for (const char* bad : {"", " ", "\t", "=abc", "\"Basic\" abc", "(Basic) abc", ":abc", "/x"}) {
    EXPECT_FALSE(split_authorization(bad).has_value()) << '"' << bad << '"';
  }
}

TEST(SplitAuthorization, RefusesASchemeFollowedByANonSeparator) {
  // The scheme must end at whitespace or the end of the value (RFC 9110 §11.4: 1*SP).
  for (const char* bad : {"Basic,abc", "Basic:abc", "Basic=abc=", "Basic\"abc\"", "Basic/abc",
                          "Basic\x01 abc", "Basic\r\nabc", "Basic\x80"}) {
    EXPECT_FALSE(split_authorization(bad).has_value()) << '"' << bad << '"';
  }
}

TEST(SplitAuthorization, SchemeMayUseEveryTchar) {
  const auto v = split_authorization("X-My.Scheme_1!#$%&'*+^`|~ token");
  ASSERT_TRUE(v.has_value());
  EXPECT_EQ(v->scheme, "X-My.Scheme_1!#$%&'*+^`|~");
  EXPECT_EQ(v->rest, "token");
}

TEST(SplitAuthorization, ViewsPointIntoTheInput) {
  const std::string value = "Basic abc";
  const auto v = split_authorization(value);
  ASSERT_TRUE(v.has_value());
  EXPECT_EQ(v->scheme.data(), value.data());
  EXPECT_EQ(v->rest.data(), value.data() + 6);
}

}  // namespace
}  // namespace gatehouse::schemes
