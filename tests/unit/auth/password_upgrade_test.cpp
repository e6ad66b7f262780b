// Imported hashes are upgraded to argon2id on the first successful login (SPEC §5).
#include <gtest/gtest.h>

#include <filesystem>
#include <future>

#include "auth/credential_cache.hpp"
#include "auth/password_check.hpp"
#include "auth/password_hash.hpp"
#include "auth/worker_pool.hpp"
#include "state/state_store.hpp"
#include "stores/db_store.hpp"

namespace gatehouse::auth {
namespace {

class PasswordUpgrade : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("gh-upgrade-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    state_ = state::open_state_store("sqlite:" + (dir_ / "t.db").string());
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  Outcome login(const std::string& user, const std::string& password) {
    auto db = std::make_shared<stores::DbStore>(state_);
    SystemClock clock;
    CredentialCache cache("secret", 60000, 100, clock);
    std::promise<Outcome> result;
    {
      WorkerPool pool(1, 4);
      PasswordCheck check({db}, pool, cache, clock);
      check.check(PasswordCredentials{user, Secret(password)}, "basic", "127.0.0.1",
                  [&](Outcome o) { result.set_value(std::move(o)); });
    }  // the pool's destructor joins: any upgrade that followed the answer has finished
    return result.get_future().get();
  }

  std::filesystem::path dir_;
  std::shared_ptr<state::StateStore> state_;
};

TEST_F(PasswordUpgrade, BcryptHashBecomesArgon2idAfterLogin) {
  const std::string bcrypt = hash_bcrypt("s3cret", 4);
  ASSERT_TRUE(state_->add_user({"carol", bcrypt, {"User"}, false, 1, 1}));
  EXPECT_EQ(login("carol", "s3cret").kind, OutcomeKind::granted);
  const auto row = state_->find_user("carol");
  ASSERT_TRUE(row);
  EXPECT_EQ(detect_hash_format(row->password_hash), HashFormat::argon2id);
  EXPECT_TRUE(verify_password(row->password_hash, "s3cret"));
  EXPECT_EQ(login("carol", "s3cret").kind, OutcomeKind::granted) << "the new hash verifies";
}

TEST_F(PasswordUpgrade, WrongPasswordLeavesTheHashAlone) {
  const std::string bcrypt = hash_bcrypt("s3cret", 4);
  ASSERT_TRUE(state_->add_user({"dave", bcrypt, {"User"}, false, 1, 1}));
  EXPECT_EQ(login("dave", "wrong").kind, OutcomeKind::denied);
  EXPECT_EQ(state_->find_user("dave")->password_hash, bcrypt);
}

TEST_F(PasswordUpgrade, Argon2idHashIsNotRewritten) {
  const std::string argon = hash_argon2id("s3cret");
  ASSERT_TRUE(state_->add_user({"erin", argon, {"User"}, false, 1, 1}));
  const auto generation = state_->generation();
  EXPECT_EQ(login("erin", "s3cret").kind, OutcomeKind::granted);
  EXPECT_EQ(state_->find_user("erin")->password_hash, argon);
  EXPECT_EQ(state_->generation(), generation);
}

TEST_F(PasswordUpgrade, ReplaceIsCompareAndSet) {
  ASSERT_TRUE(state_->add_user({"fred", "old", {"User"}, false, 1, 1}));
  EXPECT_FALSE(state_->replace_password_hash("fred", "not-current", "new", 2));
  EXPECT_EQ(state_->find_user("fred")->password_hash, "old");
  EXPECT_TRUE(state_->replace_password_hash("fred", "old", "new", 2));
  EXPECT_EQ(state_->find_user("fred")->password_hash, "new");
}

}  // namespace
}  // namespace gatehouse::auth
