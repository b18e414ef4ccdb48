// LinearMemory<A>: one WebAssembly linear memory instance over any page
// allocator backend: memory.size, memory.grow, bounds-checked read/write and,
// for shared memories, memory.atomic.wait32/wait64/notify with the threads
// proposal's semantics. See docs/SPEC.md (W1-W9) and docs/SAFETY.md.
//
// Shared memories may be used from any number of threads at once: grows are
// serialised by a mutex and publish the new size (release) only after its
// pages are committed; size() (acquire) never decreases, and every byte
// below a size a thread has seen is accessible to it. An unshared memory's
// mutating calls need exclusive access (no lock is taken).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <mutex>
#include <optional>
#include <span>
#include <utility>

#include "wrt/platform/detail/bounds.hpp"
#include "wrt/platform/detail/wait_queue.hpp"
#include "wrt/platform/error.hpp"
#include "wrt/platform/futex.hpp"
#include "wrt/platform/page_allocator.hpp"

namespace wrt::platform {

// A memory's declared type: limits in WebAssembly pages, and whether it is
// shared (the threads proposal). A shared memory must declare a maximum.
struct MemoryType {
  std::uint32_t initial_pages = 0;
  std::optional<std::uint32_t> maximum_pages;
  bool shared = false;
};

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

}  // namespace detail

template <PageAllocator A>
class LinearMemory {
 public:
  // Takes ownership of `allocator` and allocates `type.initial_pages`
  // (zeroed), reserving `type.maximum_pages` (nullopt: the allocator's
  // limit). Errors: InvalidArgument (shared without a maximum; maximum <
  // initial), then the allocator's (CapacityExceeded, AlreadyAllocated,
  // OutOfMemory, SystemError); the allocator is then destroyed.
  static Result<LinearMemory> create(A allocator, MemoryType type) {
    if (type.shared && !type.maximum_pages)
      return tl::unexpected(
          Error(ErrorCode::InvalidArgument,
                "LinearMemory::create: a shared memory must declare maximum_pages"));
    auto allocation = allocator.allocate(type.initial_pages, type.maximum_pages);
    if (!allocation) return tl::unexpected(allocation.error());
    return LinearMemory(std::move(allocator), allocation->base, type.initial_pages, type.shared);
  }

  // Moves need exclusive access (no thread may use either memory, nor wait
  // on it). A moved-from memory has size 0: every non-empty access is
  // OutOfBounds and grow() is NotAllocated.
  LinearMemory(LinearMemory&& other) noexcept
      : allocator_(std::move(other.allocator_)),
        base_(std::exchange(other.base_, nullptr)),
        pages_(other.pages_.exchange(0, std::memory_order_relaxed)),
        shared_(other.shared_) {}
  LinearMemory& operator=(LinearMemory&& other) noexcept {
    if (this != &other) {
      expect_no_waiters();
      allocator_ = std::move(other.allocator_);
      base_ = std::exchange(other.base_, nullptr);
      pages_.store(other.pages_.exchange(0, std::memory_order_relaxed), std::memory_order_relaxed);
      shared_ = other.shared_;
    }
    return *this;
  }
  LinearMemory(const LinearMemory&) = delete;
  LinearMemory& operator=(const LinearMemory&) = delete;
  // Stops the program when a thread still waits on the memory (S7).
  ~LinearMemory() { expect_no_waiters(); }

  bool shared() const noexcept { return shared_; }
  // memory.size, in pages. Never decreases; every byte below it is
  // committed and accessible to the thread that read it (acquire).
  std::uint32_t size() const noexcept { return pages_.load(std::memory_order_acquire); }
  // size() in bytes.
  std::size_t byte_length() const noexcept { return std::size_t{size()} * kWasmPageSize; }
  // Start of the memory; never moves (null only when moved from).
  std::byte* data() const noexcept { return base_; }

  // memory.grow: commits `delta_pages` zeroed pages and returns the size
  // before the call (grow(0) returns size()). Errors are the allocator's
  // (CapacityExceeded past the maximum, OutOfMemory, SystemError); nothing
  // changes on error. Shared memories serialise concurrent grows.
  Result<std::uint32_t> grow(std::uint32_t delta_pages) {
    if (!shared_) return grow_exclusive(delta_pages);
    const std::lock_guard lock(grow_mutex_);
    return grow_exclusive(delta_pages);
  }

  // Copies [address, address + bytes.size()) into `bytes`; all-or-nothing:
  // OutOfBounds (computed without overflow) and `bytes` untouched.
  Result<void> read(std::uint64_t address, std::span<std::byte> bytes) const {
    if (!detail::range_in_bounds(address, bytes.size(), byte_length()))
      return tl::unexpected(
          Error(ErrorCode::OutOfBounds, "LinearMemory::read: address + size past byte_length"));
    if (!bytes.empty()) std::memmove(bytes.data(), at(address), bytes.size());
    return {};
  }

  // Copies `bytes` to [address, address + bytes.size()); all-or-nothing:
  // OutOfBounds and not a byte written. `bytes` may overlap the memory.
  Result<void> write(std::uint64_t address, std::span<const std::byte> bytes) {
    if (!detail::range_in_bounds(address, bytes.size(), byte_length()))
      return tl::unexpected(
          Error(ErrorCode::OutOfBounds, "LinearMemory::write: address + size past byte_length"));
    if (!bytes.empty()) std::memmove(at(address), bytes.data(), bytes.size());
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
    if (auto bad = detail::check_atomic(detail::kNotifyAccess, address, byte_length(), shared_))
      return tl::unexpected(*bad);
    if (!shared_) return 0u;
    return detail::atomic_notify_at(at(address), count);
  }

 private:
  LinearMemory(A allocator, std::byte* base, std::uint32_t pages, bool shared) noexcept
      : allocator_(std::move(allocator)), base_(base), pages_(pages), shared_(shared) {}

  // Only a shared memory can have waiters (W4: NotShared otherwise).
  void expect_no_waiters() const noexcept {
    if (shared_ && base_ != nullptr)
      detail::expect_no_waiters_in(base_, byte_length(), "LinearMemory destroyed");
  }

  // The byte at a checked address (< byte_length(), so it fits size_t).
  std::byte* at(std::uint64_t address) const noexcept {
    return base_ + static_cast<std::size_t>(address);
  }

  // Holds the grow mutex (shared) or exclusive access (unshared): pages_
  // changes only here.
  Result<std::uint32_t> grow_exclusive(std::uint32_t delta_pages) {
    const std::uint32_t previous = pages_.load(std::memory_order_relaxed);
    if (auto grown = allocator_.grow(previous, delta_pages); !grown)
      return tl::unexpected(grown.error());
    // Publish only now that the pages are committed (W3).
    pages_.store(previous + delta_pages, std::memory_order_release);
    return previous;
  }

  Result<WaitResult> wait(const detail::AtomicAccess& access, detail::WaitWidth width,
                          std::uint64_t address, std::uint64_t expected, std::int64_t timeout_ns) {
    if (auto bad = detail::check_atomic(access, address, byte_length(), shared_))
      return tl::unexpected(*bad);
    return detail::atomic_wait_at(at(address), width, expected, timeout_ns);
  }

  A allocator_;                       // touched only by create, grow (serialised) and moves
  std::byte* base_;                   // fixed at create
  std::atomic<std::uint32_t> pages_;  // memory.size, published after commit
  bool shared_;
  std::mutex grow_mutex_;  // serialises grows of a shared memory
};

}  // namespace wrt::platform
