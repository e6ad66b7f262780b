#include "http/form.hpp"

#include "jose/json_strict.hpp"
#include "util/encoding.hpp"

namespace gatehouse::http {

bool has_media_type(const Request& request, std::string_view type) {
  const auto value = request.header("Content-Type");
  if (!value) return false;
  const std::string_view v = trim(*value);
  return v.size() >= type.size() && iequals(v.substr(0, type.size()), type) &&
         (v.size() == type.size() || v[type.size()] == ';' || v[type.size()] == ' ');
}

std::optional<Params> parse_form(std::string_view body, std::string* error) {
  Params out;
  while (!body.empty()) {
    const auto amp = body.find('&');
    const std::string_view pair = body.substr(0, amp);
    body = amp == std::string_view::npos ? std::string_view() : body.substr(amp + 1);
    if (pair.empty()) continue;
    const auto eq = pair.find('=');
    auto name = util::percent_decode(pair.substr(0, eq));
    auto value = util::percent_decode(eq == std::string_view::npos ? "" : pair.substr(eq + 1));
    if (!name || !value || !util::is_valid_utf8(*name) || !util::is_valid_utf8(*value)) {
      *error = "the form body is not valid percent-encoded UTF-8";
      return std::nullopt;
    }
    if (out.size() >= kMaxFormParams) {
      *error = "the form body has too many parameters";
      return std::nullopt;
    }
    if (!out.emplace(std::move(*name), std::move(*value)).second) {
      *error = "a form parameter is given more than once";
      return std::nullopt;
    }
  }
  return out;
}

std::optional<Params> parse_json_params(std::string_view body, std::string* error) {
  std::string why;
  auto object = jose::parse_object_strict(body, &why);
  if (!object) {
    *error = "the JSON body is not valid: " + why;
    return std::nullopt;
  }
  Params out;
  for (const auto& [key, value] : *object) {
    if (value.is_null()) continue;
    const auto* s = value.if_string();
    if (s == nullptr) {
      *error = "\"" + std::string(key) + "\" must be a string";
      return std::nullopt;
    }
    out.emplace(std::string(key), std::string(*s));
  }
  return out;
}

std::optional<Params> read_params(const Request& request, std::string* error) {
  if (request.body.empty()) return Params{};
  if (has_media_type(request, "application/x-www-form-urlencoded")) {
    return parse_form(request.body, error);
  }
  if (has_media_type(request, "application/json")) return parse_json_params(request.body, error);
  *error = "the body must be application/json or application/x-www-form-urlencoded";
  return std::nullopt;
}

}  // namespace gatehouse::http
