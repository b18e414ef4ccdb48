// Helpers for the LinearMemory tests (docs/SPEC.md, W): memories over each
// page allocator backend, and waiters on their own threads that the tests
// know to be queued and asleep before they go on (no sleeps).
#pragma once

#include <gtest/gtest.h>
#if !defined(_WIN32)  // the waiter helpers read /proc (linear_memory_wait_test.cpp)
#include <sys/syscall.h>
#include <unistd.h>
#endif

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <fstream>
#include <memory>
#include <new>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#if !defined(_WIN32)
#include "futex_test_support.hpp"
#endif
#include "linear_memory_model.hpp"
#include "memory_backend_support.hpp"
#include "wrt/platform.hpp"
#ifdef WRT_PLATFORM_FAULT_INJECTION
#include "os/fault_injection.hpp"
#endif

namespace wrt::platform::linear_memory_testing {

inline constexpr std::uint32_t kAllValues = UINT32_MAX;
using memory_testing::Backend;
using memory_testing::BackendName;
using memory_testing::Backends;
using memory_testing::kLimitPages;
using memory_testing::value_or_throw;

inline MemoryType shared_type(std::uint32_t initial, std::uint32_t maximum = kLimitPages) {
  return MemoryType{initial, maximum, true};
}

template <typename A>
class LinearMemoryTest : public ::testing::Test {
 protected:
  using Memory = LinearMemory<A>;

  Memory make(MemoryType type) {
    auto memory = Memory::create(backend_.make(), type);
    return std::move(value_or_throw(memory));
  }
  Result<Memory> try_make(MemoryType type) { return Memory::create(backend_.make(), type); }
  A allocator() { return backend_.make(); }

 private:
  Backend<A> backend_;
};

// The error code of a result expected to fail (and a test failure if it
// succeeded).
template <typename T>
ErrorCode code_of(const Result<T>& result) {
  EXPECT_FALSE(result.has_value());
  return result ? ErrorCode{} : result.error().code();
}

// `result` failed with `expected`, or succeeded when `expected` is nullopt.
template <typename T>
void expect_outcome(const Result<T>& result, std::optional<ErrorCode> expected) {
  if (expected) {
    EXPECT_EQ(code_of(result), *expected);
  } else {
    EXPECT_TRUE(result.has_value());
  }
}

// atomic_wait32, atomic_wait64 (timeout 0) and atomic_notify at `address`
// give what W4 predicts: Misaligned before OutOfBounds, then NotShared for
// the waits when the test made the memory unshared (`shared`: from the
// test's MemoryType, not from the memory under test; models::wait_error).
template <typename M>
void expect_wait_and_notify_follow_w4(M& memory, std::uint64_t address, bool shared) {
  const std::uint64_t end = memory.byte_length();
  expect_outcome(memory.atomic_wait32(address, 1, 0), models::wait_error(address, 4, end, shared));
  expect_outcome(memory.atomic_wait64(address, 1, 0), models::wait_error(address, 8, end, shared));
  expect_outcome(memory.atomic_notify(address, kAllValues), models::atomic_error(address, 4, end));
}

// The 32-bit or 64-bit word at `address`, stored or loaded seq_cst as a
// guest's atomic instruction would.
template <typename T, typename M>
void store(M& memory, std::uint64_t address, T value) {
  std::atomic_ref(*reinterpret_cast<T*>(memory.data() + address)).store(value);
}
template <typename T, typename M>
T load(M& memory, std::uint64_t address) {
  return std::atomic_ref(*reinterpret_cast<T*>(memory.data() + address)).load();
}

#if !defined(_WIN32)
using futex_testing::eventually;
using futex_testing::WaitingThread;

// True when thread `tid` of this process is blocked in futex(2), whatever
// the word: a queued waiter's only blocking call is the sleep on its own
// futex word (both futex backends end in futex(2) on Linux). Under qemu-user
// /proc shows the host's futex(2) number (futex_test_support.hpp).
inline bool blocked_in_futex_call(pid_t tid) {
  std::ifstream file("/proc/self/task/" + std::to_string(tid) + "/syscall");
  long number = -1;
  return (file >> number) && number == futex_testing::kProcFutexNumber;
}

// One memory.atomic.wait32 (wide = false) or wait64 on its own thread. A
// wait that a bug never ends is released by notifying everyone at its
// address and fails the test (WaitingThread::join gives up after kPatience).
template <typename M>
std::unique_ptr<WaitingThread> start_waiter(M& memory, std::uint64_t address, bool wide,
                                            std::uint64_t expected, std::int64_t timeout_ns) {
  return std::make_unique<WaitingThread>(
      [&memory, address, wide, expected, timeout_ns] {
        return wide ? memory.atomic_wait64(address, expected, timeout_ns)
                    : memory.atomic_wait32(address, static_cast<std::uint32_t>(expected),
                                           timeout_ns);
      },
      [&memory, address] { (void)memory.atomic_notify(address, kAllValues); });
}

// Waits until exactly `queued` waiters are queued on `address` and each of
// `sleepers` is asleep in futex(2). False after kPatience, or at once when
// one of `sleepers` has returned (it made its only wait: it never will).
template <typename M>
bool eventually_asleep(M& memory, std::uint64_t address, std::uint32_t queued,
                       const std::vector<WaitingThread*>& sleepers) {
  bool asleep = false;
  eventually([&] {
    asleep = detail::atomic_waiters_at(memory.data() + address) == queued &&
             std::all_of(sleepers.begin(), sleepers.end(),
                         [](const WaitingThread* t) { return blocked_in_futex_call(t->tid()); });
    return asleep || std::any_of(sleepers.begin(), sleepers.end(),
                                 [](const WaitingThread* t) { return t->done(); });
  });
  return asleep;
}
#endif  // !defined(_WIN32)

}  // namespace wrt::platform::linear_memory_testing
