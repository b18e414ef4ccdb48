// PalMemoryProvider<A> (docs/SPEC.md, P1-P4), typed over every page
// allocator backend.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <new>
#include <span>
#include <stdexcept>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

#include "memory_backend_support.hpp"
#include "wrt/platform.hpp"

namespace wrt::platform {
namespace {

constexpr std::size_t kSizeMax = std::numeric_limits<std::size_t>::max();
using memory_testing::Backend;
using memory_testing::BackendName;
using memory_testing::Backends;
using memory_testing::kLimitPages;
using memory_testing::value_or_throw;

template <typename A>
class MemoryProvider : public ::testing::Test {
 protected:
  PalMemoryProvider<A> create(std::uint32_t initial_pages,
                              std::optional<std::uint32_t> maximum_pages) {
    auto provider = PalMemoryProvider<A>::create(backend_.make(), initial_pages, maximum_pages);
    return std::move(value_or_throw(provider));
  }

  Result<PalMemoryProvider<A>> try_create(std::uint32_t initial_pages,
                                          std::optional<std::uint32_t> maximum_pages) {
    return PalMemoryProvider<A>::create(backend_.make(), initial_pages, maximum_pages);
  }

  A make_allocator() { return backend_.make(); }

 private:
  Backend<A> backend_;
};

TYPED_TEST_SUITE(MemoryProvider, Backends, BackendName);

std::vector<std::byte> pattern(std::size_t size, std::uint8_t seed) {
  std::vector<std::byte> bytes(size);
  for (std::size_t i = 0; i < size; ++i)
    bytes[i] = static_cast<std::byte>(static_cast<std::uint8_t>(seed + i * 7));
  return bytes;
}

// Fills the whole memory with a pattern and returns a copy of it.
template <typename P>
std::vector<std::byte> fill_with_pattern(P& provider) {
  auto bytes = pattern(provider.capacity(), 0x5a);
  std::memcpy(provider.data(), bytes.data(), bytes.size());
  return bytes;
}

// "success" or the error code's name: readable in a failure message, and
// safe to call whatever the call returned.
template <typename T>
std::string outcome(const Result<T>& result) {
  return result ? "success" : error_code_name(result.error().code());
}

template <typename P>
bool memory_equals(const P& provider, const std::vector<std::byte>& expected) {
  return provider.capacity() == expected.size() &&
         std::memcmp(provider.data(), expected.data(), expected.size()) == 0;
}

template <typename P>
bool all_zero(const P& provider, std::size_t from, std::size_t to) {
  return std::all_of(provider.data() + from, provider.data() + to,
                     [](std::byte b) { return b == std::byte{0}; });
}

// --- P1: create ---

TYPED_TEST(MemoryProvider, P1_CreateAllocatesAndCapacityIsCommittedBytes) {
  auto provider = this->create(2, 4);
  EXPECT_EQ(provider.capacity(), 2 * kWasmPageSize);
  EXPECT_EQ(provider.pages(), 2u);
  ASSERT_NE(provider.data(), nullptr);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(provider.data()) % kWasmPageSize, 0u);
  EXPECT_EQ(provider.allocator().committed_bytes(), provider.capacity());
  EXPECT_TRUE(all_zero(provider, 0, provider.capacity()));
}

TYPED_TEST(MemoryProvider, P1_CreateWithZeroPagesHasZeroCapacityAndCanGrow) {
  auto provider = this->create(0, std::nullopt);
  EXPECT_EQ(provider.capacity(), 0u);
  EXPECT_NE(provider.data(), nullptr);
  std::byte one{1};
  EXPECT_EQ(outcome(provider.write(0, std::span(&one, 1))), "OutOfBounds");
  EXPECT_EQ(provider.grow(1), 0u);
  EXPECT_EQ(provider.capacity(), kWasmPageSize);
}

TYPED_TEST(MemoryProvider, P1_CreateForwardsInvalidArgumentWhenMaximumBelowInitial) {
  auto provider = this->try_create(3, 2);
  ASSERT_FALSE(provider);
  EXPECT_EQ(outcome(provider), "InvalidArgument");
  EXPECT_EQ(provider.error().os_errno(), 0);
}

TYPED_TEST(MemoryProvider, P1_CreateForwardsCapacityExceededAboveAllocatorLimit) {
  EXPECT_EQ(outcome(this->try_create(kLimitPages + 1, std::nullopt)), "CapacityExceeded");
  EXPECT_EQ(outcome(this->try_create(1, kLimitPages + 1)), "CapacityExceeded");
}

TYPED_TEST(MemoryProvider, P1_CreateForwardsAlreadyAllocated) {
  TypeParam allocator = this->make_allocator();
  ASSERT_TRUE(allocator.allocate(1, 2));
  auto provider = PalMemoryProvider<TypeParam>::create(std::move(allocator), 1, 2);
  ASSERT_FALSE(provider);
  EXPECT_EQ(outcome(provider), "AlreadyAllocated");
}

TYPED_TEST(MemoryProvider, P1_ProviderIsMoveOnlyAndMovedFromIsEmpty) {
  static_assert(!std::is_copy_constructible_v<PalMemoryProvider<TypeParam>>);
  static_assert(!std::is_copy_assignable_v<PalMemoryProvider<TypeParam>>);
  static_assert(std::is_nothrow_move_constructible_v<PalMemoryProvider<TypeParam>>);
  auto source = this->create(1, 2);
  const auto bytes = pattern(16, 3);
  ASSERT_TRUE(source.write(100, bytes));
  std::byte* const data = source.data();

  PalMemoryProvider<TypeParam> target = std::move(source);
  EXPECT_EQ(target.data(), data);
  std::vector<std::byte> out(16);
  ASSERT_TRUE(target.read(100, out));
  EXPECT_EQ(out, bytes);

  EXPECT_EQ(source.capacity(), 0u);  // NOLINT(bugprone-use-after-move): the contract under test
  EXPECT_EQ(outcome(source.read(0, out)), "OutOfBounds");
  EXPECT_EQ(outcome(source.atomic_u32(0)), "OutOfBounds");
  EXPECT_EQ(outcome(source.grow(1)), "NotAllocated");
}

// --- P2: read and write ---

TYPED_TEST(MemoryProvider, P2_WriteThenReadRoundTripsAnywhereInBounds) {
  auto provider = this->create(2, 2);
  const std::size_t capacity = provider.capacity();
  const auto bytes = pattern(64, 11);
  // Start, across the page boundary, and ending exactly at capacity.
  for (std::size_t offset : {std::size_t{0}, kWasmPageSize - 32, capacity - 64}) {
    ASSERT_TRUE(provider.write(offset, bytes)) << offset;
    std::vector<std::byte> out(bytes.size());
    ASSERT_TRUE(provider.read(offset, out)) << offset;
    EXPECT_EQ(out, bytes) << offset;
    EXPECT_EQ(std::memcmp(provider.data() + offset, bytes.data(), bytes.size()), 0) << offset;
  }
}

TYPED_TEST(MemoryProvider, P2_WriteMayOverlapItsOwnMemory) {
  auto provider = this->create(1, 1);
  const auto bytes = pattern(32, 9);
  ASSERT_TRUE(provider.write(0, bytes));
  // memory.copy within the memory: source and destination overlap.
  ASSERT_TRUE(provider.write(8, std::span<const std::byte>(provider.data(), 32)));
  std::vector<std::byte> out(32);
  ASSERT_TRUE(provider.read(8, out));
  EXPECT_EQ(out, bytes);
}

TYPED_TEST(MemoryProvider, P2_OutOfBoundsWriteTouchesNoByte) {
  auto provider = this->create(1, 2);
  const auto before = fill_with_pattern(provider);
  const std::size_t capacity = provider.capacity();
  const auto bytes = pattern(16, 0xa0);
  // Straddles the end: the first 8 bytes would fit.
  EXPECT_EQ(outcome(provider.write(capacity - 8, bytes)), "OutOfBounds");
  EXPECT_EQ(outcome(provider.write(capacity - 15, bytes)), "OutOfBounds");
  EXPECT_EQ(outcome(provider.write(capacity, bytes)), "OutOfBounds");
  EXPECT_EQ(outcome(provider.write(capacity + 1, {})), "OutOfBounds");
  const std::vector<std::byte> larger_than_memory(capacity + 1, std::byte{0xff});
  EXPECT_EQ(outcome(provider.write(0, larger_than_memory)), "OutOfBounds");
  EXPECT_TRUE(memory_equals(provider, before));
  // The same write that fits touches exactly its bytes.
  ASSERT_TRUE(provider.write(capacity - 16, bytes));
  EXPECT_EQ(std::memcmp(provider.data(), before.data(), capacity - 16), 0);
}

TYPED_TEST(MemoryProvider, P2_OutOfBoundsReadLeavesDestinationUntouched) {
  auto provider = this->create(1, 1);
  fill_with_pattern(provider);
  const std::size_t capacity = provider.capacity();
  const std::vector<std::byte> sentinel(16, std::byte{0xee});
  for (std::size_t offset : {capacity - 8, capacity - 15, capacity, capacity + 1}) {
    auto out = sentinel;
    EXPECT_EQ(outcome(provider.read(offset, out)), "OutOfBounds") << offset;
    EXPECT_EQ(out, sentinel) << offset;
  }
}

TYPED_TEST(MemoryProvider, P2_ZeroLengthAccessAtCapacitySucceeds) {
  for (std::uint32_t pages : {0u, 1u}) {
    auto provider = this->create(pages, 1);
    const std::size_t capacity = provider.capacity();
    EXPECT_TRUE(provider.write(capacity, {})) << pages;
    EXPECT_TRUE(provider.read(capacity, {})) << pages;
    EXPECT_EQ(outcome(provider.write(capacity + 1, {})), "OutOfBounds");
    EXPECT_EQ(outcome(provider.read(capacity + 1, {})), "OutOfBounds");
    EXPECT_EQ(outcome(provider.read(kSizeMax, {})), "OutOfBounds");
  }
}

TYPED_TEST(MemoryProvider, P2_OffsetsNearSizeMaxDoNotWrap) {
  auto provider = this->create(1, 1);
  const auto before = fill_with_pattern(provider);
  const auto bytes = pattern(16, 1);
  // offset + size wraps to a small number that a naive check would accept.
  for (std::size_t offset : {kSizeMax, kSizeMax - 7, kSizeMax - 15}) {
    EXPECT_EQ(outcome(provider.write(offset, bytes)), "OutOfBounds") << offset;
    auto out = pattern(16, 2);
    EXPECT_EQ(outcome(provider.read(offset, out)), "OutOfBounds") << offset;
    EXPECT_EQ(out, pattern(16, 2));
  }
  EXPECT_EQ(outcome(provider.atomic_u32(kSizeMax - 3)), "OutOfBounds");
  EXPECT_TRUE(memory_equals(provider, before));
}

// --- P3: grow ---

TYPED_TEST(MemoryProvider, P3_GrowReturnsPreviousPagesAndPreservesData) {
  auto provider = this->create(1, 4);
  const auto before = fill_with_pattern(provider);
  std::byte* const data = provider.data();

  auto previous = provider.grow(2);
  ASSERT_TRUE(previous) << previous.error().message();
  EXPECT_EQ(*previous, 1u);
  EXPECT_EQ(provider.pages(), 3u);
  EXPECT_EQ(provider.capacity(), 3 * kWasmPageSize);
  EXPECT_EQ(provider.data(), data);
  EXPECT_EQ(std::memcmp(provider.data(), before.data(), before.size()), 0);
  EXPECT_TRUE(all_zero(provider, kWasmPageSize, provider.capacity()));

  EXPECT_EQ(provider.grow(1), 3u);
  EXPECT_EQ(provider.pages(), 4u);
}

TYPED_TEST(MemoryProvider, P3_GrowZeroReturnsPagesAndChangesNothing) {
  auto provider = this->create(2, 4);
  const auto before = fill_with_pattern(provider);
  EXPECT_EQ(provider.grow(0), 2u);
  EXPECT_EQ(provider.pages(), 2u);
  EXPECT_TRUE(memory_equals(provider, before));
}

TYPED_TEST(MemoryProvider, P3_GrowPastMaximumReturnsCapacityExceededAndChangesNothing) {
  auto provider = this->create(2, 3);
  const auto before = fill_with_pattern(provider);
  std::byte* const data = provider.data();
  for (std::uint32_t additional : {2u, kLimitPages, std::numeric_limits<std::uint32_t>::max()}) {
    auto grown = provider.grow(additional);
    ASSERT_FALSE(grown) << additional;
    EXPECT_EQ(outcome(grown), "CapacityExceeded") << additional;
    EXPECT_EQ(provider.pages(), 2u);
    EXPECT_EQ(provider.data(), data);
    EXPECT_TRUE(memory_equals(provider, before));
  }
  // Exactly up to the maximum still works.
  EXPECT_EQ(provider.grow(1), 2u);
}

TYPED_TEST(MemoryProvider, P3_GrowWithoutMaximumReachesTheAllocatorLimit) {
  auto provider = this->create(1, std::nullopt);
  EXPECT_EQ(provider.grow(kLimitPages - 1), 1u);
  EXPECT_EQ(outcome(provider.grow(1)), "CapacityExceeded");
  EXPECT_EQ(provider.capacity(), kLimitPages * kWasmPageSize);
}

// --- P4: atomic_u32 ---

TYPED_TEST(MemoryProvider, P4_AtomicU32IsTheWordAtTheOffset) {
  auto provider = this->create(1, 1);
  const std::uint32_t value = 0x11223344;
  ASSERT_TRUE(provider.write(8, std::as_bytes(std::span(&value, 1))));
  auto word = provider.atomic_u32(8);
  ASSERT_TRUE(word) << word.error().message();
  EXPECT_EQ(reinterpret_cast<std::byte*>(*word), provider.data() + 8);

  std::atomic_ref<std::uint32_t> ref(**word);
  EXPECT_EQ(ref.load(), value);
  EXPECT_EQ(ref.fetch_add(1), value);
  std::uint32_t out = 0;
  ASSERT_TRUE(provider.read(8, std::as_writable_bytes(std::span(&out, 1))));
  EXPECT_EQ(out, value + 1);
}

TYPED_TEST(MemoryProvider, P4_AtomicU32RejectsMisalignedOffsets) {
  auto provider = this->create(1, 1);
  const std::size_t capacity = provider.capacity();
  for (std::size_t offset : {std::size_t{1}, std::size_t{2}, std::size_t{3}, std::size_t{4097}}) {
    EXPECT_EQ(outcome(provider.atomic_u32(offset)), "Misaligned") << offset;
  }
  // Alignment is checked first, also past the end.
  EXPECT_EQ(outcome(provider.atomic_u32(capacity + 2)), "Misaligned");
  EXPECT_EQ(outcome(provider.atomic_u32(kSizeMax)), "Misaligned");
}

TYPED_TEST(MemoryProvider, P4_AtomicU32NeedsTheWholeWordInBounds) {
  auto provider = this->create(1, 2);
  const std::size_t capacity = provider.capacity();
  EXPECT_TRUE(provider.atomic_u32(0));
  EXPECT_TRUE(provider.atomic_u32(capacity - 4));
  EXPECT_EQ(outcome(provider.atomic_u32(capacity)), "OutOfBounds");
  EXPECT_EQ(outcome(provider.atomic_u32(capacity + 4)), "OutOfBounds");
  ASSERT_EQ(provider.grow(1), 1u);
  EXPECT_TRUE(provider.atomic_u32(capacity));

  auto empty = this->create(0, 1);
  EXPECT_EQ(outcome(empty.atomic_u32(0)), "OutOfBounds");
}

TYPED_TEST(MemoryProvider, P4_WaitOnAddressWithDifferentValueReturnsNotEqual) {
  auto provider = this->create(1, 1);
  auto word = provider.atomic_u32(64);
  ASSERT_TRUE(word);
  std::atomic_ref<std::uint32_t>(**word).store(7);
  auto waited = wait_on_address(*word, 6);
  ASSERT_TRUE(waited) << waited.error().message();
  EXPECT_EQ(*waited, WaitResult::NotEqual);
  // Nobody waits on it, so nobody is woken.
  EXPECT_EQ(wake_address(*word, 1), 0u);
}

TYPED_TEST(MemoryProvider, P4_WakeAddressWakesAThreadWaitingInLinearMemory) {
  auto provider = this->create(1, 1);
  auto word = provider.atomic_u32(128);
  ASSERT_TRUE(word);
  std::uint32_t* const address = *word;
  std::atomic<bool> waiter_saw_woken{false};

  std::thread waiter([&] {
    // memory.atomic.wait in a loop: Woken may be spurious (F5). Each wait
    // is bounded, so a lost wake-up fails the test instead of hanging it.
    while (std::atomic_ref<std::uint32_t>(*address).load() == 0) {
      auto result = wait_on_address(address, 0, std::chrono::seconds(1));
      if (result && *result == WaitResult::Woken) waiter_saw_woken = true;
    }
  });

  // Keep waking until a wake reports that it really woke the waiter; the
  // waiter is then known to have been asleep on this word. The deadline only
  // stops a broken futex from hanging the test.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  std::uint32_t woken = 0;
  while (woken == 0 && std::chrono::steady_clock::now() < deadline) {
    auto result = wake_address(address, 1);
    if (!result) {
      ADD_FAILURE() << result.error().message();  // still release and join the waiter
      break;
    }
    woken = *result;
    std::this_thread::yield();
  }
  std::atomic_ref<std::uint32_t>(*address).store(1);
  ASSERT_TRUE(wake_address(address, std::numeric_limits<std::uint32_t>::max()));
  waiter.join();

  EXPECT_EQ(woken, 1u);
  EXPECT_TRUE(waiter_saw_woken);
}

}  // namespace
}  // namespace wrt::platform
