// Section T on Windows (X3): the vectored exception handler of
// src/os/windows/fault_handlers.cpp, under Wine in the windows preset, and
// S4 there (EXCEPTION_STACK_OVERFLOW). The handler is installed once in the
// test process (ctest runs every test in its own process; HandlerNotInstalled
// skips when an earlier test of the same process installed); the one death
// test re-runs the binary in a child (gtest's only style on Windows).
#include <gtest/gtest.h>
#include <windows.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <thread>
#include <vector>

#include "trap_test_support.hpp"
#include "wrt/platform.hpp"
#ifdef WRT_PLATFORM_FAULT_INJECTION
#include "os/fault_injection.hpp"
#endif

namespace wrt::platform::trap_test {
namespace {

bool installed_in_this_process = false;

void install() {
  install_or_fail();
  installed_in_this_process = true;
}

TEST(WindowsTrap, X3_T1_HandlerNotInstalledBeforeInstallAndTheBodyDoesNotRun) {
  if (installed_in_this_process) GTEST_SKIP() << "an earlier test of this process installed";
  bool ran = false;
  const auto trap = catch_traps([&] { ran = true; });
  ASSERT_TRUE(trap.has_value());
  EXPECT_EQ(trap->kind, TrapKind::HandlerNotInstalled);
  EXPECT_EQ(trap->address, nullptr);
  EXPECT_FALSE(ran);
}

#ifdef WRT_PLATFORM_FAULT_INJECTION
TEST(WindowsTrap, X3_T1_InstallFailuresAreSystemErrorsAndALaterInstallWorks) {
  if (installed_in_this_process) GTEST_SKIP() << "an earlier test of this process installed";
  for (const std::uint32_t skip : {0u, 1u}) {  // TlsAlloc, AddVectoredExceptionHandler
    fault::fail(prim::OsCall::Sigaction, ERROR_NOT_ENOUGH_MEMORY, skip);
    const auto installed = install_trap_handler();
    fault::reset();
    ASSERT_FALSE(installed);
    EXPECT_EQ(installed.error().code(), ErrorCode::SystemError);
    EXPECT_EQ(catch_traps([] {})->kind, TrapKind::HandlerNotInstalled);
  }
  install();
  EXPECT_EQ(catch_traps([] {}), std::nullopt);
}
#endif

TEST(WindowsTrap, X3_T1_EveryWidthAtTheFirstUncommittedByteTraps) {
  install();
  auto a = make_memory(1, 4);
  expect_every_access_traps_at(a.base() + a.committed_bytes());
}

TEST(WindowsTrap, X3_T1_EveryWidthInTheGuardTraps) {
  install();
  auto a = make_memory(1, 1, 2 * kPage);
  expect_every_access_traps_at(a.base() + a.reserved_bytes());
  expect_every_access_traps_at(a.base() + a.reserved_bytes() + 2 * kPage - 8);
}

TEST(WindowsTrap, X3_T2_CommittedBytesDoNotTrap) {
  install();
  auto a = make_memory(2, 4);
  expect_every_access_ending_at_the_committed_end_works(a);
}

TEST(WindowsTrap, X3_T2_GrownBytesNoLongerTrap) {
  install();
  auto a = make_memory(1, 2);
  std::byte* const p = a.base() + kPage;
  expect_trap_at(trap_of_store(p, 4), p);
  ASSERT_TRUE(a.grow(1, 1));
  EXPECT_EQ(trap_of_store(p, 4), std::nullopt);
  EXPECT_EQ(load(p, 4), 0x89abcdefu);
}

TEST(WindowsTrap, X3_T4_AThousandTrapsInARowOnOneThread) {
  install();
  auto a = make_memory(1, 2);
  std::byte* const p = a.base() + a.committed_bytes();
  int traps = 0;
  for (int i = 0; i < 1000; ++i) {
    const auto trap = trap_of_load(p + (i % 64), 1);
    traps += trap && trap->kind == TrapKind::MemoryOutOfBounds && trap->address == p + (i % 64);
  }
  EXPECT_EQ(traps, 1000);
}

TEST(WindowsTrap, X3_T4_NestedCatchTrapsReportToTheInnermost) {
  install();
  auto a = make_memory(1, 2);
  std::byte* const p = a.base() + a.committed_bytes();
  std::optional<Trap> inner;
  bool outer_went_on = false;
  const auto outer = catch_traps([&] {
    inner = trap_of_store(p + 8, 8);
    outer_went_on = true;
    (void)load(p + 16, 2);
  });
  expect_trap_at(inner, p + 8);
  EXPECT_TRUE(outer_went_on);
  expect_trap_at(outer, p + 16);
  // Both targets are gone: a new catch_traps on this thread works normally.
  expect_trap_at(trap_of_load(p, 1), p);
  EXPECT_EQ(catch_traps([] {}), std::nullopt);
}

TEST(WindowsTrap, X3_T4_FourThreadsStartedBeforeTheInstallTrapAtOnce) {
  constexpr int kThreads = 4;
  constexpr int kTrapsEach = 100;
  std::atomic<bool> go{false};
  std::atomic<int> traps{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&] {
      MmapPageAllocator a;
      if (!a.allocate(1, 2)) return;
      std::byte* const p = a.base() + a.committed_bytes();
      while (!go.load()) std::this_thread::yield();
      for (int i = 0; i < kTrapsEach; ++i) {
        const auto trap = trap_of_store(p + i, 1);
        if (trap && trap->kind == TrapKind::MemoryOutOfBounds && trap->address == p + i) ++traps;
      }
    });
  install();
  go = true;
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(traps.load(), kThreads * kTrapsEach);
}

// T3: a fault outside every live reservation goes on to the handlers added
// after ours. This one commits the page of a region the test reserved
// itself (the faulting page), as a runtime's own handler might, and resumes
// the access.
// Atomic: the handler changes it behind the accesses' backs.
std::atomic<int> foreign_faults{0};
std::byte* foreign_region = nullptr;

LONG CALLBACK commit_foreign_region(EXCEPTION_POINTERS* exception) {
  const EXCEPTION_RECORD& record = *exception->ExceptionRecord;
  const auto address = static_cast<std::uintptr_t>(record.ExceptionInformation[1]);
  const auto begin = reinterpret_cast<std::uintptr_t>(foreign_region);
  if (record.ExceptionCode != EXCEPTION_ACCESS_VIOLATION || address < begin ||
      address >= begin + 2 * kPage)
    return EXCEPTION_CONTINUE_SEARCH;
  ++foreign_faults;
  std::byte* const page = foreign_region + (address - begin) / kPage * kPage;
  return VirtualAlloc(page, kPage, MEM_COMMIT, PAGE_READWRITE) != nullptr
             ? EXCEPTION_CONTINUE_EXECUTION
             : EXCEPTION_CONTINUE_SEARCH;
}

TEST(WindowsTrap, X3_T3_AFaultOutsideEveryReservationGoesToTheNextHandler) {
  install();
  foreign_region =
      static_cast<std::byte*>(VirtualAlloc(nullptr, 2 * kPage, MEM_RESERVE, PAGE_NOACCESS));
  ASSERT_NE(foreign_region, nullptr);
  void* const next = AddVectoredExceptionHandler(0, commit_foreign_region);
  ASSERT_NE(next, nullptr);
  foreign_faults = 0;
  EXPECT_EQ(trap_of_store(foreign_region + 24, 8), std::nullopt);  // inside catch_traps
  store(foreign_region + kPage, 1, 7);                             // and outside
  EXPECT_EQ(foreign_faults.load(), 2);
  EXPECT_EQ(load(foreign_region + 24, 8), 0x0123456789abcdefu);
  RemoveVectoredExceptionHandler(next);
  EXPECT_TRUE(VirtualFree(foreign_region, 0, MEM_RELEASE));
}

// ---- S4: stack overflow (EXCEPTION_STACK_OVERFLOW) ----------------------

// A StackOverflow trap whose address is in the lower half of the calling
// thread's stack reservation (where the recursion ran into the guard).
bool is_overflow_of_this_stack(const std::optional<Trap>& trap) {
  ULONG_PTR low = 0;
  ULONG_PTR high = 0;
  GetCurrentThreadStackLimits(&low, &high);
  const auto address = reinterpret_cast<ULONG_PTR>(trap ? trap->address : nullptr);
  return trap && trap->kind == TrapKind::StackOverflow && low <= address &&
         address < low + (high - low) / 2;
}

constexpr std::size_t kSmallStack = 256 * 1024;

// The exit code of a thread whose run() returned. Wine ends a thread whose
// overflow leaves no room for the exception with exit code 0
// (virtual_setup_exception: "stack overflow ... unrecoverable").
constexpr DWORD kReturned = 0x52455455;

template <typename Run>
DWORD WINAPI run_thread(void* run) {
  (*static_cast<Run*>(run))();
  return kReturned;
}

// Runs run() on a new thread with a stack reservation of kSmallStack. The
// thread must return within a minute: one that an overflow ended fails here.
template <typename Run>
void run_on_small_stack(Run& run) {
  HANDLE thread = CreateThread(nullptr, kSmallStack, &run_thread<Run>, &run,
                               STACK_SIZE_PARAM_IS_A_RESERVATION, nullptr);
  ASSERT_NE(thread, nullptr) << GetLastError();
  const DWORD waited = WaitForSingleObject(thread, 60'000);
  ASSERT_EQ(waited, WAIT_OBJECT_0) << "the thread did not finish within a minute";
  DWORD exit_code = STILL_ACTIVE;
  EXPECT_TRUE(GetExitCodeThread(thread, &exit_code));
  EXPECT_EQ(exit_code, kReturned) << "the thread did not return: a stack overflow ended it";
  CloseHandle(thread);
}

// What a thread did: 1,000 overflows, then a recursion of 256 frames of over
// 256 bytes (a quarter of the stack asked for; it runs through the guard page
// restored at the catch frame) and a memory trap. Read once the thread ended.
struct AThousandOverflows {
  int overflows = 0;
  bool recursion_returned = false;
  bool memory_trapped = false;
  void operator()() {
    for (int i = 0; i < 1000 && is_overflow_of_this_stack(overflow_inside_catch_traps()); ++i)
      ++overflows;
    auto nothing = [] {};
    recursion_returned =
        catch_traps([&] { (void)recurse_then(kSmallStack / 4 / 256, nothing); }) == std::nullopt;
    MmapPageAllocator a;
    if (!a.allocate(1, 2)) return;
    std::byte* const p = a.base() + a.committed_bytes();
    const auto trap = trap_of_load(p, 4);
    memory_trapped = trap && trap->kind == TrapKind::MemoryOutOfBounds && trap->address == p;
  }
};

TEST(WindowsTrap, S4_UnboundedRecursionIsAStackOverflowTrapAThousandTimesInARow) {
  install();
  AThousandOverflows run;
  run_on_small_stack(run);
  EXPECT_EQ(run.overflows, 1000);
  EXPECT_TRUE(run.recursion_returned);
  EXPECT_TRUE(run.memory_trapped);
}

// A catch_traps deep in a recursion gets the overflow of its own body; the
// outer one sees its body return normally, and the thread overflows again.
struct NestedOverflow {
  bool inner_overflowed = false;
  bool outer_returned = false;
  bool overflowed_again = false;
  void operator()() {
    std::optional<Trap> inner;
    auto catch_inner = [&] { inner = overflow_inside_catch_traps(); };
    outer_returned = catch_traps([&] { (void)recurse_then(100, catch_inner); }) == std::nullopt;
    inner_overflowed = is_overflow_of_this_stack(inner);
    overflowed_again = is_overflow_of_this_stack(overflow_inside_catch_traps());
  }
};

TEST(WindowsTrap, S4_NestedCatchTrapsInsideDeepRecursionReportsToTheInnermost) {
  install();
  NestedOverflow run;
  run_on_small_stack(run);
  EXPECT_TRUE(run.inner_overflowed);
  EXPECT_TRUE(run.outer_returned);
  EXPECT_TRUE(run.overflowed_again);
}

// Wine's ntdll exports wine_get_version; Windows' does not.
bool under_wine() {
  return GetProcAddress(GetModuleHandleW(L"ntdll.dll"), "wine_get_version") != nullptr;
}

// How a process ends of a stack overflow nothing handles. Windows ends it
// with the exception's code. Wine 8 cannot even run the unhandled-exception
// filter on the exhausted stack: it ends the thread ("stack overflow ...
// unrecoverable", virtual_setup_exception), with an exit status that is not
// the code (1 alone, 0 in gtest's child); there the test only checks that
// the statement never returns.
bool died_of_stack_overflow(int status) {
  return under_wine() || status == static_cast<int>(EXCEPTION_STACK_OVERFLOW);
}

// Outside catch_traps the overflow goes on to the system, as without the
// library.
TEST(WindowsTrap, S4_StackOverflowOutsideCatchTrapsStillKills) {
  EXPECT_EXIT(
      {
        install();
        (void)catch_traps([] {});
        (void)recurse_forever(0);
      },
      died_of_stack_overflow, "");
}

}  // namespace
}  // namespace wrt::platform::trap_test
