// The model behind the stateful (rc::state) tests of the page allocators and
// of PalMemoryProvider: plain C++ state, the outcome docs/SPEC.md prescribes
// for each call, and the check that a real allocator matches the model.
//
// The model decides outcomes from the clauses with arithmetic twice as wide as size_t and
// never calls src/allocator/page_policy.hpp, so a slip in the shared policy shows up as
// a disagreement. Its assumptions beyond the contract's text: a call the
// policy rejects makes no OS call, grow(_, 0) and allocate(0, _) commit
// nothing (so they make no mprotect), allocate() undoes a failed commit with
// one munmap, and the destructor makes one munmap.
#pragma once

#include <rapidcheck.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <map>
#include <memory>
#include <new>
#include <optional>
#include <ostream>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "generators.hpp"
#include "os/seam.hpp"
#include "wrt/platform/error.hpp"
#include "wrt/platform/mmap_page_allocator.hpp"
#include "wrt/platform/page_allocator.hpp"
#include "wrt/platform/static_page_allocator.hpp"

#ifdef WRT_PLATFORM_FAULT_INJECTION
#include "os/fault_injection.hpp"
#endif

namespace wrt::platform::proptest {

// --- Backends: how a test case gets allocators of one kind ---

template <typename A>
struct Backend;

// A MmapPageAllocator with a small random page limit and guard.
template <>
struct Backend<MmapPageAllocator> {
  static constexpr bool kCallsOs = true;
  PageAllocatorConfig config;

  static Backend generate() {
    return {PageAllocatorConfig{*rc::gen::inRange<std::uint32_t>(0, 17),
                                *rc::gen::element<std::size_t>(0, 1, 4096, kWasmPageSize)}};
  }
  MmapPageAllocator make() const { return MmapPageAllocator(config); }
  std::uint32_t limit_pages() const { return config.maximum_pages; }
  // Nothing to look at: a stray access outside the memory faults (A10).
  void check_surroundings_untouched() const {}
};

// A StaticPageAllocator over a dirty page-aligned buffer of 1-16 pages, with
// a random config limit that may be above or below the buffer's pages. The
// buffer sits between two canary pages: nothing has an MMU to fault on a
// stray access here, so the canaries show any byte written just outside.
template <>
struct Backend<StaticPageAllocator> {
  static constexpr bool kCallsOs = false;
  static constexpr std::byte kDirt{0xcd};
  struct AlignedDelete {
    void operator()(std::byte* p) const { ::operator delete[](p, std::align_val_t{kWasmPageSize}); }
  };
  std::unique_ptr<std::byte[], AlignedDelete> storage;  // canary, buffer, canary
  std::uint32_t buffer_pages = 0;
  PageAllocatorConfig config;

  static Backend generate() {
    const auto pages = *rc::gen::inRange<std::uint32_t>(1, 17);
    const std::size_t storage_bytes = (pages + 2) * kWasmPageSize;
    Backend backend{std::unique_ptr<std::byte[], AlignedDelete>(
                        new (std::align_val_t{kWasmPageSize}) std::byte[storage_bytes]),
                    pages, PageAllocatorConfig{*rc::gen::inRange<std::uint32_t>(0, 21), 0}};
    // A caller's buffer holds anything; committed pages must read zero anyway.
    std::fill_n(backend.storage.get(), storage_bytes, kDirt);
    return backend;
  }
  std::span<std::byte> buffer() const {
    return {storage.get() + kWasmPageSize, buffer_pages * kWasmPageSize};
  }
  StaticPageAllocator make() const {
    auto allocator = StaticPageAllocator::create(buffer(), config);
    RC_ASSERT(allocator.has_value());
    return std::move(*allocator);
  }
  std::uint32_t limit_pages() const { return std::min(config.maximum_pages, buffer_pages); }
  void check_surroundings_untouched() const {
    const auto dirty = [](std::byte b) { return b == kDirt; };
    RC_ASSERT(std::all_of(storage.get(), buffer().data(), dirty));
    RC_ASSERT(std::all_of(buffer().data() + buffer().size(),
                          buffer().data() + buffer().size() + kWasmPageSize, dirty));
  }
};

// --- The model ---

// The OS calls of the memory seam, in the order of AllocatorModel::armed_errno.
inline constexpr std::array kMemoryCalls = {prim::OsCall::Mmap, prim::OsCall::Mprotect,
                                            prim::OsCall::Munmap};

inline std::size_t call_index(prim::OsCall call) {
  return static_cast<std::size_t>(std::find(kMemoryCalls.begin(), kMemoryCalls.end(), call) -
                                  kMemoryCalls.begin());
}

inline const char* call_name(prim::OsCall call) {
  switch (call) {
    case prim::OsCall::Mmap:
      return "mmap";
    case prim::OsCall::Mprotect:
      return "mprotect";
    case prim::OsCall::Munmap:
      return "munmap";
    default:
      return "futex";
  }
}

struct AllocatorModel {
  std::uint32_t limit_pages = 0;  // the allocator's page limit (A3, A4)
  bool calls_os = false;          // false: StaticPageAllocator, which never does (A15)
  bool allocated = false;
  std::uint32_t committed_pages = 0;
  std::uint32_t reserved_pages = 0;
  // The bytes written since allocate(); every other committed byte reads 0.
  std::map<std::size_t, std::byte> written;
  // The errno the next mmap / mprotect / munmap fails with; 0: none armed.
  std::array<int, kMemoryCalls.size()> armed_errno{};

  std::size_t committed_bytes() const { return std::size_t{committed_pages} * kWasmPageSize; }
};

template <typename A>
AllocatorModel initial_model(const Backend<A>& backend) {
  AllocatorModel model;
  model.limit_pages = backend.limit_pages();
  model.calls_os = Backend<A>::kCallsOs;
  return model;
}

// What a call should return: nothing for success, else the error (compared
// by code and errno).
using Outcome = std::optional<Error>;

inline Outcome fails(ErrorCode code) { return Error(code, "model"); }

inline std::string describe(const Outcome& outcome) {
  if (!outcome) return "success";
  return std::string(error_code_name(outcome->code())) + " (errno " +
         std::to_string(outcome->os_errno()) + ")";
}

template <typename T>
std::string describe(const Result<T>& result) {
  return describe(result ? Outcome{} : Outcome{result.error()});
}

// Makes the model's next `call` and returns the failure it meets, if armed
// (A12: ENOMEM -> OutOfMemory, other errno -> SystemError).
inline Outcome os_call(AllocatorModel& m, prim::OsCall call) {
  if (!m.calls_os) return std::nullopt;
  const int error = std::exchange(m.armed_errno[call_index(call)], 0);
  if (error == 0) return std::nullopt;
  return Error(error == ENOMEM ? ErrorCode::OutOfMemory : ErrorCode::SystemError, "model", error);
}

inline void forget_memory(AllocatorModel& m) {
  m.allocated = false;
  m.committed_pages = 0;
  m.reserved_pages = 0;
  m.written.clear();
}

// allocate(initial, maximum): A1-A6, A12.
inline Outcome model_allocate(AllocatorModel& m, std::uint32_t initial,
                              std::optional<std::uint32_t> maximum) {
  if (m.allocated) return fails(ErrorCode::AlreadyAllocated);
  if (maximum && *maximum < initial) return fails(ErrorCode::InvalidArgument);
  const std::uint32_t reserved = maximum.value_or(m.limit_pages);
  if (reserved > m.limit_pages || initial > m.limit_pages)
    return fails(ErrorCode::CapacityExceeded);
  if (auto failed = os_call(m, prim::OsCall::Mmap)) return failed;
  if (initial > 0) {
    if (auto failed = os_call(m, prim::OsCall::Mprotect)) {
      (void)os_call(m, prim::OsCall::Munmap);  // the undo; its failure is not reported
      return failed;
    }
  }
  m.allocated = true;
  m.committed_pages = initial;
  m.reserved_pages = reserved;
  return std::nullopt;
}

// grow(current, additional): A7-A9, A12.
inline Outcome model_grow(AllocatorModel& m, std::uint32_t current, std::uint32_t additional) {
  if (!m.allocated) return fails(ErrorCode::NotAllocated);
  if (current != m.committed_pages) return fails(ErrorCode::StateMismatch);
  const std::uint64_t wanted = std::uint64_t{current} + additional;
  if (wanted > kU32Max || wanted > m.reserved_pages) return fails(ErrorCode::CapacityExceeded);
  if (additional == 0) return std::nullopt;
  if (auto failed = os_call(m, prim::OsCall::Mprotect)) return failed;
  m.committed_pages = static_cast<std::uint32_t>(wanted);
  return std::nullopt;
}

// deallocate(ptr, size) with the right or a wrong pointer and size: A11, A12.
inline Outcome model_deallocate(AllocatorModel& m, bool right_pointer, bool right_size) {
  if (!m.allocated) return fails(ErrorCode::NotAllocated);
  if (!right_pointer || !right_size) return fails(ErrorCode::PointerMismatch);
  if (auto failed = os_call(m, prim::OsCall::Munmap)) return failed;
  forget_memory(m);
  return std::nullopt;
}

// The destructor: releases the memory whatever the OS says (A13).
inline void model_destroy(AllocatorModel& m) {
  if (m.allocated) (void)os_call(m, prim::OsCall::Munmap);
  forget_memory(m);
}

// offset + size <= committed bytes, in arithmetic twice as wide as size_t.
inline bool model_in_bounds(const AllocatorModel& m, std::size_t offset, std::size_t size) {
  return WideSize{offset} + size <= m.committed_bytes();
}

inline void model_write(AllocatorModel& m, std::size_t offset, std::span<const std::byte> bytes) {
  for (std::size_t i = 0; i < bytes.size(); ++i) m.written[offset + i] = bytes[i];
}

inline std::byte model_byte(const AllocatorModel& m, std::size_t offset) {
  const auto it = m.written.find(offset);
  return it == m.written.end() ? std::byte{0} : it->second;
}

// --- Checking a real allocator against the model ---

// The first byte in [0, size) that differs from the model, if any.
inline std::optional<std::size_t> first_wrong_byte(const AllocatorModel& m, const std::byte* base,
                                                   std::size_t size) {
  static constexpr std::array<std::byte, 4096> kZeros{};
  const auto first_nonzero = [&](std::size_t from, std::size_t to) -> std::optional<std::size_t> {
    for (std::size_t at = from; at < to; at += kZeros.size()) {
      const std::size_t n = std::min(kZeros.size(), to - at);
      if (std::memcmp(base + at, kZeros.data(), n) != 0)
        return at + static_cast<std::size_t>(
                        std::find_if(base + at, base + at + n,
                                     [](std::byte b) { return b != std::byte{0}; }) -
                        (base + at));
    }
    return std::nullopt;
  };
  std::size_t next = 0;
  for (const auto& [offset, value] : m.written) {
    if (offset >= size) return offset;
    if (auto wrong = first_nonzero(next, offset)) return wrong;
    if (base[offset] != value) return offset;
    next = offset + 1;
  }
  return first_nonzero(next, size);
}

// Observers (A14), base stability (A7), contents (A1, A7 zero-fill and
// preservation), nothing written outside the memory, and, for backends
// without an MMU, no OS call at all (A15).
template <typename A>
void check_matches(const AllocatorModel& m, const A& allocator, std::byte* base_at_allocate,
                   const Backend<A>& backend) {
  backend.check_surroundings_untouched();
  RC_ASSERT(allocator.is_allocated() == m.allocated);
  RC_ASSERT(allocator.committed_pages() == m.committed_pages);
  RC_ASSERT(allocator.committed_bytes() == m.committed_bytes());
  RC_ASSERT(allocator.reserved_bytes() == std::size_t{m.reserved_pages} * kWasmPageSize);
  if (!m.allocated) {
    RC_ASSERT(allocator.base() == nullptr);
    return;
  }
  RC_ASSERT(allocator.base() != nullptr);
  RC_ASSERT(allocator.base() == base_at_allocate);
  RC_ASSERT(reinterpret_cast<std::uintptr_t>(allocator.base()) % kWasmPageSize == 0u);
  if (const auto wrong = first_wrong_byte(m, allocator.base(), m.committed_bytes())) {
    RC_ASSERT(*wrong < m.committed_bytes());  // else the model wrote past the end
    RC_FAIL("byte " + std::to_string(*wrong) + " holds " +
            std::to_string(static_cast<int>(allocator.base()[*wrong])) + ", the model says " +
            std::to_string(static_cast<int>(model_byte(m, *wrong))));
  }
#ifdef WRT_PLATFORM_FAULT_INJECTION
  if (!m.calls_os)
    for (auto call : kMemoryCalls) RC_ASSERT(fault::calls(call) == 0u);
#endif
}

// allocate()/create() arguments: mostly a valid request (so that the memory
// exists and later commands have something to act on), sometimes one near
// or past the limits, with maximum below initial, or without maximum.
struct AllocateRequest {
  std::uint32_t initial = 0;
  std::optional<std::uint32_t> maximum;

  static AllocateRequest generate(const AllocatorModel& m) {
    const std::uint32_t limit = m.limit_pages;
    const auto initial = *rc::gen::weightedOneOf<std::uint32_t>(
        {{3, rc::gen::inRange<std::uint32_t>(0, limit + 1)}, {1, pages_near(limit)}});
    if (initial > limit || *rc::gen::inRange(0, 4) == 0)
      return {initial, *optional_pages_near(*rc::gen::element(limit, initial))};
    return {initial,
            *rc::gen::oneOf(rc::gen::just(std::optional<std::uint32_t>{}),
                            rc::gen::map(rc::gen::inRange<std::uint32_t>(initial, limit + 1),
                                         [](std::uint32_t p) { return std::optional(p); }))};
  }
};

inline std::ostream& operator<<(std::ostream& os, const AllocateRequest& r) {
  return os << r.initial << ", " << (r.maximum ? std::to_string(*r.maximum) : "nullopt");
}

// A write the model can place: 1-64 bytes inside the committed bytes, often
// at the start, the end, or across a page boundary.
struct InBoundsWrite {
  std::size_t offset = 0;
  std::vector<std::byte> bytes;

  static InBoundsWrite generate(const AllocatorModel& m) {
    const std::size_t size = m.committed_bytes();
    RC_PRE(m.allocated && size > 0);
    const auto length = *rc::gen::inRange<std::size_t>(1, 65);
    const std::size_t last = size - length;
    const std::size_t boundary =
        *rc::gen::inRange<std::size_t>(0, m.committed_pages) * kWasmPageSize;
    const auto offset = *rc::gen::weightedOneOf<std::size_t>({
        {1, rc::gen::just(std::size_t{0})},
        {1, rc::gen::just(last)},
        {1, rc::gen::just(std::min(last, boundary > length / 2 ? boundary - length / 2 : 0))},
        {3, rc::gen::inRange<std::size_t>(0, last + 1)},
    });
    auto values =
        *rc::gen::container<std::vector<std::uint8_t>>(length, rc::gen::arbitrary<std::uint8_t>());
    std::vector<std::byte> bytes(length);
    std::transform(values.begin(), values.end(), bytes.begin(),
                   [](std::uint8_t v) { return std::byte{v}; });
    return {offset, std::move(bytes)};
  }
};

#ifdef WRT_PLATFORM_FAULT_INJECTION
// Arms an OS failure for the next mmap / mprotect / munmap (A12). Shared by
// every stateful test whose SUT is built on the memory seam.
template <typename Sut>
struct FailNextOsCall : rc::state::Command<AllocatorModel, Sut> {
  prim::OsCall call = *rc::gen::elementOf(kMemoryCalls);
  int error = *rc::gen::element(ENOMEM, EINVAL, EAGAIN, EPERM, EACCES);

  void apply(AllocatorModel& m) const override { m.armed_errno[call_index(call)] = error; }
  void run(const AllocatorModel&, Sut&) const override { fault::fail(call, error); }
  void show(std::ostream& os) const override {
    os << "FailNextOsCall(" << call_name(call) << ", errno " << error << ")";
  }
};

// Disarms the seam and zeroes its counters; disarms it again when the test
// case ends, however it ends. Declare it after the SUT, so that it is
// destroyed first and the SUT's destructor meets no armed failure.
struct FaultReset {
  FaultReset() { fault::reset(); }
  ~FaultReset() { fault::reset(); }
  FaultReset(const FaultReset&) = delete;
  FaultReset& operator=(const FaultReset&) = delete;
};
#endif

}  // namespace wrt::platform::proptest
