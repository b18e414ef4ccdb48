#include "wrt/platform/memory_pool.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <new>  // placement new into OS pages
#include <utility>

#include "allocator/page_policy.hpp"
#include "os/os_memory.hpp"
#include "os/os_pool.hpp"
#include "pool/pool_plan.hpp"
#include "trap/memory_registration.hpp"
#include "wrt/platform/bounds_check.hpp"
#include "wrt/platform/detail/wait_queue.hpp"

namespace wrt::platform {
namespace detail {

// What a MemoryPool and every allocator acquired from it share; freed with
// the last of them (reference count). It lives in the first page(s) of the
// pool's own reservation, followed by each slot's record and the free list's
// storage.
struct PoolState {
  std::atomic<std::uint32_t> references{1};
  PoolConfig config;
  PoolLayout layout;
  std::byte* mapping = nullptr;  // the one reservation, as mmap returned it
  std::byte* first_slot = nullptr;
  // Per slot: what its last tenant left accessible and mapped (M6). Written
  // only by the slot's holder; read under `mutex` to choose a free slot.
  SlotRecord* records = nullptr;
  std::mutex mutex;  // guards free_list and retired
  FreeList free_list{nullptr, 0};
  std::uint32_t retired = 0;

  std::byte* slot_base(std::uint32_t slot) const noexcept {
    return first_slot + std::size_t{slot} * layout.slot_stride;
  }
};

// What a MemoryImage and every allocator acquired with it share. It lives in
// an OS page of its own (no heap); the copy too, when there is one.
struct ImageState {
  std::atomic<std::uint32_t> references{1};
  // Names the image for as long as the process lives (never reused, unlike
  // the state's address): a free slot remembers which image it still maps.
  std::uint64_t id = 0;
  ImageLayout layout;
  int fd = -1;                // the memory file, when mapped copy-on-write
  std::byte* copy = nullptr;  // the bytes, when copied (no memfd)
  std::size_t copy_block_bytes = 0;
};

// Accessible memory straight from the OS, for the shared states: the pool
// never uses the heap, and each failure comes through the seam.
Result<std::byte*> map_block(std::size_t bytes) noexcept {
  const auto block = prim::reserve(bytes);
  if (!block) return block;
  if (auto committed = prim::commit(*block, bytes); !committed) {
    (void)prim::release(*block, bytes);
    return tl::unexpected(committed.error());
  }
  return block;
}

// Whole OS pages for `bytes`; never overflows for the sizes used here (a
// state, or an image's bytes, which plan_image() bounded).
std::size_t block_bytes(std::size_t bytes) noexcept {
  return *round_up(bytes, prim::os_page_size());
}

namespace {

template <typename State>
State* retain(State* state) noexcept {
  if (state != nullptr) state->references.fetch_add(1, std::memory_order_relaxed);
  return state;
}

// Nothing to report to on a failed munmap: it only leaks address space.
void destroy(PoolState* pool) noexcept {
  std::byte* const mapping = pool->mapping;
  const std::size_t bytes = pool->layout.reservation_bytes;
  pool->~PoolState();
  (void)prim::release(mapping, bytes);
}

void destroy(ImageState* image) noexcept {
  if (image->fd >= 0) prim::close_file(image->fd);
  if (image->copy != nullptr) (void)prim::release(image->copy, image->copy_block_bytes);
  image->~ImageState();
  (void)prim::release(reinterpret_cast<std::byte*>(image), block_bytes(sizeof(ImageState)));
}

template <typename State>
void drop(State* state) noexcept {
  if (state != nullptr && state->references.fetch_sub(1, std::memory_order_acq_rel) == 1)
    destroy(state);
}

// The slot range an image maps over (empty when it is copied or has no bytes).
ByteRange mapped_image_range(const ImageState* image) noexcept {
  if (image == nullptr || image->fd < 0) return {};
  return {static_cast<std::size_t>(image->layout.map_offset), image->layout.map_bytes};
}

// What a free slot must still map for the image to count as mapped there.
std::uint64_t mapped_image_id(const ImageState* image) noexcept {
  return mapped_image_range(image).empty() ? 0 : image->id;
}

// How far down the free list acquire() looks for a slot that already maps
// the wanted image (or none): a bounded cost, whatever the pool's size (S2).
constexpr std::uint32_t kPreferenceWindow = 16;

// A free slot, preferring one whose mapped image is `image_id` (0: none).
std::optional<std::uint32_t> take_free_slot(PoolState* pool, std::uint64_t image_id) noexcept {
  const std::lock_guard lock(pool->mutex);
  return pool->free_list.pop_preferring(
      [&](std::uint32_t slot) { return pool->records[slot].image_id == image_id; },
      kPreferenceWindow);
}

Result<void> commit_range(std::byte* base, ByteRange range) noexcept {
  if (range.empty()) return {};
  return prim::commit(base + range.offset, range.bytes);
}

// The reset of a slot whose first `kept` bytes are zeroed in place and
// whose next bytes, `discard`, are returned to the OS (M7): zeroes the kept
// pages that may hold a non-zero byte and returns the part of `discard`
// that holds pages of its own (written, or the zero page a read mapped),
// from its first such page to its last: what the one madvise must cover.
// Pages PAGEMAP_SCAN does not report read zero or the image already and
// hold no memory. Where the scan cannot tell, from there on every kept byte
// is zeroed and all the rest of `discard` is returned.
ByteRange zero_dirty(std::byte* base, std::size_t kept, ByteRange discard) noexcept {
  std::size_t dirty_from = discard.end();
  std::size_t dirty_to = discard.offset;
  const auto mark = [&](std::size_t from, std::size_t to, bool zero_page) {
    if (from < kept && !zero_page) std::memset(base + from, 0, std::min(to, kept) - from);
    if (to > kept) {
      dirty_from = std::min(dirty_from, std::max(from, kept));
      dirty_to = std::max(dirty_to, to);
    }
  };
  std::size_t from = 0;
  const std::size_t end = discard.end();
  while (from < end) {
    std::array<prim::PageRun, 16> runs;
    const auto scanned = prim::scan_dirty_pages(base + from, base + end, runs);
    if (!scanned || scanned->reached <= base + from) {
      mark(from, end, false);
      break;
    }
    for (const prim::PageRun& run : std::span(runs).first(scanned->runs)) {
      const std::size_t run_from = std::max(static_cast<std::size_t>(run.begin - base), from);
      const std::size_t run_to = std::min(static_cast<std::size_t>(run.end - base), end);
      if (run_from < run_to) mark(run_from, run_to, run.zero_page);
    }
    from = std::min(static_cast<std::size_t>(scanned->reached - base), end);
  }
  if (dirty_from >= dirty_to) return {discard.offset, 0};
  return {dirty_from, dirty_to - dirty_from};
}

Result<void> decommit_range(std::byte* base, ByteRange range) noexcept {
  if (range.empty()) return {};
  return prim::decommit(base + range.offset, range.bytes);
}

}  // namespace
}  // namespace detail

using detail::ByteRange;
using detail::ImageState;
using detail::PoolState;

// --- MemoryImage -------------------------------------------------------------

Result<MemoryImage> MemoryImage::create(std::span<const std::byte> bytes, std::uint64_t offset) {
  const auto layout = detail::plan_image(offset, bytes.size(), prim::os_page_size());
  if (!layout) return tl::unexpected(layout.error());
  const auto block = detail::map_block(detail::block_bytes(sizeof(ImageState)));
  if (!block) return tl::unexpected(block.error());
  auto* state = new (*block) ImageState;
  state->layout = *layout;
  MemoryImage image(state);  // frees the state on every return below
  if (bytes.empty()) return image;
  auto fd = prim::create_image_file(bytes, layout->data_in_file(), layout->map_bytes);
  if (fd) {
    static std::atomic<std::uint64_t> last_id{0};
    state->id = last_id.fetch_add(1, std::memory_order_relaxed) + 1;
    state->fd = *fd;
    return image;
  }
  // No memfd on this system: fall back to copying the bytes on allocate().
  if (fd.error().os_errno() != ENOSYS) return tl::unexpected(fd.error());
  const std::size_t copy_bytes = detail::block_bytes(bytes.size());
  const auto copy = detail::map_block(copy_bytes);
  if (!copy) return tl::unexpected(copy.error());
  std::memcpy(*copy, bytes.data(), bytes.size());
  state->copy = *copy;
  state->copy_block_bytes = copy_bytes;
  return image;
}

MemoryImage::MemoryImage(MemoryImage&& other) noexcept
    : state_(std::exchange(other.state_, nullptr)) {}

MemoryImage& MemoryImage::operator=(MemoryImage&& other) noexcept {
  if (this != &other) {
    detail::drop(state_);
    state_ = std::exchange(other.state_, nullptr);
  }
  return *this;
}

MemoryImage::~MemoryImage() { detail::drop(state_); }

std::uint64_t MemoryImage::offset() const noexcept {
  return state_ != nullptr ? state_->layout.data_offset : 0;
}
std::size_t MemoryImage::size() const noexcept {
  return state_ != nullptr ? state_->layout.data_bytes : 0;
}
bool MemoryImage::copy_on_write() const noexcept { return state_ != nullptr && state_->fd >= 0; }

// --- MemoryPool --------------------------------------------------------------

Result<MemoryPool> MemoryPool::create(PoolConfig config) {
  const auto layout = detail::plan_pool(config, prim::os_page_size(), sizeof(PoolState));
  if (!layout) return tl::unexpected(layout.error());
  const auto mapping = prim::reserve(layout->reservation_bytes);
  if (!mapping) return tl::unexpected(mapping.error());
  if (auto header = prim::commit(*mapping, layout->header_bytes); !header) {
    (void)prim::release(*mapping, layout->reservation_bytes);
    return tl::unexpected(header.error());
  }
  auto* state = new (*mapping) PoolState;
  state->config = config;
  state->layout = *layout;
  state->mapping = *mapping;
  const auto slots_from = reinterpret_cast<std::uintptr_t>(*mapping + layout->header_bytes);
  state->first_slot = *mapping + layout->header_bytes +
                      ((kWasmPageSize - slots_from % kWasmPageSize) % kWasmPageSize);
  // The header's fresh pages are zero: every slot starts fully inaccessible,
  // with no image.
  static_assert(sizeof(PoolState) % alignof(detail::SlotRecord) == 0);
  state->records = reinterpret_cast<detail::SlotRecord*>(*mapping + sizeof(PoolState));
  for (std::uint32_t slot = 0; slot < config.slots; ++slot)
    new (state->records + slot) detail::SlotRecord;
  state->free_list = detail::FreeList(
      reinterpret_cast<std::uint32_t*>(state->records + config.slots), config.slots);
  // Pushed last to first so that acquire() hands out slot 0 first.
  for (std::uint32_t slot = config.slots; slot > 0; --slot) state->free_list.push(slot - 1);
  return MemoryPool(state);
}

MemoryPool::MemoryPool(MemoryPool&& other) noexcept
    : state_(std::exchange(other.state_, nullptr)) {}

MemoryPool& MemoryPool::operator=(MemoryPool&& other) noexcept {
  if (this != &other) {
    detail::drop(state_);
    state_ = std::exchange(other.state_, nullptr);
  }
  return *this;
}

MemoryPool::~MemoryPool() { detail::drop(state_); }

Result<PooledPageAllocator> MemoryPool::acquire(const MemoryImage* image) {
  if (image != nullptr && image->state_ == nullptr)
    return tl::unexpected(
        Error(ErrorCode::InvalidArgument, "MemoryPool::acquire: the image was moved from"));
  if (state_ == nullptr)
    return tl::unexpected(
        Error(ErrorCode::CapacityExceeded, "MemoryPool::acquire: the pool was moved from"));
  const std::optional<std::uint32_t> slot = detail::take_free_slot(
      state_, detail::mapped_image_id(image != nullptr ? image->state_ : nullptr));
  if (!slot)
    return tl::unexpected(
        Error(ErrorCode::CapacityExceeded, "MemoryPool::acquire: every slot is in use"));
  return PooledPageAllocator(detail::retain(state_),
                             detail::retain(image != nullptr ? image->state_ : nullptr), *slot);
}

std::uint32_t MemoryPool::slots() const noexcept {
  return state_ != nullptr ? state_->config.slots : 0;
}

std::uint32_t MemoryPool::available_slots() const noexcept {
  if (state_ == nullptr) return 0;
  const std::lock_guard lock(state_->mutex);
  return state_->free_list.size();
}

std::uint32_t MemoryPool::retired_slots() const noexcept {
  if (state_ == nullptr) return 0;
  const std::lock_guard lock(state_->mutex);
  return state_->retired;
}

std::byte* MemoryPool::slot_base(std::uint32_t slot) const noexcept {
  if (state_ == nullptr || slot >= state_->config.slots) return nullptr;
  return state_->slot_base(slot);
}

bool MemoryPool::elides_bounds_checks() const noexcept {
  return state_ != nullptr && wrt::platform::elides_bounds_checks(state_->layout.slot_stride);
}

// --- PooledPageAllocator -----------------------------------------------------

std::size_t PooledPageAllocator::reserved_bytes() const noexcept {
  if (!is_allocated()) return 0;
  return std::max(state_.reserved_bytes(), pool_->layout.floor_bytes);
}

PooledPageAllocator::PooledPageAllocator(PooledPageAllocator&& other) noexcept
    : pool_(std::exchange(other.pool_, nullptr)),
      image_(std::exchange(other.image_, nullptr)),
      slot_(std::exchange(other.slot_, kNoSlot)),
      state_(std::exchange(other.state_, {})),
      trap_entry_(std::exchange(other.trap_entry_, nullptr)) {}

PooledPageAllocator& PooledPageAllocator::operator=(PooledPageAllocator&& other) noexcept {
  if (this != &other) {
    PooledPageAllocator old(std::move(*this));
    pool_ = std::exchange(other.pool_, nullptr);
    image_ = std::exchange(other.image_, nullptr);
    slot_ = std::exchange(other.slot_, kNoSlot);
    state_ = std::exchange(other.state_, {});
    trap_entry_ = std::exchange(other.trap_entry_, nullptr);
  }
  return *this;
}

PooledPageAllocator::~PooledPageAllocator() {
  if (is_allocated()) {
    (void)deallocate(state_.base, state_.committed_bytes());
  } else if (holds_slot()) {
    release_slot(true);  // never allocated since its last reset: still clean
  }
  detail::drop(image_);
  detail::drop(pool_);
}

Result<void> PooledPageAllocator::reset_slot(std::size_t committed_bytes,
                                             std::size_t keep_resident_bytes) noexcept {
  std::byte* const base = pool_->slot_base(slot_);
  detail::SlotRecord& record = pool_->records[slot_];
  const auto plan = detail::plan_reset(committed_bytes, keep_resident_bytes, record.image);
  // Nothing kept: the one madvise over everything is the cheapest reset.
  // Few kept bytes: a memset of them costs less than the scan's ioctl (M7).
  ByteRange discard = plan.discard;
  if (plan.zero.bytes >= detail::kScanKeptFromBytes)
    discard = detail::zero_dirty(base, plan.zero.bytes, plan.discard);
  else
    std::memset(base, 0, plan.zero.bytes);
  if (!discard.empty() && !prim::discard(base + discard.offset, discard.bytes)) {
    // madvise cannot (EINVAL on locked pages under mlockall, or any other
    // failure): fresh inaccessible address space mapped over everything past
    // the kept bytes does the same (S8); the old pages, and the image, go
    // with the old mapping.
    if (auto remapped = prim::map_reserved(base + plan.discard.offset, plan.discard.bytes);
        !remapped)
      return remapped;
    record = {plan.zero.bytes, 0, {}};
    return {};
  }
  record.accessible = plan.accessible_after;
  return {};
}

void PooledPageAllocator::release_slot(bool reset_ok) noexcept {
  {
    const std::lock_guard lock(pool_->mutex);
    if (reset_ok)
      (void)pool_->free_list.push(slot_);
    else
      ++pool_->retired;
  }
  slot_ = kNoSlot;
}

Result<Allocation> PooledPageAllocator::allocate(std::uint32_t initial_pages,
                                                 std::optional<std::uint32_t> maximum_pages) {
  const std::uint32_t limit = pool_ != nullptr ? pool_->config.maximum_pages : 0;
  const auto plan = detail::plan_allocate(state_, initial_pages, maximum_pages, limit);
  if (!plan) return tl::unexpected(plan.error());
  const std::size_t committed_bytes = std::size_t{initial_pages} * kWasmPageSize;
  if (image_ != nullptr && image_->layout.end > committed_bytes)
    return tl::unexpected(
        Error(ErrorCode::OutOfBounds, "allocate: the image does not fit in the initial pages"));
  if (pool_ == nullptr)
    return tl::unexpected(
        Error(ErrorCode::CapacityExceeded, "allocate: the allocator was moved from"));
  // The registry entry before the slot: a failed claim takes no slot.
  const auto entry = trap::claim_memory_entry();
  if (!entry) return tl::unexpected(entry.error());
  if (!holds_slot()) {
    const std::optional<std::uint32_t> slot =
        detail::take_free_slot(pool_, detail::mapped_image_id(image_));
    if (!slot) {
      trap::release_entry(*entry);
      return tl::unexpected(
          Error(ErrorCode::CapacityExceeded, "allocate: every slot of the pool is in use"));
    }
    slot_ = *slot;
  }

  std::byte* const base = pool_->slot_base(slot_);
  detail::SlotRecord& record = pool_->records[slot_];
  const ByteRange wanted = detail::mapped_image_range(image_);
  const std::uint64_t wanted_id = detail::mapped_image_id(image_);
  const auto commit = detail::plan_commit(committed_bytes, record.accessible, record.image, wanted,
                                          wanted_id != 0 && record.image_id == wanted_id);
  Result<void> done = {};
  if (!commit.unmap.empty())
    done = prim::map_reserved(base + commit.unmap.offset, commit.unmap.bytes);
  if (done && !commit.image.empty())
    done = prim::map_file_private(base + commit.image.offset, commit.image.bytes, image_->fd);
  if (done) done = detail::commit_range(base, commit.commit.before);
  if (done) done = detail::commit_range(base, commit.commit.after);
  if (done) done = detail::decommit_range(base, commit.decommit);
  if (!done) {
    // Undo whatever part was done: fresh inaccessible address space over
    // everything that may be accessible or mapped (no byte was written).
    // Keep the slot if that worked (it is clean and holds nothing), else
    // take it out of service.
    const std::size_t touched = std::max(committed_bytes, record.accessible);
    if (touched == 0 || prim::map_reserved(base, touched))
      record = {};
    else
      release_slot(false);
    trap::release_entry(*entry);
    return tl::unexpected(done.error());
  }
  record = {committed_bytes, wanted_id, wanted};
  if (image_ != nullptr && image_->copy != nullptr)
    std::memcpy(base + static_cast<std::size_t>(image_->layout.data_offset), image_->copy,
                image_->layout.data_bytes);
  state_ = {base, initial_pages, plan->reserved_pages};
  trap_entry_ = *entry;
  // The whole slot (memory, guard, rounding) is this memory's while it lives.
  trap::publish_memory(trap_entry_, base, state_.committed_bytes(), pool_->layout.slot_stride);
  return Allocation{state_.base, state_.committed_bytes()};
}

Result<void> PooledPageAllocator::grow(std::uint32_t current_pages,
                                       std::uint32_t additional_pages) {
  const auto new_pages = detail::plan_grow(state_, current_pages, additional_pages);
  if (!new_pages) return tl::unexpected(new_pages.error());
  if (additional_pages == 0) return {};
  // Bytes past the committed ones are zero: the last reset left them so.
  if (auto committed = prim::commit(state_.base + state_.committed_bytes(),
                                    std::size_t{additional_pages} * kWasmPageSize);
      !committed)
    return committed;
  state_.committed_pages = *new_pages;
  // After the pages are accessible, as MmapPageAllocator::grow.
  trap::publish_committed_bytes(trap_entry_, state_.base, state_.committed_bytes());
  return {};
}

Result<void> PooledPageAllocator::deallocate(std::byte* ptr, std::size_t size) {
  if (auto valid = detail::check_deallocate(state_, ptr, size); !valid) return valid;
  // The slot's next tenant must not inherit a sleeper (S7).
  detail::expect_no_waiters_in(state_.base, state_.committed_bytes(), "pool slot released");
  // Out of the registry before the reset: from here on a fault in the slot
  // (its kept bytes stay accessible, the rest does not) is foreign, and stays
  // so until the slot's next user publishes its memory.
  trap::retract(trap_entry_);
  const auto reset = reset_slot(state_.committed_bytes(), pool_->layout.keep_resident_bytes);
  trap::release_entry(trap_entry_);
  release_slot(reset.has_value());
  state_ = {};
  return reset;
}

}  // namespace wrt::platform
