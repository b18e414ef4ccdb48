// Recycling a slot at the cost of what its tenant touched (docs/SPEC.md M6,
// M7; issue 21): in the steady state (same image, same initial size) acquire
// and allocate make no system call and a release at most one; a free slot
// keeps its accessible size and its image mapped, and a slot that maps the
// wanted image is preferred; the kept bytes are zeroed only where a page may
// hold a non-zero byte (PAGEMAP_SCAN), with a fallback to zeroing them all.
// M2 stays exact throughout: the next tenant reads zero or its own image.
#include <gtest/gtest.h>

#if defined(__linux__) && defined(WRT_PLATFORM_FAULT_INJECTION)
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "allocator_test_support.hpp"
#include "memory_pool_test_support.hpp"
#include "os/fault_injection.hpp"
#include "os/os_pool.hpp"
#include "wrt/platform.hpp"

namespace wrt::platform::pool_test {
namespace {

using alloc_test::all_zero;
using alloc_test::fill_pattern;
using alloc_test::succeeds;
using fault::OsCall;

constexpr std::size_t kPage = kWasmPageSize;

// Every system call the seam counted since the last fault::reset() (the
// library's heap allocations, OsCall::HeapAlloc, are not system calls).
std::uint64_t system_calls() {
  std::uint64_t total = 0;
  for (std::size_t call = 0; call < prim::kOsCallCount; ++call)
    if (static_cast<OsCall>(call) != OsCall::HeapAlloc)
      total += fault::calls(static_cast<OsCall>(call));
  return total;
}

// Whether this kernel answers PAGEMAP_SCAN (6.7+; not under qemu-user).
bool kernel_scans() {
  auto* page = static_cast<std::byte*>(std::aligned_alloc(os_page(), os_page()));
  prim::PageRun runs[1];
  const bool scans = prim::scan_dirty_pages(page, page + os_page(), runs).has_value();
  std::free(page);
  return scans;
}

class PoolRecycle : public ::testing::Test {
 protected:
  void SetUp() override { fault::reset(); }
  void TearDown() override { fault::reset(); }
};

// One tenant: acquire, allocate `pages`, write the first byte (inside the
// kept bytes, if any), release; counts the system calls of acquire +
// allocate and of the release.
struct CycleCalls {
  std::uint64_t start;
  std::uint64_t release;
};

CycleCalls cycle(MemoryPool& pool, const MemoryImage* image, std::uint32_t pages) {
  const std::uint64_t before = system_calls();
  auto a = pool.acquire(image);
  EXPECT_TRUE(succeeds(a));
  const auto m = a->allocate(pages);
  EXPECT_TRUE(succeeds(m));
  const std::uint64_t started = system_calls();
  m->base[0] = std::byte{7};
  EXPECT_TRUE(succeeds(a->deallocate(m->base, m->committed_bytes)));
  return {started - before, system_calls() - started};
}

// --- M6: the steady state ------------------------------------------------------

// With keep_resident_bytes 0 the release is one madvise; with fewer kept
// bytes than the memory, a memset and one madvise; with 256 KiB kept, one
// PAGEMAP_SCAN (and a madvise only when the tenant wrote past them).
TEST_F(PoolRecycle, M6_M7_SteadyStateAcquireMakesNoSystemCallAndReleaseAtMostOne) {
  auto image = MemoryImage::create(image_bytes(3 * os_page() + 10, 5), 100);
  ASSERT_TRUE(succeeds(image));
  const MemoryImage* const images[] = {nullptr, &*image};
  for (const MemoryImage* with : images) {
    for (const std::size_t keep : {std::size_t{0}, kPage, 4 * kPage}) {
      MemoryPool pool = *MemoryPool::create({2, 4, kPage, keep});
      (void)cycle(pool, with, 4);  // the first tenant commits (and maps)
      for (int round = 0; round < 5; ++round) {
        const CycleCalls calls = cycle(pool, with, 4);
        EXPECT_EQ(calls.start, 0u) << "keep " << keep << " image " << (with != nullptr);
        EXPECT_LE(calls.release, 1u) << "keep " << keep << " image " << (with != nullptr);
      }
    }
  }
}

// A next tenant that needs less protects only the difference; one that needs
// more commits only the difference; neither touches what both share.
TEST_F(PoolRecycle, M6_ASizeChangeCostsOneMprotectForTheDifference) {
  MemoryPool pool = *MemoryPool::create({1, 4});
  (void)cycle(pool, nullptr, 3);
  fault::reset();
  (void)cycle(pool, nullptr, 1);
  EXPECT_EQ(fault::calls(OsCall::Mprotect), 1u);  // [1, 3) made inaccessible
  fault::reset();
  (void)cycle(pool, nullptr, 2);
  EXPECT_EQ(fault::calls(OsCall::Mprotect), 1u);  // [1, 2) made accessible
  EXPECT_EQ(fault::calls(OsCall::MapFixed), 0u);
}

// acquire() hands out the free slot that still maps the wanted image, even
// when another slot was released after it; a plain memory prefers a slot
// without an image.
TEST_F(PoolRecycle, M6_AcquirePrefersASlotThatStillMapsTheWantedImage) {
  auto image = MemoryImage::create(image_bytes(5000, 6), 0);
  ASSERT_TRUE(succeeds(image));
  MemoryPool pool = *MemoryPool::create({2, 1});
  auto with = pool.acquire(&*image);
  auto plain = pool.acquire();
  ASSERT_TRUE(succeeds(with) && succeeds(plain));
  ASSERT_TRUE(succeeds(with->allocate(1)) && succeeds(plain->allocate(1)));
  std::byte* const imaged_slot = with->base();
  std::byte* const plain_slot = plain->base();
  ASSERT_TRUE(succeeds(with->deallocate(imaged_slot, kPage)));
  ASSERT_TRUE(succeeds(plain->deallocate(plain_slot, kPage)));  // on top of the free list
  fault::reset();
  auto again = pool.acquire(&*image);
  ASSERT_TRUE(succeeds(again));
  const auto m = again->allocate(1);
  ASSERT_TRUE(succeeds(m));
  EXPECT_EQ(m->base, imaged_slot);
  EXPECT_EQ(fault::calls(OsCall::MapFixed), 0u);
  EXPECT_TRUE(holds_image(m->base, kPage, image_bytes(5000, 6), 0));
  ASSERT_TRUE(succeeds(again->deallocate(m->base, kPage)));  // now on top
  auto next_plain = pool.acquire();
  ASSERT_TRUE(succeeds(next_plain));
  const auto p = next_plain->allocate(1);
  ASSERT_TRUE(succeeds(p));
  EXPECT_EQ(p->base, plain_slot);
  EXPECT_TRUE(all_zero(p->base, 0, kPage));
}

// A slot that still maps one image, reused with another image (overlapping
// it, or not) or with none, reads the new image or zero: never a byte of the
// old image nor of what its tenant wrote.
TEST_F(PoolRecycle, M2_M6_AReusedSlotNeverShowsAnotherImagesPages) {
  const auto first_bytes = image_bytes(3 * os_page(), 8);
  const auto second_bytes = image_bytes(os_page() + 77, 9);
  auto first = MemoryImage::create(first_bytes, 0);
  auto second = MemoryImage::create(second_bytes, os_page() + 5);
  ASSERT_TRUE(succeeds(first) && succeeds(second));
  MemoryPool pool = *MemoryPool::create({1, 2, 0, kPage});
  for (const std::uint32_t pages : {1u, 2u}) {
    auto a = pool.acquire(&*first);
    ASSERT_TRUE(succeeds(a));
    const auto m = a->allocate(pages);
    ASSERT_TRUE(succeeds(m));
    ASSERT_TRUE(holds_image(m->base, m->committed_bytes, first_bytes, 0));
    fill_pattern(m->base, os_page(), m->committed_bytes, 10);
    ASSERT_TRUE(succeeds(a->deallocate(m->base, m->committed_bytes)));

    auto b = pool.acquire(&*second);
    ASSERT_TRUE(succeeds(b));
    const auto n = b->allocate(pages);
    ASSERT_TRUE(succeeds(n));
    EXPECT_TRUE(holds_image(n->base, n->committed_bytes, second_bytes, os_page() + 5));
    fill_pattern(n->base, 0, n->committed_bytes, 11);
    ASSERT_TRUE(succeeds(b->deallocate(n->base, n->committed_bytes)));

    auto c = pool.acquire();
    ASSERT_TRUE(succeeds(c));
    const auto z = c->allocate(pages);
    ASSERT_TRUE(succeeds(z));
    EXPECT_TRUE(all_zero(z->base, 0, z->committed_bytes));
  }
}

// An image destroyed while a free slot still maps it, and a new image made
// afterwards (whose state may take the old one's address): the slot does not
// take the new image for the old.
TEST_F(PoolRecycle, M2_M6_ANewImageIsNeverMistakenForADestroyedOne) {
  MemoryPool pool = *MemoryPool::create({1, 1});
  std::byte* slot = nullptr;
  {
    auto old_image = MemoryImage::create(image_bytes(os_page(), 12), 0);
    ASSERT_TRUE(succeeds(old_image));
    auto a = pool.acquire(&*old_image);
    ASSERT_TRUE(succeeds(a));
    ASSERT_TRUE(succeeds(a->allocate(1)));
    slot = a->base();
  }
  const auto new_bytes = image_bytes(os_page(), 13);
  auto new_image = MemoryImage::create(new_bytes, 0);
  ASSERT_TRUE(succeeds(new_image));
  auto b = pool.acquire(&*new_image);
  ASSERT_TRUE(succeeds(b));
  const auto m = b->allocate(1);
  ASSERT_TRUE(succeeds(m));
  EXPECT_EQ(m->base, slot);
  EXPECT_TRUE(holds_image(m->base, kPage, new_bytes, 0));
}

// --- M7: dirty pages only --------------------------------------------------------

// Whatever pages a tenant wrote in the kept bytes (first, last, scattered,
// more runs than one scan returns, pages an earlier reset zeroed and pages
// never touched), the next tenant reads zero there.
TEST_F(PoolRecycle, M2_M7_EveryDirtyKeptPageIsZeroed) {
  const std::size_t kept = 4 * kPage;
  const std::size_t pages = kept / os_page();
  MemoryPool pool = *MemoryPool::create({1, 4, 0, kept});
  std::vector<std::vector<std::size_t>> rounds = {
      {0}, {pages - 1}, {1, 5, 9}, {}, {0, pages / 2, pages - 1}, {}};
  // Every other page: more runs than one scan returns (16), so several scans.
  for (std::size_t page = 0; page < pages; page += 2) rounds.back().push_back(page);
  for (const auto& written : rounds) {
    auto a = pool.acquire();
    ASSERT_TRUE(succeeds(a));
    const auto m = a->allocate(4);
    ASSERT_TRUE(succeeds(m));
    ASSERT_TRUE(all_zero(m->base, 0, kept));
    volatile std::byte sink = m->base[3 * os_page() + 1];  // a read maps the zero page
    (void)sink;
    for (const std::size_t page : written) m->base[page * os_page() + 17] = std::byte{0x5a};
    ASSERT_TRUE(succeeds(a->deallocate(m->base, kept)));
  }
  auto last = pool.acquire();
  ASSERT_TRUE(succeeds(last));
  const auto m = last->allocate(4);
  ASSERT_TRUE(succeeds(m));
  EXPECT_TRUE(all_zero(m->base, 0, kept));
}

// With 256 KiB kept (the scan path), pages written past the kept bytes go
// back to the OS in one madvise, from the first such page to the last, and
// the next tenant reads zero there too.
TEST_F(PoolRecycle, M2_M3_M7_PagesWrittenPastTheKeptBytesAreDiscarded) {
  const std::size_t kept = 4 * kPage;
  MemoryPool pool = *MemoryPool::create({1, 8, 0, kept});
  std::byte* base = nullptr;
  {
    auto a = pool.acquire();
    ASSERT_TRUE(succeeds(a));
    const auto m = a->allocate(8);
    ASSERT_TRUE(succeeds(m));
    base = m->base;
    fill_pattern(base, 0, 8 * kPage, 15);
    fault::reset();
    ASSERT_TRUE(succeeds(a->deallocate(base, 8 * kPage)));
    EXPECT_EQ(fault::calls(OsCall::Madvise), 1u);
  }
  EXPECT_EQ(resident_pages(base + kept, 4 * kPage), 0u);
  auto b = pool.acquire();
  ASSERT_TRUE(succeeds(b));
  const auto n = b->allocate(8);
  ASSERT_TRUE(succeeds(n));
  EXPECT_TRUE(all_zero(n->base, 0, 8 * kPage));
}

// Where the kernel scans, the reset writes only the pages that may hold a
// non-zero byte: the kept pages a tenant never touched stay out of memory.
TEST_F(PoolRecycle, M3_M7_KeptPagesNoTenantTouchedStayNonResident) {
  if (!kernel_scans()) GTEST_SKIP() << "no PAGEMAP_SCAN here: the reset zeroes every kept page";
  const std::size_t kept = 4 * kPage;
  MemoryPool pool = *MemoryPool::create({1, 4, 0, kept});
  for (int round = 0; round < 3; ++round) {
    auto a = pool.acquire();
    ASSERT_TRUE(succeeds(a));
    const auto m = a->allocate(4);
    ASSERT_TRUE(succeeds(m));
    m->base[os_page() + 3] = std::byte{1};
    ASSERT_TRUE(succeeds(a->deallocate(m->base, kept)));
    EXPECT_EQ(resident_pages(pool.slot_base(0), kept), 1u);
  }
}

// Where the ioctl is missing (ENOTTY or EINVAL: a kernel before 6.7; ENOSYS:
// qemu-user, which does not forward it; EACCES: the pagemap cannot be
// opened), every kept byte is zeroed.
TEST_F(PoolRecycle, M7_WithoutTheScanEveryKeptByteIsZeroed) {
  const std::size_t kept = 4 * kPage;
  MemoryPool pool = *MemoryPool::create({1, 4, 0, kept});
  (void)cycle(pool, nullptr, 4);  // the pagemap is open from here on
  for (const int error : {ENOTTY, EINVAL, ENOSYS, EACCES}) {
    auto a = pool.acquire();
    ASSERT_TRUE(succeeds(a));
    const auto m = a->allocate(4);
    ASSERT_TRUE(succeeds(m));
    fill_pattern(m->base, 0, kept, 14);
    fault::reset();
    fault::fail(OsCall::PagemapScan, error, 0, 100);
    ASSERT_TRUE(succeeds(a->deallocate(m->base, kept)));
    EXPECT_EQ(fault::calls(OsCall::PagemapScan), 1u);  // tried once, then memset
    fault::reset();
    auto b = pool.acquire();
    ASSERT_TRUE(succeeds(b));
    const auto n = b->allocate(4);
    ASSERT_TRUE(succeeds(n));
    EXPECT_TRUE(all_zero(n->base, 0, kept)) << "errno " << error;
  }
}

// Below kScanKeptFromBytes (256 KiB) of kept bytes in the memory, they are
// zeroed with a memset
// that costs less than the ioctl: a memory no larger than them is recycled
// without any system call at all.
TEST_F(PoolRecycle, M6_M7_FewKeptBytesAreZeroedWithoutAnySystemCall) {
  const std::size_t kept = 2 * kPage;
  MemoryPool pool = *MemoryPool::create({1, 2, 0, kept});
  (void)cycle(pool, nullptr, 2);
  for (int round = 0; round < 3; ++round) {
    const CycleCalls calls = cycle(pool, nullptr, 2);
    EXPECT_EQ(calls.start, 0u);
    EXPECT_EQ(calls.release, 0u);
  }
  auto a = pool.acquire();
  ASSERT_TRUE(succeeds(a));
  const auto m = a->allocate(2);
  ASSERT_TRUE(succeeds(m));
  EXPECT_TRUE(all_zero(m->base, 0, kept));
}

// A child of fork() scans its own page tables, not its parent's: a page the
// child wrote that its parent never had is zeroed. ("fast": the child is
// forked, inheriting the parent's open pagemap, which is the point.)
TEST_F(PoolRecycle, M2_M7_AForkedChildZeroesItsOwnDirtyPages) {
  GTEST_FLAG_SET(death_test_style, "fast");
  const std::size_t kept = 4 * kPage;
  MemoryPool pool = *MemoryPool::create({1, 4, 0, kept});
  (void)cycle(pool, nullptr, 4);  // the parent's pagemap is open
  EXPECT_EXIT(
      {
        auto a = pool.acquire();
        const auto m = a->allocate(4);
        m->base[5 * os_page()] = std::byte{1};
        (void)a->deallocate(m->base, kept);
        auto b = pool.acquire();
        const auto n = b->allocate(4);
        std::_Exit(n->base[5 * os_page()] == std::byte{0} ? 0 : 1);
      },
      ::testing::ExitedWithCode(0), "");
}

// The lowest descriptor number open() would return now.
int lowest_free_descriptor() {
  const int probe = dup(STDERR_FILENO);
  close(probe);
  return probe;
}

// Two first scans at once (in a fresh fork child, where no descriptor of
// /proc/self/pagemap is open yet): the second to open its descriptor finds
// the first one's in place, closes its own and uses that one. The seam hook
// makes the interleaving certain: it runs a whole first scan inside the
// other's open.
TEST_F(PoolRecycle, M7_TwoFirstScansAtOnceKeepOneDescriptor) {
  if (!kernel_scans()) GTEST_SKIP() << "no PAGEMAP_SCAN here";
  GTEST_FLAG_SET(death_test_style, "fast");
  EXPECT_EXIT(
      {
        static std::byte* page = static_cast<std::byte*>(std::aligned_alloc(os_page(), os_page()));
        static bool inside = false;
        const int free_before = lowest_free_descriptor();
        fault::before(OsCall::PagemapScan, []() noexcept {
          if (inside) return;
          inside = true;
          prim::PageRun runs[1];
          (void)prim::scan_dirty_pages(page, page + os_page(), runs);
          inside = false;
        });
        prim::PageRun runs[1];
        const bool scanned = prim::scan_dirty_pages(page, page + os_page(), runs).has_value();
        fault::before(OsCall::PagemapScan, nullptr);
        // One descriptor stays open (the one in place), the other was closed.
        std::_Exit(scanned && lowest_free_descriptor() == free_before + 1 ? 0 : 1);
      },
      ::testing::ExitedWithCode(0), "");
}

}  // namespace
}  // namespace wrt::platform::pool_test
#endif
