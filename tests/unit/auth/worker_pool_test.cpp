// The bounded worker pool for slow work: tasks run, a full queue refuses, the destructor drains.
// Workers are held with promises the test releases, so every case is deterministic.
#include "auth/worker_pool.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <set>
#include <thread>
#include <vector>

namespace gatehouse::auth {
namespace {

using namespace std::chrono_literals;

// Occupies one worker until release() (or destruction): submit() returns once the worker is
// inside the task, so nothing about scheduling is left to chance.
class Blocker {
 public:
  explicit Blocker(WorkerPool& pool) {
    std::promise<void> started;
    auto started_future = started.get_future();
    auto release = release_.get_future().share();
    const bool accepted = pool.try_submit(
        [started = std::make_shared<std::promise<void>>(std::move(started)), release] {
          started->set_value();
          release.wait();
        });
    EXPECT_TRUE(accepted);
    if (accepted) {
      EXPECT_EQ(started_future.wait_for(30s), std::future_status::ready);
    }
  }
  ~Blocker() { release(); }
  void release() {
    if (!released_) {
      released_ = true;
      release_.set_value();
    }
  }

 private:
  std::promise<void> release_;
  bool released_ = false;
};

TEST(WorkerPool, RunsSubmittedTasks) {
  WorkerPool pool(2, 16);
  std::vector<std::promise<int>> results(10);
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(pool.try_submit([&results, i] { results[i].set_value(i * i); }));
  }
  for (int i = 0; i < 10; ++i) {
    auto f = results[i].get_future();
    ASSERT_EQ(f.wait_for(30s), std::future_status::ready);
    EXPECT_EQ(f.get(), i * i);
  }
}

TEST(WorkerPool, RunsTasksOnWorkerThreads) {
  WorkerPool pool(1, 4);
  std::promise<std::thread::id> ran_on;
  ASSERT_TRUE(pool.try_submit([&ran_on] { ran_on.set_value(std::this_thread::get_id()); }));
  auto f = ran_on.get_future();
  ASSERT_EQ(f.wait_for(30s), std::future_status::ready);
  EXPECT_NE(f.get(), std::this_thread::get_id());
}

TEST(WorkerPool, UsesAllItsThreads) {
  // Three tasks that each wait until all three are running can only finish on three threads.
  constexpr int kThreads = 3;
  WorkerPool pool(kThreads, 8);
  std::atomic<int> running{0};
  std::promise<void> all_running;
  auto all_running_future = all_running.get_future().share();
  std::vector<std::promise<std::thread::id>> ids(kThreads);
  for (int i = 0; i < kThreads; ++i) {
    ASSERT_TRUE(pool.try_submit([&, i] {
      if (++running == kThreads) all_running.set_value();
      all_running_future.wait();
      ids[i].set_value(std::this_thread::get_id());
    }));
  }
  std::set<std::thread::id> distinct;
  for (auto& p : ids) {
    auto f = p.get_future();
    ASSERT_EQ(f.wait_for(30s), std::future_status::ready);
    distinct.insert(f.get());
  }
  EXPECT_EQ(distinct.size(), static_cast<std::size_t>(kThreads));
}

TEST(WorkerPool, TrySubmitReturnsFalseWhenTheQueueIsFull) {
  WorkerPool pool(1, 2);
  EXPECT_EQ(pool.capacity(), 2u);
  Blocker blocker(pool);  // the only worker is busy; the queue is empty
  EXPECT_EQ(pool.queued(), 0u);

  std::atomic<int> ran{0};
  EXPECT_TRUE(pool.try_submit([&ran] { ++ran; }));
  EXPECT_TRUE(pool.try_submit([&ran] { ++ran; }));
  EXPECT_EQ(pool.queued(), 2u);
  bool refused_ran = false;
  EXPECT_FALSE(pool.try_submit([&refused_ran] { refused_ran = true; }));
  EXPECT_FALSE(pool.try_submit([&refused_ran] { refused_ran = true; }));
  EXPECT_EQ(pool.queued(), 2u);

  // Once the worker is free, the queued tasks run, and there is room again.
  blocker.release();
  std::promise<void> done;
  // Retry until the queue has drained enough to accept this one: every refusal is because the
  // two queued tasks are still waiting, which ends as soon as the worker takes them.
  auto marker = [&done] { done.set_value(); };
  while (!pool.try_submit(marker)) std::this_thread::yield();
  auto f = done.get_future();
  ASSERT_EQ(f.wait_for(30s), std::future_status::ready);
  EXPECT_EQ(ran.load(), 2);
  EXPECT_FALSE(refused_ran);
}

TEST(WorkerPool, ZeroCapacityRefusesEverything) {
  WorkerPool pool(1, 0);
  bool ran = false;
  EXPECT_FALSE(pool.try_submit([&ran] { ran = true; }));
  EXPECT_FALSE(ran);
}

TEST(WorkerPool, NonPositiveThreadCountStillRunsTasks) {
  WorkerPool pool(0, 4);
  std::promise<void> done;
  ASSERT_TRUE(pool.try_submit([&done] { done.set_value(); }));
  EXPECT_EQ(done.get_future().wait_for(30s), std::future_status::ready);
}

TEST(WorkerPool, DestructorRunsQueuedTasks) {
  std::atomic<int> ran{0};
  {
    WorkerPool pool(1, 8);
    Blocker blocker(pool);
    for (int i = 0; i < 5; ++i) ASSERT_TRUE(pool.try_submit([&ran] { ++ran; }));
    EXPECT_EQ(pool.queued(), 5u);
    EXPECT_EQ(ran.load(), 0);
    blocker.release();
    // ~WorkerPool: runs what is queued, then joins.
  }
  EXPECT_EQ(ran.load(), 5);
}

TEST(WorkerPool, DestructorRunsTasksQueuedBehindABlockedWorkerReleasedLater) {
  // The pool starts shutting down while its worker is still busy; the queue is drained anyway.
  std::atomic<int> ran{0};
  std::promise<void> release;
  auto release_future = release.get_future().share();
  std::promise<void> started;
  auto started_future = started.get_future();
  std::thread releaser;
  {
    WorkerPool pool(1, 8);
    ASSERT_TRUE(pool.try_submit([&started, release_future] {
      started.set_value();
      release_future.wait();
    }));
    ASSERT_EQ(started_future.wait_for(30s), std::future_status::ready);
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(pool.try_submit([&ran] { ++ran; }));
    // Release the worker from another thread once the destructor has begun (it blocks in join
    // until then); whichever comes first, the queued tasks must all have run afterwards.
    releaser = std::thread([&release] { release.set_value(); });
  }
  releaser.join();
  EXPECT_EQ(ran.load(), 3);
}

}  // namespace
}  // namespace gatehouse::auth
