// Origin, URL-origin and Host parsing (RFC 6454, RFC 3986 §3.2, RFC 9110 §7.2) on untrusted
// header values, and the own-origin/allow-list matching CSRF and CORS share.
#include "guard/origin.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace gatehouse::guard {
namespace {

TEST(ParseOrigin, SerializedOriginsParse) {
  auto o = parse_origin("https://app.example.com:8443");
  ASSERT_TRUE(o.has_value());
  EXPECT_EQ(o->scheme, "https");
  EXPECT_EQ(o->host, "app.example.com");
  EXPECT_EQ(o->port, 8443);
  o = parse_origin("http://localhost");
  ASSERT_TRUE(o.has_value());
  EXPECT_EQ(o->port, -1);
  o = parse_origin("http://[::1]:8000");
  ASSERT_TRUE(o.has_value());
  EXPECT_EQ(o->host, "[::1]");
  EXPECT_EQ(o->port, 8000);
  EXPECT_TRUE(parse_origin("http://127.0.0.1:0").has_value());
  EXPECT_TRUE(parse_origin("chrome-extension://abcdef").has_value());
}

TEST(ParseOrigin, MalformedValuesAreNotOrigins) {
  for (const char* bad : {"null",
                          "",
                          "https://",
                          "https://a.example:99999",
                          "https://a.example:",
                          "https://a.example:-1",
                          "https://a.example:8o",
                          "https://a .example",
                          " https://a.example",
                          "https://a.example ",
                          "https://a.example/",
                          "https://a.example/path",
                          "https://a.example?x",
                          "https://a.example#f",
                          "https://user@a.example",
                          "https://user:pw@a.example",
                          "a.example",
                          "//a.example",
                          "1https://a.example",
                          "ht tp://a.example",
                          "https://[::1",
                          "https://[zz]",
                          "https://a.example:80:80",
                          "https://a%zz.example",
                          "https://a.example, https://b.example",
                          ", ",
                          "https://a.example\t",
                          "https://\x01.example"}) {
    EXPECT_FALSE(parse_origin(bad).has_value()) << bad;
  }
}

TEST(ParseUrlOrigin, RefererGivesItsOriginAndPrefix) {
  std::string_view prefix;
  const auto o = parse_url_origin("https://App.Example:8443/a/b?c#d", &prefix);
  ASSERT_TRUE(o.has_value());
  EXPECT_EQ(o->host, "App.Example");
  EXPECT_EQ(o->port, 8443);
  EXPECT_EQ(prefix, "https://App.Example:8443");
  EXPECT_TRUE(parse_url_origin("https://a.example?q").has_value());
  EXPECT_FALSE(parse_url_origin("https://user@a.example/").has_value());
  EXPECT_FALSE(parse_url_origin("/relative/path").has_value());
  EXPECT_FALSE(parse_url_origin("about:blank").has_value());
}

TEST(ParseHost, HostHeaderForms) {
  auto h = parse_host("gatehouse.example:8443");
  ASSERT_TRUE(h.has_value());
  EXPECT_EQ(h->host, "gatehouse.example");
  EXPECT_EQ(h->port, 8443);
  h = parse_host("gatehouse.example");
  ASSERT_TRUE(h.has_value());
  EXPECT_EQ(h->port, -1);
  h = parse_host("[2001:db8::1]:443");
  ASSERT_TRUE(h.has_value());
  EXPECT_EQ(h->host, "[2001:db8::1]");
  EXPECT_EQ(h->port, 443);
  for (const char* bad : {"", ":80", "a.example:", "a.example:65536", "a b", "a.example/x",
                          "user@a.example", "[::1]x", "[::1", "a.example, b.example"}) {
    EXPECT_FALSE(parse_host(bad).has_value()) << bad;
  }
}

TEST(SameAuthority, DefaultPortsAndCaseAreNormalised) {
  const auto origin = *parse_origin("https://A.example");
  EXPECT_TRUE(same_authority(origin, *parse_host("a.EXAMPLE")));
  EXPECT_TRUE(same_authority(origin, *parse_host("a.example:443")));
  EXPECT_FALSE(same_authority(origin, *parse_host("a.example:80")));
  EXPECT_FALSE(same_authority(origin, *parse_host("b.example")));
  const auto with_port = *parse_origin("http://localhost:8000");
  EXPECT_TRUE(same_authority(with_port, *parse_host("localhost:8000")));
  EXPECT_FALSE(same_authority(with_port, *parse_host("localhost")));
}

TEST(SameOrigin, SchemeMatters) {
  EXPECT_TRUE(
      same_origin(*parse_origin("https://a.example"), *parse_origin("HTTPS://a.example:443")));
  EXPECT_FALSE(same_origin(*parse_origin("https://a.example"), *parse_origin("http://a.example")));
}

TEST(OriginPolicy, OwnOriginIsTheSerializedPublicUrl) {
  EXPECT_EQ(OriginPolicy("http://localhost:8000", {}).own_origin(), "http://localhost:8000");
  EXPECT_EQ(OriginPolicy("HTTPS://GH.Example:443/base/path?x", {}).own_origin(),
            "https://gh.example");
  EXPECT_EQ(OriginPolicy("http://gh.example:80/", {}).own_origin(), "http://gh.example");
  EXPECT_EQ(OriginPolicy("https://gh.example:8443", {}).own_origin(), "https://gh.example:8443");
  EXPECT_EQ(OriginPolicy("not a url", {}).own_origin(), "");
  EXPECT_EQ(OriginPolicy().match("http://localhost:8000"), OriginPolicy::Match::none);
}

TEST(OriginPolicy, MatchingIsExactAndCaseSensitive) {
  const OriginPolicy p("https://gh.example", {"https://app.example", "http://localhost:3000"});
  EXPECT_EQ(p.match("https://gh.example"), OriginPolicy::Match::own);
  EXPECT_EQ(p.match("https://app.example"), OriginPolicy::Match::listed);
  EXPECT_EQ(p.match("http://localhost:3000"), OriginPolicy::Match::listed);
  EXPECT_EQ(p.match("https://APP.example"), OriginPolicy::Match::none);
  EXPECT_EQ(p.match("https://app.example/"), OriginPolicy::Match::none);
  EXPECT_EQ(p.match("https://app.example:443"), OriginPolicy::Match::none);
  EXPECT_EQ(p.match("https://app.example.evil"), OriginPolicy::Match::none);
  EXPECT_EQ(p.match("null"), OriginPolicy::Match::none);
  EXPECT_EQ(p.match(""), OriginPolicy::Match::none);
  EXPECT_FALSE(p.wildcard());
}

TEST(OriginPolicy, LeadingStarIsAWildcardNotAnOrigin) {
  const OriginPolicy p("https://gh.example", {"*", "https://app.example"});
  EXPECT_TRUE(p.wildcard());
  EXPECT_EQ(p.match("https://app.example"), OriginPolicy::Match::listed);
  EXPECT_EQ(p.match("https://evil.example"), OriginPolicy::Match::wildcard);
  EXPECT_EQ(p.match("*"), OriginPolicy::Match::wildcard);
  EXPECT_FALSE(p.trusted("https://evil.example"));
  EXPECT_FALSE(p.trusted("*"));
}

Request with_headers(const std::vector<HeaderField>& headers) {
  Request r;
  r.method = "GET";
  r.headers = headers;
  return r;
}

TEST(SingleHeader, RepeatedHeaderIsNeverAValidValue) {
  EXPECT_FALSE(single_header(with_headers({}), "Origin").has_value());
  EXPECT_EQ(single_header(with_headers({{"origin", "https://a.example"}}), "Origin"),
            "https://a.example");
  const auto twice = single_header(
      with_headers({{"Origin", "https://a.example"}, {"ORIGIN", "https://a.example"}}), "Origin");
  ASSERT_TRUE(twice.has_value());
  EXPECT_FALSE(parse_origin(*twice).has_value());
  EXPECT_FALSE(parse_host(*twice).has_value());
}

}  // namespace
}  // namespace gatehouse::guard
