#include "tracker/tracker.hpp"

#include <gtest/gtest.h>

#include <boost/json/array.hpp>

#include "tracker_fixture.hpp"

namespace gatehouse::tracker {
namespace {

namespace json = boost::json;
using testing::ClassicTracker;

std::vector<std::string> ids_of(const std::vector<ItemPtr>& items) {
  std::vector<std::string> out;
  for (const auto& i : items) out.push_back(i->id_text());
  return out;
}

ErrorKind kind_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const TrackerError& e) {
    return e.kind();
  }
  ADD_FAILURE() << "no TrackerError";
  return ErrorKind::method;
}

TEST(Tracker, DemoDataMirrorsRoundupsClassicTemplate) {
  ClassicTracker t;
  EXPECT_EQ(ids_of(t.tracker.list("user")), (std::vector<std::string>{"1", "2", "3"}));
  EXPECT_EQ(t.tracker.lookup("user", "admin"), "1");
  EXPECT_EQ(t.tracker.lookup("user", "anonymous"), "2");
  EXPECT_EQ(t.tracker.lookup("user", "demo"), "3");
  EXPECT_EQ(t.tracker.lookup("status", "resolved"), "8");
  EXPECT_EQ(t.tracker.lookup("priority", "wish"), "5");
  const ItemPtr issue = t.tracker.get("issue", "1");
  EXPECT_EQ(issue->get("priority"), json::value("1"));
  EXPECT_EQ(issue->get("status"), json::value("2"));
  EXPECT_EQ(t.tracker.get("priority", "3")->get("order"), json::value(3.0));
  EXPECT_EQ(issue->get("creation"), json::value("2025-11-24.16:00:00.000"));
}

TEST(Tracker, CreateSetRetireRestoreAreStoredAndReloaded) {
  ClassicTracker t;
  const std::string id = t.tracker.create(t.demo(), "issue",
                                          {{"title", json::value("broken")},
                                           {"status", json::value("1")},
                                           {"nosy", json::array{"1", "3"}}});
  EXPECT_EQ(id, "2");
  const ItemPtr created = t.tracker.get("issue", id);
  EXPECT_EQ(created->get("creator"), json::value("3"));
  EXPECT_EQ(created->version, 1);
  t.clock.advance(std::chrono::seconds(5));
  const auto changed = t.tracker.set(
      t.admin(), "issue", id, {{"title", json::value("fixed")}, {"status", json::value("1")}});
  EXPECT_EQ(changed, std::vector<std::string>{"title"});
  EXPECT_EQ(t.tracker.get("issue", id)->get("actor"), json::value("1"));
  EXPECT_EQ(t.tracker.get("issue", id)->version, 2);
  t.tracker.retire(t.admin(), "issue", id);
  EXPECT_EQ(ids_of(t.tracker.list("issue")), std::vector<std::string>{"1"});
  EXPECT_TRUE(t.tracker.get("issue", id)->retired);  // still readable, as in Roundup

  // A second tracker over the same store (another instance) sees everything.
  Tracker other("demo", load_schema("classic"), t.store, t.clock);
  other.load(true);
  EXPECT_EQ(other.get("issue", id)->get("title"), json::value("fixed"));
  EXPECT_TRUE(other.get("issue", id)->retired);
  other.restore(t.admin(), "issue", id);
  t.tracker.refresh();
  EXPECT_FALSE(t.tracker.get("issue", id)->retired);
  EXPECT_EQ(ids_of(t.tracker.list("issue")), (std::vector<std::string>{"1", "2"}));
  // Ids are never reused.
  EXPECT_EQ(t.tracker.create(t.admin(), "issue", {{"title", json::value("third")}}), "3");
}

TEST(Tracker, StaleWritesAreRefusedNotLost) {
  ClassicTracker t;
  Tracker other("demo", load_schema("classic"), t.store, t.clock);
  other.load(true);
  other.set(t.admin(), "issue", "1", {{"title", json::value("from the other instance")}});
  // This instance has not refreshed: its compare-and-set must fail rather than overwrite.
  EXPECT_EQ(kind_of([&] {
              t.tracker.set(t.admin(), "issue", "1", {{"title", json::value("x")}});
            }),
            ErrorKind::precondition);
  t.tracker.refresh();
  EXPECT_EQ(t.tracker.get("issue", "1")->get("title"), json::value("from the other instance"));
  // An explicit expected version (REST If-Match) is checked too.
  EXPECT_EQ(kind_of([&] {
              t.tracker.set(t.admin(), "issue", "1", {{"title", json::value("y")}}, 1);
            }),
            ErrorKind::precondition);
  t.tracker.set(t.admin(), "issue", "1", {{"title", json::value("y")}}, 2);
  EXPECT_EQ(t.tracker.get("issue", "1")->get("title"), json::value("y"));
}

TEST(Tracker, KeysAreUniqueAmongLiveItems) {
  ClassicTracker t;
  EXPECT_EQ(kind_of([&] {
              t.tracker.create(t.admin(), "status", {{"name", json::value("unread")}});
            }),
            ErrorKind::value);
  EXPECT_EQ(kind_of([&] {
              t.tracker.create(t.admin(), "status", {{"order", json::value(9.0)}});
            }),
            ErrorKind::value);
  t.tracker.retire(t.admin(), "status", "1");
  EXPECT_EQ(kind_of([&] { t.tracker.lookup("status", "unread"); }), ErrorKind::key);
  const std::string id = t.tracker.create(t.admin(), "status", {{"name", json::value("unread")}});
  EXPECT_EQ(t.tracker.lookup("status", "unread"), id);
  // Restoring the old one would duplicate the key.
  EXPECT_EQ(kind_of([&] { t.tracker.restore(t.admin(), "status", "1"); }), ErrorKind::value);
  EXPECT_TRUE(t.tracker.get("status", "1")->retired);
}

TEST(Tracker, LinksMustPointAtItems) {
  ClassicTracker t;
  EXPECT_EQ(kind_of([&] {
              t.tracker.create(t.admin(), "issue", {{"status", json::value("99")}});
            }),
            ErrorKind::index);
  EXPECT_EQ(kind_of([&] {
              t.tracker.create(t.admin(), "issue", {{"nosy", json::array{"1", "42"}}});
            }),
            ErrorKind::index);
  EXPECT_EQ(kind_of([&] {
              t.tracker.create(t.admin(), "issue", {{"nope", json::value("x")}});
            }),
            ErrorKind::key);
  EXPECT_EQ(kind_of([&] {
              t.tracker.create(t.admin(), "issue", {{"id", json::value("7")}});
            }),
            ErrorKind::key);
  EXPECT_EQ(kind_of([&] { t.tracker.get("issue", "abc"); }), ErrorKind::index);
  EXPECT_EQ(kind_of([&] { t.tracker.get("nope", "1"); }), ErrorKind::key);
  EXPECT_EQ(ids_of(t.tracker.list("issue")), std::vector<std::string>{"1"});  // nothing stored
}

TEST(Tracker, FromRawConvertsLikeRawToHyperdb) {
  ClassicTracker t;
  const ClassDef& issue = t.tracker.get_class("issue");
  const ClassDef& msg = t.tracker.get_class("msg");
  EXPECT_EQ(t.tracker.from_raw(issue, *issue.find("status"), "resolved"), json::value("8"));
  EXPECT_EQ(t.tracker.from_raw(issue, *issue.find("status"), "3"), json::value("3"));
  EXPECT_EQ(t.tracker.from_raw(issue, *issue.find("assignedto"), "-1"), json::value(nullptr));
  EXPECT_EQ(t.tracker.from_raw(issue, *issue.find("nosy"), "demo, 1,admin"),
            (json::value(json::array{"1", "3"})));
  EXPECT_EQ(t.tracker.from_raw(msg, *msg.find("date"), "2024-02-29.13:14:15"),
            json::value("2024-02-29.13:14:15.000"));
  EXPECT_EQ(t.tracker.from_raw(msg, *msg.find("date"), "2024-02-29"),
            json::value("2024-02-29.00:00:00.000"));
  const Property order = *t.tracker.get_class("priority").find("order");
  EXPECT_EQ(t.tracker.from_raw(t.tracker.get_class("priority"), order, "2.5"), json::value(2.5));
  const auto bad = [&](const ClassDef& c, const Property& p, std::string_view raw) {
    return kind_of([&] { t.tracker.from_raw(c, p, raw); });
  };
  EXPECT_EQ(bad(issue, *issue.find("status"), "nonsense"), ErrorKind::value);
  EXPECT_EQ(bad(issue, *issue.find("nosy"), "demo,ghost"), ErrorKind::value);
  EXPECT_EQ(bad(msg, *msg.find("date"), "2023-02-29"), ErrorKind::value);
  EXPECT_EQ(bad(msg, *msg.find("date"), "yesterday"), ErrorKind::value);
  EXPECT_EQ(bad(t.tracker.get_class("priority"), order, "1e999"), ErrorKind::value);
  EXPECT_EQ(bad(t.tracker.get_class("priority"), order, "nan"), ErrorKind::value);
  const ClassDef& user = t.tracker.get_class("user");
  const json::value hash = t.tracker.from_raw(user, *user.find("password"), "s3cret");
  ASSERT_TRUE(hash.is_string());
  EXPECT_TRUE(std::string_view(hash.get_string()).starts_with("$argon2id$"));
}

TEST(Tracker, IntervalsRoundTrip) {
  EXPECT_EQ(Tracker::interval_text(86400 + 2 * 3600), "+ 1d 2:00");
  EXPECT_EQ(Tracker::interval_text(-3 * 7 * 86400), "- 3w");
  EXPECT_EQ(Tracker::interval_text(90), "+ 0:01:30");
}

TEST(Tracker, FilterMatchesLikeRoundup) {
  ClassicTracker t;
  t.tracker.create(t.admin(), "issue",
                   {{"title", json::value("Another Bug")},
                    {"status", json::value("2")},
                    {"priority", json::value("3")},
                    {"nosy", json::array{"1"}}});
  t.tracker.create(t.admin(), "issue",
                   {{"title", json::value("feature wish")}, {"status", json::value("8")}});
  const auto f = [&](std::vector<FilterTerm> terms, std::vector<SortKey> sort = {},
                     const std::vector<std::string>* ids = nullptr) {
    return ids_of(t.tracker.filter("issue", ids, terms, sort));
  };
  EXPECT_EQ(f({{"title", {"bug"}, false}}), std::vector<std::string>{"2"});
  EXPECT_EQ(f({{"title", {"bug"}, true}}), std::vector<std::string>{});
  EXPECT_EQ(f({{"title", {"Another Bug"}, true}}), std::vector<std::string>{"2"});
  EXPECT_EQ(f({{"status", {"deferred"}, false}}), (std::vector<std::string>{"1", "2"}));
  EXPECT_EQ(f({{"status", {"resolved", "1"}, false}}), std::vector<std::string>{"3"});
  EXPECT_EQ(f({{"priority", {"-1"}, false}}), std::vector<std::string>{"3"});
  EXPECT_EQ(f({{"nosy", {"admin"}, false}}), std::vector<std::string>{"2"});
  EXPECT_EQ(f({{"nosy", {"-1"}, false}}), std::vector<std::string>{"3"});
  EXPECT_EQ(f({{"status", {"2"}, false}, {"title", {"yes"}, false}}),
            std::vector<std::string>{"1"});
  EXPECT_EQ(f({}, {{"status", true}}), (std::vector<std::string>{"3", "1", "2"}));
  EXPECT_EQ(f({}, {{"id", true}}), (std::vector<std::string>{"3", "2", "1"}));
  EXPECT_EQ(f({}, {{"title", false}}), (std::vector<std::string>{"2", "3", "1"}));
  const std::vector<std::string> some{"1", "3"}, none{};
  EXPECT_EQ(f({}, {}, &some), (std::vector<std::string>{"1", "3"}));
  EXPECT_EQ(f({}, {}, &none), std::vector<std::string>{});
  EXPECT_EQ(kind_of([&] { f({{"nope", {"x"}, false}}); }), ErrorKind::key);
}

// Roundup's classic permissions, role × class × operation (class level, no item).
TEST(TrackerPermissions, ClassLevelMatrix) {
  ClassicTracker t;
  const Actor admin = t.admin(), user = t.demo(), anon = t.anonymous();
  struct Row {
    std::string_view klass;
    bool user_view, user_edit, user_create, anon_view;
  };
  const Row rows[] = {
      {"issue", true, true, true, true},      {"file", true, true, true, true},
      {"msg", true, true, true, true},        {"keyword", true, true, true, true},
      {"priority", true, false, false, true}, {"status", true, false, false, true},
      {"query", true, true, true, false},     {"user", true, true, false, false},
  };
  for (const Row& r : rows) {
    SCOPED_TRACE(std::string(r.klass));
    for (std::string_view op : {"View", "Edit", "Create", "Retire", "Search"}) {
      EXPECT_TRUE(t.tracker.has_permission(admin, op, r.klass)) << op;
    }
    EXPECT_EQ(t.tracker.has_permission(user, "View", r.klass), r.user_view);
    EXPECT_EQ(t.tracker.has_permission(user, "Edit", r.klass), r.user_edit);
    EXPECT_EQ(t.tracker.has_permission(user, "Create", r.klass), r.user_create);
    EXPECT_EQ(t.tracker.has_permission(anon, "View", r.klass), r.anon_view);
    EXPECT_FALSE(t.tracker.has_permission(anon, "Edit", r.klass));
    EXPECT_FALSE(t.tracker.has_permission(anon, "Create", r.klass));
    EXPECT_FALSE(t.tracker.has_permission(anon, "Retire", r.klass));
    EXPECT_EQ(t.tracker.has_permission(user, "Retire", r.klass), r.klass == "query");
  }
  for (std::string_view global : {"Rest Access", "Xmlrpc Access", "Web Access"}) {
    EXPECT_TRUE(t.tracker.has_permission(admin, global));
    EXPECT_TRUE(t.tracker.has_permission(user, global));
  }
  EXPECT_FALSE(t.tracker.has_permission(anon, "Rest Access"));
  EXPECT_FALSE(t.tracker.has_permission(anon, "Xmlrpc Access"));
  EXPECT_TRUE(t.tracker.has_permission(anon, "Web Access"));
  EXPECT_TRUE(t.tracker.has_search_permission(anon, "user", "username"));
  EXPECT_FALSE(t.tracker.has_permission(Actor{"9", "x", {"NoSuchRole"}}, "View", "issue"));
  EXPECT_TRUE(t.tracker.has_permission(Actor{"1", "admin", {"aDmIn"}}, "Edit", "status"));
}

TEST(TrackerPermissions, PropertyAndOwnRecordRules) {
  ClassicTracker t;
  const Actor user = t.demo();
  // Other users' records: only the listed properties are visible, nothing is editable.
  for (std::string_view p : {"id", "organisation", "phone", "realname", "timezone", "username"}) {
    EXPECT_TRUE(t.tracker.has_permission(user, "View", "user", p, "1")) << p;
  }
  for (std::string_view p : {"address", "roles", "password", "queries"}) {
    EXPECT_FALSE(t.tracker.has_permission(user, "View", "user", p, "1")) << p;
    EXPECT_TRUE(t.tracker.has_permission(user, "View", "user", p, "3")) << p;  // own record
  }
  EXPECT_FALSE(t.tracker.has_permission(user, "Edit", "user", "realname", "1"));
  EXPECT_TRUE(t.tracker.has_permission(user, "Edit", "user", "realname", "3"));
  EXPECT_TRUE(t.tracker.has_permission(user, "Edit", "user", "password", "3"));
  EXPECT_FALSE(t.tracker.has_permission(user, "Edit", "user", "roles", "3"));  // no promotion
  EXPECT_FALSE(t.tracker.has_permission(user, "Edit", "user", "username", "2"));

  // Queries: private ones are for their owner; only the creator edits or retires.
  const std::string mine = t.tracker.create(
      user, "query", {{"name", json::value("mine")}, {"private_for", json::value("3")}});
  const std::string admins = t.tracker.create(
      t.admin(), "query", {{"name", json::value("admin's")}, {"private_for", json::value("1")}});
  const std::string shared = t.tracker.create(t.admin(), "query", {{"name", json::value("all")}});
  EXPECT_TRUE(t.tracker.has_permission(user, "View", "query", "name", mine));
  EXPECT_FALSE(t.tracker.has_permission(user, "View", "query", "name", admins));
  EXPECT_TRUE(t.tracker.has_permission(user, "View", "query", "name", shared));
  EXPECT_TRUE(t.tracker.has_permission(user, "Edit", "query", "name", mine));
  EXPECT_FALSE(t.tracker.has_permission(user, "Edit", "query", "name", shared));
  EXPECT_TRUE(t.tracker.has_permission(user, "Retire", "query", {}, mine));
  EXPECT_FALSE(t.tracker.has_permission(user, "Retire", "query", {}, shared));
}

TEST(TrackerActors, AnonymousAndUsersMapToUserItems) {
  ClassicTracker t;
  const Actor anon = t.tracker.anonymous();
  EXPECT_EQ(anon.user_id, "2");
  EXPECT_EQ(anon.roles, std::vector<std::string>{"Anonymous"});
  const auto demo = t.tracker.actor_for("demo", {"User"});
  ASSERT_TRUE(demo.has_value());
  EXPECT_EQ(demo->user_id, "3");
  EXPECT_FALSE(t.tracker.actor_for("newcomer", {"User"}).has_value());
  const Actor made = t.tracker.ensure_user("newcomer", {"User"});
  EXPECT_EQ(made.user_id, "4");
  EXPECT_EQ(t.tracker.get("user", "4")->get("roles"), json::value("User"));
  EXPECT_EQ(t.tracker.ensure_user("newcomer", {"User"}).user_id, "4");  // once
}

}  // namespace
}  // namespace gatehouse::tracker
