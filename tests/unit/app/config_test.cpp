#include "gatehouse/config.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

namespace gatehouse {
namespace {

using namespace std::chrono_literals;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

// The problems parse_config reports for `text` (empty when it accepts it).
std::vector<std::string> problems_of(std::string_view text, const std::string& source = "g.toml") {
  try {
    parse_config(text, source);
  } catch (const ConfigError& error) {
    return error.problems();
  }
  return {};
}

Config parsed(std::string_view text, const std::string& source = "g.toml") {
  try {
    return parse_config(text, source);
  } catch (const ConfigError& error) {
    ADD_FAILURE() << "unexpected problems:\n" << error.what();
    return Config{};
  }
}

// validate() with no source, so problems read "key: what".
std::vector<std::string> problems_with(void (*change)(Config&)) {
  Config config;
  change(config);
  return validate(config);
}

void expect_same(const Config& a, const Config& b) {
  EXPECT_EQ(a.server.listen, b.server.listen);
  EXPECT_EQ(a.server.threads, b.server.threads);
  EXPECT_EQ(a.server.workers, b.server.workers);
  EXPECT_EQ(a.server.hash_queue, b.server.hash_queue);
  EXPECT_EQ(a.server.public_url, b.server.public_url);
  EXPECT_EQ(a.server.max_header_bytes, b.server.max_header_bytes);
  EXPECT_EQ(a.server.max_body_bytes, b.server.max_body_bytes);
  EXPECT_EQ(a.server.read_timeout, b.server.read_timeout);
  EXPECT_EQ(a.server.idle_timeout, b.server.idle_timeout);
  EXPECT_EQ(a.server.drain_timeout, b.server.drain_timeout);
  EXPECT_EQ(a.server.max_connections, b.server.max_connections);
  EXPECT_EQ(a.log.access, b.log.access);
  EXPECT_EQ(a.log.level, b.log.level);
  EXPECT_EQ(a.store.url, b.store.url);
  EXPECT_EQ(a.auth.realm, b.auth.realm);
  EXPECT_EQ(a.auth.schemes, b.auth.schemes);
  EXPECT_EQ(a.auth.basic.stores, b.auth.basic.stores);
  EXPECT_EQ(a.auth.basic.cache_ttl, b.auth.basic.cache_ttl);
  EXPECT_EQ(a.auth.basic.cache_entries, b.auth.basic.cache_entries);
  EXPECT_EQ(a.auth.apikey.header, b.auth.apikey.header);
  EXPECT_EQ(a.auth.apikey.query, b.auth.apikey.query);
  EXPECT_EQ(a.auth.apikey.allow_insecure, b.auth.apikey.allow_insecure);
  EXPECT_EQ(a.auth.htpasswd_roles, b.auth.htpasswd_roles);
  ASSERT_EQ(a.auth.static_users.size(), b.auth.static_users.size());
  for (std::size_t i = 0; i < a.auth.static_users.size(); ++i) {
    EXPECT_EQ(a.auth.static_users[i].name, b.auth.static_users[i].name);
    EXPECT_EQ(a.auth.static_users[i].password, b.auth.static_users[i].password);
    EXPECT_EQ(a.auth.static_users[i].roles, b.auth.static_users[i].roles);
  }
  EXPECT_EQ(a.compat.auth_adventures, b.compat.auth_adventures);
  EXPECT_EQ(a.data_dir, b.data_dir);
}

constexpr std::string_view kEveryKey = R"(data_dir = "/var/lib/gatehouse"

[server]
listen = ["127.0.0.1:9000", "[::1]:9001"]
threads = 3
workers = 5
hash_queue = 7
public_url = "https://auth.example.org"
max_header_bytes = "32KiB"
max_body_bytes = "2MiB"
read_timeout = "250ms"
idle_timeout = "10m"
drain_timeout = 2
max_connections = 11

[log]
access = "/var/log/gatehouse/access.log"
level = "debug"

[store]
url = "sqlite:/tmp/g.db"

[auth]
realm = "Example"
schemes = ["basic", "apikey"]
htpasswd_roles = ["Reader", "Writer"]

[auth.basic]
stores = ["static", "htpasswd:/etc/gatehouse/htpasswd", "db"]
cache_ttl = "2h"
cache_entries = 12

[auth.apikey]
header = false
query = false
allow_insecure = true

[[auth.static.users]]
name = "alice"
password = "{PLAIN}wonderland"
roles = ["Admin", "User"]

[[auth.static.users]]
name = "bob"
password = "$2y$10$abcdefghijklmnopqrstuv"

[compat]
auth_adventures = true
)";

// ---- defaults ----------------------------------------------------------------------------

TEST(ConfigDefaults, MatchTheDocumentedValues) {
  const Config config;
  EXPECT_EQ(config.server.listen, std::vector<std::string>{"127.0.0.1:8000"});
  EXPECT_EQ(config.server.threads, 0);
  EXPECT_EQ(config.server.workers, 0);
  EXPECT_EQ(config.server.hash_queue, 64);
  EXPECT_EQ(config.server.public_url, "http://localhost:8000");
  EXPECT_EQ(config.server.max_header_bytes, 16384u);
  EXPECT_EQ(config.server.max_body_bytes, 1048576u);
  EXPECT_EQ(config.server.read_timeout, 15s);
  EXPECT_EQ(config.server.idle_timeout, 60s);
  EXPECT_EQ(config.server.drain_timeout, 10s);
  EXPECT_EQ(config.server.max_connections, 10000);
  EXPECT_EQ(config.log.access, "-");
  EXPECT_EQ(config.log.level, "info");
  EXPECT_EQ(config.store.url, "");
  EXPECT_EQ(config.auth.realm, "gatehouse");
  EXPECT_EQ(config.auth.schemes, (std::vector<std::string>{"apikey", "bearer", "basic"}));
  EXPECT_EQ(config.auth.basic.stores, std::vector<std::string>{"db"});
  EXPECT_EQ(config.auth.basic.cache_ttl, 60s);
  EXPECT_EQ(config.auth.basic.cache_entries, 10000u);
  EXPECT_TRUE(config.auth.apikey.header);
  EXPECT_TRUE(config.auth.apikey.query);
  EXPECT_FALSE(config.auth.apikey.allow_insecure);
  EXPECT_EQ(config.auth.htpasswd_roles, std::vector<std::string>{"User"});
  EXPECT_TRUE(config.auth.static_users.empty());
  EXPECT_FALSE(config.compat.auth_adventures);
  EXPECT_EQ(config.data_dir, "gatehouse-data");
  EXPECT_EQ(config.source, "");
}

TEST(ConfigDefaults, AreValid) {
  EXPECT_TRUE(validate(Config{}).empty());
}

TEST(ConfigDefaults, EmptyFileGivesTheDefaults) {
  const Config config = parsed("", "empty.toml");
  expect_same(config, Config{});
  EXPECT_EQ(config.source, "empty.toml");
}

TEST(ConfigStoreUrl, DefaultsToSqliteInTheDataDirectory) {
  Config config;
  config.data_dir = "/srv/gh";
  EXPECT_EQ(config.store_url(), "sqlite:/srv/gh/gatehouse.db");
  config.store.url = "sqlite:/elsewhere.db";
  EXPECT_EQ(config.store_url(), "sqlite:/elsewhere.db");
}

TEST(ConfigErrorTest, WhatJoinsEveryProblemWithNewlines) {
  const ConfigError error({"a.toml:1: x: first", "a.toml:2: y: second"});
  EXPECT_STREQ(error.what(), "a.toml:1: x: first\na.toml:2: y: second");
  EXPECT_THAT(error.problems(), ElementsAre("a.toml:1: x: first", "a.toml:2: y: second"));
}

// ---- parsing -----------------------------------------------------------------------------

TEST(ConfigParse, ReadsEveryKey) {
  const Config config = parsed(kEveryKey, "every.toml");
  EXPECT_EQ(config.source, "every.toml");
  EXPECT_EQ(config.data_dir, "/var/lib/gatehouse");
  EXPECT_EQ(config.server.listen, (std::vector<std::string>{"127.0.0.1:9000", "[::1]:9001"}));
  EXPECT_EQ(config.server.threads, 3);
  EXPECT_EQ(config.server.workers, 5);
  EXPECT_EQ(config.server.hash_queue, 7);
  EXPECT_EQ(config.server.public_url, "https://auth.example.org");
  EXPECT_EQ(config.server.max_header_bytes, 32u * 1024);
  EXPECT_EQ(config.server.max_body_bytes, 2u * 1024 * 1024);
  EXPECT_EQ(config.server.read_timeout, 250ms);
  EXPECT_EQ(config.server.idle_timeout, 10min);
  EXPECT_EQ(config.server.drain_timeout, 2s);
  EXPECT_EQ(config.server.max_connections, 11);
  EXPECT_EQ(config.log.access, "/var/log/gatehouse/access.log");
  EXPECT_EQ(config.log.level, "debug");
  EXPECT_EQ(config.store.url, "sqlite:/tmp/g.db");
  EXPECT_EQ(config.store_url(), "sqlite:/tmp/g.db");
  EXPECT_EQ(config.auth.realm, "Example");
  EXPECT_EQ(config.auth.schemes, (std::vector<std::string>{"basic", "apikey"}));
  EXPECT_EQ(config.auth.htpasswd_roles, (std::vector<std::string>{"Reader", "Writer"}));
  EXPECT_EQ(config.auth.basic.stores,
            (std::vector<std::string>{"static", "htpasswd:/etc/gatehouse/htpasswd", "db"}));
  EXPECT_EQ(config.auth.basic.cache_ttl, 2h);
  EXPECT_EQ(config.auth.basic.cache_entries, 12u);
  EXPECT_FALSE(config.auth.apikey.header);
  EXPECT_FALSE(config.auth.apikey.query);
  EXPECT_TRUE(config.auth.apikey.allow_insecure);
  ASSERT_EQ(config.auth.static_users.size(), 2u);
  EXPECT_EQ(config.auth.static_users[0].name, "alice");
  EXPECT_EQ(config.auth.static_users[0].password, "{PLAIN}wonderland");
  EXPECT_EQ(config.auth.static_users[0].roles, (std::vector<std::string>{"Admin", "User"}));
  EXPECT_EQ(config.auth.static_users[1].name, "bob");
  EXPECT_EQ(config.auth.static_users[1].password, "$2y$10$abcdefghijklmnopqrstuv");
  EXPECT_EQ(config.auth.static_users[1].roles, std::vector<std::string>{"User"});
  EXPECT_TRUE(config.compat.auth_adventures);
}

TEST(ConfigParse, AcceptsDottedKeysAndInlineTables) {
  const Config config = parsed(R"(
server.threads = 4
log = { level = "warn" }
auth.static.users = [{ name = "carol", password = "{PLAIN}x" }]
)");
  EXPECT_EQ(config.server.threads, 4);
  EXPECT_EQ(config.log.level, "warn");
  ASSERT_EQ(config.auth.static_users.size(), 1u);
  EXPECT_EQ(config.auth.static_users[0].name, "carol");
}

TEST(ConfigParse, KeysLeftOutKeepTheirDefaults) {
  const Config config = parsed("[server]\nthreads = 2\n");
  Config expected;
  expected.server.threads = 2;
  expect_same(config, expected);
}

TEST(ConfigParse, UnknownKeysAndTablesAreErrorsWithTheirLine) {
  const auto problems = problems_of(R"(colour = "blue"
[server]
thread = 2
[tls]
cert = "x"
[auth.kerberos]
keytab = "x"
[[auth.static.users]]
name = "a"
password = "{PLAIN}b"
role = "Admin"
"odd key" = 1
)");
  ASSERT_EQ(problems.size(), 6u) << ::testing::PrintToString(problems);
  EXPECT_THAT(problems[0], HasSubstr("g.toml:1: colour: unknown key; known here: server, log"));
  EXPECT_THAT(problems[1], HasSubstr("g.toml:3: server.thread: unknown key; known here: listen"));
  EXPECT_THAT(problems[2], HasSubstr("g.toml:4: tls: unknown key"));
  EXPECT_THAT(problems[3], HasSubstr("g.toml:6: auth.kerberos: unknown key; known here: realm"));
  EXPECT_EQ(problems[4],
            "g.toml:11: auth.static.users[0].role: unknown key; known here: name, password, roles");
  EXPECT_THAT(problems[5], HasSubstr("g.toml:12: auth.static.users[0].\"odd key\": unknown key"));
}

TEST(ConfigParse, WrongTypesAreErrors) {
  const auto problems = problems_of(R"([server]
listen = "127.0.0.1:80"
threads = "2"
public_url = 5
[log]
level = 3
[compat]
auth_adventures = "yes"
[auth.basic]
stores = ["db", 7]
cache_entries = "10"
[auth.static]
users = 5
)");
  EXPECT_THAT(problems, ElementsAre("g.toml:2: server.listen: expected an array of strings",
                                    "g.toml:3: server.threads: expected an integer",
                                    "g.toml:4: server.public_url: expected a string",
                                    "g.toml:6: log.level: expected a string",
                                    "g.toml:8: compat.auth_adventures: expected a boolean (true or "
                                    "false)",
                                    "g.toml:10: auth.basic.stores[1]: expected a string",
                                    "g.toml:11: auth.basic.cache_entries: expected an integer",
                                    "g.toml:13: auth.static.users: expected an array of tables "
                                    "([[auth.static.users]])"));
}

TEST(ConfigParse, ATableWhereAValueBelongsIsAnError) {
  EXPECT_THAT(problems_of("server = 5\n"), ElementsAre("g.toml:1: server: expected a table"));
  EXPECT_THAT(problems_of("[auth.static]\nusers = [1]\n"),
              ElementsAre("g.toml:2: auth.static.users[0]: expected a table"));
}

TEST(ConfigParse, IntegersOutOfRangeAreErrors) {
  EXPECT_THAT(problems_of("[server]\nthreads = 4294967296\n"),
              ElementsAre("g.toml:2: server.threads: is out of range"));
  EXPECT_THAT(problems_of("[auth.basic]\ncache_entries = -1\n"),
              ElementsAre("g.toml:2: auth.basic.cache_entries: must not be negative"));
}

TEST(ConfigParse, ReportsEveryProblemAtOnceInLineOrder) {
  const std::string text = R"([server]
threads = "many"
read_timeout = "soon"
[log]
level = "loud"
[auth]
schemes = ["basic", "kerberos"]
unknown = true
)";
  try {
    parse_config(text, "multi.toml");
    FAIL() << "accepted an invalid configuration";
  } catch (const ConfigError& error) {
    EXPECT_THAT(error.problems(),
                ElementsAre("multi.toml:2: server.threads: expected an integer",
                            "multi.toml:3: server.read_timeout: expected a duration like "
                            "\"250ms\", \"15s\", \"10m\", \"2h\", \"14d\" or whole seconds",
                            HasSubstr("multi.toml:8: auth.unknown: unknown key"),
                            "multi.toml: log.level: unknown level \"loud\" (known: trace, debug, "
                            "info, warn, error, off)",
                            "multi.toml: auth.schemes: unknown scheme \"kerberos\" (known: "
                            "apikey, basic, bearer, digest)"));
    EXPECT_EQ(std::string(error.what()).find('\n') != std::string::npos, true);
  }
}

TEST(ConfigParse, SyntaxErrorsNameTheLine) {
  const auto unclosed = problems_of("[server]\nthreads = 2\n[log\nlevel = \"info\"\n");
  ASSERT_EQ(unclosed.size(), 1u);
  EXPECT_THAT(unclosed[0], HasSubstr("g.toml:3: TOML syntax error: "));

  const auto missing_value = problems_of("[server]\nthreads =\n");
  ASSERT_EQ(missing_value.size(), 1u);
  EXPECT_THAT(missing_value[0], HasSubstr("g.toml:2: TOML syntax error: "));

  const auto duplicate = problems_of("[server]\nthreads = 1\nthreads = 2\n");
  ASSERT_EQ(duplicate.size(), 1u);
  EXPECT_THAT(duplicate[0], HasSubstr("g.toml:3: TOML syntax error: "));
}

TEST(ConfigParse, SyntaxErrorMessagesStayOnOneLine) {
  const auto problems = problems_of(std::string("a = \"x\x01y\"\n"));
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].find('\n'), std::string::npos);
  EXPECT_EQ(problems[0].find('\x01'), std::string::npos);
}

TEST(ConfigParse, InvalidUtf8IsASyntaxError) {
  const auto problems = problems_of("realm = \"\xC0\xAF\"\n");
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_THAT(problems[0], HasSubstr("g.toml:1: TOML syntax error"));
}

TEST(ConfigParse, ValidationProblemsComeAfterParseProblems) {
  EXPECT_THAT(problems_of("[auth]\nschemes = []\nrealm = 1\n"),
              ElementsAre("g.toml:3: auth.realm: expected a string",
                          "g.toml: auth.schemes: is empty; enable at least one scheme"));
}

// ---- durations and sizes -----------------------------------------------------------------

Duration read_timeout_of(std::string_view value) {
  return parsed("[server]\nread_timeout = " + std::string(value) + "\n").server.read_timeout;
}

std::vector<std::string> read_timeout_problems(std::string_view value) {
  return problems_of("[server]\nread_timeout = " + std::string(value) + "\n");
}

TEST(ConfigDuration, AcceptsEveryUnitAndWholeSeconds) {
  EXPECT_EQ(read_timeout_of("\"250ms\""), 250ms);
  EXPECT_EQ(read_timeout_of("\"15s\""), 15s);
  EXPECT_EQ(read_timeout_of("\"10m\""), 10min);
  EXPECT_EQ(read_timeout_of("\"2h\""), 2h);
  EXPECT_EQ(read_timeout_of("\"14d\""), 14 * 24h);
  EXPECT_EQ(read_timeout_of("30"), 30s);
  EXPECT_EQ(read_timeout_of("\"30\""), 30s);
  EXPECT_EQ(read_timeout_of("\"007s\""), 7s);
  EXPECT_EQ(read_timeout_of("\"9223372036854775807ms\""), Duration::max());
}

TEST(ConfigDuration, RejectsGarbage) {
  const std::string expected =
      "g.toml:2: server.read_timeout: expected a duration like \"250ms\", \"15s\", \"10m\", "
      "\"2h\", \"14d\" or whole seconds";
  for (const char* value :
       {"\"15 s\"", "\"s\"", "\"\"", "\"15S\"", "\"15sec\"", "\"1.5s\"", "\"-5s\"", "\"+5s\"",
        "\"5s5\"", "\"1h30m\"", "1.5", "true", "[15]", "1979-05-27"}) {
    EXPECT_THAT(read_timeout_problems(value), ElementsAre(expected)) << value;
  }
}

TEST(ParseDuration, ReadsTheSameFormsAsTheConfiguration) {
  EXPECT_EQ(parse_duration("250ms"), Duration(250ms));
  EXPECT_EQ(parse_duration("15s"), Duration(15s));
  EXPECT_EQ(parse_duration("10m"), Duration(10min));
  EXPECT_EQ(parse_duration("2h"), Duration(2h));
  EXPECT_EQ(parse_duration("30d"), Duration(30 * 24h));
  EXPECT_EQ(parse_duration("90"), Duration(90s));
  EXPECT_EQ(parse_duration("0s"), Duration(0ms));
}

TEST(ParseDuration, RefusesGarbageAndOverflow) {
  for (const char* text : {"", "s", "-1s", "+1s", " 1s", "1s ", "1.5h", "1w", "1D", "1h30m",
                           "9223372036854775808ms", "106751991167301d"}) {
    EXPECT_EQ(parse_duration(text), std::nullopt) << text;
  }
}

TEST(ConfigDuration, RejectsNegativeIntegers) {
  EXPECT_THAT(read_timeout_problems("-5"),
              ElementsAre("g.toml:2: server.read_timeout: must not be negative"));
}

TEST(ConfigDuration, RejectsOverflow) {
  const std::string expected = "g.toml:2: server.read_timeout: is too large";
  EXPECT_THAT(read_timeout_problems("\"9223372036854775808ms\""), ElementsAre(expected));
  EXPECT_THAT(read_timeout_problems("\"9223372036854776s\""), ElementsAre(expected));
  EXPECT_THAT(read_timeout_problems("\"106751991167301d\""), ElementsAre(expected));
  EXPECT_THAT(read_timeout_problems("\"99999999999999999999999ms\""), ElementsAre(expected));
  EXPECT_THAT(read_timeout_problems("9223372036854776"), ElementsAre(expected));
  EXPECT_THAT(read_timeout_problems("9223372036854775807"), ElementsAre(expected));
}

TEST(ConfigDuration, ZeroParsesButIsNotAValidTimeout) {
  EXPECT_THAT(read_timeout_problems("\"0s\""),
              ElementsAre("g.toml: server.read_timeout: must be longer than 0"));
  EXPECT_EQ(parsed("[auth.basic]\ncache_ttl = 0\n").auth.basic.cache_ttl, 0ms);
}

std::size_t body_limit_of(std::string_view value) {
  return parsed("[server]\nmax_body_bytes = " + std::string(value) + "\n").server.max_body_bytes;
}

std::vector<std::string> body_limit_problems(std::string_view value) {
  return problems_of("[server]\nmax_body_bytes = " + std::string(value) + "\n");
}

TEST(ConfigSize, AcceptsIntegersAndBinaryUnits) {
  EXPECT_EQ(body_limit_of("16384"), 16384u);
  EXPECT_EQ(body_limit_of("\"16384\""), 16384u);
  EXPECT_EQ(body_limit_of("\"512B\""), 512u);
  EXPECT_EQ(body_limit_of("\"16KiB\""), 16384u);
  EXPECT_EQ(body_limit_of("\"1MiB\""), 1048576u);
  EXPECT_EQ(body_limit_of("\"2GiB\""), 2147483648u);
  EXPECT_EQ(body_limit_of("\"3TiB\""), 3298534883328u);
  EXPECT_EQ(body_limit_of("\"8388607TiB\""), 9223370937343148032u);
}

TEST(ConfigSize, RejectsGarbage) {
  const std::string expected =
      "g.toml:2: server.max_body_bytes: expected a size like 16384, \"16KiB\" or \"1MiB\"";
  for (const char* value : {"\"16KB\"", "\"16k\"", "\"16 KiB\"", "\"KiB\"", "\"\"", "\"-1\"",
                            "\"1.5MiB\"", "\"0x10\"", "1.0", "false", "{}"}) {
    EXPECT_THAT(body_limit_problems(value), ElementsAre(expected)) << value;
  }
}

TEST(ConfigSize, RejectsNegativeAndOverflow) {
  EXPECT_THAT(body_limit_problems("-1"),
              ElementsAre("g.toml:2: server.max_body_bytes: must not be negative"));
  EXPECT_THAT(body_limit_problems("\"8388608TiB\""),
              ElementsAre("g.toml:2: server.max_body_bytes: is too large"));
  EXPECT_THAT(body_limit_problems("\"99999999999999999999\""),
              ElementsAre("g.toml:2: server.max_body_bytes: is too large"));
}

// ---- to_toml -----------------------------------------------------------------------------

TEST(ConfigToToml, RoundTripsTheDefaults) {
  const Config defaults;
  const std::string text = to_toml(defaults);
  expect_same(parsed(text, "defaults.toml"), defaults);
}

TEST(ConfigToToml, RoundTripsEveryKey) {
  const Config original = parsed(kEveryKey);
  Config again = parsed(to_toml(original), "again.toml");
  expect_same(again, original);
  again.source = original.source;
  EXPECT_EQ(to_toml(again), to_toml(original));
}

TEST(ConfigToToml, WritesEveryKeyAndDurationsWithUnits) {
  Config config;
  config.server.read_timeout = 250ms;
  const std::string text = to_toml(config);
  for (const char* line : {"data_dir = \"gatehouse-data\"\n",
                           "listen = [\"127.0.0.1:8000\"]\n",
                           "threads = 0\n",
                           "workers = 0\n",
                           "hash_queue = 64\n",
                           "public_url = \"http://localhost:8000\"\n",
                           "max_header_bytes = 16384\n",
                           "max_body_bytes = 1048576\n",
                           "read_timeout = \"250ms\"\n",
                           "idle_timeout = \"60s\"\n",
                           "drain_timeout = \"10s\"\n",
                           "max_connections = 10000\n",
                           "access = \"-\"\n",
                           "level = \"info\"\n",
                           "url = \"\"",
                           "realm = \"gatehouse\"\n",
                           "schemes = [\"apikey\", \"bearer\", \"basic\"]\n",
                           "htpasswd_roles = [\"User\"]\n",
                           "stores = [\"db\"]\n",
                           "cache_ttl = \"60s\"\n",
                           "cache_entries = 10000\n",
                           "header = true\n",
                           "query = true\n",
                           "allow_insecure = false\n",
                           "users = []\n",
                           "auth_adventures = false\n"}) {
    EXPECT_THAT(text, HasSubstr(line));
  }
  EXPECT_THAT(text, HasSubstr("sqlite:gatehouse-data/gatehouse.db"));
}

TEST(ConfigToToml, RoundTripsAwkwardStrings) {
  const std::string awkward =
      std::string("q\"uote \\ back\nnew\ttab\x01\x7F nul:") + '\0' + " é ☃ '''";
  Config config;
  config.log.access = awkward;
  config.auth.realm = "Realm \"quoted\" \\ é";
  config.data_dir = "dir with ] and # and '";
  config.auth.schemes = {"basic"};
  config.auth.basic.stores = {"static"};
  config.auth.static_users.push_back({"名前", awkward, {}});
  config.auth.static_users.push_back({"x", "{PLAIN}y", {awkward, "[[a]]"}});
  config.server.idle_timeout = 1001ms;
  config.auth.basic.cache_ttl = 14 * 24h;
  ASSERT_TRUE(validate(config).empty()) << ::testing::PrintToString(validate(config));
  expect_same(parsed(to_toml(config), "awkward.toml"), config);
}

// ---- validate ----------------------------------------------------------------------------

TEST(ConfigValidate, ProblemsNameTheSourceWhenThereIsOne) {
  Config config;
  config.auth.schemes.clear();
  EXPECT_THAT(validate(config), ElementsAre("auth.schemes: is empty; enable at least one scheme"));
  config.source = "/etc/gatehouse.toml";
  EXPECT_THAT(validate(config),
              ElementsAre("/etc/gatehouse.toml: auth.schemes: is empty; enable at least one "
                          "scheme"));
}

TEST(ConfigValidate, Schemes) {
  EXPECT_THAT(problems_with([](Config& c) {
                c.auth.schemes = {"basic", "negotiate"};
              }),
              ElementsAre("auth.schemes: unknown scheme \"negotiate\" (known: apikey, basic, "
                          "bearer, digest)"));
  EXPECT_THAT(problems_with([](Config& c) { c.auth.schemes = {"Basic"}; }),
              ElementsAre("auth.schemes: unknown scheme \"Basic\" (known: apikey, basic, "
                          "bearer, digest)"));
  EXPECT_THAT(problems_with([](Config& c) {
                c.auth.schemes = {"basic", "apikey", "basic"};
              }),
              ElementsAre("auth.schemes: \"basic\" is listed twice"));
  EXPECT_TRUE(problems_with([](Config& c) { c.auth.schemes = {"basic"}; }).empty());
  EXPECT_TRUE(problems_with([](Config& c) { c.auth.schemes = {"apikey"}; }).empty());
}

TEST(ConfigValidate, BasicNeedsStores) {
  EXPECT_THAT(problems_with([](Config& c) { c.auth.basic.stores.clear(); }),
              ElementsAre("auth.basic.stores: is empty but the basic scheme is enabled"));
  EXPECT_TRUE(problems_with([](Config& c) {
                c.auth.schemes = {"apikey"};
                c.auth.basic.stores.clear();
              }).empty());
}

TEST(ConfigValidate, StoreKinds) {
  EXPECT_TRUE(problems_with([](Config& c) {
                c.auth.basic.stores = {"db", "htpasswd:/etc/htpasswd", "static"};
                c.auth.static_users.push_back({"a", "{PLAIN}b", {"User"}});
              }).empty());
  EXPECT_THAT(
      problems_with([](Config& c) {
        c.auth.basic.stores = {"db", "ldap", "HTPASSWD:/x"};
      }),
      ElementsAre(
          "auth.basic.stores[1]: unknown store \"ldap\" (known: db, static, unix, htpasswd:PATH)",
          "auth.basic.stores[2]: unknown store \"HTPASSWD:/x\" (known: db, static, "
          "unix, htpasswd:PATH)"));
  EXPECT_THAT(problems_with([](Config& c) { c.auth.basic.stores = {"htpasswd:"}; }),
              ElementsAre("auth.basic.stores[0]: \"htpasswd:\" needs a file path"));
  EXPECT_THAT(problems_with([](Config& c) {
                c.auth.basic.stores = {"db", "db"};
              }),
              ElementsAre("auth.basic.stores: \"db\" is listed twice"));
}

TEST(ConfigValidate, StaticStoreNeedsUsers) {
  EXPECT_THAT(problems_with([](Config& c) { c.auth.basic.stores = {"static"}; }),
              ElementsAre("auth.basic.stores: \"static\" is listed but there are no "
                          "[[auth.static.users]]"));
}

TEST(ConfigValidate, StaticUsersNeedNameAndPassword) {
  EXPECT_THAT(
      problems_with([](Config& c) {
        c.auth.static_users.push_back({"", "{PLAIN}x", {"User"}});
        c.auth.static_users.push_back({"bob", "", {"User"}});
        c.auth.static_users.push_back({"bob", "{PLAIN}y", {""}});
      }),
      ElementsAre("auth.static.users[0].name: is empty", "auth.static.users[1].password: is empty",
                  "auth.static.users[2].name: \"bob\" is listed twice",
                  "auth.static.users[2].roles[0]: a role name is empty"));
}

std::vector<std::string> listen_problems(std::vector<std::string> listen) {
  Config config;
  config.server.listen = std::move(listen);
  config.auth.apikey.query = false;
  return validate(config);
}

TEST(ConfigValidate, ListenAddressesThatParse) {
  EXPECT_TRUE(listen_problems({"127.0.0.1:0", "127.0.0.1:65535", "[::1]:8000", "[::]:80",
                               "0.0.0.0:443", "localhost:8080", "auth.example.org:8443",
                               "[fe80::1:2]:1", "10.1.2.3:00080"})
                  .empty());
}

TEST(ConfigValidate, ListenAddressesThatDoNot) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"127.0.0.1", "expected HOST:PORT or [IPv6]:PORT"},
      {"127.0.0.1:65536", "the port must be a number from 0 to 65535"},
      {"127.0.0.1:-1", "the port must be a number from 0 to 65535"},
      {"127.0.0.1:", "the port must be a number from 0 to 65535"},
      {"127.0.0.1:80x", "the port must be a number from 0 to 65535"},
      {"127.0.0.1:999999", "the port must be a number from 0 to 65535"},
      {"127.0.0.1:0000080", "the port must be a number from 0 to 65535"},
      {":80", "the host is missing (0.0.0.0 or [::] listen on every address)"},
      {"::1:80", "write IPv6 addresses in brackets, as [::1]:PORT"},
      {"[::1]80", "expected [IPv6]:PORT"},
      {"[::1]", "expected [IPv6]:PORT"},
      {"[::1", "expected [IPv6]:PORT"},
      {"[example.org]:80", "\"example.org\" is not an IPv6 address"},
      {"[127.0.0.1]:80", "\"127.0.0.1\" is not an IPv6 address"},
      {"300.1.1.1:80", "\"300.1.1.1\" is not an IPv4 address or host name"},
      {"host_name:80", "\"host_name\" is not an IPv4 address or host name"},
      {"-bad.example:80", "\"-bad.example\" is not an IPv4 address or host name"},
      {"a..b:80", "\"a..b\" is not an IPv4 address or host name"},
      {"", "expected HOST:PORT or [IPv6]:PORT"},
  };
  for (const auto& [address, why] : cases) {
    EXPECT_THAT(listen_problems({address}),
                ElementsAre("server.listen[0]: \"" + address + "\": " + why))
        << address;
  }
}

TEST(ConfigValidate, ListenListMustNotBeEmptyOrRepeat) {
  EXPECT_THAT(listen_problems({}), ElementsAre("server.listen: is empty; nothing to listen on"));
  EXPECT_THAT(listen_problems({"127.0.0.1:80", "127.0.0.1:80"}),
              ElementsAre("server.listen: \"127.0.0.1:80\" is listed twice"));
}

TEST(ConfigValidate, ServerNumbers) {
  EXPECT_THAT(problems_with([](Config& c) {
                c.server.threads = -1;
                c.server.workers = -1;
                c.server.hash_queue = 0;
                c.server.max_header_bytes = 1023;
                c.server.max_body_bytes = 0;
                c.server.max_connections = 0;
              }),
              ElementsAre("server.threads: must be 0 (one per core) or more",
                          "server.workers: must be 0 (one per core) or more",
                          "server.hash_queue: must be at least 1",
                          "server.max_header_bytes: must be at least 1024",
                          "server.max_body_bytes: must be more than 0",
                          "server.max_connections: must be at least 1"));
  EXPECT_TRUE(problems_with([](Config& c) {
                c.server.threads = 1;
                c.server.workers = 1;
                c.server.hash_queue = 1;
                c.server.max_header_bytes = 1024;
                c.server.max_body_bytes = 1;
                c.server.max_connections = 1;
              }).empty());
}

TEST(ConfigValidate, Timeouts) {
  EXPECT_THAT(problems_with([](Config& c) {
                c.server.read_timeout = 0ms;
                c.server.idle_timeout = 0ms;
                c.server.drain_timeout = -1ms;
              }),
              ElementsAre("server.read_timeout: must be longer than 0",
                          "server.idle_timeout: must be longer than 0",
                          "server.drain_timeout: must be longer than 0"));
  EXPECT_TRUE(problems_with([](Config& c) {
                c.server.read_timeout = 1ms;
                c.server.idle_timeout = 1ms;
                c.server.drain_timeout = 1ms;
              }).empty());
}

TEST(ConfigValidate, PublicUrl) {
  EXPECT_THAT(problems_with([](Config& c) { c.server.public_url = "localhost:8000"; }),
              ElementsAre("server.public_url: must be an absolute http:// or https:// URL"));
  EXPECT_THAT(problems_with([](Config& c) { c.server.public_url = "https://"; }),
              ElementsAre("server.public_url: must be an absolute http:// or https:// URL"));
  EXPECT_TRUE(
      problems_with([](Config& c) { c.server.public_url = "https://auth.example.org/"; }).empty());
}

TEST(ConfigValidate, LogLevel) {
  for (const char* level : {"trace", "debug", "info", "warn", "error", "off"}) {
    Config config;
    config.log.level = level;
    EXPECT_TRUE(validate(config).empty()) << level;
  }
  EXPECT_THAT(problems_with([](Config& c) { c.log.level = "INFO"; }),
              ElementsAre("log.level: unknown level \"INFO\" (known: trace, debug, info, warn, "
                          "error, off)"));
}

TEST(ConfigValidate, StoreUrl) {
  EXPECT_TRUE(problems_with([](Config& c) { c.store.url = "sqlite:/var/lib/g.db"; }).empty());
  EXPECT_THAT(problems_with([](Config& c) { c.store.url = "sqlite:"; }),
              ElementsAre("store.url: \"sqlite:\" needs a file path"));
  EXPECT_THAT(problems_with([](Config& c) { c.store.url = "postgresql://db/gatehouse"; }),
              ElementsAre("store.url: postgresql is not supported yet"));
  EXPECT_THAT(problems_with([](Config& c) { c.store.url = "mysql://db"; }),
              ElementsAre("store.url: \"mysql://db\": expected \"sqlite:PATH\""));
}

TEST(ConfigValidate, RealmAndDataDir) {
  EXPECT_THAT(problems_with([](Config& c) { c.auth.realm = "evil\r\nSet-Cookie: x"; }),
              ElementsAre("auth.realm: must not contain control characters (it is sent in "
                          "challenges)"));
  EXPECT_THAT(problems_with([](Config& c) { c.data_dir.clear(); }),
              ElementsAre("data_dir: is empty"));
  EXPECT_THAT(problems_with([](Config& c) {
                c.auth.htpasswd_roles = {"User", ""};
              }),
              ElementsAre("auth.htpasswd_roles[1]: a role name is empty"));
}

constexpr std::string_view kQueryKeysInClear =
    "auth.apikey.query: query API keys would travel in clear text on a non-loopback listener "
    "without TLS; set auth.apikey.query = false or allow_insecure = true";

std::vector<std::string> query_key_problems(std::vector<std::string> listen, bool query,
                                            bool allow_insecure) {
  Config config;
  config.server.listen = std::move(listen);
  config.auth.apikey.query = query;
  config.auth.apikey.allow_insecure = allow_insecure;
  return validate(config);
}

TEST(ConfigValidate, QueryApiKeysOnANonLoopbackListenerNeedAllowInsecure) {
  EXPECT_THAT(query_key_problems({"0.0.0.0:8000"}, true, false), ElementsAre(kQueryKeysInClear));
  EXPECT_THAT(query_key_problems({"127.0.0.1:8000", "[::]:8000"}, true, false),
              ElementsAre(kQueryKeysInClear));
  EXPECT_THAT(query_key_problems({"auth.example.org:80"}, true, false),
              ElementsAre(kQueryKeysInClear));
  EXPECT_TRUE(query_key_problems({"0.0.0.0:8000"}, true, true).empty());
  EXPECT_TRUE(query_key_problems({"0.0.0.0:8000"}, false, false).empty());
}

TEST(ConfigValidate, QueryApiKeysOnLoopbackAreFine) {
  EXPECT_TRUE(query_key_problems({"127.0.0.1:1", "127.255.0.9:2", "[::1]:3", "localhost:4",
                                  "LocalHost:5", "[::ffff:127.0.0.1]:6"},
                                 true, false)
                  .empty());
}

TEST(ConfigValidate, QueryRuleIgnoresADisabledApiKeyScheme) {
  Config config;
  config.server.listen = {"0.0.0.0:8000"};
  config.auth.schemes = {"basic"};
  EXPECT_TRUE(validate(config).empty());
}

TEST(ConfigValidate, ParseConfigAppliesTheQueryRule) {
  EXPECT_THAT(problems_of("[server]\nlisten = [\"0.0.0.0:80\"]\n", "q.toml"),
              ElementsAre("q.toml: " + std::string(kQueryKeysInClear)));
}

// ---- load_config -------------------------------------------------------------------------

class LoadConfig : public ::testing::Test {
 protected:
  void SetUp() override {
    directory_ = std::filesystem::temp_directory_path() /
                 ("gatehouse-config-test-" + std::to_string(::getpid()));
    std::filesystem::create_directories(directory_);
  }
  void TearDown() override { std::filesystem::remove_all(directory_); }

  std::string write(const std::string& name, std::string_view text) {
    const auto path = (directory_ / name).string();
    std::ofstream(path, std::ios::binary) << text;
    return path;
  }

  std::filesystem::path directory_;
};

TEST_F(LoadConfig, ReadsAFile) {
  const std::string path = write("ok.toml", "data_dir = \"/srv/g\"\n[server]\nthreads = 2\n");
  const Config config = load_config(path);
  EXPECT_EQ(config.source, path);
  EXPECT_EQ(config.data_dir, "/srv/g");
  EXPECT_EQ(config.server.threads, 2);
}

TEST_F(LoadConfig, ProblemsNameTheFile) {
  const std::string path = write("bad.toml", "[server]\nthreads = -1\nbogus = 1\n");
  try {
    load_config(path);
    FAIL() << "accepted an invalid file";
  } catch (const ConfigError& error) {
    EXPECT_THAT(error.problems(),
                ElementsAre(HasSubstr(path + ":3: server.bogus: unknown key"),
                            path + ": server.threads: must be 0 (one per core) or more"));
  }
}

TEST_F(LoadConfig, AMissingFileIsAConfigError) {
  const std::string path = (directory_ / "missing.toml").string();
  try {
    load_config(path);
    FAIL() << "read a file that does not exist";
  } catch (const ConfigError& error) {
    EXPECT_THAT(error.problems(), ElementsAre(path + ": cannot read: No such file or directory"));
  }
}

}  // namespace
}  // namespace gatehouse

namespace gatehouse {
namespace {

TEST(ConfigTrackers, EmbeddersGetNoneFilesAndServeGetTheDemo) {
  EXPECT_TRUE(Config{}.trackers.empty());  // a library user's Config needs no database for it
  ASSERT_EQ(default_server_config().trackers.size(), 1u);
  EXPECT_EQ(default_server_config().trackers[0].name, "demo");
  const Config without = parse_config("[server]\nthreads = 1\n", "t.toml");
  ASSERT_EQ(without.trackers.size(), 1u);
  EXPECT_EQ(without.trackers[0].schema, "classic");
  EXPECT_TRUE(parse_config("[tracker]\n", "t.toml").trackers.empty());
  const Config two = parse_config(
      "[tracker.ops]\nschema = \"classic\"\ndemo_data = false\n[tracker.dev]\n", "t.toml");
  ASSERT_EQ(two.trackers.size(), 2u);
  EXPECT_EQ(two.trackers[0].name, "dev");  // in name order
  EXPECT_TRUE(two.trackers[0].demo_data);
  EXPECT_EQ(two.trackers[1].name, "ops");
  EXPECT_FALSE(two.trackers[1].demo_data);
  EXPECT_THROW(parse_config("[tracker.auth]\n", "t.toml"), ConfigError);
  EXPECT_THROW(parse_config("[tracker.Bad]\n", "t.toml"), ConfigError);
}

}  // namespace
}  // namespace gatehouse
