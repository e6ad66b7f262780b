#pragma once
// XML-RPC codec (http://xmlrpc.com/spec.md) with the extensions Python's xmlrpc.client sends and
// accepts: <nil/> (allow_none=True) and <i8>. Pure functions: no I/O, no exceptions for bad
// input. parse_method_call reads an untrusted request body; method_response, fault_response and
// method_call write byte for byte what Python 3.11's xmlrpc.client.dumps writes for the same
// values (Python quirks included: no newline after <nil/>).
//
// XML is read by pugixml with no DTD processing and no entity expansion: any markup declaration
// (<!DOCTYPE, <!ENTITY, ...) is refused before parsing, and references other than the five
// predefined entities and character references are refused while decoding text (XML 1.0 §4.1,
// §4.6). CDATA sections are accepted (XML 1.0 §2.7; Python's expat accepts them) and their
// content is taken literally, joined with the text around it.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace gatehouse::tracker::xmlrpc {

struct Nil {
  bool operator==(const Nil&) const = default;
};

// <dateTime.iso8601>: the text as sent (spec: "19980717T14:08:55"), surrounding whitespace
// removed as Python's DateTime.decode does; no time zone is implied.
struct DateTime {
  std::string iso8601;
  bool operator==(const DateTime&) const = default;
};

// <base64>: the decoded bytes.
struct Binary {
  std::string bytes;
  bool operator==(const Binary&) const = default;
};

struct Value;
using Array = std::vector<Value>;
using Member = std::pair<std::string, Value>;
using Struct = std::vector<Member>;  // in document order; member names are unique

enum class Kind { nil, boolean, integer, real, string, date_time, base64, array, structure };

struct Value {
  // The alternatives in the order of Kind.
  using Storage =
      std::variant<Nil, bool, std::int64_t, double, std::string, DateTime, Binary, Array, Struct>;
  Storage data;

  Value() = default;  // nil
  explicit Value(Storage storage) : data(std::move(storage)) {}

  static Value nil() { return Value(); }
  static Value boolean(bool b) { return Value(Storage(std::in_place_index<1>, b)); }
  static Value integer(std::int64_t i) { return Value(Storage(std::in_place_index<2>, i)); }
  static Value real(double d) { return Value(Storage(std::in_place_index<3>, d)); }
  static Value string(std::string s) {
    return Value(Storage(std::in_place_index<4>, std::move(s)));
  }
  static Value date_time(std::string iso8601) {
    return Value(Storage(DateTime{std::move(iso8601)}));
  }
  static Value base64(std::string bytes) { return Value(Storage(Binary{std::move(bytes)})); }
  static Value array(Array items) { return Value(Storage(std::move(items))); }
  static Value structure(Struct members) { return Value(Storage(std::move(members))); }

  Kind kind() const noexcept { return static_cast<Kind>(data.index()); }
  bool is_nil() const noexcept { return kind() == Kind::nil; }
  // Each returns the held value, or nullptr when the value is of another kind.
  const bool* if_boolean() const noexcept { return std::get_if<bool>(&data); }
  const std::int64_t* if_integer() const noexcept { return std::get_if<std::int64_t>(&data); }
  const double* if_real() const noexcept { return std::get_if<double>(&data); }
  const std::string* if_string() const noexcept { return std::get_if<std::string>(&data); }
  const DateTime* if_date_time() const noexcept { return std::get_if<DateTime>(&data); }
  const Binary* if_base64() const noexcept { return std::get_if<Binary>(&data); }
  const Array* if_array() const noexcept { return std::get_if<Array>(&data); }
  const Struct* if_struct() const noexcept { return std::get_if<Struct>(&data); }
  // The member named `name` of a struct; nullptr when absent or when this is not a struct.
  const Value* member(std::string_view name) const noexcept;

  // Structural equality; member order matters, doubles compare with ==.
  bool operator==(const Value& other) const;
};

struct MethodCall {
  std::string method;
  std::vector<Value> params;
  bool operator==(const MethodCall&) const = default;
};

struct ParseError {
  std::string message;  // short English; never quotes the input
};

struct Limits {
  std::size_t max_bytes = 1 << 20;  // whole request body, checked before parsing
  std::size_t max_depth = 64;       // nested arrays and structs; a top-level array is depth 1
  std::size_t max_values = 100000;  // <value> elements in the whole call
};

// Parses an XML-RPC request body (spec "Request format"). Accepts UTF-8 (an XML declaration may
// name UTF-8 or US-ASCII; a UTF-8 byte order mark is skipped), comments, CDATA sections,
// whitespace between elements, a missing <params>, <i4>, <int> (32-bit), <i8> (64-bit), and a
// <value> without a type element as a string (spec). Refuses: a DOCTYPE or any other markup
// declaration, processing instructions other than a leading XML declaration, entity references
// other than &lt; &gt; &amp; &apos; &quot; and character references to XML Chars, invalid UTF-8
// or characters outside XML 1.0 §2.2 Char, attributes, unknown elements, text where elements
// belong, anything after the root element but whitespace and comments, a root other than
// methodCall, a methodName that is empty, over 256 bytes or has characters outside
// [A-Za-z0-9_.:/], malformed scalars (integers out of range, booleans other than 0 and 1,
// doubles that are not finite decimal numbers, base64 that is not RFC 4648 §4 with padding apart
// from whitespace), duplicate struct member names, and input beyond `limits`.
std::variant<MethodCall, ParseError> parse_method_call(std::string_view xml,
                                                       const Limits& limits = {});

// A successful methodResponse carrying `result` (spec "Response format").
std::string method_response(const Value& result);
// A fault methodResponse: {faultCode: code, faultString: message} (spec "Fault example").
std::string fault_response(int code, std::string_view message);
// A methodCall, as a client sends it.
std::string method_call(const MethodCall& call);

// Serialization notes. Strings, member names and method names are written as UTF-8 text with &,
// < and > escaped and \r written as &#13; (a literal CR would reach the peer as LF, XML 1.0
// §2.11). Bytes XML 1.0 cannot carry — invalid UTF-8, control characters other than tab, LF and
// CR, U+FFFE and U+FFFF — are each replaced with U+FFFD rather than failing the whole response:
// the values come from the tracker's own data, and a lossy character beats an unreadable reply.
// Integers within 32 bits are written as <int>, others as <i8>. Doubles use the shortest
// representation that reads back exactly; infinities and NaN are written as Python writes them
// (inf, -inf, nan), which parse_method_call refuses.

}  // namespace gatehouse::tracker::xmlrpc
