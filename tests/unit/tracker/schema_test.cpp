#include "tracker/schema.hpp"

#include <gtest/gtest.h>

#include <stdexcept>

namespace gatehouse::tracker {
namespace {

TEST(Schema, ClassicHasRoundupsClassesAndKeys) {
  const Schema s = load_schema("classic");
  std::vector<std::string> names;
  for (const auto& c : s.classes) names.push_back(c.name);
  EXPECT_EQ(names, (std::vector<std::string>{"file", "issue", "keyword", "msg", "priority", "query",
                                             "status", "user"}));
  EXPECT_EQ(s.find("user")->key, "username");
  EXPECT_EQ(s.find("status")->key, "name");
  EXPECT_EQ(s.find("issue")->key, "");
  EXPECT_EQ(s.find("issue")->label(), "title");
  EXPECT_EQ(s.find("msg")->label(), "id");
  const Property* status = s.find("issue")->find("status");
  ASSERT_NE(status, nullptr);
  EXPECT_EQ(type_repr(*status), "<roundup.hyperdb.Link to \"status\">");
  EXPECT_EQ(type_repr(*s.find("issue")->find("nosy")), "<roundup.hyperdb.Multilink to \"user\">");
  EXPECT_EQ(type_repr(*s.find("user")->find("username")), "<roundup.hyperdb.String>");
  EXPECT_EQ(type_repr(*s.find("user")->find("password")), "<roundup.hyperdb.Password>");
  EXPECT_EQ(type_repr(*s.find("msg")->find("date")), "<roundup.hyperdb.Date>");
}

TEST(Schema, RolesCompareWithoutCase) {
  const Schema s = load_schema("classic");
  ASSERT_NE(s.find_role("admin"), nullptr);
  EXPECT_TRUE(s.find_role("ADMIN")->all);
  ASSERT_NE(s.find_role("user"), nullptr);
  EXPECT_EQ(s.find_role("nobody"), nullptr);
}

TEST(Schema, ParsesACustomSchema) {
  const Schema s = parse_schema(R"toml(
[class.user]
key = "username"
properties = { username = "String", roles = "String" }
[class.task]
properties = { title = "String", done = "Boolean", due = "Date", effort = "Interval", owner = "Link(user)" }
[role.Worker]
permissions = ["Rest Access", "View task", "Edit task(done) if creator", "Create task"]
)toml",
                                "custom.toml");
  ASSERT_NE(s.find("task"), nullptr);
  EXPECT_EQ(s.find("task")->find("done")->type, PropType::boolean);
  EXPECT_EQ(s.find("task")->find("effort")->type, PropType::interval);
  const Role* worker = s.find_role("worker");
  ASSERT_NE(worker, nullptr);
  ASSERT_EQ(worker->permissions.size(), 4u);
  EXPECT_EQ(worker->permissions[0].name, "Rest Access");
  EXPECT_FALSE(worker->permissions[0].klass.has_value());
  EXPECT_EQ(worker->permissions[2].name, "Edit");
  EXPECT_EQ(*worker->permissions[2].klass, "task");
  EXPECT_EQ(worker->permissions[2].properties, std::vector<std::string>{"done"});
  EXPECT_EQ(worker->permissions[2].check, ItemCheck::creator);
}

void expect_refused(std::string_view text, std::string_view needle) {
  try {
    parse_schema(text, "bad.toml");
    ADD_FAILURE() << "accepted: " << text;
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("bad.toml"), std::string::npos) << e.what();
  }
}

TEST(Schema, RefusesBrokenSchemasWithTheReason) {
  const std::string user =
      "[class.user]\nkey=\"username\"\nproperties={username=\"String\",roles=\"String\"}\n";
  expect_refused(user + "[class.a]\nproperties={x=\"Link(nowhere)\"}\n", "unknown class");
  expect_refused(user + "[class.a]\nproperties={x=\"Strin\"}\n", "unknown type");
  expect_refused(user + "[class.a]\nproperties={id=\"String\"}\n", "maintained by the tracker");
  expect_refused(user + "[class.a]\nkey=\"nope\"\nproperties={x=\"String\"}\n", "not a String");
  expect_refused(user + "[class.a2]\nproperties={x=\"String\"}\n", "must not end in a digit");
  expect_refused(user + "[role.R]\npermissions=[\"View nowhere\"]\n", "unknown class");
  expect_refused(user + "[role.R]\npermissions=[\"View user(nope)\"]\n", "unknown property");
  expect_refused(user + "[role.R]\npermissions=[\"View user if sometimes\"]\n", "unknown check");
  expect_refused(user + "[role.R]\n[role.r]\n", "defined twice");
  expect_refused("[class.a]\nproperties={x=\"String\"}\n", "needs a user class");
  expect_refused(user + "colour = 1\n", "unknown key");
  expect_refused("[[[", "bad.toml:");
}

}  // namespace
}  // namespace gatehouse::tracker
