// Fuzzes htdigest files: every line goes through parse_htdigest_line. Each entry must satisfy the
// parser's contract (non-empty user and realm without ':' or control characters, lower-case hex
// HA1 of the algorithm's length) and survive format_htdigest_line -> parse_htdigest_line
// unchanged; lines over 4096 bytes must be refused.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

#include "stores/htdigest_store.hpp"

namespace {

using gatehouse::Ha1Algorithm;
using gatehouse::stores::HtdigestEntry;

bool clean_field(std::string_view text) {
  if (text.empty()) return false;
  for (unsigned char c : text) {
    if (c < 0x20 || c == 0x7f || c == ':') return false;
  }
  return true;
}

bool lower_hex(std::string_view text, std::size_t length) {
  if (text.size() != length) return false;
  for (char c : text) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view rest(reinterpret_cast<const char*>(data), size);
  while (!rest.empty()) {
    const std::size_t newline = rest.find('\n');
    const std::string_view line = rest.substr(0, newline);
    rest.remove_prefix(newline == std::string_view::npos ? rest.size() : newline + 1);

    const auto parsed = gatehouse::stores::parse_htdigest_line(line);
    if (const auto* error = std::get_if<std::string>(&parsed)) {
      if (error->empty()) __builtin_trap();
      continue;
    }
    const auto* entry = std::get_if<HtdigestEntry>(&parsed);
    if (entry == nullptr) continue;
    if (line.size() > 4096) __builtin_trap();
    if (!clean_field(entry->username) || !clean_field(entry->realm)) __builtin_trap();
    const std::size_t length = entry->algorithm == Ha1Algorithm::md5 ? 32 : 64;
    if (!lower_hex(entry->ha1, length)) __builtin_trap();

    const std::string formatted = gatehouse::stores::format_htdigest_line(*entry);
    const auto again = gatehouse::stores::parse_htdigest_line(formatted);
    const auto* back = std::get_if<HtdigestEntry>(&again);
    if (back == nullptr || back->username != entry->username || back->realm != entry->realm ||
        back->algorithm != entry->algorithm || back->ha1 != entry->ha1) {
      __builtin_trap();
    }
  }
  return 0;
}
