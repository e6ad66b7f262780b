#pragma once
// Read-mostly shared state swapped as immutable snapshots (DESIGN.md "Threads and the hot
// path"): one writer publishes a new value; readers on the I/O threads take no lock and touch no
// shared reference count unless the value changed since their last read on that thread.
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>

namespace gatehouse::util {

template <class T>
class SharedSnapshot {
 public:
  explicit SharedSnapshot(std::shared_ptr<const T> initial = std::make_shared<const T>()) {
    publish(std::move(initial));
  }

  void publish(std::shared_ptr<const T> next) {
    std::lock_guard lock(mutex_);
    value_ = std::move(next);
    version_.store(next_version(), std::memory_order_release);
  }

  // The current value as this thread last saw it. The reference stays valid until this thread
  // calls get() again on any SharedSnapshot<T>.
  const T& get() const {
    thread_local std::uint64_t seen_version = 0;
    thread_local std::shared_ptr<const T> seen;
    if (version_.load(std::memory_order_acquire) != seen_version) {
      std::lock_guard lock(mutex_);
      seen = value_;
      seen_version = version_.load(std::memory_order_relaxed);
    }
    return *seen;
  }

  std::shared_ptr<const T> get_shared() const {
    std::lock_guard lock(mutex_);
    return value_;
  }

 private:
  // Unique across every SharedSnapshot<T> in the process, so a thread's cached value can never
  // be mistaken for another instance's.
  static std::uint64_t next_version() {
    static std::atomic<std::uint64_t> counter{0};
    return counter.fetch_add(1, std::memory_order_relaxed) + 1;
  }

  mutable std::mutex mutex_;
  std::shared_ptr<const T> value_;
  std::atomic<std::uint64_t> version_{0};
};

}  // namespace gatehouse::util
