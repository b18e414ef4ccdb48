/* C1: wrt_status, wrt_error_message, wrt_last_error, and
 * WRT_INVALID_ARGUMENT (never a crash) for every null handle, null required
 * pointer and enum value outside its type. */
#include "c_test.h"

#include <string.h>

static void C1_EveryStatusHasItsErrorCodeName(void) {
  static const char* const names[] = {"OK",
                                      "InvalidArgument",
                                      "AlreadyAllocated",
                                      "NotAllocated",
                                      "StateMismatch",
                                      "PointerMismatch",
                                      "CapacityExceeded",
                                      "OutOfBounds",
                                      "Misaligned",
                                      "OutOfMemory",
                                      "SystemError",
                                      "Unsupported",
                                      "NotShared"};
  for (int status = WRT_OK; status <= WRT_NOT_SHARED; ++status)
    CHECK(strcmp(wrt_error_message((wrt_status)status), names[status]) == 0);
  CHECK(strcmp(wrt_error_message((wrt_status)13), "unknown wrt_status") == 0);
  CHECK(strcmp(wrt_error_message((wrt_status)-1), "unknown wrt_status") == 0);
}

static void C1_LastErrorDescribesTheThreadsLastFailure(void) {
  wrt_error error;
  CHECK_OK(wrt_last_error(&error));
  CHECK(error.status == WRT_OK && error.operation != NULL);
  CHECK_STATUS(wrt_last_error(NULL), WRT_INVALID_ARGUMENT);

  CHECK_STATUS(wrt_memory_size(NULL, NULL), WRT_INVALID_ARGUMENT);
  CHECK_OK(wrt_last_error(&error));
  CHECK(error.status == WRT_INVALID_ARGUMENT && error.os_errno == 0);
  CHECK(strstr(error.operation, "wrt_memory_size") != NULL);

  /* A success leaves it alone. */
  CHECK(strcmp(wrt_error_message(WRT_OK), "OK") == 0);
  CHECK_OK(wrt_last_error(&error));
  CHECK(error.status == WRT_INVALID_ARGUMENT);
}

static void C1_NullAllocatorArgumentsAreInvalidArgument(void) {
  wrt_allocator* allocator = NULL;
  wrt_allocation allocation;
  wrt_allocator_info info;
  uint32_t pages = 1;
  CHECK_STATUS(wrt_mmap_allocator_create(NULL, NULL), WRT_INVALID_ARGUMENT);
  CHECK_STATUS(wrt_static_allocator_create(NULL, 0, NULL, NULL), WRT_INVALID_ARGUMENT);
  CHECK_STATUS(wrt_allocator_allocate(NULL, 1, &pages, &allocation), WRT_INVALID_ARGUMENT);
  CHECK_STATUS(wrt_allocator_grow(NULL, 0, 1), WRT_INVALID_ARGUMENT);
  CHECK_STATUS(wrt_allocator_deallocate(NULL, NULL, 0), WRT_INVALID_ARGUMENT);
  CHECK_STATUS(wrt_allocator_info_get(NULL, &info), WRT_INVALID_ARGUMENT);
  CHECK_STATUS(wrt_allocator_destroy(NULL), WRT_INVALID_ARGUMENT);

  CHECK_OK(wrt_mmap_allocator_create(NULL, &allocator));
  CHECK_STATUS(wrt_allocator_allocate(allocator, 1, NULL, NULL), WRT_INVALID_ARGUMENT);
  CHECK_STATUS(wrt_allocator_info_get(allocator, NULL), WRT_INVALID_ARGUMENT);
  CHECK_OK(wrt_allocator_info_get(allocator, &info));
  CHECK(!info.is_allocated); /* the failed calls changed nothing */
  CHECK_OK(wrt_allocator_destroy(allocator));

  /* A null buffer is the C++ empty buffer: InvalidArgument too. */
  CHECK_STATUS(wrt_static_allocator_create(NULL, 65536, NULL, &allocator), WRT_INVALID_ARGUMENT);
}

static void C1_NullPoolAndImageArgumentsAreInvalidArgument(void) {
  wrt_pool_config config = {1, 1, 0, 0, 0};
  wrt_pool* pool = NULL;
  wrt_image* image = NULL;
  wrt_allocator* allocator = NULL;
  uint32_t slots;
  bool flag;
  CHECK_STATUS(wrt_pool_create(NULL, &pool), WRT_INVALID_ARGUMENT);
  CHECK_STATUS(wrt_pool_create(&config, NULL), WRT_INVALID_ARGUMENT);
  CHECK_STATUS(wrt_pool_acquire(NULL, NULL, &allocator), WRT_INVALID_ARGUMENT);
  CHECK_STATUS(wrt_pool_available_slots(NULL, &slots), WRT_INVALID_ARGUMENT);
  CHECK_STATUS(wrt_pool_elides_bounds_checks(NULL, &flag), WRT_INVALID_ARGUMENT);
  CHECK_STATUS(wrt_pool_destroy(NULL), WRT_INVALID_ARGUMENT);
  CHECK_STATUS(wrt_image_create(NULL, 1, 0, &image), WRT_INVALID_ARGUMENT);
  CHECK_STATUS(wrt_image_create("x", 1, 0, NULL), WRT_INVALID_ARGUMENT);
  CHECK_STATUS(wrt_image_copy_on_write(NULL, &flag), WRT_INVALID_ARGUMENT);
  CHECK_STATUS(wrt_image_destroy(NULL), WRT_INVALID_ARGUMENT);

#if defined(__linux__) /* memory pools need Linux (src/CMakeLists.txt) */
  /* Live handles with a null out-parameter: refused, and the pool keeps its slot. */
  CHECK_OK(wrt_pool_create(&config, &pool));
  CHECK_OK(wrt_image_create("x", 1, 0, &image));
  CHECK_STATUS(wrt_pool_acquire(pool, NULL, NULL), WRT_INVALID_ARGUMENT);
  CHECK_STATUS(wrt_pool_acquire(pool, image, NULL), WRT_INVALID_ARGUMENT);
  CHECK_STATUS(wrt_pool_available_slots(pool, NULL), WRT_INVALID_ARGUMENT);
  CHECK_STATUS(wrt_pool_elides_bounds_checks(pool, NULL), WRT_INVALID_ARGUMENT);
  CHECK_STATUS(wrt_image_copy_on_write(image, NULL), WRT_INVALID_ARGUMENT);
  CHECK_OK(wrt_pool_available_slots(pool, &slots));
  CHECK(slots == 1);
  CHECK_OK(wrt_image_destroy(image));
  CHECK_OK(wrt_pool_destroy(pool));
#endif
}

static void C1_NullMemoryArgumentsAreInvalidArgument(void) {
  wrt_memory_type type = {1, 1, true, true, WRT_INDEX_I32, WRT_WASM_PAGE_SIZE};
  wrt_allocator* allocator = NULL;
  wrt_memory* memory = NULL;
  uint8_t u8;
  uint16_t u16;
  uint32_t u32;
  uint64_t u64;
  float f32;
  double f64;
  wrt_v128 v128;
  void* data;
  wrt_wait_result result;

  CHECK_STATUS(wrt_memory_create(NULL, &type, &memory), WRT_INVALID_ARGUMENT);
  CHECK_STATUS(wrt_memory_create(&allocator, &type, &memory), WRT_INVALID_ARGUMENT);
  CHECK_OK(wrt_mmap_allocator_create(NULL, &allocator));
  CHECK_STATUS(wrt_memory_create(&allocator, NULL, &memory), WRT_INVALID_ARGUMENT);
  CHECK_STATUS(wrt_memory_create(&allocator, &type, NULL), WRT_INVALID_ARGUMENT);
  type.index = (wrt_index_type)2;
  CHECK_STATUS(wrt_memory_create(&allocator, &type, &memory), WRT_INVALID_ARGUMENT);
  CHECK(allocator != NULL); /* not taken: still the caller's */
  type.index = WRT_INDEX_I32;
  CHECK_OK(wrt_memory_create(&allocator, &type, &memory));
  CHECK(allocator == NULL);

  /* Null handles. */
  CHECK_STATUS(wrt_memory_destroy(NULL), WRT_INVALID_ARGUMENT);
  CHECK_STATUS(wrt_memory_size(NULL, &u64), WRT_INVALID_ARGUMENT);
  CHECK_STATUS(wrt_memory_byte_length(NULL, &u64), WRT_INVALID_ARGUMENT);
  CHECK_STATUS(wrt_memory_data(NULL, &data), WRT_INVALID_ARGUMENT);
  CHECK_STATUS(wrt_memory_grow(NULL, 0, &u64), WRT_INVALID_ARGUMENT);
  CHECK_STATUS(wrt_memory_read(NULL, 0, &u8, 1), WRT_INVALID_ARGUMENT);
  CHECK_STATUS(wrt_memory_write(NULL, 0, &u8, 1), WRT_INVALID_ARGUMENT);
  CHECK_STATUS(wrt_memory_load_u8(NULL, 0, &u8), WRT_INVALID_ARGUMENT);
  CHECK_STATUS(wrt_memory_load_u16(NULL, 0, &u16), WRT_INVALID_ARGUMENT);
  CHECK_STATUS(wrt_memory_load_u32(NULL, 0, &u32), WRT_INVALID_ARGUMENT);
  CHECK_STATUS(wrt_memory_load_u64(NULL, 0, &u64), WRT_INVALID_ARGUMENT);
  CHECK_STATUS(wrt_memory_load_f32(NULL, 0, &f32), WRT_INVALID_ARGUMENT);
  CHECK_STATUS(wrt_memory_load_f64(NULL, 0, &f64), WRT_INVALID_ARGUMENT);
  CHECK_STATUS(wrt_memory_load_v128(NULL, 0, &v128), WRT_INVALID_ARGUMENT);
  CHECK_STATUS(wrt_memory_store_u8(NULL, 0, 0), WRT_INVALID_ARGUMENT);
  CHECK_STATUS(wrt_memory_store_u16(NULL, 0, 0), WRT_INVALID_ARGUMENT);
  CHECK_STATUS(wrt_memory_store_u32(NULL, 0, 0), WRT_INVALID_ARGUMENT);
  CHECK_STATUS(wrt_memory_store_u64(NULL, 0, 0), WRT_INVALID_ARGUMENT);
  CHECK_STATUS(wrt_memory_store_f32(NULL, 0, 0), WRT_INVALID_ARGUMENT);
  CHECK_STATUS(wrt_memory_store_f64(NULL, 0, 0), WRT_INVALID_ARGUMENT);
  CHECK_STATUS(wrt_memory_store_v128(NULL, 0, &v128), WRT_INVALID_ARGUMENT);
  CHECK_STATUS(wrt_memory_atomic_load_u8(NULL, 0, &u8), WRT_INVALID_ARGUMENT);
  CHECK_STATUS(wrt_memory_atomic_load_u16(NULL, 0, &u16), WRT_INVALID_ARGUMENT);
  CHECK_STATUS(wrt_memory_atomic_load_u32(NULL, 0, &u32), WRT_INVALID_ARGUMENT);
  CHECK_STATUS(wrt_memory_atomic_load_u64(NULL, 0, &u64), WRT_INVALID_ARGUMENT);
  CHECK_STATUS(wrt_memory_atomic_store_u8(NULL, 0, 0), WRT_INVALID_ARGUMENT);
  CHECK_STATUS(wrt_memory_atomic_store_u16(NULL, 0, 0), WRT_INVALID_ARGUMENT);
  CHECK_STATUS(wrt_memory_atomic_store_u32(NULL, 0, 0), WRT_INVALID_ARGUMENT);
  CHECK_STATUS(wrt_memory_atomic_store_u64(NULL, 0, 0), WRT_INVALID_ARGUMENT);
  CHECK_STATUS(wrt_memory_atomic_rmw_u8(NULL, WRT_RMW_ADD, 0, 0, &u8), WRT_INVALID_ARGUMENT);
  CHECK_STATUS(wrt_memory_atomic_rmw_u16(NULL, WRT_RMW_ADD, 0, 0, &u16), WRT_INVALID_ARGUMENT);
  CHECK_STATUS(wrt_memory_atomic_rmw_u32(NULL, WRT_RMW_ADD, 0, 0, &u32), WRT_INVALID_ARGUMENT);
  CHECK_STATUS(wrt_memory_atomic_rmw_u64(NULL, WRT_RMW_ADD, 0, 0, &u64), WRT_INVALID_ARGUMENT);
  CHECK_STATUS(wrt_memory_atomic_cmpxchg_u8(NULL, 0, 0, 0, &u8), WRT_INVALID_ARGUMENT);
  CHECK_STATUS(wrt_memory_atomic_cmpxchg_u16(NULL, 0, 0, 0, &u16), WRT_INVALID_ARGUMENT);
  CHECK_STATUS(wrt_memory_atomic_cmpxchg_u32(NULL, 0, 0, 0, &u32), WRT_INVALID_ARGUMENT);
  CHECK_STATUS(wrt_memory_atomic_cmpxchg_u64(NULL, 0, 0, 0, &u64), WRT_INVALID_ARGUMENT);
  CHECK_STATUS(wrt_memory_fill(NULL, 0, 0, 0), WRT_INVALID_ARGUMENT);
  CHECK_STATUS(wrt_memory_copy(NULL, 0, 0, 0), WRT_INVALID_ARGUMENT);
  CHECK_STATUS(wrt_memory_copy_from(NULL, memory, 0, 0, 0), WRT_INVALID_ARGUMENT);
  CHECK_STATUS(wrt_memory_copy_from(memory, NULL, 0, 0, 0), WRT_INVALID_ARGUMENT);
  CHECK_STATUS(wrt_memory_init(NULL, 0, "x", 1, 0, 0), WRT_INVALID_ARGUMENT);
  CHECK_STATUS(wrt_memory_wait32(NULL, 0, 0, 0, &result), WRT_INVALID_ARGUMENT);
  CHECK_STATUS(wrt_memory_wait64(NULL, 0, 0, 0, &result), WRT_INVALID_ARGUMENT);
  CHECK_STATUS(wrt_memory_notify(NULL, 0, 1, &u32), WRT_INVALID_ARGUMENT);

  /* Null out-parameters and buffers on a valid memory. */
  CHECK_STATUS(wrt_memory_size(memory, NULL), WRT_INVALID_ARGUMENT);
  CHECK_STATUS(wrt_memory_byte_length(memory, NULL), WRT_INVALID_ARGUMENT);
  CHECK_STATUS(wrt_memory_data(memory, NULL), WRT_INVALID_ARGUMENT);
  CHECK_STATUS(wrt_memory_grow(memory, 0, NULL), WRT_INVALID_ARGUMENT);
  CHECK_STATUS(wrt_memory_read(memory, 0, NULL, 1), WRT_INVALID_ARGUMENT);
  CHECK_STATUS(wrt_memory_write(memory, 0, NULL, 1), WRT_INVALID_ARGUMENT);
  CHECK_STATUS(wrt_memory_load_u8(memory, 0, NULL), WRT_INVALID_ARGUMENT);
  CHECK_STATUS(wrt_memory_load_u16(memory, 0, NULL), WRT_INVALID_ARGUMENT);
  CHECK_STATUS(wrt_memory_load_u32(memory, 0, NULL), WRT_INVALID_ARGUMENT);
  CHECK_STATUS(wrt_memory_load_u64(memory, 0, NULL), WRT_INVALID_ARGUMENT);
  CHECK_STATUS(wrt_memory_load_f32(memory, 0, NULL), WRT_INVALID_ARGUMENT);
  CHECK_STATUS(wrt_memory_load_f64(memory, 0, NULL), WRT_INVALID_ARGUMENT);
  CHECK_STATUS(wrt_memory_load_v128(memory, 0, NULL), WRT_INVALID_ARGUMENT);
  CHECK_STATUS(wrt_memory_store_v128(memory, 0, NULL), WRT_INVALID_ARGUMENT);
  CHECK_STATUS(wrt_memory_atomic_load_u8(memory, 0, NULL), WRT_INVALID_ARGUMENT);
  CHECK_STATUS(wrt_memory_atomic_load_u16(memory, 0, NULL), WRT_INVALID_ARGUMENT);
  CHECK_STATUS(wrt_memory_atomic_load_u32(memory, 0, NULL), WRT_INVALID_ARGUMENT);
  CHECK_STATUS(wrt_memory_atomic_load_u64(memory, 0, NULL), WRT_INVALID_ARGUMENT);
  CHECK_STATUS(wrt_memory_atomic_rmw_u8(memory, WRT_RMW_ADD, 0, 0, NULL), WRT_INVALID_ARGUMENT);
  CHECK_STATUS(wrt_memory_atomic_rmw_u16(memory, WRT_RMW_ADD, 0, 0, NULL), WRT_INVALID_ARGUMENT);
  CHECK_STATUS(wrt_memory_atomic_rmw_u32(memory, WRT_RMW_ADD, 0, 0, NULL), WRT_INVALID_ARGUMENT);
  CHECK_STATUS(wrt_memory_atomic_rmw_u64(memory, WRT_RMW_ADD, 0, 0, NULL), WRT_INVALID_ARGUMENT);
  CHECK_STATUS(wrt_memory_atomic_cmpxchg_u8(memory, 0, 0, 0, NULL), WRT_INVALID_ARGUMENT);
  CHECK_STATUS(wrt_memory_atomic_cmpxchg_u16(memory, 0, 0, 0, NULL), WRT_INVALID_ARGUMENT);
  CHECK_STATUS(wrt_memory_atomic_cmpxchg_u32(memory, 0, 0, 0, NULL), WRT_INVALID_ARGUMENT);
  CHECK_STATUS(wrt_memory_atomic_cmpxchg_u64(memory, 0, 0, 0, NULL), WRT_INVALID_ARGUMENT);
  CHECK_STATUS(wrt_memory_init(memory, 0, NULL, 1, 0, 0), WRT_INVALID_ARGUMENT);
  CHECK_STATUS(wrt_memory_wait32(memory, 0, 0, 0, NULL), WRT_INVALID_ARGUMENT);
  CHECK_STATUS(wrt_memory_wait64(memory, 0, 0, 0, NULL), WRT_INVALID_ARGUMENT);
  CHECK_STATUS(wrt_memory_notify(memory, 0, 1, NULL), WRT_INVALID_ARGUMENT);

  /* An rmw op outside wrt_rmw_op, and nothing written by it. */
  CHECK_OK(wrt_memory_store_u32(memory, 0, 7));
  CHECK_STATUS(wrt_memory_atomic_rmw_u32(memory, (wrt_rmw_op)6, 0, 1, &u32), WRT_INVALID_ARGUMENT);
  CHECK_STATUS(wrt_memory_atomic_rmw_u32(memory, (wrt_rmw_op)-1, 0, 1, &u32), WRT_INVALID_ARGUMENT);
  CHECK_OK(wrt_memory_load_u32(memory, 0, &u32));
  CHECK(u32 == 7);

  /* Empty buffers may be null. */
  CHECK_OK(wrt_memory_read(memory, 0, NULL, 0));
  CHECK_OK(wrt_memory_write(memory, 0, NULL, 0));
  CHECK_OK(wrt_memory_init(memory, 0, NULL, 0, 0, 0));
  CHECK_OK(wrt_memory_destroy(memory));
}

static void C1_NullTrapAndFutexArgumentsAreInvalidArgument(void) {
  wrt_trap trap;
  wrt_wait_result result;
  uint32_t word = 0;
  uint32_t woken;
  CHECK_STATUS(wrt_catch_traps(NULL, NULL, &trap), WRT_INVALID_ARGUMENT);
  CHECK_STATUS(wrt_futex_wait(NULL, 0, 0, &result), WRT_INVALID_ARGUMENT);
  CHECK_STATUS(wrt_futex_wait(&word, 0, 0, NULL), WRT_INVALID_ARGUMENT);
  CHECK_STATUS(wrt_futex_wake(NULL, 1, &woken), WRT_INVALID_ARGUMENT);
  CHECK_STATUS(wrt_futex_wake(&word, 1, NULL), WRT_INVALID_ARGUMENT);
}

static void mark_ran(void* context) { *(int*)context = 1; }

static void C1_CatchTrapsWithoutAnOutIsInvalidArgumentAndDoesNotRunTheBody(void) {
  int ran = 0;
  CHECK_STATUS(wrt_catch_traps(mark_ran, &ran, NULL), WRT_INVALID_ARGUMENT);
  CHECK(ran == 0);
}

int main(void) {
  RUN(C1_EveryStatusHasItsErrorCodeName);
  RUN(C1_LastErrorDescribesTheThreadsLastFailure);
  RUN(C1_NullAllocatorArgumentsAreInvalidArgument);
  RUN(C1_NullPoolAndImageArgumentsAreInvalidArgument);
  RUN(C1_NullMemoryArgumentsAreInvalidArgument);
  RUN(C1_NullTrapAndFutexArgumentsAreInvalidArgument);
  RUN(C1_CatchTrapsWithoutAnOutIsInvalidArgumentAndDoesNotRunTheBody);
  return 0;
}
