// LinearMemory<A> without threads (docs/SPEC.md, W1, W2, W4, W5, W7, W9),
// typed over every page allocator backend.
#include <gtest/gtest.h>
#if defined(_WIN32)
#include <windows.h>  // ERROR_TIMEOUT
#endif

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <vector>

#include "linear_memory_model.hpp"
#include "linear_memory_test_support.hpp"

namespace wrt::platform::linear_memory_testing {
namespace {

constexpr std::uint64_t kU64Max = std::numeric_limits<std::uint64_t>::max();

template <typename A>
using LinearMemoryBasics = LinearMemoryTest<A>;
TYPED_TEST_SUITE(LinearMemoryBasics, Backends, BackendName);

template <typename M>
bool all_zero(const M& memory, std::size_t from, std::size_t to) {
  return std::all_of(memory.data() + from, memory.data() + to,
                     [](std::byte b) { return b == std::byte{0}; });
}

// --- W1: create ---

TYPED_TEST(LinearMemoryBasics, W1_SizeIsInitialPagesAndEveryByteIsZero) {
  for (const bool shared : {false, true}) {
    auto memory = this->make(MemoryType{3, 5, shared});
    EXPECT_EQ(memory.shared(), shared);
    EXPECT_EQ(memory.size(), 3u);
    EXPECT_EQ(memory.byte_length(), 3 * kWasmPageSize);
    ASSERT_NE(memory.data(), nullptr);
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(memory.data()) % kWasmPageSize, 0u);
    EXPECT_TRUE(all_zero(memory, 0, memory.byte_length()));
  }
}

TYPED_TEST(LinearMemoryBasics, W1_ZeroInitialPagesIsAValidMemory) {
  auto memory = this->make(MemoryType{0, std::nullopt, false});
  EXPECT_EQ(memory.size(), 0u);
  EXPECT_EQ(memory.byte_length(), 0u);
  EXPECT_NE(memory.data(), nullptr);
}

TYPED_TEST(LinearMemoryBasics, W1_SharedMemoryMustDeclareAMaximum) {
  auto memory = this->try_make(MemoryType{1, std::nullopt, true});
  EXPECT_EQ(code_of(memory), ErrorCode::InvalidArgument);
  EXPECT_NE(std::strstr(memory.error().message(), "maximum"), nullptr);
  EXPECT_TRUE(this->try_make(MemoryType{1, 1, true}).has_value());
}

TYPED_TEST(LinearMemoryBasics, W1_MaximumBelowInitialIsInvalidArgument) {
  EXPECT_EQ(code_of(this->try_make(MemoryType{2, 1, false})), ErrorCode::InvalidArgument);
  EXPECT_EQ(code_of(this->try_make(MemoryType{2, 1, true})), ErrorCode::InvalidArgument);
}

TYPED_TEST(LinearMemoryBasics, W1_AllocatorLimitsGiveCapacityExceeded) {
  EXPECT_EQ(code_of(this->try_make(MemoryType{kLimitPages + 1, std::nullopt, false})),
            ErrorCode::CapacityExceeded);
  EXPECT_EQ(code_of(this->try_make(MemoryType{1, kLimitPages + 1, true})),
            ErrorCode::CapacityExceeded);
  EXPECT_TRUE(this->try_make(MemoryType{kLimitPages, kLimitPages, true}).has_value());
}

TYPED_TEST(LinearMemoryBasics, W1_AnAllocatorThatAlreadyHoldsAMemoryIsRefused) {
  auto allocator = this->allocator();
  ASSERT_TRUE(allocator.allocate(1, 1).has_value());
  auto memory = LinearMemory<TypeParam>::create(std::move(allocator), MemoryType{1, 1, false});
  EXPECT_EQ(code_of(memory), ErrorCode::AlreadyAllocated);
}

// --- W2: grow ---

TYPED_TEST(LinearMemoryBasics, W2_GrowReturnsThePreviousSizeAndKeepsData) {
  for (const bool shared : {false, true}) {
    auto memory = this->make(MemoryType{1, 4, shared});
    std::byte* const base = memory.data();
    const std::byte hello[5] = {std::byte{'h'}, std::byte{'e'}, std::byte{'l'}, std::byte{'l'},
                                std::byte{'o'}};
    ASSERT_TRUE(memory.write(kWasmPageSize - 5, hello).has_value());
    EXPECT_EQ(memory.grow(2), 1u);
    EXPECT_EQ(memory.size(), 3u);
    EXPECT_EQ(memory.byte_length(), 3 * kWasmPageSize);
    EXPECT_EQ(memory.data(), base);
    EXPECT_EQ(std::memcmp(memory.data() + kWasmPageSize - 5, hello, 5), 0);
    EXPECT_TRUE(all_zero(memory, kWasmPageSize, memory.byte_length()));
    EXPECT_EQ(memory.grow(1), 3u);
    EXPECT_EQ(memory.size(), 4u);
  }
}

TYPED_TEST(LinearMemoryBasics, W2_GrowZeroReturnsSizeAndChangesNothing) {
  auto memory = this->make(shared_type(2, 2));
  EXPECT_EQ(memory.grow(0), 2u);
  EXPECT_EQ(memory.size(), 2u);
}

TYPED_TEST(LinearMemoryBasics, W2_GrowPastTheMaximumIsCapacityExceededAndChangesNothing) {
  for (const bool shared : {false, true}) {
    auto memory = this->make(MemoryType{1, 3, shared});
    store<std::uint32_t>(memory, 8, 0xdeadbeef);
    EXPECT_EQ(code_of(memory.grow(3)), ErrorCode::CapacityExceeded);
    EXPECT_EQ(code_of(memory.grow(UINT32_MAX)), ErrorCode::CapacityExceeded);
    EXPECT_EQ(memory.size(), 1u);
    EXPECT_EQ(load<std::uint32_t>(memory, 8), 0xdeadbeefu);
    EXPECT_EQ(memory.grow(2), 1u);  // exactly to the maximum
    EXPECT_EQ(code_of(memory.grow(1)), ErrorCode::CapacityExceeded);
    EXPECT_EQ(memory.size(), 3u);
  }
}

TYPED_TEST(LinearMemoryBasics, W2_WithoutAMaximumAnUnsharedMemoryGrowsToTheAllocatorLimit) {
  auto memory = this->make(MemoryType{0, std::nullopt, false});
  EXPECT_EQ(memory.grow(kLimitPages), 0u);
  EXPECT_EQ(code_of(memory.grow(1)), ErrorCode::CapacityExceeded);
}

TYPED_TEST(LinearMemoryBasics, W2_AMovedFromMemoryIsEmptyAndCannotGrow) {
  auto memory = this->make(shared_type(1, 2));
  store<std::uint32_t>(memory, 0, 7);
  auto moved = std::move(memory);
  EXPECT_EQ(moved.size(), 1u);
  EXPECT_TRUE(moved.shared());
  EXPECT_EQ(load<std::uint32_t>(moved, 0), 7u);
  EXPECT_EQ(memory.size(), 0u);  // NOLINT(bugprone-use-after-move): the contract of a move
  EXPECT_EQ(memory.data(), nullptr);
  EXPECT_EQ(code_of(memory.grow(0)), ErrorCode::NotAllocated);
  EXPECT_EQ(code_of(memory.atomic_notify(0, 1)), ErrorCode::OutOfBounds);
  auto other = this->make(MemoryType{2, 2, false});
  other = std::move(moved);
  EXPECT_EQ(other.size(), 1u);
  EXPECT_TRUE(other.shared());
  EXPECT_EQ(other.grow(1), 1u);
}

// --- W4: the order of the atomics' checks ---

TYPED_TEST(LinearMemoryBasics, W4_MisalignedComesBeforeOutOfBounds) {
  auto memory = this->make(shared_type(1, 1));
  const std::uint64_t end = memory.byte_length();
  for (const std::uint64_t address : {std::uint64_t{1}, std::uint64_t{2}, end + 1, end + 2,
                                      std::uint64_t{1} << 32 | 1, kU64Max, kU64Max - 4}) {
    SCOPED_TRACE(address);
    EXPECT_EQ(code_of(memory.atomic_wait32(address, 0, 0)), ErrorCode::Misaligned);
    EXPECT_EQ(code_of(memory.atomic_notify(address, 1)), ErrorCode::Misaligned);
    EXPECT_EQ(code_of(memory.atomic_wait64(address, 0, 0)), ErrorCode::Misaligned);
  }
  // 4-aligned but not 8-aligned: only wait64 is misaligned.
  EXPECT_EQ(code_of(memory.atomic_wait64(4, 0, 0)), ErrorCode::Misaligned);
  EXPECT_EQ(code_of(memory.atomic_wait64(end + 4, 0, 0)), ErrorCode::Misaligned);
  EXPECT_EQ(code_of(memory.atomic_wait64(kU64Max - 3, 0, 0)), ErrorCode::Misaligned);
}

TYPED_TEST(LinearMemoryBasics, W4_TheLastAlignedWordIsInBoundsAndTheNextIsNot) {
  auto memory = this->make(shared_type(1, 1));
  const std::uint64_t end = memory.byte_length();
  EXPECT_EQ(memory.atomic_wait32(end - 4, 0, 0), WaitResult::TimedOut);
  EXPECT_EQ(memory.atomic_wait32(end - 4, 1, 0), WaitResult::NotEqual);
  EXPECT_EQ(memory.atomic_wait64(end - 8, 0, 0), WaitResult::TimedOut);
  EXPECT_EQ(memory.atomic_notify(end - 4, 1), 0u);
  EXPECT_EQ(code_of(memory.atomic_wait32(end, 0, 0)), ErrorCode::OutOfBounds);
  EXPECT_EQ(code_of(memory.atomic_wait64(end, 0, 0)), ErrorCode::OutOfBounds);
  EXPECT_EQ(code_of(memory.atomic_notify(end, 1)), ErrorCode::OutOfBounds);
}

TYPED_TEST(LinearMemoryBasics, W4_AddressesNearUint64MaxAreOutOfBoundsNeverWrapped) {
  auto memory = this->make(shared_type(1, 1));
  // address + width wraps to a small in-bounds value for each of these.
  for (const std::uint64_t address :
       {kU64Max - 7, kU64Max - 15, kU64Max - 3 - 4, std::uint64_t{1} << 63}) {
    SCOPED_TRACE(address);
    EXPECT_EQ(code_of(memory.atomic_wait32(address, 0, 0)), ErrorCode::OutOfBounds);
    EXPECT_EQ(code_of(memory.atomic_notify(address, 1)), ErrorCode::OutOfBounds);
    EXPECT_EQ(code_of(memory.atomic_wait64(address, 0, 0)), ErrorCode::OutOfBounds);
  }
  EXPECT_EQ(code_of(memory.atomic_wait32(kU64Max - 3, 0, 0)), ErrorCode::OutOfBounds);
  EXPECT_EQ(code_of(memory.atomic_notify(kU64Max - 3, 1)), ErrorCode::OutOfBounds);
  // 2^32: past a 4 GiB memory, and past a 32-bit size_t.
  EXPECT_EQ(code_of(memory.atomic_wait64(std::uint64_t{1} << 32, 0, 0)), ErrorCode::OutOfBounds);
}

TYPED_TEST(LinearMemoryBasics, W4_NotSharedComesAfterBoundsAndEvenWhenTheValueDiffers) {
  auto memory = this->make(MemoryType{1, 1, false});
  const std::uint64_t end = memory.byte_length();
  store<std::uint64_t>(memory, 0, 5);
  EXPECT_EQ(code_of(memory.atomic_wait32(0, 0, 0)), ErrorCode::NotShared);   // differs
  EXPECT_EQ(code_of(memory.atomic_wait32(0, 5, -1)), ErrorCode::NotShared);  // equal, forever
  EXPECT_EQ(code_of(memory.atomic_wait64(0, 0, 10)), ErrorCode::NotShared);
  EXPECT_EQ(code_of(memory.atomic_wait64(end - 8, 0, 0)), ErrorCode::NotShared);
  EXPECT_EQ(code_of(memory.atomic_wait32(2, 0, 0)), ErrorCode::Misaligned);
  EXPECT_EQ(code_of(memory.atomic_wait32(end, 0, 0)), ErrorCode::OutOfBounds);
  EXPECT_EQ(code_of(memory.atomic_wait64(end, 0, 0)), ErrorCode::OutOfBounds);
  const auto error = memory.atomic_wait32(0, 0, 0).error();
  EXPECT_EQ(error.os_errno(), 0);
  EXPECT_NE(std::strstr(error.message(), "not shared"), nullptr);
}

TYPED_TEST(LinearMemoryBasics, W4_NotifyOnAnUnsharedMemoryChecksThenReturnsZero) {
  auto memory = this->make(MemoryType{1, std::nullopt, false});
  EXPECT_EQ(memory.atomic_notify(0, 1), 0u);
  EXPECT_EQ(memory.atomic_notify(memory.byte_length() - 4, kAllValues), 0u);
  EXPECT_EQ(code_of(memory.atomic_notify(6, 1)), ErrorCode::Misaligned);
  EXPECT_EQ(code_of(memory.atomic_notify(memory.byte_length(), 1)), ErrorCode::OutOfBounds);
}

TYPED_TEST(LinearMemoryBasics, W4_AnEmptyMemoryHasNoWord) {
  auto memory = this->make(shared_type(0, 1));
  EXPECT_EQ(code_of(memory.atomic_wait32(0, 0, 0)), ErrorCode::OutOfBounds);
  EXPECT_EQ(code_of(memory.atomic_wait64(0, 0, 0)), ErrorCode::OutOfBounds);
  EXPECT_EQ(code_of(memory.atomic_notify(0, 0)), ErrorCode::OutOfBounds);
  EXPECT_EQ(memory.grow(1), 0u);  // the bounds follow the size
  EXPECT_EQ(memory.atomic_wait32(0, 0, 0), WaitResult::TimedOut);
}

TYPED_TEST(LinearMemoryBasics, W4_ErrorsNameTheInstruction) {
  auto memory = this->make(shared_type(1, 1));
  EXPECT_NE(std::strstr(memory.atomic_wait32(1, 0, 0).error().message(), "wait32"), nullptr);
  EXPECT_NE(std::strstr(memory.atomic_wait64(kU64Max - 7, 0, 0).error().message(), "wait64"),
            nullptr);
  EXPECT_NE(std::strstr(memory.atomic_notify(1, 0).error().message(), "notify"), nullptr);
}

// --- W5: results without another thread ---

TYPED_TEST(LinearMemoryBasics, W5_NotEqualWhenTheWordDiffers) {
  auto memory = this->make(shared_type(1, 1));
  store<std::uint32_t>(memory, 16, 42);
  EXPECT_EQ(memory.atomic_wait32(16, 41, -1), WaitResult::NotEqual);  // would wait forever
  EXPECT_EQ(memory.atomic_wait32(16, 43, 1'000'000'000), WaitResult::NotEqual);
  EXPECT_EQ(memory.atomic_wait32(16, 42, 0), WaitResult::TimedOut);
}

TYPED_TEST(LinearMemoryBasics, W5_ZeroTimeoutReturnsTimedOutAtOnceWithoutAnyWaiter) {
  auto memory = this->make(shared_type(1, 1));
#ifdef WRT_PLATFORM_FAULT_INJECTION
  fault::reset();
#endif
  EXPECT_EQ(memory.atomic_wait32(0, 0, 0), WaitResult::TimedOut);
  EXPECT_EQ(memory.atomic_wait64(0, 0, 0), WaitResult::TimedOut);
  EXPECT_EQ(detail::atomic_waiters_at(memory.data()), 0u);
#ifdef WRT_PLATFORM_FAULT_INJECTION
  EXPECT_EQ(fault::calls(fault::OsCall::FutexWait), 0u);  // never slept
#endif
}

TYPED_TEST(LinearMemoryBasics, W5_APositiveTimeoutPassesOnTheMonotonicClock) {
  auto memory = this->make(shared_type(1, 1));
  for (const std::int64_t timeout_ns :
       {std::int64_t{1}, std::int64_t{1'000'000}, std::int64_t{20'000'000}}) {
    const auto start = std::chrono::steady_clock::now();
    EXPECT_EQ(memory.atomic_wait32(0, 0, timeout_ns), WaitResult::TimedOut);
    EXPECT_EQ(memory.atomic_wait64(0, 0, timeout_ns), WaitResult::TimedOut);
    EXPECT_GE(std::chrono::steady_clock::now() - start, 2 * std::chrono::nanoseconds(timeout_ns));
  }
  EXPECT_EQ(detail::atomic_waiters_at(memory.data()), 0u);
}

#ifdef WRT_PLATFORM_FAULT_INJECTION
TYPED_TEST(LinearMemoryBasics, W5_AFailingFutexWaitIsASystemErrorAndLeavesTheQueue) {
  auto memory = this->make(shared_type(1, 1));
  fault::reset();
  fault::fail(fault::OsCall::FutexWait, EINVAL);
  const auto result = memory.atomic_wait32(0, 0, -1);
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().code(), ErrorCode::SystemError);
  EXPECT_EQ(result.error().os_errno(), EINVAL);
  EXPECT_EQ(detail::atomic_waiters_at(memory.data()), 0u);
  fault::reset();
  EXPECT_EQ(memory.atomic_notify(0, 1), 0u);  // nobody left to count
  EXPECT_EQ(fault::calls(fault::OsCall::FutexWake), 0u);
}

// The OS wait returning early: EINTR from futex(2); WaitOnAddress has no
// EINTR, its early return is an ERROR_TIMEOUT before the deadline (X3).
#if defined(_WIN32)
constexpr int kEarlyReturn = ERROR_TIMEOUT;
#else
constexpr int kEarlyReturn = EINTR;
#endif

TYPED_TEST(LinearMemoryBasics, W5_InjectedEintrNeitherEndsNorShortensAWait) {
  auto memory = this->make(shared_type(1, 1));
  fault::reset();
  fault::fail(fault::OsCall::FutexWait, kEarlyReturn, 0, 3);
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(memory.atomic_wait64(0, 0, 30'000'000), WaitResult::TimedOut);
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(30));
  EXPECT_GE(fault::calls(fault::OsCall::FutexWait), 4u);
  fault::reset();
}
#endif

// --- W7: wait64 compares all 64 bits ---

TYPED_TEST(LinearMemoryBasics, W7_AChangeInEitherHalfIsNotEqual) {
  auto memory = this->make(shared_type(1, 1));
  const std::uint64_t value = 0x1234'5678'9abc'def0;
  store<std::uint64_t>(memory, 8, value);
  EXPECT_EQ(memory.atomic_wait64(8, value ^ (std::uint64_t{1} << 63), -1), WaitResult::NotEqual);
  EXPECT_EQ(memory.atomic_wait64(8, value ^ (std::uint64_t{1} << 32), -1), WaitResult::NotEqual);
  EXPECT_EQ(memory.atomic_wait64(8, value ^ 1, -1), WaitResult::NotEqual);
  EXPECT_EQ(memory.atomic_wait64(8, value ^ (std::uint64_t{1} << 31), -1), WaitResult::NotEqual);
  EXPECT_EQ(memory.atomic_wait64(8, value, 0), WaitResult::TimedOut);
  // wait32 sees only its own four bytes (little-endian: the low half at 8).
  EXPECT_EQ(memory.atomic_wait32(8, 0x9abc'def0, 0), WaitResult::TimedOut);
  EXPECT_EQ(memory.atomic_wait32(12, 0x1234'5678, 0), WaitResult::TimedOut);
}

// --- W9: any guest input gives a result or an error ---

TYPED_TEST(LinearMemoryBasics, W9_EveryAddressGivesTheResultW4Predicts) {
  for (const bool shared : {false, true}) {
    auto memory = this->make(MemoryType{2, 2, shared});
    const std::uint64_t end = memory.byte_length();
    std::vector<std::uint64_t> addresses;
    for (const std::uint64_t base :
         {std::uint64_t{0}, end, std::uint64_t{1} << 32, kU64Max - 16, std::uint64_t{1} << 63})
      for (std::uint64_t d = 0; d < 24; ++d) {
        if (d <= kU64Max - base) addresses.push_back(base + d);
        if (d <= base) addresses.push_back(base - d);
      }
    for (const std::uint64_t address : addresses) {
      SCOPED_TRACE(address);
      expect_wait_and_notify_follow_w4(memory, address, shared);
      std::byte buffer[8] = {};
      const bool in_bounds = models::fits(address, sizeof buffer, end);
      EXPECT_EQ(memory.read(address, buffer).has_value(), in_bounds);
      EXPECT_EQ(memory.write(address, buffer).has_value(), in_bounds);
    }
  }
}

TYPED_TEST(LinearMemoryBasics, W9_ReadAndWriteAreAllOrNothing) {
  auto memory = this->make(MemoryType{1, 2, false});
  const std::uint64_t end = memory.byte_length();
  std::vector<std::byte> out(16, std::byte{0x77});
  const std::vector<std::byte> in(16, std::byte{0x11});
  store<std::uint64_t>(memory, end - 8, 0x0102030405060708);
  for (const std::uint64_t address : {end - 15, end - 8, end + 1, kU64Max - 7, kU64Max}) {
    SCOPED_TRACE(address);
    EXPECT_EQ(code_of(memory.write(address, in)), ErrorCode::OutOfBounds);
    EXPECT_EQ(code_of(memory.read(address, out)), ErrorCode::OutOfBounds);
  }
  EXPECT_TRUE(
      std::all_of(out.begin(), out.end(), [](std::byte b) { return b == std::byte{0x77}; }));
  EXPECT_EQ(load<std::uint64_t>(memory, end - 8), 0x0102030405060708u);
  EXPECT_TRUE(memory.write(end - 16, in).has_value());
  EXPECT_TRUE(memory.read(end - 16, out).has_value());
  EXPECT_EQ(out, in);
  // Zero-length accesses at the end succeed; one byte further they do not.
  EXPECT_TRUE(memory.read(end, std::span<std::byte>()).has_value());
  EXPECT_TRUE(memory.write(end, std::span<const std::byte>()).has_value());
  EXPECT_EQ(code_of(memory.read(end + 1, std::span<std::byte>())), ErrorCode::OutOfBounds);
  EXPECT_EQ(memory.grow(1), 1u);  // the bounds follow the size
  EXPECT_TRUE(memory.write(end + 1, in).has_value());
}

TYPED_TEST(LinearMemoryBasics, W9_AnyCountExpectedAndTimeoutGivesAResult) {
  auto memory = this->make(shared_type(1, 1));
  for (const std::uint32_t count :
       {0u, 1u, 2u, static_cast<std::uint32_t>(INT32_MAX) + 1u, kAllValues})
    EXPECT_EQ(memory.atomic_notify(0, count), 0u);
  for (const std::int64_t timeout : {std::numeric_limits<std::int64_t>::min(), std::int64_t{-1}})
    EXPECT_EQ(memory.atomic_wait32(0, 1, timeout), WaitResult::NotEqual);
  for (const std::uint64_t expected : {std::uint64_t{1}, kU64Max, std::uint64_t{1} << 32}) {
    EXPECT_EQ(memory.atomic_wait64(0, expected, -1), WaitResult::NotEqual);
    EXPECT_EQ(memory.atomic_wait64(0, expected, std::numeric_limits<std::int64_t>::max()),
              WaitResult::NotEqual);
  }
}

}  // namespace
}  // namespace wrt::platform::linear_memory_testing
