// MemoryPool with images: random acquire / allocate / write / read / grow /
// deallocate / drop over a pool of two slots and up to three allocators,
// against a model that knows every byte each memory must hold. Checks M2
// (a memory reads its image or zero everywhere, whatever an earlier user of
// the slot wrote or grew: the whole memory is compared on every allocate and
// grow), M6 (a released slot, which stays accessible up to its last memory's
// end and keeps its image mapped, reads exactly that image or zero there
// already: slots are reused across images, sizes and keep sizes), M7 (the
// dirty-page-only reset of the kept bytes: reads map the zero page or the
// image's own pages, which the scan must tell from written ones), M3 (after
// a reset the slot keeps at most keep_resident_bytes resident outside the
// image's pages, by mincore), M4 (writes stay private to their memory:
// memories of the same image are compared too) and the slot limit of M1.
#include <fuzzer/FuzzedDataProvider.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <utility>
#include <vector>

#include "check.hpp"
#include "wrt/platform/memory_pool.hpp"
#ifdef WRT_PLATFORM_FAULT_INJECTION
#include "os/fault_injection.hpp"
#endif

using namespace wrt::platform;

namespace {

constexpr std::uint32_t kSlots = 2;
constexpr std::uint32_t kMaxPages = 4;
constexpr std::size_t kHandles = 3;

std::size_t os_page() {
  static const auto page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
  return page;
}

// mincore over [p, p + bytes): one entry per OS page, bit 0 set if resident.
std::vector<unsigned char> mincore_pages;

void resident_pages(std::byte* p, std::size_t bytes) {
  mincore_pages.assign(bytes / os_page(), 0);
  FUZZ_CHECK(mincore(p, bytes, mincore_pages.data()) == 0);
}

std::size_t resident_bytes(std::byte* p, std::size_t bytes) {
  resident_pages(p, bytes);
  std::size_t resident = 0;
  for (const unsigned char v : mincore_pages) resident += (v & 1) != 0 ? os_page() : 0;
  return resident;
}

std::size_t max_image_bytes() { return 3 * os_page() + 100; }

// Image bytes: `pattern()` from a seed on, never zero, different for every
// seed. Copied from one table rather than computed per input: that loop,
// with a coverage callback per byte, was a fifth of the harness's time.
const std::vector<std::byte>& pattern() {
  static const std::vector<std::byte> bytes = [] {
    std::vector<std::byte> made(256 + max_image_bytes());
    for (std::size_t i = 0; i < made.size(); ++i)
      made[i] = static_cast<std::byte>(static_cast<std::uint8_t>(i * 13) | 1u);
    return made;
  }();
  return bytes;
}

// An image and the memory contents it stands for.
struct ModelImage {
  MemoryImage image;
  std::vector<std::byte> bytes;
  std::uint64_t offset;

  // The OS pages the image's file is mapped over (empty without bytes):
  // mincore counts the file's pages there, shared by every memory.
  std::pair<std::size_t, std::size_t> mapped_pages() const {
    if (bytes.empty()) return {0, 0};
    const std::size_t first = offset / os_page();
    return {first, (offset + bytes.size() + os_page() - 1) / os_page() - first};
  }
};

struct Handle {
  std::optional<PooledPageAllocator> allocator;
  const ModelImage* image = nullptr;
  std::vector<std::byte> expected;  // the committed bytes, byte for byte
};

// The model's buffers, kept across inputs: a fresh memory-sized vector per
// allocate meant, under ASan, a fresh mapping and a page fault per 4 KiB
// (half the harness's time). A cleared vector keeps its capacity.
std::array<Handle, kHandles>& handles() {
  static std::array<Handle, kHandles> kept{};
  return kept;
}

class Driver {
 public:
  Driver(MemoryPool& pool, std::size_t keep, const std::array<const ModelImage*, 3>& images)
      : pool_(pool), keep_(keep), images_(images), handles_(handles()) {}

  void run(FuzzedDataProvider& in) {
    while (in.remaining_bytes() > 0) {
      Handle& h = handles_[in.ConsumeIntegralInRange<std::size_t>(0, kHandles - 1)];
      switch (in.ConsumeIntegralInRange<int>(0, 6)) {
        case 0:
          acquire(h, images_[in.ConsumeIntegralInRange<std::size_t>(0, images_.size() - 1)]);
          break;
        case 1:
          allocate(h, in.ConsumeIntegralInRange<std::uint32_t>(0, kMaxPages));
          break;
        case 2:
          write(h, in);
          break;
        case 3:
          grow(h, in.ConsumeIntegralInRange<std::uint32_t>(0, kMaxPages));
          break;
        case 4:
          deallocate(h);
          break;
        case 5:
          read(h, in);
          break;
        default:
          drop(h);
          break;
      }
    }
    for (Handle& h : handles_) drop(h);
    FUZZ_CHECK(pool_.available_slots() == kSlots);
  }

 private:
  void acquire(Handle& h, const ModelImage* image) {
    if (h.allocator) return;
    const bool free_slot = in_use_ < kSlots;
    auto a = pool_.acquire(image != nullptr ? &image->image : nullptr);
    FUZZ_CHECK(a.has_value() == free_slot);
    if (!a) {
      FUZZ_CHECK(a.error().code() == ErrorCode::CapacityExceeded);
      return;
    }
    ++in_use_;
    h.allocator.emplace(std::move(*a));
    h.image = image;
  }

  void allocate(Handle& h, std::uint32_t pages) {
    if (!h.allocator || h.allocator->is_allocated()) return;
    const std::size_t bytes = std::size_t{pages} * kWasmPageSize;
    const bool fits = h.image == nullptr || h.image->offset + h.image->bytes.size() <= bytes;
    const bool had_slot = h.allocator->holds_slot();
    const bool slot = had_slot || in_use_ < kSlots;
    const auto m = h.allocator->allocate(pages, kMaxPages);
    FUZZ_CHECK(m.has_value() == (fits && slot));
    if (!m) return;
    FUZZ_CHECK(h.allocator->holds_slot());
    if (!had_slot) ++in_use_;
    h.expected.assign(bytes, std::byte{0});
    if (h.image != nullptr && !h.image->bytes.empty())
      std::memcpy(h.expected.data() + h.image->offset, h.image->bytes.data(),
                  h.image->bytes.size());
    verify(h);  // M2, M4: an earlier user's bytes never show
  }

  void write(Handle& h, FuzzedDataProvider& in) {
    if (!h.allocator || !h.allocator->is_allocated() || h.expected.empty()) return;
    const std::size_t at = in.ConsumeIntegralInRange<std::size_t>(0, h.expected.size() - 1);
    const std::size_t length = in.ConsumeIntegralInRange<std::size_t>(
        1, std::min<std::size_t>(h.expected.size() - at, 20000));
    const auto value = static_cast<std::byte>(in.ConsumeIntegralInRange<int>(1, 255));
    std::memset(h.allocator->base() + at, std::to_integer<int>(value), length);
    std::memset(h.expected.data() + at, std::to_integer<int>(value), length);
  }

  // Reads map the shared zero page (plain bytes) or the image file's own
  // pages: what the reset's scan must not mistake for written pages, nor
  // written pages for them.
  void read(Handle& h, FuzzedDataProvider& in) {
    if (!h.allocator || !h.allocator->is_allocated() || h.expected.empty()) return;
    const std::size_t at = in.ConsumeIntegralInRange<std::size_t>(0, h.expected.size() - 1);
    const std::size_t length = in.ConsumeIntegralInRange<std::size_t>(
        1, std::min<std::size_t>(h.expected.size() - at, 5 * os_page()));
    FUZZ_CHECK(std::memcmp(h.allocator->base() + at, h.expected.data() + at, length) == 0);
  }

  void grow(Handle& h, std::uint32_t delta) {
    if (!h.allocator || !h.allocator->is_allocated()) return;
    const std::uint32_t pages = h.allocator->committed_pages();
    const auto grown = h.allocator->grow(pages, delta);
    FUZZ_CHECK(grown.has_value() == (pages + delta <= kMaxPages));
    if (!grown) return;
    h.expected.resize(std::size_t{pages + delta} * kWasmPageSize, std::byte{0});
    verify(h);
  }

  void deallocate(Handle& h) {
    if (!h.allocator || !h.allocator->is_allocated()) return;
    verify(h);  // M4: no other memory's write reached this one
    std::byte* const base = h.allocator->base();
    const std::size_t bytes = h.expected.size();
    FUZZ_CHECK(h.allocator->deallocate(base, bytes).has_value());
    --in_use_;
    h.expected.clear();
    check_released(base, bytes, h.image);
  }

  void drop(Handle& h) {
    if (!h.allocator) return;
    std::byte* const base = h.allocator->is_allocated() ? h.allocator->base() : nullptr;
    if (base != nullptr) verify(h);
    if (h.allocator->holds_slot()) --in_use_;
    const std::size_t bytes = h.expected.size();
    h.allocator.reset();
    if (base != nullptr) check_released(base, bytes, h.image);
    h.image = nullptr;
    h.expected.clear();
  }

  // A released slot keeps at most keep_resident_bytes resident outside the
  // image's file pages (M3), and its `bytes` (its last memory, still
  // accessible: M6) read the image or zero, nothing a tenant wrote. Only the
  // resident pages are read: a read maps the zero page, which mincore would
  // count at the next check; a page that is not resident reads zero.
  void check_released(std::byte* base, std::size_t bytes, const ModelImage* image) {
    const auto [first, count] =
        image != nullptr ? image->mapped_pages() : std::pair<std::size_t, std::size_t>{0, 0};
    const std::size_t all = resident_bytes(base, std::size_t{kMaxPages} * kWasmPageSize);
    const std::size_t file =
        count == 0 ? 0 : resident_bytes(base + first * os_page(), count * os_page());
    FUZZ_CHECK(all - file <= keep_);
    pristine_.assign(bytes, std::byte{0});
    if (image != nullptr && !image->bytes.empty())
      std::memcpy(pristine_.data() + image->offset, image->bytes.data(), image->bytes.size());
    resident_pages(base, bytes);
    for (std::size_t page = 0; page < bytes / os_page(); ++page) {
      const std::size_t at = page * os_page();
      FUZZ_CHECK((mincore_pages[page] & 1) == 0 ||
                 std::memcmp(base + at, pristine_.data() + at, os_page()) == 0);
    }
  }

  void verify(const Handle& h) {
    FUZZ_CHECK(h.allocator->committed_bytes() == h.expected.size());
    FUZZ_CHECK(h.expected.empty() ||
               std::memcmp(h.allocator->base(), h.expected.data(), h.expected.size()) == 0);
  }

  MemoryPool& pool_;
  std::size_t keep_;
  std::array<const ModelImage*, 3> images_;
  std::array<Handle, kHandles>& handles_;  // every one dropped before and after run()
  std::vector<std::byte> pristine_;
  std::uint32_t in_use_ = 0;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider in(data, size);
#ifdef WRT_PLATFORM_FAULT_INJECTION
  // Half the inputs run where PAGEMAP_SCAN is missing (qemu-user's ENOSYS):
  // the reset's fallback zeroes every kept byte (M7).
  wrt::platform::fault::reset();
  if (in.ConsumeBool())
    wrt::platform::fault::fail(wrt::platform::fault::OsCall::PagemapScan, ENOSYS, 0, UINT32_MAX);
#endif
  // Below 256 KiB the kept bytes are memset; from there on scanned (M7).
  const std::array<std::size_t, 6> keeps{0,
                                         os_page(),
                                         kWasmPageSize,
                                         kWasmPageSize + 2 * os_page(),
                                         kMaxPages * kWasmPageSize,
                                         std::size_t{1} << 30};
  const std::size_t keep = keeps[in.ConsumeIntegralInRange<std::size_t>(0, keeps.size() - 1)];
  auto pool = MemoryPool::create({kSlots, kMaxPages, 0, keep});
  FUZZ_CHECK(pool.has_value());

  // Two images: bytes at an unaligned offset in the first two pages.
  std::array<std::optional<ModelImage>, 2> made;
  for (auto& image : made) {
    const auto offset = in.ConsumeIntegralInRange<std::uint64_t>(0, kWasmPageSize + 5000);
    const auto length = in.ConsumeIntegralInRange<std::size_t>(0, max_image_bytes());
    const auto seed = in.ConsumeIntegral<std::uint8_t>();
    std::vector<std::byte> bytes(pattern().begin() + seed, pattern().begin() + seed + length);
    auto created = MemoryImage::create(bytes, offset);
    FUZZ_CHECK(created.has_value());
    image.emplace(ModelImage{std::move(*created), std::move(bytes), offset});
  }
  Driver(*pool, keep, {nullptr, &*made[0], &*made[1]}).run(in);
#ifdef WRT_PLATFORM_FAULT_INJECTION
  wrt::platform::fault::reset();
#endif
  return 0;
}
