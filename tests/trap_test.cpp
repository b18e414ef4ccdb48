// Section T on the real OS: faults in a live reservation's inaccessible bytes
// become traps (T1, T2, T5), everything else behaves as without the handler
// (T3), on every thread and nested (T4), while other threads allocate and
// deallocate (T6). Every test runs in a child process (trap_test_support.hpp).
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <thread>
#include <vector>

#include "deadline_test_support.hpp"
#include "trap_test_support.hpp"
#include "wrt/platform.hpp"
#ifdef WRT_PLATFORM_FAULT_INJECTION
#include "os/fault_injection.hpp"
#endif

namespace wrt::platform::trap_test {
namespace {

using testing_deadline::expect_eventually;
using testing_deadline::Gate;

TEST_F(TrapTest, T1_EveryWidthAtTheFirstUncommittedByteTraps) {
  WRT_IN_CHILD({
    install_or_fail();
    auto a = make_memory(1, 4);
    expect_every_access_traps_at(a.base() + a.committed_bytes());
  });
}

TEST_F(TrapTest, T2_EveryWidthEndingAtTheLastCommittedByteDoesNotTrap) {
  WRT_IN_CHILD({
    install_or_fail();
    auto a = make_memory(1, 4);
    expect_every_access_ending_at_the_committed_end_works(a);
  });
}

int g_plain_function_calls = 0;
void plain_function() { ++g_plain_function_calls; }

// A callable that counts its calls in `calls`, adding one more each time.
struct Counter {
  int* calls;
  int step = 0;
  void operator()() { *calls += ++step; }
};

TEST_F(TrapTest, T2_AnyInvocableBodyRunsAndReturnsNullopt) {
  int calls = 0;
  const auto const_body = [&calls] { ++calls; };
  Counter counter{&calls};
  WRT_IN_CHILD({
    install_or_fail();
    EXPECT_EQ(catch_traps(const_body), std::nullopt);
    EXPECT_EQ(catch_traps(counter), std::nullopt);
    EXPECT_EQ(catch_traps(std::move(counter)), std::nullopt);
    EXPECT_EQ(catch_traps(&plain_function), std::nullopt);
    EXPECT_EQ(calls, 1 + 1 + 2);
    EXPECT_EQ(g_plain_function_calls, 1);
  });
}

TEST_F(TrapTest, T1_AccessStraddlingTheCommittedEndTrapsAtTheFirstUncommittedByte) {
  WRT_IN_CHILD({
    install_or_fail();
    auto a = make_memory(1, 4);
    std::byte* const end = a.base() + a.committed_bytes();
    for (const std::size_t width : {2u, 4u, 8u}) {
      SCOPED_TRACE(width);
      expect_trap_at(trap_of_load(end - 1, width), end);
      expect_trap_at(trap_of_store(end - 1, width), end);
    }
  });
}

TEST_F(TrapTest, T1_EveryWidthInsideTheGuardTraps) {
  WRT_IN_CHILD({
    install_or_fail();
    auto a = make_memory(1, 1, 2 * kPage);
    std::byte* const guard = a.base() + a.reserved_bytes();
    expect_every_access_traps_at(guard);
    expect_every_access_traps_at(guard + kPage + 8);
    expect_every_access_traps_at(guard + 2 * kPage - 8);
  });
}

TEST_F(TrapTest, T1_T5_FourGiBReservationAndGuardCoverEvery32BitIndexPlusOffset) {
  if (sizeof(std::size_t) < 8) GTEST_SKIP() << "8 GiB of address space needs a 64-bit host";
  WRT_IN_CHILD({
    install_or_fail();
    auto a = make_memory(1, 1, k4GiB, k4GiB);
    EXPECT_EQ(a.reserved_bytes(), k4GiB);
    // The largest index plus the largest offset, minus the access width.
    std::byte* const last = a.base() + k4GiB + k4GiB - 2;
    for (const std::size_t width : {1u, 2u}) {
      expect_trap_at(trap_of_load(last, width), last);
      expect_trap_at(trap_of_store(last, width), last);
    }
    expect_every_access_traps_at(a.base() + k4GiB);      // first guard byte
    expect_every_access_traps_at(a.base() + kPage);      // past the maximum
    expect_every_access_traps_at(a.base() + k4GiB - 8);  // last reserved bytes
  });
}

TEST_F(TrapTest, T5_PagesBeyondTheMaximumAreNeverCommitted) {
  WRT_IN_CHILD({
    install_or_fail();
    auto a = make_memory(1, 2, 0, 16 * kPage);
    EXPECT_EQ(a.reserved_bytes(), 16 * kPage);
    ASSERT_TRUE(a.grow(1, 1));
    auto past = a.grow(2, 1);
    ASSERT_FALSE(past);
    EXPECT_EQ(past.error().code(), ErrorCode::CapacityExceeded);
    EXPECT_EQ(a.committed_pages(), 2u);
    expect_every_access_traps_at(a.base() + 2 * kPage);
    expect_every_access_traps_at(a.base() + 16 * kPage - 8);
  });
}

TEST_F(TrapTest, T1_AThousandTrapsInARowOnOneThread) {
  WRT_IN_CHILD({
    install_or_fail();
    auto a = make_memory(1, 2);
    std::byte* const p = a.base() + kPage;
    int traps = 0;
    for (int i = 0; i < 1000; ++i) {
      auto trap = i % 2 ? trap_of_load(p + i, 1) : trap_of_store(p + i, 4);
      if (trap && trap->address == p + i) ++traps;
    }
    EXPECT_EQ(traps, 1000);
    EXPECT_EQ(catch_traps([&] { store(a.base(), 8, 1); }), std::nullopt);  // still usable
  });
}

TEST_F(TrapTest, T1_GrowAfterATrapThenTheGrownPageIsAccessible) {
  WRT_IN_CHILD({
    install_or_fail();
    auto a = make_memory(1, 3);
    std::byte* const p = a.base() + kPage;
    expect_trap_at(trap_of_store(p, 8), p);
    ASSERT_TRUE(a.grow(1, 1));
    std::uint64_t seen = 1;
    EXPECT_EQ(catch_traps([&] { seen = load(p + kPage - 8, 8); }), std::nullopt);
    EXPECT_EQ(seen, 0u);  // A7: grown pages read zero
    EXPECT_EQ(trap_of_store(p, 8), std::nullopt);
    expect_trap_at(trap_of_load(p + kPage, 1), p + kPage);
  });
}

TEST_F(TrapTest, T1_MovedAllocatorKeepsTrapping) {
  WRT_IN_CHILD({
    install_or_fail();
    auto a = make_memory(1, 2);
    MmapPageAllocator b = std::move(a);
    expect_trap_at(trap_of_load(b.base() + kPage, 4), b.base() + kPage);
    MmapPageAllocator c;
    c = std::move(b);
    expect_trap_at(trap_of_load(c.base() + kPage, 4), c.base() + kPage);
  });
}

TEST_F(TrapTest, T4_TrapOnAThreadStartedBeforeInstall) {
  WRT_IN_CHILD({
    auto a = make_memory(1, 2);
    std::atomic<bool> installed{false};
    std::optional<Trap> trap;
    std::thread early([&] {
      if (expect_eventually([&] { return installed.load(); }, "the handler to be installed"))
        trap = trap_of_load(a.base() + kPage, 4);
    });
    install_or_fail();
    installed.store(true);
    early.join();
    expect_trap_at(trap, a.base() + kPage);
  });
}

TEST_F(TrapTest, T4_TrapsOnManyThreadsAtOnce) {
  WRT_IN_CHILD({
    install_or_fail();
    auto a = make_memory(1, 2);
    std::atomic<int> traps{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t)
      threads.emplace_back([&, t] {
        for (int i = 0; i < 200; ++i) {
          std::byte* const p = a.base() + kPage + static_cast<std::size_t>(t * 1000 + i);
          auto trap = trap_of_store(p, 1);
          if (trap && trap->address == p) traps.fetch_add(1);
        }
      });
    for (auto& t : threads) t.join();
    EXPECT_EQ(traps.load(), 800);
  });
}

TEST_F(TrapTest, T4_NestedCatchTrapsReportToTheInnermost) {
  WRT_IN_CHILD({
    install_or_fail();
    auto a = make_memory(1, 2);
    std::byte* const p = a.base() + kPage;
    std::optional<Trap> inner;
    bool outer_went_on = false;
    auto outer = catch_traps([&] {
      inner = trap_of_load(p + 16, 4);
      outer_went_on = true;
    });
    EXPECT_EQ(outer, std::nullopt);
    EXPECT_TRUE(outer_went_on);
    expect_trap_at(inner, p + 16);
    // An inner body that returns normally leaves the outer one catching.
    auto outer_trap = catch_traps([&] {
      EXPECT_EQ(catch_traps([&] { store(a.base(), 4, 7); }), std::nullopt);
      store(p + 32, 4, 7);
    });
    expect_trap_at(outer_trap, p + 32);
  });
}

TEST_F(TrapTest, T4_WithoutInstallTheBodyDoesNotRunAndHandlerNotInstalledIsReturned) {
  WRT_IN_CHILD({
    bool ran = false;
    auto trap = catch_traps([&] { ran = true; });
    ASSERT_TRUE(trap.has_value());
    EXPECT_EQ(trap->kind, TrapKind::HandlerNotInstalled);
    EXPECT_EQ(trap->address, nullptr);
    EXPECT_FALSE(ran);
  });
}

TEST_F(TrapTest, T4_InstallIsIdempotentAndThreadSafe) {
  WRT_IN_CHILD({
    std::vector<std::thread> threads;
    std::atomic<int> ok{0};
    for (int t = 0; t < 4; ++t)
      threads.emplace_back([&] {
        if (install_trap_handler()) ok.fetch_add(1);
      });
    for (auto& t : threads) t.join();
    EXPECT_EQ(ok.load(), 4);
    EXPECT_TRUE(install_trap_handler());
    auto a = make_memory(1, 2);
    expect_trap_at(trap_of_load(a.base() + kPage, 1), a.base() + kPage);
  });
}

// T3: faults that are not ours die as without the handler.
void null_load_inside_catch_traps() {
  install_or_fail();
  (void)catch_traps([] { (void)load(static_cast<const std::byte*>(nullptr), 4); });
}

TEST_F(TrapTest, T3_NullPointerInsideCatchTrapsStillKills) {
  EXPECT_EXIT(null_load_inside_catch_traps(), DiedOf{SIGSEGV}, death_report(SIGSEGV));
}

TEST_F(TrapTest, T3_ProtNonePageTheLibraryDidNotMapStillKills) {
  EXPECT_EXIT(
      {
        install_or_fail();
        auto a = make_memory(1, 2);
        void* page = mmap(nullptr, kPage, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        (void)catch_traps([&] { store(static_cast<std::byte*>(page), 4, 1); });
      },
      DiedOf{SIGSEGV}, death_report(SIGSEGV));
}

TEST_F(TrapTest, T3_DeallocatedMemorysFormerRangeStillKills) {
  EXPECT_EXIT(
      {
        install_or_fail();
        auto a = make_memory(1, 2);
        std::byte* const former = a.base() + kPage;
        ASSERT_TRUE(a.deallocate(a.base(), a.committed_bytes()));
        (void)catch_traps([&] { (void)load(former, 4); });
      },
      DiedOf{SIGSEGV}, death_report(SIGSEGV));
}

TEST_F(TrapTest, T3_UncommittedByteOutsideCatchTrapsStillKills) {
  EXPECT_EXIT(
      {
        install_or_fail();
        auto a = make_memory(1, 2);
        (void)load(a.base() + kPage, 4);
      },
      DiedOf{SIGSEGV}, death_report(SIGSEGV));
}

TEST_F(TrapTest, T3_SentSignalInsideCatchTrapsIsNotATrap) {
  EXPECT_EXIT(
      {
        install_or_fail();
        (void)catch_traps([] { raise(SIGSEGV); });
      },
      DiedOf{SIGSEGV}, death_report(SIGSEGV));
}

TEST_F(TrapTest, T3_SigbusWithTheDefaultActionStillKills) {
  EXPECT_EXIT(
      {
        install_or_fail();
        (void)catch_traps([] { raise(SIGBUS); });
      },
      DiedOf{SIGBUS}, death_report(SIGBUS));
}

// Sent and ignored before: still ignored, the body goes on.
TEST_F(TrapTest, T3_IgnoredSentSignalStaysIgnored) {
  WRT_IN_CHILD({
    signal(SIGSEGV, SIG_IGN);
    install_or_fail();
    bool went_on = false;
    EXPECT_EQ(catch_traps([&] {
                raise(SIGSEGV);
                went_on = true;
              }),
              std::nullopt);
    EXPECT_TRUE(went_on);
  });
}

// A fault cannot be ignored: the kernel forces the default action, and so do we.
TEST_F(TrapTest, T3_IgnoredFaultStillKills) {
  EXPECT_EXIT(
      {
        signal(SIGSEGV, SIG_IGN);
        install_or_fail();
        (void)catch_traps([] { (void)load(static_cast<const std::byte*>(nullptr), 4); });
      },
      ::testing::KilledBySignal(SIGSEGV), "");
}

// Previous handlers that repair the fault: they make the page accessible, so
// the access completes when the handler returns and the child can report.
std::byte* g_foreign_page = nullptr;
std::atomic<int> g_previous_calls{0};
std::atomic<const void*> g_previous_address{nullptr};

void repair_foreign_page() { mprotect(g_foreign_page, kPage, PROT_READ | PROT_WRITE); }

void previous_siginfo_handler(int, siginfo_t* info, void*) {
  g_previous_calls.fetch_add(1);
  g_previous_address.store(info->si_addr);
  repair_foreign_page();
}

void previous_plain_handler(int) {
  g_previous_calls.fetch_add(1);
  repair_foreign_page();
}

void install_previous(void (*siginfo)(int, siginfo_t*, void*), void (*plain)(int)) {
  struct sigaction action {};
  if (siginfo) {
    action.sa_sigaction = siginfo;
    action.sa_flags = SA_SIGINFO;
  } else {
    action.sa_handler = plain;
  }
  sigemptyset(&action.sa_mask);
  ASSERT_EQ(sigaction(SIGSEGV, &action, nullptr), 0);
}

void map_foreign_page() {
  void* page = mmap(nullptr, kPage, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(page, MAP_FAILED);
  g_foreign_page = static_cast<std::byte*>(page);
}

TEST_F(TrapTest, T3_PreviousSiginfoHandlerIsChained) {
  WRT_IN_CHILD({
    map_foreign_page();
    install_previous(previous_siginfo_handler, nullptr);
    install_or_fail();
    install_or_fail();  // idempotent: we never chain to ourselves
    EXPECT_EQ(catch_traps([] { store(g_foreign_page + 8, 4, 5); }), std::nullopt);
    EXPECT_EQ(g_previous_calls.load(), 1);
    EXPECT_EQ(g_previous_address.load(), g_foreign_page + 8);
    EXPECT_EQ(load(g_foreign_page + 8, 4), 5u);
    // Outside catch_traps too, and our traps still work.
    mprotect(g_foreign_page, kPage, PROT_NONE);
    store(g_foreign_page, 4, 6);
    EXPECT_EQ(g_previous_calls.load(), 2);
    auto a = make_memory(1, 2);
    expect_trap_at(trap_of_load(a.base() + kPage, 1), a.base() + kPage);
    EXPECT_EQ(g_previous_calls.load(), 2);
  });
}

TEST_F(TrapTest, T3_PreviousPlainHandlerIsChained) {
  WRT_IN_CHILD({
    map_foreign_page();
    install_previous(nullptr, previous_plain_handler);
    install_or_fail();
    EXPECT_EQ(catch_traps([] { store(g_foreign_page, 8, 5); }), std::nullopt);
    EXPECT_EQ(g_previous_calls.load(), 1);
    EXPECT_EQ(load(g_foreign_page, 8), 5u);
  });
}

// A real SIGBUS (a shared mapping of an empty file): not ours, so the
// previous SIGBUS handler runs; it makes the file long enough and returns.
int g_bus_file = -1;
std::atomic<int> g_bus_calls{0};

void previous_bus_handler(int, siginfo_t* info, void*) {
  g_bus_calls.fetch_add(1);
  g_previous_address.store(info->si_addr);
  if (ftruncate(g_bus_file, static_cast<off_t>(kPage)) != 0) _exit(3);
}

TEST_F(TrapTest, T3_PreviousSigbusHandlerIsChainedForARealBusError) {
  WRT_IN_CHILD({
    g_bus_file = memfd_create("wrt-trap-test", 0);
    ASSERT_GE(g_bus_file, 0);
    void* p = mmap(nullptr, kPage, PROT_READ | PROT_WRITE, MAP_SHARED, g_bus_file, 0);
    ASSERT_NE(p, MAP_FAILED);
    auto* const page = static_cast<std::byte*>(p);
    struct sigaction action {};
    action.sa_sigaction = previous_bus_handler;
    action.sa_flags = SA_SIGINFO;
    sigemptyset(&action.sa_mask);
    ASSERT_EQ(sigaction(SIGBUS, &action, nullptr), 0);
    install_or_fail();
    EXPECT_EQ(catch_traps([&] { store(page + 16, 4, 7); }), std::nullopt);
    EXPECT_EQ(g_bus_calls.load(), 1);
    EXPECT_EQ(g_previous_address.load(), page + 16);
    EXPECT_EQ(load(page + 16, 4), 7u);
  });
}

// Memory made inaccessible behind the library's back (here, a committed page
// of a live memory) is not ours: the handler retries once (it could have
// been a race with grow), then passes the second fault on.
TEST_F(TrapTest, T3_CommittedPageMadeInaccessibleIsRetriedOnceThenChained) {
  WRT_IN_CHILD({
    auto a = make_memory(2, 2);
    g_foreign_page = a.base() + kPage;
    install_previous(previous_siginfo_handler, nullptr);
    install_or_fail();
    ASSERT_EQ(mprotect(g_foreign_page, kPage, PROT_NONE), 0);
    EXPECT_EQ(catch_traps([] { store(g_foreign_page + 4, 4, 9); }), std::nullopt);
    EXPECT_EQ(g_previous_calls.load(), 1);
    EXPECT_EQ(load(g_foreign_page + 4, 4), 9u);
  });
}

// A shared memory grown by one thread while another accesses the next page:
// each access either traps (it ran before the grow) or succeeds; the process
// never dies of the race (Retry in trap/fault_policy.hpp).
TEST_F(TrapTest, T1_T6_AccessRacingAGrowTrapsOrSucceeds) {
  WRT_IN_CHILD({
    install_or_fail();
    constexpr std::uint32_t kPages = 64;
    auto a = make_memory(1, kPages);
    std::atomic<bool> grown{false};
    std::thread grower([&] {
      for (std::uint32_t p = 1; p < kPages; ++p) {
        auto grew = a.grow(p, 1);
        if (!grew) {
          ADD_FAILURE() << "grow to " << p + 1 << " pages: " << grew.error().message();
          break;
        }
      }
      grown.store(true);
    });
    std::uint32_t page = 1;
    expect_eventually(
        [&] {
          const bool final = grown.load();  // read first: a trap after it is final
          std::byte* const p = a.base() + std::size_t{page} * kPage;
          if (auto trap = trap_of_store(p, 4)) {
            EXPECT_EQ(trap->address, p);
            return final;
          }
          return ++page == kPages;
        },
        "the grower to commit every page");
    grower.join();
    EXPECT_EQ(page, kPages);
  });
}

#ifdef WRT_PLATFORM_FAULT_INJECTION
// The same race, reached for sure: the access faults before the grow of its
// page, and the handler (held by a seam hook) looks the address up only
// after the grow committed and published the page. The handler must run
// the access again, which now succeeds: neither a trap nor a fault passed
// on to the previous handler (which counts it).
TEST_F(TrapTest, T1_T6_AnAccessThatFaultedBeforeAGrowPublishedIsRetried) {
  WRT_IN_CHILD({
    install_previous(previous_siginfo_handler, nullptr);
    install_or_fail();
    auto a = make_memory(1, 2);
    Gate::reset();
    fault::before_trap_lookup(&Gate::hold);
    std::thread grower([&] {
      if (Gate::eventually_arrived(1, "the access to fault")) {
        EXPECT_TRUE(a.grow(1, 1));
      }
      Gate::open();
    });
    std::byte* const p = a.base() + kPage;
    EXPECT_EQ(trap_of_store(p, 4), std::nullopt);
    grower.join();
    fault::before_trap_lookup(nullptr);
    EXPECT_EQ(Gate::arrived.load(), 1);  // one fault, retried once
    EXPECT_EQ(g_previous_calls.load(), 0);
    EXPECT_EQ(load(p, 4), 0x89abcdefu);
  });
}
#endif

// T6: other threads allocate and deallocate memories while one thread traps.
TEST_F(TrapTest, T6_AllocateAndDeallocateOnOtherThreadsWhileTrapping) {
  WRT_IN_CHILD({
    install_or_fail();
    auto a = make_memory(1, 2);
    std::atomic<bool> done{false};
    std::vector<std::thread> churn;
    for (int t = 0; t < 2; ++t)
      churn.emplace_back([&] {
        while (!done.load()) {
          MmapPageAllocator other({.guard_bytes = kPage});
          if (other.allocate(1, 2)) {
            EXPECT_TRUE(other.deallocate(other.base(), kPage));
          }
        }
      });
    int traps = 0;
    for (int i = 0; i < 2000; ++i)
      if (auto trap = trap_of_load(a.base() + kPage + i, 1);
          trap && trap->address == a.base() + kPage + i)
        ++traps;
    done.store(true);
    for (auto& t : churn) t.join();
    EXPECT_EQ(traps, 2000);
  });
}

// T7: with the handler installed, the sanitizer still reports a real bug
// inside catch_traps.
TEST_F(TrapTest, T7_SanitizerStillReportsAHeapOverflowInsideCatchTraps) {
#if !defined(WRT_PLATFORM_TRAP_TEST_ASAN)
  GTEST_SKIP() << "needs AddressSanitizer: without it a heap overflow goes unreported";
#endif
  EXPECT_DEATH(
      {
        install_or_fail();
        auto* heap = new std::byte[16];
        (void)catch_traps([&] { store(heap + 16, 1, 1); });
        delete[] heap;
      },
      "AddressSanitizer: heap-buffer-overflow");
}

#ifdef WRT_PLATFORM_FAULT_INJECTION
TEST_F(TrapTest, T4_FailedInstallInstallsNothingAndCanBeRetried) {
  WRT_IN_CHILD({
    struct sigaction before[2]{};
    sigaction(SIGSEGV, nullptr, &before[0]);
    sigaction(SIGBUS, nullptr, &before[1]);
    // Each call: read SIGSEGV, read SIGBUS, install SIGSEGV, install SIGBUS.
    for (std::uint32_t failing = 0; failing < 4; ++failing) {
      SCOPED_TRACE(failing);
      fault::reset();
      fault::fail(fault::OsCall::Sigaction, EINVAL, failing);
      auto installed = install_trap_handler();
      ASSERT_FALSE(installed);
      EXPECT_EQ(installed.error().code(), ErrorCode::SystemError);
      EXPECT_EQ(installed.error().os_errno(), EINVAL);
      struct sigaction now {};
      sigaction(SIGSEGV, nullptr, &now);
      EXPECT_EQ(now.sa_sigaction, before[0].sa_sigaction);
      sigaction(SIGBUS, nullptr, &now);
      EXPECT_EQ(now.sa_sigaction, before[1].sa_sigaction);
      auto trap = catch_traps([] {});
      ASSERT_TRUE(trap);
      EXPECT_EQ(trap->kind, TrapKind::HandlerNotInstalled);
    }
    fault::reset();
    install_or_fail();
    EXPECT_EQ(fault::calls(fault::OsCall::Sigaction), 4u);
    auto a = make_memory(1, 2);
    expect_trap_at(trap_of_load(a.base() + kPage, 1), a.base() + kPage);
  });
}
#endif

}  // namespace
}  // namespace wrt::platform::trap_test
