// The XML-RPC codec (http://xmlrpc.com/spec.md plus <nil/> and <i8>): requests exactly as
// Python 3.11's xmlrpc.client.dumps(..., allow_none=True) writes them for the Roundup session in
// doc/xmlrpc.txt, responses compared byte for byte with Python's output, and the attacks an XML
// parser facing the network must survive.
#include "tracker/xmlrpc_codec.hpp"

#include <gtest/gtest.h>

#include <string>
#include <variant>

namespace gatehouse::tracker::xmlrpc {
namespace {

using namespace std::string_literals;

MethodCall parsed(const std::string& xml, const Limits& limits = {}) {
  auto result = parse_method_call(xml, limits);
  if (const auto* error = std::get_if<ParseError>(&result)) {
    ADD_FAILURE() << error->message << "\n" << xml.substr(0, 200);
    return {};
  }
  return std::get<MethodCall>(std::move(result));
}

std::string refusal(const std::string& xml, const Limits& limits = {}) {
  const auto result = parse_method_call(xml, limits);
  const auto* error = std::get_if<ParseError>(&result);
  if (error == nullptr) {
    ADD_FAILURE() << "accepted: " << xml.substr(0, 200);
    return {};
  }
  EXPECT_FALSE(error->message.empty());
  EXPECT_LT(error->message.size(), 100u);
  return error->message;
}

// A call with one parameter given as the XML of its <value>.
std::string call_with(const std::string& value_xml) {
  return "<?xml version='1.0'?>\n<methodCall>\n<methodName>t</methodName>\n<params>\n<param>\n" +
         value_xml + "\n</param>\n</params>\n</methodCall>\n";
}

Value one_value(const std::string& value_xml) {
  const MethodCall call = parsed(call_with(value_xml));
  if (call.params.size() != 1) {
    ADD_FAILURE() << "expected one param";
    return {};
  }
  return call.params[0];
}

Value str(const char* s) {
  return Value::string(s);
}

// --- Python 3.11 xmlrpc.client.dumps(params, method, allow_none=True), verbatim. ------------

TEST(XmlrpcCodec, ParsesPythonListCall) {
  const MethodCall call = parsed(
      "<?xml version='1.0'?>\n<methodCall>\n<methodName>list</methodName>\n<params>\n<param>\n"
      "<value><string>issue</string></value>\n</param>\n<param>\n<value><string>id</string></value>"
      "\n</param>\n</params>\n</methodCall>\n");
  EXPECT_EQ(call.method, "list");
  EXPECT_EQ(call.params, (std::vector<Value>{str("issue"), str("id")}));
}

TEST(XmlrpcCodec, ParsesPythonCallWithoutParameters) {
  const MethodCall call = parsed(
      "<?xml version='1.0'?>\n<methodCall>\n<methodName>schema</methodName>\n<params>\n</params>\n"
      "</methodCall>\n");
  EXPECT_EQ(call.method, "schema");
  EXPECT_TRUE(call.params.empty());
  // The spec lets <params> be left out.
  EXPECT_EQ(parsed("<methodCall><methodName>schema</methodName></methodCall>").method, "schema");
}

TEST(XmlrpcCodec, ParsesPythonCreateCall) {
  const MethodCall call = parsed(
      "<?xml version='1.0'?>\n<methodCall>\n<methodName>create</methodName>\n<params>\n<param>\n"
      "<value><string>issue</string></value>\n</param>\n<param>\n<value><string>title='another "
      "bug'</string></value>\n</param>\n<param>\n<value><string>status=2</string></value>\n"
      "</param>\n</params>\n</methodCall>\n");
  EXPECT_EQ(call.method, "create");
  EXPECT_EQ(call.params,
            (std::vector<Value>{str("issue"), str("title='another bug'"), str("status=2")}));
}

TEST(XmlrpcCodec, ParsesPythonFilterCallWithNone) {
  const MethodCall call = parsed(
      "<?xml version='1.0'?>\n<methodCall>\n<methodName>filter</methodName>\n<params>\n<param>\n"
      "<value><string>user</string></value>\n</param>\n<param>\n<value><nil/></value></param>\n"
      "<param>\n<value><struct>\n<member>\n<name>username</name>\n<value><string>adm</string>"
      "</value>\n</member>\n</struct></value>\n</param>\n</params>\n</methodCall>\n");
  EXPECT_EQ(call.method, "filter");
  ASSERT_EQ(call.params.size(), 3u);
  EXPECT_EQ(call.params[0], str("user"));
  EXPECT_TRUE(call.params[1].is_nil());
  ASSERT_NE(call.params[2].member("username"), nullptr);
  EXPECT_EQ(*call.params[2].member("username"), str("adm"));
}

TEST(XmlrpcCodec, ParsesPythonFilterCallWithLists) {
  const MethodCall call = parsed(
      "<?xml version='1.0'?>\n<methodCall>\n<methodName>filter</methodName>\n<params>\n<param>\n"
      "<value><string>user</string></value>\n</param>\n<param>\n<value><array><data>\n<value>"
      "<string>1</string></value>\n<value><string>2</string></value>\n</data></array></value>\n"
      "</param>\n<param>\n<value><struct>\n<member>\n<name>username</name>\n<value><string>adm"
      "</string></value>\n</member>\n</struct></value>\n</param>\n</params>\n</methodCall>\n");
  ASSERT_EQ(call.params.size(), 3u);
  EXPECT_EQ(call.params[1], Value::array({str("1"), str("2")}));
  EXPECT_EQ(call.params[2], Value::structure({{"username", str("adm")}}));

  const MethodCall empty = parsed(
      "<?xml version='1.0'?>\n<methodCall>\n<methodName>filter</methodName>\n<params>\n<param>\n"
      "<value><string>user</string></value>\n</param>\n<param>\n<value><array><data>\n</data>"
      "</array></value>\n</param>\n<param>\n<value><struct>\n<member>\n<name>username</name>\n"
      "<value><string>adm</string></value>\n</member>\n</struct></value>\n</param>\n</params>\n"
      "</methodCall>\n");
  ASSERT_EQ(empty.params.size(), 3u);
  EXPECT_EQ(empty.params[1], Value::array({}));
}

TEST(XmlrpcCodec, ParsesPythonMulticall) {
  const MethodCall call = parsed(
      "<?xml version='1.0'?>\n<methodCall>\n<methodName>system.multicall</methodName>\n<params>\n"
      "<param>\n<value><array><data>\n<value><struct>\n<member>\n<name>methodName</name>\n<value>"
      "<string>list</string></value>\n</member>\n<member>\n<name>params</name>\n<value><array>"
      "<data>\n<value><string>user</string></value>\n</data></array></value>\n</member>\n</struct>"
      "</value>\n<value><struct>\n<member>\n<name>methodName</name>\n<value><string>lookup</string>"
      "</value>\n</member>\n<member>\n<name>params</name>\n<value><array><data>\n<value><string>"
      "user</string></value>\n<value><string>admin</string></value>\n</data></array></value>\n"
      "</member>\n</struct></value>\n</data></array></value>\n</param>\n</params>\n</"
      "methodCall>\n");
  EXPECT_EQ(call.method, "system.multicall");
  ASSERT_EQ(call.params.size(), 1u);
  EXPECT_EQ(
      call.params[0],
      Value::array(
          {Value::structure({{"methodName", str("list")}, {"params", Value::array({str("user")})}}),
           Value::structure({{"methodName", str("lookup")},
                             {"params", Value::array({str("user"), str("admin")})}})}));
}

TEST(XmlrpcCodec, ParsesPythonScalarsOfEveryType) {
  // dumps((True, 5, -1.5, 1e100, 0.1, b'\x00\xffhello'*20, DateTime('20260101T12:00:00'),
  //        'a<b>&c', None), 't', allow_none=True)
  const MethodCall call = parsed(
      "<?xml version='1.0'?>\n<methodCall>\n<methodName>t</methodName>\n<params>\n<param>\n<value>"
      "<boolean>1</boolean></value>\n</param>\n<param>\n<value><int>5</int></value>\n</param>\n"
      "<param>\n<value><double>-1.5</double></value>\n</param>\n<param>\n<value><double>1e+100"
      "</double></value>\n</param>\n<param>\n<value><double>0.1</double></value>\n</param>\n"
      "<param>\n<value><base64>\nAP9oZWxsbwD/aGVsbG8A/2hlbGxvAP9oZWxsbwD/aGVsbG8A/2hlbGxvAP9oZWxs"
      "bwD/aGVsbG8A\n/2hlbGxvAP9oZWxsbwD/aGVsbG8A/2hlbGxvAP9oZWxsbwD/aGVsbG8A/2hlbGxvAP9oZWxsbwD/"
      "\naGVsbG8A/2hlbGxvAP9oZWxsbwD/aGVsbG8=\n</base64></value>\n</param>\n<param>\n<value>"
      "<dateTime.iso8601>20260101T12:00:00</dateTime.iso8601></value>\n</param>\n<param>\n<value>"
      "<string>a&lt;b&gt;&amp;c</string></value>\n</param>\n<param>\n<value><nil/></value>"
      "</param>\n</params>\n</methodCall>\n");
  std::string bytes;
  for (int i = 0; i < 20; ++i) bytes += "\x00\xffhello"s;
  EXPECT_EQ(call.params, (std::vector<Value>{
                             Value::boolean(true), Value::integer(5), Value::real(-1.5),
                             Value::real(1e100), Value::real(0.1), Value::base64(bytes),
                             Value::date_time("20260101T12:00:00"), str("a<b>&c"), Value::nil()}));
}

// --- Values. ---------------------------------------------------------------------------------

TEST(XmlrpcCodec, ValueWithoutTypeIsAStringKeptVerbatim) {
  EXPECT_EQ(one_value("<value>plain text</value>"), str("plain text"));
  EXPECT_EQ(one_value("<value>  </value>"), str("  "));
  EXPECT_EQ(one_value("<value/>"), str(""));
  EXPECT_EQ(one_value("<value><string> padded\n</string></value>"), str(" padded\n"));
  EXPECT_EQ(one_value("<value><string/></value>"), str(""));
}

TEST(XmlrpcCodec, DecodesReferencesAndNormalisesLineEnds) {
  EXPECT_EQ(one_value("<value>&lt;&gt;&amp;&apos;&quot;&#233;&#x1F600;&#13;</value>"),
            str("<>&'\"\xC3\xA9\xF0\x9F\x98\x80\r"));
  EXPECT_EQ(one_value("<value>a\r\nb\rc</value>"), str("a\nb\nc"));  // XML 1.0 §2.11
  EXPECT_EQ(one_value("<value>caf\xC3\xA9</value>"), str("caf\xC3\xA9"));
}

TEST(XmlrpcCodec, AcceptsCdataLiterally) {
  EXPECT_EQ(one_value("<value><string>a<![CDATA[<b>&amp;]]>c</string></value>"), str("a<b>&amp;c"));
}

TEST(XmlrpcCodec, ParsesIntegers) {
  EXPECT_EQ(one_value("<value><i4>-2147483648</i4></value>"), Value::integer(-2147483648LL));
  EXPECT_EQ(one_value("<value><int>+2147483647</int></value>"), Value::integer(2147483647));
  EXPECT_EQ(one_value("<value><int> 7 </int></value>"), Value::integer(7));
  EXPECT_EQ(one_value("<value><i8>1099511627776</i8></value>"), Value::integer(1099511627776LL));
  EXPECT_EQ(refusal(call_with("<value><int>2147483648</int></value>")),
            "integer out of 32-bit range");
  EXPECT_EQ(refusal(call_with("<value><i4>-2147483649</i4></value>")),
            "integer out of 32-bit range");
  for (const char* bad : {"abc", "", "1.5", "0x10", "--1", "+-1", "1 2", "99999999999999999999"}) {
    EXPECT_EQ(refusal(call_with("<value><int>"s + bad + "</int></value>")), "bad integer") << bad;
  }
  EXPECT_EQ(refusal(call_with("<value><i8>9223372036854775808</i8></value>")), "bad integer");
}

TEST(XmlrpcCodec, ParsesBooleansStrictly) {
  EXPECT_EQ(one_value("<value><boolean>0</boolean></value>"), Value::boolean(false));
  for (const char* bad : {"true", "2", " 1", "", "01"}) {
    EXPECT_EQ(refusal(call_with("<value><boolean>"s + bad + "</boolean></value>")), "bad boolean");
  }
}

TEST(XmlrpcCodec, ParsesDoubles) {
  EXPECT_EQ(one_value("<value><double>-12.214</double></value>"), Value::real(-12.214));
  EXPECT_EQ(one_value("<value><double>1e-05</double></value>"), Value::real(1e-05));
  EXPECT_EQ(one_value("<value><double>.5</double></value>"), Value::real(0.5));
  for (const char* bad :
       {"inf", "-inf", "nan", "1e400", "abc", "", "1.5x", "0x1p3", "- 1", "+-1", "--1"}) {
    EXPECT_EQ(refusal(call_with("<value><double>"s + bad + "</double></value>")), "bad double")
        << bad;
  }
}

TEST(XmlrpcCodec, ParsesBase64Strictly) {
  EXPECT_EQ(one_value("<value><base64>aGk=</base64></value>"), Value::base64("hi"));
  EXPECT_EQ(one_value("<value><base64>\n</base64></value>"), Value::base64(""));
  for (const char* bad : {"aGk", "aG=k", "a!Gk", "aGl=", "aGk=aGk="}) {
    EXPECT_EQ(refusal(call_with("<value><base64>"s + bad + "</base64></value>")), "bad base64")
        << bad;
  }
}

TEST(XmlrpcCodec, ParsesDateTimes) {
  EXPECT_EQ(one_value("<value><dateTime.iso8601> 19980717T14:08:55 </dateTime.iso8601></value>"),
            Value::date_time("19980717T14:08:55"));
  EXPECT_EQ(refusal(call_with("<value><dateTime.iso8601>today at noon</dateTime.iso8601></value>")),
            "bad dateTime.iso8601");
  EXPECT_EQ(refusal(call_with("<value><dateTime.iso8601></dateTime.iso8601></value>")),
            "bad dateTime.iso8601");
}

TEST(XmlrpcCodec, KeepsStructMemberOrderAndRefusesDuplicates) {
  const Value v = one_value(
      "<value><struct><member><name>z</name><value>1</value></member><member><name>a</name>"
      "<value><i4>2</i4></value></member></struct></value>");
  EXPECT_EQ(v, Value::structure({{"z", str("1")}, {"a", Value::integer(2)}}));
  EXPECT_EQ(v.member("missing"), nullptr);
  EXPECT_EQ(refusal(call_with("<value><struct><member><name>a</name><value>1</value></member>"
                              "<member><name>b</name><value>2</value></member><member><name>a"
                              "</name><value>3</value></member></struct></value>")),
            "duplicate member name");
  EXPECT_EQ(refusal(call_with("<value><struct><member><value>1</value><name>a</name></member>"
                              "</struct></value>")),
            "a member must hold a name and then a value");
}

TEST(XmlrpcCodec, RefusesMalformedStructure) {
  EXPECT_EQ(refusal("<methodResponse><params/></methodResponse>"),
            "root element is not methodCall");
  EXPECT_EQ(refusal("<methodCall><params/></methodCall>"), "missing methodName");
  EXPECT_EQ(refusal("<methodCall><methodName>a b</methodName></methodCall>"), "bad methodName");
  EXPECT_EQ(refusal("<methodCall><methodName></methodName></methodCall>"), "bad methodName");
  EXPECT_EQ(
      refusal("<methodCall><methodName>" + std::string(257, 'a') + "</methodName></methodCall>"),
      "bad methodName");
  EXPECT_EQ(parsed("<methodCall><methodName>a.b:c/d_E9</methodName></methodCall>").method,
            "a.b:c/d_E9");
  refusal("<methodCall><methodName>x</methodName></methodCall>trailing");
  refusal("<methodCall><methodName>x</methodName></methodCall><methodCall/>");
  refusal("junk<methodCall><methodName>x</methodName></methodCall>");
  refusal("<methodCall><methodName>x</methodName>");
  refusal("<methodCall><methodName>x</methodName><params></methodCall>");
  refusal("");
  refusal("<methodCall id='1'><methodName>x</methodName></methodCall>");
  refusal(call_with("<value><unknown>1</unknown></value>"));
  refusal(call_with("<value><string>1</string><string>2</string></value>"));
  refusal(call_with("<value>text<string>2</string></value>"));
  refusal(call_with("<value><string>a<b/></string></value>"));
  refusal(call_with("<value><array><value>1</value></array></value>"));
  refusal(call_with("<value><nil>x</nil></value>"));
  refusal(
      "<methodCall><methodName>x</methodName><params><param>stray<value/></param></params>"
      "</methodCall>");
  refusal(
      "<methodCall><methodName>x</methodName><params><param><value/><value/></param>"
      "</params></methodCall>");
  refusal("<methodCall><methodName>x</methodName><params/><extra/></methodCall>");
  refusal(call_with("<value>a ]]> b</value>"));
  refusal(call_with("<value>a & b</value>"));
}

TEST(XmlrpcCodec, ChecksTheXmlDeclaration) {
  const std::string body = "<methodCall><methodName>x</methodName></methodCall>";
  parsed("<?xml version=\"1.0\" encoding=\"utf-8\" standalone=\"yes\"?>" + body);
  parsed("<?xml version='1.0' encoding='US-ASCII'?>" + body);
  parsed("\xEF\xBB\xBF<?xml version='1.0'?>" + body);
  EXPECT_EQ(refusal("<?xml version='1.0' encoding='ISO-8859-1'?>" + body),
            "unsupported encoding (only UTF-8 is accepted)");
  EXPECT_EQ(refusal("<?xml version='1.1'?>" + body), "unsupported XML version");
  refusal("<?xml version='1.0' version='1.0'?>" + body);
  refusal(" <?xml version='1.0'?>" + body);
  refusal(body + "<?xml version='1.0'?>");
}

TEST(XmlrpcCodec, RoundTripsEveryType) {
  MethodCall call;
  call.method = "everything";
  call.params = {Value::nil(),
                 Value::boolean(true),
                 Value::integer(-42),
                 Value::integer(1LL << 40),
                 Value::real(0.1),
                 Value::real(-0.0),
                 Value::real(123456789.125),
                 Value::real(1e-300),
                 str("tab\tnl\ncr\r <&> \xE2\x82\xAC 'q' \"d\""),
                 Value::date_time("20260101T12:00:00"),
                 Value::base64(std::string("\0\1\2\xff", 4) + std::string(200, 'x')),
                 Value::array({Value::nil(), Value::array({}), Value::structure({})}),
                 Value::structure({{"b", Value::integer(1)}, {"a", Value::nil()}, {"", str("")}})};
  EXPECT_EQ(parsed(method_call(call)), call);
}

// --- Writing, compared with Python 3.11's xmlrpc.client.dumps(..., methodresponse=True). ----

TEST(XmlrpcCodec, WritesResponsesAsPythonDoes) {
  // dumps(({'b':1,'a':[None, 'x']},), methodresponse=True, allow_none=True)
  EXPECT_EQ(method_response(Value::structure(
                {{"b", Value::integer(1)}, {"a", Value::array({Value::nil(), str("x")})}})),
            "<?xml version='1.0'?>\n<methodResponse>\n<params>\n<param>\n<value><struct>\n"
            "<member>\n<name>b</name>\n<value><int>1</int></value>\n</member>\n<member>\n"
            "<name>a</name>\n<value><array><data>\n<value><nil/></value><value><string>x</string>"
            "</value>\n</data></array></value>\n</member>\n</struct></value>\n</param>\n</params>\n"
            "</methodResponse>\n");
  // dumps(('1',), methodresponse=True, allow_none=True)
  EXPECT_EQ(method_response(str("1")),
            "<?xml version='1.0'?>\n<methodResponse>\n<params>\n<param>\n<value><string>1</string>"
            "</value>\n</param>\n</params>\n</methodResponse>\n");
}

TEST(XmlrpcCodec, WritesFaultsAsPythonDoes) {
  // dumps(Fault(401, 'Invalid login <x> & y'), methodresponse=True)
  EXPECT_EQ(fault_response(401, "Invalid login <x> & y"),
            "<?xml version='1.0'?>\n<methodResponse>\n<fault>\n<value><struct>\n<member>\n<name>"
            "faultCode</name>\n<value><int>401</int></value>\n</member>\n<member>\n<name>"
            "faultString</name>\n<value><string>Invalid login &lt;x&gt; &amp; y</string></value>\n"
            "</member>\n</struct></value>\n</fault>\n</methodResponse>\n");
}

TEST(XmlrpcCodec, WritesCallsAsPythonDoes) {
  MethodCall call{
      "t",
      {Value::boolean(true), Value::integer(5), Value::real(-1.5), Value::real(1e100),
       Value::real(0.1), Value::date_time("20260101T12:00:00"), str("a<b>&c"), Value::nil()}};
  EXPECT_EQ(method_call(call),
            "<?xml version='1.0'?>\n<methodCall>\n<methodName>t</methodName>\n<params>\n<param>\n"
            "<value><boolean>1</boolean></value>\n</param>\n<param>\n<value><int>5</int></value>\n"
            "</param>\n<param>\n<value><double>-1.5</double></value>\n</param>\n<param>\n<value>"
            "<double>1e+100</double></value>\n</param>\n<param>\n<value><double>0.1</double>"
            "</value>\n</param>\n<param>\n<value><dateTime.iso8601>20260101T12:00:00"
            "</dateTime.iso8601></value>\n</param>\n<param>\n<value><string>a&lt;b&gt;&amp;c"
            "</string></value>\n</param>\n<param>\n<value><nil/></value></param>\n</params>\n"
            "</methodCall>\n");
  std::string bytes;
  for (int i = 0; i < 20; ++i) bytes += "\x00\xffhello"s;
  EXPECT_EQ(method_response(Value::base64(bytes)),
            "<?xml version='1.0'?>\n<methodResponse>\n<params>\n<param>\n<value><base64>\n"
            "AP9oZWxsbwD/aGVsbG8A/2hlbGxvAP9oZWxsbwD/aGVsbG8A/2hlbGxvAP9oZWxsbwD/aGVsbG8A\n"
            "/2hlbGxvAP9oZWxsbwD/aGVsbG8A/2hlbGxvAP9oZWxsbwD/aGVsbG8A/2hlbGxvAP9oZWxsbwD/\n"
            "aGVsbG8A/2hlbGxvAP9oZWxsbwD/aGVsbG8=\n</base64></value>\n</param>\n</params>\n"
            "</methodResponse>\n");
}

TEST(XmlrpcCodec, WritesDoublesAsPythonRepr) {
  const auto written = [](double d) {
    const std::string xml = method_response(Value::real(d));
    const auto begin = xml.find("<double>") + 8;
    return xml.substr(begin, xml.find("</double>") - begin);
  };
  // repr() in Python 3.11.
  EXPECT_EQ(written(1.0), "1.0");
  EXPECT_EQ(written(-0.0), "-0.0");
  EXPECT_EQ(written(0.0001), "0.0001");
  EXPECT_EQ(written(0.00001), "1e-05");
  EXPECT_EQ(written(1e15), "1000000000000000.0");
  EXPECT_EQ(written(1e16), "1e+16");
  EXPECT_EQ(written(123.456), "123.456");
  EXPECT_EQ(written(1.5e300), "1.5e+300");
  EXPECT_EQ(written(2.0 / 3), "0.6666666666666666");
}

TEST(XmlrpcCodec, WritesIntegersBeyond32BitsAsI8) {
  EXPECT_NE(method_response(Value::integer(1LL << 40)).find("<value><i8>1099511627776</i8>"),
            std::string::npos);
}

TEST(XmlrpcCodec, ReplacesCharactersXmlCannotCarry) {
  EXPECT_EQ(method_response(str("a\x01"
                                "b\xff"
                                "c\r\xEF\xBF\xBE")),
            "<?xml version='1.0'?>\n<methodResponse>\n<params>\n<param>\n<value><string>"
            "a\xEF\xBF\xBD"
            "b\xEF\xBF\xBD"
            "c&#13;\xEF\xBF\xBD</string></value>\n</param>\n"
            "</params>\n</methodResponse>\n");
}

// --- Attacks. --------------------------------------------------------------------------------

TEST(XmlrpcCodecAttack, RefusesBillionLaughs) {
  EXPECT_EQ(refusal(R"(<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<methodCall><methodName>x</methodName><params><param><value>&lol3;</value></param></params></methodCall>)"),
            "DOCTYPE and markup declarations are not allowed");
}

TEST(XmlrpcCodecAttack, RefusesExternalEntitiesAndDtds) {
  const std::string body =
      "<methodCall><methodName>x</methodName><params><param><value>&e;</value></param></params>"
      "</methodCall>";
  EXPECT_EQ(refusal("<!DOCTYPE x [<!ENTITY e SYSTEM \"file:///etc/passwd\">]>" + body),
            "DOCTYPE and markup declarations are not allowed");
  EXPECT_EQ(refusal("<!DOCTYPE methodCall SYSTEM \"http://127.0.0.1:1/evil.dtd\">" + body),
            "DOCTYPE and markup declarations are not allowed");
  EXPECT_EQ(refusal("<!DOCTYPE x [<!ENTITY % p SYSTEM \"file:///etc/passwd\"> %p;]>" + body),
            "DOCTYPE and markup declarations are not allowed");
  EXPECT_EQ(refusal("<!ENTITY e \"x\">" + body), "DOCTYPE and markup declarations are not allowed");
  // Without a declaration the reference is simply undefined.
  EXPECT_EQ(refusal(body), "entity references other than the predefined ones are not allowed");
  EXPECT_EQ(refusal(call_with("<value>&foo;</value>")),
            "entity references other than the predefined ones are not allowed");
  EXPECT_EQ(refusal(call_with("<value>&#0;</value>")), "bad character reference");
  EXPECT_EQ(refusal(call_with("<value>&#xD800;</value>")), "bad character reference");
  EXPECT_EQ(refusal(call_with("<value>&#x110000;</value>")), "bad character reference");
  // A DOCTYPE hidden in a comment or CDATA is just text; one after them is refused.
  EXPECT_EQ(one_value("<!-- <!DOCTYPE x> --><value><![CDATA[<!DOCTYPE x>]]></value>"),
            str("<!DOCTYPE x>"));
  refusal("<!-- c --><!DOCTYPE x>" + body);
}

TEST(XmlrpcCodecAttack, RefusesProcessingInstructions) {
  const std::string body = "<methodCall><methodName>x</methodName></methodCall>";
  EXPECT_EQ(refusal("<?xml-stylesheet href='x'?>" + body),
            "processing instructions are not allowed");
  EXPECT_EQ(refusal("<?xml version='1.0'?><?php x?>" + body),
            "processing instructions are not allowed");
  EXPECT_EQ(refusal("<methodCall><?x y?><methodName>x</methodName></methodCall>"),
            "processing instructions are not allowed");
}

TEST(XmlrpcCodecAttack, RefusesDeepNesting) {
  std::string deep;
  for (int i = 0; i < 10000; ++i) deep += "<value><array><data>";
  deep += "<value/>";
  for (int i = 0; i < 10000; ++i) deep += "</data></array></value>";
  EXPECT_EQ(refusal(call_with(deep)), "values nested too deeply");

  std::string struct_deep;
  for (int i = 0; i < 10000; ++i) struct_deep += "<value><struct><member><name>a</name>";
  struct_deep += "<value/>";
  for (int i = 0; i < 10000; ++i) struct_deep += "</member></struct></value>";
  EXPECT_EQ(refusal(call_with(struct_deep)), "values nested too deeply");

  // 250,000 nested elements pugixml has to build and free without recursion.
  std::string elements;
  for (int i = 0; i < 250000; ++i) elements += "<a>";
  for (int i = 0; i < 250000; ++i) elements += "</a>";
  refusal(call_with("<value><string>" + elements + "</string></value>"));

  // The limit itself: 64 levels pass, 65 do not.
  const auto nested = [](int levels) {
    std::string s;
    for (int i = 0; i < levels; ++i) s += "<value><array><data>";
    s += "<value/>";
    for (int i = 0; i < levels; ++i) s += "</data></array></value>";
    return call_with(s);
  };
  parsed(nested(64));
  EXPECT_EQ(refusal(nested(65)), "values nested too deeply");
}

TEST(XmlrpcCodecAttack, RefusesOversizedInputBeforeParsing) {
  const std::string padding(Limits{}.max_bytes, ' ');
  const std::string body = "<methodCall><methodName>x</methodName></methodCall>";
  const std::string exact = body + padding.substr(body.size());
  ASSERT_EQ(exact.size(), Limits{}.max_bytes);
  parsed(exact);
  EXPECT_EQ(refusal(exact + " "), "request too large");
  Limits small;
  small.max_bytes = 10;
  EXPECT_EQ(refusal(body, small), "request too large");
}

TEST(XmlrpcCodecAttack, RefusesTooManyValues) {
  std::string many;
  for (int i = 0; i < 11; ++i) many += "<value/>";
  Limits limits;
  limits.max_values = 11;  // the array itself and ten items
  EXPECT_EQ(refusal(call_with("<value><array><data>" + many + "</data></array></value>"), limits),
            "too many values");
}

TEST(XmlrpcCodecAttack, RefusesBadEncodings) {
  const std::string body = "<methodCall><methodName>x</methodName></methodCall>";
  EXPECT_EQ(refusal(call_with("<value>\xC3</value>")), "request is not valid UTF-8");
  EXPECT_EQ(refusal(call_with("<value>\xC0\xAF</value>")),
            "request is not valid UTF-8");  // overlong
  EXPECT_EQ(refusal(call_with("<value>\xED\xA0\x80</value>")), "request is not valid UTF-8");
  EXPECT_EQ(refusal(call_with("<value>\xF4\x90\x80\x80</value>")), "request is not valid UTF-8");
  EXPECT_EQ(refusal(call_with("<value>a\x01z</value>")),
            "request contains a character XML 1.0 does not allow");
  EXPECT_EQ(refusal(call_with("<value>a\0z</value>"s)),
            "request contains a character XML 1.0 does not allow");
  EXPECT_EQ(refusal("\xFF\xFE<\0m\0"s), "request is not valid UTF-8");  // UTF-16 BOM
  EXPECT_EQ(refusal("<?xml version='1.0' encoding='UTF-16'?>" + body),
            "unsupported encoding (only UTF-8 is accepted)");
}

TEST(XmlrpcCodecAttack, ErrorsDoNotEchoTheInput) {
  const std::string secret(5000, 'S');
  for (const std::string& xml :
       {call_with("<value><" + secret + ">1</" + secret + "></value>"),
        call_with("<value><int>" + secret + "</int></value>"),
        "<methodCall><methodName>" + secret + "!</methodName></methodCall>", "<" + secret + "/>"}) {
    EXPECT_EQ(refusal(xml).find("SSS"), std::string::npos);
  }
}

}  // namespace
}  // namespace gatehouse::tracker::xmlrpc
