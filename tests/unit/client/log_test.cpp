#include "client/log.hpp"

#include <gtest/gtest.h>

namespace gatehouse::client {
namespace {

TEST(ClientLog, MasksCredentialHeaders) {
  EXPECT_EQ(header_for_log("Authorization", "Bearer abc.def"), "Authorization: Bearer ***");
  EXPECT_EQ(header_for_log("proxy-authorization", "Basic eDp5"), "proxy-authorization: Basic ***");
  EXPECT_EQ(header_for_log("Authorization", "opaque"), "Authorization: ***");
  EXPECT_EQ(header_for_log("Cookie", "session=s3cret; other=1"), "Cookie: ***");
  EXPECT_EQ(header_for_log("Set-Cookie", "a b"), "Set-Cookie: ***");
  EXPECT_EQ(header_for_log("Accept", "text/html"), "Accept: text/html");
}

TEST(ClientLog, LoggerName) {
  EXPECT_EQ(client_log().name(), "gatehouse.client");
}

}  // namespace
}  // namespace gatehouse::client
