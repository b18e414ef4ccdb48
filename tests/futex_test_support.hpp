// Helpers for the futex tests: waiters on their own threads, and a way to
// know, without sleeping, that a waiter really sleeps in its backend.
#pragma once

#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <fstream>
#include <functional>
#include <optional>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

#include "deadline_test_support.hpp"
#include "futex/futex_backend.hpp"
#include "futex/futex_core.hpp"
#ifdef WRT_PLATFORM_FAULT_INJECTION
#include "os/fault_injection.hpp"
#endif

namespace wrt::platform::futex_testing {

using namespace std::chrono_literals;
using detail::PortableFutexBackend;

using testing_deadline::eventually;
using testing_deadline::expect_eventually;
using testing_deadline::kPatience;

inline pid_t current_tid() { return static_cast<pid_t>(syscall(SYS_gettid)); }

// The futex(2) number /proc reports. Under qemu-user (aarch64 preset) a
// guest thread is a host thread and the guest's futex wait is the host's
// futex(2) on the same address (qemu maps 64-bit guests at offset 0), so
// /proc shows the host's system call number: CMake passes it in.
#ifdef WRT_PLATFORM_TESTS_HOST_FUTEX_SYSCALL
inline constexpr long kProcFutexNumber = WRT_PLATFORM_TESTS_HOST_FUTEX_SYSCALL;
#else
inline constexpr long kProcFutexNumber = SYS_futex;
#endif

// True when thread `tid` of this process is blocked in futex(2) on `addr`.
// The kernel fills /proc/.../syscall only for a blocked thread ("running"
// otherwise), and futex(2) blocks only after queueing the waiter.
inline bool blocked_in_futex(pid_t tid, const void* addr) {
  std::ifstream file("/proc/self/task/" + std::to_string(tid) + "/syscall");
  long number = -1;
  std::string first_argument;
  if (!(file >> number >> first_argument)) return false;
  return number == kProcFutexNumber &&
         std::stoull(first_argument, nullptr, 16) == reinterpret_cast<std::uintptr_t>(addr);
}

// Wakes every thread sleeping in `Backend` on `addr`, bypassing the waiter
// accounting under test: frees a waiter that a bug left asleep.
template <typename Backend>
std::function<void()> rescue_on(const std::uint32_t* addr) {
  return [addr] { (void)Backend::wake(addr, UINT32_MAX, 1); };
}

// A thread that makes one wait and keeps what it returned. A wait that a
// bug never ends fails the test instead of hanging it: join() gives the
// wait kPatience, then frees it with `rescue` (see rescue_on) and reports an
// error; the destructor frees a thread the test left waiting. A thread that
// even `rescue` cannot free within kPatience aborts the binary (release()).
class WaitingThread {
 public:
  WaitingThread(std::function<Result<WaitResult>()> wait, std::function<void()> rescue)
      : rescue_(std::move(rescue)), thread_([this, wait = std::move(wait)] {
          tid_.store(current_tid());
          result_ = wait();
          done_.store(true);
        }) {
    eventually([this] { return tid_.load() != 0; });
  }
  WaitingThread(const WaitingThread&) = delete;
  WaitingThread& operator=(const WaitingThread&) = delete;
  ~WaitingThread() {
    if (!thread_.joinable()) return;
    release();
    thread_.join();
  }

  pid_t tid() const { return tid_.load(); }
  bool done() const { return done_.load(); }
  std::thread::native_handle_type native_handle() { return thread_.native_handle(); }
  Result<WaitResult> join() {
    const bool returned = eventually([this] { return done(); });
    release();
    thread_.join();
    if (!returned)
      return tl::unexpected(Error(ErrorCode::SystemError, "test: the wait never returned"));
    return *result_;
  }

 private:
  void release() {
    testing_deadline::free_or_abort([this] { return done(); }, rescue_, "a waiting thread");
  }

  std::function<void()> rescue_;
  std::atomic<pid_t> tid_{0};
  std::atomic<bool> done_{false};
  std::optional<Result<WaitResult>> result_;
  std::thread thread_;  // last: starts once the members above exist
};

// How many of `threads` sleep in `Backend` on `addr` right now.
template <typename Backend>
std::uint32_t sleeping(const std::uint32_t* addr, const std::vector<WaitingThread*>& threads) {
  if constexpr (std::is_same_v<Backend, PortableFutexBackend>) {
    return Backend::parked(addr);
  } else {
    std::uint32_t n = 0;
    for (const WaitingThread* t : threads) n += blocked_in_futex(t->tid(), addr) ? 1 : 0;
    return n;
  }
}

template <typename Backend>
bool eventually_sleeping(const std::uint32_t* addr, const std::vector<WaitingThread*>& threads,
                         std::uint32_t n) {
  return eventually([&] { return sleeping<Backend>(addr, threads) == n; });
}

// Counts system calls through the seam in fault-injection builds.
inline void reset_seam() {
#ifdef WRT_PLATFORM_FAULT_INJECTION
  fault::reset();
#endif
}

}  // namespace wrt::platform::futex_testing
