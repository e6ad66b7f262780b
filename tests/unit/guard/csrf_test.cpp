// CSRF decisions (SPEC §10; Roundup's handle_csrf and handle_csrf_tokenless): the tokenless
// decision matrix over Sec-Fetch-Site × Origin × Host × credentials × method, the header policy
// (required/yes/logfailure/no, header_min_count, X-Requested-With on API routes), the API 405,
// and hostile header values.
#include "guard/csrf.hpp"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

namespace gatehouse::guard {
namespace {

constexpr std::string_view kPublicUrl = "https://gh.example";
constexpr std::string_view kAllowed = "https://app.example";

CsrfPolicy policy(CsrfMode mode, std::vector<std::string> allowed = {std::string(kAllowed)}) {
  GuardConfig config;
  config.csrf = mode == CsrfMode::tokenless ? "tokenless"
                : mode == CsrfMode::headers ? "headers"
                                            : "off";
  config.allowed_origins = std::move(allowed);
  return CsrfPolicy::from_config(config, kPublicUrl);
}

// A request built from owned strings, for csrf_request().
struct TestRequest {
  std::string method = "POST";
  std::vector<std::pair<std::string, std::string>> headers;

  TestRequest& add(std::string name, std::string value) {
    headers.emplace_back(std::move(name), std::move(value));
    return *this;
  }
  Request view() const {
    Request r;
    r.method = method;
    r.path = "/auth/login";
    r.target = r.path;
    for (const auto& [n, v] : headers) r.headers.push_back({n, v});
    return r;
  }
};

CsrfVerdict decide(const TestRequest& t, const CsrfPolicy& p, bool api = false) {
  const Request r = t.view();
  return check_csrf(csrf_request(r, api), p);
}

// ---- browser-attached credentials -------------------------------------------------------------

TEST(CarriesBrowserCredentials, CookieBasicDigestNegotiateInAnyCase) {
  for (const auto& [name, value] : std::vector<std::pair<std::string, std::string>>{
           {"Cookie", "sid=1"},
           {"cookie", ""},
           {"Authorization", "Basic ZGVtbzpkZW1v"},
           {"Authorization", "basic ZGVtbzpkZW1v"},
           {"authorization", "BASIC ZGVtbzpkZW1v"},
           {"Authorization", "Digest username=\"demo\", realm=\"gatehouse\""},
           {"Authorization", "digest username=\"demo\""},
           {"Authorization", "Negotiate YIIB"},
           {"Authorization", "NEGOTIATE YIIB"},
           {"Authorization", "  Basic\tZGVtbzpkZW1v"},
           {"Authorization", "Basic"}}) {
    EXPECT_TRUE(carries_browser_credentials(TestRequest{}.add(name, value).view()))
        << name << ": " << value;
  }
}

TEST(CarriesBrowserCredentials, BearerAndApiKeysAreExempt) {
  for (const auto& [name, value] : std::vector<std::pair<std::string, std::string>>{
           {"Authorization", "Bearer eyJ.x.y"},
           {"Authorization", "bearer eyJ.x.y"},
           {"Authorization", "Apikey gh_0123_abc"},
           {"X-API-Key", "gh_0123_abc"},
           {"Authorization", "Basicfoo abc"},  // another scheme, not Basic
           {"Authorization", ""},
           {"X-Basic", "Basic abc"}}) {
    EXPECT_FALSE(carries_browser_credentials(TestRequest{}.add(name, value).view()))
        << name << ": " << value;
  }
  EXPECT_FALSE(carries_browser_credentials(TestRequest{}.view()));
  // Any browser-attached credential among several makes the request CSRF-relevant.
  EXPECT_TRUE(carries_browser_credentials(TestRequest{}
                                              .add("Authorization", "Bearer t")
                                              .add("Authorization", "Basic ZGVtbzpkZW1v")
                                              .view()));
  EXPECT_TRUE(carries_browser_credentials(
      TestRequest{}.add("X-API-Key", "k").add("Cookie", "sid=1").view()));
}

// ---- the tokenless decision matrix ------------------------------------------------------------

enum class Cred { basic, digest, negotiate, cookie, bearer, apikey_header, x_api_key, none };
enum class OriginKind { absent, own, allowed, foreign, null_origin };

constexpr Cred kCreds[] = {Cred::basic,  Cred::digest,        Cred::negotiate, Cred::cookie,
                           Cred::bearer, Cred::apikey_header, Cred::x_api_key, Cred::none};
constexpr OriginKind kOrigins[] = {OriginKind::absent, OriginKind::own, OriginKind::allowed,
                                   OriginKind::foreign, OriginKind::null_origin};
const std::optional<std::string> kSites[] = {std::nullopt, "same-origin", "same-site", "cross-site",
                                             "none"};
const char* const kMethods[] = {"GET", "POST", "PUT", "DELETE", "PATCH"};

bool browser_attached(Cred c) {
  return c == Cred::basic || c == Cred::digest || c == Cred::negotiate || c == Cred::cookie;
}

void add_credentials(TestRequest& t, Cred c) {
  switch (c) {
    case Cred::basic:
      t.add("Authorization", "Basic ZGVtbzpkZW1v");
      break;
    case Cred::digest:
      t.add("Authorization", "Digest username=\"demo\", realm=\"gatehouse\", nonce=\"n\"");
      break;
    case Cred::negotiate:
      t.add("Authorization", "Negotiate YIIBhwYGKwYBBQUCoIIBezCCAXeg");
      break;
    case Cred::cookie:
      t.add("Cookie", "gatehouse_session=abc");
      break;
    case Cred::bearer:
      t.add("Authorization", "Bearer eyJhbGciOiJFZERTQSJ9.e30.sig");
      break;
    case Cred::apikey_header:
      t.add("Authorization", "Apikey gh_0123456789abcdef_00");
      break;
    case Cred::x_api_key:
      t.add("X-API-Key", "gh_0123456789abcdef_00");
      break;
    case Cred::none:
      break;
  }
}

std::optional<std::string> origin_value(OriginKind o) {
  switch (o) {
    case OriginKind::absent:
      return std::nullopt;
    case OriginKind::own:
      return "https://gh.example";
    case OriginKind::allowed:
      return std::string(kAllowed);
    case OriginKind::foreign:
      return "https://evil.example:8443";
    case OriginKind::null_origin:
      return "null";
  }
  return std::nullopt;
}

// The Host header: "matching" is the host[:port] of the request's own Origin (so that the last
// tokenless rule can let it through); "not" is some other host.
std::string host_value(OriginKind o, bool matching) {
  if (!matching) return "elsewhere.example";
  switch (o) {
    case OriginKind::allowed:
      return "app.example";
    case OriginKind::foreign:
      return "evil.example:8443";
    case OriginKind::absent:
    case OriginKind::own:
    case OriginKind::null_origin:
      return "gh.example";
  }
  return "gh.example";
}

// SPEC §10 and Roundup's handle_csrf_tokenless, restated independently of the implementation.
bool expected_allowed(const std::optional<std::string>& site, OriginKind origin, bool host_matches,
                      Cred cred, std::string_view method) {
  if (method == "GET" || method == "HEAD" || method == "OPTIONS") return true;  // safe
  if (!browser_attached(cred)) return true;  // a page on another site cannot forge these
  if (origin == OriginKind::own || origin == OriginKind::allowed) return true;
  if (site) return *site == "same-origin" || *site == "none";
  if (origin == OriginKind::absent) return true;  // not a browser
  // The Origin's host[:port] must be the Host: never for "null".
  return origin == OriginKind::foreign && host_matches;
}

TEST(CsrfTokenless, DecisionMatrix) {
  const CsrfPolicy p = policy(CsrfMode::tokenless);
  int cells = 0, refused = 0;
  for (const auto& site : kSites) {
    for (const OriginKind origin : kOrigins) {
      for (const bool host_matches : {true, false}) {
        for (const Cred cred : kCreds) {
          for (const char* method : kMethods) {
            TestRequest t;
            t.method = method;
            t.add("Host", host_value(origin, host_matches));
            if (const auto o = origin_value(origin)) t.add("Origin", *o);
            if (site) t.add("Sec-Fetch-Site", *site);
            add_credentials(t, cred);
            const CsrfVerdict v = decide(t, p);
            const bool want = expected_allowed(site, origin, host_matches, cred, method);
            ++cells;
            refused += want ? 0 : 1;
            EXPECT_EQ(v.allowed(), want)
                << method << " Sec-Fetch-Site=" << site.value_or("(absent)")
                << " Origin=" << origin_value(origin).value_or("(absent)")
                << " Host=" << host_value(origin, host_matches)
                << " cred=" << static_cast<int>(cred);
            if (!v.allowed()) {
              EXPECT_EQ(v.status, 403);
              EXPECT_EQ(v.message, "Unable to authorize request");
            }
          }
        }
      }
    }
  }
  EXPECT_EQ(cells, 5 * 5 * 2 * 8 * 5);
  // 4 unsafe methods × 4 browser credentials × the refused (site, origin, host) cells: with a
  // cross-site/same-site Sec-Fetch-Site and a foreign/null/absent Origin (2×3×2 = 12), and with
  // no Sec-Fetch-Site, a null Origin (2) or a foreign Origin on another Host (1).
  EXPECT_EQ(refused, 4 * 4 * (12 + 2 + 1));
}

TEST(CsrfTokenless, PinnedCells) {
  const CsrfPolicy p = policy(CsrfMode::tokenless);
  // The classic attack: a form on evil.example posting with the browser's Basic credentials.
  TestRequest attack;
  attack.add("Host", "gh.example")
      .add("Origin", "https://evil.example")
      .add("Sec-Fetch-Site", "cross-site")
      .add("Authorization", "Basic ZGVtbzpkZW1v");
  EXPECT_FALSE(decide(attack, p).allowed());
  // curl: no Origin, no Sec-Fetch-Site.
  TestRequest curl;
  curl.add("Host", "gh.example").add("Authorization", "Basic ZGVtbzpkZW1v");
  EXPECT_TRUE(decide(curl, p).allowed());
  // An old browser without Fetch Metadata, same host.
  TestRequest old_browser;
  old_browser.add("Host", "gh.example:443")
      .add("Origin", "https://gh.example")
      .add("Cookie", "sid=1");
  EXPECT_TRUE(decide(old_browser, p).allowed());
  // A sibling subdomain is same-site but cross-origin: refused.
  TestRequest sibling;
  sibling.add("Origin", "https://other.gh.example")
      .add("Sec-Fetch-Site", "same-site")
      .add("Cookie", "sid=1");
  EXPECT_FALSE(decide(sibling, p).allowed());
  // An allowed origin wins over a cross-site Sec-Fetch-Site.
  TestRequest partner;
  partner.add("Origin", std::string(kAllowed))
      .add("Sec-Fetch-Site", "cross-site")
      .add("Cookie", "sid=1");
  EXPECT_TRUE(decide(partner, p).allowed());
}

TEST(CsrfTokenless, HostileHeaderValuesAreForeignNotErrors) {
  const CsrfPolicy p = policy(CsrfMode::tokenless);
  for (const char* origin :
       {"null", "https://a.example:99999", "https://a .example", "https://gh.example/",
        "https://gh.example ", "HTTPS://GH.EXAMPLE", "https://gh.example:443", "", ", ",
        "https://gh.example\x01", "https://user@gh.example"}) {
    // No Sec-Fetch-Site: the Origin is compared with Host; a malformed one never matches.
    TestRequest t;
    t.add("Host", std::string(origin).find("a.example") != std::string::npos ? "a.example:99999"
                                                                             : "gh.example")
        .add("Origin", origin)
        .add("Authorization", "Basic ZGVtbzpkZW1v");
    const CsrfVerdict v = decide(t, p);
    // A differently spelled own origin is still well-formed and on this Host.
    const bool same_host_spelling = std::string_view(origin) == "HTTPS://GH.EXAMPLE" ||
                                    std::string_view(origin) == "https://gh.example:443";
    EXPECT_EQ(v.allowed(), same_host_spelling) << "Origin=" << origin;
  }
  // A repeated Origin is never trusted, even when both copies are the own origin.
  TestRequest twice;
  twice.add("Origin", "https://gh.example")
      .add("Origin", "https://gh.example")
      .add("Sec-Fetch-Site", "cross-site")
      .add("Cookie", "sid=1");
  EXPECT_FALSE(decide(twice, p).allowed());
  // Unknown or repeated Sec-Fetch-Site values are refused.
  for (const std::vector<std::string>& sites : {std::vector<std::string>{"Same-Origin"},
                                                {"same-origin, none"},
                                                {""},
                                                {"same-origin", "none"}}) {
    TestRequest t;
    for (const auto& s : sites) t.add("Sec-Fetch-Site", s);
    t.add("Cookie", "sid=1");
    EXPECT_FALSE(decide(t, p).allowed()) << sites.front();
  }
}

TEST(CsrfTokenless, MethodsAreCaseSensitiveSoLowercaseIsUnsafe) {
  const CsrfPolicy p = policy(CsrfMode::tokenless);
  TestRequest t;
  t.method = "get";
  t.add("Sec-Fetch-Site", "cross-site").add("Cookie", "sid=1");
  EXPECT_FALSE(decide(t, p).allowed());
  t.method = "HEAD";
  EXPECT_TRUE(decide(t, p).allowed());
  t.method = "OPTIONS";
  EXPECT_TRUE(decide(t, p).allowed());
}

TEST(CsrfTokenless, WildcardNeverTrustsACredentialedRequest) {
  const CsrfPolicy p = policy(CsrfMode::tokenless, {"*"});
  TestRequest t;
  t.add("Origin", "https://evil.example").add("Sec-Fetch-Site", "cross-site").add("Cookie", "a=b");
  EXPECT_FALSE(decide(t, p).allowed());
}

TEST(CsrfApi, UnknownMethodsOnApiRoutesAre405) {
  for (const CsrfMode mode : {CsrfMode::tokenless, CsrfMode::headers}) {
    const CsrfPolicy p = policy(mode);
    TestRequest t;
    t.method = "PROPFIND";
    t.add("Host", "gh.example").add("Authorization", "Basic ZGVtbzpkZW1v");
    const CsrfVerdict v = decide(t, p, /*api=*/true);
    EXPECT_EQ(v.status, 405);
    EXPECT_FALSE(v.message.empty());
    // Not on gatehouse's own routes, and not without browser-attached credentials.
    EXPECT_NE(decide(t, p, false).status, 405);
    TestRequest anonymous;
    anonymous.method = "PROPFIND";
    EXPECT_TRUE(decide(anonymous, p, true).allowed());
  }
}

TEST(CsrfOff, EverythingPasses) {
  const CsrfPolicy p = policy(CsrfMode::off);
  TestRequest t;
  t.method = "PROPFIND";
  t.add("Origin", "null").add("Sec-Fetch-Site", "cross-site").add("Cookie", "sid=1");
  EXPECT_TRUE(decide(t, p, true).allowed());
  EXPECT_TRUE(decide(t, CsrfPolicy{}, true).allowed());  // the default policy is off
}

// ---- the header policy ("headers") ------------------------------------------------------------

CsrfPolicy headers_policy(std::string referer, std::string origin, std::string xfh,
                          std::string host, std::string xrw, int min_count) {
  GuardConfig config;
  config.csrf = "headers";
  config.allowed_origins = {std::string(kAllowed)};
  config.csrf_headers = {std::move(referer), std::move(origin), std::move(xfh),
                         std::move(host),    std::move(xrw),    min_count};
  return CsrfPolicy::from_config(config, kPublicUrl);
}

TestRequest basic_post() {
  TestRequest t;
  t.add("Authorization", "Basic ZGVtbzpkZW1v");
  return t;
}

TEST(CsrfHeaders, DefaultsAcceptAClientSendingHostOnly) {
  const CsrfPolicy p = headers_policy("yes", "yes", "yes", "yes", "yes", 1);
  TestRequest t = basic_post();
  t.add("Host", "gh.example");
  EXPECT_TRUE(decide(t, p).allowed());
  // The same on an API route needs X-Requested-With (Roundup's API rule).
  const CsrfVerdict api = decide(t, p, true);
  EXPECT_EQ(api.status, 403);
  EXPECT_EQ(api.message, "Required Header Missing");
  t.add("X-Requested-With", "XMLHttpRequest");
  EXPECT_TRUE(decide(t, p, true).allowed());
}

TEST(CsrfHeaders, EachYesHeaderMustPassWhenPresent) {
  const CsrfPolicy p = headers_policy("yes", "yes", "yes", "yes", "no", 1);
  const auto with = [](std::string name, std::string value) {
    TestRequest t = basic_post();
    t.add("Host", "gh.example").add(std::move(name), std::move(value));
    return t;
  };
  EXPECT_TRUE(decide(with("Referer", "https://gh.example/demo/issue1"), p).allowed());
  EXPECT_TRUE(decide(with("Referer", "https://app.example/page"), p).allowed());
  EXPECT_EQ(decide(with("Referer", "https://evil.example/gh.example/"), p).message,
            "Invalid Referer");
  EXPECT_EQ(decide(with("Referer", "https://gh.example.evil.example/"), p).message,
            "Invalid Referer");
  EXPECT_EQ(decide(with("Referer", "https://user@gh.example/"), p).message, "Invalid Referer");
  EXPECT_EQ(decide(with("Referer", "not a url"), p).message, "Invalid Referer");
  EXPECT_TRUE(decide(with("Origin", "https://gh.example"), p).allowed());
  EXPECT_TRUE(decide(with("Origin", "https://app.example"), p).allowed());
  EXPECT_EQ(decide(with("Origin", "https://evil.example"), p).message, "Invalid Origin");
  EXPECT_EQ(decide(with("Origin", "null"), p).message, "Invalid Origin");
  EXPECT_TRUE(decide(with("X-Forwarded-Host", "gh.example:443"), p).allowed());
  EXPECT_EQ(decide(with("X-Forwarded-Host", "evil.example"), p).message,
            "Invalid X-Forwarded-Host");
  EXPECT_EQ(decide(with("X-Forwarded-Host", "gh.example, proxy.example"), p).message,
            "Invalid X-Forwarded-Host");
  TestRequest wrong_host = basic_post();
  wrong_host.add("Host", "evil.example");
  EXPECT_EQ(decide(wrong_host, p).message, "Invalid Host");
}

TEST(CsrfHeaders, HostIsIgnoredWhenXForwardedHostIsPresent) {
  const CsrfPolicy p = headers_policy("yes", "yes", "yes", "required", "no", 1);
  TestRequest t = basic_post();
  t.add("Host", "127.0.0.1:8000").add("X-Forwarded-Host", "gh.example");
  EXPECT_TRUE(decide(t, p).allowed());
}

TEST(CsrfHeaders, RequiredMissingNamesTheHeader) {
  const struct {
    const char* rule;  // which header is "required"
    const char* message;
  } cases[] = {{"referer", "Missing header: Referer"},
               {"origin", "Missing header: Origin"},
               {"x_forwarded_host", "Missing header: X-Forwarded-Host"},
               {"host", "Missing header: Host"}};
  for (const auto& c : cases) {
    const auto rule = [&c](std::string_view name) {
      return std::string(name == c.rule ? "required" : "no");
    };
    const CsrfPolicy p = headers_policy(rule("referer"), rule("origin"), rule("x_forwarded_host"),
                                        rule("host"), "no", 0);
    const CsrfVerdict v = decide(basic_post(), p);
    EXPECT_EQ(v.status, 403) << c.rule;
    EXPECT_EQ(v.message, c.message);
  }
  // X-Requested-With "required" behaves as "yes": only on API routes.
  const CsrfPolicy p = headers_policy("no", "no", "no", "no", "required", 0);
  EXPECT_TRUE(decide(basic_post(), p).allowed());
  EXPECT_EQ(decide(basic_post(), p, true).message, "Required Header Missing");
}

TEST(CsrfHeaders, LogfailureLetsThroughAndReportsButDoesNotCount) {
  const CsrfPolicy p = headers_policy("logfailure", "logfailure", "no", "yes", "logfailure", 1);
  TestRequest t = basic_post();
  t.add("Host", "gh.example")
      .add("Referer", "https://evil.example/")
      .add("Origin", "https://evil.example");
  CsrfVerdict v = decide(t, p, true);
  EXPECT_TRUE(v.allowed());
  ASSERT_EQ(v.logged_count, 3u);
  EXPECT_EQ(v.logged[0], "Referer");
  EXPECT_EQ(v.logged[1], "Origin");
  EXPECT_EQ(v.logged[2], "X-Requested-With");
  // The failures do not count towards header_min_count: with a foreign Host nothing passes.
  TestRequest u = basic_post();
  u.add("Host", "elsewhere.example:8000").add("Origin", "https://evil.example");
  const CsrfPolicy lenient_host =
      headers_policy("logfailure", "logfailure", "no", "logfailure", "no", 1);
  v = decide(u, lenient_host);
  EXPECT_EQ(v.status, 403);
  EXPECT_EQ(v.message, "Unable to verify sufficient headers");
  EXPECT_EQ(v.logged_count, 2u);
}

TEST(CsrfHeaders, MinCountCountsPassingChecks) {
  TestRequest host_only = basic_post();
  host_only.add("Host", "gh.example");
  TestRequest three = basic_post();
  three.add("Host", "gh.example")
      .add("Origin", "https://gh.example")
      .add("Referer", "https://gh.example/x");
  for (int min = 0; min <= 4; ++min) {
    const CsrfPolicy p = headers_policy("yes", "yes", "yes", "yes", "no", min);
    EXPECT_EQ(decide(host_only, p).allowed(), min <= 1) << min;
    EXPECT_EQ(decide(three, p).allowed(), min <= 3) << min;
    if (min > 1) {
      EXPECT_EQ(decide(host_only, p).message, "Unable to verify sufficient headers");
    }
  }
  // "no" headers are not looked at, so they cannot count either.
  const CsrfPolicy p = headers_policy("no", "no", "no", "yes", "no", 2);
  EXPECT_FALSE(decide(three, p).allowed());
  // Without credentials a browser attaches, nothing is checked at all.
  TestRequest bearer;
  bearer.add("Authorization", "Bearer t").add("Origin", "https://evil.example");
  EXPECT_TRUE(decide(bearer,
                     headers_policy("required", "required", "required", "required", "required", 4),
                     true)
                  .allowed());
}

}  // namespace
}  // namespace gatehouse::guard
