// Runs a fuzzer-chosen sequence of allocator calls (right and wrong
// arguments) against one backend and checks every step against the model
// in allocator_model.hpp: the result or error code, the observers, the bytes
// the program wrote (preserved) and the pages the allocator committed
// (zero). With an OS-fault plan (os_faults.hpp) it also checks that a failed
// OS call leaves the allocator exactly as it was (A12).
#pragma once

#include <fuzzer/FuzzedDataProvider.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <utility>
#include <vector>

#include "allocator_model.hpp"
#include "check.hpp"
#include "pick.hpp"
#include "wrt/platform/page_allocator.hpp"

namespace wrt::platform::fuzz {

// Whether the allocator's OS may refuse a reservation: only a huge guard
// region can make a small reservation fail for real.
enum class ReservationVerdict { Succeeds, MustExceedCapacity, MayFailInOs };

// For backends with a guard region (MmapPageAllocator): A5 requires
// CapacityExceeded when reservation + guard (rounded up to the OS page)
// overflows size_t. Below 1 TiB of guard the reservation fits any 64-bit
// address space; above, the OS may answer ENOMEM, and the implementation
// may also count alignment slack as overflowing.
inline ReservationVerdict guarded_reservation_verdict(std::uint32_t reserved_pages,
                                                      std::size_t guard_bytes) {
  const u128 os_page = static_cast<u128>(sysconf(_SC_PAGESIZE));
  const u128 guard = (u128{guard_bytes} + os_page - 1) / os_page * os_page;
  if (u128{reserved_pages} * kWasmPageSize + guard > kSizeMax)
    return ReservationVerdict::MustExceedCapacity;
  if (guard_bytes > (std::size_t{1} << 40)) return ReservationVerdict::MayFailInOs;
  return ReservationVerdict::Succeeds;
}

// The fault plan of a build without the seam: the OS never fails on purpose.
struct NoOsFaults {
  struct Window {};
  Window begin() const { return {}; }
  std::optional<int> injected_errno(const Window&) const { return std::nullopt; }
  void check_no_os_calls(const Window&) const {}
  void check_nothing_left_mapped(const Window&) const {}
  void arm(FuzzedDataProvider&) {}
  static constexpr bool kCanFail = false;
};

// A guard for MmapPageAllocator's config: none, a few OS pages, or sizes
// whose rounding or addition overflows.
inline std::size_t pick_guard_bytes(FuzzedDataProvider& in) {
  switch (in.ConsumeIntegralInRange<int>(0, 2)) {
    case 0:
      return 0;
    case 1:
      return in.ConsumeIntegralInRange<std::size_t>(1, std::size_t{1} << 20);
    default:
      return pick_near<std::size_t>(in, SIZE_MAX - 16 * kWasmPageSize);
  }
}

inline void check_error(const Error& error, ErrorCode expected) {
  FUZZ_CHECK(error.code() == expected);
  FUZZ_CHECK(error.os_errno() == 0);
  FUZZ_CHECK(error.message() != nullptr && error.message()[0] != '\0');
}

// A12: an OS failure maps ENOMEM to OutOfMemory, anything else to
// SystemError, and carries the errno.
inline void check_os_error(const Error& error, int os_errno) {
  FUZZ_CHECK(error.code() ==
             (os_errno == ENOMEM ? ErrorCode::OutOfMemory : ErrorCode::SystemError));
  FUZZ_CHECK(error.os_errno() == os_errno);
  FUZZ_CHECK(error.message() != nullptr && error.message()[0] != '\0');
}

struct BackendTraits {
  // The allocator's page limit (config.maximum_pages, or fewer for a small
  // static buffer).
  std::uint32_t limit_pages;
  // MmapPageAllocator: the configured guard; nullopt for backends without one.
  std::optional<std::size_t> guard_bytes;
  // StaticPageAllocator never calls the OS (A15).
  bool calls_os;
  // A13: a moved-from MmapPageAllocator can allocate again; a moved-from
  // StaticPageAllocator holds no buffer and answers CapacityExceeded.
  bool moved_from_can_allocate;
};

template <PageAllocator A, typename Faults = NoOsFaults>
class AllocatorDriver {
 public:
  AllocatorDriver(A& allocator, BackendTraits traits, Faults& faults)
      : allocator_(allocator), traits_(traits), faults_(faults) {}

  void run(FuzzedDataProvider& in) {
    verify_observers();
    while (in.remaining_bytes() > 0) {
      switch (in.ConsumeIntegralInRange<int>(0, Faults::kCanFail ? 6 : 5)) {
        case 0:
          allocate(in);
          break;
        case 1:
          grow(in);
          break;
        case 2:
          deallocate(in);
          break;
        case 3:
          write(in);
          break;
        case 4:
          read(in);
          break;
        case 5:
          // Moving is not an OS-failure path, and a move that releases a
          // memory while munmap is made to fail would leak the mapping.
          if constexpr (!Faults::kCanFail) move_out_and_back();
          break;
        default:
          faults_.arm(in);
          break;
      }
      verify_observers();
      verify_written_bytes();
    }
  }

 private:
  void allocate(FuzzedDataProvider& in) {
    const std::uint32_t initial = pick_near<std::uint32_t>(in, std::min(traits_.limit_pages, 2u));
    std::optional<std::uint32_t> maximum;
    if (in.ConsumeBool()) maximum = pick_near<std::uint32_t>(in, traits_.limit_pages);

    const auto window = faults_.begin();
    const auto result = allocator_.allocate(initial, maximum);
    if (!traits_.calls_os) faults_.check_no_os_calls(window);

    if (const auto error =
            expected_allocate_error(model_.allocated, initial, maximum, traits_.limit_pages)) {
      FUZZ_CHECK(!result);
      check_error(result.error(), *error);
      faults_.check_no_os_calls(window);  // A3: nothing is mapped on failure
      return;
    }
    const std::uint32_t reserved = maximum.value_or(traits_.limit_pages);
    if (const auto os_errno = faults_.injected_errno(window)) {
      FUZZ_CHECK(!result);
      check_os_error(result.error(), *os_errno);
      faults_.check_nothing_left_mapped(window);
      return;
    }
    const auto verdict = traits_.guard_bytes
                             ? guarded_reservation_verdict(reserved, *traits_.guard_bytes)
                             : ReservationVerdict::Succeeds;
    if (verdict == ReservationVerdict::MustExceedCapacity) {
      FUZZ_CHECK(!result);
      check_error(result.error(), ErrorCode::CapacityExceeded);
      return;
    }
    if (verdict == ReservationVerdict::MayFailInOs && !result) {
      const Error& error = result.error();
      FUZZ_CHECK(error.code() == ErrorCode::CapacityExceeded ||
                 (error.code() == ErrorCode::OutOfMemory && error.os_errno() == ENOMEM));
      return;
    }
    FUZZ_CHECK(result.has_value());
    // A1/A2: non-null, page-aligned base; the initial pages committed and zero.
    FUZZ_CHECK(result->base != nullptr);
    FUZZ_CHECK(reinterpret_cast<std::uintptr_t>(result->base) % kWasmPageSize == 0);
    FUZZ_CHECK(result->committed_bytes == std::size_t{initial} * kWasmPageSize);
    model_.allocated = true;
    model_.base = result->base;
    model_.committed_pages = initial;
    model_.reserved_pages = reserved;
    bytes_.clear();
    verify_zero_pages(0, initial);
  }

  void grow(FuzzedDataProvider& in) {
    const std::uint32_t current = pick_near<std::uint32_t>(in, model_.committed_pages);
    const std::uint32_t additional =
        pick_near<std::uint32_t>(in, model_.reserved_pages - model_.committed_pages);

    const auto window = faults_.begin();
    const auto result = allocator_.grow(current, additional);
    if (!traits_.calls_os) faults_.check_no_os_calls(window);

    if (const auto error = expected_grow_error(model_, current, additional)) {
      FUZZ_CHECK(!result);
      check_error(result.error(), *error);
      faults_.check_no_os_calls(window);
      return;
    }
    if (const auto os_errno = faults_.injected_errno(window)) {
      FUZZ_CHECK(!result);
      check_os_error(result.error(), *os_errno);  // and the observers are unchanged (A12)
      return;
    }
    FUZZ_CHECK(result.has_value());
    const std::uint32_t old_pages = model_.committed_pages;
    model_.committed_pages = current + additional;  // A7: base never moves
    verify_zero_pages(old_pages, model_.committed_pages);
  }

  void deallocate(FuzzedDataProvider& in) {
    const std::byte* base = model_.base;
    std::byte* ptr = nullptr;
    switch (in.ConsumeIntegralInRange<int>(0, 3)) {
      case 0:
        ptr = model_.base;
        break;
      case 1:  // off by a byte or by pages, computed without pointer arithmetic
        ptr = reinterpret_cast<std::byte*>(
            reinterpret_cast<std::uintptr_t>(base) +
            in.ConsumeIntegralInRange<std::uintptr_t>(1, 3 * kWasmPageSize));
        break;
      case 2:
        ptr = nullptr;
        break;
      default:
        ptr = reinterpret_cast<std::byte*>(in.ConsumeIntegral<std::uintptr_t>());
        break;
    }
    const std::size_t size = pick_near<std::size_t>(in, model_.committed_bytes());

    const auto window = faults_.begin();
    const auto result = allocator_.deallocate(ptr, size);
    if (!traits_.calls_os) faults_.check_no_os_calls(window);

    if (const auto error = expected_deallocate_error(model_, ptr, size)) {
      FUZZ_CHECK(!result);
      check_error(result.error(), *error);
      faults_.check_no_os_calls(window);
      return;
    }
    if (const auto os_errno = faults_.injected_errno(window)) {
      FUZZ_CHECK(!result);
      check_os_error(result.error(), *os_errno);  // A12: still allocated, bytes kept
      return;
    }
    FUZZ_CHECK(result.has_value());
    model_ = {};
    bytes_.clear();
  }

  void write(FuzzedDataProvider& in) {
    const std::size_t committed = model_.committed_bytes();
    if (committed == 0) return;
    const std::size_t offset = in.ConsumeIntegralInRange<std::size_t>(0, committed - 1);
    const std::size_t length =
        in.ConsumeIntegralInRange<std::size_t>(1, std::min<std::size_t>(64, committed - offset));
    const std::vector<std::uint8_t> data = in.ConsumeBytes<std::uint8_t>(length);
    if (data.empty()) return;  // the input ran out
    std::memcpy(model_.base + offset, data.data(), data.size());
    for (std::size_t i = 0; i < data.size(); ++i) bytes_.write(offset + i, data[i]);
  }

  void read(FuzzedDataProvider& in) {
    const std::size_t committed = model_.committed_bytes();
    if (committed == 0) return;
    const std::size_t offset = in.ConsumeIntegralInRange<std::size_t>(0, committed - 1);
    const std::size_t length =
        in.ConsumeIntegralInRange<std::size_t>(1, std::min<std::size_t>(256, committed - offset));
    for (std::size_t i = offset; i < offset + length; ++i)
      FUZZ_CHECK(std::to_integer<std::uint8_t>(model_.base[i]) == bytes_.at(i));
  }

  // A13: a moved-to allocator owns the memory unchanged; the moved-from one
  // is empty, and allocating on it behaves as the backend documents.
  void move_out_and_back() {
    A moved(std::move(allocator_));
    FUZZ_CHECK(!allocator_.is_allocated() && allocator_.base() == nullptr);
    FUZZ_CHECK(allocator_.committed_bytes() == 0 && allocator_.reserved_bytes() == 0);
    FUZZ_CHECK(moved.base() == model_.base && moved.committed_pages() == model_.committed_pages);
    if (!traits_.moved_from_can_allocate) {
      const auto again = allocator_.allocate(0, std::nullopt);
      FUZZ_CHECK(!again);
      check_error(again.error(), ErrorCode::CapacityExceeded);
    } else if (!traits_.guard_bytes ||
               guarded_reservation_verdict(traits_.limit_pages, *traits_.guard_bytes) ==
                   ReservationVerdict::Succeeds) {
      const auto again = allocator_.allocate(0, std::nullopt);
      FUZZ_CHECK(again.has_value() && again->base != nullptr && again->base != model_.base);
    }
    allocator_ = std::move(moved);  // releases the memory allocated just now
    FUZZ_CHECK(!moved.is_allocated());
  }

  void verify_observers() const {
    FUZZ_CHECK(allocator_.is_allocated() == model_.allocated);
    FUZZ_CHECK(allocator_.base() == model_.base);
    FUZZ_CHECK(allocator_.committed_pages() == model_.committed_pages);
    FUZZ_CHECK(allocator_.committed_bytes() == model_.committed_bytes());
    FUZZ_CHECK(allocator_.reserved_bytes() == model_.reserved_bytes());
  }

  void verify_written_bytes() const {
    for (const auto& [offset, value] : bytes_.current())
      FUZZ_CHECK(std::to_integer<std::uint8_t>(model_.base[offset]) == value);
  }

  // Freshly committed pages [first, end) read as zero: every byte ever
  // written at these offsets (stale data in a reused buffer would sit
  // there), and one byte per 4 KiB with each page's edges.
  void verify_zero_pages(std::uint32_t first, std::uint32_t end) const {
    const std::size_t from = std::size_t{first} * kWasmPageSize;
    const std::size_t to = std::size_t{end} * kWasmPageSize;
    const auto is_zero = [&](std::size_t offset) { return model_.base[offset] == std::byte{0}; };
    for (auto it = bytes_.ever_written().lower_bound(from);
         it != bytes_.ever_written().end() && *it < to; ++it)
      FUZZ_CHECK(is_zero(*it));
    for (std::size_t offset = from; offset < to; offset += 4096) {
      FUZZ_CHECK(is_zero(offset));
      FUZZ_CHECK(is_zero(offset + 4095));
    }
  }

  A& allocator_;
  BackendTraits traits_;
  Faults& faults_;
  ModelState model_;
  ByteModel bytes_;
};

}  // namespace wrt::platform::fuzz
