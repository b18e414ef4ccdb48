/* C1: linear memories through the C ABI: create (E1, W1), size and grow
 * (W2), the E3 loads and stores, the E4 atomics, E5 bulk memory, and the
 * single-threaded results and errors of wait/notify (W4, W5), each against
 * values computed here. */
#include "c_test.h"

#include <string.h>

#define PAGE WRT_WASM_PAGE_SIZE

static wrt_memory* new_memory(uint64_t initial, uint64_t maximum, bool shared) {
  wrt_memory_type type = {initial, maximum, true, shared, WRT_INDEX_I32, PAGE};
  wrt_allocator* allocator;
  wrt_memory* memory;
  CHECK_OK(wrt_mmap_allocator_create(NULL, &allocator));
  CHECK_OK(wrt_memory_create(&allocator, &type, &memory));
  return memory;
}

static void C1_CreateChecksTheTypeAndTakesTheAllocator(void) {
  wrt_allocator* allocator;
  wrt_memory* memory = NULL;
  wrt_memory_type shared_without_maximum = {1, 0, false, true, WRT_INDEX_I32, PAGE};
  wrt_memory_type odd_page = {1, 2, true, false, WRT_INDEX_I32, 3};
  wrt_memory_type maximum_below_initial = {2, 1, true, false, WRT_INDEX_I32, PAGE};
  wrt_memory_type above_limit = {65537, 0, false, false, WRT_INDEX_I32, PAGE};
  const wrt_memory_type* bad[] = {&shared_without_maximum, &odd_page, &maximum_below_initial,
                                  &above_limit};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; ++i) {
    CHECK_OK(wrt_mmap_allocator_create(NULL, &allocator));
    CHECK_STATUS(wrt_memory_create(&allocator, bad[i], &memory), WRT_INVALID_ARGUMENT);
    CHECK(allocator == NULL && memory == NULL); /* taken and destroyed on error too */
  }
  /* The allocator's own error: its limit is below the maximum. */
  wrt_allocator_config small = {1, 0, 0};
  wrt_memory_type two_pages = {2, 2, true, false, WRT_INDEX_I32, PAGE};
  CHECK_OK(wrt_mmap_allocator_create(&small, &allocator));
  CHECK_STATUS(wrt_memory_create(&allocator, &two_pages, &memory), WRT_CAPACITY_EXCEEDED);
  CHECK(allocator == NULL);
}

static void C1_GrowReturnsThePreviousSizeAndStopsAtTheMaximum(void) {
  wrt_memory* memory = new_memory(1, 3, false);
  uint64_t pages, previous, bytes;
  void* before;
  void* after;
  CHECK_OK(wrt_memory_data(memory, &before));
  CHECK_OK(wrt_memory_size(memory, &pages));
  CHECK(pages == 1);
  CHECK_OK(wrt_memory_store_u8(memory, PAGE - 1, 0xab));
  CHECK_OK(wrt_memory_grow(memory, 2, &previous));
  CHECK(previous == 1);
  CHECK_OK(wrt_memory_size(memory, &pages));
  CHECK_OK(wrt_memory_byte_length(memory, &bytes));
  CHECK(pages == 3 && bytes == 3u * PAGE);
  CHECK_OK(wrt_memory_data(memory, &after));
  CHECK(before == after); /* never moves */
  uint8_t byte;
  CHECK_OK(wrt_memory_load_u8(memory, PAGE - 1, &byte));
  CHECK(byte == 0xab);
  CHECK_OK(wrt_memory_load_u8(memory, 3u * PAGE - 1, &byte));
  CHECK(byte == 0); /* new pages are zero */
  CHECK_OK(wrt_memory_grow(memory, 0, &previous));
  CHECK(previous == 3);
  previous = 99;
  CHECK_STATUS(wrt_memory_grow(memory, 1, &previous), WRT_CAPACITY_EXCEEDED);
  CHECK(previous == 99); /* nothing written on error */
  CHECK_OK(wrt_memory_size(memory, &pages));
  CHECK(pages == 3);
  CHECK_OK(wrt_memory_destroy(memory));
}

static void C1_LoadsAndStoresAreLittleEndianAtAnyAlignment(void) {
  wrt_memory* memory = new_memory(1, 1, false);
  const uint8_t bytes[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
  CHECK_OK(wrt_memory_write(memory, 3, bytes, sizeof bytes));
  uint8_t u8;
  uint16_t u16;
  uint32_t u32;
  uint64_t u64;
  CHECK_OK(wrt_memory_load_u8(memory, 3, &u8));
  CHECK(u8 == 1);
  CHECK_OK(wrt_memory_load_u16(memory, 3, &u16));
  CHECK(u16 == 0x0201);
  CHECK_OK(wrt_memory_load_u32(memory, 3, &u32));
  CHECK(u32 == 0x04030201u);
  CHECK_OK(wrt_memory_load_u64(memory, 3, &u64));
  CHECK(u64 == 0x0807060504030201ull);
  wrt_v128 v128;
  CHECK_OK(wrt_memory_load_v128(memory, 3, &v128));
  CHECK(memcmp(v128.bytes, bytes, sizeof bytes) == 0);

  CHECK_OK(wrt_memory_store_u32(memory, 101, 0xdeadbeefu));
  uint8_t read_back[4];
  CHECK_OK(wrt_memory_read(memory, 101, read_back, sizeof read_back));
  CHECK(read_back[0] == 0xef && read_back[1] == 0xbe && read_back[2] == 0xad &&
        read_back[3] == 0xde);
  CHECK_OK(wrt_memory_store_u16(memory, 201, 0x1234));
  CHECK_OK(wrt_memory_load_u8(memory, 201, &u8));
  CHECK(u8 == 0x34);
  CHECK_OK(wrt_memory_store_u64(memory, 301, 0x1122334455667788ull));
  CHECK_OK(wrt_memory_load_u32(memory, 305, &u32));
  CHECK(u32 == 0x11223344u);
  CHECK_OK(wrt_memory_store_u8(memory, 401, 0x7f));
  CHECK_OK(wrt_memory_load_u8(memory, 401, &u8));
  CHECK(u8 == 0x7f);

  float f32;
  double f64;
  CHECK_OK(wrt_memory_store_f32(memory, 501, 1.5f));
  CHECK_OK(wrt_memory_load_u32(memory, 501, &u32));
  CHECK(u32 == 0x3fc00000u); /* IEEE 754 binary32 1.5 */
  CHECK_OK(wrt_memory_load_f32(memory, 501, &f32));
  CHECK(f32 == 1.5f);
  CHECK_OK(wrt_memory_store_f64(memory, 601, -2.25));
  CHECK_OK(wrt_memory_load_u64(memory, 601, &u64));
  CHECK(u64 == 0xc002000000000000ull);
  CHECK_OK(wrt_memory_load_f64(memory, 601, &f64));
  CHECK(f64 == -2.25);
  wrt_v128 lanes;
  for (int i = 0; i < 16; ++i) lanes.bytes[i] = (uint8_t)(0xf0 + i);
  CHECK_OK(wrt_memory_store_v128(memory, 701, &lanes));
  CHECK_OK(wrt_memory_load_u8(memory, 716, &u8));
  CHECK(u8 == 0xff);
  CHECK_OK(wrt_memory_destroy(memory));
}

static void C1_AccessesPastTheEndAreOutOfBoundsAndChangeNothing(void) {
  wrt_memory* memory = new_memory(1, 1, false);
  uint8_t u8 = 42;
  uint16_t u16 = 42;
  uint32_t u32 = 42;
  uint64_t u64 = 42;
  float f32 = 42;
  double f64 = 42;
  wrt_v128 v128 = {{42}};
  /* The last byte of each width is accessible... */
  CHECK_OK(wrt_memory_load_u32(memory, PAGE - 4, &u32));
  CHECK_OK(wrt_memory_store_u64(memory, PAGE - 8, 0));
  /* ...one more is not, nor an address that wraps. */
  CHECK_STATUS(wrt_memory_load_u8(memory, PAGE, &u8), WRT_OUT_OF_BOUNDS);
  CHECK_STATUS(wrt_memory_load_u16(memory, PAGE - 1, &u16), WRT_OUT_OF_BOUNDS);
  CHECK_STATUS(wrt_memory_load_u32(memory, PAGE - 3, &u32), WRT_OUT_OF_BOUNDS);
  CHECK_STATUS(wrt_memory_load_u64(memory, UINT64_MAX - 3, &u64), WRT_OUT_OF_BOUNDS);
  CHECK_STATUS(wrt_memory_load_f32(memory, PAGE - 3, &f32), WRT_OUT_OF_BOUNDS);
  CHECK_STATUS(wrt_memory_load_f64(memory, PAGE - 7, &f64), WRT_OUT_OF_BOUNDS);
  CHECK_STATUS(wrt_memory_load_v128(memory, PAGE - 15, &v128), WRT_OUT_OF_BOUNDS);
  CHECK(u8 == 42 && u16 == 42 && u32 == 0 && u64 == 42 && f32 == 42 && f64 == 42 &&
        v128.bytes[0] == 42); /* out-parameters untouched on error */
  CHECK_STATUS(wrt_memory_store_u8(memory, PAGE, 1), WRT_OUT_OF_BOUNDS);
  CHECK_STATUS(wrt_memory_store_u16(memory, PAGE - 1, 1), WRT_OUT_OF_BOUNDS);
  CHECK_STATUS(wrt_memory_store_u32(memory, PAGE - 3, 0xffffffffu), WRT_OUT_OF_BOUNDS);
  CHECK_STATUS(wrt_memory_store_u64(memory, PAGE - 7, UINT64_MAX), WRT_OUT_OF_BOUNDS);
  CHECK_STATUS(wrt_memory_store_f32(memory, PAGE - 3, 1), WRT_OUT_OF_BOUNDS);
  CHECK_STATUS(wrt_memory_store_f64(memory, PAGE - 7, 1), WRT_OUT_OF_BOUNDS);
  CHECK_STATUS(wrt_memory_store_v128(memory, PAGE - 15, &v128), WRT_OUT_OF_BOUNDS);
  uint8_t tail[15];
  CHECK_OK(wrt_memory_read(memory, PAGE - 15, tail, sizeof tail));
  for (size_t i = 0; i < sizeof tail; ++i) CHECK(tail[i] == 0); /* not a byte written */
  uint8_t buffer[2] = {9, 9};
  CHECK_STATUS(wrt_memory_read(memory, PAGE - 1, buffer, 2), WRT_OUT_OF_BOUNDS);
  CHECK(buffer[0] == 9);
  CHECK_STATUS(wrt_memory_write(memory, PAGE - 1, buffer, 2), WRT_OUT_OF_BOUNDS);
  CHECK_OK(wrt_memory_load_u8(memory, PAGE - 1, &u8));
  CHECK(u8 == 0);
  CHECK_OK(wrt_memory_destroy(memory));
}

static void C1_AtomicsCheckAlignmentThenBounds(void) {
  wrt_memory* memory = new_memory(1, 1, false);
  uint16_t u16;
  uint32_t u32;
  uint64_t u64;
  uint8_t u8;
  /* W4 order: a misaligned address past the end is Misaligned. */
  CHECK_STATUS(wrt_memory_atomic_load_u16(memory, PAGE + 1, &u16), WRT_MISALIGNED);
  CHECK_STATUS(wrt_memory_atomic_load_u32(memory, 2, &u32), WRT_MISALIGNED);
  CHECK_STATUS(wrt_memory_atomic_load_u64(memory, 4, &u64), WRT_MISALIGNED);
  CHECK_STATUS(wrt_memory_atomic_store_u32(memory, PAGE + 2, 1), WRT_MISALIGNED);
  CHECK_STATUS(wrt_memory_atomic_rmw_u64(memory, WRT_RMW_ADD, 12, 1, &u64), WRT_MISALIGNED);
  CHECK_STATUS(wrt_memory_atomic_cmpxchg_u16(memory, 1, 0, 1, &u16), WRT_MISALIGNED);
  CHECK_STATUS(wrt_memory_atomic_load_u8(memory, PAGE, &u8), WRT_OUT_OF_BOUNDS);
  CHECK_STATUS(wrt_memory_atomic_load_u32(memory, PAGE, &u32), WRT_OUT_OF_BOUNDS);
  CHECK_STATUS(wrt_memory_atomic_store_u64(memory, PAGE, 1), WRT_OUT_OF_BOUNDS);
  CHECK_STATUS(wrt_memory_atomic_store_u8(memory, PAGE, 1), WRT_OUT_OF_BOUNDS);
  CHECK_STATUS(wrt_memory_atomic_store_u16(memory, PAGE, 1), WRT_OUT_OF_BOUNDS);
  CHECK_STATUS(wrt_memory_atomic_rmw_u8(memory, WRT_RMW_OR, PAGE, 1, &u8), WRT_OUT_OF_BOUNDS);
  CHECK_STATUS(wrt_memory_atomic_rmw_u16(memory, WRT_RMW_OR, PAGE, 1, &u16), WRT_OUT_OF_BOUNDS);
  CHECK_STATUS(wrt_memory_atomic_rmw_u32(memory, WRT_RMW_OR, PAGE, 1, &u32), WRT_OUT_OF_BOUNDS);
  CHECK_STATUS(wrt_memory_atomic_cmpxchg_u8(memory, PAGE, 0, 1, &u8), WRT_OUT_OF_BOUNDS);
  CHECK_STATUS(wrt_memory_atomic_cmpxchg_u32(memory, PAGE, 0, 1, &u32), WRT_OUT_OF_BOUNDS);
  CHECK_STATUS(wrt_memory_atomic_cmpxchg_u64(memory, PAGE, 0, 1, &u64), WRT_OUT_OF_BOUNDS);
  CHECK_OK(wrt_memory_destroy(memory));
}

static void C1_AtomicsReturnTheValueBeforeAndWrap(void) {
  wrt_memory* memory = new_memory(1, 1, false);
  uint32_t old;
  CHECK_OK(wrt_memory_atomic_store_u32(memory, 8, 10));
  CHECK_OK(wrt_memory_atomic_rmw_u32(memory, WRT_RMW_ADD, 8, 5, &old));
  CHECK(old == 10);
  CHECK_OK(wrt_memory_atomic_rmw_u32(memory, WRT_RMW_SUB, 8, 16, &old));
  CHECK(old == 15);
  CHECK_OK(wrt_memory_atomic_load_u32(memory, 8, &old));
  CHECK(old == UINT32_MAX); /* 15 - 16 wraps */
  CHECK_OK(wrt_memory_atomic_rmw_u32(memory, WRT_RMW_AND, 8, 0xf0f0u, &old));
  CHECK_OK(wrt_memory_atomic_rmw_u32(memory, WRT_RMW_OR, 8, 0x1u, &old));
  CHECK(old == 0xf0f0u);
  CHECK_OK(wrt_memory_atomic_rmw_u32(memory, WRT_RMW_XOR, 8, 0xffffu, &old));
  CHECK(old == 0xf0f1u);
  CHECK_OK(wrt_memory_atomic_rmw_u32(memory, WRT_RMW_XCHG, 8, 77, &old));
  CHECK(old == 0x0f0eu);
  CHECK_OK(wrt_memory_atomic_cmpxchg_u32(memory, 8, 1, 2, &old));
  CHECK(old == 77); /* not equal: unchanged */
  CHECK_OK(wrt_memory_atomic_cmpxchg_u32(memory, 8, 77, 78, &old));
  CHECK(old == 77);
  CHECK_OK(wrt_memory_load_u32(memory, 8, &old));
  CHECK(old == 78);

  uint8_t u8;
  uint16_t u16;
  uint64_t u64;
  CHECK_OK(wrt_memory_atomic_store_u8(memory, 16, 0xff));
  CHECK_OK(wrt_memory_atomic_rmw_u8(memory, WRT_RMW_ADD, 16, 1, &u8));
  CHECK(u8 == 0xff);
  CHECK_OK(wrt_memory_atomic_load_u8(memory, 16, &u8));
  CHECK(u8 == 0); /* wraps within the byte: the next byte stays 0 */
  CHECK_OK(wrt_memory_load_u8(memory, 17, &u8));
  CHECK(u8 == 0);
  CHECK_OK(wrt_memory_atomic_store_u16(memory, 18, 0x1234));
  CHECK_OK(wrt_memory_atomic_cmpxchg_u16(memory, 18, 0x1234, 0x4321, &u16));
  CHECK(u16 == 0x1234);
  CHECK_OK(wrt_memory_atomic_load_u16(memory, 18, &u16));
  CHECK(u16 == 0x4321);
  CHECK_OK(wrt_memory_atomic_store_u64(memory, 24, 1ull << 40));
  CHECK_OK(wrt_memory_atomic_rmw_u64(memory, WRT_RMW_SUB, 24, 1, &u64));
  CHECK(u64 == 1ull << 40);
  CHECK_OK(wrt_memory_atomic_load_u64(memory, 24, &u64));
  CHECK(u64 == (1ull << 40) - 1);
  CHECK_OK(wrt_memory_atomic_rmw_u16(memory, WRT_RMW_XCHG, 18, 5, &u16));
  CHECK(u16 == 0x4321);
  CHECK_OK(wrt_memory_atomic_cmpxchg_u8(memory, 16, 0, 9, &u8));
  CHECK(u8 == 0);
  CHECK_OK(wrt_memory_atomic_cmpxchg_u64(memory, 24, 0, 9, &u64));
  CHECK(u64 == (1ull << 40) - 1);
  CHECK_OK(wrt_memory_destroy(memory));
}

static void C1_FillCopyAndInitAreCheckedBeforeWriting(void) {
  wrt_memory* memory = new_memory(1, 1, false);
  wrt_memory* other = new_memory(1, 1, false);
  uint8_t bytes[8];
  CHECK_OK(wrt_memory_fill(memory, 10, 0x5a, 4));
  CHECK_OK(wrt_memory_read(memory, 9, bytes, 6));
  CHECK(bytes[0] == 0 && bytes[1] == 0x5a && bytes[4] == 0x5a && bytes[5] == 0);
  CHECK_OK(wrt_memory_fill(memory, PAGE, 1, 0)); /* length 0 at the end is valid */
  CHECK_STATUS(wrt_memory_fill(memory, PAGE - 2, 1, 3), WRT_OUT_OF_BOUNDS);
  CHECK_OK(wrt_memory_read(memory, PAGE - 2, bytes, 2));
  CHECK(bytes[0] == 0 && bytes[1] == 0);

  CHECK_OK(wrt_memory_copy(memory, 12, 10, 4)); /* overlapping, as memmove */
  CHECK_OK(wrt_memory_read(memory, 10, bytes, 6));
  CHECK(bytes[0] == 0x5a && bytes[1] == 0x5a && bytes[2] == 0x5a && bytes[5] == 0x5a);
  CHECK_STATUS(wrt_memory_copy(memory, PAGE - 1, 10, 2), WRT_OUT_OF_BOUNDS);
  CHECK_STATUS(wrt_memory_copy(memory, 0, PAGE - 1, 2), WRT_OUT_OF_BOUNDS);
  CHECK_OK(wrt_memory_load_u8(memory, 0, &bytes[0]));
  CHECK(bytes[0] == 0);

  CHECK_OK(wrt_memory_copy_from(other, memory, 100, 10, 6));
  CHECK_OK(wrt_memory_read(other, 100, bytes, 6));
  CHECK(bytes[0] == 0x5a && bytes[5] == 0x5a);
  CHECK_STATUS(wrt_memory_copy_from(other, memory, 0, PAGE - 1, 2), WRT_OUT_OF_BOUNDS);

  const char segment[] = "segment";
  CHECK_OK(wrt_memory_init(memory, 200, segment, 7, 3, 4));
  CHECK_OK(wrt_memory_read(memory, 200, bytes, 4));
  CHECK(memcmp(bytes, "ment", 4) == 0);
  CHECK_STATUS(wrt_memory_init(memory, 300, segment, 7, 4, 4), WRT_OUT_OF_BOUNDS);
  CHECK_STATUS(wrt_memory_init(memory, PAGE - 1, segment, 7, 0, 2), WRT_OUT_OF_BOUNDS);
  CHECK_OK(wrt_memory_load_u8(memory, 300, &bytes[0]));
  CHECK(bytes[0] == 0);
  CHECK_OK(wrt_memory_destroy(other));
  CHECK_OK(wrt_memory_destroy(memory));
}

static void C1_WaitAndNotifyErrorsAndImmediateResults(void) {
  wrt_memory* unshared = new_memory(1, 1, false);
  wrt_memory* shared = new_memory(1, 1, true);
  wrt_wait_result result;
  uint32_t woken = 99;
  /* W4 order: Misaligned, OutOfBounds, then NotShared. */
  CHECK_STATUS(wrt_memory_wait32(unshared, PAGE + 2, 0, 0, &result), WRT_MISALIGNED);
  CHECK_STATUS(wrt_memory_wait64(unshared, 4, 0, 0, &result), WRT_MISALIGNED);
  CHECK_STATUS(wrt_memory_wait32(unshared, PAGE, 0, 0, &result), WRT_OUT_OF_BOUNDS);
  CHECK_STATUS(wrt_memory_wait64(shared, PAGE, 0, 0, &result), WRT_OUT_OF_BOUNDS);
  CHECK_STATUS(wrt_memory_wait32(unshared, 0, 0, 0, &result), WRT_NOT_SHARED);
  CHECK_STATUS(wrt_memory_wait64(unshared, 0, 0, 0, &result), WRT_NOT_SHARED);
  CHECK_STATUS(wrt_memory_notify(shared, 2, 1, &woken), WRT_MISALIGNED);
  CHECK_STATUS(wrt_memory_notify(shared, PAGE, 1, &woken), WRT_OUT_OF_BOUNDS);
  CHECK(woken == 99);
  CHECK_OK(wrt_memory_notify(unshared, 0, 1, &woken));
  CHECK(woken == 0); /* an unshared memory has no waiters */

  /* W5: NotEqual without sleeping; TimedOut at once with timeout 0. */
  CHECK_OK(wrt_memory_store_u64(shared, 8, 0x100000000ull));
  CHECK_OK(wrt_memory_wait32(shared, 8, 1, -1, &result));
  CHECK(result == WRT_WAIT_NOT_EQUAL);
  CHECK_OK(wrt_memory_wait64(shared, 8, 0, -1, &result));
  CHECK(result == WRT_WAIT_NOT_EQUAL); /* all 64 bits compared (W7) */
  CHECK_OK(wrt_memory_wait32(shared, 8, 0, 0, &result));
  CHECK(result == WRT_WAIT_TIMED_OUT);
  CHECK_OK(wrt_memory_wait64(shared, 8, 0x100000000ull, 1000, &result));
  CHECK(result == WRT_WAIT_TIMED_OUT);
  CHECK_OK(wrt_memory_notify(shared, 8, 1, &woken));
  CHECK(woken == 0);
  CHECK_OK(wrt_memory_destroy(shared));
  CHECK_OK(wrt_memory_destroy(unshared));
}

static void C1_MemoryOverAStaticBuffer(void) {
  /* 2 pages, 64 KiB aligned, inside a static buffer of 3. */
  static uint8_t storage[3 * PAGE];
  uint8_t* aligned = storage + (PAGE - (uintptr_t)storage % PAGE) % PAGE;
  wrt_allocator* allocator;
  CHECK_STATUS(wrt_static_allocator_create(aligned + 1, PAGE, NULL, &allocator), WRT_MISALIGNED);
  CHECK_STATUS(wrt_static_allocator_create(aligned, PAGE + 1, NULL, &allocator),
               WRT_INVALID_ARGUMENT);
  CHECK_OK(wrt_static_allocator_create(aligned, 2 * PAGE, NULL, &allocator));
  wrt_memory_type type = {1, 0, false, false, WRT_INDEX_I32, PAGE};
  wrt_memory* memory;
  CHECK_OK(wrt_memory_create(&allocator, &type, &memory));
  void* data;
  CHECK_OK(wrt_memory_data(memory, &data));
  CHECK(data == aligned);
  uint64_t previous;
  CHECK_OK(wrt_memory_grow(memory, 1, &previous));
  CHECK(previous == 1);
  CHECK_STATUS(wrt_memory_grow(memory, 1, &previous), WRT_CAPACITY_EXCEEDED);
  CHECK_OK(wrt_memory_store_u32(memory, 2 * PAGE - 4, 0x01020304u));
  CHECK(aligned[2 * PAGE - 4] == 4);
  CHECK_OK(wrt_memory_destroy(memory));
}

static void C1_Memory64WithOneBytePages(void) {
  /* E1: an I64 memory of 1-byte pages; sizes count bytes, and the byte past
   * the size is out of bounds although its OS page is committed (E6). */
  wrt_memory_type type = {3, 70000, true, false, WRT_INDEX_I64, 1};
  wrt_allocator* allocator;
  wrt_memory* memory;
  CHECK_OK(wrt_mmap_allocator_create(NULL, &allocator));
  CHECK_OK(wrt_memory_create(&allocator, &type, &memory));
  uint64_t pages, previous;
  uint8_t byte;
  uint16_t u16;
  CHECK_OK(wrt_memory_size(memory, &pages));
  CHECK(pages == 3);
  CHECK_OK(wrt_memory_store_u8(memory, 2, 7));
  CHECK_STATUS(wrt_memory_load_u8(memory, 3, &byte), WRT_OUT_OF_BOUNDS);
  CHECK_STATUS(wrt_memory_load_u16(memory, 2, &u16), WRT_OUT_OF_BOUNDS);
  CHECK_OK(wrt_memory_grow(memory, 69997, &previous));
  CHECK(previous == 3);
  CHECK_OK(wrt_memory_load_u8(memory, 69999, &byte));
  CHECK(byte == 0);
  CHECK_STATUS(wrt_memory_load_u8(memory, 70000, &byte), WRT_OUT_OF_BOUNDS);
  CHECK_STATUS(wrt_memory_grow(memory, 1, &previous), WRT_CAPACITY_EXCEEDED);
  CHECK_OK(wrt_memory_destroy(memory));
}

int main(void) {
  RUN(C1_CreateChecksTheTypeAndTakesTheAllocator);
  RUN(C1_GrowReturnsThePreviousSizeAndStopsAtTheMaximum);
  RUN(C1_LoadsAndStoresAreLittleEndianAtAnyAlignment);
  RUN(C1_AccessesPastTheEndAreOutOfBoundsAndChangeNothing);
  RUN(C1_AtomicsCheckAlignmentThenBounds);
  RUN(C1_AtomicsReturnTheValueBeforeAndWrap);
  RUN(C1_FillCopyAndInitAreCheckedBeforeWriting);
  RUN(C1_WaitAndNotifyErrorsAndImmediateResults);
  RUN(C1_MemoryOverAStaticBuffer);
  RUN(C1_Memory64WithOneBytePages);
  return 0;
}
