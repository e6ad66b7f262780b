// The strict JSON object reader behind JOSE headers, claims sets and JWKs (RFC 8259, with
// duplicate member names refused as RFC 8725 §3.10 advises).
#include "jose/json_strict.hpp"

#include <gtest/gtest.h>

#include <string>

namespace gatehouse::jose {
namespace {

using namespace std::string_literals;

std::string refusal(const std::string& text, std::size_t max_depth = 16,
                    std::size_t max_bytes = 65536) {
  std::string error;
  const auto parsed = parse_object_strict(text, &error, max_depth, max_bytes);
  EXPECT_FALSE(parsed) << text.substr(0, 80);
  EXPECT_FALSE(error.empty());
  return error;
}

TEST(JoseJsonStrict, ParsesAnObjectWithEveryKindOfValue) {
  std::string error;
  const auto parsed = parse_object_strict(
      R"({"s":"x\u00e9\n","i":-5,"u":18446744073709551615,"d":1.5,"t":true,"f":false,"n":null,)"
      R"("a":[1,[2],{"k":"v"}],"o":{"p":{}}})",
      &error);
  ASSERT_TRUE(parsed) << error;
  const boost::json::object& o = *parsed;
  EXPECT_EQ(o.at("s").as_string(), "x\xc3\xa9\n");
  EXPECT_EQ(o.at("i").as_int64(), -5);
  EXPECT_EQ(o.at("u").as_uint64(), 18446744073709551615u);
  EXPECT_EQ(o.at("d").as_double(), 1.5);
  EXPECT_TRUE(o.at("t").as_bool());
  EXPECT_FALSE(o.at("f").as_bool());
  EXPECT_TRUE(o.at("n").is_null());
  ASSERT_EQ(o.at("a").as_array().size(), 3u);
  EXPECT_EQ(o.at("a").as_array()[2].as_object().at("k").as_string(), "v");
  EXPECT_TRUE(o.at("o").as_object().at("p").as_object().empty());
  EXPECT_TRUE(error.empty());
}

TEST(JoseJsonStrict, KeepsMemberOrderAndAllowsSurroundingWhitespace) {
  const auto parsed = parse_object_strict(" \r\n\t{\"b\":1,\r\n \"a\":2} \n", nullptr);
  ASSERT_TRUE(parsed);
  ASSERT_EQ(parsed->size(), 2u);
  EXPECT_EQ(parsed->begin()->key(), "b");
}

TEST(JoseJsonStrict, ParsesKeysAndStringsWithEscapesAndEmbeddedNul) {
  const auto parsed = parse_object_strict(R"({"a\"b":"\u0000\ud83d\ude00\\"})", nullptr);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->at("a\"b").as_string(), "\0\xf0\x9f\x98\x80\\"s);
}

TEST(JoseJsonStrict, RefusesDuplicateMembersAtTheTop) {
  EXPECT_EQ(refusal(R"({"alg":"HS256","alg":"none"})"), "duplicate member name");
  EXPECT_EQ(refusal(R"({"a":1,"b":2,"a":1})"), "duplicate member name");
}

TEST(JoseJsonStrict, RefusesDuplicatesHiddenByEscapes) {
  EXPECT_EQ(refusal(R"({"alg":"HS256","\u0061lg":"none"})"), "duplicate member name");
}

TEST(JoseJsonStrict, RefusesDuplicateMembersAtAnyDepth) {
  EXPECT_EQ(refusal(R"({"o":{"x":1,"x":2}})"), "duplicate member name");
  EXPECT_EQ(refusal(R"({"a":[1,{"k":[{"y":1,"y":1}]}]})"), "duplicate member name");
}

TEST(JoseJsonStrict, AllowsTheSameNameInDifferentObjects) {
  EXPECT_TRUE(parse_object_strict(R"({"x":{"x":{"x":1}},"y":[{"x":1},{"x":2}]})", nullptr));
}

TEST(JoseJsonStrict, RefusesATopLevelThatIsNotAnObject) {
  for (const std::string text : {"[]", "[{}]", "\"x\"", "1", "-1.5", "true", "null"}) {
    EXPECT_EQ(refusal(text), "top level is not a JSON object") << text;
  }
}

TEST(JoseJsonStrict, CountsNestingFromTheTopLevelObject) {
  std::string nested = "{}";
  for (int depth = 1; depth < 16; ++depth) nested = "{\"a\":" + nested + "}";
  EXPECT_TRUE(parse_object_strict(nested, nullptr));  // 16 levels
  EXPECT_EQ(refusal("{\"a\":" + nested + "}"), "JSON nested too deeply");
  EXPECT_TRUE(parse_object_strict(R"({"a":[[1]]})", nullptr, 3));
  EXPECT_EQ(refusal(R"({"a":[[1]]})", 2), "JSON nested too deeply");
}

TEST(JoseJsonStrict, RefusesDeepNestingWithoutRecursingIntoIt) {
  EXPECT_EQ(refusal(std::string(10000, '[')), "top level is not a JSON object");
  EXPECT_EQ(refusal("{\"a\":" + std::string(10000, '[')), "JSON nested too deeply");
  std::string objects;
  for (int i = 0; i < 10000; ++i) objects += "{\"a\":";
  EXPECT_EQ(refusal(objects), "JSON nested too deeply");
}

TEST(JoseJsonStrict, RefusesInputOverTheSizeLimitBeforeParsing) {
  const std::string big = "{\"a\":\"" + std::string(65536, 'x') + "\"}";
  EXPECT_EQ(refusal(big), "JSON text too large");
  EXPECT_EQ(refusal("{}", 16, 1), "JSON text too large");
  EXPECT_TRUE(parse_object_strict("{}", nullptr, 16, 2));
}

TEST(JoseJsonStrict, RefusesInvalidUtf8) {
  EXPECT_EQ(refusal("{\"a\":\"\xff\"}"), "JSON text is not valid UTF-8");
  EXPECT_EQ(refusal("{\"a\":\"\xc0\xaf\"}"), "JSON text is not valid UTF-8");      // overlong
  EXPECT_EQ(refusal("{\"a\":\"\xed\xa0\x80\"}"), "JSON text is not valid UTF-8");  // surrogate
  EXPECT_EQ(refusal("{\"\xe2\x82\":1}"), "JSON text is not valid UTF-8");          // truncated
}

TEST(JoseJsonStrict, RefusesUnpairedSurrogateEscapes) {
  refusal(R"({"a":"\ud800"})");
  refusal(R"({"a":"\udc00"})");
  refusal(R"({"a":"\ud800\u0041"})");
}

TEST(JoseJsonStrict, RefusesNumbersBeyondTheRangeOfADouble) {
  EXPECT_EQ(refusal(R"({"a":1e400})"), "JSON number out of range");
  EXPECT_EQ(refusal(R"({"a":[-9e346]})"), "JSON number out of range");
  EXPECT_TRUE(
      parse_object_strict(R"({"a":1.7976931348623157e308,"b":5e-324,"c":1e-400})", nullptr));
}

TEST(JoseJsonStrict, RefusesTrailingData) {
  EXPECT_EQ(refusal("{} x"), "data after the JSON object");
  EXPECT_EQ(refusal("{}{}"), "data after the JSON object");
  EXPECT_EQ(refusal("{}\0"s), "data after the JSON object");
}

TEST(JoseJsonStrict, RefusesExtensionsAndTruncation) {
  refusal(R"({"a":1,})");
  refusal(R"({"a":[1,]})");
  refusal("{/* c */\"a\":1}");
  refusal("{\"a\":1} // c");
  refusal(R"({'a':1})");
  refusal(R"({"a":NaN})");
  refusal(R"({"a":01})");
  refusal("{\"a\":\"\x01\"}");  // unescaped control character
  EXPECT_EQ(refusal(R"({"a":)"), "incomplete JSON");
  EXPECT_EQ(refusal(""), "incomplete JSON");
}

TEST(JoseJsonStrict, ReasonsNeverQuoteTheInput) {
  for (const std::string text : {R"({"SECRET":1,"SECRET":2})", R"({"a":"SECRET",})",
                                 R"(["SECRET"])", "{\"SECRET\xff\":1}"}) {
    EXPECT_EQ(refusal(text).find("SECRET"), std::string::npos) << text;
  }
}

TEST(JoseJsonStrict, AcceptsANullErrorPointer) {
  EXPECT_FALSE(parse_object_strict("[", nullptr));
  EXPECT_FALSE(parse_object_strict("{\"a\":1,\"a\":2}", nullptr));
}

}  // namespace
}  // namespace gatehouse::jose
