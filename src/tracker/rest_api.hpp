#pragma once
// Roundup's REST interface (roundup/rest.py; reference/seed-systems.md A3) over a Tracker, as a
// pure function of the request: no sockets, no threads, so the unit tests drive it directly.
//
//   /rest/                          GET (versions and links), OPTIONS
//   /rest/summary                   GET (issues active during the last week, by status)
//   /rest/data                      GET (the classes the actor may View), OPTIONS
//   /rest/data/CLASS                GET (search, sort, page), POST (create), OPTIONS
//   /rest/data/CLASS/ID             GET (ID or KEYPROP=VALUE), PUT, PATCH, DELETE (retire), OPTIONS
//   /rest/data/CLASS/ID/PROPERTY    GET, PUT, PATCH, DELETE (unset), OPTIONS
//
// Contracts, as Roundup answers them:
// - The actor needs "Rest Access", else 403 {"error": {"status": 403, "msg": "Forbidden."}}.
// - Success is {"data": ...}, failure {"error": {"status": N, "msg": "..."}} with TrackerError's
//   rest_status(); bad input is a 4xx, never a 5xx (a failing store is a 503 with Retry-After).
// - JSON is pretty-printed with an indent of 4 and Python's separators, ending in a newline;
//   `@pretty=false` (query or body) makes it one line. 204 answers have no body.
// - Every answer carries an Allow header: Roundup's default "OPTIONS, GET, POST, PUT, DELETE,
//   PATCH", narrowed by OPTIONS, by a collection GET and by a 405; a 201 has none.
// - PUT, PATCH and DELETE on an item or property need the item's current etag in If-Match or in
//   an `@etag` field (a "-gzip"-style suffix is ignored), else 412; the etag is also checked
//   against the item's version at write time, so a concurrent change still yields 412.
// - Bodies are application/json (an object; lists for multilinks, native numbers and booleans)
//   or application/x-www-form-urlencoded; others are 415, malformed JSON 400. Query fields and
//   body fields together make the input, body first.
// - CORS and the preflight are the guard's business, not this module's.
#include <optional>
#include <string>
#include <string_view>

#include "gatehouse/http.hpp"
#include "tracker/tracker.hpp"
#include "util/clock.hpp"

namespace gatehouse::tracker {

// What the REST interface reads from an HTTP request. The views must outlive handle().
struct RestRequest {
  std::string_view method;                          // as sent; HEAD is answered as GET
  std::string_view path;                            // after ".../rest": "", "/", "/data/issue/1"
  std::string_view query;                           // raw, without the '?'
  std::string_view body;                            //
  std::optional<std::string_view> content_type;     // Content-Type
  std::optional<std::string_view> if_match;         // If-Match
  std::optional<std::string_view> method_override;  // X-HTTP-Method-Override (POST only)
  std::optional<std::string_view> accept;           // Accept
};

class RestApi {
 public:
  // `base_url` is the tracker's address ending in '/', e.g. "https://host/demo/" (Roundup's
  // TRACKER_WEB); links are base_url + "rest/...". `etag_key` keys the etag HMAC (see
  // derive_etag_key). `clock` dates /rest/summary's week.
  RestApi(Tracker& tracker, std::string base_url, std::string etag_key,
          const Clock& clock = system_clock());

  // Whether answering `request` may write (then it must run off the I/O threads): POST, PUT,
  // PATCH and DELETE.
  static bool writes(const RestRequest& request);
  // The etag HMAC key for a server secret: HMAC-SHA-256(secret, "gatehouse tracker etags v1").
  static std::string derive_etag_key(std::string_view server_secret);

  // Answers one request as `actor`. Never throws for anything the request contains.
  Response handle(const Actor& actor, const RestRequest& request) const;

  // The item's etag, quoted: "\"<64 hex>\"", HMAC-SHA-256 under the etag key over the tracker,
  // class, id, version, retired flag and stored values. It changes whenever the item does and
  // reveals nothing about it.
  std::string etag(const Item& item) const;

 private:
  struct Call;  // one request being answered (rest_api.cpp)

  Response dispatch(Call& call) const;
  boost::json::value describe() const;
  boost::json::value data_index(const Call& call) const;
  boost::json::value summary(const Call& call) const;
  boost::json::value get_collection(Call& call, const ClassDef& c) const;
  boost::json::value post_collection(Call& call, const ClassDef& c) const;
  boost::json::value get_element(Call& call, const ClassDef& c, const std::string& id) const;
  boost::json::value put_element(Call& call, const ClassDef& c, const std::string& id) const;
  boost::json::value patch_element(Call& call, const ClassDef& c, const std::string& id) const;
  boost::json::value delete_element(Call& call, const ClassDef& c, const std::string& id) const;
  boost::json::value get_attribute(Call& call, const ClassDef& c, const std::string& id,
                                   const std::string& property) const;
  boost::json::value put_attribute(Call& call, const ClassDef& c, const std::string& id,
                                   const std::string& property) const;
  boost::json::value patch_attribute(Call& call, const ClassDef& c, const std::string& id,
                                     const std::string& property) const;
  boost::json::value delete_attribute(Call& call, const ClassDef& c, const std::string& id,
                                      const std::string& property) const;

  // Roundup's format_item: the viewable `properties` of `item` (dotted ones follow links), links
  // as {"id", "link"} (plus the label with verbose >= 2).
  boost::json::object format_item(const Call& call, const Item& item,
                                  const std::vector<std::string>& properties, int verbose) const;
  // A stored value as Roundup's JSON shows a hyperdb value (dates as text, links as ids,
  // passwords as a placeholder).
  boost::json::value plain_value(const Property& p, const boost::json::value& stored) const;
  // An input value (text, a JSON list, number or boolean) to the stored form; null when empty.
  boost::json::value to_stored(const ClassDef& c, const Property& p,
                               const boost::json::value& input) const;
  // Roundup's props_from_args: the input's property fields in stored form.
  Changes props_from_args(const Call& call, const ClassDef& c, bool skip_protected) const;
  // PreconditionFailed unless the input carries the item's current etag.
  ItemPtr require_etag(const Call& call, const ClassDef& c, const std::string& id) const;
  // Tracker::set at the version whose etag the client showed; the changed properties as
  // {name: plain value}.
  boost::json::object apply_set(const Call& call, const ClassDef& c, const ItemPtr& item,
                                const Changes& changes) const;
  std::vector<std::string> transitive_props(const Call& call, const ClassDef& c,
                                            const std::vector<std::string>& names) const;
  // The ids of the live items of `c` whose dotted property path `path` matches `term`.
  FilterTerm resolve_transitive(const ClassDef& c, const std::vector<std::string>& path,
                                FilterTerm term) const;

  Tracker& tracker_;
  std::string base_url_;   // ends in '/'
  std::string data_path_;  // base_url_ + "rest/data"
  std::string etag_key_;
  const Clock& clock_;
};

// A Roundup error envelope, pretty-printed: for answers made outside RestApi (the route's
// failure renderer).
Response rest_error_response(int status, std::string_view message);

}  // namespace gatehouse::tracker
