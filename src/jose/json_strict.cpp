#include "jose/json_strict.hpp"

#include <cmath>
#include <utility>
#include <vector>

#include <boost/json/array.hpp>
#include <boost/json/basic_parser_impl.hpp>
#include <boost/json/error.hpp>
#include <boost/json/parse_options.hpp>
#include <boost/json/string.hpp>
#include <boost/json/value.hpp>

#include "util/encoding.hpp"

namespace gatehouse::jose {

namespace {

using boost::json::error_code;

// basic_parser handler that builds the DOM, refusing a duplicate member name as soon as its key is
// complete and any top-level value that is not an object. Nesting is bounded by the parser's
// max_depth, so the frame stack is too.
class TreeBuilder {
 public:
  static constexpr std::size_t max_array_size = static_cast<std::size_t>(-1);
  static constexpr std::size_t max_object_size = static_cast<std::size_t>(-1);
  static constexpr std::size_t max_string_size = static_cast<std::size_t>(-1);
  static constexpr std::size_t max_key_size = static_cast<std::size_t>(-1);

  bool on_document_begin(error_code&) { return true; }
  bool on_document_end(error_code&) { return true; }

  bool on_object_begin(error_code&) {
    frames_.emplace_back();
    frames_.back().is_object = true;
    return true;
  }
  bool on_object_end(std::size_t, error_code& ec) {
    boost::json::object done = std::move(frames_.back().object);
    frames_.pop_back();
    if (frames_.empty()) {
      result_ = std::move(done);
      return true;
    }
    return add(boost::json::value(std::move(done)), ec);
  }
  bool on_array_begin(error_code& ec) {
    if (frames_.empty()) return fail(ec, "top level is not a JSON object");
    frames_.emplace_back();
    return true;
  }
  bool on_array_end(std::size_t, error_code& ec) {
    boost::json::array done = std::move(frames_.back().array);
    frames_.pop_back();
    return add(boost::json::value(std::move(done)), ec);
  }

  bool on_key_part(boost::json::string_view part, std::size_t, error_code&) {
    text_.append(part.data(), part.size());
    return true;
  }
  bool on_key(boost::json::string_view part, std::size_t, error_code& ec) {
    text_.append(part.data(), part.size());
    Frame& frame = frames_.back();
    if (frame.object.contains(text_)) return fail(ec, "duplicate member name");
    frame.key = std::move(text_);
    text_.clear();
    return true;
  }
  bool on_string_part(boost::json::string_view part, std::size_t, error_code&) {
    text_.append(part.data(), part.size());
    return true;
  }
  bool on_string(boost::json::string_view part, std::size_t, error_code& ec) {
    text_.append(part.data(), part.size());
    boost::json::value value(boost::json::string(text_.data(), text_.size()));
    text_.clear();
    return add(std::move(value), ec);
  }

  bool on_number_part(boost::json::string_view, error_code&) { return true; }
  bool on_int64(std::int64_t i, boost::json::string_view, error_code& ec) {
    return add(boost::json::value(i), ec);
  }
  bool on_uint64(std::uint64_t u, boost::json::string_view, error_code& ec) {
    return add(boost::json::value(u), ec);
  }
  bool on_double(double d, boost::json::string_view, error_code& ec) {
    // Boost.JSON turns 1e400 into infinity, which it would then serialize as invalid JSON.
    if (!std::isfinite(d)) return fail(ec, "JSON number out of range");
    return add(boost::json::value(d), ec);
  }
  bool on_bool(bool b, error_code& ec) { return add(boost::json::value(b), ec); }
  bool on_null(error_code& ec) { return add(boost::json::value(nullptr), ec); }

  // Comments are off in the parse options; these only satisfy the handler concept.
  bool on_comment_part(boost::json::string_view, error_code&) { return true; }
  bool on_comment(boost::json::string_view, error_code&) { return true; }

  std::optional<boost::json::object>& result() { return result_; }
  const char* reason() const { return reason_; }

 private:
  struct Frame {
    bool is_object = false;
    boost::json::object object;
    boost::json::array array;
    std::string key;
  };

  bool fail(error_code& ec, const char* reason) {
    reason_ = reason;
    ec = boost::json::error::syntax;
    return false;
  }

  bool add(boost::json::value value, error_code& ec) {
    if (frames_.empty()) return fail(ec, "top level is not a JSON object");
    Frame& frame = frames_.back();
    if (frame.is_object) {
      frame.object.emplace(frame.key, std::move(value));
    } else {
      frame.array.push_back(std::move(value));
    }
    return true;
  }

  std::vector<Frame> frames_;
  std::string text_;  // the key or string being assembled from parts
  std::optional<boost::json::object> result_;
  const char* reason_ = nullptr;
};

const char* describe(const error_code& ec) {
  if (ec == boost::json::error::too_deep) return "JSON nested too deeply";
  if (ec == boost::json::error::extra_data) return "data after the JSON object";
  if (ec == boost::json::error::incomplete) return "incomplete JSON";
  if (ec == boost::json::error::illegal_leading_surrogate ||
      ec == boost::json::error::illegal_trailing_surrogate) {
    return "unpaired surrogate escape in a JSON string";
  }
  if (ec == boost::json::error::exponent_overflow) return "JSON number out of range";
  return "invalid JSON";
}

std::optional<boost::json::object> refuse(std::string* error, const char* reason) {
  if (error != nullptr) *error = reason;
  return std::nullopt;
}

}  // namespace

std::optional<boost::json::object> parse_object_strict(std::string_view text, std::string* error,
                                                       std::size_t max_depth,
                                                       std::size_t max_bytes) {
  if (text.size() > max_bytes) return refuse(error, "JSON text too large");
  // Checked up front for a precise reason; the parser would only report a syntax error.
  if (!util::is_valid_utf8(text)) return refuse(error, "JSON text is not valid UTF-8");

  boost::json::parse_options options;
  options.max_depth = max_depth;
  options.allow_comments = false;
  options.allow_trailing_commas = false;
  options.allow_invalid_utf8 = false;
  boost::json::basic_parser<TreeBuilder> parser(options);
  error_code ec;
  const std::size_t consumed = parser.write_some(false, text.data(), text.size(), ec);
  if (ec) {
    const char* reason = parser.handler().reason();
    return refuse(error, reason != nullptr ? reason : describe(ec));
  }
  // write_some stops after the value without an error for some trailing bytes (a NUL, a '/').
  if (consumed != text.size()) return refuse(error, "data after the JSON object");
  if (!parser.handler().result()) return refuse(error, "top level is not a JSON object");
  return std::move(parser.handler().result());
}

}  // namespace gatehouse::jose
