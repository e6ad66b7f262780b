#include "gatehouse/secret.hpp"

#include <openssl/crypto.h>

#include <utility>

namespace gatehouse {

// A move takes the buffer itself (no copy left behind to wipe); the source keeps at most its
// small-string buffer, which is wiped.
Secret::Secret(Secret&& other) noexcept : value_(std::move(other.value_)) {
  other.wipe();
}

Secret& Secret::operator=(const Secret& other) {
  if (this != &other) {
    wipe();
    value_ = other.value_;
  }
  return *this;
}

Secret& Secret::operator=(Secret&& other) noexcept {
  if (this != &other) {
    wipe();
    value_ = std::move(other.value_);
    other.wipe();
  }
  return *this;
}

Secret::~Secret() {
  wipe();
}

void Secret::wipe() noexcept {
  // Wipe the whole capacity: the small-string buffer keeps old bytes after a shrink.
  if (value_.capacity() > 0) OPENSSL_cleanse(value_.data(), value_.capacity());
  value_.clear();
}

bool Secret::equals(std::string_view other) const noexcept {
  return constant_time_equal(value_, other);
}

bool constant_time_equal(std::string_view a, std::string_view b) noexcept {
  // Compare over the longer length so the time depends on lengths only, never on content.
  const std::size_t n = a.size() > b.size() ? a.size() : b.size();
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (std::size_t i = 0; i < n; ++i) {
    const unsigned char x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0;
    const unsigned char y = i < b.size() ? static_cast<unsigned char>(b[i]) : 0;
    diff |= static_cast<unsigned char>(x ^ y);
  }
  // Launder through a volatile so the compiler cannot turn the loop into an early exit.
  volatile unsigned char result = diff;
  return result == 0;
}

}  // namespace gatehouse
