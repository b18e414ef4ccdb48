// Memories over each page allocator backend, for the typed suites of
// PalMemoryProvider (P) and LinearMemory (W): allocators with a page limit
// of kLimitPages, made per test.
#pragma once

#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <span>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "wrt/platform.hpp"

namespace wrt::platform::memory_testing {

inline constexpr std::uint32_t kLimitPages = 8;

// The value, or an exception GoogleTest reports as the test's failure: set-up
// that cannot go on without it.
template <typename T>
T& value_or_throw(Result<T>& result) {
  if (!result) throw std::runtime_error(std::string("set-up failed: ") + result.error().message());
  return *result;
}

// Makes allocators of one backend with a page limit of kLimitPages.
template <typename A>
struct Backend;

template <>
struct Backend<MmapPageAllocator> {
  MmapPageAllocator make() { return MmapPageAllocator(PageAllocatorConfig{kLimitPages, 0}); }
};

template <>
struct Backend<StaticPageAllocator> {
  struct AlignedDelete {
    void operator()(std::byte* p) const { ::operator delete[](p, std::align_val_t{kWasmPageSize}); }
  };
  // One buffer per allocator, dirty so that zero-filling is visible; they
  // outlive every memory the test makes (the fixture owns them).
  std::vector<std::unique_ptr<std::byte[], AlignedDelete>> buffers;

  StaticPageAllocator make() {
    constexpr std::size_t kBytes = std::size_t{kLimitPages} * kWasmPageSize;
    buffers.emplace_back(new (std::align_val_t{kWasmPageSize}) std::byte[kBytes]);
    for (std::size_t i = 0; i < kBytes; ++i) buffers.back()[i] = std::byte{0xa5};
    auto allocator = StaticPageAllocator::create(std::span(buffers.back().get(), kBytes));
    return std::move(value_or_throw(allocator));
  }
};

using Backends = ::testing::Types<MmapPageAllocator, StaticPageAllocator>;
struct BackendName {
  template <typename A>
  static std::string GetName(int) {
    return std::is_same_v<A, MmapPageAllocator> ? "Mmap" : "Static";
  }
};

}  // namespace wrt::platform::memory_testing
