// The htpasswd line parser, and HtpasswdStore on files written by Apache's own htpasswd tool.
#include "stores/htpasswd_store.hpp"
#include "../temp_dir.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>

#include "auth/password_hash.hpp"

namespace gatehouse::stores {
namespace {

using auth::verify_password;
using namespace std::string_literals;

// ---- parse_htpasswd_line -------------------------------------------------------------------

HtpasswdEntry entry_of(std::string_view line) {
  auto parsed = parse_htpasswd_line(line);
  if (auto* entry = std::get_if<HtpasswdEntry>(&parsed)) return *entry;
  ADD_FAILURE() << "not an entry: " << line;
  return {};
}

std::string error_of(std::string_view line) {
  auto parsed = parse_htpasswd_line(line);
  if (auto* error = std::get_if<std::string>(&parsed)) return *error;
  ADD_FAILURE() << "not an error: " << line;
  return {};
}

bool is_blank_or_comment(std::string_view line) {
  return std::holds_alternative<std::monostate>(parse_htpasswd_line(line));
}

TEST(ParseHtpasswdLine, GoodLines) {
  HtpasswdEntry e = entry_of("alice:$apr1$hEx.Ipio$XMCPgqYJ92m/qja1.mdPY1");
  EXPECT_EQ(e.username, "alice");
  EXPECT_EQ(e.hash, "$apr1$hEx.Ipio$XMCPgqYJ92m/qja1.mdPY1");

  e = entry_of("bob:{SHA}L55TUjtiq8FBorTWAZ0jy6g129A=\r");
  EXPECT_EQ(e.username, "bob");
  EXPECT_EQ(e.hash, "{SHA}L55TUjtiq8FBorTWAZ0jy6g129A=") << "CRLF line ending is trimmed";

  e = entry_of("jürgen.müller@example.org:z/lliVzSONLkI");
  EXPECT_EQ(e.username, "jürgen.müller@example.org");

  e = entry_of("carol:$apr1$hEx.Ipio$XMCPgqYJ92m/qja1.mdPY1:Carol Example");
  EXPECT_EQ(e.username, "carol") << "the name ends at the first ':'";
  EXPECT_EQ(e.hash, "$apr1$hEx.Ipio$XMCPgqYJ92m/qja1.mdPY1")
      << "as in Apache's mod_authn_file, the hash ends at the next ':'";
}

TEST(ParseHtpasswdLine, BlankLinesAndComments) {
  EXPECT_TRUE(is_blank_or_comment(""));
  EXPECT_TRUE(is_blank_or_comment("\r"));
  EXPECT_TRUE(is_blank_or_comment("   \t "));
  EXPECT_TRUE(is_blank_or_comment("# alice:$apr1$x$y"));
  EXPECT_TRUE(is_blank_or_comment("#\r"));
}

TEST(ParseHtpasswdLine, BadLines) {
  EXPECT_FALSE(error_of("alice").empty());
  EXPECT_FALSE(error_of("alice\r").empty());
  EXPECT_FALSE(error_of(":hash").empty());
  EXPECT_FALSE(error_of("alice:").empty());
  EXPECT_FALSE(error_of("alice:\r").empty());
  EXPECT_FALSE(error_of("al\0ice:hash"s).empty());
  EXPECT_FALSE(error_of("alice:ha\0sh"s).empty());
  EXPECT_FALSE(error_of("al\tice:hash").empty());
  EXPECT_FALSE(error_of("al\x7f"
                        "ice:hash")
                   .empty());
  EXPECT_FALSE(error_of("al\rice:hash").empty());
  EXPECT_FALSE(error_of("\x1b[31malice:hash").empty());
}

TEST(ParseHtpasswdLine, LinesOver4096BytesAreRefused) {
  const std::string at_limit = "alice:" + std::string(4096 - 6, 'h');
  EXPECT_EQ(entry_of(at_limit).username, "alice");
  EXPECT_FALSE(error_of(at_limit + "h").empty());
  EXPECT_FALSE(error_of(std::string(100000, 'a')).empty());
}

TEST(ParseHtpasswdLine, ErrorsDoNotEchoTheHash) {
  for (const std::string& line : {":secrethash"s, "al\0ice:secrethash"s, "a\tb:secrethash"s}) {
    EXPECT_EQ(error_of(line).find("secrethash"), std::string::npos) << error_of(line);
  }
}

// ---- HtpasswdStore -------------------------------------------------------------------------

using gatehouse::testing::TempDir;

std::string quoted(const std::string& text) {
  std::string out = "'";
  for (char c : text) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

// Runs Apache's htpasswd with `flags` on `file` for `user`, with `password` in batch mode (-b)
// unless the flags delete the user (-D).
void htpasswd(const std::string& flags, const std::string& file, const std::string& user,
              const std::string& password = "") {
  ASSERT_EQ(std::system("command -v htpasswd >/dev/null 2>&1"), 0)
      << "Apache's htpasswd (apache2-utils) is required for this test";
  const bool deleting = flags.find("-D") != std::string::npos;
  std::string command = "htpasswd " + std::string(deleting ? "" : "-b ") + flags + " " +
                        quoted(file) + " " + quoted(user);
  if (!deleting) command += " " + quoted(password);
  ASSERT_EQ(std::system((command + " >/dev/null 2>&1").c_str()), 0) << command;
}

void write_file(const std::string& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
  ASSERT_TRUE(out.good()) << path;
}

void set_mtime(const std::string& path, std::time_t seconds, long nanoseconds = 0) {
  const timespec times[2] = {{seconds, nanoseconds}, {seconds, nanoseconds}};
  ASSERT_EQ(::utimensat(AT_FDCWD, path.c_str(), times, 0), 0) << path;
}

void expect_verifies(const CredentialStore& store, const std::string& user,
                     const std::string& password) {
  const PasswordLookup lookup = store.find_password(user);
  ASSERT_EQ(lookup.status, LookupStatus::found) << user;
  EXPECT_EQ(lookup.record.username, user);
  EXPECT_FALSE(lookup.record.disabled);
  EXPECT_TRUE(verify_password(lookup.record.hash, password)) << user << ": " << lookup.record.hash;
  EXPECT_FALSE(verify_password(lookup.record.hash, "X" + password)) << user;
}

bool knows(const CredentialStore& store, const std::string& user) {
  return store.find_password(user).status == LookupStatus::found;
}

TEST(HtpasswdStore, EveryFormatTheRealToolWritesVerifies) {
  const TempDir dir;
  const std::string file = dir.file("htpasswd");
  htpasswd("-c -B -C 5", file, "bcrypt", "pw bcrypt");
  htpasswd("-m", file, "md5", "pw:md5");
  htpasswd("-s", file, "sha1", "pw sha1");
  htpasswd("-2", file, "sha256", "pw sha256");
  htpasswd("-5", file, "sha512", "pw sha512");
  htpasswd("-d", file, "des", "pw des");
  htpasswd("-B -C 5", file, "ünïcode", "pässwörd");

  const HtpasswdStore store(file, {"User", "Reader"});
  EXPECT_EQ(store.name(), "htpasswd:" + file);
  EXPECT_EQ(store.skipped_lines(), 0u);
  expect_verifies(store, "bcrypt", "pw bcrypt");
  expect_verifies(store, "md5", "pw:md5");
  expect_verifies(store, "sha1", "pw sha1");
  expect_verifies(store, "sha256", "pw sha256");
  expect_verifies(store, "sha512", "pw sha512");
  expect_verifies(store, "des", "pw des");
  expect_verifies(store, "ünïcode", "pässwörd");
  EXPECT_EQ(store.find_password("md5").record.roles, (std::vector<std::string>{"User", "Reader"}));
  EXPECT_FALSE(knows(store, "MD5")) << "names match exactly";
}

TEST(HtpasswdStore, PlaintextEntriesAreRefusedAsApacheDoesOnUnix) {
  const TempDir dir;
  const std::string file = dir.file("htpasswd");
  htpasswd("-c -p", file, "plain", "plaintext pw");
  const HtpasswdStore store(file, {"User"});
  ASSERT_TRUE(knows(store, "plain"));
  EXPECT_FALSE(verify_password(store.find_password("plain").record.hash, "plaintext pw"));
}

TEST(HtpasswdStore, RefreshSeesEditsMadeByTheTool) {
  const TempDir dir;
  const std::string file = dir.file("htpasswd");
  htpasswd("-c -m", file, "alice", "alice pw");
  htpasswd("-m", file, "bob", "bob pw");
  HtpasswdStore store(file, {"User"});
  expect_verifies(store, "alice", "alice pw");

  htpasswd("-B -C 5", file, "carol", "carol pw");
  htpasswd("-D", file, "alice");
  htpasswd("-s", file, "bob", "bob new pw");
  store.refresh();
  EXPECT_FALSE(knows(store, "alice"));
  expect_verifies(store, "bob", "bob new pw");
  expect_verifies(store, "carol", "carol pw");
}

TEST(HtpasswdStore, RefreshSeesAFileRenamedIntoPlace) {
  const TempDir dir;
  const std::string file = dir.file("htpasswd");
  htpasswd("-c -m", file, "alice", "alice pw");
  HtpasswdStore store(file, {"User"});

  const std::string staging = dir.file("staging");
  htpasswd("-c -m", staging, "dave", "dave pw");
  std::filesystem::rename(staging, file);
  store.refresh();
  EXPECT_FALSE(knows(store, "alice"));
  expect_verifies(store, "dave", "dave pw");
}

TEST(HtpasswdStore, KeepsServingTheLastGoodFileWhileItIsMissing) {
  const TempDir dir;
  const std::string file = dir.file("htpasswd");
  htpasswd("-c -m", file, "alice", "alice pw");
  HtpasswdStore store(file, {"User"});

  std::filesystem::remove(file);
  store.refresh();
  expect_verifies(store, "alice", "alice pw");

  std::filesystem::create_directory(file);  // unreadable as a file
  store.refresh();
  expect_verifies(store, "alice", "alice pw");
  std::filesystem::remove(file);

  htpasswd("-c -m", file, "bob", "bob pw");
  store.refresh();
  EXPECT_FALSE(knows(store, "alice"));
  expect_verifies(store, "bob", "bob pw");
}

// A file last changed long ago is re-read only when its mtime, size or inode changes.
TEST(HtpasswdStore, OldFileIsRereadOnlyWhenMtimeSizeOrInodeChange) {
  const TempDir dir;
  const std::string file = dir.file("htpasswd");
  const std::time_t an_hour_ago = std::time(nullptr) - 3600;
  write_file(file, "alice:{PLAIN}one\n");
  set_mtime(file, an_hour_ago);
  HtpasswdStore store(file, {"User"});

  // Same inode, size and mtime: not re-read (the documented limit of the check).
  write_file(file, "alice:{PLAIN}two\n");
  set_mtime(file, an_hour_ago);
  store.refresh();
  EXPECT_TRUE(verify_password(store.find_password("alice").record.hash, "one"));

  // Only the nanoseconds of the mtime differ: re-read.
  set_mtime(file, an_hour_ago, 1);
  store.refresh();
  EXPECT_TRUE(verify_password(store.find_password("alice").record.hash, "two"));

  // Only the size differs: re-read.
  write_file(file, "alice:{PLAIN}three\n");
  set_mtime(file, an_hour_ago, 1);
  store.refresh();
  EXPECT_TRUE(verify_password(store.find_password("alice").record.hash, "three"));
}

// A file changed within the last two seconds may change again within one timestamp tick without
// changing size, so it is re-read on every refresh until it is older.
TEST(HtpasswdStore, RecentlyChangedFileIsRereadEvenIfItLooksUnchanged) {
  const TempDir dir;
  const std::string file = dir.file("htpasswd");
  const std::time_t now = std::time(nullptr);
  write_file(file, "alice:{PLAIN}one\n");
  set_mtime(file, now, 5);
  HtpasswdStore store(file, {"User"});

  write_file(file, "alice:{PLAIN}two\n");
  set_mtime(file, now, 5);
  store.refresh();
  EXPECT_TRUE(verify_password(store.find_password("alice").record.hash, "two"));
}

TEST(HtpasswdStore, BadLinesAreSkippedAndCounted) {
  const TempDir dir;
  const std::string file = dir.file("htpasswd");
  write_file(file,
             "# users\r\n"
             "alice:{PLAIN}alice pw\r\n"
             "\r\n"
             "no colon here\n"
             ":{PLAIN}no user\n"
             "empty-hash:\n"
             "nul\0user:{PLAIN}x\n"s +
                 "long:" + std::string(5000, 'h') + "\n" +
                 "bob:{SHA}399krMU+4UceMURP+SuAz3WFPxk=\n"
                 "alice:{PLAIN}duplicate, ignored\n"
                 "carol:{PLAIN}no final newline");
  const HtpasswdStore store(file, {"User"});
  EXPECT_EQ(store.skipped_lines(), 5u);
  expect_verifies(store, "alice", "alice pw");
  expect_verifies(store, "bob", "p:ss wörd");
  expect_verifies(store, "carol", "no final newline");
  EXPECT_FALSE(knows(store, "long"));
  EXPECT_FALSE(knows(store, "empty-hash"));
  EXPECT_FALSE(knows(store, "# users"));
}

TEST(HtpasswdStore, EmptyFileIsAValidStoreWithNoUsers) {
  const TempDir dir;
  const std::string file = dir.file("htpasswd");
  write_file(file, "");
  const HtpasswdStore store(file, {"User"});
  EXPECT_FALSE(knows(store, "alice"));
}

TEST(HtpasswdStore, UnreadableFileAtStartThrowsNamingThePath) {
  const TempDir dir;
  const std::string missing = dir.file("missing");
  try {
    HtpasswdStore store(missing, {"User"});
    FAIL() << "no exception for a missing file";
  } catch (const std::runtime_error& error) {
    EXPECT_NE(std::string(error.what()).find(missing), std::string::npos) << error.what();
  }
  const std::string directory = dir.file("a-directory");
  std::filesystem::create_directory(directory);
  EXPECT_THROW(HtpasswdStore(directory, {"User"}), std::runtime_error);
}

}  // namespace
}  // namespace gatehouse::stores
