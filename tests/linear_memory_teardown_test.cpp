// S7 (docs/SPEC.md): a memory destroyed, or a pool slot released, while a
// thread still waits on it stops the program with a message naming the
// memory's range, in every build type, instead of leaving the sleeper to be
// woken by the next tenant at the same address. The waiter is known to be
// queued (atomic_waiters_at) before the memory goes; it never returns, so
// in the death tests it is detached and dies with the child.
#include <gtest/gtest.h>

#if !defined(_WIN32)
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <thread>

#include "death_test_support.hpp"
#include "futex_test_support.hpp"
#include "linear_memory_test_support.hpp"
#include "wrt/platform.hpp"

namespace wrt::platform::teardown_test {
namespace {

using linear_memory_testing::shared_type;

// A few words to wait on, outside any memory.
using Words = std::array<std::uint32_t, 4>;

// What the program prints before it stops: what went, the range, the word.
constexpr const char* kMemoryDestroyed =
    "LinearMemory destroyed: memory \\[0x[0-9a-f]+, 0x[0-9a-f]+\\) while a thread waits on its "
    "word at 0x[0-9a-f]+";
constexpr const char* kSlotReleased =
    "pool slot released: memory \\[0x[0-9a-f]+, 0x[0-9a-f]+\\) while a thread waits";

// Leaves a thread waiting forever on `word` and returns once it is queued;
// a waiter that never queues ends the child with a message no test expects.
void leave_waiter_on(std::byte* word) {
  std::thread([word] {
    (void)detail::atomic_wait_at(word, detail::WaitWidth::Bits32, 0, -1);
  }).detach();
  if (!futex_testing::eventually([&] { return detail::atomic_waiters_at(word) == 1; })) {
    std::fprintf(stderr, "test: the waiter never queued\n");
    std::_Exit(2);
  }
}

class Teardown : public ::testing::Test {
 protected:
  void SetUp() override { GTEST_FLAG_SET(death_test_style, death_test::kDeathTestStyle); }
};

template <typename A>
LinearMemory<A> make_shared(A allocator) {
  auto memory = LinearMemory<A>::create(std::move(allocator), shared_type(1, 2));
  EXPECT_TRUE(memory) << memory.error().message();
  return std::move(*memory);
}

TEST_F(Teardown, S7_DestroyingASharedMemoryWithAWaiterStopsTheProgram) {
  EXPECT_DEATH(
      {
        auto memory = make_shared(MmapPageAllocator());
        // The last word: the whole committed range is checked.
        leave_waiter_on(memory.data() + memory.byte_length() - 4);
      },  // destroyed here
      kMemoryDestroyed);
}

TEST_F(Teardown, S7_MovingOntoAMemoryWithAWaiterStopsTheProgram) {
  EXPECT_DEATH(
      {
        auto memory = make_shared(MmapPageAllocator());
        leave_waiter_on(memory.data());
        memory = make_shared(MmapPageAllocator());
      },
      kMemoryDestroyed);
}

#ifdef __linux__
TEST_F(Teardown, S7_DestroyingAPooledMemoryWithAWaiterStopsTheProgram) {
  EXPECT_DEATH(
      {
        auto pool = MemoryPool::create({.slots = 1, .maximum_pages = 2});
        auto slot = pool->acquire();
        auto memory = make_shared(std::move(*slot));
        leave_waiter_on(memory.data() + 8);
      },  // destroyed here
      kMemoryDestroyed);
}

// Without a LinearMemory in between: the slot's own release checks.
TEST_F(Teardown, S7_ReleasingAPoolSlotWithAWaiterStopsTheProgram) {
  EXPECT_DEATH(
      {
        auto pool = MemoryPool::create({.slots = 1, .maximum_pages = 2});
        auto slot = pool->acquire();
        const auto m = slot->allocate(1);
        leave_waiter_on(m->base + 16);
        (void)slot->deallocate(m->base, m->committed_bytes);
      },
      kSlotReleased);
}
#endif

// The check names only waiters inside the range: a waiter just before or
// just after it, or one that has left, lets the memory go.
TEST(TeardownRange, S7_OnlyAWaiterInsideTheRangeStopsTheProgram) {
  alignas(8) Words words{};
  std::byte* const word = reinterpret_cast<std::byte*>(&words[1]);
  futex_testing::WaitingThread waiter(
      [word] { return detail::atomic_wait_at(word, detail::WaitWidth::Bits32, 0, -1); },
      [word] { (void)detail::atomic_notify_at(word, UINT32_MAX); });
  ASSERT_TRUE(futex_testing::eventually([&] { return detail::atomic_waiters_at(word) == 1; }));
  detail::expect_no_waiters_in(word + 4, 8, "after");
  detail::expect_no_waiters_in(word - 4, 4, "before");
  EXPECT_EQ(detail::atomic_notify_at(word, 1), 1u);
  const auto woken = waiter.join();
  ASSERT_TRUE(woken) << woken.error().message();
  EXPECT_EQ(*woken, WaitResult::Woken);
  detail::expect_no_waiters_in(word, 4, "left");
  // A shared memory without waiters goes quietly, and so does one whose
  // waiter timed out.
  auto memory = make_shared(MmapPageAllocator());
  EXPECT_EQ(memory.atomic_wait32(0, 0, 1000), WaitResult::TimedOut);
}

TEST_F(Teardown, S7_AWaiterOnTheRangesFirstWordStopsTheProgram) {
  EXPECT_DEATH(
      {
        alignas(8) Words words{};
        std::byte* const word = reinterpret_cast<std::byte*>(&words[1]);
        leave_waiter_on(word);
        detail::expect_no_waiters_in(word, 4, "released");
      },
      "released: memory \\[0x[0-9a-f]+, 0x[0-9a-f]+\\) while a thread waits");
}

}  // namespace
}  // namespace wrt::platform::teardown_test
#endif
