#pragma once
// Injected time, so tests can move it.
#include <atomic>
#include <chrono>
#include <cstdint>

namespace gatehouse {

class Clock {
 public:
  virtual ~Clock() = default;
  // Unix time in milliseconds.
  virtual std::int64_t now_ms() const noexcept = 0;
  std::int64_t now_s() const noexcept { return now_ms() / 1000; }
};

class SystemClock final : public Clock {
 public:
  std::int64_t now_ms() const noexcept override {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
};

// The process-wide system clock, for collaborators constructed without an explicit one.
inline const Clock& system_clock() noexcept {
  static const SystemClock clock;
  return clock;
}

class FakeClock final : public Clock {
 public:
  explicit FakeClock(std::int64_t start_ms = 1'700'000'000'000) : now_(start_ms) {}
  std::int64_t now_ms() const noexcept override { return now_.load(); }
  void advance(std::chrono::milliseconds d) noexcept { now_ += d.count(); }

 private:
  std::atomic<std::int64_t> now_;
};

}  // namespace gatehouse
