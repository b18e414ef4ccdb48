// Section S on the real OS, for the trap handler: a stack overflow inside
// catch_traps is a trap (S4), a fault passed on reaches the previous action
// exactly as the kernel would have delivered it (S5), and a catch frame left
// by longjmp is never used again (S6). Every test runs in a child process
// (trap_test_support.hpp). POSIX only (Windows: windows_trap_test.cpp).
#if !defined(_WIN32)
#include <gtest/gtest.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <sys/mman.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>

#include "trap_test_support.hpp"
#include "wrt/platform.hpp"
#ifdef WRT_PLATFORM_FAULT_INJECTION
#include "os/fault_injection.hpp"
#endif

namespace wrt::platform::trap_test {
namespace {

// ---- S4: stack overflow -------------------------------------------------

// The guard below the calling thread's stack: [begin, end) as its
// attributes report it (glibc reports no guard for the main thread, whose
// overflow faults just below its lowest address).
struct StackGuard {
  std::uintptr_t begin;
  std::uintptr_t end;
  bool holds(const void* address) const {
    const auto a = reinterpret_cast<std::uintptr_t>(address);
    return begin <= a && a < end;
  }
};

StackGuard this_threads_guard() {
  pthread_attr_t attributes;
  EXPECT_EQ(pthread_getattr_np(pthread_self(), &attributes), 0);
  void* lowest = nullptr;
  std::size_t size = 0;
  std::size_t guard = 0;
  EXPECT_EQ(pthread_attr_getstack(&attributes, &lowest, &size), 0);
  EXPECT_EQ(pthread_attr_getguardsize(&attributes, &guard), 0);
  pthread_attr_destroy(&attributes);
  const auto end = reinterpret_cast<std::uintptr_t>(lowest);
  return {end - std::max<std::size_t>(guard, static_cast<std::size_t>(sysconf(_SC_PAGESIZE))), end};
}

void expect_stack_overflow(const std::optional<Trap>& trap, const StackGuard& guard) {
  ASSERT_TRUE(trap.has_value());
  EXPECT_EQ(trap->kind, TrapKind::StackOverflow);
  EXPECT_TRUE(guard.holds(trap->address)) << trap->address;
}

// Runs `run(context)` on a new thread with a stack of `stack_bytes`; a thread
// that does not finish within a minute is a failure (it is left behind).
void run_on_thread(std::size_t stack_bytes, void* (*run)(void*), void* context = nullptr) {
  pthread_attr_t attributes;
  ASSERT_EQ(pthread_attr_init(&attributes), 0);
  ASSERT_EQ(pthread_attr_setstacksize(&attributes, stack_bytes), 0);
  pthread_t thread;
  ASSERT_EQ(pthread_create(&thread, &attributes, run, context), 0);
  pthread_attr_destroy(&attributes);
  timespec deadline{};
  clock_gettime(CLOCK_REALTIME, &deadline);
  deadline.tv_sec += 60;
  EXPECT_EQ(pthread_timedjoin_np(thread, nullptr, &deadline), 0) << "the thread did not finish";
}

constexpr std::size_t kSmallStack = 256 * 1024;

// After 1,000 overflows the thread runs normally: a recursion of half its
// stack returns, and a memory trap is still a MemoryOutOfBounds.
void* overflow_a_thousand_times(void*) {
  const StackGuard guard = this_threads_guard();
  for (int i = 0; i < 1000; ++i) {
    SCOPED_TRACE(i);
    expect_stack_overflow(overflow_inside_catch_traps(), guard);
    if (::testing::Test::HasFailure()) return nullptr;
  }
  auto half = [] {};
  EXPECT_EQ(
      catch_traps([&] { (void)recurse_then(static_cast<int>(kSmallStack / 2 / 1024), half); }),
      std::nullopt);
  auto a = make_memory(1, 2);
  expect_trap_at(trap_of_load(a.base() + kPage, 4), a.base() + kPage);
  return nullptr;
}

TEST_F(TrapTest, S4_UnboundedRecursionIsAStackOverflowTrapAThousandTimesInARow) {
  WRT_IN_CHILD({
    install_or_fail();
    run_on_thread(kSmallStack, overflow_a_thousand_times);
  });
}

// The main thread's stack grows on demand up to its limit; its overflow
// traps too.
TEST_F(TrapTest, S4_MainThreadStackOverflowIsATrap) {
  WRT_IN_CHILD({
    install_or_fail();
    const StackGuard guard = this_threads_guard();
    for (int i = 0; i < 20; ++i) expect_stack_overflow(overflow_inside_catch_traps(), guard);
  });
}

// A catch_traps deep in a recursion gets the overflow of its own body; the
// outer one sees its body return normally.
void* nested_overflow(void*) {
  const StackGuard guard = this_threads_guard();
  std::optional<Trap> inner;
  auto catch_inner = [&] { inner = overflow_inside_catch_traps(); };
  EXPECT_EQ(catch_traps([&] { (void)recurse_then(100, catch_inner); }), std::nullopt);
  expect_stack_overflow(inner, guard);
  return nullptr;
}

TEST_F(TrapTest, S4_NestedCatchTrapsInsideDeepRecursionReportsToTheInnermost) {
  WRT_IN_CHILD({
    install_or_fail();
    run_on_thread(kSmallStack, nested_overflow);
  });
}

// How a process dies of a stack overflow that nothing handles: by SIGSEGV,
// or by a sanitizer's report (it has its own alternate stack).
inline const char* stack_overflow_report() {
#if defined(WRT_PLATFORM_TRAP_TEST_ASAN)
  return "AddressSanitizer: (stack-overflow|SEGV)";
#elif defined(WRT_PLATFORM_TRAP_TEST_TSAN)
  return "ThreadSanitizer: (stack-overflow|SEGV)";
#else
  return "";
#endif
}

TEST_F(TrapTest, S4_StackOverflowOutsideCatchTrapsStillKills) {
  EXPECT_EXIT(
      {
        install_or_fail();
        (void)catch_traps([] {});  // the thread has its alternate stack now
        (void)recurse_forever(0);
      },
      DiedOf{SIGSEGV}, stack_overflow_report());
}

// Without an alternate stack the kernel cannot run any handler on the
// exhausted stack: the thread dies of SIGSEGV, as without the library.
TEST_F(TrapTest, S4_StackOverflowOnAThreadWithoutAnAlternateStackStillKills) {
  EXPECT_EXIT(
      {
        install_or_fail();
        (void)catch_traps([] {});
        stack_t off{};
        off.ss_flags = SS_DISABLE;
        ASSERT_EQ(sigaltstack(&off, nullptr), 0);
        (void)overflow_inside_catch_traps();
      },
      ::testing::KilledBySignal(SIGSEGV), "");
}

stack_t current_alternate_stack() {
  stack_t current{};
  EXPECT_EQ(sigaltstack(nullptr, &current), 0);
  return current;
}

// The first catch_traps of a thread without an alternate stack installs
// one; thread exit unmaps it. (A sanitizer gives every thread its own
// alternate stack, which is kept: then there is nothing to check here.)
std::atomic<void*> g_installed_stack{nullptr};
#if defined(WRT_PLATFORM_TRAP_TEST_ASAN) || defined(WRT_PLATFORM_TRAP_TEST_TSAN)
constexpr bool kSanitizerGivesAlternateStacks = true;
#else
constexpr bool kSanitizerGivesAlternateStacks = false;
#endif

void* catch_once_and_exit(void*) {
  if (!(current_alternate_stack().ss_flags & SS_DISABLE)) return nullptr;
  EXPECT_EQ(catch_traps([] {}), std::nullopt);
  const stack_t installed = current_alternate_stack();
  EXPECT_FALSE(installed.ss_flags & SS_DISABLE);
  EXPECT_GE(installed.ss_size, static_cast<std::size_t>(MINSIGSTKSZ));
  g_installed_stack.store(installed.ss_sp);
  return nullptr;
}

bool is_mapped(void* address) {
  const auto page = static_cast<std::uintptr_t>(sysconf(_SC_PAGESIZE));
  void* const start =
      reinterpret_cast<void*>(reinterpret_cast<std::uintptr_t>(address) & ~(page - 1));
  unsigned char resident = 0;
  return mincore(start, 1, &resident) == 0;  // ENOMEM: not mapped
}

// The mapping is gone after the join: nothing else in the child maps
// memory meanwhile, except a sanitizer's background thread (TSan), so there
// the seam's count of the library's mmap and munmap calls is the proof.
void expect_an_alternate_stack_installed_and_freed() {
#ifdef WRT_PLATFORM_FAULT_INJECTION
  fault::reset();
#endif
  run_on_thread(kSmallStack, catch_once_and_exit);
  void* const stack = g_installed_stack.load();
  if (!kSanitizerGivesAlternateStacks) {
    EXPECT_NE(stack, nullptr) << "a plain thread starts without an alternate stack";
    EXPECT_FALSE(is_mapped(stack)) << "leaked at thread exit";
  }
#ifdef WRT_PLATFORM_FAULT_INJECTION
  const std::uint64_t mapped = stack != nullptr ? 1 : 0;
  EXPECT_EQ(fault::calls(fault::OsCall::Mmap), mapped);
  EXPECT_EQ(fault::calls(fault::OsCall::Munmap), mapped) << "leaked at thread exit";
#endif
}

TEST_F(TrapTest, S4_FirstCatchTrapsInstallsAnAlternateStackFreedAtThreadExit) {
  WRT_IN_CHILD({
    install_or_fail();
    expect_an_alternate_stack_installed_and_freed();
  });
}

#ifdef WRT_PLATFORM_FAULT_INJECTION
// A thread whose alternate stack cannot be made (the mmap, or the mprotect of
// its guard page, fails: injected) is left without one, nothing mapped, and
// still catches memory traps (on its own stack).
void* trap_with_an_alternate_stack_failing_in(void* call) {
  MmapPageAllocator memory;
  const auto allocation = memory.allocate(1, 2);
  EXPECT_TRUE(allocation);
  if (!allocation) return nullptr;
  std::byte* const past_end = memory.base() + memory.committed_bytes();
  fault::reset();
  fault::fail(*static_cast<fault::OsCall*>(call), ENOMEM);
  expect_trap_at(trap_of_store(past_end, 1), past_end);
  EXPECT_EQ(fault::calls(*static_cast<fault::OsCall*>(call)), 1u) << "the install was not tried";
  EXPECT_TRUE(current_alternate_stack().ss_flags & SS_DISABLE);
  return nullptr;
}

TEST_F(TrapTest, S4_AThreadWhoseAlternateStackCannotBeMadeHasNoneAndStillTraps) {
  if (kSanitizerGivesAlternateStacks) GTEST_SKIP() << "every thread has the sanitizer's stack";
  WRT_IN_CHILD({
    install_or_fail();
    for (fault::OsCall call : {fault::OsCall::Mmap, fault::OsCall::Mprotect})
      run_on_thread(kSmallStack, trap_with_an_alternate_stack_failing_in, &call);
  });
}
#endif

// A thread's own alternate stack is kept, and the overflow is handled on it.
// (Under a sanitizer the thread already has the sanitizer's, which it frees
// itself at thread exit: that one is the thread's own here.)
void* overflow_on_own_alternate_stack(void*) {
  static thread_local char own[64 * 1024];
  if (current_alternate_stack().ss_flags & SS_DISABLE) {
    stack_t mine{};
    mine.ss_sp = own;
    mine.ss_size = sizeof own;
    EXPECT_EQ(sigaltstack(&mine, nullptr), 0);
  }
  const stack_t before = current_alternate_stack();
  const StackGuard guard = this_threads_guard();
  expect_stack_overflow(overflow_inside_catch_traps(), guard);
  const stack_t after = current_alternate_stack();
  EXPECT_EQ(after.ss_sp, before.ss_sp);
  EXPECT_EQ(after.ss_size, before.ss_size);
  EXPECT_FALSE(after.ss_flags & SS_DISABLE);
  return nullptr;
}

TEST_F(TrapTest, S4_AThreadsOwnAlternateStackIsKept) {
  WRT_IN_CHILD({
    install_or_fail();
    run_on_thread(kSmallStack, overflow_on_own_alternate_stack);
  });
}

// ---- S5: passing a fault on exactly --------------------------------------

// A foreign page: PROT_NONE, not the library's.
std::byte* map_foreign_page() {
  void* page = mmap(nullptr, kPage, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  EXPECT_NE(page, MAP_FAILED);
  return static_cast<std::byte*>(page);
}

void install_previous(int flags, void (*siginfo)(int, siginfo_t*, void*), void (*plain)(int),
                      int masked = 0) {
  struct sigaction action {};
  if (flags & SA_SIGINFO)
    action.sa_sigaction = siginfo;
  else
    action.sa_handler = plain;
  action.sa_flags = flags;
  sigemptyset(&action.sa_mask);
  if (masked != 0) sigaddset(&action.sa_mask, masked);
  ASSERT_EQ(sigaction(SIGSEGV, &action, nullptr), 0);
}

// A crash logger: logs and returns, expecting the re-run access to meet the
// default action (SA_RESETHAND). Run twice is the bug: exit 3 at once.
std::atomic<int> g_logged{0};

void crash_logger(int, siginfo_t*, void*) {
  if (g_logged.fetch_add(1) > 0) _exit(3);
  constexpr char kMessage[] = "crash logged\n";
  (void)!write(STDERR_FILENO, kMessage, sizeof kMessage - 1);
}

TEST_F(TrapTest, S5_CrashLoggerWithResetHandThatReturnsDiesBySigsegv) {
  EXPECT_EXIT(
      {
        std::byte* const foreign = map_foreign_page();
        install_previous(SA_SIGINFO | static_cast<int>(SA_RESETHAND), crash_logger, nullptr);
        install_or_fail();
        alarm(60);  // a fault loop dies of SIGALRM instead: a failure
        (void)catch_traps([&] { store(foreign, 4, 1); });
      },
      ::testing::KilledBySignal(SIGSEGV), "crash logged");
}

// What a previous handler saw: filled in by it, checked by the test. It
// makes the foreign page accessible, so the access completes on return.
struct Seen {
  std::atomic<int> calls{0};
  int signal = 0;
  const void* address = nullptr;
  int code = 0;
  bool context_has_the_interrupted_mask = false;
  sigset_t mask_while_running{};
};
Seen g_seen;
std::byte* g_foreign = nullptr;
// Blocked by the interrupted code: the kernel's ucontext says so.
constexpr int kBlockedByTheBody = SIGUSR2;
// In the previous action's sa_mask.
constexpr int kInItsMask = SIGUSR1;

void record(int signal) {
  g_seen.signal = signal;
  sigprocmask(SIG_SETMASK, nullptr, &g_seen.mask_while_running);
  g_seen.calls.fetch_add(1);
  mprotect(g_foreign, kPage, PROT_READ | PROT_WRITE);
}

void siginfo_predecessor(int signal, siginfo_t* info, void* context) {
  g_seen.address = info->si_addr;
  g_seen.code = info->si_code;
  g_seen.context_has_the_interrupted_mask =
      context != nullptr &&
      sigismember(&static_cast<ucontext_t*>(context)->uc_sigmask, kBlockedByTheBody) == 1;
  record(signal);
}

void plain_predecessor(int signal) { record(signal); }

// Faults on the foreign page with kBlockedByTheBody blocked, inside
// catch_traps; the previous handler repairs it and the store completes.
void fault_on_foreign_page() {
  g_foreign = map_foreign_page();
  sigset_t block;
  sigemptyset(&block);
  sigaddset(&block, kBlockedByTheBody);
  sigprocmask(SIG_BLOCK, &block, nullptr);
  EXPECT_EQ(catch_traps([] { store(g_foreign + 24, 4, 5); }), std::nullopt);
  EXPECT_EQ(load(g_foreign + 24, 4), 5u);
  EXPECT_EQ(g_seen.calls.load(), 1);
  EXPECT_EQ(g_seen.signal, SIGSEGV);
}

void expect_mask_while_running(int flags) {
  const sigset_t& mask = g_seen.mask_while_running;
  EXPECT_EQ(sigismember(&mask, kInItsMask), 1) << "its sa_mask was not in effect";
  EXPECT_EQ(sigismember(&mask, kBlockedByTheBody), 1) << "the interrupted code's mask was lost";
  EXPECT_EQ(sigismember(&mask, SIGSEGV), (flags & SA_NODEFER) ? 0 : 1) << "SA_NODEFER";
}

// The kernel's si_addr, si_code and ucontext reach an SA_SIGINFO
// predecessor, which runs with its own mask (S5).
TEST_F(TrapTest, S5_SiginfoPredecessorGetsTheKernelsSiginfoAndContextAndItsMask) {
  for (const int flags : {SA_SIGINFO, SA_SIGINFO | SA_NODEFER}) {
    SCOPED_TRACE(flags);
    WRT_IN_CHILD({
      install_previous(flags, siginfo_predecessor, nullptr, kInItsMask);
      install_or_fail();
      fault_on_foreign_page();
      EXPECT_EQ(g_seen.address, g_foreign + 24);
      EXPECT_EQ(g_seen.code, SEGV_ACCERR);  // a mapped page it may not access
      EXPECT_TRUE(g_seen.context_has_the_interrupted_mask);
      expect_mask_while_running(flags);
    });
  }
}

// A plain predecessor is called as a plain one, with its own mask.
TEST_F(TrapTest, S5_PlainPredecessorIsCalledAsPlainWithItsMask) {
  for (const int flags : {0, SA_NODEFER}) {
    SCOPED_TRACE(flags);
    WRT_IN_CHILD({
      install_previous(flags, nullptr, plain_predecessor, kInItsMask);
      install_or_fail();
      fault_on_foreign_page();
      expect_mask_while_running(flags);
    });
  }
}

// ---- S6: a catch frame left by longjmp is dead ------------------------------

jmp_buf g_escape;
std::atomic<bool> g_dead_frame_returned{false};

// A catch_traps whose body leaves by longjmp; returns only if a later fault
// was (wrongly) delivered to its dead frame.
[[gnu::noinline]] void catch_then_escape() {
  (void)catch_traps([] { longjmp(g_escape, 1); });
  g_dead_frame_returned.store(true);
  constexpr char kMessage[] = "the dead frame was used\n";
  (void)!write(STDERR_FILENO, kMessage, sizeof kMessage - 1);
  _exit(3);
}

// Runs catch_then_escape and returns when its body has escaped.
[[gnu::noinline]] void escape_from_a_catch() {
  if (setjmp(g_escape) == 0) catch_then_escape();
}

TEST_F(TrapTest, S6_LongjmpOutOfABodyThenAFaultOutsideCatchTrapsStillKills) {
  EXPECT_EXIT(
      {
        install_or_fail();
        auto a = make_memory(1, 2);
        escape_from_a_catch();
        (void)load(a.base() + kPage, 4);  // a trap inside catch_traps; here, a crash
      },
      DiedOf{SIGSEGV}, death_report(SIGSEGV));
}

TEST_F(TrapTest, S6_LongjmpOutOfAnInnerBodyThenAFaultInTheOuterIsReportedToTheOuter) {
  WRT_IN_CHILD({
    install_or_fail();
    auto a = make_memory(1, 2);
    bool went_on = false;
    auto outer = catch_traps([&] {
      escape_from_a_catch();
      (void)load(a.base() + kPage, 4);
      went_on = true;
    });
    expect_trap_at(outer, a.base() + kPage);
    EXPECT_FALSE(went_on);
    EXPECT_FALSE(g_dead_frame_returned.load());
  });
}

// A new catch frame may reuse a dead frame's memory: traps and normal
// returns keep working there, and afterwards no frame is live.
TEST_F(TrapTest, S6_CatchTrapsAfterALongjmpOutKeepsWorking) {
  EXPECT_EXIT(
      {
        install_or_fail();
        auto a = make_memory(1, 2);
        for (int i = 0; i < 1000; ++i) {
          escape_from_a_catch();
          expect_trap_at(trap_of_load(a.base() + kPage, 4), a.base() + kPage);
          EXPECT_EQ(catch_traps([] {}), std::nullopt);
        }
        if (::testing::Test::HasFailure()) std::exit(1);
        (void)load(a.base() + kPage, 4);
      },
      DiedOf{SIGSEGV}, death_report(SIGSEGV));
}

}  // namespace
}  // namespace wrt::platform::trap_test
#endif  // !_WIN32
