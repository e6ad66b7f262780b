#include "app/client_cli.hpp"

#include <gtest/gtest.h>

#include <string>

namespace gatehouse::cli {
namespace {

TEST(ClientCliMask, AuthorizationShowsOnlyTheScheme) {
  EXPECT_EQ(mask_header("Authorization", "Basic ZGVtbzpzM2NyZXQ="), "Basic ****");
  EXPECT_EQ(mask_header("authorization", "Bearer eyJhbGciOi.x.y"), "Bearer ****");
  EXPECT_EQ(mask_header("Authorization",
                        R"(Digest username="demo", realm="r", nonce="n", response="abc")"),
            "Digest ****");
  EXPECT_EQ(mask_header("Proxy-Authorization", "Negotiate YIIC..."), "Negotiate ****");
  EXPECT_EQ(mask_header("Authorization", "sometoken"), "****");
}

TEST(ClientCliMask, CookiesAndKeyHeaders) {
  EXPECT_EQ(mask_header("Cookie", "sid=abc; csrf=def"), "sid=****; csrf=****");
  EXPECT_EQ(mask_header("Set-Cookie", "sid=abc; Path=/; HttpOnly; SameSite=Lax"),
            "sid=****; Path=/; HttpOnly; SameSite=Lax");
  EXPECT_EQ(mask_header("X-API-Key", "gh_0123_secret"), "****");
  EXPECT_EQ(mask_header("x-api-key", "gh_0123_secret"), "****");
  EXPECT_EQ(mask_header("Content-Type", "application/json"), "application/json");
  EXPECT_EQ(mask_header("WWW-Authenticate", R"(Basic realm="gatehouse")"),
            R"(Basic realm="gatehouse")");
}

TEST(ClientCliMask, UrlsLoseTheirCredentials) {
  EXPECT_EQ(mask_url("http://h:1/x?api_key=gh_secret&page=2"), "http://h:1/x?api_key=****&page=2");
  EXPECT_EQ(mask_url("/x?page=2&API_KEY=s#frag"), "/x?page=2&API_KEY=****#frag");
  EXPECT_EQ(mask_url("https://user:pw@h/x?access_token=t"),
            "https://user:****@h/x?access_token=****");
  EXPECT_EQ(mask_url("https://user@h/"), "https://user@h/");
  EXPECT_EQ(mask_url("http://h/plain"), "http://h/plain");
}

TEST(ClientCliMask, BodiesLoseTheirSecretsAtAnyDepth) {
  const std::string login = R"({"username":"demo","password":"s3cret"})";
  EXPECT_EQ(mask_body(login), R"({"username":"demo","password":"****"})");
  const std::string tokens =
      R"({"access_token":"AT","refresh_token":"RT","nested":[{"id_token":"IT","n":1}]})";
  const std::string masked = mask_body(tokens);
  for (const char* secret : {"\"AT\"", "\"RT\"", "\"IT\""}) {
    EXPECT_EQ(masked.find(secret), std::string::npos) << masked;
  }
  EXPECT_NE(masked.find("\"n\":1"), std::string::npos);
  EXPECT_EQ(mask_body("grant_type=refresh_token&refresh_token=RT&client_id=c"),
            "grant_type=refresh_token&refresh_token=****&client_id=c");
  EXPECT_EQ(mask_body(R"({"a": 1.0})"), R"({"a": 1.0})");  // untouched when nothing is secret
  EXPECT_EQ(mask_body("plain text with = sign"), "plain text with = sign");
}

TEST(ClientCliPretty, IndentsTwoSpacesAndKeepsLexemes) {
  EXPECT_EQ(*pretty_json(R"({"a":1.0,"b":[1,2],"c":{},"d":[],"e":"x,y:{z}\"q"})"),
            "{\n"
            "  \"a\": 1.0,\n"
            "  \"b\": [\n"
            "    1,\n"
            "    2\n"
            "  ],\n"
            "  \"c\": {},\n"
            "  \"d\": [],\n"
            "  \"e\": \"x,y:{z}\\\"q\"\n"
            "}");
  EXPECT_EQ(*pretty_json(" 42 "), "42");
  EXPECT_EQ(*pretty_json("{ \"a\" : [ ] }"), "{\n  \"a\": []\n}");
  EXPECT_FALSE(pretty_json("<html>").has_value());
  EXPECT_FALSE(pretty_json("{\"a\":1} trailing").has_value());
  EXPECT_FALSE(pretty_json("").has_value());
}

}  // namespace
}  // namespace gatehouse::cli
