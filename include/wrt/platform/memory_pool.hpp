// MemoryPool: many linear memories in one reservation, handed out and taken
// back without a system call that maps or unmaps, and reset for the next user.
// MemoryImage: a memory's initial contents (its data segments), mapped
// copy-on-write instead of copied.
//
// A pool reserves `slots` slots at creation, each `maximum_pages` pages (or
// reservation_bytes, if more) plus its own guard, all of them inaccessible. acquire() takes a free
// slot and returns a PooledPageAllocator, a PageAllocator whose memory lives in that slot;
// allocate() makes the initial pages accessible (with the image's bytes, if any), grow() commits
// more; deallocate() or the destructor resets the slot (the first keep_resident_bytes zeroed in
// place, the rest returned to the OS) and hands it back to the pool. A later user of the slot sees
// zeros or its own image, never a byte of an earlier user. See docs/SPEC.md (M1-M7).
//
// Recycling (M6, M7): a free slot stays accessible up to its last memory's end (reading zero)
// and keeps its image mapped (reading the pristine image), and acquire() prefers a slot that
// maps the wanted image, so that in the steady state (the same image at the same size)
// acquire() and allocate() make no system call and a release at most one. From 256 KiB of
// kept bytes in a memory on, the reset zeroes only the kept pages a tenant may have written
// (Linux 6.7+ PAGEMAP_SCAN; all of them elsewhere). A stale pointer into a free slot therefore
// reads zeros or that image, never a tenant's byte, and faults past the last memory.
//
// Lifetime: the pool's and the image's state are reference-counted. A
// PooledPageAllocator keeps both alive, so destroying the MemoryPool or the
// MemoryImage while memories acquired from them live is safe: the reservation
// is returned to the OS when the last of them goes.
//
// Threads: acquire() and the hand-back may run on any number of threads at
// once (the free list is behind a mutex). Each PooledPageAllocator needs
// exclusive access for its mutating calls, like every PageAllocator.
//
// Platforms: Linux (madvise(MADV_DONTNEED) zero-fills, memfd_create for
// images). Where memfd_create is missing (ENOSYS) an image falls back to a
// copy into the memory on allocate(); MemoryImage::copy_on_write() tells.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "wrt/platform/error.hpp"
#include "wrt/platform/page_allocator.hpp"

namespace wrt::platform {
namespace trap {
struct Entry;  // src/trap/fault_registry.hpp
}  // namespace trap

namespace detail {
struct PoolState;
struct ImageState;
}  // namespace detail

struct PoolConfig {
  // How many memories the pool holds at once (at least 1): a hard limit.
  std::uint32_t slots;
  // The most pages any memory of the pool may reserve (like
  // PageAllocatorConfig::maximum_pages); every slot reserves this many.
  std::uint32_t maximum_pages;
  // Inaccessible bytes after every slot's memory, rounded up to the OS page.
  std::size_t guard_bytes = 0;
  // Bytes at the start of a slot that a reset zeroes in place and keeps
  // resident (rounded down to the OS page); the rest is returned to the OS.
  // From 256 KiB of them in a memory on, only the kept pages that may hold
  // a non-zero byte are zeroed (docs/SPEC.md M7).
  std::size_t keep_resident_bytes = 0;
  // Every slot reserves at least this many bytes from its base, rounded up to
  // kWasmPageSize, whatever maximum_pages (T5 for every slot); its guard
  // follows. 4 GiB here and a guard of 4 GiB plus one OS page make
  // MemoryPool::elides_bounds_checks() true.
  std::size_t reservation_bytes = 0;
};

// A memory's initial contents: `bytes` at `offset`, zero everywhere else.
// Move-only; what was acquired with an image keeps the image's state alive.
class MemoryImage {
 public:
  // Copies `bytes` into an OS memory file (memfd) whose pages are mapped
  // copy-on-write on allocate(). Errors: OutOfBounds when offset + size
  // passes 4 GiB (no 32-bit memory can hold it), OutOfMemory, SystemError.
  static Result<MemoryImage> create(std::span<const std::byte> bytes, std::uint64_t offset);

  MemoryImage(MemoryImage&& other) noexcept;
  MemoryImage& operator=(MemoryImage&& other) noexcept;
  MemoryImage(const MemoryImage&) = delete;
  MemoryImage& operator=(const MemoryImage&) = delete;
  ~MemoryImage();

  // Where the bytes start in the memory; how many there are. 0 when moved from.
  std::uint64_t offset() const noexcept;
  std::size_t size() const noexcept;
  // True when allocate() maps the image copy-on-write; false when it copies
  // (no memfd on this system) or the image has no bytes.
  bool copy_on_write() const noexcept;

 private:
  friend class MemoryPool;
  explicit MemoryImage(detail::ImageState* state) noexcept : state_(state) {}
  detail::ImageState* state_ = nullptr;
};

// A PageAllocator whose memory lives in one slot of a MemoryPool.
//
// Errors are those of MmapPageAllocator, in the same order, plus:
// allocate() OutOfBounds when the image does not fit in the initial pages
// (checked after the argument checks), and CapacityExceeded when the
// allocator holds no slot (after a deallocate() it takes a free one again;
// none may be free) or was moved from. A failed OS call in deallocate() or the
// destructor retires the slot (MemoryPool::retired_slots()) instead of
// handing it back half reset; deallocate() then reports the error and the
// allocator is empty. A moved-from allocator is empty and holds no pool.
//
// Traps: an allocated memory is in the trap registry like an
// MmapPageAllocator memory, so inside catch_traps a fault past its committed
// bytes, up to the next slot (guard included), is a trap (trap.hpp). allocate()
// fails with CapacityExceeded when the heap has no room for the registry
// entry (before taking a slot; the registry has no limit of its own); from
// deallocate() on, the slot's range is not the allocator's.
class PooledPageAllocator {
 public:
  PooledPageAllocator(PooledPageAllocator&& other) noexcept;
  PooledPageAllocator& operator=(PooledPageAllocator&& other) noexcept;
  PooledPageAllocator(const PooledPageAllocator&) = delete;
  PooledPageAllocator& operator=(const PooledPageAllocator&) = delete;
  // Resets the slot and hands it back; never fails loudly.
  ~PooledPageAllocator();

  // Commits `initial_pages` of the slot, holding the image's bytes (if any)
  // and zero elsewhere. Errors: InvalidArgument, CapacityExceeded,
  // AlreadyAllocated, OutOfBounds, OutOfMemory, SystemError.
  Result<Allocation> allocate(std::uint32_t initial_pages,
                              std::optional<std::uint32_t> maximum_pages = std::nullopt);
  // Errors: NotAllocated, StateMismatch, CapacityExceeded, OutOfMemory, SystemError.
  Result<void> grow(std::uint32_t current_pages, std::uint32_t additional_pages);
  // Resets the slot and hands it back to the pool. Errors: NotAllocated,
  // PointerMismatch (nothing changed); OutOfMemory, SystemError (slot retired).
  Result<void> deallocate(std::byte* ptr, std::size_t size);

  std::byte* base() const noexcept { return state_.base; }
  std::uint32_t committed_pages() const noexcept { return state_.committed_pages; }
  std::size_t committed_bytes() const noexcept { return state_.committed_bytes(); }
  // The maximum, or more with PoolConfig::reservation_bytes (T5); 0 when
  // not allocated.
  std::size_t reserved_bytes() const noexcept;
  bool is_allocated() const noexcept { return state_.allocated(); }
  // Whether the allocator holds a slot (from acquire() until deallocate()).
  bool holds_slot() const noexcept { return slot_ != kNoSlot; }

 private:
  friend class MemoryPool;
  static constexpr std::uint32_t kNoSlot = UINT32_MAX;
  PooledPageAllocator(detail::PoolState* pool, detail::ImageState* image,
                      std::uint32_t slot) noexcept
      : pool_(pool), image_(image), slot_(slot) {}
  void release_slot(bool reset_ok) noexcept;
  Result<void> reset_slot(std::size_t committed_bytes, std::size_t keep_resident_bytes) noexcept;

  detail::PoolState* pool_ = nullptr;
  detail::ImageState* image_ = nullptr;
  std::uint32_t slot_ = kNoSlot;
  detail::LinearMemoryState state_;
  // The memory's entry in the trap registry while allocated (src/trap/).
  trap::Entry* trap_entry_ = nullptr;
};

static_assert(PageAllocator<PooledPageAllocator>);

class MemoryPool {
 public:
  // Reserves every slot with one mmap (inaccessible, no resident memory).
  // Errors: InvalidArgument (slots == 0), CapacityExceeded (the reservation
  // overflows size_t), Unsupported (OS page larger than kWasmPageSize),
  // OutOfMemory, SystemError.
  static Result<MemoryPool> create(PoolConfig config);

  MemoryPool(MemoryPool&& other) noexcept;
  MemoryPool& operator=(MemoryPool&& other) noexcept;
  MemoryPool(const MemoryPool&) = delete;
  MemoryPool& operator=(const MemoryPool&) = delete;
  ~MemoryPool();

  // Takes a free slot, preferring one that still maps `image` (or no image);
  // no system call. `image` (may be null) is what every
  // allocate() of the returned allocator starts from; the allocator keeps it
  // alive. Errors: CapacityExceeded (every slot in use, or moved from),
  // InvalidArgument (a moved-from image).
  Result<PooledPageAllocator> acquire(const MemoryImage* image = nullptr);

  // Observers; 0 when moved from.
  std::uint32_t slots() const noexcept;
  // Slots free to acquire now.
  std::uint32_t available_slots() const noexcept;
  // Slots taken out of service because an OS call failed while resetting them.
  std::uint32_t retired_slots() const noexcept;
  // Address of a slot's memory (for tests and diagnostics); null when out of range.
  std::byte* slot_base(std::uint32_t slot) const noexcept;
  // True when a runtime may drop every bounds check on the pool's memories
  // (docs/SPEC.md S3): each slot's stride (its reservation, its guard and the
  // rounding up to 64 KiB, up to the next slot's base) covers every byte of
  // every 32-bit access from the slot's base (bounds_check.hpp), so no such
  // access reaches another slot. False at 4 GiB + 4 GiB, and when moved from.
  bool elides_bounds_checks() const noexcept;

 private:
  explicit MemoryPool(detail::PoolState* state) noexcept : state_(state) {}
  detail::PoolState* state_ = nullptr;
};

}  // namespace wrt::platform
