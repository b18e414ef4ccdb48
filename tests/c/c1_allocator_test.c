/* C1: the page allocators through the C ABI (section A's errors), and a
 * pool with an image: acquire, allocate, release, reuse (M1-M5). */
#include "c_test.h"

#include <string.h>

#define PAGE WRT_WASM_PAGE_SIZE

static void C1_MmapAllocatorAllocatesGrowsAndReportsEachError(void) {
  wrt_allocator_config config = {4, 0, 0};
  wrt_allocator* allocator;
  wrt_allocation allocation;
  wrt_allocator_info info;
  uint32_t maximum = 2;
  CHECK_OK(wrt_mmap_allocator_create(&config, &allocator));
  CHECK_STATUS(wrt_allocator_grow(allocator, 0, 1), WRT_NOT_ALLOCATED);
  CHECK_STATUS(wrt_allocator_deallocate(allocator, NULL, 0), WRT_NOT_ALLOCATED);
  uint32_t too_many = 5;
  CHECK_STATUS(wrt_allocator_allocate(allocator, 1, &too_many, &allocation), WRT_CAPACITY_EXCEEDED);
  CHECK_OK(wrt_allocator_allocate(allocator, 1, &maximum, &allocation));
  CHECK(allocation.base != NULL && allocation.committed_bytes == PAGE);
  CHECK(((uint8_t*)allocation.base)[PAGE - 1] == 0);
  CHECK_STATUS(wrt_allocator_allocate(allocator, 1, NULL, &allocation), WRT_ALREADY_ALLOCATED);
  CHECK_STATUS(wrt_allocator_grow(allocator, 0, 1), WRT_STATE_MISMATCH);
  CHECK_STATUS(wrt_allocator_grow(allocator, 1, 2), WRT_CAPACITY_EXCEEDED);
  CHECK_OK(wrt_allocator_grow(allocator, 1, 1));
  CHECK_OK(wrt_allocator_info_get(allocator, &info));
  CHECK(info.is_allocated && info.base == allocation.base && info.committed_pages == 2 &&
        info.committed_bytes == 2u * PAGE && info.reserved_bytes >= 2u * PAGE);
  ((uint8_t*)info.base)[2 * PAGE - 1] = 1; /* committed: writable */
  CHECK_STATUS(wrt_allocator_deallocate(allocator, info.base, PAGE), WRT_POINTER_MISMATCH);
  CHECK_OK(wrt_allocator_deallocate(allocator, info.base, info.committed_bytes));
  CHECK_OK(wrt_allocator_info_get(allocator, &info));
  CHECK(!info.is_allocated && info.base == NULL);
  /* Destroying an allocated allocator releases its memory. */
  CHECK_OK(wrt_allocator_allocate(allocator, 1, NULL, &allocation));
  CHECK_OK(wrt_allocator_destroy(allocator));
}

static void C1_PoolHandsOutSlotsWithTheImageAndTakesThemBack(void) {
  wrt_pool_config config = {2, 2, PAGE, 0, 0};
  wrt_pool* pool;
  wrt_status created = wrt_pool_create(&config, &pool);
#if !defined(__linux__)
  /* Memory pools need Linux (src/CMakeLists.txt). */
  CHECK(created == WRT_UNSUPPORTED);
  return;
#endif
  CHECK_OK(created);
  const char bytes[] = "initial contents";
  wrt_image* image;
  CHECK_OK(wrt_image_create(bytes, sizeof bytes, 100, &image));
  bool copy_on_write;
  CHECK_OK(wrt_image_copy_on_write(image, &copy_on_write)); /* either is valid */
  uint32_t available;
  CHECK_OK(wrt_pool_available_slots(pool, &available));
  CHECK(available == 2);

  wrt_allocator* first;
  wrt_allocator* second;
  wrt_allocator* third;
  CHECK_OK(wrt_pool_acquire(pool, image, &first));
  CHECK_OK(wrt_pool_acquire(pool, NULL, &second));
  CHECK_STATUS(wrt_pool_acquire(pool, NULL, &third), WRT_CAPACITY_EXCEEDED);
  CHECK_OK(wrt_pool_available_slots(pool, &available));
  CHECK(available == 0);

  /* The image's bytes in a memory over the first slot. */
  wrt_memory_type type = {1, 2, true, false, WRT_INDEX_I32, PAGE};
  wrt_memory* memory;
  CHECK_OK(wrt_memory_create(&first, &type, &memory));
  char read_back[sizeof bytes];
  CHECK_OK(wrt_memory_read(memory, 100, read_back, sizeof read_back));
  CHECK(memcmp(read_back, bytes, sizeof bytes) == 0);
  CHECK_OK(wrt_memory_store_u32(memory, 0, 0xfeedu));
  uint64_t previous;
  CHECK_OK(wrt_memory_grow(memory, 1, &previous));
  CHECK(previous == 1);
  CHECK_STATUS(wrt_memory_grow(memory, 1, &previous), WRT_CAPACITY_EXCEEDED);
  /* The image may go first: the slot keeps what it needs. */
  CHECK_OK(wrt_image_destroy(image));
  CHECK_OK(wrt_memory_destroy(memory)); /* resets the slot, hands it back */
  CHECK_OK(wrt_pool_available_slots(pool, &available));
  CHECK(available == 1);

  /* The next user sees zeros, never a byte of the earlier one. */
  CHECK_OK(wrt_pool_acquire(pool, NULL, &third));
  wrt_allocation allocation;
  CHECK_OK(wrt_allocator_allocate(third, 1, NULL, &allocation));
  uint32_t word;
  memcpy(&word, allocation.base, sizeof word);
  CHECK(word == 0);
  CHECK(((uint8_t*)allocation.base)[100] == 0);
  bool elides;
  CHECK_OK(wrt_pool_elides_bounds_checks(pool, &elides));
  CHECK(!elides); /* 2 pages and one page of guard are far from 8 GiB */
  /* The pool may go before its allocators. */
  CHECK_OK(wrt_pool_destroy(pool));
  CHECK_OK(wrt_allocator_destroy(third));
  CHECK_OK(wrt_allocator_destroy(second));
}

static void C1_ImageAndPoolBadInput(void) {
  wrt_image* image;
  wrt_pool* pool;
  wrt_pool_config no_slots = {0, 1, 0, 0, 0};
#if defined(__linux__)
  CHECK_STATUS(wrt_image_create("x", 1, UINT64_C(1) << 32, &image), WRT_OUT_OF_BOUNDS);
  CHECK_STATUS(wrt_pool_create(&no_slots, &pool), WRT_INVALID_ARGUMENT);
#else
  CHECK_STATUS(wrt_image_create("x", 1, 0, &image), WRT_UNSUPPORTED);
  CHECK_STATUS(wrt_pool_create(&no_slots, &pool), WRT_UNSUPPORTED);
#endif
}

int main(void) {
  RUN(C1_MmapAllocatorAllocatesGrowsAndReportsEachError);
  RUN(C1_PoolHandsOutSlotsWithTheImageAndTakesThemBack);
  RUN(C1_ImageAndPoolBadInput);
  return 0;
}
