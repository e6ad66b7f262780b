// Verification of every stored-hash format against hashes written by the real tools (Apache's
// htpasswd, openssl passwd, libxcrypt), and refusal of malformed hashes.
#include "auth/password_hash.hpp"

#include <crypt.h>
#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "auth/apr1.hpp"

namespace gatehouse::auth {
namespace {

using namespace std::string_literals;

struct Vector {
  const char* tool;  // what wrote the hash
  std::string hash;
  std::string password;
};

// Literal outputs of the tools named in `tool`, so these run the same everywhere.
const std::vector<Vector>& tool_vectors() {
  static const std::vector<Vector> vectors = {
      {"htpasswd -nbB -C 5", "$2y$05$mIuPnBgmASpS/G7.2983o.989lVTfUcbrNVQYDzwko5TQye6.kbd.",
       "correct horse"},
      {"htpasswd -nbB -C 5", "$2y$05$4dBAd1JsYJOVnP565mFJROkVeN4q7IGml0WM3hz/IXk0z8ITjZ0nG",
       "p:ss wörd"},
      {"libxcrypt $2b$", "$2b$05$mIuPnBgmASpS/G7.2983o.989lVTfUcbrNVQYDzwko5TQye6.kbd.",
       "correct horse"},
      {"libxcrypt $2a$", "$2a$05$mIuPnBgmASpS/G7.2983o.989lVTfUcbrNVQYDzwko5TQye6.kbd.",
       "correct horse"},
      {"htpasswd -nbm", "$apr1$hEx.Ipio$XMCPgqYJ92m/qja1.mdPY1", "correct horse"},
      {"htpasswd -nbm", "$apr1$WgytqZhM$YE4kFs/acQEcOpIm8Jkmi1", "p:ss wörd"},
      {"htpasswd -nbm", "$apr1$MBSaRWQN$cOJRPJgowkd.psWBUWzB81", ""},
      {"htpasswd -nbm", "$apr1$t67rM5D7$KbqYE4UyCGZGJ9/i4fs2n1",
       "a much longer passphrase, 40+ bytes long!!"},
      {"htpasswd -nbm", "$apr1$XYk18CcK$XNH8Sd10o58SmOk4H/nRB1", "Ünïcödé—π"},
      {"openssl passwd -apr1", "$apr1$saltsalt$yAAkm4libquA.ZWLHbSBq/", "password"},
      {"htpasswd -nbs", "{SHA}L55TUjtiq8FBorTWAZ0jy6g129A=", "correct horse"},
      {"htpasswd -nbs", "{SHA}399krMU+4UceMURP+SuAz3WFPxk=", "p:ss wörd"},
      {"htpasswd -nbs", "{SHA}2jmj7l5rSw0yVb/vlWAYkK/YBwk=", ""},
      {"htpasswd -nbd", "z/lliVzSONLkI", "secret"},
      {"libxcrypt DES", "ab0ozUNIgzCZ.", "hunter2"},
      {"openssl passwd -6 -salt saltsalt",
       "$6$saltsalt$qFmFH.bQmmtXzyBY0s9v7Oicd2z4XSIecDzlB5KiA2/"
       "jctKu9YterLp8wwnSq.qc.eoxqOmSuNp2xS0ktL3nh/",
       "password"},
      {"openssl passwd -5 -salt saltsalt",
       "$5$saltsalt$gOjOtoMpVhru2uyjeJSEc/JaLQWOXMNmlOnj6T4AtC.", "password"},
      {"openssl passwd -1 -salt saltsalt", "$1$saltsalt$qjXMvbEw8oaL.CzflDtaK/", "password"},
      {"htpasswd -nb2", "$5$40qHQVRRe5LcStsT$YN6K2MWHdCsL2jiy7ZQ1hW6umnlAbWnV/S5eFbAZRNA",
       "correct horse"},
      {"htpasswd -nb5",
       "$6$IaGPlM5iS4KszlH/$PUrMdgjakI4BEHFZ6RjIKAd0f94bglQbhc3j/"
       "X19pwIQE.rNCRT1ZuSbEKLKlItwmawLKQpkvF0I5YrmfhlLo0",
       "correct horse"},
      {"htpasswd -nb5 -r 1000",
       "$6$rounds=1000$JUzzFlFohkHO02Kj$axIUFBQ.C3aOONbDYtOtzs4W/aohJsl2i.c0yKpFTIH6om9JTDvL/"
       "l3pX8yHR8dzGdr.VXz76/4mcMS8F1mhz/",
       "correct horse"},
      {"libxcrypt yescrypt",
       "$y$j9T$.aOIaAp/hlcWUih8Fr3a8.$jFCSKzhiyglvBtq7sB/BL1wbIMeimIvp8u9JuC/.M4D",
       "correct horse"},
      {"libxcrypt gost-yescrypt",
       "$gy$j9T$03rblzU/5WZE2aUxrfvzs1$JLHdjT3RDYZIwmJRMjxgJ0JgLW6poXarwEp17W1Ty7.",
       "correct horse"},
      {"libxcrypt scrypt",
       "$7$CU..../....mfFXyAmp4uMxoXXt1RA/c.$Kmt.FW3JDhjOSY3XBjeslY8mdtqvywdSfXRiiQacji1",
       "correct horse"},
      {"config {PLAIN}", "{PLAIN}correct horse", "correct horse"},
      {"config {PLAIN}", "{PLAIN}", ""},
  };
  return vectors;
}

TEST(PasswordHash, ToolVectorsVerifyTheirPassword) {
  for (const Vector& v : tool_vectors()) {
    EXPECT_TRUE(verify_password(v.hash, v.password)) << v.tool << ": " << v.hash;
  }
}

TEST(PasswordHash, ToolVectorsRefuseOtherPasswords) {
  for (const Vector& v : tool_vectors()) {
    EXPECT_FALSE(verify_password(v.hash, v.password + "x")) << v.tool << ": " << v.hash;
    EXPECT_FALSE(verify_password(v.hash, "wrong")) << v.tool << ": " << v.hash;
    if (!v.password.empty()) {
      // Case matters, and a password is not a prefix of itself plus a NUL.
      std::string changed = v.password;
      changed[0] = static_cast<char>(changed[0] ^ 0x20);
      EXPECT_FALSE(verify_password(v.hash, changed)) << v.tool << ": " << v.hash;
      EXPECT_FALSE(verify_password(v.hash, v.password + "\0"s)) << v.tool << ": " << v.hash;
    }
  }
}

TEST(PasswordHash, DesCryptComparesOnlyEightBytesAsCryptDoes) {
  // A property of the format (traditional crypt(3)), kept so nobody mistakes it for a bug.
  EXPECT_TRUE(verify_password("abhfCpXqd4GrI", "correct horse"));
  EXPECT_TRUE(verify_password("abhfCpXqd4GrI", "correct horse battery"));
  EXPECT_FALSE(verify_password("abhfCpXqd4GrI", "correct_horse"));
}

TEST(PasswordHash, Argon2idRoundTrip) {
  const std::string hash = hash_argon2id("correct horse");
  EXPECT_TRUE(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$")) << hash;
  EXPECT_EQ(detect_hash_format(hash), HashFormat::argon2id);
  EXPECT_TRUE(verify_password(hash, "correct horse"));
  EXPECT_FALSE(verify_password(hash, "correct horsf"));
  EXPECT_FALSE(verify_password(hash, ""));
  EXPECT_NE(hash_argon2id("correct horse"), hash) << "salt must be random";
  EXPECT_FALSE(needs_rehash(hash));
}

TEST(PasswordHash, Argon2idPasswordsMayHoldNulBytes) {
  const std::string password = "before\0after"s;
  const std::string hash = hash_argon2id(password);
  EXPECT_TRUE(verify_password(hash, password));
  EXPECT_FALSE(verify_password(hash, "before"));
}

TEST(PasswordHash, Argon2idWithExcessiveCostIsRefusedWithoutRunning) {
  // A valid-looking string demanding 4 TiB; libsodium would try to allocate it.
  EXPECT_FALSE(
      verify_password("$argon2id$v=19$m=4294967295,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$"
                      "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
                      "x"));
  EXPECT_FALSE(
      verify_password("$argon2id$v=19$m=19456,t=4294967295,p=1$c29tZXNhbHRzb21lc2FsdA$"
                      "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
                      "x"));
}

TEST(PasswordHash, BcryptRoundTripWritesApacheY) {
  const std::string hash = hash_bcrypt("correct horse", 5);
  EXPECT_TRUE(hash.starts_with("$2y$05$")) << hash;
  EXPECT_EQ(hash.size(), 60u);
  EXPECT_TRUE(verify_password(hash, "correct horse"));
  EXPECT_FALSE(verify_password(hash, "correct horsE"));
  EXPECT_NE(hash_bcrypt("correct horse", 5), hash) << "salt must be random";
  EXPECT_TRUE(hash_bcrypt("x", 4).starts_with("$2y$04$"));
}

TEST(PasswordHash, BcryptRefusesBadInputs) {
  EXPECT_THROW(hash_bcrypt("x", 3), std::invalid_argument);
  EXPECT_THROW(hash_bcrypt("x", 32), std::invalid_argument);
  EXPECT_THROW(hash_bcrypt("a\0b"s, 4), std::invalid_argument);
}

TEST(PasswordHash, BcryptIsTheSameUnderAllThreePrefixesForAsciiPasswords) {
  const std::string hash = hash_bcrypt("correct horse", 4);
  for (const char* prefix : {"$2a$", "$2b$", "$2y$"}) {
    const std::string renamed = prefix + hash.substr(4);
    EXPECT_TRUE(verify_password(renamed, "correct horse")) << renamed;
    EXPECT_FALSE(verify_password(renamed, "wrong")) << renamed;
  }
}

TEST(PasswordHash, CryptFamilyMadeByLibxcryptVerifies) {
  // mkpasswd (Debian package whois) is not installed here; libxcrypt is what it calls.
  for (const char* prefix : {"$y$", "$gy$", "$6$", "$5$", "$1$", "$2b$", "$7$"}) {
    std::array<char, CRYPT_GENSALT_OUTPUT_SIZE> setting{};
    ASSERT_NE(crypt_gensalt_rn(prefix, 0, nullptr, 0, setting.data(), setting.size()), nullptr)
        << prefix;
    crypt_data data{};
    const char* hashed = crypt_rn("hunter2 hunter2", setting.data(), &data, sizeof data);
    ASSERT_NE(hashed, nullptr) << prefix;
    const std::string hash = hashed;
    EXPECT_NE(detect_hash_format(hash), HashFormat::unknown) << hash;
    EXPECT_TRUE(verify_password(hash, "hunter2 hunter2")) << hash;
    EXPECT_FALSE(verify_password(hash, "hunter2 hunter3")) << hash;
  }
}

TEST(PasswordHash, CryptRefusesPasswordsWithNul) {
  // crypt(3) would see only "correct"; a NUL must not let a prefix through.
  EXPECT_FALSE(verify_password("$1$saltsalt$qjXMvbEw8oaL.CzflDtaK/", "password\0tail"s));
  EXPECT_FALSE(verify_password("$2y$05$mIuPnBgmASpS/G7.2983o.989lVTfUcbrNVQYDzwko5TQye6.kbd.",
                               "correct horse\0"s));
}

TEST(PasswordHash, OverlongPasswordIsRefused) {
  const std::string huge(5000, 'a');
  EXPECT_FALSE(verify_password("{PLAIN}" + huge, huge));
}

TEST(Apr1, MatchesOpensslAndApacheOutputForTheirSalts) {
  EXPECT_EQ(apr1_crypt("password", "saltsalt"), "$apr1$saltsalt$yAAkm4libquA.ZWLHbSBq/");
  EXPECT_EQ(apr1_crypt("correct horse", "hEx.Ipio"), "$apr1$hEx.Ipio$XMCPgqYJ92m/qja1.mdPY1");
  EXPECT_EQ(apr1_crypt("", "MBSaRWQN"), "$apr1$MBSaRWQN$cOJRPJgowkd.psWBUWzB81");
}

TEST(Apr1, RefusesInvalidSalts) {
  EXPECT_EQ(apr1_crypt("x", "123456789"), std::nullopt);
  EXPECT_EQ(apr1_crypt("x", "ab$c"), std::nullopt);
  EXPECT_EQ(apr1_crypt("x", "ab\0c"s), std::nullopt);
  EXPECT_NE(apr1_crypt("x", ""), std::nullopt);  // Apache accepts an empty salt
}

// Runs a shell command and returns its standard output.
std::string command_output(const std::string& command) {
  std::string output;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return output;
  std::array<char, 512> buffer{};
  std::size_t got = 0;
  while ((got = std::fread(buffer.data(), 1, buffer.size(), pipe)) > 0)
    output.append(buffer.data(), got);
  ::pclose(pipe);
  return output;
}

bool have_htpasswd() {
  return std::system("command -v htpasswd >/dev/null 2>&1") == 0;
}

// "user:hash\n\n" from htpasswd -n → "hash".
std::string hash_from_htpasswd(const std::string& flags, const std::string& password) {
  const std::string line =
      command_output("htpasswd -nb " + flags + " user '" + password + "' 2>/dev/null");
  const std::size_t colon = line.find(':');
  const std::size_t end = line.find_first_of("\r\n");
  if (colon == std::string::npos || end == std::string::npos || end < colon) return {};
  return line.substr(colon + 1, end - colon - 1);
}

TEST(PasswordHashLive, HashesFromTheInstalledHtpasswdVerify) {
  ASSERT_TRUE(have_htpasswd()) << "Apache's htpasswd (apache2-utils) is required for this test";
  const std::vector<std::pair<std::string, HashFormat>> formats = {
      {"-m", HashFormat::apr1},  {"-B -C 4", HashFormat::bcrypt}, {"-s", HashFormat::sha1},
      {"-2", HashFormat::crypt}, {"-5", HashFormat::crypt},       {"-d", HashFormat::crypt}};
  for (const std::string password : {"pw", "correct horse battery staple", "p:ss wörd"}) {
    for (const auto& [flags, format] : formats) {
      const std::string hash = hash_from_htpasswd(flags, password);
      ASSERT_FALSE(hash.empty()) << flags;
      EXPECT_EQ(detect_hash_format(hash), format) << flags << " " << hash;
      EXPECT_TRUE(verify_password(hash, password)) << flags << " " << hash;
      EXPECT_FALSE(verify_password(hash, "X" + password)) << flags << " " << hash;
    }
  }
}

TEST(PasswordHashLive, Apr1MatchesHtpasswdByteForByte) {
  ASSERT_TRUE(have_htpasswd()) << "Apache's htpasswd (apache2-utils) is required for this test";
  for (const std::string password : {"", "a", "0123456789abcdef", "0123456789abcdefg",
                                     "a much longer passphrase, 40+ bytes long!!"}) {
    const std::string hash = hash_from_htpasswd("-m", password);
    ASSERT_TRUE(hash.starts_with("$apr1$")) << hash;
    const std::string salt = hash.substr(6, hash.find('$', 6) - 6);
    EXPECT_EQ(apr1_crypt(password, salt), hash) << "password '" << password << "'";
  }
}

TEST(PasswordHash, MalformedHashesAreRefusedWithoutCrashing) {
  const std::vector<std::string> malformed = {
      "",
      "$",
      "$2y$",
      "$2y$05$",
      "$2y$99$mIuPnBgmASpS/G7.2983o.989lVTfUcbrNVQYDzwko5TQye6.kbd.",
      "$2y$05$mIuPnBgmASpS/G7.2983o.",
      "$2y$05$mIuPnBgmASpS/G7.2983o.989lVTfUcbrNVQYDzwko5TQye6.kbd.extra",
      "$apr1$",
      "$apr1$salt",
      "$apr1$saltsalt$",
      "$apr1$toolongsalt$yAAkm4libquA.ZWLHbSBq/",
      "$argon2id$garbage",
      "$argon2id$v=19$m=19456,t=2,p=1$",
      "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHQ$",
      "$argon2id$v=99999999999999999999999$m=1,t=1,p=1$a$b",
      "$argon2i$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$AAAA",
      "{SHA}",
      "{SHA}not base64",
      "$1$",
      "$5$",
      "$6$",
      "$6$rounds=$x",
      "$y$",
      "$y$j9T$",
      "$gy$$$",
      "$7$",
      "$md5",
      "$sha1$",
      "*",
      "*0",
      "!",
      "!$6$saltsalt$qFmFH.bQmmtXzyBY0s9v7Oicd2z4XSIecDzlB5KiA2/"
      "jctKu9YterLp8wwnSq.qc.eoxqOmSuNp2xS0ktL3nh/",
      "plaintext",
      "$3$$8846f7eaee8fb117ad06bdd830b7586c",
      std::string(100 * 1024, 'A'),
      "$2y$05$" + std::string(100 * 1024, 'a'),
      "$apr1$saltsalt$" + std::string(100 * 1024, 'a'),
      "$1$saltsalt$qjXMvbEw8oaL.Cz\0flDtaK/"s,
      "{PLAIN}pass\0word"s,
      "$2y$05$mIuPnBgmASpS/G7.2983o.989lVTfUcbrNVQYDzwko5TQye6.kbd\0"s,
      "\0"s,
      "\xff\xfe\xfd",
  };
  for (const std::string& hash : malformed) {
    EXPECT_FALSE(verify_password(hash, "password")) << hash.substr(0, 80);
    EXPECT_FALSE(verify_password(hash, "")) << hash.substr(0, 80);
    EXPECT_TRUE(needs_rehash(hash)) << hash.substr(0, 80);
  }
}

TEST(PasswordHash, PlainComparesNulAndLengthExactly) {
  EXPECT_TRUE(verify_password("{PLAIN}abc", "abc"));
  EXPECT_FALSE(verify_password("{PLAIN}abc", "ab"));
  EXPECT_FALSE(verify_password("{PLAIN}abc", "abcd"));
  EXPECT_FALSE(verify_password("{PLAIN}abc", "abc\0"s));
  EXPECT_FALSE(verify_password("{PLAIN}", "x"));
  EXPECT_FALSE(verify_password("{plain}abc", "abc")) << "prefixes are case-sensitive";
}

TEST(PasswordHash, DetectHashFormat) {
  const std::vector<std::pair<std::string, HashFormat>> table = {
      {"$argon2id$v=19$m=19456,t=2,p=1$x$y", HashFormat::argon2id},
      {"$argon2i$v=19$m=19456,t=2,p=1$x$y", HashFormat::unknown},
      {"$2y$05$mIuPnBgmASpS/G7.2983o.989lVTfUcbrNVQYDzwko5TQye6.kbd.", HashFormat::bcrypt},
      {"$2b$05$x", HashFormat::bcrypt},
      {"$2a$05$x", HashFormat::bcrypt},
      {"$2$05$x", HashFormat::unknown},
      {"$apr1$saltsalt$yAAkm4libquA.ZWLHbSBq/", HashFormat::apr1},
      {"{SHA}L55TUjtiq8FBorTWAZ0jy6g129A=", HashFormat::sha1},
      {"{SSHA}abc", HashFormat::unknown},
      {"{PLAIN}text", HashFormat::plain},
      {"{PLAIN}", HashFormat::plain},
      {"$1$saltsalt$qjXMvbEw8oaL.CzflDtaK/", HashFormat::crypt},
      {"$5$saltsalt$x", HashFormat::crypt},
      {"$6$saltsalt$x", HashFormat::crypt},
      {"$6$rounds=1000$s$x", HashFormat::crypt},
      {"$y$j9T$salt$hash", HashFormat::crypt},
      {"$gy$j9T$salt$hash", HashFormat::crypt},
      {"$7$CU..../....salt$hash", HashFormat::crypt},
      {"$sha1$1$salt$hash", HashFormat::crypt},
      {"$md5$salt$hash", HashFormat::crypt},
      {"z/lliVzSONLkI", HashFormat::crypt},
      {"z/lliVzSONLk", HashFormat::unknown},
      {"z/lliVzSONLkI!", HashFormat::unknown},
      {"z/lliVzSONLk!", HashFormat::unknown},
      {"$3$$8846f7eaee8fb117ad06bdd830b7586c", HashFormat::unknown},
      {"", HashFormat::unknown},
      {"$", HashFormat::unknown},
      {"plaintext", HashFormat::unknown},
      {"!$6$saltsalt$x", HashFormat::unknown},
  };
  for (const auto& [hash, format] : table) {
    EXPECT_EQ(detect_hash_format(hash), format) << hash;
  }
}

TEST(PasswordHash, NeedsRehash) {
  // Current parameters, or stronger: keep.
  EXPECT_FALSE(needs_rehash(hash_argon2id("x")));
  EXPECT_FALSE(
      needs_rehash("$argon2id$v=19$m=65536,t=3,p=1$c29tZXNhbHRzb21lc2FsdA$"
                   "8lLQCm5VClNpBUj7+JePhRI2xMsrcPHsVlcT6nZQjWk"));
  // Weaker argon2id parameters, an older Argon2 version, or any other format: upgrade.
  EXPECT_TRUE(
      needs_rehash("$argon2id$v=19$m=4096,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$"
                   "8lLQCm5VClNpBUj7+JePhRI2xMsrcPHsVlcT6nZQjWk"));
  EXPECT_TRUE(
      needs_rehash("$argon2id$v=19$m=19456,t=1,p=1$c29tZXNhbHRzb21lc2FsdA$"
                   "8lLQCm5VClNpBUj7+JePhRI2xMsrcPHsVlcT6nZQjWk"));
  EXPECT_TRUE(
      needs_rehash("$argon2id$v=16$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$"
                   "8lLQCm5VClNpBUj7+JePhRI2xMsrcPHsVlcT6nZQjWk"));
  for (const Vector& v : tool_vectors()) {
    EXPECT_TRUE(needs_rehash(v.hash)) << v.hash;
  }
}

TEST(PasswordHash, ConcurrentVerificationGivesTheSameAnswers) {
  // Every thread checks every format; libxcrypt state is per call, libsodium is initialized once.
  const std::vector<Vector>& vectors = tool_vectors();
  std::vector<int> failures(4, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&vectors, &failures, t] {
      for (const Vector& v : vectors) {
        if (!verify_password(v.hash, v.password)) ++failures[t];
        if (verify_password(v.hash, v.password + "x")) ++failures[t];
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(failures, std::vector<int>(4, 0));
}

}  // namespace
}  // namespace gatehouse::auth
