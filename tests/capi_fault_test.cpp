// C1 on the C ABI's own failure paths that a C test cannot reach: a handle
// the heap cannot hold (injected through the seam, OsCall::HeapAlloc) is
// WRT_OUT_OF_MEMORY, leaves the out-parameter alone and leaks nothing (the
// asan preset's leak check), and the thread's last error says so.
#include <gtest/gtest.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>

#include "memory_backend_support.hpp"
#include "os/fault_injection.hpp"
#include "wrt/platform.h"

namespace {

using wrt::platform::StaticPageAllocator;
using wrt::platform::fault::OsCall;
using wrt::platform::memory_testing::Backend;
namespace fault = wrt::platform::fault;

class CAbiFaults : public ::testing::Test {
 protected:
  void SetUp() override { fault::reset(); }
  void TearDown() override { fault::reset(); }
};

void expect_last_error_is_out_of_memory() {
  wrt_error last{};
  ASSERT_EQ(wrt_last_error(&last), WRT_OK);
  EXPECT_EQ(last.status, WRT_OUT_OF_MEMORY);
  EXPECT_NE(last.operation, nullptr);
}

TEST_F(CAbiFaults, C1_NoHeapForAnAllocatorHandleIsOutOfMemory) {
  wrt_allocator* allocator = nullptr;
  fault::fail(OsCall::HeapAlloc, ENOMEM);
  EXPECT_EQ(wrt_mmap_allocator_create(nullptr, &allocator), WRT_OUT_OF_MEMORY);
  EXPECT_EQ(allocator, nullptr);
  expect_last_error_is_out_of_memory();
  ASSERT_EQ(wrt_mmap_allocator_create(nullptr, &allocator), WRT_OK);  // the heap is back
  EXPECT_EQ(wrt_allocator_destroy(allocator), WRT_OK);
}

// Over a static allocator (no trap registry entry, whose allocations come
// first for an mmap one and report CapacityExceeded, S1) the handle is the
// one heap allocation of a create.
TEST_F(CAbiFaults, C1_NoHeapForAMemoryHandleIsOutOfMemoryAndTheAllocatorIsFreed) {
  constexpr std::size_t kBytes = 2 * WRT_WASM_PAGE_SIZE;
  const std::unique_ptr<std::byte[], Backend<StaticPageAllocator>::AlignedDelete> owner(
      new (std::align_val_t{WRT_WASM_PAGE_SIZE}) std::byte[kBytes]);
  std::byte* const buffer = owner.get();
  const wrt_memory_type type = {1, 2, true, false, WRT_INDEX_I32, WRT_WASM_PAGE_SIZE};
  wrt_allocator* allocator = nullptr;
  ASSERT_EQ(wrt_static_allocator_create(buffer, kBytes, nullptr, &allocator), WRT_OK);
  wrt_memory* memory = nullptr;
  fault::fail(OsCall::HeapAlloc, ENOMEM);
  EXPECT_EQ(wrt_memory_create(&allocator, &type, &memory), WRT_OUT_OF_MEMORY);
  EXPECT_EQ(memory, nullptr);
  EXPECT_EQ(allocator, nullptr);  // taken, as on every other failure: nothing to destroy
  expect_last_error_is_out_of_memory();
  // The buffer is free again: a new allocator and memory over it work.
  ASSERT_EQ(wrt_static_allocator_create(buffer, kBytes, nullptr, &allocator), WRT_OK);
  ASSERT_EQ(wrt_memory_create(&allocator, &type, &memory), WRT_OK);
  EXPECT_EQ(wrt_memory_destroy(memory), WRT_OK);
}

TEST_F(CAbiFaults, C1_NoHeapForAPoolHandleIsOutOfMemory) {
  const wrt_pool_config config = {1, 1, 0, 0, 0};
  wrt_pool* pool = nullptr;
  fault::fail(OsCall::HeapAlloc, ENOMEM);
  const wrt_status status = wrt_pool_create(&config, &pool);
  if (status == WRT_UNSUPPORTED) GTEST_SKIP() << "pools are Linux-only";
  EXPECT_EQ(status, WRT_OUT_OF_MEMORY);
  EXPECT_EQ(pool, nullptr);
  expect_last_error_is_out_of_memory();
}

}  // namespace
