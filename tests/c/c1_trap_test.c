/* C1: traps through the C ABI (T section): without the handler the body
 * does not run; with it, an access in a memory's guard region comes back as
 * WRT_TRAP_MEMORY_OUT_OF_BOUNDS at the faulting address, and the thread can
 * trap again. */
#include "c_test.h"

#define PAGE WRT_WASM_PAGE_SIZE

typedef struct access {
  volatile uint8_t* address;
  int reached_the_end;
} access;

static void touch(void* context) {
  access* a = context;
  *a->address = 1; /* as compiled code without a bounds check would */
  a->reached_the_end = 1;
}

static void C1_WithoutTheHandlerTheBodyDoesNotRun(void) {
  access a = {NULL, 0};
  wrt_trap trap;
  CHECK_OK(wrt_catch_traps(touch, &a, &trap));
  CHECK(trap.kind == WRT_TRAP_HANDLER_NOT_INSTALLED && trap.address == NULL);
  CHECK(a.reached_the_end == 0);
}

static void C1_AnAccessInTheGuardRegionIsATrap(void) {
  CHECK_OK(wrt_install_trap_handler());
  CHECK_OK(wrt_install_trap_handler()); /* idempotent */
  wrt_allocator_config config = {2, PAGE, 0};
  wrt_allocator* allocator;
  CHECK_OK(wrt_mmap_allocator_create(&config, &allocator));
  wrt_memory_type type = {1, 2, true, false, WRT_INDEX_I32, PAGE};
  wrt_memory* memory;
  CHECK_OK(wrt_memory_create(&allocator, &type, &memory));
  void* data;
  CHECK_OK(wrt_memory_data(memory, &data));
  uint8_t* base = data;

  access inside = {base + PAGE - 1, 0};
  wrt_trap trap;
  CHECK_OK(wrt_catch_traps(touch, &inside, &trap));
  CHECK(trap.kind == WRT_TRAP_NONE && trap.address == NULL && inside.reached_the_end == 1);

  /* Reserved but not committed, then the guard after the reservation. */
  uint8_t* const targets[] = {base + PAGE, base + 2 * PAGE + 7};
  for (int i = 0; i < 2; ++i) {
    access past = {targets[i], 0};
    CHECK_OK(wrt_catch_traps(touch, &past, &trap));
    CHECK(trap.kind == WRT_TRAP_MEMORY_OUT_OF_BOUNDS);
    CHECK(trap.address == targets[i]);
    CHECK(past.reached_the_end == 0);
  }
  CHECK_OK(wrt_memory_destroy(memory));
}

int main(void) {
  RUN(C1_WithoutTheHandlerTheBodyDoesNotRun);
  RUN(C1_AnAccessInTheGuardRegionIsATrap);
  return 0;
}
