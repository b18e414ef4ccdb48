// The memory pool's decisions, free of OS calls: the slot layout of the one
// reservation, where an image's OS pages go, which bytes a reset zeroes in
// place and which it returns to the OS, and the free list of slots. The pool
// (memory_pool.cpp) only carries these plans out; tests check them directly.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>

#include "allocator/page_policy.hpp"
#include "wrt/platform/error.hpp"
#include "wrt/platform/memory_pool.hpp"

namespace wrt::platform::detail {

// Bytes [offset, offset + bytes) of a slot.
struct ByteRange {
  std::size_t offset = 0;
  std::size_t bytes = 0;

  constexpr std::size_t end() const noexcept { return offset + bytes; }
  constexpr bool empty() const noexcept { return bytes == 0; }
  friend constexpr bool operator==(const ByteRange&, const ByteRange&) = default;
};

// The one reservation: first header_bytes for the pool's own bookkeeping
// (its state, each slot's accessible bytes and the free list, so that the
// pool needs no heap), then the slots
// from the next kWasmPageSize boundary. Slot i lives at slot_stride * i from
// the first slot; its memory is memory_bytes long (the maximum, or the
// reservation floor if more: T5), then at least guard_bytes inaccessible bytes
// up to the next slot. The stride is what S3's rule is asked about.
struct PoolLayout {
  std::size_t header_bytes;
  std::size_t memory_bytes;
  std::size_t floor_bytes;  // PoolConfig::reservation_bytes rounded up to kWasmPageSize
  std::size_t guard_bytes;
  std::size_t slot_stride;
  std::size_t keep_resident_bytes;
  std::size_t reservation_bytes;  // header, all slots, kWasmPageSize of alignment slack
};

// What the pool remembers of a free slot between tenants (docs/SPEC.md M6,
// M7), in the header: how many bytes from its start are accessible (and read
// zero, or the image), and which image, if any, is still mapped there.
struct SlotRecord {
  std::size_t accessible = 0;
  // ImageState::id of the image mapped over `image`; 0: none.
  std::uint64_t image_id = 0;
  ByteRange image;
};

// Header bytes per slot: its record and its free-list entry.
inline constexpr std::size_t kHeaderBytesPerSlot = sizeof(SlotRecord) + sizeof(std::uint32_t);

// `state_bytes`: the pool's state; the header adds kHeaderBytesPerSlot per
// slot and rounds up to the OS page.
constexpr Result<PoolLayout> plan_pool(const PoolConfig& config, std::size_t os_page,
                                       std::size_t state_bytes) noexcept {
  if (config.slots == 0)
    return tl::unexpected(Error(ErrorCode::InvalidArgument, "MemoryPool::create: slots is 0"));
  if (os_page > kWasmPageSize)
    return tl::unexpected(Error(ErrorCode::Unsupported,
                                "MemoryPool::create: OS page larger than a WebAssembly page"));
  const auto maximum = pages_to_bytes(config.maximum_pages);
  const auto floor = round_up(config.reservation_bytes, kWasmPageSize);
  const auto guard = round_up(config.guard_bytes, os_page);
  const bool sizes_fit = maximum && floor && guard;
  const std::size_t memory = sizes_fit ? std::max(*maximum, *floor) : 0;
  const auto with_guard = sizes_fit ? checked_add(memory, *guard) : std::nullopt;
  const auto stride = with_guard ? round_up(*with_guard, kWasmPageSize) : std::nullopt;
  std::size_t all_slots = 0;
  std::size_t per_slot = 0;
  const bool fits = stride &&
                    !__builtin_mul_overflow(std::max(*stride, kWasmPageSize),
                                            std::size_t{config.slots}, &all_slots) &&
                    !__builtin_mul_overflow(kHeaderBytesPerSlot, config.slots, &per_slot);
  const auto header = fits ? round_up(state_bytes + per_slot, os_page) : std::nullopt;
  const auto slots_and_slack = fits ? checked_add(all_slots, kWasmPageSize) : std::nullopt;
  const auto reservation =
      header && slots_and_slack ? checked_add(*header, *slots_and_slack) : std::nullopt;
  if (!reservation)
    return tl::unexpected(
        Error(ErrorCode::CapacityExceeded, "MemoryPool::create: the reservation overflows size_t"));
  // A slot of zero bytes would give every memory the same base: at least one
  // WebAssembly page apart.
  const std::size_t slot_stride = std::max(*stride, kWasmPageSize);
  const std::size_t keep = std::min(config.keep_resident_bytes, memory) & ~(os_page - 1);
  return PoolLayout{*header, memory, *floor, slot_stride - memory, slot_stride, keep, *reservation};
}

// Where an image's bytes go in a memory and which OS pages hold them: the
// memory file holds the whole OS pages from map_offset, with the bytes at
// their place in them (data_offset - map_offset into the file) and zeros
// around them, so mapping the file at map_offset puts every byte where it
// belongs and the partial first and last OS pages read zero outside it.
struct ImageLayout {
  std::uint64_t data_offset;
  std::size_t data_bytes;
  std::uint64_t map_offset;
  std::size_t map_bytes;  // 0 for an image without bytes: nothing to map
  std::uint64_t end;      // data_offset + data_bytes: the bytes a memory needs

  constexpr std::size_t data_in_file() const noexcept {
    return static_cast<std::size_t>(data_offset - map_offset);
  }
};

// The largest 32-bit memory: no image may reach past it.
inline constexpr std::uint64_t kMaxMemoryBytes = std::uint64_t{1} << 32;

constexpr Result<ImageLayout> plan_image(std::uint64_t offset, std::size_t bytes,
                                         std::size_t os_page) noexcept {
  std::uint64_t end = 0;
  if (__builtin_add_overflow(offset, std::uint64_t{bytes}, &end) || end > kMaxMemoryBytes)
    return tl::unexpected(
        Error(ErrorCode::OutOfBounds, "MemoryImage::create: offset + size passes 4 GiB"));
  if (bytes == 0) return ImageLayout{offset, 0, offset, 0, end};
  const std::uint64_t page_mask = std::uint64_t{os_page} - 1;
  const std::uint64_t map_offset = offset & ~page_mask;
  // end <= 2^32, so rounding it up cannot wrap 64 bits; the span is at most
  // `bytes` plus two OS pages.
  const std::uint64_t map_bytes = ((end + page_mask) & ~page_mask) - map_offset;
#if SIZE_MAX < UINT64_MAX
  // Only where size_t is narrower than 64 bits can that overflow it.
  if (map_bytes > SIZE_MAX)
    return tl::unexpected(
        Error(ErrorCode::CapacityExceeded, "MemoryImage::create: image overflows size_t"));
#endif
  return ImageLayout{offset, bytes, map_offset, static_cast<std::size_t>(map_bytes), end};
}

// The parts of `range` before and after `hole`.
struct SplitRange {
  ByteRange before;
  ByteRange after;
};

constexpr SplitRange split_around(ByteRange range, ByteRange hole) noexcept {
  if (hole.empty()) return {range, {}};
  const std::size_t before_end = std::clamp(hole.offset, range.offset, range.end());
  const std::size_t after_start = std::clamp(hole.end(), range.offset, range.end());
  return {{range.offset, before_end - range.offset}, {after_start, range.end() - after_start}};
}

// What allocate() does to a slot whose first `accessible_bytes` are
// accessible and read zero (or the image still mapped there, `mapped`):
// replace a mapped image that is not the wanted one by fresh inaccessible
// space (`unmap`), map the wanted image's pages unless they are still mapped
// (`same_image`), make the rest of the committed bytes accessible, and make
// the accessible bytes past them inaccessible (uncommitted bytes fault, A10).
// A memory of the last tenant's size and image needs no system call (M6).
struct CommitPlan {
  ByteRange unmap;
  ByteRange image;
  SplitRange commit;
  ByteRange decommit;
};

constexpr CommitPlan plan_commit(std::size_t committed_bytes, std::size_t accessible_bytes,
                                 ByteRange mapped, ByteRange wanted, bool same_image) noexcept {
  const bool keep_image = same_image && !mapped.empty();
  const ByteRange unmap = keep_image ? ByteRange{} : mapped;
  std::size_t from = std::min(accessible_bytes, committed_bytes);
  // What was mapped over the unmapped range is inaccessible from there on.
  if (!unmap.empty()) from = std::min(from, unmap.offset);
  const std::size_t surplus =
      accessible_bytes > committed_bytes ? accessible_bytes - committed_bytes : 0;
  return {unmap,
          keep_image ? ByteRange{} : wanted,
          split_around({from, committed_bytes - from}, wanted),
          {committed_bytes, surplus}};
}

// What a reset does to a slot whose first `committed_bytes` were accessible
// and whose `image` range (empty if none) maps an image file. The first
// `keep_resident_bytes` (but no byte from the image on: zeroing there would
// copy the image's pages) are zeroed in place and stay resident; the rest,
// the image included, is returned to the OS with one madvise: anonymous pages
// read zero afterwards, the image's pages read the image again (its private
// copies go), and all of it stays accessible (M6). Bytes past
// `committed_bytes` were inaccessible since the last allocate or grow.
// `accessible_after` is what the next plan_commit() starts from.
struct ResetPlan {
  ByteRange zero;
  ByteRange discard;
  std::size_t accessible_after;
};

// From how many kept bytes (of a memory: keep_resident_bytes capped at the
// memory and at its image) the reset asks the OS which kept pages may hold
// a non-zero byte instead of zeroing them all (M7): about where a memset of
// them costs as much as the ioctl (~2 us here).
inline constexpr std::size_t kScanKeptFromBytes = std::size_t{256} << 10;

constexpr ResetPlan plan_reset(std::size_t committed_bytes, std::size_t keep_resident_bytes,
                               ByteRange image) noexcept {
  std::size_t kept = std::min(keep_resident_bytes, committed_bytes);
  if (!image.empty()) kept = std::min(kept, image.offset);
  return {{0, kept}, {kept, committed_bytes - kept}, committed_bytes};
}

// A stack of free slot numbers over caller-provided storage of `capacity`
// entries. Last in, first out: the slot released last, whose kept pages are
// likeliest still in the caches, is handed out first.
class FreeList {
 public:
  constexpr FreeList(std::uint32_t* storage, std::uint32_t capacity) noexcept
      : storage_(storage), capacity_(capacity) {}

  constexpr std::optional<std::uint32_t> pop() noexcept {
    if (count_ == 0) return std::nullopt;
    return storage_[--count_];
  }
  // Pops the most recently pushed of the top `window` entries for which
  // `wanted(slot)` holds, or the top entry when none does; the others keep
  // their order. Bounded by `window`, not by the number of free slots (S2).
  template <typename Wanted>
  constexpr std::optional<std::uint32_t> pop_preferring(Wanted wanted,
                                                        std::uint32_t window) noexcept {
    const std::uint32_t lowest = count_ > window ? count_ - window : 0;
    for (std::uint32_t i = count_; i > lowest; --i) {
      if (!wanted(storage_[i - 1])) continue;
      const std::uint32_t slot = storage_[i - 1];
      std::copy(storage_ + i, storage_ + count_, storage_ + i - 1);
      storage_[count_ - 1] = slot;
      break;
    }
    return pop();
  }
  // False when full (a slot handed back twice): nothing is stored.
  constexpr bool push(std::uint32_t slot) noexcept {
    if (count_ == capacity_) return false;
    storage_[count_++] = slot;
    return true;
  }
  constexpr std::uint32_t size() const noexcept { return count_; }

 private:
  std::uint32_t* storage_;
  std::uint32_t capacity_;
  std::uint32_t count_ = 0;
};

}  // namespace wrt::platform::detail
