// MmapPageAllocator against the real OS (Linux: /proc, mincore, rlimits):
// A10 (uncommitted and guard bytes fault; reservations cost no resident
// memory and no commit charge), A11/A13 (deallocate, the destructor and move
// assignment return the whole reservation, guard included; no mapping leaks),
// and A12 with a real ENOMEM from a lowered RLIMIT_AS.
#include <gtest/gtest.h>

#ifdef __linux__
#include <signal.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <set>
#include <string>
#include <utility>
#include <vector>
#endif

#include "allocator_test_support.hpp"
#include "death_test_support.hpp"
#include "os/os_memory.hpp"
#include "wrt/platform.hpp"

namespace wrt::platform::alloc_test {
namespace {

#ifdef __linux__

constexpr std::size_t kPage = kWasmPageSize;
constexpr std::size_t kGiB = std::size_t{1} << 30;

std::size_t os_page() { return static_cast<std::size_t>(sysconf(_SC_PAGESIZE)); }

std::size_t round_up_to_os_page(std::size_t bytes) {
  return (bytes + os_page() - 1) / os_page() * os_page();
}

std::uintptr_t address(const std::byte* p) { return reinterpret_cast<std::uintptr_t>(p); }

// The distinct protections covering [from, to), or "unmapped" if any byte of
// it is not mapped.
std::string protection_of(const std::vector<Mapping>& mappings, const std::byte* from,
                          const std::byte* to) {
  std::set<std::string> perms;
  for (std::uintptr_t at = address(from); at < address(to);) {
    const Mapping* covering = nullptr;
    for (const Mapping& m : mappings)
      if (m.start <= at && at < m.end) covering = &m;
    if (covering == nullptr) return "unmapped";
    perms.insert(covering->perms);
    at = covering->end;
  }
  std::string joined;
  for (const std::string& p : perms) joined += (joined.empty() ? "" : ",") + p;
  return joined;
}

// Whether any byte of [from, to) is mapped.
bool any_mapped(const std::vector<Mapping>& mappings, std::uintptr_t from, std::uintptr_t to) {
  for (const Mapping& m : mappings)
    if (m.start < to && from < m.end) return true;
  return false;
}

// Under qemu-user (aarch64 preset) the guest's /proc/self/maps, its
// mappings and its faults are emulated and those tests run; smaps, statm
// and RLIMIT_AS are the emulator's own (qemu's translation cache, its
// reservation of the guest address space), so the tests reading them skip.
#ifdef WRT_PLATFORM_TESTS_UNDER_QEMU
#define WRT_SKIP_UNDER_QEMU(what) \
  GTEST_SKIP() << "under qemu-user " what " shows the emulator's process, not the guest's"
#else
#define WRT_SKIP_UNDER_QEMU(what) static_cast<void>(0)
#endif

class MmapPageAllocatorOs : public ::testing::Test {
 protected:
  void SetUp() override { GTEST_FLAG_SET(death_test_style, death_test::kDeathTestStyle); }
};

// A guard of 3 pages and one byte: rounded up to the OS page size.
constexpr std::size_t kOddGuard = 3 * kPage + 1;

// X2: 64-bit ARM kernels use 4 KiB, 16 KiB or 64 KiB pages (x86-64: 4 KiB).
// A WebAssembly page must be whole OS pages there, so that base stays
// kWasmPageSize-aligned and commit/grow never expose or hide part of an OS page.
TEST_F(MmapPageAllocatorOs, X2_WasmPagesAreWholeOsPagesOnThisArchitecture) {
  const std::size_t os_page = prim::os_page_size();
  EXPECT_EQ(os_page & (os_page - 1), 0u) << os_page;
  EXPECT_EQ(kWasmPageSize % os_page, 0u) << os_page;
  MmapPageAllocator a({.maximum_pages = 4, .guard_bytes = 1});
  const auto m = a.allocate(1, 2);
  ASSERT_TRUE(m) << m.error().message();
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(m->base) % kWasmPageSize, 0u);
  std::memset(m->base, 0x5a, kWasmPageSize);  // every OS page of it is writable
  ASSERT_TRUE(a.grow(1, 1));
  EXPECT_EQ(m->base[kWasmPageSize], std::byte{0});
  EXPECT_EQ(m->base[2 * kWasmPageSize - 1], std::byte{0});
}

TEST_F(MmapPageAllocatorOs, A10_CommittedUncommittedAndGuardBytesHaveTheRightProtection) {
  MmapPageAllocator a({8, kOddGuard});
  const auto m = a.allocate(2, 4);
  ASSERT_TRUE(succeeds(m));
  const std::byte* base = m->base;
  const std::size_t guard = round_up_to_os_page(kOddGuard);
  const auto mappings = read_mappings();
  EXPECT_EQ(protection_of(mappings, base, base + 2 * kPage), "rw-p");
  EXPECT_EQ(protection_of(mappings, base + 2 * kPage, base + 4 * kPage + guard), "---p");

  ASSERT_TRUE(succeeds(a.grow(2, 1)));
  const auto grown = read_mappings();
  EXPECT_EQ(protection_of(grown, base, base + 3 * kPage), "rw-p");
  EXPECT_EQ(protection_of(grown, base + 3 * kPage, base + 4 * kPage + guard), "---p");
}

TEST_F(MmapPageAllocatorOs, A10_TouchingACommittedByteIsFine) {
  MmapPageAllocator a({8, kOddGuard});
  const auto m = a.allocate(2, 4);
  ASSERT_TRUE(succeeds(m));
  EXPECT_EXIT(death_test::touch(m->base + 2 * kPage - 1), ::testing::ExitedWithCode(0), "");
}

TEST_F(MmapPageAllocatorOs, A10_TouchingAnUncommittedByteFaults) {
  MmapPageAllocator a({8, kOddGuard});
  const auto m = a.allocate(2, 4);
  ASSERT_TRUE(succeeds(m));
  EXPECT_EXIT(death_test::touch(m->base + 2 * kPage), ::testing::KilledBySignal(SIGSEGV), "");
  EXPECT_EXIT(death_test::touch(m->base + 4 * kPage - 1), ::testing::KilledBySignal(SIGSEGV), "");
}

TEST_F(MmapPageAllocatorOs, A10_TouchingAGuardByteFaults) {
  MmapPageAllocator a({8, kOddGuard});
  const auto m = a.allocate(4, 4);  // all committed: the guard follows the last committed byte
  ASSERT_TRUE(succeeds(m));
  const std::size_t guard = round_up_to_os_page(kOddGuard);
  EXPECT_EXIT(death_test::touch(m->base + 4 * kPage), ::testing::KilledBySignal(SIGSEGV), "");
  EXPECT_EXIT(death_test::touch(m->base + 4 * kPage + guard - 1),
              ::testing::KilledBySignal(SIGSEGV), "");
}

// A 4 GiB reservation plus a 2 GiB guard with one committed, fully written
// page: at most that page is resident, and no part is charged to the commit
// limit (no "ac" = VM_ACCOUNT in smaps' VmFlags).
TEST_F(MmapPageAllocatorOs, A10_UncommittedAddressSpaceCostsNothing) {
  WRT_SKIP_UNDER_QEMU("/proc/self/smaps");
  WRT_SKIP_UNLESS_SIZE_T_HOLDS_FOUR_GIB();
  MmapPageAllocator a({65536, 2 * kGiB});
  const auto m = a.allocate(1);
  ASSERT_TRUE(succeeds(m));
  ASSERT_EQ(a.reserved_bytes(), 4 * kGiB);
  fill_pattern(m->base, 0, kPage, 30);

  const std::size_t span = a.reserved_bytes() + 2 * kGiB;
  std::vector<unsigned char> resident(span / os_page());
  ASSERT_EQ(mincore(m->base, span, resident.data()), 0) << "errno " << errno;
  std::size_t resident_pages = 0;
  for (const unsigned char r : resident) resident_pages += r & 1u;
  EXPECT_GE(resident_pages * os_page(), os_page());
  EXPECT_LE(resident_pages * os_page(), kPage);

  for (const Mapping& mapping : read_mappings("/proc/self/smaps")) {
    if (!any_mapped({mapping}, address(m->base), address(m->base) + span)) continue;
    EXPECT_EQ(mapping.vmflags.find(" ac "), std::string::npos)
        << "charged to the commit limit: " << mapping.perms << mapping.vmflags;
  }
}

// The same seen from the process: its resident set grows by about one page,
// not by gigabytes (generous bound: other runtime noise fits in it).
TEST_F(MmapPageAllocatorOs, A10_ResidentSetGrowsByAboutOnePage) {
  WRT_SKIP_UNDER_QEMU("/proc/self/statm");
  WRT_SKIP_UNLESS_SIZE_T_HOLDS_FOUR_GIB();
  const auto resident_bytes = [] {
    std::ifstream statm("/proc/self/statm");
    std::size_t size = 0;
    std::size_t resident = 0;
    statm >> size >> resident;
    return resident * os_page();
  };
  const std::size_t before = resident_bytes();
  MmapPageAllocator a({65536, 2 * kGiB});
  const auto m = a.allocate(1);
  ASSERT_TRUE(succeeds(m));
  fill_pattern(m->base, 0, kPage, 31);
  const std::size_t after = resident_bytes();
  EXPECT_LT(after - std::min(after, before), std::size_t{16} << 20);
}

// A11: deallocate returns the whole reservation, guard included.
TEST_F(MmapPageAllocatorOs, A11_DeallocateUnmapsReservationAndGuard) {
  if (!kMappingsAreOurs) GTEST_SKIP() << "ThreadSanitizer maps memory of its own at any time";
  MmapPageAllocator a({8, kOddGuard});
  const auto m = a.allocate(2, 4);
  ASSERT_TRUE(succeeds(m));
  const std::uintptr_t from = address(m->base);
  const std::uintptr_t to = from + 4 * kPage + round_up_to_os_page(kOddGuard);
  ASSERT_TRUE(succeeds(a.deallocate(m->base, 2 * kPage)));
  EXPECT_FALSE(any_mapped(read_mappings(), from, to));
}

// A13: the destructor, and a move assignment over a live memory, release it.
TEST_F(MmapPageAllocatorOs, A13_DestructorAndMoveAssignmentUnmapTheMemory) {
  if (!kMappingsAreOurs) GTEST_SKIP() << "ThreadSanitizer maps memory of its own at any time";
  std::uintptr_t destroyed = 0;
  {
    MmapPageAllocator a({8, kOddGuard});
    const auto m = a.allocate(2, 4);
    ASSERT_TRUE(succeeds(m));
    destroyed = address(m->base);
  }
  const std::size_t span = 4 * kPage + round_up_to_os_page(kOddGuard);
  EXPECT_FALSE(any_mapped(read_mappings(), destroyed, destroyed + span));

  MmapPageAllocator source({8, kOddGuard});
  MmapPageAllocator target({8, kOddGuard});
  ASSERT_TRUE(succeeds(source.allocate(1, 4)));
  const auto old = target.allocate(1, 4);
  ASSERT_TRUE(succeeds(old));
  target = std::move(source);
  EXPECT_FALSE(any_mapped(read_mappings(), address(old->base), address(old->base) + span));
  EXPECT_TRUE(target.is_allocated());
}

// Many allocate / grow / deallocate cycles, destructors and move assignments
// leave the process's mappings as they were.
TEST_F(MmapPageAllocatorOs, A11_A13_NoMappingLeaks) {
  if (!kMappingsAreOurs) GTEST_SKIP() << "ThreadSanitizer maps memory of its own at any time";
  (void)read_mappings();  // warm up the C++ runtime's own allocations
  const std::size_t before = read_mappings().size();
  for (std::uint32_t round = 0; round < 200; ++round) {
    MmapPageAllocator a({64, kOddGuard});
    const auto m = a.allocate(round % 3, 64);
    ASSERT_TRUE(m.has_value());
    std::uint32_t pages = round % 3;
    for (std::uint32_t step = 1; step <= round % 7 + 1; ++step) {
      ASSERT_TRUE(a.grow(pages, step).has_value());
      pages += step;
    }
    if (round % 2 == 0) {
      ASSERT_TRUE(a.deallocate(m->base, pages * kPage).has_value());
    }
    if (round % 5 == 0) {
      MmapPageAllocator other({4, 0});
      ASSERT_TRUE(other.allocate(1).has_value());
      a = std::move(other);
    }
  }  // odd rounds: the destructor releases
  EXPECT_EQ(read_mappings().size(), before);
}

// In a child with RLIMIT_AS 1 GiB above the address space it already uses,
// a 4 GiB reservation (2 GiB where size_t has 32 bits: 4 GiB is
// CapacityExceeded there before any OS call) fails for real. The limit is relative, so it works
// under ASan, TSan and MSan too: their shadow reservations (terabytes) are
// already part of the address space, and their runtimes keep 1 GiB of room.
// Exit codes of the child:
enum ChildResult : int {
  kOk = 0,
  kSetrlimitFailed = 10,
  kReservationSucceeded,
  kNotOutOfMemory,
  kErrnoNotEnomem,
  kAllocatorChanged,
  kSmallAllocationFailed,
};

const char* describe(int child_exit) {
  switch (child_exit) {
    case kOk:
      return "ok";
    case kSetrlimitFailed:
      return "setrlimit failed";
    case kReservationSucceeded:
      return "the reservation succeeded under the limit";
    case kNotOutOfMemory:
      return "the error was not OutOfMemory";
    case kErrnoNotEnomem:
      return "os_errno() was not ENOMEM";
    case kAllocatorChanged:
      return "the failed allocate changed the allocator";
    case kSmallAllocationFailed:
      return "a small allocation failed afterwards";
  }
  return "unexpected exit code";
}

int out_of_memory_child() {
  std::size_t address_space_pages = 0;
  std::ifstream("/proc/self/statm") >> address_space_pages;
  rlimit limit{};
  getrlimit(RLIMIT_AS, &limit);
  limit.rlim_cur = address_space_pages * os_page() + kGiB;
  if (setrlimit(RLIMIT_AS, &limit) != 0) return kSetrlimitFailed;

  MmapPageAllocator a;
  const auto m = a.allocate(0, kSizeTHoldsFourGiB ? 65536 : 32768);
  if (m) return kReservationSucceeded;
  if (m.error().code() != ErrorCode::OutOfMemory) return kNotOutOfMemory;
  if (m.error().os_errno() != ENOMEM) return kErrnoNotEnomem;
  if (!is_empty(a)) return kAllocatorChanged;
  if (!a.allocate(1, 16)) return kSmallAllocationFailed;
  return kOk;
}

TEST_F(MmapPageAllocatorOs, A12_RealOutOfMemoryUnderRlimitAs) {
  WRT_SKIP_UNDER_QEMU("RLIMIT_AS");
  const pid_t child = fork();
  ASSERT_NE(child, -1) << "fork: errno " << errno;
  if (child == 0) std::_Exit(out_of_memory_child());
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status)) << "child did not exit normally, status " << status;
  EXPECT_EQ(WEXITSTATUS(status), kOk) << describe(WEXITSTATUS(status));
}

#else

TEST(MmapPageAllocatorOs, A10_NeedsLinux) {
  GTEST_SKIP() << "these tests read /proc and need Linux";
}

#endif

}  // namespace
}  // namespace wrt::platform::alloc_test
