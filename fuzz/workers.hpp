// Threads that outlive the inputs. Under the sanitizers, starting a thread
// costs more than most inputs (clone, the sanitizer's thread context, its
// stack, shadow and alternate signal stack), so a threaded harness keeps a
// few workers for the whole run and hands each one job per input.
#pragma once

#include <pthread.h>

#include <barrier>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <mutex>
#include <utility>

#include "check.hpp"

namespace wrt::platform::fuzz {

// A job that has not returned after this long is a hang: a finding.
inline constexpr auto kPatience = std::chrono::seconds(20);

// One thread that runs one job at a time for the rest of the process (see
// workers() below), on a small stack: under ASan a trap's siglongjmp
// unpoisons the whole stack of the thread, which for the default 8 MiB
// stack means remapping 1 MiB of shadow on every trap.
class Worker {
 public:
  Worker() {
    pthread_attr_t attributes;
    FUZZ_CHECK(pthread_attr_init(&attributes) == 0);
    FUZZ_CHECK(pthread_attr_setstacksize(&attributes, kStackBytes) == 0);
    FUZZ_CHECK(pthread_attr_setdetachstate(&attributes, PTHREAD_CREATE_DETACHED) == 0);
    pthread_t thread;
    FUZZ_CHECK(pthread_create(&thread, &attributes, &Worker::main, this) == 0);
    pthread_attr_destroy(&attributes);
  }
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // Starts `job` on this worker's thread and returns at once. The previous
  // job must have returned.
  void start(std::function<void()> job) {
    {
      const std::lock_guard lock(mutex_);
      FUZZ_CHECK(!job_);
      job_ = std::move(job);
    }
    changed_.notify_all();
  }

  // Whether the last job started has returned; never blocks on the job.
  bool idle() {
    const std::lock_guard lock(mutex_);
    return !job_;
  }

  // Returns once the last job started has returned; a job still running
  // after kPatience is a finding.
  void finish() {
    std::unique_lock lock(mutex_);
    FUZZ_CHECK(changed_.wait_for(lock, kPatience, [this] { return !job_; }));
  }

 private:
  static constexpr std::size_t kStackBytes = 256 * 1024;

  static void* main(void* self) {
    static_cast<Worker*>(self)->loop();
    return nullptr;
  }

  void loop() {
    std::unique_lock lock(mutex_);
    for (;;) {
      changed_.wait(lock, [this] { return static_cast<bool>(job_); });
      lock.unlock();
      job_();  // start() does not touch job_ while it is set
      lock.lock();
      job_ = nullptr;
      changed_.notify_all();
    }
  }

  std::mutex mutex_;
  std::condition_variable changed_;
  std::function<void()> job_;  // set while a job is pending or running
};

// The harness's `count` workers, started on first use. Never destroyed: a
// worker stuck in a job (a hang libFuzzer is about to report) would make
// joining it at exit hang too.
template <std::size_t count>
Worker* workers() {
  static auto* const started = new Worker[count];
  return started;
}

// Runs job(0), ..., job(n - 1) at once, starting together: job(0) on the
// calling thread (one hand-off less: under load every hand-off waits for
// the scheduler), job(t) on workers[t - 1]. Returns when all have returned.
template <typename Job>
void run_together(Worker* workers, std::size_t n, Job job) {
  std::barrier start(static_cast<std::ptrdiff_t>(n));
  for (std::size_t t = 1; t < n; ++t)
    workers[t - 1].start([&start, &job, t] {
      start.arrive_and_wait();
      job(t);
    });
  start.arrive_and_wait();
  job(0);
  for (std::size_t t = 1; t < n; ++t) workers[t - 1].finish();
}

}  // namespace wrt::platform::fuzz
