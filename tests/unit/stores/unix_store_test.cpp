// The shadow(5) parser and UnixStore over a shadow file written by the test.
#include "stores/unix_store.hpp"

#include <gtest/gtest.h>

#include <fstream>

#include "../temp_dir.hpp"
#include "auth/password_hash.hpp"

namespace gatehouse::stores {
namespace {

using gatehouse::testing::TempDir;
constexpr std::int64_t kToday = 20000;  // days since the epoch

TEST(ParseShadowLine, Fields) {
  auto e = parse_shadow_line("alice:$y$j9T$abc$def:19000:0:99999:7:::", kToday);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->name, "alice");
  EXPECT_EQ(e->hash, "$y$j9T$abc$def");
  EXPECT_TRUE(e->usable);
}

TEST(ParseShadowLine, LockedEmptyAndExpiredAccountsAreNotUsable) {
  EXPECT_FALSE(parse_shadow_line("a:!$6$x$y:19000:0:99999:7:::", kToday)->usable);
  EXPECT_FALSE(parse_shadow_line("a:*:19000:0:99999:7:::", kToday)->usable);
  EXPECT_FALSE(parse_shadow_line("a::19000:0:99999:7:::", kToday)->usable);
  EXPECT_FALSE(parse_shadow_line("a:$6$x$y:19000:0:99999:7::19999:", kToday)->usable);
  EXPECT_TRUE(parse_shadow_line("a:$6$x$y:19000:0:99999:7::20001:", kToday)->usable);
  EXPECT_FALSE(parse_shadow_line("a:$6$x$y:19000:0:99999:7::12x:", kToday)->usable);
}

TEST(ParseShadowLine, NonEntries) {
  EXPECT_FALSE(parse_shadow_line("", kToday));
  EXPECT_FALSE(parse_shadow_line("# comment", kToday));
  EXPECT_FALSE(parse_shadow_line(":$6$x$y:::::::", kToday));
  EXPECT_FALSE(parse_shadow_line("nocolon", kToday));
  EXPECT_FALSE(parse_shadow_line(std::string(5000, 'a') + ":x", kToday));
}

TEST(UnixStore, FindsUsersAndPicksUpChanges) {
  TempDir dir;
  const std::string path = dir.file("shadow");
  const std::string hash = auth::hash_bcrypt("secret", 4);
  std::ofstream(path) << "root:*:19000:0:99999:7:::\nalice:" << hash << ":19000:0:99999:7:::\n";
  FakeClock clock(kToday * 86400LL * 1000);
  UnixStore store({"User"}, path, clock);
  EXPECT_EQ(store.name(), "unix");
  EXPECT_TRUE(store.can(StoreCapability::password));
  EXPECT_FALSE(store.can(StoreCapability::digest_ha1));

  const auto alice = store.find_password("alice");
  ASSERT_EQ(alice.status, LookupStatus::found);
  EXPECT_TRUE(auth::verify_password(alice.record.hash, "secret"));
  EXPECT_FALSE(alice.record.disabled);
  EXPECT_EQ(alice.record.roles, std::vector<std::string>{"User"});
  EXPECT_TRUE(store.find_password("root").record.disabled) << "locked accounts are refused";
  EXPECT_EQ(store.find_password("bob").status, LookupStatus::unknown_user);

  std::ofstream(path) << "alice:!" << hash << ":19000:0:99999:7:::\nbob:" << hash
                      << ":19000:0:99999:7:::\n";
  store.refresh();
  EXPECT_TRUE(store.find_password("alice").record.disabled) << "usermod -L takes effect";
  EXPECT_EQ(store.find_password("bob").status, LookupStatus::found);
}

TEST(UnixStore, UnreadableShadowThrowsNamingTheFile) {
  EXPECT_THROW(
      {
        try {
          UnixStore store({"User"}, "/nonexistent/shadow");
        } catch (const std::runtime_error& e) {
          EXPECT_NE(std::string(e.what()).find("/nonexistent/shadow"), std::string::npos);
          throw;
        }
      },
      std::runtime_error);
}

}  // namespace
}  // namespace gatehouse::stores
