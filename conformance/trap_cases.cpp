// The kit's trap cases (need Capabilities::traps, the guard case also
// Capabilities::guard_bytes): T1, T2, T4 through Adapter::catch_traps, on a
// memory whose second page is reserved (below its maximum) but not
// committed, and in the guard after a memory's maximum.
#include <cstdint>
#include <optional>

#include "kit.hpp"

namespace wrt::platform::conformance::kit {
namespace {

// A one-byte load or store that the compiler must perform.
struct Access {
  std::byte* at;
  bool store;
  bool finished = false;
};

void touch(void* context) {
  auto& access = *static_cast<Access*>(context);
  if (access.store)
    *reinterpret_cast<volatile std::uint8_t*>(access.at) = 1;
  else
    static_cast<void>(*reinterpret_cast<const volatile std::uint8_t*>(access.at));
  access.finished = true;
}

std::optional<Trap> catch_access(Adapter& adapter, std::byte* at, bool store) {
  Access access{at, store};
  const auto trap = adapter.catch_traps(touch, &access);
  if (!trap) {
    EXPECT_TRUE(access.finished) << "catch_traps returned nullopt without running the body";
  }
  return trap;
}

void expect_trap_at(const std::optional<Trap>& trap, const std::byte* at, const char* what) {
  ASSERT_TRUE(trap.has_value()) << what << ": no trap";
  EXPECT_EQ(trap->kind, TrapKind::MemoryOutOfBounds) << what;
  EXPECT_EQ(trap->address, at) << what << ": the faulting address";
}

// T1 on the calling thread: loads and stores past the committed end trap,
// again and again; after a grow the same bytes are accessible (T2).
void trap_past_the_end_and_recover(Adapter& adapter) {
  const auto memory = make_memory(adapter, MemoryType{.initial_pages = 1, .maximum_pages = 2});
  ASSERT_NE(memory, nullptr);
  std::byte* const end = memory->data() + kPage;
  for (int round = 0; round < 3; ++round) {
    expect_trap_at(catch_access(adapter, end, false), end, "load at the committed end");
    expect_trap_at(catch_access(adapter, end + kPage - 1, true), end + kPage - 1,
                   "store at the last reserved byte");
  }
  ASSERT_TRUE(memory->grow(1).has_value());
  EXPECT_EQ(catch_access(adapter, end, true), std::nullopt) << "store after grow";
  std::byte value{};
  ASSERT_TRUE(memory->read(kPage, std::span(&value, 1)).has_value());
  EXPECT_EQ(value, std::byte{1}) << "the store after the grow";
}

void t1_an_access_past_the_committed_end_traps_and_the_thread_recovers(Adapter& adapter) {
  trap_past_the_end_and_recover(adapter);
}

// T1 in the guard: loads of the first and the last guard byte after a
// memory grown to its maximum trap (loads only: nothing is written there).
void t1_a_load_in_the_guard_after_the_maximum_traps(Adapter& adapter) {
  const auto memory = make_memory(adapter, MemoryType{.initial_pages = 1, .maximum_pages = 2});
  ASSERT_NE(memory, nullptr);
  ASSERT_TRUE(memory->grow(1).has_value());
  std::byte* const guard = memory->data() + 2 * kPage;
  std::byte* const last = guard + adapter.capabilities().guard_bytes - 1;
  expect_trap_at(catch_access(adapter, guard, false), guard, "load at the first guard byte");
  expect_trap_at(catch_access(adapter, last, false), last, "load at the last guard byte");
}

void t2_committed_bytes_never_trap(Adapter& adapter) {
  const auto memory = make_memory(adapter, MemoryType{.initial_pages = 2, .maximum_pages = 3});
  ASSERT_NE(memory, nullptr);
  for (const std::uint64_t at : {std::uint64_t{0}, kPage, 2 * kPage - 1})
    for (const bool store : {false, true})
      EXPECT_EQ(catch_access(adapter, memory->data() + at, store), std::nullopt)
          << "access at " << at << ", store " << store;
}

void t4_traps_are_caught_on_a_new_thread(Adapter& adapter) {
  Worker thread([&adapter] { trap_past_the_end_and_recover(adapter); });
  thread.finish("the trapping thread");
}

constexpr Case kCases[] = {
    {"T1_AnAccessPastTheCommittedEndTrapsAndTheThreadRecovers", Needs::Traps,
     t1_an_access_past_the_committed_end_traps_and_the_thread_recovers},
    {"T1_ALoadInTheGuardAfterTheMaximumTraps", Needs::Guard,
     t1_a_load_in_the_guard_after_the_maximum_traps},
    {"T2_CommittedBytesNeverTrap", Needs::Traps, t2_committed_bytes_never_trap},
    {"T4_TrapsAreCaughtOnANewThread", Needs::Traps, t4_traps_are_caught_on_a_new_thread},
};

}  // namespace

std::span<const Case> trap_cases() { return kCases; }

}  // namespace wrt::platform::conformance::kit
