// What the pool tests share: a pool that must be made, image contents and
// the check that a memory holds an image (tests/memory_pool_*_test.cpp).
#pragma once

#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <utility>
#include <vector>

#include "allocator_test_support.hpp"
#include "memory_backend_support.hpp"
#include "wrt/platform/memory_pool.hpp"

namespace wrt::platform::pool_test {

inline std::size_t os_page() { return static_cast<std::size_t>(sysconf(_SC_PAGESIZE)); }

// A pool of `config`. When it cannot be made the test fails with the error's
// message (an exception: the test body goes no further).
inline MemoryPool make_pool(const PoolConfig& config) {
  auto pool = MemoryPool::create(config);
  return std::move(memory_testing::value_or_throw(pool));
}

// Resident OS pages of [p, p + bytes) (mincore; the range must be mapped),
// or SIZE_MAX when mincore fails.
inline std::size_t resident_pages(const std::byte* p, std::size_t bytes) {
  std::vector<unsigned char> pages(bytes / os_page());
  if (mincore(const_cast<std::byte*>(p), bytes, pages.data()) != 0)
    return std::numeric_limits<std::size_t>::max();
  std::size_t resident = 0;
  for (const unsigned char v : pages) resident += v & 1;
  return resident;
}

// `size` bytes of the pattern `seed` (alloc_test::pattern_byte).
inline std::vector<std::byte> image_bytes(std::size_t size, std::uint8_t seed) {
  std::vector<std::byte> bytes(size);
  for (std::size_t i = 0; i < size; ++i) bytes[i] = alloc_test::pattern_byte(i, seed);
  return bytes;
}

// The memory holds `bytes` at `offset` and zero elsewhere in [0, size).
inline ::testing::AssertionResult holds_image(const std::byte* base, std::size_t size,
                                              const std::vector<std::byte>& bytes,
                                              std::size_t offset) {
  if (auto before = alloc_test::all_zero(base, 0, offset); !before) return before;
  if (std::memcmp(base + offset, bytes.data(), bytes.size()) != 0)
    return ::testing::AssertionFailure() << "the image's bytes differ";
  return alloc_test::all_zero(base, offset + bytes.size(), size);
}

}  // namespace wrt::platform::pool_test
