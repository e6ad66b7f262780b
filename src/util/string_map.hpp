#pragma once
// An unordered_map keyed by std::string that can be searched with a std::string_view without
// building a std::string (C++20 heterogeneous lookup): no allocation per lookup on the hot path.
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace gatehouse::util {

struct TransparentStringHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view text) const noexcept {
    return std::hash<std::string_view>{}(text);
  }
};

template <class Value>
using StringMap = std::unordered_map<std::string, Value, TransparentStringHash, std::equal_to<>>;

}  // namespace gatehouse::util
