// The kit's memory cases: A7-A9 and W1-W9 through Memory, S7 with two
// memories. Memories of 64 KiB pages, a few pages each.
#include <algorithm>
#include <array>
#include <chrono>
#include <cstring>
#include <vector>

#include "kit.hpp"

namespace wrt::platform::conformance::kit {
namespace {

constexpr std::byte kMark{0xA5};

MemoryType type(std::uint64_t initial, std::uint64_t maximum, bool shared) {
  return MemoryType{.initial_pages = initial, .maximum_pages = maximum, .shared = shared};
}

template <typename T>
void expect_error(const Result<T>& result, ErrorCode code, const char* call) {
  if (result) {
    ADD_FAILURE() << call << ": expected " << error_code_name(code) << ", got a value";
  } else {
    EXPECT_EQ(result.error().code(), code) << call << ": " << result.error().message();
  }
}

void expect_wait(const Result<WaitResult>& result, WaitResult expected, const char* call) {
  ASSERT_TRUE(result.has_value()) << call << ": " << result.error().message();
  EXPECT_EQ(static_cast<int>(*result), static_cast<int>(expected))
      << call << " (0 Woken, 1 NotEqual, 2 TimedOut)";
}

// Writes kMark at the first, a middle and the last byte of every page.
void mark_pages(Memory& memory) {
  for (std::uint64_t page = 0; page < memory.size(); ++page)
    for (const std::uint64_t at : {page * kPage, page * kPage + 4097, page * kPage + kPage - 1})
      ASSERT_TRUE(memory.write(at, std::span(&kMark, 1)).has_value());
}

// The bytes mark_pages writes, for `pages` pages, the rest zero.
std::vector<std::byte> marked(std::uint64_t pages, std::uint64_t total_pages) {
  std::vector<std::byte> bytes(static_cast<std::size_t>(total_pages * kPage));
  for (std::size_t page = 0; page < pages; ++page)
    for (const std::size_t at : {page * kPage, page * kPage + 4097, page * kPage + kPage - 1})
      bytes[at] = kMark;
  return bytes;
}

void w1_create_gives_initial_pages_of_zero_bytes(Adapter& adapter) {
  for (const bool shared : {false, true}) {
    const auto memory = make_memory(adapter, type(2, 4, shared));
    ASSERT_NE(memory, nullptr);
    EXPECT_EQ(memory->size(), 2u);
    EXPECT_NE(memory->data(), nullptr);
    EXPECT_EQ(read_all(*memory), std::vector<std::byte>(2 * kPage)) << "shared " << shared;
  }
}

void w1_invalid_types_are_invalid_argument(Adapter& adapter) {
  expect_error(adapter.create_memory(
                   MemoryType{.initial_pages = 1, .maximum_pages = std::nullopt, .shared = true}),
               ErrorCode::InvalidArgument, "create_memory(shared, no maximum)");
  expect_error(adapter.create_memory(type(3, 2, false)), ErrorCode::InvalidArgument,
               "create_memory(maximum < initial)");
}

void a7_grow_zero_fills_new_pages_and_keeps_earlier_bytes(Adapter& adapter) {
  for (const bool shared : {false, true}) {
    const auto memory = make_memory(adapter, type(1, 4, shared));
    ASSERT_NE(memory, nullptr);
    mark_pages(*memory);
    const auto previous = memory->grow(2);
    ASSERT_TRUE(previous.has_value()) << previous.error().message();
    EXPECT_EQ(*previous, 1u);
    EXPECT_EQ(memory->size(), 3u);
    EXPECT_EQ(read_all(*memory), marked(1, 3)) << "shared " << shared;
  }
}

void a8_grow_by_zero_returns_the_size_and_changes_nothing(Adapter& adapter) {
  const auto memory = make_memory(adapter, type(2, 4, false));
  ASSERT_NE(memory, nullptr);
  mark_pages(*memory);
  const auto previous = memory->grow(0);
  ASSERT_TRUE(previous.has_value()) << previous.error().message();
  EXPECT_EQ(*previous, 2u);
  EXPECT_EQ(memory->size(), 2u);
  EXPECT_EQ(read_all(*memory), marked(2, 2));
}

void a9_grow_past_the_maximum_fails_and_changes_nothing(Adapter& adapter) {
  for (const bool shared : {false, true}) {
    const auto memory = make_memory(adapter, type(1, 3, shared));
    ASSERT_NE(memory, nullptr);
    mark_pages(*memory);
    for (const std::uint64_t delta : {std::uint64_t{3}, std::uint64_t{1} << 32, UINT64_MAX})
      expect_error(memory->grow(delta), ErrorCode::CapacityExceeded, "grow past the maximum");
    EXPECT_EQ(memory->size(), 1u);
    EXPECT_EQ(read_all(*memory), marked(1, 1));
    ASSERT_TRUE(memory->grow(2).has_value()) << "grow to exactly the maximum";
    expect_error(memory->grow(1), ErrorCode::CapacityExceeded, "grow at the maximum");
    EXPECT_EQ(memory->size(), 3u);
  }
}

void w2_grow_never_moves_the_base(Adapter& adapter) {
  for (const bool shared : {false, true}) {
    const auto memory = make_memory(adapter, type(1, 8, shared));
    ASSERT_NE(memory, nullptr);
    std::byte* const base = memory->data();
    for (int i = 0; i < 7; ++i) {
      ASSERT_TRUE(memory->grow(1).has_value());
      if (memory->data() != base) {
        ADD_FAILURE() << "grow " << i + 1 << " moved the base of a memory, shared " << shared;
        break;
      }
    }
  }
}

// W3: concurrent grows chain (every previous size from 1 to maximum - 1 is
// returned exactly once), and a reader sees size() never decrease and every
// byte below a size it saw readable.
void w3_concurrent_grows_chain_and_size_never_decreases(Adapter& adapter) {
  constexpr std::uint64_t kMaximum = 33;
  const auto memory = make_memory(adapter, type(1, kMaximum, true));
  ASSERT_NE(memory, nullptr);
  std::atomic<bool> growing{true};
  std::atomic<int> reader_failures{0};
  Worker reader([&] {
    std::uint64_t seen = 0;
    while (growing.load()) {
      const std::uint64_t size = memory->size();
      std::byte last{};
      if (size < seen || !memory->read(size * kPage - 1, std::span(&last, 1))) ++reader_failures;
      seen = size;
    }
  });
  std::array<std::vector<std::uint64_t>, 4> results;
  std::vector<std::unique_ptr<Worker>> growers;
  for (auto& result : results)
    growers.push_back(std::make_unique<Worker>([&memory, &result] {
      for (auto grown = memory->grow(1); grown; grown = memory->grow(1)) result.push_back(*grown);
    }));
  for (auto& grower : growers) grower->finish("a thread growing the shared memory to its maximum");
  growing.store(false);
  reader.finish("the reader of size()");
  std::vector<std::uint64_t> all;
  for (const auto& result : results) all.insert(all.end(), result.begin(), result.end());
  std::sort(all.begin(), all.end());
  std::vector<std::uint64_t> chain(kMaximum - 1);
  for (std::uint64_t i = 0; i < chain.size(); ++i) chain[i] = i + 1;
  EXPECT_EQ(all, chain) << "the previous sizes returned by concurrent grow(1)";
  EXPECT_EQ(memory->size(), kMaximum);
  EXPECT_EQ(reader_failures.load(), 0) << "size() decreased or a byte below it was unreadable";
}

void w4_misaligned_comes_before_out_of_bounds(Adapter& adapter) {
  const auto memory = make_memory(adapter, type(1, 1, true));
  ASSERT_NE(memory, nullptr);
  const std::uint64_t end = kPage;
  expect_error(memory->wait32(end + 2, 0, 0), ErrorCode::Misaligned, "wait32(end + 2)");
  expect_error(memory->wait64(end + 4, 0, 0), ErrorCode::Misaligned, "wait64(end + 4)");
  expect_error(memory->wait64(end - 4, 0, 0), ErrorCode::Misaligned, "wait64(end - 4)");
  expect_error(memory->notify(end + 1, 1), ErrorCode::Misaligned, "notify(end + 1)");
  expect_error(memory->wait32(end, 0, 0), ErrorCode::OutOfBounds, "wait32(end)");
  expect_error(memory->wait64(end, 0, 0), ErrorCode::OutOfBounds, "wait64(end)");
  expect_error(memory->notify(end, 1), ErrorCode::OutOfBounds, "notify(end)");
  expect_error(memory->wait32(UINT64_MAX - 3, 0, 0), ErrorCode::OutOfBounds, "wait32(2^64 - 4)");
  expect_error(memory->notify(UINT64_MAX - 3, 1), ErrorCode::OutOfBounds, "notify(2^64 - 4)");
  // The last aligned word is in bounds.
  expect_wait(memory->wait32(end - 4, 1, 0), WaitResult::NotEqual, "wait32(end - 4)");
  expect_wait(memory->wait64(end - 8, 0, 0), WaitResult::TimedOut, "wait64(end - 8)");
}

void w4_waits_on_an_unshared_memory_are_not_shared_after_the_other_checks(Adapter& adapter) {
  const auto memory = make_memory(adapter, type(1, 1, false));
  ASSERT_NE(memory, nullptr);
  expect_error(memory->wait32(2, 0, 0), ErrorCode::Misaligned, "unshared wait32(2)");
  expect_error(memory->wait64(kPage, 0, 0), ErrorCode::OutOfBounds, "unshared wait64(end)");
  expect_error(memory->wait32(0, 0, 0), ErrorCode::NotShared, "unshared wait32, equal");
  expect_error(memory->wait32(0, 1, 0), ErrorCode::NotShared, "unshared wait32, differing");
  expect_error(memory->wait64(8, 1, 0), ErrorCode::NotShared, "unshared wait64, differing");
  expect_error(memory->notify(1, 1), ErrorCode::Misaligned, "unshared notify(1)");
  const auto woken = memory->notify(0, UINT32_MAX);
  ASSERT_TRUE(woken.has_value()) << woken.error().message();
  EXPECT_EQ(*woken, 0u) << "notify on an unshared memory";
}

void w5_a_differing_value_is_not_equal_and_timeouts_time_out(Adapter& adapter) {
  const auto memory = make_memory(adapter, type(1, 1, true));
  ASSERT_NE(memory, nullptr);
  word<std::uint32_t>(*memory, 4).store(7);
  word<std::uint64_t>(*memory, 8).store(7);
  expect_wait(memory->wait32(4, 6, kLongWaitNs), WaitResult::NotEqual, "wait32, differing");
  expect_wait(memory->wait64(8, 6, kLongWaitNs), WaitResult::NotEqual, "wait64, differing");
  expect_wait(memory->wait32(4, 7, 0), WaitResult::TimedOut, "wait32, timeout 0");
  expect_wait(memory->wait64(8, 7, 0), WaitResult::TimedOut, "wait64, timeout 0");
  constexpr auto kTimeout = std::chrono::milliseconds(5);
  const auto start = std::chrono::steady_clock::now();
  expect_wait(memory->wait32(4, 7, std::chrono::nanoseconds(kTimeout).count()),
              WaitResult::TimedOut, "wait32, timeout 5 ms");
  EXPECT_GE(std::chrono::steady_clock::now() - start, kTimeout) << "TimedOut before the timeout";
}

// W5: Woken only when a notify chose the waiter. Each round a waiter waits
// (50 ms) on a word that the test changes without a notify; the round
// counts when the waiter compared before the store (TimedOut), and three
// such rounds must see no Woken. Whether a waiter compares before the store
// is up to the scheduler (a slow build under load lost 48 of 50 rounds), so
// the rounds go on, one word each, until three count: up to the 16,384
// words of the page, and each round that does not count returns at once.
void w5_a_store_without_a_notify_never_wakes_a_waiter(Adapter& adapter) {
  const auto memory = make_memory(adapter, type(1, 1, true));
  ASSERT_NE(memory, nullptr);
  constexpr std::int64_t kTimeoutNs = 50'000'000;
  int slept_through = 0;
  for (std::uint64_t address = 0; address < kPage && slept_through < 3; address += 4) {
    std::atomic<bool> arrived{false};
    Result<WaitResult> result = WaitResult::NotEqual;
    Worker waiter([&] {
      arrived.store(true);
      result = memory->wait32(address, 0, kTimeoutNs);
    });
    expect_eventually([&] { return arrived.load(); }, "the waiter to start");
    word<std::uint32_t>(*memory, address).store(1);
    waiter.finish("a 50 ms wait to return");
    ASSERT_TRUE(result.has_value()) << result.error().message();
    ASSERT_NE(*result, WaitResult::Woken) << "a store without a notify woke the waiter";
    if (*result == WaitResult::TimedOut) ++slept_through;
  }
  EXPECT_EQ(slept_through, 3) << "rounds in which the waiter slept through the store";
}

// W6 (W7 for wait64): notify(1) wakes one waiter at a time and returns
// exactly how many it woke; every woken waiter returns Woken.
void notify_wakes_waiters_one_at_a_time(Memory& memory, bool wait64) {
  constexpr std::uint32_t kWaiters = 3;
  std::atomic<std::uint32_t> arrived{0};
  std::atomic<std::uint32_t> woken{0};
  std::vector<std::unique_ptr<Worker>> waiters;
  for (std::uint32_t i = 0; i < kWaiters; ++i)
    waiters.push_back(std::make_unique<Worker>([&] {
      arrived.fetch_add(1);
      const auto result =
          wait64 ? memory.wait64(0, 0, kLongWaitNs) : memory.wait32(0, 0, kLongWaitNs);
      if (result && *result == WaitResult::Woken) woken.fetch_add(1);
    }));
  expect_eventually([&] { return arrived.load() == kWaiters; }, "the waiters to start");
  const auto none = memory.notify(0, 0);
  ASSERT_TRUE(none.has_value());
  EXPECT_EQ(*none, 0u) << "notify(count 0)";
  std::uint32_t total = 0;
  expect_eventually(
      [&] {
        const auto count = memory.notify(0, 1);
        if (!count || *count > 1) {
          ADD_FAILURE() << "notify(1) returned " << (count ? *count : 99) << " or an error";
          return true;
        }
        total += *count;
        return total >= kWaiters;
      },
      "notify(1) to wake the three waiters one by one");
  for (auto& waiter : waiters) waiter->finish("a notified waiter to return");
  EXPECT_EQ(total, kWaiters) << "the sum of notify results";
  EXPECT_EQ(woken.load(), kWaiters) << "waits that returned Woken";
  const auto after = memory.notify(0, UINT32_MAX);
  ASSERT_TRUE(after.has_value());
  EXPECT_EQ(*after, 0u) << "notify with nobody waiting";
}

void w6_notify_returns_exactly_how_many_it_woke(Adapter& adapter) {
  const auto memory = make_memory(adapter, type(1, 1, true));
  ASSERT_NE(memory, nullptr);
  notify_wakes_waiters_one_at_a_time(*memory, false);
}

void w7_wait64_compares_all_64_bits_and_notify_wakes_it(Adapter& adapter) {
  const auto memory = make_memory(adapter, type(1, 1, true));
  ASSERT_NE(memory, nullptr);
  const std::uint64_t value = 0x0000'0001'0000'0002;
  word<std::uint64_t>(*memory, 8).store(value);
  expect_wait(memory->wait64(8, 0x2, kLongWaitNs), WaitResult::NotEqual, "high half differs");
  expect_wait(memory->wait64(8, 0x0000'0001'0000'0003, kLongWaitNs), WaitResult::NotEqual,
              "low half differs");
  expect_wait(memory->wait64(8, value, 0), WaitResult::TimedOut, "equal, timeout 0");
  notify_wakes_waiters_one_at_a_time(*memory, true);
}

// W8: notifies on another address of the memory, and on the same offset
// of another memory, wake nobody while a waiter waits on offset 0.
void w8_a_notify_wakes_only_waiters_on_its_own_address(Adapter& adapter) {
  const auto memory = make_memory(adapter, type(1, 1, true));
  const auto other = make_memory(adapter, type(1, 1, true));
  ASSERT_NE(memory, nullptr);
  ASSERT_NE(other, nullptr);
  std::atomic<bool> arrived{false};
  Result<WaitResult> result = WaitResult::NotEqual;
  Worker waiter([&] {
    arrived.store(true);
    result = memory->wait32(0, 0, kLongWaitNs);
  });
  expect_eventually([&] { return arrived.load(); }, "the waiter to start");
  for (int i = 0; i < 200; ++i) {
    EXPECT_EQ(memory->notify(4, UINT32_MAX).value_or(99), 0u) << "notify on offset 4";
    EXPECT_EQ(other->notify(0, UINT32_MAX).value_or(99), 0u) << "notify on another memory";
  }
  EXPECT_FALSE(waiter.done()) << "the waiter returned without a notify on its address";
  expect_eventually([&] { return memory->notify(0, 1).value_or(1) == 1; },
                    "notify on the waiter's address to wake it");
  waiter.finish("the notified waiter to return");
  ASSERT_TRUE(result.has_value()) << result.error().message();
  EXPECT_EQ(*result, WaitResult::Woken);
}

void w9_out_of_bounds_accesses_fail_and_touch_nothing(Adapter& adapter) {
  const auto memory = make_memory(adapter, type(1, 2, false));
  ASSERT_NE(memory, nullptr);
  const std::array<std::byte, 4> ones{std::byte{1}, std::byte{1}, std::byte{1}, std::byte{1}};
  expect_error(memory->write(kPage - 2, ones), ErrorCode::OutOfBounds, "write across the end");
  expect_error(memory->write(UINT64_MAX - 1, ones), ErrorCode::OutOfBounds, "write at 2^64 - 2");
  std::array<std::byte, 4> buffer = ones;
  expect_error(memory->read(kPage - 2, buffer), ErrorCode::OutOfBounds, "read across the end");
  expect_error(memory->read(UINT64_MAX - 1, buffer), ErrorCode::OutOfBounds, "read at 2^64 - 2");
  EXPECT_EQ(buffer, ones) << "a failed read wrote the buffer";
  EXPECT_EQ(read_all(*memory), std::vector<std::byte>(kPage)) << "a failed write wrote bytes";
  EXPECT_TRUE(memory->read(kPage, std::span<std::byte>()).has_value()) << "empty read at the end";
}

// S7: two memories share no bytes, no size and no waiters (W8 for waiters).
void s7_two_memories_share_no_bytes_and_no_size(Adapter& adapter) {
  const auto first = make_memory(adapter, type(1, 2, true));
  const auto second = make_memory(adapter, type(1, 2, true));
  ASSERT_NE(first, nullptr);
  ASSERT_NE(second, nullptr);
  mark_pages(*first);
  ASSERT_TRUE(first->grow(1).has_value());
  EXPECT_EQ(second->size(), 1u) << "growing one memory changed the other";
  EXPECT_EQ(read_all(*second), std::vector<std::byte>(kPage)) << "bytes of the other memory";
  const auto begin1 = reinterpret_cast<std::uintptr_t>(first->data());
  const auto begin2 = reinterpret_cast<std::uintptr_t>(second->data());
  EXPECT_TRUE(begin1 + 2 * kPage <= begin2 || begin2 + kPage <= begin1)
      << "the memories' committed bytes overlap";
}

constexpr Case kCases[] = {
    {"W1_CreateGivesInitialPagesOfZeroBytes", Needs::Nothing,
     w1_create_gives_initial_pages_of_zero_bytes},
    {"W1_SharedWithoutMaximumOrMaximumBelowInitialIsInvalidArgument", Needs::Nothing,
     w1_invalid_types_are_invalid_argument},
    {"A7_GrowZeroFillsNewPagesAndKeepsEarlierBytes", Needs::Nothing,
     a7_grow_zero_fills_new_pages_and_keeps_earlier_bytes},
    {"A8_GrowByZeroReturnsTheSizeAndChangesNothing", Needs::Nothing,
     a8_grow_by_zero_returns_the_size_and_changes_nothing},
    {"A9_GrowPastTheMaximumFailsAndChangesNothing", Needs::Nothing,
     a9_grow_past_the_maximum_fails_and_changes_nothing},
    {"W2_GrowNeverMovesTheBase", Needs::Nothing, w2_grow_never_moves_the_base},
    {"W3_ConcurrentGrowsChainAndSizeNeverDecreases", Needs::Nothing,
     w3_concurrent_grows_chain_and_size_never_decreases},
    {"W4_MisalignedComesBeforeOutOfBounds", Needs::Nothing,
     w4_misaligned_comes_before_out_of_bounds},
    {"W4_WaitsOnAnUnsharedMemoryAreNotSharedAfterTheOtherChecks", Needs::Nothing,
     w4_waits_on_an_unshared_memory_are_not_shared_after_the_other_checks},
    {"W5_ADifferingValueIsNotEqualAndTimeoutsTimeOut", Needs::Nothing,
     w5_a_differing_value_is_not_equal_and_timeouts_time_out},
    {"W5_AStoreWithoutANotifyNeverWakesAWaiter", Needs::Nothing,
     w5_a_store_without_a_notify_never_wakes_a_waiter},
    {"W6_NotifyReturnsExactlyHowManyItWoke", Needs::Nothing,
     w6_notify_returns_exactly_how_many_it_woke},
    {"W7_Wait64ComparesAll64BitsAndNotifyWakesIt", Needs::Nothing,
     w7_wait64_compares_all_64_bits_and_notify_wakes_it},
    {"W8_ANotifyWakesOnlyWaitersOnItsOwnAddress", Needs::Nothing,
     w8_a_notify_wakes_only_waiters_on_its_own_address},
    {"W9_OutOfBoundsAccessesFailAndTouchNothing", Needs::Nothing,
     w9_out_of_bounds_accesses_fail_and_touch_nothing},
    {"S7_TwoMemoriesShareNoBytesAndNoSize", Needs::Nothing,
     s7_two_memories_share_no_bytes_and_no_size},
};

}  // namespace

std::span<const Case> memory_cases() { return kCases; }

}  // namespace wrt::platform::conformance::kit
