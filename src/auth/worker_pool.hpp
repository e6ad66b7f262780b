#pragma once
// A fixed set of threads with a bounded queue for slow work (password hashes), so the I/O
// threads never block and a flood of hash requests is refused instead of queued without bound.
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace gatehouse::auth {

class WorkerPool {
 public:
  WorkerPool(int threads, std::size_t queue_capacity);
  ~WorkerPool();  // runs what is queued, then joins
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // False (and `task` is not run) when queue_capacity tasks are already waiting.
  bool try_submit(std::function<void()> task);
  std::size_t queued() const;
  std::size_t capacity() const noexcept { return capacity_; }

 private:
  void run();
  const std::size_t capacity_;
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace gatehouse::auth
