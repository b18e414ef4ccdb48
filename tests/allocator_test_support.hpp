// Helpers for the page allocator tests (allocator_*_test.cpp): a per-backend
// factory, snapshots of everything a caller can observe, and checks that a
// failed call reported the right error and changed nothing (A12).
#pragma once

#include <gtest/gtest.h>
#ifdef _WIN32
#ifndef NOMINMAX
#define NOMINMAX  // <windows.h> must not define min and max macros
#endif
#include <windows.h>
#else
#include <sys/mman.h>
#endif

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <memory>
#include <new>
#include <span>
#include <sstream>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "wrt/platform.hpp"

namespace wrt::platform::alloc_test {

inline constexpr std::uint32_t kU32Max = 0xffffffffu;

// 65536 pages (4 GiB) do not fit a 32-bit size_t: there a reservation that
// large is CapacityExceeded (clause X1, tested by the X1_ tests), so a test
// that needs one skips, saying why.
inline constexpr bool kSizeTHoldsFourGiB = sizeof(std::size_t) > sizeof(std::uint32_t);
#define WRT_SKIP_UNLESS_SIZE_T_HOLDS_FOUR_GIB()                                          \
  if constexpr (!::wrt::platform::alloc_test::kSizeTHoldsFourGiB)                        \
  GTEST_SKIP() << "needs 65536 pages (4 GiB) in a size_t; with a 32-bit size_t that is " \
                  "CapacityExceeded (clause X1)"

// A page-aligned buffer from the OS for StaticPageAllocator. It is backed
// lazily, so even a 4 GiB buffer costs only the pages a test touches.
class MappedBuffer {
 public:
  explicit MappedBuffer(std::size_t bytes) : bytes_(bytes) {
    // Over-map by one page so that a kWasmPageSize-aligned start fits.
    mapped_bytes_ = bytes + kWasmPageSize;
#ifdef _WIN32
    void* p = VirtualAlloc(nullptr, mapped_bytes_, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE);
    if (p == nullptr) throw std::bad_alloc();
#else
    void* p = mmap(nullptr, mapped_bytes_, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) throw std::bad_alloc();
#endif
    mapping_ = static_cast<std::byte*>(p);
    const auto address = reinterpret_cast<std::uintptr_t>(p);
    data_ = mapping_ + ((kWasmPageSize - address % kWasmPageSize) % kWasmPageSize);
  }
#ifdef _WIN32
  ~MappedBuffer() { VirtualFree(mapping_, 0, MEM_RELEASE); }
#else
  ~MappedBuffer() { munmap(mapping_, mapped_bytes_); }
#endif
  MappedBuffer(const MappedBuffer&) = delete;
  MappedBuffer& operator=(const MappedBuffer&) = delete;

  std::span<std::byte> span() const { return {data_, bytes_}; }

 private:
  std::size_t bytes_;
  std::size_t mapped_bytes_;
  std::byte* mapping_;
  std::byte* data_;
};

#ifdef __linux__
// One line of /proc/self/maps, with the VmFlags of /proc/self/smaps.
struct Mapping {
  std::uintptr_t start;
  std::uintptr_t end;
  std::string perms;    // e.g. "rw-p", "---p"
  std::string vmflags;  // e.g. " rd wr mr mw me nr" (smaps only)
};

// Parses /proc/self/smaps (or maps): header lines are "start-end perms ...".
inline std::vector<Mapping> read_mappings(const char* file = "/proc/self/maps") {
  std::vector<Mapping> mappings;
  std::ifstream in(file);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmFlags:", 0) == 0) {
      if (!mappings.empty()) mappings.back().vmflags = line.substr(8) + " ";
      continue;
    }
    std::istringstream fields(line);
    std::uintptr_t start = 0;
    std::uintptr_t end = 0;
    char dash = 0;
    std::string perms;
    if (fields >> std::hex >> start >> dash >> end >> perms && dash == '-')
      mappings.push_back({start, end, perms, ""});
  }
  return mappings;
}
#endif

// Whether the process's mappings show only what the program mapped. Not
// under ThreadSanitizer: it maps shadow memory for every new mapping, keeps it
// after munmap, and its runtime maps memory of its own at any time, even into
// the hole a munmap just left. Tests that count or look up mappings check
// them everywhere else (dev, clang, ASan, portable, coverage).
#if defined(__SANITIZE_THREAD__)
inline constexpr bool kMappingsAreOurs = false;
#elif defined(__has_feature)
inline constexpr bool kMappingsAreOurs = !__has_feature(thread_sanitizer);
#else
inline constexpr bool kMappingsAreOurs = true;
#endif

// How many mappings the process has (Linux); 0 where /proc is missing, so
// comparisons of counts hold trivially there.
inline std::size_t mapping_count() {
#ifdef __linux__
  return read_mappings().size();
#else
  return 0;
#endif
}

// The byte every fresh static buffer is filled with, so that a test can see
// StaticPageAllocator zero the pages it commits (fresh OS pages would be zero
// anyway and hide a missing memset).
inline constexpr std::byte kDirt{0xa5};
// Only this many leading pages are dirtied: a 4 GiB buffer stays untouched.
inline constexpr std::uint32_t kDirtyPages = 16;

// Makes allocators of one backend from a PageAllocatorConfig.
template <typename A>
struct Backend;

template <>
struct Backend<MmapPageAllocator> {
  static constexpr const char* kName = "Mmap";
  MmapPageAllocator make(PageAllocatorConfig config) { return MmapPageAllocator(config); }
};

template <>
struct Backend<StaticPageAllocator> {
  static constexpr const char* kName = "Static";
  // One buffer of config.maximum_pages pages (at least one: create() rejects
  // an empty buffer) per allocator made. The buffers outlive the allocators:
  // the fixture owns them and is destroyed after the test body's locals.
  std::vector<std::unique_ptr<MappedBuffer>> buffers;

  StaticPageAllocator make(PageAllocatorConfig config) {
    const std::size_t pages = std::max<std::uint32_t>(config.maximum_pages, 1);
    const auto& buffer =
        buffers.emplace_back(std::make_unique<MappedBuffer>(pages * kWasmPageSize));
    const auto dirty =
        buffer->span().first(std::min<std::size_t>(pages, kDirtyPages) * kWasmPageSize);
    std::fill(dirty.begin(), dirty.end(), kDirt);
    auto allocator = StaticPageAllocator::create(buffer->span(), config);
    if (!allocator) throw std::runtime_error(allocator.error().message());
    return std::move(*allocator);
  }
};

#ifdef __linux__
// A pool of one slot per allocator. The pool object is dropped at once: the
// allocator keeps the pool's state alive (memory_pool.hpp, lifetime).
template <>
struct Backend<PooledPageAllocator> {
  static constexpr const char* kName = "Pooled";
  PooledPageAllocator make(PageAllocatorConfig config) {
    auto pool = MemoryPool::create({1, config.maximum_pages, config.guard_bytes});
    if (!pool) throw std::runtime_error(pool.error().message());
    auto allocator = pool->acquire();
    if (!allocator) throw std::runtime_error(allocator.error().message());
    return std::move(*allocator);
  }
};
using Backends = ::testing::Types<MmapPageAllocator, StaticPageAllocator, PooledPageAllocator>;
#else
using Backends = ::testing::Types<MmapPageAllocator, StaticPageAllocator>;
#endif
struct BackendName {
  template <typename A>
  static std::string GetName(int) {
    return Backend<A>::kName;
  }
};

// Everything a caller can observe of an allocator: the observers, and the
// committed bytes when they are small enough to copy (every test memory but
// the 4 GiB ones, whose contents are never written).
struct Snapshot {
  std::byte* base;
  std::uint32_t committed_pages;
  std::size_t committed_bytes;
  std::size_t reserved_bytes;
  bool allocated;
  std::vector<std::byte> contents;
};

inline constexpr std::size_t kSnapshotContentLimit = 64 * kWasmPageSize;

// `with_contents == false` reads the observers only: a broken allocator may
// claim bytes it never committed, and reading them would crash the test
// instead of failing it.
template <typename A>
Snapshot snapshot(const A& a, bool with_contents = true) {
  Snapshot s{a.base(),           a.committed_pages(), a.committed_bytes(),
             a.reserved_bytes(), a.is_allocated(),    {}};
  if (with_contents && s.base != nullptr && s.committed_bytes <= kSnapshotContentLimit)
    s.contents.assign(s.base, s.base + s.committed_bytes);
  return s;
}

inline std::string describe(const Snapshot& s) {
  return "{base=" + std::to_string(reinterpret_cast<std::uintptr_t>(s.base)) +
         " committed_pages=" + std::to_string(s.committed_pages) +
         " committed_bytes=" + std::to_string(s.committed_bytes) +
         " reserved_bytes=" + std::to_string(s.reserved_bytes) +
         " allocated=" + (s.allocated ? "true" : "false") + "}";
}

// The allocator's observers and committed bytes equal `before`.
template <typename A>
::testing::AssertionResult unchanged_since(const Snapshot& before, const A& a) {
  if (const Snapshot observed = snapshot(a, false); describe(observed) != describe(before))
    return ::testing::AssertionFailure()
           << "observers changed: was " << describe(before) << ", now " << describe(observed);
  const Snapshot now = snapshot(a);
  const auto diff = std::mismatch(before.contents.begin(), before.contents.end(),
                                  now.contents.begin(), now.contents.end());
  if (diff.first != before.contents.end() || diff.second != now.contents.end())
    return ::testing::AssertionFailure()
           << "committed byte at offset " << (diff.first - before.contents.begin()) << " changed";
  return ::testing::AssertionSuccess();
}

// The allocator holds no memory and every observer says so.
template <typename A>
::testing::AssertionResult is_empty(const A& a) {
  const Snapshot s = snapshot(a, false);
  if (s.allocated || s.base != nullptr || s.committed_pages != 0 || s.committed_bytes != 0 ||
      s.reserved_bytes != 0)
    return ::testing::AssertionFailure() << "not empty: " << describe(s);
  return ::testing::AssertionSuccess();
}

// `result` is an error with `code` and `os_errno`.
template <typename T>
::testing::AssertionResult fails_with(const Result<T>& result, ErrorCode code, int os_errno = 0) {
  if (result)
    return ::testing::AssertionFailure() << "succeeded; expected " << error_code_name(code);
  const Error& e = result.error();
  if (e.code() != code || e.os_errno() != os_errno)
    return ::testing::AssertionFailure()
           << "failed with " << error_code_name(e.code()) << " errno " << e.os_errno() << " ("
           << e.message() << "); expected " << error_code_name(code) << " errno " << os_errno;
  if (e.message() == nullptr || *e.message() == '\0')
    return ::testing::AssertionFailure() << "empty error message";
  return ::testing::AssertionSuccess();
}

// `result` is a success; otherwise says which error it was.
template <typename T>
::testing::AssertionResult succeeds(const Result<T>& result) {
  if (result) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << "failed with " << error_code_name(result.error().code()) << " errno "
         << result.error().os_errno() << " (" << result.error().message() << ")";
}

// Runs `call(a)`, which must fail with `code` (and `os_errno`) and leave the
// allocator exactly as it was (A12).
template <typename A, typename Call>
::testing::AssertionResult fails_unchanged(A& a, ErrorCode code, Call call, int os_errno = 0) {
  const Snapshot before = snapshot(a);
  if (auto failed = fails_with(call(a), code, os_errno); !failed) return failed;
  return unchanged_since(before, a);
}

// A byte pattern that differs from zero, from kDirt and between offsets.
inline std::byte pattern_byte(std::size_t offset, std::uint8_t seed) {
  return static_cast<std::byte>(static_cast<std::uint8_t>(seed + offset * 7 + offset / 251) | 1u);
}

inline void fill_pattern(std::byte* base, std::size_t from, std::size_t to, std::uint8_t seed) {
  for (std::size_t i = from; i < to; ++i) base[i] = pattern_byte(i, seed);
}

inline ::testing::AssertionResult holds_pattern(const std::byte* base, std::size_t from,
                                                std::size_t to, std::uint8_t seed) {
  for (std::size_t i = from; i < to; ++i)
    if (base[i] != pattern_byte(i, seed))
      return ::testing::AssertionFailure() << "byte " << i << " lost its value";
  return ::testing::AssertionSuccess();
}

inline ::testing::AssertionResult all_zero(const std::byte* base, std::size_t from,
                                           std::size_t to) {
  for (std::size_t i = from; i < to; ++i)
    if (base[i] != std::byte{0})
      return ::testing::AssertionFailure()
             << "byte " << i << " is " << std::to_integer<int>(base[i]) << ", not zero";
  return ::testing::AssertionSuccess();
}

}  // namespace wrt::platform::alloc_test
