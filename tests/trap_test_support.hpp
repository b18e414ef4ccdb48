// Helpers for the trap tests: volatile accesses of every width, memories
// laid out for trapping, and running a test in a child process (anything
// that installs a signal handler or must die runs in a gtest death-test
// child, so the test binary's own dispositions never change).
#pragma once

#include <gtest/gtest.h>
#include <signal.h>
#if !defined(_WIN32)  // the death-test helpers below are POSIX-only
#include <sys/wait.h>
#endif

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <optional>

#include "death_test_support.hpp"
#include "wrt/platform.hpp"

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define WRT_PLATFORM_TRAP_TEST_ASAN 1
#endif
#if __has_feature(thread_sanitizer)
#define WRT_PLATFORM_TRAP_TEST_TSAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define WRT_PLATFORM_TRAP_TEST_ASAN 1
#endif
#if defined(__SANITIZE_THREAD__)
#define WRT_PLATFORM_TRAP_TEST_TSAN 1
#endif

namespace wrt::platform::trap_test {

inline constexpr std::size_t kPage = kWasmPageSize;
// 4 GiB; 0 where size_t has 32 bits (the tests that need it skip there).
inline constexpr std::size_t k4GiB = static_cast<std::size_t>(std::uint64_t{1} << 32);
inline constexpr std::size_t kWidths[] = {1, 2, 4, 8};

// A load of `width` bytes at `p` that the compiler must perform.
inline std::uint64_t load(const std::byte* p, std::size_t width) {
  switch (width) {
    case 1:
      return *reinterpret_cast<const volatile std::uint8_t*>(p);
    case 2:
      return *reinterpret_cast<const volatile std::uint16_t*>(p);
    case 4:
      return *reinterpret_cast<const volatile std::uint32_t*>(p);
    default:
      return *reinterpret_cast<const volatile std::uint64_t*>(p);
  }
}

// A store of `width` bytes of `value` at `p` that the compiler must perform.
inline void store(std::byte* p, std::size_t width, std::uint64_t value) {
  switch (width) {
    case 1:
      *reinterpret_cast<volatile std::uint8_t*>(p) = static_cast<std::uint8_t>(value);
      break;
    case 2:
      *reinterpret_cast<volatile std::uint16_t*>(p) = static_cast<std::uint16_t>(value);
      break;
    case 4:
      *reinterpret_cast<volatile std::uint32_t*>(p) = static_cast<std::uint32_t>(value);
      break;
    default:
      *reinterpret_cast<volatile std::uint64_t*>(p) = value;
      break;
  }
}

// Runs a load (or store) of `width` at `p` inside catch_traps.
inline std::optional<Trap> trap_of_load(const std::byte* p, std::size_t width) {
  return catch_traps([&] { (void)load(p, width); });
}
inline std::optional<Trap> trap_of_store(std::byte* p, std::size_t width) {
  return catch_traps([&] { store(p, width, 0x0123456789abcdefu); });
}

// A memory of `initial` committed pages out of `maximum`, with a guard.
inline MmapPageAllocator make_memory(std::uint32_t initial, std::uint32_t maximum,
                                     std::size_t guard_bytes = kPage, std::size_t reservation = 0) {
  MmapPageAllocator a({.guard_bytes = guard_bytes, .reservation_bytes = reservation});
  auto m = a.allocate(initial, maximum);
  EXPECT_TRUE(m) << m.error().message();
  return a;
}

inline void expect_trap_at(const std::optional<Trap>& trap, const void* address) {
  ASSERT_TRUE(trap.has_value());
  EXPECT_EQ(trap->kind, TrapKind::MemoryOutOfBounds);
  EXPECT_EQ(trap->address, address);
}

// Loads and stores of every width starting at `p` trap, reporting `p`.
inline void expect_every_access_traps_at(std::byte* p) {
  for (const std::size_t width : kWidths) {
    SCOPED_TRACE(width);
    expect_trap_at(trap_of_load(p, width), p);
    expect_trap_at(trap_of_store(p, width), p);
  }
}

// Stores and loads of every width ending at the last committed byte of `a`
// neither trap nor lose their value.
inline void expect_every_access_ending_at_the_committed_end_works(const MmapPageAllocator& a) {
  for (const std::size_t width : kWidths) {
    std::byte* const p = a.base() + a.committed_bytes() - width;
    std::uint64_t seen = 0;
    EXPECT_EQ(trap_of_store(p, width), std::nullopt);
    EXPECT_EQ(catch_traps([&] { seen = load(p, width); }), std::nullopt);
    EXPECT_EQ(seen, 0x0123456789abcdefu & (width == 8 ? ~0ull : (1ull << (8 * width)) - 1));
  }
}

// A child process passes when it exits 0: the statement checks with EXPECT_*
// and then exits with the child's verdict (std::exit, so sanitizers and
// coverage see a normal exit).
inline void exit_with_verdict() { std::exit(::testing::Test::HasFailure() ? 1 : 0); }

#define WRT_IN_CHILD(statement)                          \
  EXPECT_EXIT(                                           \
      {                                                  \
        statement;                                       \
        ::wrt::platform::trap_test::exit_with_verdict(); \
      },                                                 \
      ::testing::ExitedWithCode(0), "")

#if !defined(_WIN32)
// How a process dies of `signal` when nothing handles it: by the signal,
// or, under a sanitizer that handles fault signals, by its report.
struct DiedOf {
  int signal;
  bool operator()(int status) const {
    // A sanitizer's deadly-signal report (reached through our chaining)
    // exits with its exit code; death_report checks that it names the signal.
#if defined(WRT_PLATFORM_TRAP_TEST_ASAN)
    if (WIFEXITED(status) && WEXITSTATUS(status) == 1) return true;
#elif defined(WRT_PLATFORM_TRAP_TEST_TSAN)
    if (WIFEXITED(status) && WEXITSTATUS(status) == 66) return true;
#endif
    return WIFSIGNALED(status) && WTERMSIG(status) == signal;
  }
};
#endif

// What the child prints when it dies of `signal` that nothing handled: the
// sanitizer's report where one handles fault signals, else nothing.
inline const char* death_report(int signal) {
#if defined(WRT_PLATFORM_TRAP_TEST_ASAN)
  return signal == SIGSEGV ? "AddressSanitizer: SEGV" : "AddressSanitizer: BUS";
#elif defined(WRT_PLATFORM_TRAP_TEST_TSAN)
  return signal == SIGSEGV ? "ThreadSanitizer: SEGV" : "ThreadSanitizer: BUS";
#else
  (void)signal;
  return "";
#endif
}

inline void install_or_fail() {
  auto installed = install_trap_handler();
  ASSERT_TRUE(installed) << installed.error().message();
}

// ---- S4: recursion that overflows the stack ------------------------------

// Never set: keeps the compiler from proving the recursion infinite.
inline volatile bool g_never = false;

// Recursion the compiler can neither remove nor turn into a loop: every
// frame keeps a volatile array live across the call.
[[gnu::noinline]] inline int recurse_forever(int depth) {
  volatile char frame[256];
  frame[0] = static_cast<char>(depth);
  if (g_never) return frame[0];
  return recurse_forever(depth + 1) + frame[depth % 256];
}

// `depth` frames like recurse_forever's, then `then()`.
template <typename Then>
[[gnu::noinline]] int recurse_then(int depth, Then& then) {
  volatile char frame[256];
  frame[0] = static_cast<char>(depth);
  if (depth == 0) {
    then();
    return frame[0];
  }
  return recurse_then(depth - 1, then) + frame[0];
}

inline std::optional<Trap> overflow_inside_catch_traps() {
  return catch_traps([] { (void)recurse_forever(0); });
}

// Every trap test runs its statement in a child (death_test::kDeathTestStyle).
class TrapTest : public ::testing::Test {
 protected:
  void SetUp() override { GTEST_FLAG_SET(death_test_style, death_test::kDeathTestStyle); }
};

}  // namespace wrt::platform::trap_test
