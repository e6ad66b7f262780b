#include "tracker/xmlrpc_api.hpp"

#include <gtest/gtest.h>

#include "tracker_fixture.hpp"

namespace gatehouse::tracker {
namespace {

using testing::ClassicTracker;
using xmlrpc::Value;

Value S(std::string s) {
  return Value::string(std::move(s));
}

// The fault string of a call that must fail.
std::string fault_of(const XmlrpcApi& api, const Actor& actor, std::string_view method,
                     std::vector<Value> params) {
  try {
    api.call(actor, method, params);
  } catch (const TrackerError& e) {
    return e.python_class() + ":" + e.what();
  }
  ADD_FAILURE() << method << " succeeded";
  return {};
}

TEST(XmlrpcApi, RoundupsSampleSession) {
  ClassicTracker t;
  XmlrpcApi api(t.tracker);
  const Actor admin = t.admin();
  const Value schema = api.call(admin, "schema", {});
  const Value* user = schema.member("user");
  ASSERT_NE(user, nullptr);
  ASSERT_NE(user->if_array(), nullptr);
  EXPECT_EQ((*user->if_array())[0], Value::array({S("address"), S("<roundup.hyperdb.String>")}));
  EXPECT_EQ(api.call(admin, "list", {S("user")}),
            Value::array({S("admin"), S("anonymous"), S("demo")}));
  EXPECT_EQ(api.call(admin, "list", {S("issue"), S("id")}), Value::array({S("1")}));
  const Value issue = api.call(admin, "display", {S("issue1")});
  ASSERT_NE(issue.if_struct(), nullptr);
  EXPECT_EQ(issue.if_struct()->size(), 9u);  // the user-defined properties only
  EXPECT_EQ(*issue.member("assignedto"), Value::nil());
  EXPECT_EQ(*issue.member("files"), Value::array({}));
  EXPECT_EQ(api.call(admin, "display", {S("issue1"), S("priority"), S("status")}),
            Value::structure({{"priority", S("1")}, {"status", S("2")}}));
  EXPECT_EQ(api.call(admin, "set", {S("issue1"), S("status=3")}), Value::nil());
  EXPECT_EQ(api.call(admin, "display", {S("issue1"), S("status")}),
            Value::structure({{"status", S("3")}}));
  EXPECT_EQ(api.call(admin, "create", {S("issue"), S("title='another bug'"), S("status=2")}),
            S("2"));
  EXPECT_EQ(api.call(admin, "display", {S("issue2"), S("title")}),
            Value::structure({{"title", S("'another bug'")}}));  // Roundup keeps the quotes
  EXPECT_EQ(api.call(admin, "filter",
                     {S("user"), Value::nil(), Value::structure({{"username", S("adm")}})}),
            Value::array({S("1")}));
  EXPECT_EQ(api.call(admin, "filter",
                     {S("user"), Value::array({S("1"), S("2")}),
                      Value::structure({{"username", S("adm")}})}),
            Value::array({S("1")}));
  EXPECT_EQ(
      api.call(admin, "filter",
               {S("user"), Value::array({S("2")}), Value::structure({{"username", S("adm")}})}),
      Value::array({}));
  EXPECT_EQ(api.call(admin, "filter",
                     {S("user"), Value::array({}), Value::structure({{"username", S("adm")}})}),
            Value::array({}));
  EXPECT_EQ(api.call(admin, "lookup", {S("user"), S("admin")}), S("1"));
}

TEST(XmlrpcApi, ValuesAreTranslatedAsRoundupSendsThem) {
  ClassicTracker t;
  XmlrpcApi api(t.tracker);
  EXPECT_EQ(api.call(t.admin(), "display", {S("issue1"), S("creation"), S("id")}),
            Value::structure({{"creation", S("<Date 2025-11-24.16:00:00.000>")}, {"id", S("1")}}));
  EXPECT_EQ(api.call(t.admin(), "display", {S("priority2"), S("order")}),
            Value::structure({{"order", Value::real(2.0)}}));
  api.call(t.admin(), "set", {S("user3"), S("password=n3w")});
  // A password is never sent, not even its hash.
  EXPECT_EQ(api.call(t.admin(), "display", {S("user3"), S("password")}),
            Value::structure({{"password", S("<roundup.password.Password>")}}));
  // An empty value unsets.
  api.call(t.admin(), "set", {S("issue1"), S("priority=")});
  EXPECT_EQ(api.call(t.admin(), "display", {S("issue1"), S("priority")}),
            Value::structure({{"priority", Value::nil()}}));
}

TEST(XmlrpcApi, FaultsCarryRoundupsExceptionClasses) {
  ClassicTracker t;
  XmlrpcApi api(t.tracker);
  const Actor admin = t.admin();
  EXPECT_EQ(
      fault_of(api, admin, "filter",
               {S("usr"), Value::array({S("0")}), Value::structure({{"username", S("demo")}})}),
      "<class 'KeyError'>:'There is no class called \"usr\"'");
  EXPECT_EQ(fault_of(api, admin, "display", {S("issue99")}),
            "<class 'IndexError'>:issue has no node 99");
  EXPECT_EQ(fault_of(api, admin, "display", {S("1issue")}),
            "<class 'roundup.hyperdb.DesignatorError'>:\"1issue\" not a node designator");
  EXPECT_EQ(fault_of(api, admin, "display", {S("issue1"), S("nope")}), "<class 'KeyError'>:'nope'");
  EXPECT_EQ(fault_of(api, admin, "nosuch", {}),
            "<class 'Exception'>:method \"nosuch\" is not supported");
  EXPECT_EQ(fault_of(api, admin, "create", {S("user"), S("realname=x")}),
            "<class 'roundup.exceptions.UsageError'>:you must provide the \"username\" property.");
  EXPECT_EQ(fault_of(api, admin, "create", {S("issue"), S("title")}),
            "<class 'roundup.exceptions.UsageError'>:argument \"title\" not propname=value");
  EXPECT_EQ(fault_of(api, admin, "create", {S("issue"), S("colour=red")}),
            "<class 'roundup.exceptions.UsageError'>:'colour' is not a property of issue");
  EXPECT_EQ(fault_of(api, admin, "set", {S("issue1"), S("status=nonsense")}),
            "<class 'roundup.exceptions.UsageError'>:property status: 'nonsense' is not a status.");
  EXPECT_EQ(fault_of(api, admin, "set", {S("issue1"), S("status=77")}),
            "<class 'roundup.exceptions.UsageError'>:status has no node 77");
  EXPECT_EQ(fault_of(api, admin, "create", {S("status"), S("name=unread")}),
            "<class 'roundup.exceptions.UsageError'>:node with key \"unread\" exists");
  EXPECT_EQ(fault_of(api, admin, "lookup", {S("user"), S("ghost")}),
            "<class 'KeyError'>:'No key (username) value \"ghost\" for \"user\"'");
  EXPECT_EQ(fault_of(api, admin, "lookup", {S("issue"), S("x")}),
            "<class 'TypeError'>:No key property set for class issue");
  // Not even an admin may probe a password hash by substring or order.
  EXPECT_EQ(fault_of(api, admin, "filter",
                     {S("user"), Value::nil(), Value::structure({{"password", S("$argon2")}})}),
            "<class 'roundup.exceptions.UsageError'>:Field password can not be searched.");
  EXPECT_EQ(fault_of(api, admin, "filter",
                     {S("user"), Value::nil(), Value::structure({}),
                      Value::array({Value::array({S("+"), S("password")})})}),
            "<class 'roundup.exceptions.UsageError'>:Field password can not be sorted on.");
  EXPECT_EQ(fault_of(api, admin, "display", {}),
            "<class 'TypeError'>:display() missing 1 required positional argument: 'designator'");
  EXPECT_EQ(fault_of(api, admin, "display", {Value::integer(1)}),
            "<class 'TypeError'>:display(): designator must be a string");
  EXPECT_EQ(fault_of(api, admin, "action", {S("explode"), S("issue1")}),
            "<class 'Exception'>:action \"explode\" is not supported ");
  EXPECT_EQ(fault_of(api, admin, "action", {S("retire"), S("user1")}),
            "<class 'roundup.hyperdb.HyperdbValueError'>:You may not retire the \"admin\" user");
  // Nothing of the failed writes was stored.
  EXPECT_EQ(api.call(admin, "list", {S("issue"), S("id")}), Value::array({S("1")}));
  EXPECT_EQ(api.call(admin, "display", {S("issue1"), S("status")}),
            Value::structure({{"status", S("2")}}));
}

TEST(XmlrpcApi, PermissionsAsRoundupChecksThem) {
  ClassicTracker t;
  XmlrpcApi api(t.tracker);
  const Actor demo = t.demo();
  EXPECT_EQ(fault_of(api, demo, "display", {S("user1")}),
            "<class 'roundup.exceptions.Unauthorised'>:Permission to view address of user1 denied");
  EXPECT_EQ(api.call(demo, "display", {S("user1"), S("username"), S("realname")}),
            Value::structure({{"realname", Value::nil()}, {"username", S("admin")}}));
  EXPECT_EQ(api.call(demo, "set", {S("user3"), S("realname=Demo Person")}), Value::nil());
  EXPECT_EQ(fault_of(api, demo, "set", {S("user3"), S("roles=Admin")}),
            "<class 'roundup.exceptions.Unauthorised'>:Permission to edit roles of user3 denied");
  EXPECT_EQ(fault_of(api, demo, "set", {S("user1"), S("realname=Mallory")}),
            "<class 'roundup.exceptions.Unauthorised'>:Permission to edit realname of user1 "
            "denied");
  EXPECT_EQ(fault_of(api, demo, "create", {S("status"), S("name=new")}),
            "<class 'roundup.exceptions.Unauthorised'>:Permission to create status denied");
  EXPECT_EQ(fault_of(api, demo, "action", {S("retire"), S("issue1")}),
            "<class 'roundup.exceptions.Unauthorised'>:You do not have permission to retire the "
            "issue class.");
  EXPECT_EQ(api.call(demo, "create", {S("issue"), S("title=from demo")}), S("2"));
  EXPECT_EQ(api.call(t.admin(), "display", {S("issue2"), S("creator")}),
            Value::structure({{"creator", S("3")}}));
  // Filter drops terms on properties the user may not search (address of other users).
  EXPECT_EQ(api.call(demo, "filter",
                     {S("user"), Value::nil(), Value::structure({{"address", S("nomatch")}})}),
            Value::array({S("1"), S("2"), S("3")}));
  EXPECT_EQ(api.call(t.admin(), "filter",
                     {S("user"), Value::nil(), Value::structure({{"address", S("nomatch")}})}),
            Value::array({}));
}

TEST(XmlrpcApi, RetireAndRestoreActions) {
  ClassicTracker t;
  XmlrpcApi api(t.tracker);
  EXPECT_EQ(api.call(t.admin(), "action", {S("retire"), S("issue1")}), Value::nil());
  EXPECT_EQ(api.call(t.admin(), "list", {S("issue"), S("id")}), Value::array({}));
  EXPECT_EQ(api.call(t.admin(), "action", {S("restore"), S("issue1")}), Value::nil());
  EXPECT_EQ(api.call(t.admin(), "list", {S("issue"), S("id")}), Value::array({S("1")}));
}

TEST(XmlrpcApi, MulticallAnswersEachCallOrItsFault) {
  ClassicTracker t;
  XmlrpcApi api(t.tracker);
  const auto entry = [](std::string method, xmlrpc::Array params) {
    return Value::structure(
        {{"methodName", S(std::move(method))}, {"params", Value::array(std::move(params))}});
  };
  const Value out =
      api.call(t.admin(), "system.multicall",
               {Value::array({entry("lookup", {S("status"), S("resolved")}),
                              entry("display", {S("nope1")}), entry("system.multicall", {})})});
  ASSERT_NE(out.if_array(), nullptr);
  ASSERT_EQ(out.if_array()->size(), 3u);
  EXPECT_EQ((*out.if_array())[0], Value::array({S("8")}));
  EXPECT_EQ((*out.if_array())[1],
            Value::structure(
                {{"faultCode", Value::integer(1)},
                 {"faultString", S("<class 'KeyError'>:'There is no class called \"nope\"'")}}));
  EXPECT_EQ(*(*out.if_array())[2].member("faultCode"), Value::integer(1));
  EXPECT_TRUE(XmlrpcApi::writes({"system.multicall", {Value::array({entry("set", {})})}}));
  EXPECT_FALSE(XmlrpcApi::writes({"system.multicall", {Value::array({entry("display", {})})}}));
  EXPECT_TRUE(XmlrpcApi::writes({"create", {}}));
  EXPECT_FALSE(XmlrpcApi::writes({"filter", {}}));
}

TEST(XmlrpcApi, DispatchWritesFaultDocuments) {
  ClassicTracker t;
  XmlrpcApi api(t.tracker);
  const std::string doc = api.dispatch(t.admin(), {"display", {S("issue99")}});
  EXPECT_NE(doc.find("<name>faultCode</name>\n<value><int>1</int></value>"), std::string::npos)
      << doc;
  EXPECT_NE(doc.find("issue has no node 99"), std::string::npos) << doc;
}

}  // namespace
}  // namespace gatehouse::tracker
