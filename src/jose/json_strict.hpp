#pragma once
// A strict JSON reader for JOSE headers, JWT claims sets and JWKs. RFC 7515 §5.2 step 4 and
// RFC 7519 §7.2 step 4 allow a parser to accept duplicate member names (keeping the last one);
// RFC 8725 §3.10 warns that parsers then disagree about what a token says, so duplicates are
// refused here at every depth. boost::json::parse keeps one of the duplicates silently, so the
// tree is built from boost::json::basic_parser events instead.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include <boost/json/object.hpp>

namespace gatehouse::jose {

// Parses `text` as exactly one RFC 8259 JSON text whose top level is an object. Refuses duplicate
// member names at any depth, more than `max_depth` nested objects and arrays (the top-level
// object counts as one), input longer than `max_bytes`, invalid UTF-8 (RFC 8259 §8.1) including
// unpaired surrogate escapes, numbers beyond the range of a double, comments, trailing commas
// and anything after the value except whitespace. On failure returns nullopt and, when `error` is
// non-null, sets it to a short English reason that never quotes the input.
std::optional<boost::json::object> parse_object_strict(std::string_view text, std::string* error,
                                                       std::size_t max_depth = 16,
                                                       std::size_t max_bytes = 65536);

}  // namespace gatehouse::jose
