#pragma once
// A secret value (password, API key, token). It has no stream operator, is wiped when it dies,
// and compares only in constant time, so it cannot end up in a log or leak through timing.
#include <string>
#include <string_view>

namespace gatehouse {

class Secret {
 public:
  Secret() = default;
  explicit Secret(std::string_view value) : value_(value) {}
  Secret(const Secret& other) : value_(other.value_) {}
  Secret(Secret&& other) noexcept;
  Secret& operator=(const Secret& other);
  Secret& operator=(Secret&& other) noexcept;
  ~Secret();

  // The raw bytes, for hashing and verification only.
  std::string_view reveal() const noexcept { return value_; }
  bool empty() const noexcept { return value_.empty(); }
  std::size_t size() const noexcept { return value_.size(); }
  // Constant time in the length of `other` and of the secret.
  bool equals(std::string_view other) const noexcept;

 private:
  void wipe() noexcept;
  std::string value_;
};

// Constant-time byte comparison; different lengths compare unequal without early exit on content.
bool constant_time_equal(std::string_view a, std::string_view b) noexcept;

}  // namespace gatehouse
