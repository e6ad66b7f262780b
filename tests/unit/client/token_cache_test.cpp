#include "client/token_cache.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>

#include "../temp_dir.hpp"

namespace gatehouse::client {
namespace {

mode_t mode_of(const std::filesystem::path& path) {
  struct stat st {};
  EXPECT_EQ(::lstat(path.c_str(), &st), 0) << path;
  return st.st_mode & 07777;
}

CachedTokens sample(std::string access = "at-1", std::string refresh = "rt-1") {
  CachedTokens t;
  t.tokens.access_token = Secret(access);
  t.tokens.refresh_token = Secret(refresh);
  t.tokens.expires_at = 1'700'000'600;
  t.tokens.refresh_url = "http://127.0.0.1:8000/auth/refresh";
  t.tokens.refresh_style = TokenSet::RefreshStyle::gatehouse_json;
  t.token_endpoint = "http://127.0.0.1:8000/auth/token";
  t.user = "demo";
  return t;
}

TEST(ClientTokenCache, OriginIsSchemeHostPortInLowerCaseWithDefaultPorts) {
  EXPECT_EQ(origin_of("http://127.0.0.1:8000/auth/whoami?x=1"), "http://127.0.0.1:8000");
  EXPECT_EQ(origin_of("HTTPS://Example.COM/path"), "https://example.com:443");
  EXPECT_EQ(origin_of("http://example.com"), "http://example.com:80");
  EXPECT_EQ(origin_of("http://user:pw@example.com:81/"), "http://example.com:81");
  EXPECT_EQ(origin_of("http://[::1]:8000/"), "http://[::1]:8000");
  EXPECT_THROW(origin_of("ftp://example.com/"), RequestError);
  EXPECT_THROW(origin_of("/relative"), RequestError);
  EXPECT_THROW(origin_of("not a url"), RequestError);
}

TEST(ClientTokenCache, OneFilePerOriginWithASafeName) {
  const TokenCache cache("/nonexistent/gatehouse");
  EXPECT_EQ(cache.file_for("http://127.0.0.1:8000/a").filename(), "http_127.0.0.1_8000.json");
  EXPECT_EQ(cache.file_for("http://127.0.0.1:8000/b?c"), cache.file_for("http://127.0.0.1:8000"));
  EXPECT_EQ(cache.file_for("https://Example.com/").filename(), "https_example.com_443.json");
  EXPECT_EQ(cache.file_for("http://[::1]:80/").filename(), "http_%5B%3A%3A1%5D_80.json");
  // Different ports, schemes and hosts never share a file.
  EXPECT_NE(cache.file_for("http://a:1/"), cache.file_for("http://a:2/"));
  EXPECT_NE(cache.file_for("http://a:1/"), cache.file_for("https://a:1/"));
  EXPECT_NE(cache.file_for("http://a.b:1/"), cache.file_for("http://a-b:1/"));
  // Whatever the URL, the name stays inside the directory.
  EXPECT_EQ(cache.file_for("http://..%2F..%2Fetc:1/").parent_path(), cache.directory());
}

TEST(ClientTokenCache, StoresIntoAPrivateDirectoryAndReadsBack) {
  testing::TempDir tmp;
  const TokenCache cache(tmp.path() / "config" / "gatehouse");
  EXPECT_FALSE(cache.load("http://127.0.0.1:8000").has_value());  // no directory yet
  cache.store("http://127.0.0.1:8000/x", sample());
  EXPECT_EQ(mode_of(cache.directory()), 0700u);
  const auto file = cache.file_for("http://127.0.0.1:8000");
  EXPECT_EQ(mode_of(file), 0600u);

  const auto back = cache.load("http://127.0.0.1:8000/other/path");
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->tokens.access_token.reveal(), "at-1");
  EXPECT_EQ(back->tokens.refresh_token.reveal(), "rt-1");
  EXPECT_EQ(back->tokens.expires_at, 1'700'000'600);
  EXPECT_EQ(back->tokens.refresh_url, "http://127.0.0.1:8000/auth/refresh");
  EXPECT_EQ(back->tokens.refresh_style, TokenSet::RefreshStyle::gatehouse_json);
  EXPECT_EQ(back->token_endpoint, "http://127.0.0.1:8000/auth/token");
  EXPECT_EQ(back->user, "demo");
  // Another origin has no tokens.
  EXPECT_FALSE(cache.load("http://127.0.0.1:8001").has_value());
  EXPECT_FALSE(cache.load("https://127.0.0.1:8000").has_value());
}

TEST(ClientTokenCache, TheFileFormatHasTheDocumentedMembers) {
  CachedTokens t = sample();
  t.tokens.refresh_style = TokenSet::RefreshStyle::oauth_form;
  t.tokens.client_id = "gatehouse-cli";
  const std::string json = to_json(t);
  for (const char* member :
       {"\"access_token\":\"at-1\"", "\"refresh_token\":\"rt-1\"", "\"expires_at\":1700000600",
        "\"refresh_style\":\"oauth_form\"", "\"client_id\":\"gatehouse-cli\"", "\"token_endpoint\"",
        "\"refresh_url\"", "\"user\":\"demo\""}) {
    EXPECT_NE(json.find(member), std::string::npos) << member << " in " << json;
  }
  const auto back = cached_tokens_from_json(json);
  EXPECT_EQ(back.tokens.refresh_style, TokenSet::RefreshStyle::oauth_form);
  EXPECT_EQ(back.tokens.client_id, "gatehouse-cli");
  EXPECT_THROW(cached_tokens_from_json("[]"), TokenCacheError);
  EXPECT_THROW(cached_tokens_from_json("{}"), TokenCacheError);
  EXPECT_THROW(cached_tokens_from_json(R"({"access_token":1})"), TokenCacheError);
  EXPECT_THROW(cached_tokens_from_json(R"({"access_token":"a","refresh_style":"x"})"),
               TokenCacheError);
  EXPECT_THROW(cached_tokens_from_json(R"({"access_token":"a","expires_at":"soon"})"),
               TokenCacheError);
}

TEST(ClientTokenCache, ReplacesTheFileAtomicallyAndLeavesNoTemporaries) {
  testing::TempDir tmp;
  const TokenCache cache(tmp.path() / "gatehouse");
  cache.store("http://h:1", sample("old-access", "old-refresh"));
  const auto file = cache.file_for("http://h:1");
  struct stat before {};
  ASSERT_EQ(::stat(file.c_str(), &before), 0);
  // A reader that opened the old file keeps reading the old tokens: the new ones arrive as a
  // new inode by rename, never by rewriting the file in place.
  std::ifstream old_reader(file);
  cache.store("http://h:1", sample("new-access", "new-refresh"));
  struct stat after {};
  ASSERT_EQ(::stat(file.c_str(), &after), 0);
  EXPECT_NE(before.st_ino, after.st_ino);
  std::stringstream old_text;
  old_text << old_reader.rdbuf();
  EXPECT_NE(old_text.str().find("old-access"), std::string::npos);
  EXPECT_EQ(cache.load("http://h:1")->tokens.access_token.reveal(), "new-access");
  EXPECT_EQ(mode_of(file), 0600u);
  std::size_t entries = 0;
  for (const auto& e : std::filesystem::directory_iterator(cache.directory())) {
    ++entries;
    EXPECT_EQ(e.path(), file);
  }
  EXPECT_EQ(entries, 1u);
}

TEST(ClientTokenCache, NewFilesAre0600WhateverTheUmask) {
  testing::TempDir tmp;
  const mode_t old = ::umask(0);
  const TokenCache cache(tmp.path() / "gatehouse");
  cache.store("http://h:1", sample());
  ::umask(old);
  EXPECT_EQ(mode_of(cache.directory()), 0700u);
  EXPECT_EQ(mode_of(cache.file_for("http://h:1")), 0600u);
}

TEST(ClientTokenCache, RefusesAFileOthersCanRead) {
  testing::TempDir tmp;
  const TokenCache cache(tmp.path() / "gatehouse");
  cache.store("http://h:1", sample());
  const auto file = cache.file_for("http://h:1");
  ASSERT_EQ(::chmod(file.c_str(), 0644), 0);
  try {
    cache.load("http://h:1");
    FAIL() << "a 0644 token file was read";
  } catch (const TokenCacheError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("0644"), std::string::npos) << what;
    EXPECT_NE(what.find(file.string()), std::string::npos) << what;
    EXPECT_NE(what.find("chmod 600"), std::string::npos) << what;
  }
  ASSERT_EQ(::chmod(file.c_str(), 0640), 0);
  EXPECT_THROW(cache.load("http://h:1"), TokenCacheError);
  ASSERT_EQ(::chmod(file.c_str(), 0602), 0);
  EXPECT_THROW(cache.load("http://h:1"), TokenCacheError);
  ASSERT_EQ(::chmod(file.c_str(), 0600), 0);
  EXPECT_TRUE(cache.load("http://h:1").has_value());
  // Storing again replaces the file with a private one.
  ASSERT_EQ(::chmod(file.c_str(), 0644), 0);
  cache.store("http://h:1", sample());
  EXPECT_EQ(mode_of(file), 0600u);
}

TEST(ClientTokenCache, RefusesADirectoryOthersCanWriteAndASymlinkedFile) {
  testing::TempDir tmp;
  const TokenCache cache(tmp.path() / "gatehouse");
  cache.store("http://h:1", sample());
  ASSERT_EQ(::chmod(cache.directory().c_str(), 0777), 0);
  EXPECT_THROW(cache.load("http://h:1"), TokenCacheError);
  // store() tightens a directory of ours.
  cache.store("http://h:1", sample());
  EXPECT_EQ(mode_of(cache.directory()), 0700u);

  const auto target = tmp.path() / "elsewhere.json";
  std::filesystem::copy_file(cache.file_for("http://h:1"), target);
  std::filesystem::remove(cache.file_for("http://h:2"));
  std::filesystem::create_symlink(target, cache.file_for("http://h:2"));
  EXPECT_THROW(cache.load("http://h:2"), TokenCacheError);
}

TEST(ClientTokenCache, RefusesAFileOfAnotherUser) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to chown";
  testing::TempDir tmp;
  const TokenCache cache(tmp.path() / "gatehouse");
  cache.store("http://h:1", sample());
  ASSERT_EQ(::chown(cache.file_for("http://h:1").c_str(), 65534, 65534), 0);
  try {
    cache.load("http://h:1");
    FAIL() << "another user's token file was read";
  } catch (const TokenCacheError& e) {
    EXPECT_NE(std::string(e.what()).find("another user"), std::string::npos) << e.what();
  }
}

TEST(ClientTokenCache, RemoveDeletesOnlyThatOrigin) {
  testing::TempDir tmp;
  const TokenCache cache(tmp.path() / "gatehouse");
  cache.store("http://h:1", sample());
  cache.store("http://h:2", sample());
  EXPECT_TRUE(cache.remove("http://h:1/whatever"));
  EXPECT_FALSE(cache.remove("http://h:1"));
  EXPECT_FALSE(cache.load("http://h:1").has_value());
  EXPECT_TRUE(cache.load("http://h:2").has_value());
}

TEST(ClientTokenCache, MalformedFileIsAClearError) {
  testing::TempDir tmp;
  const TokenCache cache(tmp.path() / "gatehouse");
  cache.store("http://h:1", sample());
  const auto file = cache.file_for("http://h:1");
  {
    const int fd = ::open(file.c_str(), O_WRONLY | O_TRUNC);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::write(fd, "{not json", 9), 9);
    ::close(fd);
  }
  try {
    cache.load("http://h:1");
    FAIL();
  } catch (const TokenCacheError& e) {
    EXPECT_NE(std::string(e.what()).find("log in again"), std::string::npos) << e.what();
  }
}

TEST(ClientTokenCache, DirectoryFromTheEnvironment) {
  const char* old_xdg = std::getenv("XDG_CONFIG_HOME");
  const char* old_home = std::getenv("HOME");
  const std::string saved_xdg = old_xdg ? old_xdg : "";
  const std::string saved_home = old_home ? old_home : "";
  ::setenv("XDG_CONFIG_HOME", "/xdg", 1);
  ::setenv("HOME", "/home/u", 1);
  EXPECT_EQ(TokenCache::from_environment().directory(), "/xdg/gatehouse");
  ::setenv("XDG_CONFIG_HOME", "relative", 1);  // not absolute: ignored (XDG spec)
  EXPECT_EQ(TokenCache::from_environment().directory(), "/home/u/.config/gatehouse");
  ::unsetenv("XDG_CONFIG_HOME");
  EXPECT_EQ(TokenCache::from_environment().directory(), "/home/u/.config/gatehouse");
  ::unsetenv("HOME");
  EXPECT_THROW(TokenCache::from_environment(), TokenCacheError);
  if (old_xdg) ::setenv("XDG_CONFIG_HOME", saved_xdg.c_str(), 1);
  if (old_home) ::setenv("HOME", saved_home.c_str(), 1);
}

// The per-origin lock (flock on "<file>.lock"): exclusive across open file descriptions, so
// across processes; private like the token files; released when the Lock dies.
TEST(ClientTokenCache, LockIsExclusivePerOriginAndPrivate) {
  testing::TempDir tmp;
  const TokenCache cache(tmp.path() / "config" / "gatehouse");
  const std::string lock_path = cache.file_for("http://h:1").string() + ".lock";
  const auto try_lock = [](const std::string& path) {
    const int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
    EXPECT_GE(fd, 0) << path;
    const bool got = ::flock(fd, LOCK_EX | LOCK_NB) == 0;
    ::close(fd);
    return got;
  };
  {
    TokenCache::Lock lock = cache.lock("http://h:1/any/path");
    EXPECT_TRUE(lock.held());
    EXPECT_EQ(mode_of(cache.directory()), 0700u);
    EXPECT_EQ(mode_of(lock_path), 0600u);
    EXPECT_FALSE(try_lock(lock_path));  // what another process would see
    // Another origin has its own lock.
    const TokenCache::Lock other = cache.lock("http://h:2");
    EXPECT_TRUE(other.held());
    // Moving keeps it held.
    TokenCache::Lock moved = std::move(lock);
    EXPECT_FALSE(try_lock(lock_path));
  }
  EXPECT_TRUE(try_lock(lock_path));
  // A lock file that is a symbolic link is refused; one too open is made private again.
  ASSERT_EQ(::chmod(lock_path.c_str(), 0644), 0);
  { const TokenCache::Lock lock = cache.lock("http://h:1"); }
  EXPECT_EQ(mode_of(lock_path), 0600u);
  const std::string link_path = cache.file_for("http://h:3").string() + ".lock";
  std::filesystem::create_symlink(tmp.path() / "elsewhere", link_path);
  EXPECT_THROW(cache.lock("http://h:3"), TokenCacheError);
  EXPECT_FALSE(std::filesystem::exists(tmp.path() / "elsewhere"));
}

}  // namespace
}  // namespace gatehouse::client
