/* A C program built only against the installed package, through pkg-config
 * (scripts/check-install.sh; docs/SPEC.md C2): creates a shared memory,
 * grows it, waits and notifies across threads and catches a trap, checking
 * every status; exits non-zero on the first surprise. */
#define _POSIX_C_SOURCE 200809L

#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <time.h>
#include <wrt/platform.h>

#define PATIENCE_NS (20LL * 1000 * 1000 * 1000)

static int failed(const char* what, wrt_status status) {
  fprintf(stderr, "c consumer: %s: %s\n", what, wrt_error_message(status));
  return 1;
}

static long long now_ns(void) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (long long)now.tv_sec * 1000000000LL + now.tv_nsec;
}

typedef struct waiter {
  wrt_memory* memory;
  wrt_status status;
  wrt_wait_result result;
} waiter;

static void* wait_for_notify(void* context) {
  waiter* w = context;
  w->status = wrt_memory_wait32(w->memory, 0, 0, PATIENCE_NS, &w->result);
  return NULL;
}

static void load_past_end(void* context) {
  volatile const uint32_t* past_end = context;
  (void)*past_end;
}

int main(void) {
  wrt_status status;
  wrt_allocator* allocator;
  wrt_memory* memory;
  wrt_allocator_config config = {16, WRT_WASM_PAGE_SIZE, 0};
  wrt_memory_type type = {1, 4, true, true, WRT_INDEX_I32, WRT_WASM_PAGE_SIZE};
  if ((status = wrt_install_trap_handler()) != WRT_OK) return failed("trap handler", status);
  if ((status = wrt_mmap_allocator_create(&config, &allocator)) != WRT_OK)
    return failed("allocator", status);
  if ((status = wrt_memory_create(&allocator, &type, &memory)) != WRT_OK)
    return failed("memory", status);

  uint64_t previous, pages;
  if ((status = wrt_memory_grow(memory, 2, &previous)) != WRT_OK) return failed("grow", status);
  if ((status = wrt_memory_size(memory, &pages)) != WRT_OK) return failed("size", status);
  if (previous != 1 || pages != 3) return failed("grow did not take effect", WRT_OK);
  printf("c consumer: shared memory grown from %llu to %llu pages\n", (unsigned long long)previous,
         (unsigned long long)pages);

  waiter w = {memory, WRT_SYSTEM_ERROR, WRT_WAIT_TIMED_OUT};
  pthread_t thread;
  if (pthread_create(&thread, NULL, wait_for_notify, &w) != 0) return failed("thread", WRT_OK);
  const long long give_up = now_ns() + PATIENCE_NS;
  uint32_t woken = 0;
  while (woken == 0 && now_ns() < give_up) {
    if ((status = wrt_memory_notify(memory, 0, 1, &woken)) != WRT_OK)
      return failed("notify", status);
    sched_yield();
  }
  pthread_join(thread, NULL);
  if (w.status != WRT_OK) return failed("wait32", w.status);
  if (woken != 1 || w.result != WRT_WAIT_WOKEN) return failed("the waiter was not woken", WRT_OK);
  printf("c consumer: memory.atomic.wait32 on another thread woken by notify\n");

  void* data;
  uint64_t bytes;
  wrt_trap trap;
  if ((status = wrt_memory_data(memory, &data)) != WRT_OK) return failed("data", status);
  if ((status = wrt_memory_byte_length(memory, &bytes)) != WRT_OK)
    return failed("byte_length", status);
  uint8_t* past_end = (uint8_t*)data + bytes;
  if ((status = wrt_catch_traps(load_past_end, past_end, &trap)) != WRT_OK)
    return failed("catch_traps", status);
  if (trap.kind != WRT_TRAP_MEMORY_OUT_OF_BOUNDS || trap.address != past_end)
    return failed("the load past the end did not trap at its address", WRT_OK);
  printf("c consumer: i32.load past the end -> trap: memory out of bounds\n");

  uint32_t word;
  if (wrt_memory_load_u32(memory, bytes, &word) != WRT_OUT_OF_BOUNDS)
    return failed("a checked load past the end was not WRT_OUT_OF_BOUNDS", WRT_OK);
  if ((status = wrt_memory_destroy(memory)) != WRT_OK) return failed("destroy", status);
  return 0;
}
