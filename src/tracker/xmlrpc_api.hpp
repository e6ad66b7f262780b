#pragma once
// Roundup's XML-RPC interface (roundup/xmlrpc.py; reference/seed-systems.md A3) over a Tracker:
// schema, list, display, create, set, lookup, filter, action (retire, restore) and
// system.multicall, with Roundup's permission checks, value translation and faults.
#include <string>
#include <string_view>

#include "tracker/tracker.hpp"
#include "tracker/xmlrpc_codec.hpp"

namespace gatehouse::tracker {

class XmlrpcApi {
 public:
  explicit XmlrpcApi(Tracker& tracker) : tracker_(tracker) {}

  // Whether answering `call` writes (then it must run off the I/O threads).
  static bool writes(const xmlrpc::MethodCall& call);
  // Runs one call as `actor` and returns the methodResponse document (a fault for any error:
  // code 1 and "<exception class>:<message>", as Roundup's dispatcher sends them).
  std::string dispatch(const Actor& actor, const xmlrpc::MethodCall& call) const;
  // The result value of one call; throws TrackerError.
  xmlrpc::Value call(const Actor& actor, std::string_view method,
                     const std::vector<xmlrpc::Value>& params) const;

 private:
  xmlrpc::Value translate(const Property& p, const boost::json::value& v) const;
  xmlrpc::Value schema() const;
  xmlrpc::Value list(const Actor& actor, const std::vector<xmlrpc::Value>& params) const;
  xmlrpc::Value display(const Actor& actor, const std::vector<xmlrpc::Value>& params) const;
  xmlrpc::Value create(const Actor& actor, const std::vector<xmlrpc::Value>& params) const;
  xmlrpc::Value set(const Actor& actor, const std::vector<xmlrpc::Value>& params) const;
  xmlrpc::Value lookup(const Actor& actor, const std::vector<xmlrpc::Value>& params) const;
  xmlrpc::Value filter(const Actor& actor, const std::vector<xmlrpc::Value>& params) const;
  xmlrpc::Value action(const Actor& actor, const std::vector<xmlrpc::Value>& params) const;
  xmlrpc::Value multicall(const Actor& actor, const std::vector<xmlrpc::Value>& params) const;
  Changes props_from_args(const ClassDef& c, const std::vector<xmlrpc::Value>& params,
                          std::size_t first) const;

  Tracker& tracker_;
};

// Roundup's splitDesignator: "issue12" → ("issue", "12"); DesignatorError otherwise.
std::pair<std::string, std::string> split_designator(std::string_view designator);

}  // namespace gatehouse::tracker
