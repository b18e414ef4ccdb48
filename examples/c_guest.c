/* examples/shared_guest.cpp in C, through the C ABI (wrt/platform.h) only,
 * as a runtime written in C would run a guest: two threads share a memory
 * and hand work to each other through a mailbox with
 * memory.atomic.wait32/notify, a third grows the memory while they work,
 * and an access past the end, made without a bounds check as compiled code
 * would make it, comes back as a trap. Prints what happened; exits non-zero
 * on the first surprise. */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <wrt/platform.h>

/* The guest's mailbox, in linear memory. */
enum { kState = 0, kArgument = 4, kResult = 8 }; /* u32, u32, u64 */
enum { kEmpty, kPosted, kDone, kQuit };          /* the states */

static int failed(const char* what) {
  fprintf(stderr, "c_guest: %s\n", what);
  return 1;
}

/* The guest's "compute" function: the sum of the squares 1..n. */
static uint64_t sum_of_squares(uint32_t n) {
  uint64_t sum = 0;
  for (uint64_t i = 1; i <= n; ++i) sum += i * i;
  return sum;
}

/* Waits (memory.atomic.wait32, no timeout) until the state leaves `from`. */
static uint32_t wait_while(wrt_memory* memory, uint32_t from) {
  for (;;) {
    uint32_t state = kQuit;
    wrt_wait_result result;
    if (wrt_memory_atomic_load_u32(memory, kState, &state) != WRT_OK || state != from) return state;
    (void)wrt_memory_wait32(memory, kState, from, -1, &result); /* then look again */
  }
}

static void set_state(wrt_memory* memory, uint32_t state) {
  uint32_t woken;
  (void)wrt_memory_atomic_store_u32(memory, kState, state);
  (void)wrt_memory_notify(memory, kState, 1, &woken);
}

/* Thread 2: answers each job posted in the mailbox until told to quit. */
static void* worker(void* context) {
  wrt_memory* memory = context;
  for (uint32_t state = kEmpty;;) {
    state = wait_while(memory, state);
    if (state == kQuit) return NULL;
    if (state != kPosted) continue;
    uint32_t n = 0;
    (void)wrt_memory_load_u32(memory, kArgument, &n);
    (void)wrt_memory_store_u64(memory, kResult, sum_of_squares(n));
    set_state(memory, kDone);
    state = kDone;
  }
}

/* Thread 3: memory.grow(2) while the others work, and a marker in the
 * first new page. */
static void* grower(void* context) {
  wrt_memory* memory = context;
  uint64_t previous;
  if (wrt_memory_grow(memory, 2, &previous) == WRT_OK)
    (void)wrt_memory_store_u32(memory, previous * WRT_WASM_PAGE_SIZE, 0x600d);
  return NULL;
}

/* An unchecked 32-bit load, as code relying on the guard region makes it. */
static void unchecked_load(void* address) { (void)*(volatile const uint32_t*)address; }

int main(void) {
  if (wrt_install_trap_handler() != WRT_OK) return failed("wrt_install_trap_handler");
  wrt_allocator_config config = {16, WRT_WASM_PAGE_SIZE, 0};
  wrt_memory_type type = {1, 16, true, true, WRT_INDEX_I32, WRT_WASM_PAGE_SIZE};
  wrt_allocator* allocator;
  wrt_memory* memory;
  if (wrt_mmap_allocator_create(&config, &allocator) != WRT_OK) return failed("allocator");
  if (wrt_memory_create(&allocator, &type, &memory) != WRT_OK) return failed("memory");
  printf("c_guest: shared memory of 1 page, maximum 16\n");

  pthread_t threads[2];
  if (pthread_create(&threads[0], NULL, worker, memory) != 0 ||
      pthread_create(&threads[1], NULL, grower, memory) != 0)
    return failed("threads");
  int status = 0;
  const uint32_t jobs[] = {10, 100, 1000};
  for (size_t i = 0; i < sizeof jobs / sizeof jobs[0]; ++i) {
    uint64_t result = 0;
    if (wrt_memory_store_u32(memory, kArgument, jobs[i]) != WRT_OK) return failed("store");
    set_state(memory, kPosted);
    wait_while(memory, kPosted);
    if (wrt_memory_load_u64(memory, kResult, &result) != WRT_OK) return failed("load");
    printf("c_guest: worker: sum of squares 1..%" PRIu32 " = %" PRIu64 "\n", jobs[i], result);
    if (result != sum_of_squares(jobs[i])) status = failed("wrong result from the worker");
    set_state(memory, kEmpty);
  }
  set_state(memory, kQuit);
  pthread_join(threads[0], NULL);
  pthread_join(threads[1], NULL);
  uint64_t pages = 0, bytes = 0;
  uint32_t marker = 0;
  (void)wrt_memory_size(memory, &pages);
  (void)wrt_memory_load_u32(memory, WRT_WASM_PAGE_SIZE, &marker);
  if (pages != 3 || marker != 0x600d) status = failed("grow did not take effect");
  printf("c_guest: grower: memory.grow(2) -> %" PRIu64 " pages\n", pages);

  /* The first byte past the committed pages: a trap, and the memory stays usable. */
  void* data;
  wrt_trap trap;
  (void)wrt_memory_data(memory, &data);
  (void)wrt_memory_byte_length(memory, &bytes);
  uint8_t* past_end = (uint8_t*)data + bytes;
  if (wrt_catch_traps(unchecked_load, past_end, &trap) != WRT_OK ||
      trap.kind != WRT_TRAP_MEMORY_OUT_OF_BOUNDS || trap.address != past_end)
    status = failed("the load past the end did not trap at its address");
  else
    printf("c_guest: i32.load at %" PRIu64 " -> trap: memory out of bounds\n", bytes);
  if (wrt_memory_load_u32(memory, bytes, &marker) != WRT_OUT_OF_BOUNDS)
    status = failed("the checked load past the end was not WRT_OUT_OF_BOUNDS");
  (void)wrt_memory_destroy(memory);
  return status;
}
