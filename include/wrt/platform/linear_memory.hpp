// LinearMemory<A>: one WebAssembly linear memory instance over any page
// allocator backend, with every access an interpreter makes: memory.size,
// memory.grow, bounds-checked read/write, the loads and stores of every
// value type, the atomics, memory.fill/copy/init and, for shared memories,
// memory.atomic.wait32/wait64/notify with the threads proposal's semantics.
// 32-bit and 64-bit (memory64) memories, 64 KiB or 1-byte pages. See
// docs/SPEC.md (W1-W9, E1-E8) and docs/SAFETY.md.
//
// Shared memories may be used from any number of threads at once: grows are
// serialised by a mutex and publish the new size (release) only after its
// pages are committed; size() (acquire) never decreases, and every byte
// below a size a thread has seen is accessible to it. An unshared memory's
// mutating calls need exclusive access (no lock is taken).
#pragma once

#include <algorithm>
#include <atomic>
#include <bit>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <mutex>
#include <optional>
#include <span>
#include <utility>

#include "wrt/platform/detail/bounds.hpp"
#include "wrt/platform/detail/memory_access.hpp"
#include "wrt/platform/detail/wait_queue.hpp"
#include "wrt/platform/error.hpp"
#include "wrt/platform/futex.hpp"
#include "wrt/platform/memory_type.hpp"
#include "wrt/platform/page_allocator.hpp"

namespace wrt::platform {

namespace detail {

// What one atomic instruction checks (W4): its width and the static
// message of each error. `not_shared` is null for notify, which is valid on
// an unshared memory.
struct AtomicAccess {
  std::uint64_t width;
  const char* misaligned;
  const char* out_of_bounds;
  const char* not_shared;
};

inline constexpr AtomicAccess kWait32Access{4, "memory.atomic.wait32: address not 4-byte aligned",
                                            "memory.atomic.wait32: address + 4 past byte_length",
                                            "memory.atomic.wait32: the memory is not shared"};
inline constexpr AtomicAccess kWait64Access{8, "memory.atomic.wait64: address not 8-byte aligned",
                                            "memory.atomic.wait64: address + 8 past byte_length",
                                            "memory.atomic.wait64: the memory is not shared"};
inline constexpr AtomicAccess kNotifyAccess{4, "memory.atomic.notify: address not 4-byte aligned",
                                            "memory.atomic.notify: address + 4 past byte_length",
                                            nullptr};

// W4, in order: Misaligned, then OutOfBounds (address + width <=
// byte_length without overflow), then NotShared for the waits.
constexpr std::optional<Error> check_atomic(const AtomicAccess& access, std::uint64_t address,
                                            std::uint64_t byte_length, bool shared) noexcept {
  if (address % access.width != 0) return Error(ErrorCode::Misaligned, access.misaligned);
  if (!range_in_bounds(address, access.width, byte_length))
    return Error(ErrorCode::OutOfBounds, access.out_of_bounds);
  if (!shared && access.not_shared != nullptr)
    return Error(ErrorCode::NotShared, access.not_shared);
  return std::nullopt;
}

// E4: every atomic access of a T checks like notify: Misaligned, then
// OutOfBounds, and is valid on unshared memories too.
template <typename T>
inline constexpr AtomicAccess kAtomicAccess{
    sizeof(T), "memory.atomic: address not aligned to the access width",
    "memory.atomic: address + width past byte_length", nullptr};

// Allocator pages (64 KiB, counted in u32 by the PageAllocator concept)
// that hold `pages` pages of `page_size` bytes, rounded up; nullopt past
// UINT32_MAX (256 TiB, more than any reservation can be).
constexpr std::optional<std::uint32_t> allocator_pages(std::uint64_t pages,
                                                       std::uint32_t page_size) noexcept {
  const std::uint64_t count =
      page_size == 1 ? pages / kWasmPageSize + (pages % kWasmPageSize != 0) : pages;
  if (count > UINT32_MAX) return std::nullopt;
  return static_cast<std::uint32_t>(count);
}

}  // namespace detail

// The value types of LinearMemory::load / store (E3) and of its atomics (E4).
template <typename T>
concept PlainAccessType = std::same_as<T, std::uint8_t> || std::same_as<T, std::uint16_t> ||
    std::same_as<T, std::uint32_t> || std::same_as<T, std::uint64_t> || std::same_as<T, float> ||
    std::same_as<T, double> || std::same_as<T, V128>;
template <typename T>
concept AtomicAccessType = std::same_as<T, std::uint8_t> || std::same_as<T, std::uint16_t> ||
    std::same_as<T, std::uint32_t> || std::same_as<T, std::uint64_t>;

// The read-modify-write operations of memory.atomic.rmw (E4).
enum class RmwOp { Add, Sub, And, Or, Xor, Xchg };

template <PageAllocator A>
class LinearMemory {
 public:
  // Takes ownership of `allocator` and allocates `type.initial_pages`
  // (zeroed), reserving `type.maximum_pages` (nullopt: the allocator's
  // limit). Errors, in order: InvalidArgument (page_size not 1 or 65536;
  // shared without a maximum; a limit above page_limit(); maximum <
  // initial), CapacityExceeded (a limit past UINT32_MAX allocator pages),
  // then the allocator's (CapacityExceeded, AlreadyAllocated, OutOfMemory,
  // SystemError); the allocator is then destroyed.
  static Result<LinearMemory> create(A allocator, MemoryType type) {
    if (auto invalid = check_type(type)) return tl::unexpected(*invalid);
    const auto initial = detail::allocator_pages(type.initial_pages, type.page_size);
    std::optional<std::uint32_t> maximum;
    if (type.maximum_pages) maximum = detail::allocator_pages(*type.maximum_pages, type.page_size);
    if (!initial || (type.maximum_pages && !maximum))
      return tl::unexpected(Error(ErrorCode::CapacityExceeded,
                                  "LinearMemory::create: more than 2^32 - 1 allocator pages"));
    auto allocation = allocator.allocate(*initial, maximum);
    if (!allocation) return tl::unexpected(allocation.error());
    return LinearMemory(std::move(allocator), allocation->base, type);
  }

  // Moves need exclusive access (no thread may use either memory, nor wait
  // on it). A moved-from memory has size 0: every non-empty access is
  // OutOfBounds and grow() is NotAllocated.
  LinearMemory(LinearMemory&& other) noexcept
      : allocator_(std::move(other.allocator_)),
        base_(std::exchange(other.base_, nullptr)),
        bytes_(other.bytes_.exchange(0, std::memory_order_relaxed)),
        unshared_bytes_(std::exchange(other.unshared_bytes_, 0)),
        type_(other.type_) {}
  LinearMemory& operator=(LinearMemory&& other) noexcept {
    if (this != &other) {
      expect_no_waiters();
      allocator_ = std::move(other.allocator_);
      base_ = std::exchange(other.base_, nullptr);
      bytes_.store(other.bytes_.exchange(0, std::memory_order_relaxed), std::memory_order_relaxed);
      unshared_bytes_ = std::exchange(other.unshared_bytes_, 0);
      type_ = other.type_;
    }
    return *this;
  }
  LinearMemory(const LinearMemory&) = delete;
  LinearMemory& operator=(const LinearMemory&) = delete;
  // Stops the program when a thread still waits on the memory (S7).
  ~LinearMemory() { expect_no_waiters(); }

  bool shared() const noexcept { return type_.shared; }
  IndexType index_type() const noexcept { return type_.index; }
  // Bytes per page: 1 or kWasmPageSize.
  std::uint32_t page_size() const noexcept { return type_.page_size; }
  // memory.size, in pages. Never decreases; every byte below it is
  // committed and accessible to the thread that read it (acquire).
  std::uint64_t size() const noexcept { return pages_in(byte_length()); }
  // size() in bytes; every access is checked against it (E6: with 1-byte
  // pages the committed bytes past it are never accessible).
  std::uint64_t byte_length() const noexcept { return bytes_.load(std::memory_order_acquire); }
  // Start of the memory; never moves (null only when moved from).
  std::byte* data() const noexcept { return base_; }

  // memory.grow: makes `delta_pages` more zeroed pages accessible and
  // returns the size before the call (grow(0) returns size()). Errors:
  // CapacityExceeded past the maximum (the declared one, else page_limit())
  // or past UINT32_MAX allocator pages, then the allocator's (NotAllocated,
  // CapacityExceeded, OutOfMemory, SystemError); nothing changes on error.
  // Shared memories serialise concurrent grows.
  Result<std::uint64_t> grow(std::uint64_t delta_pages) {
    if (!type_.shared) return grow_exclusive(delta_pages);
    const std::lock_guard lock(grow_mutex_);
    return grow_exclusive(delta_pages);
  }

  // Copies [address, address + bytes.size()) into `bytes`; all-or-nothing:
  // OutOfBounds (computed without overflow) and `bytes` untouched.
  Result<void> read(std::uint64_t address, std::span<std::byte> bytes) const {
    if (!detail::range_in_bounds(address, bytes.size(), byte_length()))
      return tl::unexpected(
          Error(ErrorCode::OutOfBounds, "LinearMemory::read: address + size past byte_length"));
    detail::move_bytes(bytes.data(), false, at(address), type_.shared, bytes.size());
    return {};
  }

  // Copies `bytes` to [address, address + bytes.size()); all-or-nothing:
  // OutOfBounds and not a byte written. `bytes` may overlap the memory.
  Result<void> write(std::uint64_t address, std::span<const std::byte> bytes) {
    if (!detail::range_in_bounds(address, bytes.size(), byte_length()))
      return tl::unexpected(
          Error(ErrorCode::OutOfBounds, "LinearMemory::write: address + size past byte_length"));
    detail::move_bytes(at(address), type_.shared, bytes.data(), false, bytes.size());
    return {};
  }

  // E3: the T stored little-endian at `address`, any alignment
  // (i32.load, f64.load, v128.load, ...). OutOfBounds unless address +
  // sizeof(T) <= byte_length().
  template <PlainAccessType T>
  Result<T> load(std::uint64_t address) const {
    if (detail::range_in_bounds(address, sizeof(T), unshared_bytes_)) [[likely]]
      return detail::load_value<T>(at(address), false);
    if (!detail::range_in_bounds(address, sizeof(T), byte_length()))
      return tl::unexpected(
          Error(ErrorCode::OutOfBounds, "LinearMemory::load: address + size past byte_length"));
    return detail::load_value<T>(at(address), type_.shared);
  }

  // E3: stores `value` little-endian at `address`, any alignment
  // (i32.store, ...); OutOfBounds as load, and then nothing is written.
  template <PlainAccessType T>
  Result<void> store(std::uint64_t address, T value) {
    if (detail::range_in_bounds(address, sizeof(T), unshared_bytes_)) [[likely]] {
      detail::store_value(at(address), value, false);
      return {};
    }
    if (!detail::range_in_bounds(address, sizeof(T), byte_length()))
      return tl::unexpected(
          Error(ErrorCode::OutOfBounds, "LinearMemory::store: address + size past byte_length"));
    detail::store_value(at(address), value, type_.shared);
    return {};
  }

  // E4: the atomics of the threads proposal on any memory (shared or not),
  // sequentially consistent, each returning the value before it. Errors
  // (W4, in order): Misaligned (address % sizeof(T) != 0), OutOfBounds.
  template <AtomicAccessType T>
  Result<T> atomic_load(std::uint64_t address) const {
    if (auto bad = check_atomic_access<T>(address)) return tl::unexpected(*bad);
    return atomic_word<T>(address).load();
  }
  template <AtomicAccessType T>
  Result<void> atomic_store(std::uint64_t address, T value) {
    if (auto bad = check_atomic_access<T>(address)) return tl::unexpected(*bad);
    atomic_word<T>(address).store(value);
    return {};
  }
  // memory.atomic.rmw.{add,sub,and,or,xor,xchg}: wrapping arithmetic.
  template <AtomicAccessType T>
  Result<T> atomic_rmw(RmwOp op, std::uint64_t address, T value) {
    if (auto bad = check_atomic_access<T>(address)) return tl::unexpected(*bad);
    const auto word = atomic_word<T>(address);
    switch (op) {
      case RmwOp::Add:
        return word.fetch_add(value);
      case RmwOp::Sub:
        return word.fetch_sub(value);
      case RmwOp::And:
        return word.fetch_and(value);
      case RmwOp::Or:
        return word.fetch_or(value);
      case RmwOp::Xor:
        return word.fetch_xor(value);
      case RmwOp::Xchg:
        break;
    }
    return word.exchange(value);
  }
  // memory.atomic.rmw.cmpxchg: stores `replacement` if the word equals
  // `expected`; returns the word before (equal to `expected` on success).
  template <AtomicAccessType T>
  Result<T> atomic_cmpxchg(std::uint64_t address, T expected, T replacement) {
    if (auto bad = check_atomic_access<T>(address)) return tl::unexpected(*bad);
    atomic_word<T>(address).compare_exchange_strong(expected, replacement);
    return expected;
  }

  // E5 memory.fill: sets [address, address + length) to `value`.
  // OutOfBounds before any byte is written; length 0 at byte_length() is
  // valid.
  Result<void> fill(std::uint64_t address, std::uint8_t value, std::uint64_t length) {
    if (!detail::range_in_bounds(address, length, byte_length()))
      return tl::unexpected(
          Error(ErrorCode::OutOfBounds, "memory.fill: address + length past byte_length"));
    detail::fill_bytes(at(address), type_.shared, value, static_cast<std::size_t>(length));
    return {};
  }

  // E5 memory.copy within this memory, overlapping ranges as memmove.
  // OutOfBounds, before any byte is written, when either range is.
  Result<void> copy(std::uint64_t destination, std::uint64_t source, std::uint64_t length) {
    return copy_from(*this, destination, source, length);
  }

  // E5 memory.copy from another memory (multi-memory) or this one.
  // OutOfBounds, before any byte is written, when either range is. A shared
  // `source_memory` may be written by other threads meanwhile (relaxed).
  Result<void> copy_from(const LinearMemory& source_memory, std::uint64_t destination,
                         std::uint64_t source, std::uint64_t length) {
    if (!detail::range_in_bounds(source, length, source_memory.byte_length()) ||
        !detail::range_in_bounds(destination, length, byte_length()))
      return tl::unexpected(
          Error(ErrorCode::OutOfBounds, "memory.copy: source or destination range out of bounds"));
    detail::move_bytes(at(destination), type_.shared, source_memory.at(source),
                       source_memory.type_.shared, static_cast<std::size_t>(length));
    return {};
  }

  // E5 memory.init: copies segment[segment_offset, segment_offset + length)
  // to [destination, destination + length). OutOfBounds, before any byte
  // is written, when either range is.
  Result<void> init(std::uint64_t destination, std::span<const std::byte> segment,
                    std::uint64_t segment_offset, std::uint64_t length) {
    if (!detail::range_in_bounds(segment_offset, length, segment.size()) ||
        !detail::range_in_bounds(destination, length, byte_length()))
      return tl::unexpected(
          Error(ErrorCode::OutOfBounds, "memory.init: segment or memory range out of bounds"));
    detail::move_bytes(at(destination), type_.shared,
                       segment.data() + static_cast<std::size_t>(segment_offset), false,
                       static_cast<std::size_t>(length));
    return {};
  }

  // memory.atomic.wait32 / wait64 on the word at `address`. Errors (W4, in
  // this order): Misaligned, OutOfBounds, NotShared. Results (W5): NotEqual
  // when the word (all 32/64 bits, seq_cst) differs from `expected`;
  // TimedOut after `timeout_ns` (< 0: never; 0: at once); Woken only when an
  // atomic_notify chose this waiter.
  Result<WaitResult> atomic_wait32(std::uint64_t address, std::uint32_t expected,
                                   std::int64_t timeout_ns) {
    return wait(detail::kWait32Access, detail::WaitWidth::Bits32, address, expected, timeout_ns);
  }
  Result<WaitResult> atomic_wait64(std::uint64_t address, std::uint64_t expected,
                                   std::int64_t timeout_ns) {
    return wait(detail::kWait64Access, detail::WaitWidth::Bits64, address, expected, timeout_ns);
  }

  // memory.atomic.notify: wakes up to `count` waiters on `address`, oldest
  // first (wait32 and wait64 alike), and returns how many it woke. Errors:
  // Misaligned, OutOfBounds. An unshared memory has no waiters: 0.
  Result<std::uint32_t> atomic_notify(std::uint64_t address, std::uint32_t count) {
    if (auto bad = detail::check_atomic(detail::kNotifyAccess, address, byte_length(), shared()))
      return tl::unexpected(*bad);
    if (!shared()) return 0u;
    return detail::atomic_notify_at(at(address), count);
  }

 private:
  LinearMemory(A allocator, std::byte* base, const MemoryType& type) noexcept
      : allocator_(std::move(allocator)),
        base_(base),
        bytes_(type.initial_pages * type.page_size),
        unshared_bytes_(type.shared ? 0 : bytes_.load(std::memory_order_relaxed)),
        type_(type) {
    if (!type_.maximum_pages) type_.maximum_pages = page_limit(type.index, type.page_size);
  }

  // E1: the type's own limits, before the allocator sees it.
  static std::optional<Error> check_type(const MemoryType& type) noexcept {
    if (type.page_size != 1 && type.page_size != kWasmPageSize)
      return Error(ErrorCode::InvalidArgument, "LinearMemory::create: page_size is not 1 or 65536");
    if (type.shared && !type.maximum_pages)
      return Error(ErrorCode::InvalidArgument,
                   "LinearMemory::create: a shared memory must declare maximum_pages");
    const std::uint64_t limit = page_limit(type.index, type.page_size);
    if (type.initial_pages > limit || type.maximum_pages.value_or(0) > limit)
      return Error(ErrorCode::InvalidArgument,
                   "LinearMemory::create: a limit above the index type's page limit");
    if (type.maximum_pages && *type.maximum_pages < type.initial_pages)
      return Error(ErrorCode::InvalidArgument, "LinearMemory::create: maximum_pages < initial");
    return std::nullopt;
  }

  // Whole pages in `bytes` (a shift, not a division: pages are 1 or 2^16 bytes).
  std::uint64_t pages_in(std::uint64_t bytes) const noexcept {
    return type_.page_size == 1 ? bytes : bytes / kWasmPageSize;
  }

  // Only a shared memory can have waiters (W4: NotShared otherwise). The
  // byte length is mapped, so it fits size_t (the cast: -Wconversion on
  // 32-bit hosts, where src/capi instantiates this).
  void expect_no_waiters() const noexcept {
    if (type_.shared && base_ != nullptr)
      detail::expect_no_waiters_in(base_, static_cast<std::size_t>(byte_length()),
                                   "LinearMemory destroyed");
  }

  // The byte at a checked address (< byte_length(), so it fits size_t).
  std::byte* at(std::uint64_t address) const noexcept {
    return base_ + static_cast<std::size_t>(address);
  }

  template <AtomicAccessType T>
  std::optional<Error> check_atomic_access(std::uint64_t address) const noexcept {
    return detail::check_atomic(detail::kAtomicAccess<T>, address, byte_length(), shared());
  }
  // The checked, aligned word at `address`. Atomics use the host's byte
  // order, which WebAssembly's is: big-endian hosts are out of scope.
  template <AtomicAccessType T>
  std::atomic_ref<T> atomic_word(std::uint64_t address) const noexcept {
    static_assert(std::endian::native == std::endian::little,
                  "LinearMemory atomics need a little-endian host");
    return detail::word_at<T>(at(address));
  }

  // Holds the grow mutex (shared) or exclusive access (unshared): bytes_
  // and the allocator change only here.
  Result<std::uint64_t> grow_exclusive(std::uint64_t delta_pages) {
    const std::uint64_t previous_bytes = bytes_.load(std::memory_order_relaxed);
    const std::uint64_t previous = pages_in(previous_bytes);
    if (delta_pages > *type_.maximum_pages - previous)
      return tl::unexpected(
          Error(ErrorCode::CapacityExceeded, "LinearMemory::grow: past the maximum pages"));
    const std::uint64_t pages = previous + delta_pages;
    const auto needed = detail::allocator_pages(pages, type_.page_size);
    if (!needed)
      return tl::unexpected(Error(ErrorCode::CapacityExceeded,
                                  "LinearMemory::grow: more than 2^32 - 1 allocator pages"));
    // Always ask the allocator, also for no new allocator page (A8: free),
    // so that a moved-from memory is NotAllocated (W2).
    const std::uint32_t committed = allocator_.committed_pages();
    const std::uint32_t more = *needed > committed ? *needed - committed : 0;
    if (auto grown = allocator_.grow(committed, more); !grown) return tl::unexpected(grown.error());
    const std::uint64_t bytes = pages * type_.page_size;  // < 2^48: fits the allocator pages
    // E6: with 1-byte pages the new bytes may lie in an allocator page that
    // was committed before; nothing in the API wrote them, but data() did
    // hand them out: zero them so that new bytes always read zero.
    const std::uint64_t committed_bytes = std::uint64_t{committed} * kWasmPageSize;
    if (previous_bytes < committed_bytes)
      std::memset(at(previous_bytes), 0,
                  static_cast<std::size_t>(std::min(bytes, committed_bytes) - previous_bytes));
    // Publish only now that the bytes are committed and zero (W3).
    bytes_.store(bytes, std::memory_order_release);
    if (!type_.shared) unshared_bytes_ = bytes;
    return previous;
  }

  Result<WaitResult> wait(const detail::AtomicAccess& access, detail::WaitWidth width,
                          std::uint64_t address, std::uint64_t expected, std::int64_t timeout_ns) {
    if (auto bad = detail::check_atomic(access, address, byte_length(), shared()))
      return tl::unexpected(*bad);
    return detail::atomic_wait_at(at(address), width, expected, timeout_ns);
  }

  A allocator_;                       // touched only by create, grow (serialised) and moves
  std::byte* base_;                   // fixed at create
  std::atomic<std::uint64_t> bytes_;  // byte_length(), published after commit
  // byte_length() of an unshared memory, 0 for a shared one (whose accesses
  // then fall through to the acquire check and the atomics): the fast path
  // of load and store. An unshared memory grows only with exclusive access
  // (W3), so every grow happens before an access and a plain member
  // suffices; the fast path then has no acquire load, after which the
  // compiler must reload base_ and the shared flag, and no flag test
  // (clang 14: a loop of loads checked against bytes_ ran 1.5x a raw loop,
  // 1.05-1.12x with this; docs/BENCHMARKS.md).
  std::uint64_t unshared_bytes_;
  MemoryType type_;        // maximum_pages always set (the limit)
  std::mutex grow_mutex_;  // serialises grows of a shared memory
};

}  // namespace wrt::platform
