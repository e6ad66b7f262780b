#include "auth/identity_json.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

namespace gatehouse::auth {
namespace {

TEST(IdentityJson, ShapeWithoutSession) {
  Identity who;
  who.subject = "demo";
  who.scheme = "basic";
  who.roles = {"User", "Editor"};
  EXPECT_EQ(identity_json(who), R"({"user":"demo","scheme":"basic","roles":["User","Editor"]})");
}

TEST(IdentityJson, SessionAndExpiry) {
  Identity who;
  who.subject = "demo";
  who.scheme = "bearer";
  who.session_id = "abc";
  who.expires_at = 1795547494;
  EXPECT_EQ(
      identity_json(who),
      R"({"user":"demo","scheme":"bearer","roles":[],"session":"abc","expires_at":1795547494})");
}

// Whatever a store lets through, the output is JSON that parses back to the same strings.
TEST(IdentityJson, EscapesQuotesBackslashesControlsAndKeepsUtf8) {
  Identity who;
  who.subject = "a\"b\\c\x01\x1f\tz \xc3\xa9\xe2\x82\xac";
  who.scheme = "basic";
  who.roles = {"R\"1"};
  const auto parsed = boost::json::parse(identity_json(who)).as_object();
  EXPECT_EQ(parsed.at("user").as_string(), who.subject);
  EXPECT_EQ(parsed.at("roles").as_array().at(0).as_string(), "R\"1");
}

}  // namespace
}  // namespace gatehouse::auth
