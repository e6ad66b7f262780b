// Fuzzes the XML-RPC request parser. Properties checked on every input:
// - a refusal always says why, briefly;
// - an accepted call, written back with method_call(), parses to an equal MethodCall (values
//   parsed from XML are always writable: finite doubles, valid XML characters);
// - method_response() of each parameter and fault_response() never crash.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

#include "tracker/xmlrpc_codec.hpp"

using namespace gatehouse::tracker::xmlrpc;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const auto result = parse_method_call(input);
  if (const auto* error = std::get_if<ParseError>(&result)) {
    if (error->message.empty() || error->message.size() > 100) __builtin_trap();
    return 0;
  }
  const MethodCall& call = std::get<MethodCall>(result);
  const std::string written = method_call(call);
  Limits limits;
  limits.max_bytes = written.size();
  const auto again = parse_method_call(written, limits);
  const auto* reparsed = std::get_if<MethodCall>(&again);
  if (reparsed == nullptr || !(*reparsed == call)) __builtin_trap();
  for (const Value& param : call.params) (void)method_response(param);
  (void)fault_response(1, call.method);
  return 0;
}
