// Roundup's REST interface (tracker/rest_api.hpp; reference/seed-systems.md A3) over the classic
// schema and demo data in a real SQLite state store: envelopes, search, sort and paging, key
// lookup, create, etag preconditions, PUT/PATCH/DELETE, the permission matrix of the classic
// roles, and bad input that must end in a 4xx envelope.
#include "tracker/rest_api.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <concepts>
#include <memory>
#include <optional>
#include <set>
#include <string>

#include "../temp_dir.hpp"
#include "state/state_store.hpp"
#include "tracker/schema.hpp"

// Lets EXPECT_EQ compare a JSON value with a std::string (found by argument-dependent lookup).
namespace boost::json {
template <class S>
requires std::same_as<S, std::string>
bool operator==(const value& v, const S& s) {
  return v.is_string() && v.get_string() == s;
}
}  // namespace boost::json

namespace gatehouse::tracker {
namespace {

namespace json = boost::json;
using gatehouse::testing::TempDir;

constexpr std::string_view kBase = "https://gh.example/demo/";
constexpr std::string_view kData = "https://gh.example/demo/rest/data";

struct Result {
  Response response;
  json::value body;  // null when the body is not JSON

  int status() const { return response.status; }
  std::string header(std::string_view name) const {
    const std::string* v = response.find(name);
    return v ? *v : std::string();
  }
  bool has_header(std::string_view name) const { return response.find(name) != nullptr; }
  const json::value& data() const { return body.at("data"); }
  std::string msg() const {
    const auto* e = body.is_object() ? body.get_object().if_contains("error") : nullptr;
    return e ? std::string(e->at("msg").as_string()) : std::string("(no error envelope)");
  }
};

struct Call {
  Call(std::string method_, std::string path_, std::string query_ = {}, std::string body_ = {},
       std::optional<std::string> content_type_ = std::nullopt,
       std::optional<std::string> if_match_ = std::nullopt)
      : method(std::move(method_)),
        path(std::move(path_)),
        query(std::move(query_)),
        body(std::move(body_)),
        content_type(std::move(content_type_)),
        if_match(std::move(if_match_)) {}

  std::string method;
  std::string path;
  std::string query;
  std::string body;
  std::optional<std::string> content_type;
  std::optional<std::string> if_match;
  std::optional<std::string> method_override;
  std::optional<std::string> accept;
};

RestRequest with_method(std::string_view method) {
  RestRequest r;
  r.method = method;
  return r;
}

class RestApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    tracker.load(true);
    admin = *tracker.actor_for("admin", {"Admin"});
    demo = *tracker.actor_for("demo", {"User"});
    anonymous = tracker.anonymous();
  }

  Result run(const Actor& actor, const Call& c) {
    RestRequest r;
    r.method = c.method;
    r.path = c.path;
    r.query = c.query;
    r.body = c.body;
    if (c.content_type) r.content_type = *c.content_type;
    if (c.if_match) r.if_match = *c.if_match;
    if (c.method_override) r.method_override = *c.method_override;
    if (c.accept) r.accept = *c.accept;
    Result out{api.handle(actor, r), nullptr};
    boost::system::error_code ec;
    if (!out.response.body.empty()) {
      json::value parsed = json::parse(out.response.body, ec);
      if (!ec) out.body = std::move(parsed);
    }
    return out;
  }
  Result get(const Actor& actor, std::string path, std::string query = {}) {
    return run(actor, Call{"GET", std::move(path), std::move(query)});
  }
  Result send_json(const Actor& actor, std::string method, std::string path, std::string body,
                   std::optional<std::string> if_match = std::nullopt) {
    return run(actor, Call{std::move(method),
                           std::move(path),
                           {},
                           std::move(body),
                           "application/json",
                           std::move(if_match)});
  }
  Result send_form(const Actor& actor, std::string method, std::string path, std::string body,
                   std::optional<std::string> if_match = std::nullopt) {
    return run(actor, Call{std::move(method),
                           std::move(path),
                           {},
                           std::move(body),
                           "application/x-www-form-urlencoded",
                           std::move(if_match)});
  }
  std::string etag_of(const std::string& klass, const std::string& id) {
    return api.etag(*tracker.get(klass, id));
  }
  // The ids of a collection answer, in order.
  static std::vector<std::string> ids(const Result& r) {
    std::vector<std::string> out;
    for (const auto& e : r.data().at("collection").as_array()) {
      out.emplace_back(e.at("id").as_string());
    }
    return out;
  }
  std::string create_issue(const std::string& title, const std::string& status = "unread") {
    const Result r = send_json(admin, "POST", "/data/issue",
                               R"({"title": ")" + title + R"(", "status": ")" + status + "\"}");
    EXPECT_EQ(r.status(), 201) << r.response.body;
    return std::string(r.data().at("id").as_string());
  }

  TempDir dir;
  FakeClock clock{1'795'000'000'000};  // 2026-11-18 11:06:40 UTC
  std::shared_ptr<state::StateStore> store{state::open_state_store("sqlite:" + dir.file("t.db"))};
  Tracker tracker{"demo", load_schema("classic"), store, clock};
  RestApi api{tracker, std::string(kBase), RestApi::derive_etag_key("server secret"), clock};
  Actor admin, demo, anonymous;
};

// --- the root, /data and envelopes ---

TEST_F(RestApiTest, RootDescribesVersionsAndLinks) {
  for (const char* path : {"", "/"}) {
    const Result r = get(admin, path);
    ASSERT_EQ(r.status(), 200) << r.response.body;
    EXPECT_EQ(r.header("Content-Type"), "application/json");
    EXPECT_EQ(r.data().at("default_version"), 1);
    EXPECT_EQ(r.data().at("supported_versions"), json::array{1});
    EXPECT_EQ(json::serialize(r.data().at("links")),
              R"([{"uri":"https://gh.example/demo/rest","rel":"self"},)"
              R"({"uri":"https://gh.example/demo/rest/data","rel":"data"},)"
              R"({"uri":"https://gh.example/demo/rest/summary","rel":"summary"}])");
  }
}

TEST_F(RestApiTest, OutputIsPrettyByDefaultAndCompactWithPrettyFalse) {
  const Result pretty = get(admin, "/data/priority/1");
  EXPECT_NE(pretty.response.body.find("{\n    \"data\": {\n        \"id\": \"1\","),
            std::string::npos)
      << pretty.response.body;
  EXPECT_TRUE(pretty.response.body.ends_with("}\n"));
  const Result compact = get(admin, "/data/priority/1", "@pretty=false&@fields=name,order");
  // Python's json.dumps separators; a Number is a float ("1.0").
  EXPECT_TRUE(compact.response.body.starts_with(
      R"({"data": {"id": "1", "type": "priority", "link": "https://gh.example/demo/rest/data/priority/1", "attributes": {"name": "critical", "order": 1.0}, "@etag": ")"))
      << compact.response.body;
}

TEST_F(RestApiTest, DataListsTheClassesTheActorMayView) {
  const Result r = get(demo, "/data");
  ASSERT_EQ(r.status(), 200);
  std::set<std::string> classes;
  for (const auto& [name, value] : r.data().as_object()) {
    classes.insert(std::string(name));
    EXPECT_EQ(value.at("link"), std::string(kData) + "/" + std::string(name));
  }
  EXPECT_EQ(classes, (std::set<std::string>{"file", "issue", "keyword", "msg", "priority", "query",
                                            "status", "user"}));
}

TEST_F(RestApiTest, AnonymousHasNoRestAccess) {
  for (const char* method : {"GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}) {
    const Result r = run(anonymous, Call{method, "/data/issue/1"});
    EXPECT_EQ(r.status(), 403) << method;
    EXPECT_EQ(r.response.body,
              "{\n    \"error\": {\n        \"status\": 403,\n        \"msg\": "
              "\"Forbidden.\"\n    }\n}\n");
  }
  EXPECT_EQ(get(anonymous, "").status(), 403);
}

TEST_F(RestApiTest, UnknownPathsAndClassesAreNotFound) {
  EXPECT_EQ(get(admin, "/nothing").msg(), "Nothing matches the given URI");
  EXPECT_EQ(get(admin, "/nothing").status(), 404);
  EXPECT_EQ(get(admin, "/data/issue/1/title/more").status(), 404);
  EXPECT_EQ(get(admin, "/data//issue").status(), 404);
  const Result r = get(admin, "/data/bogus");
  EXPECT_EQ(r.status(), 404);
  EXPECT_EQ(r.msg(), "Class bogus not found");
  EXPECT_EQ(get(admin, "/data/bogus/1").status(), 404);
  EXPECT_EQ(get(admin, "/data/issue/%zz").status(), 404);
}

// --- collections ---

TEST_F(RestApiTest, CollectionListsIdsAndLinksWithTotals) {
  create_issue("another issue", "deferred");
  const Result r = get(demo, "/data/issue");
  ASSERT_EQ(r.status(), 200) << r.response.body;
  EXPECT_EQ(ids(r), (std::vector<std::string>{"1", "2"}));
  EXPECT_EQ(r.data().at("collection").at(1).at("link"), std::string(kData) + "/issue/2");
  EXPECT_EQ(r.data().at("@total_size"), 2);
  EXPECT_EQ(r.header("X-Count-Total"), "2");
  EXPECT_EQ(r.header("Allow"), "OPTIONS, GET, POST");
  EXPECT_FALSE(r.data().as_object().contains("@links"));  // no paging asked for
}

TEST_F(RestApiTest, SearchMatchesSubstringsExactValuesAndLinksByIdOrName) {
  create_issue("Another Issue", "deferred");
  create_issue("third", "chatting");
  EXPECT_EQ(ids(get(demo, "/data/issue", "title=another")), std::vector<std::string>{"2"});
  EXPECT_EQ(ids(get(demo, "/data/issue", "title=ANOTHER")), std::vector<std::string>{"2"});
  EXPECT_TRUE(ids(get(demo, "/data/issue", "title:=another")).empty());
  EXPECT_EQ(ids(get(demo, "/data/issue", "title:=Another%20Issue")), std::vector<std::string>{"2"});
  // issue1 is "deferred" (status 2) in the demo data.
  EXPECT_EQ(ids(get(demo, "/data/issue", "status=deferred")), (std::vector<std::string>{"1", "2"}));
  EXPECT_EQ(ids(get(demo, "/data/issue", "status=3")), std::vector<std::string>{"3"});
  EXPECT_EQ(ids(get(demo, "/data/issue", "status=chatting,deferred&title=r")),
            (std::vector<std::string>{"1", "2", "3"}));
  EXPECT_EQ(ids(get(demo, "/data/issue", "nosy=demo")), std::vector<std::string>{"1"});
  EXPECT_EQ(ids(get(demo, "/data/issue", "assignedto=-1")),
            (std::vector<std::string>{"1", "2", "3"}));
  // A transitive search through a link.
  EXPECT_EQ(ids(get(demo, "/data/issue", "status.name=chatting")), std::vector<std::string>{"3"});
  // An unknown key name is Roundup's KeyError from lookup: 400.
  const Result unknown = get(demo, "/data/issue", "status=nonesuch");
  EXPECT_EQ(unknown.status(), 400);
}

TEST_F(RestApiTest, SearchAndSortOnUnknownPropertiesAre400) {
  const Result search = get(demo, "/data/issue", "bogus=1");
  EXPECT_EQ(search.status(), 400);
  EXPECT_EQ(search.msg(), "Field bogus is not valid for issue class.");
  EXPECT_EQ(get(demo, "/data/issue", "@sort=bogus").status(), 400);
  EXPECT_EQ(get(demo, "/data/issue", "@sort=").status(), 400);
  EXPECT_EQ(get(demo, "/data/issue", "@fields=bogus").status(), 400);
  EXPECT_EQ(get(demo, "/data/issue", "status.bogus=1").status(), 400);
  EXPECT_EQ(get(demo, "/data/issue", "nosy.username=demo").status(), 400);  // multilink traversal
  // Nobody searches or sorts on password hashes, not even Admin.
  EXPECT_EQ(get(admin, "/data/user", "password=%24argon2").status(), 400);
  EXPECT_EQ(get(admin, "/data/issue", "assignedto.password=x").status(), 400);
  EXPECT_EQ(get(admin, "/data/user", "@sort=password").status(), 400);
}

TEST_F(RestApiTest, SearchNeedsSearchPermission) {
  // User may View only some user properties; address is not among them (only on its own item).
  const Result r = get(demo, "/data/user", "address=admin");
  EXPECT_EQ(r.status(), 403);
  EXPECT_EQ(r.msg(), "User does not have search permission on \"user.address\"");
  EXPECT_EQ(ids(get(demo, "/data/user", "username=dem")), std::vector<std::string>{"3"});
}

TEST_F(RestApiTest, SortAscendingDescendingAndByLinkOrder) {
  create_issue("b", "resolved");  // 2, status order 8
  create_issue("a", "unread");    // 3, status order 1
  EXPECT_EQ(ids(get(demo, "/data/issue", "@sort=-id")), (std::vector<std::string>{"3", "2", "1"}));
  EXPECT_EQ(ids(get(demo, "/data/issue", "@sort=title")),
            (std::vector<std::string>{"3", "2", "1"}));
  EXPECT_EQ(ids(get(demo, "/data/issue", "@sort=status")),
            (std::vector<std::string>{"3", "1", "2"}));
  EXPECT_EQ(ids(get(demo, "/data/issue", "@sort=-status,id")),
            (std::vector<std::string>{"2", "1", "3"}));
}

TEST_F(RestApiTest, FieldsAndVerboseAddValuesAndLabels) {
  const Result plain = get(demo, "/data/issue", "@fields=title,status");
  ASSERT_EQ(plain.status(), 200) << plain.response.body;
  const auto& first = plain.data().at("collection").at(0);
  EXPECT_EQ(first.at("title"), "yes, the demo tracker works");
  EXPECT_EQ(json::serialize(first.at("status")),
            R"({"id":"2","link":"https://gh.example/demo/rest/data/status/2"})");
  const Result verbose = get(demo, "/data/issue", "@fields=status&@verbose=2");
  const auto& v = verbose.data().at("collection").at(0);
  EXPECT_EQ(json::serialize(v.at("status")),
            R"({"id":"2","link":"https://gh.example/demo/rest/data/status/2","name":"deferred"})");
  EXPECT_EQ(v.at("title"), "yes, the demo tracker works");  // the label property, with verbose 2
  const Result zero = get(demo, "/data/issue", "@fields=status&@verbose=0");
  EXPECT_EQ(zero.data().at("collection").at(0).at("status"), "2");
  const Result dotted = get(demo, "/data/issue", "@fields=status.name");
  EXPECT_EQ(dotted.data().at("collection").at(0).at("status.name"), "deferred");
  EXPECT_EQ(get(demo, "/data/issue", "@verbose=x").status(), 400);
}

TEST_F(RestApiTest, PagingSlicesAndLinksPages) {
  for (int i = 0; i < 4; ++i) create_issue("paged " + std::to_string(i));  // 2..5
  const Result r = get(demo, "/data/issue", "@page_size=2&@page_index=2&title=e");
  ASSERT_EQ(r.status(), 200) << r.response.body;
  EXPECT_EQ(ids(r), (std::vector<std::string>{"3", "4"}));
  EXPECT_EQ(r.data().at("@total_size"), 5);
  EXPECT_EQ(r.header("X-Count-Total"), "5");
  const auto& links = r.data().at("@links");
  const std::string base = std::string(kData) + "/issue?@page_index=";
  EXPECT_EQ(links.at("next").at(0).at("rel"), "next");
  EXPECT_EQ(links.at("next").at(0).at("uri"), base + "3&@page_size=2&title=e");
  EXPECT_EQ(links.at("prev").at(0).at("uri"), base + "1&@page_size=2&title=e");
  EXPECT_EQ(links.at("self").at(0).at("uri"), base + "2&@page_size=2&title=e");

  const Result last = get(demo, "/data/issue", "@page_size=2&@page_index=3");
  EXPECT_EQ(ids(last), std::vector<std::string>{"5"});
  EXPECT_FALSE(last.data().at("@links").as_object().contains("next"));
  const Result first = get(demo, "/data/issue", "@page_size=2");
  EXPECT_EQ(ids(first), (std::vector<std::string>{"1", "2"}));
  EXPECT_FALSE(first.data().at("@links").as_object().contains("prev"));
  EXPECT_TRUE(first.data().at("@links").as_object().contains("next"));
  const Result beyond = get(demo, "/data/issue", "@page_size=2&@page_index=99");
  EXPECT_TRUE(ids(beyond).empty());
  EXPECT_EQ(beyond.data().at("@total_size"), 5);
}

TEST_F(RestApiTest, PagingParametersAreValidatedAndBounded) {
  create_issue("x");
  EXPECT_EQ(get(demo, "/data/issue", "@page_size=ten").status(), 400);
  EXPECT_EQ(get(demo, "/data/issue", "@page_index=1.5&@page_size=1").status(), 400);
  // Huge sizes are capped (Roundup's max_response_row_size); they page nothing away.
  const Result huge = get(demo, "/data/issue", "@page_size=99999999999999999999999");
  ASSERT_EQ(huge.status(), 200) << huge.response.body;
  EXPECT_EQ(ids(huge), (std::vector<std::string>{"1", "2"}));
  const Result huge_index = get(demo, "/data/issue", "@page_size=1&@page_index=99999999999999999");
  ASSERT_EQ(huge_index.status(), 200);
  EXPECT_TRUE(ids(huge_index).empty());
  // A page index below 1 is the first page; a size below 1 means no paging.
  const Result negative = get(demo, "/data/issue", "@page_size=1&@page_index=-3");
  ASSERT_EQ(negative.status(), 200);
  EXPECT_EQ(ids(negative), std::vector<std::string>{"1"});
  EXPECT_EQ(negative.data().at("@links").at("self").at(0).at("uri"),
            std::string(kData) + "/issue?@page_index=1&@page_size=1");
  EXPECT_EQ(ids(get(demo, "/data/issue", "@page_size=-1")), (std::vector<std::string>{"1", "2"}));
}

TEST_F(RestApiTest, CollectionLeavesOutItemsTheActorMayNotView) {
  // A query private to admin is invisible to demo; a public one is listed.
  ASSERT_EQ(send_json(admin, "POST", "/data/query",
                      R"({"name": "mine", "klass": "issue", "private_for": "1"})")
                .status(),
            201);
  ASSERT_EQ(
      send_json(admin, "POST", "/data/query", R"({"name": "public", "klass": "issue"})").status(),
      201);
  EXPECT_EQ(ids(get(admin, "/data/query")), (std::vector<std::string>{"1", "2"}));
  EXPECT_EQ(ids(get(demo, "/data/query")), std::vector<std::string>{"2"});
  EXPECT_EQ(get(demo, "/data/query/1").status(), 403);
}

// --- items ---

TEST_F(RestApiTest, ItemHasAttributesEtagAndLinks) {
  const Result r = get(demo, "/data/issue/1");
  ASSERT_EQ(r.status(), 200) << r.response.body;
  const auto& d = r.data();
  EXPECT_EQ(d.at("id"), "1");
  EXPECT_EQ(d.at("type"), "issue");
  EXPECT_EQ(d.at("link"), std::string(kData) + "/issue/1");
  const auto& a = d.at("attributes");
  EXPECT_EQ(a.at("title"), "yes, the demo tracker works");
  EXPECT_EQ(json::serialize(a.at("priority")),
            R"({"id":"1","link":"https://gh.example/demo/rest/data/priority/1"})");
  EXPECT_EQ(json::serialize(a.at("nosy")),
            R"([{"id":"3","link":"https://gh.example/demo/rest/data/user/3"}])");
  EXPECT_TRUE(a.at("assignedto").is_null());
  EXPECT_EQ(a.at("messages"), json::array{});
  EXPECT_FALSE(a.as_object().contains("creation"));  // protected: only with @protected=true
  // The ETag header and @etag agree, are quoted hex and reveal nothing else.
  const std::string tag = r.header("ETag");
  EXPECT_EQ(d.at("@etag"), tag);
  ASSERT_EQ(tag.size(), 66u);
  EXPECT_EQ(tag.find_first_not_of("0123456789abcdef", 1), 65u);
  EXPECT_EQ(tag, etag_of("issue", "1"));
  const Result verbose = get(demo, "/data/issue/1", "@verbose=2");
  EXPECT_EQ(verbose.data().at("attributes").at("priority").at("name"), "critical");
}

TEST_F(RestApiTest, ProtectedPropertiesAndDatesAsRoundupShowsThem) {
  const Result r = get(admin, "/data/issue/1", "@protected=true");
  ASSERT_EQ(r.status(), 200);
  const auto& a = r.data().at("attributes");
  // 1 795 000 000 s = 2026-11-18 11:06:40 UTC: Roundup's str(Date), without milliseconds.
  EXPECT_EQ(a.at("creation"), "2026-11-18.11:06:40");
  EXPECT_EQ(a.at("id"), "1");
  EXPECT_EQ(a.at("creator").at("id"), "1");
  const Result fields = get(admin, "/data/issue/1", "@fields=title,activity");
  EXPECT_EQ(fields.data().at("attributes").as_object().size(), 2u);
}

TEST_F(RestApiTest, ItemsByKey) {
  for (const char* path : {"/data/status/name=resolved", "/data/status/resolved"}) {
    const Result r = get(demo, path);
    ASSERT_EQ(r.status(), 200) << path << r.response.body;
    EXPECT_EQ(r.data().at("id"), "8");
    EXPECT_EQ(r.data().at("attributes").at("name"), "resolved");
  }
  EXPECT_EQ(get(demo, "/data/user/username=demo").data().at("id"), "3");
  EXPECT_EQ(get(demo, "/data/status/name=in-progress").data().at("id"), "5");
  const Result none = get(demo, "/data/status/name=nonesuch");
  EXPECT_EQ(none.status(), 404);
  EXPECT_EQ(none.msg(), "Item 'nonesuch' not found");
  EXPECT_EQ(get(demo, "/data/status/title=x").status(), 400);  // not the key property
  EXPECT_EQ(get(demo, "/data/issue/abc").status(), 404);       // issue has no key
  EXPECT_EQ(get(demo, "/data/issue/99").status(), 404);
  EXPECT_EQ(get(demo, "/data/issue/0").status(), 404);
  EXPECT_EQ(get(demo, "/data/issue/99999999999999999999999").status(), 404);
}

TEST_F(RestApiTest, PropertyGetHasPythonTypeAndData) {
  Result r = get(demo, "/data/issue/1/title");
  ASSERT_EQ(r.status(), 200) << r.response.body;
  EXPECT_EQ(r.data().at("type"), "<class 'str'>");
  EXPECT_EQ(r.data().at("data"), "yes, the demo tracker works");
  EXPECT_EQ(r.data().at("link"), std::string(kData) + "/issue/1/title");
  EXPECT_EQ(r.data().at("@etag"), etag_of("issue", "1"));
  EXPECT_EQ(r.header("ETag"), etag_of("issue", "1"));
  EXPECT_EQ(get(demo, "/data/issue/1/nosy").data().at("type"), "<class 'list'>");
  EXPECT_EQ(get(demo, "/data/issue/1/nosy").data().at("data"), json::array{"3"});
  EXPECT_EQ(get(demo, "/data/issue/1/assignedto").data().at("type"), "<class 'NoneType'>");
  EXPECT_EQ(get(demo, "/data/priority/1/order").data().at("type"), "<class 'float'>");
  EXPECT_EQ(get(demo, "/data/issue/1/creation").data().at("type"), "<class 'roundup.date.Date'>");
  EXPECT_EQ(get(demo, "/data/issue/1/bogus").status(), 400);
  EXPECT_EQ(get(demo, "/data/issue/99/title").status(), 404);
}

TEST_F(RestApiTest, PasswordsAreNeverShown) {
  const std::string tag = etag_of("user", "3");
  ASSERT_EQ(send_json(admin, "PUT", "/data/user/3", R"({"password": "sekrit"})", tag).status(),
            200);
  const std::string stored(tracker.get("user", "3")->get("password").as_string());
  ASSERT_FALSE(stored.empty());
  for (const Result& r : {get(admin, "/data/user/3"), get(admin, "/data/user/3/password"),
                          get(admin, "/data/user", "@fields=password")}) {
    ASSERT_EQ(r.status(), 200) << r.response.body;
    EXPECT_EQ(r.response.body.find(stored), std::string::npos);
    EXPECT_EQ(r.response.body.find("$argon2"), std::string::npos);
    EXPECT_NE(r.response.body.find("[password hidden scheme ARGON2ID]"), std::string::npos);
  }
}

TEST_F(RestApiTest, UserSeesOnlyPermittedPropertiesOfOtherUsers) {
  const Result other = get(demo, "/data/user/1");
  ASSERT_EQ(other.status(), 200) << other.response.body;
  std::set<std::string> keys;
  for (const auto& [k, v] : other.data().at("attributes").as_object()) keys.insert(std::string(k));
  EXPECT_EQ(keys,
            (std::set<std::string>{"organisation", "phone", "realname", "timezone", "username"}));
  const Result with_id = get(demo, "/data/user/1", "@protected=true");
  EXPECT_TRUE(with_id.data().at("attributes").as_object().contains("id"));
  EXPECT_FALSE(with_id.data().at("attributes").as_object().contains("creation"));
  const Result address = get(demo, "/data/user/1/address");
  EXPECT_EQ(address.status(), 403);
  EXPECT_EQ(address.msg(), "Permission to view user1 address denied");
  // Its own record shows everything.
  const Result own = get(demo, "/data/user/3");
  EXPECT_EQ(own.data().at("attributes").at("address"), "demo@localhost");
  EXPECT_EQ(own.data().at("attributes").at("roles"), "User");
}

// --- create ---

TEST_F(RestApiTest, PostCreatesFromJsonWith201AndLocation) {
  const Result r = send_json(demo, "POST", "/data/issue",
                             R"({"title": "from json", "status": "chatting", "priority": 3,
                                 "nosy": ["demo", "1"], "@pretty": "false"})");
  ASSERT_EQ(r.status(), 201) << r.response.body;
  EXPECT_EQ(r.data().at("id"), "2");
  EXPECT_EQ(r.data().at("link"), std::string(kData) + "/issue/2");
  EXPECT_EQ(r.header("Location"), std::string(kData) + "/issue/2");
  EXPECT_FALSE(r.has_header("Allow"));
  const ItemPtr item = tracker.get("issue", "2");
  EXPECT_EQ(item->get("title"), "from json");
  EXPECT_EQ(item->get("status"), "3");
  EXPECT_EQ(item->get("priority"), "3");
  EXPECT_EQ(item->get("nosy"), (json::array{"1", "3"}));
  EXPECT_EQ(item->get("creator"), "3");
}

TEST_F(RestApiTest, PostCreatesFromAForm) {
  const Result r =
      send_form(demo, "POST", "/data/issue", "title=from+a%20form&status=deferred&nosy=demo,admin");
  ASSERT_EQ(r.status(), 201) << r.response.body;
  const ItemPtr item = tracker.get("issue", r.data().at("id").as_string());
  EXPECT_EQ(item->get("title"), "from a form");
  EXPECT_EQ(item->get("nosy"), (json::array{"1", "3"}));
}

TEST_F(RestApiTest, PostChecksKeysValuesAndPermissions) {
  Result r = send_json(admin, "POST", "/data/status", R"({"order": 9})");
  EXPECT_EQ(r.status(), 400);
  EXPECT_EQ(r.msg(), "Must provide the 'name' property.");
  r = send_json(admin, "POST", "/data/status", R"({"name": "closed", "order": 9})");
  EXPECT_EQ(r.status(), 201);
  EXPECT_EQ(tracker.get("status", "9")->get("order"), 9.0);
  r = send_json(admin, "POST", "/data/status", R"({"name": "closed"})");
  EXPECT_EQ(r.status(), 409) << r.response.body;  // key taken: Roundup's ValueError
  r = send_json(admin, "POST", "/data/priority", R"({"name": "p", "order": "high"})");
  EXPECT_EQ(r.status(), 400) << r.response.body;  // not a number: UsageError
  r = send_json(admin, "POST", "/data/issue", R"({"title": "t", "bogus": "1"})");
  EXPECT_EQ(r.status(), 400);
  EXPECT_EQ(r.msg(), "Property bogus not found in class issue");
  r = send_json(admin, "POST", "/data/issue", R"({"title": "t", "status": "nonesuch"})");
  EXPECT_EQ(r.status(), 400);
  r = send_json(admin, "POST", "/data/issue", R"({"title": {"nested": 1}})");
  EXPECT_EQ(r.status(), 400);
  r = send_json(admin, "POST", "/data/issue", R"({"title": ["a", "b"]})");
  EXPECT_EQ(r.status(), 400);
  r = send_json(admin, "POST", "/data/issue", "{}");
  EXPECT_EQ(r.status(), 400);
  EXPECT_EQ(r.msg(), "No properties found.");
  r = send_json(demo, "POST", "/data/status", R"({"name": "mine"})");
  EXPECT_EQ(r.status(), 403);
  EXPECT_EQ(r.msg(), "Permission to create status denied");
  // Protected properties are skipped, as a client may post back what it fetched.
  r = send_json(admin, "POST", "/data/issue", R"({"title": "t", "id": "77", "creator": "2"})");
  ASSERT_EQ(r.status(), 201);
  EXPECT_EQ(tracker.get("issue", std::string(r.data().at("id").as_string()))->get("creator"), "1");
}

TEST_F(RestApiTest, BodiesMustBeJsonOrForms) {
  Result r = run(admin, Call{"POST", "/data/issue", {}, "title=x", "text/plain"});
  EXPECT_EQ(r.status(), 415);
  EXPECT_EQ(r.msg(), "Unable to process input of type text/plain");
  r = run(admin, Call{"POST", "/data/issue", {}, "title=x", std::nullopt});
  EXPECT_EQ(r.status(), 415);
  r = send_json(admin, "POST", "/data/issue", R"({"title": "x")");
  EXPECT_EQ(r.status(), 400);
  r = send_json(admin, "POST", "/data/issue", R"(["title", "x"])");
  EXPECT_EQ(r.status(), 400);
  r = send_json(admin, "POST", "/data/issue", R"({"title": "x", "title": "y"})");
  EXPECT_EQ(r.status(), 400);
  r = send_form(admin, "POST", "/data/issue", "title=%zz");
  EXPECT_EQ(r.status(), 400);
  r = run(
      admin,
      Call{
          "POST", "/data/issue", {}, R"({"title": "charset"})", "application/json; charset=utf-8"});
  EXPECT_EQ(r.status(), 201);
}

// --- PUT, etags ---

TEST_F(RestApiTest, PutNeedsTheCurrentEtag) {
  const std::string tag = etag_of("issue", "1");
  Result r = send_json(admin, "PUT", "/data/issue/1", R"({"title": "no etag"})");
  EXPECT_EQ(r.status(), 412);
  EXPECT_EQ(r.msg(),
            "If-Match is missing or does not match. Retrieve asset and retry modification if "
            "valid.");
  r = send_json(admin, "PUT", "/data/issue/1", R"({"title": "wrong"})", "\"0123\"");
  EXPECT_EQ(r.status(), 412);

  r = send_json(admin, "PUT", "/data/issue/1", R"({"title": "changed", "priority": "critical"})",
                tag);
  ASSERT_EQ(r.status(), 200) << r.response.body;
  EXPECT_EQ(r.data().at("id"), "1");
  EXPECT_EQ(r.data().at("type"), "issue");
  EXPECT_EQ(r.data().at("link"), std::string(kData) + "/issue/1");
  // Only what changed (priority was already critical).
  EXPECT_EQ(json::serialize(r.data().at("attribute")), R"({"title":"changed"})");
  EXPECT_EQ(tracker.get("issue", "1")->get("title"), "changed");
  EXPECT_NE(etag_of("issue", "1"), tag);

  // The old etag is stale now.
  r = send_json(admin, "PUT", "/data/issue/1", R"({"title": "stale"})", tag);
  EXPECT_EQ(r.status(), 412);
  EXPECT_EQ(tracker.get("issue", "1")->get("title"), "changed");
}

TEST_F(RestApiTest, EtagMayComeInTheBodyAndWithAnEncodingSuffix) {
  std::string tag = etag_of("issue", "1");
  const std::string body_tag = json::serialize(json::value(tag));
  Result r = send_json(admin, "PUT", "/data/issue/1",
                       R"({"title": "body etag", "@etag": )" + body_tag + "}");
  ASSERT_EQ(r.status(), 200) << r.response.body;
  tag = etag_of("issue", "1");
  r = send_form(admin, "PUT", "/data/issue/1", "title=gzip", tag.substr(0, 65) + "-gzip\"");
  ASSERT_EQ(r.status(), 200) << r.response.body;
  // Both given: both must match.
  tag = etag_of("issue", "1");
  r = send_json(admin, "PUT", "/data/issue/1", R"({"title": "x", "@etag": "\"00\""})", tag);
  EXPECT_EQ(r.status(), 412);
}

TEST_F(RestApiTest, AConcurrentWriteStillYields412) {
  const std::string tag = etag_of("issue", "1");
  // Another process changes issue1 in the same store; this tracker has not reloaded yet, so the
  // etag still matches its copy, and the write must be refused at the store.
  Tracker other("demo", load_schema("classic"), store, clock);
  other.load(false);
  other.set(admin, "issue", "1", {{"title", json::value("elsewhere")}});
  const Result r = send_json(admin, "PUT", "/data/issue/1", R"({"title": "mine"})", tag);
  EXPECT_EQ(r.status(), 412) << r.response.body;
  tracker.refresh();
  EXPECT_EQ(tracker.get("issue", "1")->get("title"), "elsewhere");
}

TEST_F(RestApiTest, PutOfOneProperty) {
  const std::string tag = etag_of("issue", "1");
  Result r = send_json(admin, "PUT", "/data/issue/1/title", R"({"data": "just the title"})");
  EXPECT_EQ(r.status(), 412);
  r = send_json(admin, "PUT", "/data/issue/1/title", R"({"data": "just the title"})", tag);
  ASSERT_EQ(r.status(), 200) << r.response.body;
  EXPECT_EQ(json::serialize(r.data().at("attribute")), R"({"title":"just the title"})");
  r = send_json(admin, "PUT", "/data/issue/1/title", R"({"value": "x"})", etag_of("issue", "1"));
  EXPECT_EQ(r.status(), 400);  // KeyError 'data'
  r = send_json(admin, "PUT", "/data/issue/1/nosy", R"({"data": ["admin", "demo"]})",
                etag_of("issue", "1"));
  ASSERT_EQ(r.status(), 200) << r.response.body;
  EXPECT_EQ(tracker.get("issue", "1")->get("nosy"), (json::array{"1", "3"}));
}

TEST_F(RestApiTest, PutRejectsBadValuesWithoutChangingTheItem) {
  const std::string tag = etag_of("issue", "1");
  EXPECT_EQ(send_json(admin, "PUT", "/data/issue/1", R"({"status": "nonesuch"})", tag).status(),
            400);
  EXPECT_EQ(send_json(admin, "PUT", "/data/issue/1", R"({"bogus": "x"})", tag).status(), 400);
  EXPECT_EQ(send_json(admin, "PUT", "/data/issue/1", R"({"status": "99"})", tag).status(), 409);
  EXPECT_EQ(send_json(admin, "PUT", "/data/issue/99", R"({"title": "x"})", tag).status(), 404);
  EXPECT_EQ(etag_of("issue", "1"), tag);
}

// --- the permission matrix of the classic roles ---

TEST_F(RestApiTest, PermissionMatrixOnIssues) {
  // Admin: everything.
  EXPECT_EQ(get(admin, "/data/issue/1").status(), 200);
  EXPECT_EQ(send_json(admin, "POST", "/data/issue", R"({"title": "a"})").status(), 201);
  EXPECT_EQ(
      send_json(admin, "PUT", "/data/issue/2", R"({"title": "b"})", etag_of("issue", "2")).status(),
      200);
  EXPECT_EQ(run(admin, Call{"DELETE", "/data/issue/2", {}, {}, {}, etag_of("issue", "2")}).status(),
            200);
  // User: view, create, edit; no Retire.
  EXPECT_EQ(get(demo, "/data/issue/1").status(), 200);
  EXPECT_EQ(send_json(demo, "POST", "/data/issue", R"({"title": "u"})").status(), 201);
  EXPECT_EQ(
      send_json(demo, "PUT", "/data/issue/1", R"({"title": "u2"})", etag_of("issue", "1")).status(),
      200);
  const Result del = run(demo, Call{"DELETE", "/data/issue/1", {}, {}, {}, etag_of("issue", "1")});
  EXPECT_EQ(del.status(), 403);
  EXPECT_EQ(del.msg(), "Permission to retire issue 1 denied");
  // Anonymous: nothing over REST.
  EXPECT_EQ(get(anonymous, "/data/issue/1").status(), 403);
  EXPECT_EQ(send_json(anonymous, "POST", "/data/issue", R"({"title": "a"})").status(), 403);
  EXPECT_EQ(send_json(anonymous, "PUT", "/data/issue/1", R"({"title": "a"})", etag_of("issue", "1"))
                .status(),
            403);
  EXPECT_EQ(
      run(anonymous, Call{"DELETE", "/data/issue/1", {}, {}, {}, etag_of("issue", "1")}).status(),
      403);
}

TEST_F(RestApiTest, PermissionMatrixOnUsers) {
  // User edits its own realname, not another user's, not its own roles; creates and retires no
  // user.
  Result r = send_json(demo, "PUT", "/data/user/3", R"({"realname": "Demo Renamed"})",
                       etag_of("user", "3"));
  ASSERT_EQ(r.status(), 200) << r.response.body;
  EXPECT_EQ(tracker.get("user", "3")->get("realname"), "Demo Renamed");
  r = send_json(demo, "PUT", "/data/user/1", R"({"realname": "Not Me"})", etag_of("user", "1"));
  EXPECT_EQ(r.status(), 403);
  EXPECT_EQ(r.msg(), "Permission to edit realname of user1 denied");
  r = send_json(demo, "PUT", "/data/user/3", R"({"roles": "Admin"})", etag_of("user", "3"));
  EXPECT_EQ(r.status(), 403);
  EXPECT_EQ(r.msg(), "Permission to edit roles of user3 denied");
  EXPECT_EQ(tracker.get("user", "3")->get("roles"), "User");
  r = send_json(demo, "POST", "/data/user", R"({"username": "eve"})");
  EXPECT_EQ(r.status(), 403);
  EXPECT_EQ(run(demo, Call{"DELETE", "/data/user/3", {}, {}, {}, etag_of("user", "3")}).status(),
            403);
  EXPECT_EQ(get(demo, "/data/user/1").status(), 200);
  // Admin: all of it, except retiring admin or anonymous.
  r = send_json(admin, "POST", "/data/user", R"({"username": "eve", "roles": "User"})");
  ASSERT_EQ(r.status(), 201);
  EXPECT_EQ(
      send_json(admin, "PUT", "/data/user/3", R"({"roles": "User,Admin"})", etag_of("user", "3"))
          .status(),
      200);
  EXPECT_EQ(run(admin, Call{"DELETE", "/data/user/4", {}, {}, {}, etag_of("user", "4")}).status(),
            200);
  r = run(admin, Call{"DELETE", "/data/user/1", {}, {}, {}, etag_of("user", "1")});
  EXPECT_EQ(r.status(), 409);
  EXPECT_EQ(r.msg(), "You may not retire the \"admin\" user");
  // Anonymous: nothing.
  EXPECT_EQ(get(anonymous, "/data/user/1").status(), 403);
  EXPECT_EQ(send_json(anonymous, "POST", "/data/user", R"({"username": "x"})").status(), 403);
}

TEST_F(RestApiTest, PermissionMatrixOnStatuses) {
  EXPECT_EQ(get(demo, "/data/status/1").status(), 200);
  EXPECT_EQ(ids(get(demo, "/data/status")).size(), 8u);
  Result r = send_json(demo, "PUT", "/data/status/1", R"({"name": "new"})", etag_of("status", "1"));
  EXPECT_EQ(r.status(), 403);
  EXPECT_EQ(r.msg(), "Permission to edit name of status1 denied");
  EXPECT_EQ(send_json(demo, "POST", "/data/status", R"({"name": "x"})").status(), 403);
  EXPECT_EQ(
      run(demo, Call{"DELETE", "/data/status/1", {}, {}, {}, etag_of("status", "1")}).status(),
      403);
  EXPECT_EQ(
      send_json(admin, "PUT", "/data/status/1", R"({"name": "fresh"})", etag_of("status", "1"))
          .status(),
      200);
  EXPECT_EQ(send_json(admin, "POST", "/data/status", R"({"name": "x"})").status(), 201);
  EXPECT_EQ(
      run(admin, Call{"DELETE", "/data/status/9", {}, {}, {}, etag_of("status", "9")}).status(),
      200);
  EXPECT_EQ(get(anonymous, "/data/status/1").status(), 403);
}

// --- PATCH ---

TEST_F(RestApiTest, PatchAddsRemovesAndReplaces) {
  Result r = send_json(admin, "PATCH", "/data/issue/1", R"({"@op": "add", "nosy": ["admin"]})",
                       etag_of("issue", "1"));
  ASSERT_EQ(r.status(), 200) << r.response.body;
  EXPECT_EQ(json::serialize(r.data().at("attribute")), R"({"nosy":["1","3"]})");
  r = send_json(admin, "PATCH", "/data/issue/1", R"({"@op": "remove", "nosy": "demo"})",
                etag_of("issue", "1"));
  ASSERT_EQ(r.status(), 200) << r.response.body;
  EXPECT_EQ(tracker.get("issue", "1")->get("nosy"), json::array{"1"});
  r = send_json(admin, "PATCH", "/data/issue/1", R"({"title": "replaced"})",
                etag_of("issue", "1"));  // replace is the default
  ASSERT_EQ(r.status(), 200) << r.response.body;
  r = send_json(admin, "PATCH", "/data/issue/1", R"({"@op": "add", "title": " and more"})",
                etag_of("issue", "1"));
  ASSERT_EQ(r.status(), 200) << r.response.body;
  EXPECT_EQ(tracker.get("issue", "1")->get("title"), "replaced and more");
  r = send_json(admin, "PATCH", "/data/issue/1", R"({"@op": "remove", "assignedto": "1"})",
                etag_of("issue", "1"));
  ASSERT_EQ(r.status(), 200) << r.response.body;
  r = send_json(admin, "PATCH", "/data/issue/1/nosy", R"({"@op": "add", "data": "demo"})",
                etag_of("issue", "1"));
  ASSERT_EQ(r.status(), 200) << r.response.body;
  EXPECT_EQ(tracker.get("issue", "1")->get("nosy"), (json::array{"1", "3"}));
}

TEST_F(RestApiTest, PatchRefusals) {
  EXPECT_EQ(send_json(admin, "PATCH", "/data/issue/1", R"({"title": "x"})").status(), 412);
  Result r = send_json(admin, "PATCH", "/data/issue/1", R"({"@op": "frobnicate", "title": "x"})",
                       etag_of("issue", "1"));
  EXPECT_EQ(r.status(), 400);
  EXPECT_EQ(r.msg(), "PATCH Operation frobnicate is not allowed");
  r = send_json(admin, "PATCH", "/data/issue/1", R"({"@op": "action", "@action_name": "explode"})",
                etag_of("issue", "1"));
  EXPECT_EQ(r.status(), 400);
  EXPECT_EQ(r.msg(), "action \"explode\" is not supported, allowed: retire, restore");
  r = send_json(admin, "PATCH", "/data/status/1", R"({"@op": "remove", "name": "x"})",
                etag_of("status", "1"));
  EXPECT_EQ(r.status(), 400);
  r = send_json(admin, "PATCH", "/data/issue/1", R"({"id": "5"})", etag_of("issue", "1"));
  EXPECT_EQ(r.status(), 400);
  r = send_json(admin, "PATCH", "/data/issue/1/creation", R"({"data": "2020-01-01"})",
                etag_of("issue", "1"));
  EXPECT_EQ(r.status(), 405);
  r = send_json(demo, "PATCH", "/data/status/1", R"({"name": "x"})", etag_of("status", "1"));
  EXPECT_EQ(r.status(), 403);
}

// --- DELETE, retire and restore ---

TEST_F(RestApiTest, DeleteRetiresAndPatchActionRestores) {
  const std::string id = create_issue("short-lived");
  Result r = run(admin, Call{"DELETE", "/data/issue/" + id});
  EXPECT_EQ(r.status(), 412);
  r = run(admin, Call{"DELETE", "/data/issue/" + id, {}, {}, {}, etag_of("issue", id)});
  ASSERT_EQ(r.status(), 200) << r.response.body;
  EXPECT_EQ(json::serialize(r.data()), R"({"status":"ok"})");
  EXPECT_TRUE(tracker.get("issue", id)->retired);
  EXPECT_EQ(ids(get(admin, "/data/issue")), std::vector<std::string>{"1"});
  EXPECT_EQ(get(admin, "/data/issue/" + id).status(), 200);  // a retired item can still be read

  r = send_json(admin, "PATCH", "/data/issue/" + id,
                R"({"@op": "action", "@action_name": "restore"})", etag_of("issue", id));
  ASSERT_EQ(r.status(), 200) << r.response.body;
  EXPECT_TRUE(r.data().at("result").is_null());
  EXPECT_EQ(ids(get(admin, "/data/issue")), (std::vector<std::string>{"1", id}));
  r = send_json(admin, "PATCH", "/data/issue/" + id,
                R"({"@op": "action", "@action_name": "retire"})", etag_of("issue", id));
  ASSERT_EQ(r.status(), 200) << r.response.body;
  EXPECT_TRUE(tracker.get("issue", id)->retired);
  r = send_json(demo, "PATCH", "/data/issue/1", R"({"@op": "action", "@action_name": "retire"})",
                etag_of("issue", "1"));
  EXPECT_EQ(r.status(), 403);
  EXPECT_EQ(r.msg(), "You do not have permission to retire the issue class.");
}

TEST_F(RestApiTest, DeleteOfAPropertyUnsetsIt) {
  Result r = run(admin, Call{"DELETE", "/data/issue/1/nosy", {}, {}, {}, etag_of("issue", "1")});
  ASSERT_EQ(r.status(), 200) << r.response.body;
  EXPECT_EQ(tracker.get("issue", "1")->get("nosy"), json::array{});
  r = run(admin, Call{"DELETE", "/data/issue/1/priority", {}, {}, {}, etag_of("issue", "1")});
  ASSERT_EQ(r.status(), 200) << r.response.body;
  EXPECT_TRUE(tracker.get("issue", "1")->get("priority").is_null());
  r = run(admin, Call{"DELETE", "/data/issue/1/creation", {}, {}, {}, etag_of("issue", "1")});
  EXPECT_EQ(r.status(), 405);
  r = run(admin, Call{"DELETE", "/data/issue/1/bogus", {}, {}, {}, etag_of("issue", "1")});
  EXPECT_EQ(r.status(), 400);
  r = run(admin, Call{"DELETE", "/data/status/1/name", {}, {}, {}, etag_of("status", "1")});
  EXPECT_EQ(r.status(), 400);
  r = run(admin, Call{"DELETE", "/data/issue"});
  EXPECT_EQ(r.status(), 403);
  EXPECT_EQ(r.msg(), "Deletion of a whole class disabled");
}

// --- OPTIONS, methods, negotiation ---

TEST_F(RestApiTest, OptionsAnswer204WithAllow) {
  const struct {
    const char* path;
    const char* allow;
  } cases[] = {
      {"/", "OPTIONS, GET"},
      {"/data", "OPTIONS, GET"},
      {"/data/issue", "OPTIONS, GET, POST"},
      {"/data/issue/1", "OPTIONS, GET, PUT, DELETE, PATCH"},
      {"/data/issue/1/title", "OPTIONS, GET, PUT, DELETE, PATCH"},
      {"/data/issue/1/creation", "OPTIONS, GET"},
  };
  for (const auto& c : cases) {
    const Result r = run(demo, Call{"OPTIONS", c.path});
    EXPECT_EQ(r.status(), 204) << c.path;
    EXPECT_EQ(r.header("Allow"), c.allow) << c.path;
    EXPECT_EQ(r.header("Access-Control-Allow-Methods"), c.allow) << c.path;
    EXPECT_TRUE(r.response.body.empty());
  }
  EXPECT_EQ(run(demo, Call{"OPTIONS", "/data/bogus"}).status(), 404);
  EXPECT_EQ(run(demo, Call{"OPTIONS", "/data/issue/1/bogus"}).status(), 404);
}

TEST_F(RestApiTest, UnsupportedMethodsAre405WithTheirAllowList) {
  Result r = run(admin, Call{"POST", "/data/issue/1"});
  EXPECT_EQ(r.status(), 405);
  EXPECT_EQ(r.header("Allow"), "DELETE, GET, OPTIONS, PATCH, PUT");
  EXPECT_EQ(r.msg(), "Method POST not allowed. Allowed: DELETE, GET, OPTIONS, PATCH, PUT");
  r = run(admin, Call{"PUT", "/data/issue"});
  EXPECT_EQ(r.status(), 405);
  EXPECT_EQ(r.header("Allow"), "DELETE, GET, OPTIONS, POST");
  EXPECT_EQ(run(admin, Call{"BREW", "/"}).status(), 405);
  EXPECT_EQ(run(admin, Call{"DELETE", "/data"}).status(), 405);
  // Every answer carries Roundup's default Allow unless narrowed.
  EXPECT_EQ(get(admin, "/data/issue/1").header("Allow"), "OPTIONS, GET, POST, PUT, DELETE, PATCH");
  EXPECT_EQ(get(admin, "/data/bogus").header("Allow"), "OPTIONS, GET, POST, PUT, DELETE, PATCH");
}

TEST_F(RestApiTest, MethodOverrideOnlyOnPost) {
  Call c{"GET", "/data/issue/1"};
  c.method_override = "DELETE";
  Result r = run(admin, c);
  EXPECT_EQ(r.status(), 400);
  EXPECT_EQ(r.msg(), "X-HTTP-Method-Override: DELETE must be used with POST method not GET.");
  c = Call{"POST",
           "/data/issue/1",
           {},
           R"({"title": "tunnelled"})",
           "application/json",
           etag_of("issue", "1")};
  c.method_override = "PUT";
  r = run(admin, c);
  ASSERT_EQ(r.status(), 200) << r.response.body;
  EXPECT_EQ(tracker.get("issue", "1")->get("title"), "tunnelled");
  EXPECT_TRUE(RestApi::writes(with_method("POST")));
  EXPECT_TRUE(RestApi::writes(with_method("delete")));
  EXPECT_FALSE(RestApi::writes(with_method("GET")));
  EXPECT_FALSE(RestApi::writes(with_method("OPTIONS")));
}

TEST_F(RestApiTest, ContentNegotiation) {
  Call c{"GET", "/data/issue/1"};
  c.accept = "text/html";
  Result r = run(admin, c);
  EXPECT_EQ(r.status(), 406);
  c.accept = "text/html, application/json;q=0.9";
  EXPECT_EQ(run(admin, c).status(), 200);
  c.accept = "*/*";
  EXPECT_EQ(run(admin, c).status(), 200);
  c.accept = "application/vnd.roundup.test-v1+json";
  EXPECT_EQ(run(admin, c).status(), 200);
  c.accept = "application/json; version=2";
  r = run(admin, c);
  EXPECT_EQ(r.status(), 400);
  EXPECT_EQ(r.msg(),
            "Unrecognized api version: 2. See /rest without specifying api version for "
            "supported versions.");
  c.accept = "garbage";
  EXPECT_EQ(run(admin, c).status(), 406);
  EXPECT_EQ(get(admin, "/data/issue/1", "@apiver=1").status(), 200);
  EXPECT_EQ(get(admin, "/data/issue/1", "@apiver=7").status(), 400);
  EXPECT_EQ(get(admin, "/data/issue/1", "@apiver=x").status(), 400);
  EXPECT_EQ(get(admin, "/data/issue/1.json").data().at("id"), "1");
  EXPECT_EQ(get(admin, "/data/issue/1.xml").status(), 406);
  EXPECT_EQ(run(admin, Call{"HEAD", "/data/issue/1"}).status(), 200);
}

TEST_F(RestApiTest, MalformedQueriesAre400) {
  EXPECT_EQ(get(admin, "/data/issue", "title=%zz").status(), 400);
  EXPECT_EQ(get(admin, "/data/issue", "title=%ff").status(), 400);  // not UTF-8
  std::string many;
  for (int i = 0; i < 300; ++i) many += "@x" + std::to_string(i) + "=1&";
  EXPECT_EQ(get(admin, "/data/issue", many).status(), 400);
}

TEST_F(RestApiTest, EtagsDependOnTheKeyAndTheItem) {
  RestApi other_key(tracker, std::string(kBase), RestApi::derive_etag_key("other secret"), clock);
  const ItemPtr issue = tracker.get("issue", "1");
  EXPECT_NE(api.etag(*issue), other_key.etag(*issue));
  EXPECT_EQ(api.etag(*issue), api.etag(*tracker.get("issue", "1")));
  EXPECT_NE(api.etag(*issue), api.etag(*tracker.get("status", "1")));
  EXPECT_NE(RestApi::derive_etag_key("a"), RestApi::derive_etag_key("b"));
  EXPECT_EQ(RestApi::derive_etag_key("a").size(), 32u);
}

TEST_F(RestApiTest, SummaryGroupsRecentIssuesByStatus) {
  create_issue("recent", "chatting");
  const Result r = get(demo, "/summary");
  ASSERT_EQ(r.status(), 200) << r.response.body;
  EXPECT_EQ(r.data().at("summary").at("chatting").at(0).at("title"), "recent");
  EXPECT_EQ(r.data().at("summary").at("deferred").at(0).at("id"), "1");
  EXPECT_EQ(r.data().at("created").as_array().size(), 2u);
  EXPECT_EQ(r.data().at("most_discussed").at(0).at(0), 0);
  clock.advance(std::chrono::hours(24 * 8));
  EXPECT_TRUE(get(demo, "/summary").data().at("created").as_array().empty());
}

TEST_F(RestApiTest, ErrorEnvelopeForTheFailureRenderer) {
  const Response r =
      rest_error_response(429, "Logins occurring too fast. Please wait: 150 seconds.");
  EXPECT_EQ(r.status, 429);
  EXPECT_EQ(r.body,
            "{\n    \"error\": {\n        \"status\": 429,\n        \"msg\": \"Logins "
            "occurring too fast. Please wait: 150 seconds.\"\n    }\n}\n");
}

}  // namespace
}  // namespace gatehouse::tracker
