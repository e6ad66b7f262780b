#include "client/url.hpp"

#include <gtest/gtest.h>

#include <map>
#include <string>

namespace gatehouse::client::detail {
namespace {

TEST(ClientUrl, ParsesAndNormalizes) {
  const Url u = parse_url("HTTP://Example.COM/a/b?x=1&y=%20#frag");
  EXPECT_EQ(u.scheme, "http");
  EXPECT_EQ(u.host, "example.com");
  EXPECT_EQ(u.port, 80);
  EXPECT_EQ(u.target, "/a/b?x=1&y=%20");
  EXPECT_EQ(u.authority(), "example.com");
  EXPECT_EQ(u.str(), "http://example.com/a/b?x=1&y=%20");

  const Url s = parse_url("https://127.0.0.1:8443");
  EXPECT_TRUE(s.https());
  EXPECT_EQ(s.port, 8443);
  EXPECT_EQ(s.target, "/");
  EXPECT_EQ(s.authority(), "127.0.0.1:8443");
  EXPECT_EQ(parse_url("https://h:443/").authority(), "h");

  const Url v6 = parse_url("http://[::1]:8080/p");
  EXPECT_EQ(v6.host, "::1");
  EXPECT_TRUE(v6.ipv6());
  EXPECT_EQ(v6.authority(), "[::1]:8080");
}

TEST(ClientUrl, RefusesBadUrls) {
  for (const char* bad :
       {"", "example.com/x", "/relative", "ftp://h/", "http://", "http:///x", "http://h:0/",
        "http://h:65536/", "http://h:x/", "http://u:p@h/", "http://a b/", "http://h/a b",
        "http://h/\r\nX: y", "http://h%0d/", "http://[v1.x]/"}) {
    EXPECT_THROW(parse_url(bad), RequestError) << bad;
  }
}

TEST(ClientUrl, ResolvesLocations) {
  const Url base = parse_url("http://h:8080/a/b?q");
  EXPECT_EQ(resolve_url(base, "/x").str(), "http://h:8080/x");
  EXPECT_EQ(resolve_url(base, "c").str(), "http://h:8080/a/c");
  EXPECT_EQ(resolve_url(base, "../d?e=1").str(), "http://h:8080/d?e=1");
  EXPECT_EQ(resolve_url(base, "?z").str(), "http://h:8080/a/b?z");
  EXPECT_EQ(resolve_url(base, "//other/p").str(), "http://other/p");
  EXPECT_EQ(resolve_url(base, "https://s/").str(), "https://s/");
  EXPECT_EQ(resolve_url(base, "/p#frag").str(), "http://h:8080/p");
  EXPECT_THROW(resolve_url(base, "ftp://x/"), RequestError);
  EXPECT_THROW(resolve_url(base, "http://u:p@x/"), RequestError);
  EXPECT_THROW(resolve_url(base, "/a b"), RequestError);
}

TEST(ClientUrl, Origins) {
  EXPECT_TRUE(same_origin(parse_url("http://h/a"), parse_url("http://H:80/b")));
  EXPECT_FALSE(same_origin(parse_url("http://h/"), parse_url("https://h/")));
  EXPECT_FALSE(same_origin(parse_url("http://h/"), parse_url("http://h:81/")));
  EXPECT_FALSE(same_origin(parse_url("http://h/"), parse_url("http://g/")));
  EXPECT_FALSE(same_origin(parse_url("http://h/"), parse_url("http://sub.h/")));
}

TEST(ClientHeaders, RefusesInjection) {
  EXPECT_NO_THROW(check_header("X-Fine", "a value; with \"quotes\"\tand tab"));
  EXPECT_THROW(check_header("X-A", "a\r\nX-Evil: 1"), RequestError);
  EXPECT_THROW(check_header("X-A", "a\nb"), RequestError);
  EXPECT_THROW(check_header("X-A", "a\rb"), RequestError);
  EXPECT_THROW(check_header("X-A", std::string("a\0b", 3)), RequestError);
  EXPECT_THROW(check_header("", "v"), RequestError);
  EXPECT_THROW(check_header("Bad Name", "v"), RequestError);
  EXPECT_THROW(check_header("Bad:Name", "v"), RequestError);
  EXPECT_THROW(check_header("X\r\nEvil", "v"), RequestError);
  EXPECT_THROW(check_header(std::string("X\0Evil", 6), "v"), RequestError);  // NUL is no tchar
  EXPECT_THROW(check_method(std::string("GET\0", 4)), RequestError);
  EXPECT_NO_THROW(check_method("PROPFIND"));
  EXPECT_THROW(check_method("GET /x HTTP/1.1\r\n"), RequestError);
  EXPECT_THROW(check_method(""), RequestError);
}

TEST(ClientProxy, ParsesProxyUrls) {
  const Proxy p = parse_proxy("http://proxy.example:3128");
  EXPECT_EQ(p.host, "proxy.example");
  EXPECT_EQ(p.port, 3128);
  EXPECT_EQ(p.authority, "proxy.example:3128");
  EXPECT_FALSE(p.credentials);
  const Proxy bare = parse_proxy("10.0.0.1");
  EXPECT_EQ(bare.port, 1080);
  const Proxy creds = parse_proxy("http://al%40ice:p%3Aw@[::1]:8080/");
  EXPECT_EQ(creds.authority, "[::1]:8080");
  ASSERT_TRUE(creds.credentials);
  EXPECT_EQ(*creds.credentials, "al@ice:p:w");
  EXPECT_THROW(parse_proxy("https://proxy:443"), RequestError);
  EXPECT_THROW(parse_proxy("socks5://proxy:1080"), RequestError);
  EXPECT_THROW(parse_proxy("http://proxy:99999"), RequestError);
}

TEST(ClientRedact, MasksCredentialParametersAndUserinfo) {
  EXPECT_EQ(redact_url("https://h/p?api_key=K1&x=1"), "https://h/p?api_key=***&x=1");
  EXPECT_EQ(redact_url("https://h/p?a=1&API_KEY=K1"), "https://h/p?a=1&API_KEY=***");
  EXPECT_EQ(redact_url("https://h/p?Access_Token=t&refresh_token=r;token=t2&key=k"),
            "https://h/p?Access_Token=***&refresh_token=***;token=***&key=***");
  EXPECT_EQ(redact_url("https://h/?password=p&client_secret=c&apikey=a&keys=ok"),
            "https://h/?password=***&client_secret=***&apikey=***&keys=ok");
  EXPECT_EQ(redact_url("https://h/?api%5Fkey=K&api+key=x"), "https://h/?api%5Fkey=***&api+key=x");
  EXPECT_EQ(redact_url("https://h/cb#access_token=T&state=s"),
            "https://h/cb#access_token=***&state=s");
  EXPECT_EQ(redact_url("https://h/p?x=1#frag"), "https://h/p?x=1#frag");
  EXPECT_EQ(redact_url("http://user:pw@h:8080/p"), "http://***@h:8080/p");
  EXPECT_EQ(redact_url("http://us@er:p@w@h/p?token=t"), "http://***@h/p?token=***");
  EXPECT_EQ(redact_url("http://user:pa/ss@h/p"), "http://***@h/p");
  EXPECT_EQ(redact_url("user:pw@proxy:3128"), "***@proxy:3128");
  EXPECT_EQ(redact_url("//user:pw@h/"), "//***@h/");
  EXPECT_EQ(redact_url("/relative?key=k"), "/relative?key=***");
  EXPECT_EQ(redact_url("?token=t"), "?token=***");
  EXPECT_EQ(redact_url("http://[::1]:8080/users/@me?a=b"), "http://[::1]:8080/users/@me?a=b");
  EXPECT_EQ(redact_url("http://h:8080/a@b"), "http://h:8080/a@b");
  EXPECT_EQ(redact_url(""), "");
  EXPECT_EQ(redact_url("https://h/?api_key"), "https://h/?api_key");
}

// Every error message of the URL code echoes the URL only through redact_url.
TEST(ClientRedact, ErrorMessagesHideCredentials) {
  const auto message = [](auto&& fn) -> std::string {
    try {
      fn();
    } catch (const RequestError& e) {
      return e.what();
    }
    return "(no error)";
  };
  for (const std::string& m : {
           message([] { parse_url("http://alice:hunter2@h/"); }),
           message([] { parse_url("ftp://alice:hunter2@h/?api_key=hunter2"); }),
           message([] { parse_url("http://h:99999/?access_token=hunter2"); }),
           message([] { parse_url("http://alice:hunter2@h/ x"); }),
           message([] { parse_proxy("socks5://alice:hunter2@proxy:1080"); }),
           message([] { parse_proxy("http://alice:hunter2@proxy:99999"); }),
           message([] { parse_proxy("http://alice:hunter2@pro xy:1/"); }),
           message([] { parse_proxy("http://alice:hunter2@:8080"); }),
           message([] { resolve_url(parse_url("http://h/"), "ftp://u:hunter2@x/"); }),
           message([] { resolve_url(parse_url("http://h/"), "http://h/?token=hunter2 x"); }),
       }) {
    EXPECT_NE(m, "(no error)");
    EXPECT_EQ(m.find("hunter2"), std::string::npos) << m;
  }
}

TEST(ClientProxy, NoProxyFollowsCurl) {
  const auto matches = [](const char* list, const char* url) {
    return no_proxy_matches(list, parse_url(url));
  };
  EXPECT_TRUE(matches("*", "http://anything.example/"));
  EXPECT_FALSE(matches("", "http://example.com/"));
  EXPECT_TRUE(matches("example.com", "http://example.com/"));
  EXPECT_TRUE(matches("example.com", "http://www.example.com:8080/"));
  EXPECT_TRUE(matches(".example.com", "http://www.example.com/"));
  EXPECT_TRUE(matches(".example.com", "http://example.com/"));
  EXPECT_FALSE(matches("example.com", "http://notexample.com/"));
  EXPECT_FALSE(matches("example.com", "http://example.com.evil/"));
  EXPECT_TRUE(matches("EXAMPLE.com", "http://Example.COM/"));
  EXPECT_TRUE(matches("a.test, b.test ,c.test", "http://b.test/"));
  EXPECT_TRUE(matches("a.test c.test", "http://c.test/"));
  EXPECT_TRUE(matches("example.com:8080", "http://example.com:8080/"));
  EXPECT_FALSE(matches("example.com:8080", "http://example.com/"));
  EXPECT_TRUE(matches("127.0.0.1", "http://127.0.0.1:9000/"));
  EXPECT_FALSE(matches("127.0.0.1", "http://127.0.0.10/"));
  EXPECT_TRUE(matches("127.0.0.0/8", "http://127.1.2.3/"));
  EXPECT_FALSE(matches("10.0.0.0/8", "http://127.1.2.3/"));
  EXPECT_FALSE(matches("127.0.0.0/8", "http://localhost/"));
  EXPECT_TRUE(matches("::1", "http://[::1]:8080/"));
  EXPECT_TRUE(matches("[::1]", "http://[::1]/"));
  EXPECT_TRUE(matches("[::1]:8080", "http://[::1]:8080/"));
  EXPECT_FALSE(matches("[::1]:8080", "http://[::1]:8081/"));
  EXPECT_TRUE(matches("fd00::/8", "http://[fd12::1]/"));
  EXPECT_FALSE(matches("*.example.com", "http://www.example.com/"));  // "*" only alone
}

TEST(ClientProxy, EnvironmentFollowsCurl) {
  const auto from = [](std::map<std::string, std::string> env) {
    return options_from([&](const char* name) -> const char* {
      auto it = env.find(name);
      return it == env.end() ? nullptr : it->second.c_str();
    });
  };
  auto o = from({{"http_proxy", "http://a:1"}, {"https_proxy", "http://b:2"}, {"no_proxy", "x"}});
  EXPECT_EQ(o.http_proxy, "http://a:1");
  EXPECT_EQ(o.https_proxy, "http://b:2");
  EXPECT_EQ(o.no_proxy, "x");
  // httpoxy: HTTP_PROXY in upper case may come from a request's "Proxy:" header under CGI.
  EXPECT_EQ(from({{"HTTP_PROXY", "http://evil:1"}}).http_proxy, "");
  o = from({{"HTTPS_PROXY", "http://B:2"}, {"NO_PROXY", "Y"}});
  EXPECT_EQ(o.https_proxy, "http://B:2");
  EXPECT_EQ(o.no_proxy, "Y");
  o = from({{"https_proxy", "http://lower:1"},
            {"HTTPS_PROXY", "http://upper:1"},
            {"no_proxy", "l"},
            {"NO_PROXY", "u"}});
  EXPECT_EQ(o.https_proxy, "http://lower:1");
  EXPECT_EQ(o.no_proxy, "l");
  o = from({{"ALL_PROXY", "http://all:1"}});
  EXPECT_EQ(o.http_proxy, "http://all:1");
  EXPECT_EQ(o.https_proxy, "http://all:1");
}

}  // namespace
}  // namespace gatehouse::client::detail
