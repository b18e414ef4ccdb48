// The public futex API (Futex, wait_on_address, wake_address) over the
// backend this build selected: clauses F1-F3, F6-F8.
#include <gtest/gtest.h>
#include <sys/mman.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <type_traits>
#include <vector>

#include "futex_test_support.hpp"
#include "wrt/platform/futex.hpp"

namespace wrt::platform::futex_testing {
namespace {

using Backend = detail::DefaultFutexBackend;
using std::chrono::nanoseconds;

const std::uint32_t* addr_of(const Futex& futex) { return detail::word_address(futex.word()); }

TEST(FutexApi, F1_FutexIsACacheLineAlignedWordThatCannotBeCopiedOrMoved) {
  static_assert(!std::is_copy_constructible_v<Futex> && !std::is_copy_assignable_v<Futex>);
  static_assert(!std::is_move_constructible_v<Futex> && !std::is_move_assignable_v<Futex>);
  static_assert(alignof(Futex) >= 64);
  static_assert(
      std::is_same_v<decltype(std::declval<Futex&>().word()), std::atomic<std::uint32_t>&>);
  const auto futexes = std::make_unique<Futex[]>(3);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(&futexes[i].word()) % 64, 0u);
    EXPECT_EQ(futexes[i].word().load(), 0u);
  }
  const Futex seven(7);
  EXPECT_EQ(seven.word().load(), 7u);
}

TEST(FutexApi, F2_FutexWaitReturnsNotEqualOrSleepsUntilWoken) {
  Futex futex(1);
  EXPECT_EQ(futex.wait(0), WaitResult::NotEqual);
  WaitingThread waiter([&] { return futex.wait(1); }, rescue_on<Backend>(addr_of(futex)));
  ASSERT_TRUE(eventually_sleeping<Backend>(addr_of(futex), {&waiter}, 1));
  futex.word().store(2);
  EXPECT_EQ(futex.wake_one(), 1u);
  EXPECT_EQ(waiter.join(), WaitResult::Woken);
}

TEST(FutexApi, F3_TimeoutsOfEveryRangeBehave) {
  Futex futex(0);
  EXPECT_EQ(futex.wait(0, nanoseconds(0)), WaitResult::TimedOut);
  EXPECT_EQ(futex.wait(0, nanoseconds::min()), WaitResult::TimedOut);
  EXPECT_EQ(futex.wait(0, 1ms), WaitResult::TimedOut);
  WaitingThread waiter([&] { return futex.wait(0, nanoseconds::max()); },
                       rescue_on<Backend>(addr_of(futex)));
  ASSERT_TRUE(eventually_sleeping<Backend>(addr_of(futex), {&waiter}, 1));
  EXPECT_EQ(futex.wake_all(), 1u);
  EXPECT_EQ(waiter.join(), WaitResult::Woken);
}

TEST(FutexApi, F6_WakeOneAndWakeAllCountTheThreadsTheyWoke) {
  Futex futex(0);
  const auto* addr = detail::word_address(futex.word());
  std::vector<std::unique_ptr<WaitingThread>> threads;
  std::vector<WaitingThread*> raw;
  for (int i = 0; i < 3; ++i) {
    threads.push_back(
        std::make_unique<WaitingThread>([&] { return futex.wait(0); }, rescue_on<Backend>(addr)));
    raw.push_back(threads.back().get());
  }
  ASSERT_TRUE(eventually_sleeping<Backend>(addr, raw, 3));
  EXPECT_EQ(futex.wake(0), 0u);
  EXPECT_EQ(futex.wake_one(), 1u);
  ASSERT_TRUE(eventually_sleeping<Backend>(addr, raw, 2));
  EXPECT_EQ(futex.wake_all(), 2u);
  for (auto& t : threads) EXPECT_EQ(t->join(), WaitResult::Woken);
  EXPECT_EQ(futex.wake_all(), 0u);
}

TEST(FutexApi, F7_NoSystemCallWithoutWaitersOrForADifferingValue) {
#ifndef WRT_PLATFORM_FAULT_INJECTION
  GTEST_SKIP() << "needs WRT_PLATFORM_FAULT_INJECTION";
#else
  fault::reset();
  Futex futex(5);
  std::uint32_t plain = 5;
  EXPECT_EQ(futex.wake_one(), 0u);
  EXPECT_EQ(futex.wake_all(), 0u);
  EXPECT_EQ(futex.wait(4), WaitResult::NotEqual);
  EXPECT_EQ(wake_address(&plain, UINT32_MAX), 0u);
  EXPECT_EQ(wait_on_address(&plain, 4, 1s), WaitResult::NotEqual);
  EXPECT_EQ(fault::calls(fault::OsCall::FutexWait), 0u);
  EXPECT_EQ(fault::calls(fault::OsCall::FutexWake), 0u);
  fault::reset();
#endif
}

TEST(FutexApi, F8_NullAndMisalignedAddressesAreErrorsNotCrashes) {
  const std::uint32_t* null = nullptr;
  EXPECT_EQ(wait_on_address(null, 0).error().code(), ErrorCode::InvalidArgument);
  EXPECT_EQ(wait_on_address(null, 0, 1s).error().code(), ErrorCode::InvalidArgument);
  EXPECT_EQ(wake_address(null, 1).error().code(), ErrorCode::InvalidArgument);
  alignas(4) unsigned char bytes[8] = {};
  for (int offset = 1; offset < 4; ++offset) {
    const auto* odd = reinterpret_cast<const std::uint32_t*>(bytes + offset);
    EXPECT_EQ(wait_on_address(odd, 0).error().code(), ErrorCode::Misaligned);
    EXPECT_EQ(wake_address(odd, UINT32_MAX).error().code(), ErrorCode::Misaligned);
  }
}

// A word of a shared linear memory: plain bytes from mmap, accessed only
// through std::atomic_ref.
TEST(FutexApi, F8_PlainWordInMappedMemoryWaitsAndWakes) {
  constexpr std::size_t kBytes = 1 << 16;
  void* memory = mmap(nullptr, kBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(memory, MAP_FAILED);
  auto* word = static_cast<std::uint32_t*>(memory) + 1000;
  std::atomic_ref<std::uint32_t>(*word).store(0);
  EXPECT_EQ(wait_on_address(word, 1), WaitResult::NotEqual);
  WaitingThread waiter([&] { return wait_on_address(word, 0); }, rescue_on<Backend>(word));
  ASSERT_TRUE(eventually_sleeping<Backend>(word, {&waiter}, 1));
  std::atomic_ref<std::uint32_t>(*word).store(1);
  EXPECT_EQ(wake_address(word, 1), 1u);
  EXPECT_EQ(waiter.join(), WaitResult::Woken);
  EXPECT_EQ(munmap(memory, kBytes), 0);
}

// Futex::wake reaches a thread in wait_on_address(word()) and the other way
// round: the two forms share one waiter accounting.
TEST(FutexApi, F8_FutexAndAddressFormsWakeEachOther) {
  Futex futex(0);
  const std::uint32_t* addr = detail::word_address(futex.word());
  WaitingThread by_atomic([&] { return wait_on_address(futex.word(), 0); },
                          rescue_on<Backend>(addr));
  ASSERT_TRUE(eventually_sleeping<Backend>(addr, {&by_atomic}, 1));
  EXPECT_EQ(futex.wake_one(), 1u);
  EXPECT_EQ(by_atomic.join(), WaitResult::Woken);

  WaitingThread by_member([&] { return futex.wait(0); }, rescue_on<Backend>(addr));
  ASSERT_TRUE(eventually_sleeping<Backend>(addr, {&by_member}, 1));
  EXPECT_EQ(wake_address(addr, 1), 1u);
  EXPECT_EQ(by_member.join(), WaitResult::Woken);

  WaitingThread by_pointer([&] { return wait_on_address(addr, 0); }, rescue_on<Backend>(addr));
  ASSERT_TRUE(eventually_sleeping<Backend>(addr, {&by_pointer}, 1));
  EXPECT_EQ(wake_address(futex.word(), UINT32_MAX), 1u);
  EXPECT_EQ(by_pointer.join(), WaitResult::Woken);
}

}  // namespace
}  // namespace wrt::platform::futex_testing
