#include "http/form.hpp"

#include <gtest/gtest.h>

namespace gatehouse::http {
namespace {

TEST(FormParse, DecodesPairs) {
  std::string error;
  const auto p = parse_form("grant_type=refresh_token&token=a%2Bb+c&empty=&flag", &error);
  ASSERT_TRUE(p.has_value()) << error;
  EXPECT_EQ(p->at("grant_type"), "refresh_token");
  EXPECT_EQ(p->at("token"), "a+b c");
  EXPECT_EQ(p->at("empty"), "");
  EXPECT_EQ(p->at("flag"), "");
}

TEST(FormParse, RefusesRepeatedNamesBadEscapesAndFloods) {
  std::string error;
  EXPECT_FALSE(parse_form("token=a&token=b", &error));
  EXPECT_EQ(error, "a form parameter is given more than once");
  EXPECT_FALSE(parse_form("token=%zz", &error));
  EXPECT_FALSE(parse_form("token=%ff%fe", &error));  // not UTF-8
  std::string many;
  for (int i = 0; i <= static_cast<int>(kMaxFormParams); ++i)
    many += "p" + std::to_string(i) + "=1&";
  EXPECT_FALSE(parse_form(many, &error));
  EXPECT_EQ(error, "the form body has too many parameters");
}

TEST(JsonParams, StringsOnlyAndStrict) {
  std::string error;
  const auto p = parse_json_params(R"({"username":"demo","password":"x","note":null})", &error);
  ASSERT_TRUE(p.has_value()) << error;
  EXPECT_EQ(p->size(), 2u);
  EXPECT_FALSE(parse_json_params(R"({"username":1})", &error));
  EXPECT_EQ(error, "\"username\" must be a string");
  EXPECT_FALSE(parse_json_params(R"({"a":"1","a":"2"})", &error));
  EXPECT_FALSE(parse_json_params(R"(["a"])", &error));
  EXPECT_FALSE(parse_json_params("{", &error));
}

TEST(ReadParams, FollowsContentType) {
  Request r;
  std::vector<HeaderField> headers{{"Content-Type", "application/json; charset=utf-8"}};
  r.headers = headers;
  r.body = R"({"refresh_token":"t"})";
  std::string error;
  auto p = read_params(r, &error);
  ASSERT_TRUE(p.has_value()) << error;
  EXPECT_EQ(p->at("refresh_token"), "t");
  r.headers = {{"Content-Type", "text/plain"}};
  EXPECT_FALSE(read_params(r, &error));
  r.headers = {{"content-type", "APPLICATION/X-WWW-FORM-URLENCODED"}};
  r.body = "refresh_token=t";
  EXPECT_TRUE(read_params(r, &error).has_value());
  r.body = "";
  EXPECT_TRUE(read_params(r, &error)->empty());
}

}  // namespace
}  // namespace gatehouse::http
