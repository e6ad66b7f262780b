#pragma once
// Request bodies of the token endpoints: application/x-www-form-urlencoded (RFC 6749 §3.2,
// HTML forms) and flat JSON objects of strings. Pure functions, fuzzed (fuzz/form_fuzz.cpp).
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "gatehouse/http.hpp"

namespace gatehouse::http {

using Params = std::map<std::string, std::string, std::less<>>;

inline constexpr std::size_t kMaxFormParams = 32;

// name=value pairs separated by '&', percent-decoded ('+' is a space), valid UTF-8. A name given
// twice (RFC 6749 §3.2), more than kMaxFormParams pairs or a bad escape is an error.
std::optional<Params> parse_form(std::string_view body, std::string* error);

// A strict JSON object (no duplicate names) whose members are strings (null members are
// skipped; any other type is an error naming the member).
std::optional<Params> parse_json_params(std::string_view body, std::string* error);

// True when Content-Type is `type` (ignoring case and parameters such as charset).
bool has_media_type(const Request& request, std::string_view type);

// The body's string parameters, as its Content-Type says (form or JSON; anything else is an
// error). An empty body has none.
std::optional<Params> read_params(const Request& request, std::string* error);

}  // namespace gatehouse::http
