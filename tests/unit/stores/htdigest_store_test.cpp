// The htdigest line parser, and HtdigestStore on files written by Apache's own htdigest tool
// (driven through a pseudo-terminal, since it reads the password only from a terminal) and on
// literal lines it wrote.
#include "stores/htdigest_store.hpp"
#include "../temp_dir.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <pty.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <chrono>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "gatehouse/secret.hpp"
#include "schemes/digest_compute.hpp"

namespace gatehouse::stores {
namespace {

using namespace std::string_literals;
using schemes::DigestAlgorithm;

// ---- parse_htdigest_line -------------------------------------------------------------------

HtdigestEntry entry_of(std::string_view line) {
  auto parsed = parse_htdigest_line(line);
  if (auto* entry = std::get_if<HtdigestEntry>(&parsed)) return *entry;
  ADD_FAILURE() << "not an entry: " << line;
  return {};
}

std::string error_of(std::string_view line) {
  auto parsed = parse_htdigest_line(line);
  if (auto* error = std::get_if<std::string>(&parsed)) {
    EXPECT_FALSE(error->empty()) << line;
    return *error;
  }
  ADD_FAILURE() << "not an error: " << line;
  return {};
}

bool is_error(std::string_view line) {
  return std::holds_alternative<std::string>(parse_htdigest_line(line));
}

bool is_blank_or_comment(std::string_view line) {
  return std::holds_alternative<std::monostate>(parse_htdigest_line(line));
}

const std::string kMd5 = "f320b6064843472b5b409f837cc3fedf";  // alice:gatehouse:alice pw
const std::string kSha256 = "c88b3e89c4d0b8b10caf517f461ffec8020311ee02ced347358be96fce1420fa";
const std::string kSha512_256 = "5adf0c8a1c3f3a1469d9cf34367a2e102a99c24527d3f4d21b6519ed038e68a0";

std::string upper(std::string text) {
  for (char& c : text) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return text;
}

TEST(ParseHtdigestLine, ApacheLines) {
  HtdigestEntry e = entry_of("alice:gatehouse:" + kMd5);
  EXPECT_EQ(e.username, "alice");
  EXPECT_EQ(e.realm, "gatehouse");
  EXPECT_EQ(e.algorithm, Ha1Algorithm::md5);
  EXPECT_EQ(e.ha1, kMd5);

  e = entry_of("alice:other realm:" + upper(kMd5) + "\r");
  EXPECT_EQ(e.realm, "other realm") << "spaces belong to the realm";
  EXPECT_EQ(e.ha1, kMd5) << "hex is lower-cased and the CR of a CRLF line ending trimmed";

  e = entry_of("jürgen:Grüße:b0e13a0f3a43afe551df8b852a9a0a1b");
  EXPECT_EQ(e.username, "jürgen");
  EXPECT_EQ(e.realm, "Grüße");

  e = entry_of("carol:gatehouse:" + kMd5 + ":Carol Example");
  EXPECT_EQ(e.username, "carol");
  EXPECT_EQ(e.ha1, kMd5) << "as in Apache, the HA1 ends at the next ':'";
}

TEST(ParseHtdigestLine, ExtensionLines) {
  HtdigestEntry e = entry_of("alice:gatehouse:SHA-256:" + kSha256);
  EXPECT_EQ(e.username, "alice");
  EXPECT_EQ(e.realm, "gatehouse");
  EXPECT_EQ(e.algorithm, Ha1Algorithm::sha256);
  EXPECT_EQ(e.ha1, kSha256);

  e = entry_of("alice:gatehouse:SHA-512-256:" + upper(kSha512_256) + "\r");
  EXPECT_EQ(e.algorithm, Ha1Algorithm::sha512_256);
  EXPECT_EQ(e.ha1, kSha512_256);

  e = entry_of("alice:gatehouse:sha-256:" + kSha256);
  EXPECT_EQ(e.algorithm, Ha1Algorithm::sha256) << "algorithm names are case-insensitive";

  e = entry_of("alice:gatehouse:MD5:" + kMd5);
  EXPECT_EQ(e.algorithm, Ha1Algorithm::md5);
  EXPECT_EQ(e.ha1, kMd5);

  e = entry_of("alice:gatehouse:SHA-256:" + kSha256 + ":comment");
  EXPECT_EQ(e.ha1, kSha256);
}

TEST(ParseHtdigestLine, FormatReadsBack) {
  for (const HtdigestEntry& entry :
       {HtdigestEntry{"alice", "gatehouse", Ha1Algorithm::md5, kMd5},
        HtdigestEntry{"alice", "gatehouse", Ha1Algorithm::sha256, kSha256},
        HtdigestEntry{"bob", "a realm", Ha1Algorithm::sha512_256, kSha512_256}}) {
    const std::string line = format_htdigest_line(entry);
    const HtdigestEntry back = entry_of(line);
    EXPECT_EQ(back.username, entry.username);
    EXPECT_EQ(back.realm, entry.realm);
    EXPECT_EQ(back.algorithm, entry.algorithm);
    EXPECT_EQ(back.ha1, entry.ha1);
  }
  EXPECT_EQ(format_htdigest_line({"alice", "gatehouse", Ha1Algorithm::md5, kMd5}),
            "alice:gatehouse:" + kMd5)
      << "MD5 lines are in Apache's form";
  EXPECT_EQ(format_htdigest_line({"alice", "gatehouse", Ha1Algorithm::sha512_256, kSha512_256}),
            "alice:gatehouse:SHA-512-256:" + kSha512_256);
}

TEST(ParseHtdigestLine, BlankLinesAndComments) {
  EXPECT_TRUE(is_blank_or_comment(""));
  EXPECT_TRUE(is_blank_or_comment("\r"));
  EXPECT_TRUE(is_blank_or_comment("   \t "));
  EXPECT_TRUE(is_blank_or_comment("# alice:gatehouse:" + kMd5));
  EXPECT_TRUE(is_blank_or_comment("#\r"));
}

TEST(ParseHtdigestLine, BadLines) {
  error_of("alice");
  error_of("alice:gatehouse");
  error_of("alice:gatehouse\r");
  error_of("alice:gatehouse:");
  error_of("alice:gatehouse:\r");
  error_of(":gatehouse:" + kMd5);
  error_of("alice::" + kMd5);
  error_of("alice:gatehouse::" + kMd5);
  // Wrong length for the algorithm.
  error_of("alice:gatehouse:" + kMd5.substr(1));
  error_of("alice:gatehouse:" + kMd5 + "0");
  error_of("alice:gatehouse:" + kSha256);
  error_of("alice:gatehouse:SHA-256:" + kMd5);
  error_of("alice:gatehouse:SHA-256:" + kSha256 + "0");
  error_of("alice:gatehouse:SHA-512-256:" + kSha256.substr(2));
  error_of("alice:gatehouse:MD5:" + kSha256);
  // Not hex.
  error_of("alice:gatehouse:" + kMd5.substr(1) + "g");
  error_of("alice:gatehouse:SHA-256:" + kSha256.substr(1) + "z");
  error_of("alice:gatehouse: " + kMd5.substr(1));
  // Unknown algorithms, -sess variants and an algorithm without a HA1.
  error_of("alice:gatehouse:SHA-512:" + kSha256);
  error_of("alice:gatehouse:MD5-sess:" + kMd5);
  error_of("alice:gatehouse:SHA-256-sess:" + kSha256);
  error_of("alice:gatehouse:SHA-256");
  error_of("alice:gatehouse:SHA-256:");
  // NUL and control characters.
  error_of("al\0ice:gatehouse:"s + kMd5);
  error_of("alice:gate\0house:"s + kMd5);
  error_of("alice:gatehouse:"s + kMd5 + "\0"s);
  error_of("al\tice:gatehouse:" + kMd5);
  error_of("alice:gate\thouse:" + kMd5);
  error_of(
      "al\x7f"
      "ice:gatehouse:" +
      kMd5);
  error_of("alice:gate\rhouse:" + kMd5);
  error_of("\x1b[31malice:gatehouse:" + kMd5);
}

TEST(ParseHtdigestLine, LinesOver4096BytesAreRefused) {
  const std::string tail = ":" + kMd5;
  const std::string at_limit = "alice:" + std::string(4096 - 6 - tail.size(), 'r') + tail;
  ASSERT_EQ(at_limit.size(), 4096u);
  EXPECT_EQ(entry_of(at_limit).username, "alice");
  EXPECT_TRUE(is_error("alice:r" + at_limit.substr(6)));
  EXPECT_TRUE(is_error(std::string(100000, 'a')));
}

TEST(ParseHtdigestLine, ErrorsDoNotEchoTheHash) {
  const std::string secret = "5ec2e75ec2e75ec2e75ec2e75ec2e75e";
  for (const std::string& line :
       {"alice:gatehouse:" + secret + "5"s, "alice:gatehouse:SHA-256:" + secret,
        "alice:gatehouse:" + secret.substr(1) + "x", ":gatehouse:" + secret,
        "al\0ice:gatehouse:"s + secret, "a\tb:gatehouse:" + secret, "alice::" + secret,
        "alice:gatehouse:SHA-512:" + secret, "alice:gatehouse:" + secret + "zz"}) {
    const std::string error = error_of(line);
    EXPECT_EQ(error.find("5ec2e"), std::string::npos) << error;
  }
}

// ---- HtdigestStore -------------------------------------------------------------------------

using gatehouse::testing::TempDir;

// Runs Apache's htdigest [-c] FILE REALM USER in a pseudo-terminal and types `password` at both
// prompts. Returns its output; fails the test when it does not exit 0.
std::string htdigest(const std::string& file, const std::string& realm, const std::string& user,
                     const std::string& password, bool create = false) {
  EXPECT_EQ(std::system("command -v htdigest >/dev/null 2>&1"), 0)
      << "Apache's htdigest (apache2-utils) is required for this test";
  int master = -1;
  const pid_t pid = ::forkpty(&master, nullptr, nullptr, nullptr);
  if (pid < 0) {
    ADD_FAILURE() << "forkpty failed";
    return {};
  }
  if (pid == 0) {
    if (create) {
      ::execlp("htdigest", "htdigest", "-c", file.c_str(), realm.c_str(), user.c_str(), nullptr);
    } else {
      ::execlp("htdigest", "htdigest", file.c_str(), realm.c_str(), user.c_str(), nullptr);
    }
    ::_exit(127);
  }
  std::string output;
  std::size_t prompts_answered = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd fds{master, POLLIN, 0};
    if (::poll(&fds, 1, 200) <= 0) continue;
    char buffer[512];
    const ssize_t got = ::read(master, buffer, sizeof buffer);
    if (got <= 0) break;  // EIO once the child has closed the terminal
    output.append(buffer, static_cast<std::size_t>(got));
    // "New password: " then "Re-type new password: ", each printed after echo is turned off.
    std::size_t prompts = 0;
    for (std::size_t at = output.find("password:"); at != std::string::npos;
         at = output.find("password:", at + 1)) {
      ++prompts;
    }
    for (; prompts_answered < prompts; ++prompts_answered) {
      const std::string answer = password + "\n";
      EXPECT_EQ(::write(master, answer.data(), answer.size()), static_cast<ssize_t>(answer.size()));
    }
  }
  ::close(master);
  int status = 0;
  ::waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
      << "htdigest " << file << " " << realm << " " << user << ": " << output;
  EXPECT_EQ(prompts_answered, 2u) << output;
  return output;
}

void write_file(const std::string& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
  ASSERT_TRUE(out.good()) << path;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

void set_mtime(const std::string& path, std::time_t seconds, long nanoseconds = 0) {
  const timespec times[2] = {{seconds, nanoseconds}, {seconds, nanoseconds}};
  ASSERT_EQ(::utimensat(AT_FDCWD, path.c_str(), times, 0), 0) << path;
}

DigestAlgorithm digest_of(Ha1Algorithm algorithm) {
  switch (algorithm) {
    case Ha1Algorithm::md5:
      return DigestAlgorithm::md5;
    case Ha1Algorithm::sha256:
      return DigestAlgorithm::sha256;
    case Ha1Algorithm::sha512_256:
      return DigestAlgorithm::sha512_256;
  }
  return DigestAlgorithm::md5;
}

constexpr Ha1Algorithm kAll[] = {Ha1Algorithm::md5, Ha1Algorithm::sha256, Ha1Algorithm::sha512_256};

// The store holds the HA1 of `password` for (user, realm, algorithm), found by name and by the
// userhash in that algorithm (lower and upper case).
void expect_ha1(const CredentialStore& store, const std::string& user, const std::string& realm,
                const std::string& password, Ha1Algorithm algorithm = Ha1Algorithm::md5) {
  const std::string expected = schemes::ha1(digest_of(algorithm), user, realm, Secret(password));
  ASSERT_FALSE(expected.empty());
  const Ha1Lookup lookup = store.find_ha1(user, false, realm, algorithm);
  ASSERT_EQ(lookup.status, LookupStatus::found) << user << "@" << realm;
  EXPECT_EQ(lookup.record.username, user);
  EXPECT_EQ(lookup.record.ha1, expected) << user << "@" << realm;
  EXPECT_FALSE(lookup.record.disabled);
  EXPECT_NE(schemes::ha1(digest_of(algorithm), user, realm, Secret("X" + password)),
            lookup.record.ha1);

  const std::string hash = schemes::userhash(digest_of(algorithm), user, realm);
  for (const std::string& name : {hash, upper(hash)}) {
    const Ha1Lookup by_hash = store.find_ha1(name, true, realm, algorithm);
    ASSERT_EQ(by_hash.status, LookupStatus::found) << user << "@" << realm << " by userhash";
    EXPECT_EQ(by_hash.record.username, user) << "the record names the user, not the hash";
    EXPECT_EQ(by_hash.record.ha1, expected);
  }
}

bool knows(const CredentialStore& store, std::string_view name, std::string_view realm,
           Ha1Algorithm algorithm = Ha1Algorithm::md5, bool is_userhash = false) {
  return store.find_ha1(name, is_userhash, realm, algorithm).status == LookupStatus::found;
}

TEST(HtdigestStore, LinesTheRealToolWritesGiveTheSameHa1) {
  const TempDir dir;
  const std::string file = dir.file("htdigest");
  htdigest(file, "gatehouse", "alice", "alice pw", /*create=*/true);
  htdigest(file, "gatehouse", "bob", "p:ss wörd");
  htdigest(file, "other realm", "alice", "second");
  htdigest(file, "Grüße", "jürgen", "pässwörd");
  const std::string content = read_file(file);
  EXPECT_NE(content.find("alice:gatehouse:" + kMd5 + "\n"), std::string::npos) << content;

  const HtdigestStore store(file, {"User", "Reader"});
  EXPECT_EQ(store.name(), "htdigest:" + file);
  EXPECT_EQ(store.skipped_lines(), 0u);
  expect_ha1(store, "alice", "gatehouse", "alice pw");
  expect_ha1(store, "bob", "gatehouse", "p:ss wörd");
  expect_ha1(store, "alice", "other realm", "second");
  expect_ha1(store, "jürgen", "Grüße", "pässwörd");
  EXPECT_EQ(store.find_ha1("alice", false, "gatehouse", Ha1Algorithm::md5).record.roles,
            (std::vector<std::string>{"User", "Reader"}));
}

// Lines Apache's htdigest 2.4 wrote (via a terminal) for the passwords in the comments.
TEST(HtdigestStore, LiteralLinesFromTheRealTool) {
  const TempDir dir;
  const std::string file = dir.file("htdigest");
  write_file(file,
             "alice:gatehouse:f320b6064843472b5b409f837cc3fedf\n"              // alice pw
             "bob:gatehouse:851e5354173e25ac2c931b9afb3ca08e\n"                // p:ss wörd
             "alice:other realm:9488d93012af4dd77f5c190deef4c351\n"            // second
             "jürgen:Grüße:b0e13a0f3a43afe551df8b852a9a0a1b\n"                 // pässwörd
             "Mufasa:testrealm@host.com:939e7578ed9e3c518a452acee763bce9\n");  // RFC 2617 §3.5
  const HtdigestStore store(file, {"User"});
  EXPECT_EQ(store.skipped_lines(), 0u);
  expect_ha1(store, "alice", "gatehouse", "alice pw");
  expect_ha1(store, "bob", "gatehouse", "p:ss wörd");
  expect_ha1(store, "alice", "other realm", "second");
  expect_ha1(store, "jürgen", "Grüße", "pässwörd");
  expect_ha1(store, "Mufasa", "testrealm@host.com", "Circle Of Life");
}

TEST(HtdigestStore, ExtensionLinesAndAlgorithms) {
  const TempDir dir;
  const std::string file = dir.file("htdigest");
  // HA1 values computed independently (Python hashlib); the RFC 7616 §3.9.2 user for userhash.
  write_file(file,
             "alice:gatehouse:" + kMd5 + "\n" +                        //
                 "alice:gatehouse:SHA-256:" + upper(kSha256) + "\n" +  //
                 "alice:gatehouse:SHA-512-256:" + kSha512_256 + "\r\n" +
                 "bob:gatehouse:SHA-256:"
                 "c88b3e89c4d0b8b10caf517f461ffec8020311ee02ced347358be96fce1420fa\n"
                 "Jäsøn Doe:api@example.org:SHA-512-256:"
                 "2d3d9f12c9f3d30011259dc5fecee005ae24de40e3e1f61806d03e65f1e6024f\n");
  const HtdigestStore store(file, {"User"});
  EXPECT_EQ(store.skipped_lines(), 0u);
  for (const auto algorithm : kAll) expect_ha1(store, "alice", "gatehouse", "alice pw", algorithm);
  EXPECT_EQ(store.find_ha1("alice", false, "gatehouse", Ha1Algorithm::sha256).record.ha1, kSha256);
  EXPECT_EQ(store.find_ha1("alice", false, "gatehouse", Ha1Algorithm::sha512_256).record.ha1,
            kSha512_256);
  expect_ha1(store, "Jäsøn Doe", "api@example.org", "Secret, or not?", Ha1Algorithm::sha512_256);
  // RFC 7616 §3.9.2: the userhash of "Jäsøn Doe" in realm api@example.org with SHA-512-256.
  const Ha1Lookup rfc =
      store.find_ha1("793263caabb707a56211940d90411ea4a575adeccb7e360aeb624ed06ece9b0b", true,
                     "api@example.org", Ha1Algorithm::sha512_256);
  ASSERT_EQ(rfc.status, LookupStatus::found);
  EXPECT_EQ(rfc.record.username, "Jäsøn Doe");

  // bob has only a SHA-256 line (with alice's HA1, which does not matter to the store).
  EXPECT_TRUE(knows(store, "bob", "gatehouse", Ha1Algorithm::sha256));
  EXPECT_FALSE(knows(store, "bob", "gatehouse", Ha1Algorithm::md5));
  EXPECT_FALSE(knows(store, "bob", "gatehouse", Ha1Algorithm::sha512_256));
  EXPECT_TRUE(knows(store, schemes::userhash(DigestAlgorithm::sha256, "bob", "gatehouse"),
                    "gatehouse", Ha1Algorithm::sha256, true));
  // The userhash of bob in MD5 resolves to bob, who has no MD5 HA1.
  EXPECT_FALSE(knows(store, schemes::userhash(DigestAlgorithm::md5, "bob", "gatehouse"),
                     "gatehouse", Ha1Algorithm::md5, true));
  // A userhash is only valid in the algorithm it was computed with.
  EXPECT_FALSE(knows(store, schemes::userhash(DigestAlgorithm::sha512_256, "bob", "gatehouse"),
                     "gatehouse", Ha1Algorithm::sha256, true));
  EXPECT_FALSE(knows(store, schemes::userhash(DigestAlgorithm::sha256, "alice", "gatehouse"),
                     "gatehouse", Ha1Algorithm::sha512_256, true));
}

TEST(HtdigestStore, UnknownUserRealmOrAlgorithm) {
  const TempDir dir;
  const std::string file = dir.file("htdigest");
  write_file(file, "alice:gatehouse:" + kMd5 + "\nbob:other:SHA-256:" + kSha256 +
                       "\nalice:third:" + std::string(32, '3') + "\n");
  const HtdigestStore store(file, {"User"});
  const auto unknown = [&](std::string_view name, std::string_view realm, Ha1Algorithm algorithm,
                           bool is_userhash = false) {
    const Ha1Lookup lookup = store.find_ha1(name, is_userhash, realm, algorithm);
    EXPECT_EQ(lookup.status, LookupStatus::unknown_user) << name << "@" << realm;
    EXPECT_TRUE(lookup.record.ha1.empty());
  };
  EXPECT_TRUE(knows(store, "alice", "gatehouse"));
  unknown("carol", "gatehouse", Ha1Algorithm::md5);
  unknown("Alice", "gatehouse", Ha1Algorithm::md5);  // names match exactly
  unknown("alice", "Gatehouse", Ha1Algorithm::md5);  // realms too
  unknown("alice", "other", Ha1Algorithm::md5);
  unknown("alice", "gatehouse", Ha1Algorithm::sha256);
  unknown("alice", "gatehouse", Ha1Algorithm::sha512_256);
  unknown("bob", "gatehouse", Ha1Algorithm::sha256);
  unknown("bob", "other", Ha1Algorithm::md5);
  unknown("", "gatehouse", Ha1Algorithm::md5);
  unknown("alice:gatehouse", "", Ha1Algorithm::md5);
  // Userhash lookups: the wrong realm, a plain name, garbage, a hash of the wrong length.
  const std::string alice_md5 = schemes::userhash(DigestAlgorithm::md5, "alice", "gatehouse");
  EXPECT_TRUE(knows(store, alice_md5, "gatehouse", Ha1Algorithm::md5, true));
  unknown(alice_md5, "other", Ha1Algorithm::md5, true);
  // alice has an MD5 HA1 in realm "third", but her userhash there is a different one.
  EXPECT_TRUE(knows(store, "alice", "third"));
  unknown(alice_md5, "third", Ha1Algorithm::md5, true);
  unknown("alice", "gatehouse", Ha1Algorithm::md5, true);
  unknown(alice_md5 + "00", "gatehouse", Ha1Algorithm::md5, true);
  unknown(std::string(32, 'z'), "gatehouse", Ha1Algorithm::md5, true);
  unknown(schemes::userhash(DigestAlgorithm::md5, "alice", "other"), "other", Ha1Algorithm::md5,
          true);
  // The userhash is not a name: a user literally named like alice's hash is someone else.
  unknown(alice_md5, "gatehouse", Ha1Algorithm::md5, false);
}

TEST(HtdigestStore, CanOnlyGiveHa1) {
  const TempDir dir;
  const std::string file = dir.file("htdigest");
  write_file(file, "alice:gatehouse:" + kMd5 + "\n");
  const HtdigestStore store(file, {"User"});
  EXPECT_TRUE(store.can(StoreCapability::digest_ha1));
  EXPECT_FALSE(store.can(StoreCapability::password));
  EXPECT_FALSE(store.can(StoreCapability::api_key));
  EXPECT_FALSE(store.can(StoreCapability::principal));
  EXPECT_EQ(store.find_password("alice").status, LookupStatus::unknown_user);
}

TEST(HtdigestStore, BadLinesAreSkippedAndCountedAndTheFirstLineWins) {
  const TempDir dir;
  const std::string file = dir.file("htdigest");
  write_file(file,
             "# users\r\n"
             "alice:gatehouse:" +
                 kMd5 +
                 "\r\n"
                 "\r\n"
                 "no colon here\n"
                 "two:fields\n"
                 ":gatehouse:" +
                 kMd5 + "\n" + "carol:gatehouse:SHA-512:" + kSha256 + "\n" +
                 "nul\0user:gatehouse:"s + kMd5 + "\n" + "long:" + std::string(5000, 'r') + ":" +
                 kMd5 + "\n" + "alice:gatehouse:" + std::string(32, '0') + "\n" +
                 "alice:gatehouse:SHA-256:" + kSha256 + "\n" +
                 "alice:gatehouse:sha-256:" + std::string(64, '0') + "\n" +
                 "dave:gatehouse:SHA-512-256:" + kSha512_256);  // no final newline
  const HtdigestStore store(file, {"User"});
  EXPECT_EQ(store.skipped_lines(), 6u);
  expect_ha1(store, "alice", "gatehouse", "alice pw");
  expect_ha1(store, "alice", "gatehouse", "alice pw", Ha1Algorithm::sha256);
  EXPECT_EQ(store.find_ha1("dave", false, "gatehouse", Ha1Algorithm::sha512_256).record.ha1,
            kSha512_256);
  EXPECT_FALSE(knows(store, "carol", "gatehouse", Ha1Algorithm::sha256));
  EXPECT_FALSE(knows(store, "long", std::string(5000, 'r')));
}

TEST(HtdigestStore, RefreshSeesEditsMadeByTheTool) {
  const TempDir dir;
  const std::string file = dir.file("htdigest");
  htdigest(file, "gatehouse", "alice", "alice pw", /*create=*/true);
  htdigest(file, "gatehouse", "bob", "bob pw");
  HtdigestStore store(file, {"User"});
  expect_ha1(store, "alice", "gatehouse", "alice pw");
  EXPECT_FALSE(knows(store, "carol", "gatehouse"));

  htdigest(file, "gatehouse", "carol", "carol pw");
  htdigest(file, "gatehouse", "bob", "bob new pw");  // replaces bob's line in place
  store.refresh();
  expect_ha1(store, "bob", "gatehouse", "bob new pw");
  expect_ha1(store, "carol", "gatehouse", "carol pw");
  expect_ha1(store, "alice", "gatehouse", "alice pw");
}

TEST(HtdigestStore, RefreshSeesAFileRenamedIntoPlaceAndUserhashesFollow) {
  const TempDir dir;
  const std::string file = dir.file("htdigest");
  write_file(file, "alice:gatehouse:" + kMd5 + "\n");
  HtdigestStore store(file, {"User"});
  const std::string alice_hash = schemes::userhash(DigestAlgorithm::sha256, "alice", "gatehouse");
  EXPECT_FALSE(knows(store, alice_hash, "gatehouse", Ha1Algorithm::sha256, true));

  const std::string staging = dir.file("staging");
  write_file(staging, "alice:gatehouse:SHA-256:" + kSha256 + "\n");
  std::filesystem::rename(staging, file);
  store.refresh();
  EXPECT_FALSE(knows(store, "alice", "gatehouse", Ha1Algorithm::md5));
  expect_ha1(store, "alice", "gatehouse", "alice pw", Ha1Algorithm::sha256);
}

TEST(HtdigestStore, KeepsServingTheLastGoodFileWhileItIsMissing) {
  const TempDir dir;
  const std::string file = dir.file("htdigest");
  write_file(file, "alice:gatehouse:" + kMd5 + "\n");
  HtdigestStore store(file, {"User"});

  std::filesystem::remove(file);
  store.refresh();
  expect_ha1(store, "alice", "gatehouse", "alice pw");

  std::filesystem::create_directory(file);  // unreadable as a file
  store.refresh();
  expect_ha1(store, "alice", "gatehouse", "alice pw");
  std::filesystem::remove(file);

  htdigest(file, "gatehouse", "bob", "bob pw", /*create=*/true);
  store.refresh();
  EXPECT_FALSE(knows(store, "alice", "gatehouse"));
  expect_ha1(store, "bob", "gatehouse", "bob pw");
}

// A file last changed long ago is re-read only when its mtime, size or inode changes.
TEST(HtdigestStore, OldFileIsRereadOnlyWhenMtimeSizeOrInodeChange) {
  const TempDir dir;
  const std::string file = dir.file("htdigest");
  const std::time_t an_hour_ago = std::time(nullptr) - 3600;
  const std::string one(32, '1'), two(32, '2');
  write_file(file, "alice:gatehouse:" + one + "\n");
  set_mtime(file, an_hour_ago);
  HtdigestStore store(file, {"User"});
  const auto ha1 = [&] {
    return store.find_ha1("alice", false, "gatehouse", Ha1Algorithm::md5).record.ha1;
  };

  // Same inode, size and mtime: not re-read (the documented limit of the check).
  write_file(file, "alice:gatehouse:" + two + "\n");
  set_mtime(file, an_hour_ago);
  store.refresh();
  EXPECT_EQ(ha1(), one);

  // Only the nanoseconds of the mtime differ: re-read.
  set_mtime(file, an_hour_ago, 1);
  store.refresh();
  EXPECT_EQ(ha1(), two);

  // Only the size differs: re-read.
  write_file(file, "alice:gatehouse:" + one + "\r\n");
  set_mtime(file, an_hour_ago, 1);
  store.refresh();
  EXPECT_EQ(ha1(), one);
}

// A file changed within the last two seconds may change again within one timestamp tick without
// changing size, so it is re-read on every refresh until it is older.
TEST(HtdigestStore, RecentlyChangedFileIsRereadEvenIfItLooksUnchanged) {
  const TempDir dir;
  const std::string file = dir.file("htdigest");
  const std::time_t now = std::time(nullptr);
  write_file(file, "alice:gatehouse:" + std::string(32, '1') + "\n");
  set_mtime(file, now, 5);
  HtdigestStore store(file, {"User"});

  write_file(file, "alice:gatehouse:" + std::string(32, '2') + "\n");
  set_mtime(file, now, 5);
  store.refresh();
  EXPECT_EQ(store.find_ha1("alice", false, "gatehouse", Ha1Algorithm::md5).record.ha1,
            std::string(32, '2'));
}

TEST(HtdigestStore, EmptyFileIsAValidStoreWithNoUsers) {
  const TempDir dir;
  const std::string file = dir.file("htdigest");
  write_file(file, "");
  const HtdigestStore store(file, {"User"});
  EXPECT_FALSE(knows(store, "alice", "gatehouse"));
}

TEST(HtdigestStore, UnreadableFileAtStartThrowsNamingThePath) {
  const TempDir dir;
  const std::string missing = dir.file("missing");
  try {
    HtdigestStore store(missing, {"User"});
    FAIL() << "no exception for a missing file";
  } catch (const std::runtime_error& error) {
    EXPECT_NE(std::string(error.what()).find(missing), std::string::npos) << error.what();
  }
  const std::string directory = dir.file("a-directory");
  std::filesystem::create_directory(directory);
  try {
    HtdigestStore store(directory, {"User"});
    FAIL() << "no exception for a directory";
  } catch (const std::runtime_error& error) {
    EXPECT_NE(std::string(error.what()).find(directory), std::string::npos) << error.what();
  }
  if (::geteuid() != 0) {  // root reads mode-0000 files; the other cases cover it then
    const std::string unreadable = dir.file("unreadable");
    write_file(unreadable, "alice:gatehouse:" + kMd5 + "\n");
    ASSERT_EQ(::chmod(unreadable.c_str(), 0), 0);
    EXPECT_THROW(HtdigestStore(unreadable, {"User"}), std::runtime_error);
  }
}

}  // namespace
}  // namespace gatehouse::stores
