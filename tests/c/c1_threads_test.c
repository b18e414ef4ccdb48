/* C1: memory.atomic.wait32/wait64/notify and the futex across threads
 * (W3, W5, W6; F section), with POSIX threads (winpthreads on Windows). Every
 * cross-thread wait has a deadline whose miss fails the test: the waiters
 * sleep at most C_TEST_PATIENCE_NS, and the notifier gives up after as long. */
#include "c_test.h"

#include <pthread.h>
#include <sched.h>

#define PAGE WRT_WASM_PAGE_SIZE

static wrt_memory* new_shared_memory(uint64_t initial, uint64_t maximum) {
  wrt_memory_type type = {initial, maximum, true, true, WRT_INDEX_I32, PAGE};
  wrt_allocator* allocator;
  wrt_memory* memory;
  CHECK_OK(wrt_mmap_allocator_create(NULL, &allocator));
  CHECK_OK(wrt_memory_create(&allocator, &type, &memory));
  return memory;
}

typedef struct waiter {
  wrt_memory* memory;
  uint64_t address;
  bool wide;
  wrt_status status;
  wrt_wait_result result;
} waiter;

static void* wait_on_memory(void* context) {
  waiter* w = context;
  w->status = w->wide ? wrt_memory_wait64(w->memory, w->address, 0, C_TEST_PATIENCE_NS, &w->result)
                      : wrt_memory_wait32(w->memory, w->address, 0, C_TEST_PATIENCE_NS, &w->result);
  return NULL;
}

/* Notifies `address` until one waiter was woken, or fails at the deadline. */
static void notify_one_waiter(wrt_memory* memory, uint64_t address) {
  const long long give_up = c_test_now_ns() + C_TEST_PATIENCE_NS;
  uint32_t woken = 0;
  while (woken == 0) {
    CHECK(c_test_now_ns() < give_up); /* the waiter never started waiting */
    CHECK_OK(wrt_memory_notify(memory, address, 1, &woken));
    sched_yield();
  }
  CHECK(woken == 1);
}

static void check_woken(const waiter* w) {
  CHECK_OK(w->status);
  CHECK(w->result == WRT_WAIT_WOKEN); /* TIMED_OUT: the notify never reached it */
}

static void C1_Wait32AndWait64AreWokenByNotifyFromAnotherThread(void) {
  wrt_memory* memory = new_shared_memory(1, 1);
  for (int wide = 0; wide <= 1; ++wide) {
    waiter w = {memory, 64, wide, WRT_SYSTEM_ERROR, WRT_WAIT_TIMED_OUT};
    pthread_t thread;
    CHECK(pthread_create(&thread, NULL, wait_on_memory, &w) == 0);
    notify_one_waiter(memory, 64);
    CHECK(pthread_join(thread, NULL) == 0);
    check_woken(&w);
  }
  CHECK_OK(wrt_memory_destroy(memory));
}

static void C1_NotifyWakesOnlyWaitersOnItsAddress(void) {
  wrt_memory* memory = new_shared_memory(1, 1);
  waiter here = {memory, 8, false, WRT_SYSTEM_ERROR, WRT_WAIT_TIMED_OUT};
  waiter there = {memory, 16, false, WRT_SYSTEM_ERROR, WRT_WAIT_TIMED_OUT};
  pthread_t threads[2];
  CHECK(pthread_create(&threads[0], NULL, wait_on_memory, &here) == 0);
  CHECK(pthread_create(&threads[1], NULL, wait_on_memory, &there) == 0);
  notify_one_waiter(memory, 8);
  CHECK(pthread_join(threads[0], NULL) == 0);
  check_woken(&here);
  /* W8: the waiter on 16 is still there for its own notify. */
  notify_one_waiter(memory, 16);
  CHECK(pthread_join(threads[1], NULL) == 0);
  check_woken(&there);
  CHECK_OK(wrt_memory_destroy(memory));
}

typedef struct grower {
  wrt_memory* memory;
  wrt_status status;
} grower;

static void* grow_by_one(void* context) {
  grower* g = context;
  uint64_t previous;
  g->status = wrt_memory_grow(g->memory, 1, &previous);
  return NULL;
}

static void C1_ConcurrentGrowsOfASharedMemoryEachTakeOnePage(void) {
  enum { kThreads = 4 };
  wrt_memory* memory = new_shared_memory(1, 1 + kThreads);
  grower growers[kThreads];
  pthread_t threads[kThreads];
  for (int i = 0; i < kThreads; ++i) {
    growers[i] = (grower){memory, WRT_SYSTEM_ERROR};
    CHECK(pthread_create(&threads[i], NULL, grow_by_one, &growers[i]) == 0);
  }
  for (int i = 0; i < kThreads; ++i) {
    CHECK(pthread_join(threads[i], NULL) == 0);
    CHECK_OK(growers[i].status);
  }
  uint64_t pages;
  CHECK_OK(wrt_memory_size(memory, &pages));
  CHECK(pages == 1 + kThreads);
  CHECK_OK(wrt_memory_store_u32(memory, (1 + kThreads) * (uint64_t)PAGE - 4, 1));
  CHECK_OK(wrt_memory_destroy(memory));
}

typedef struct futex_waiter {
  const uint32_t* word;
  wrt_status status;
  wrt_wait_result result;
} futex_waiter;

static void* wait_on_futex(void* context) {
  futex_waiter* w = context;
  w->status = wrt_futex_wait(w->word, 0, C_TEST_PATIENCE_NS, &w->result);
  return NULL;
}

static void C1_FutexWaitIsWokenByWakeFromAnotherThread(void) {
  static uint32_t word; /* static: 4-byte aligned, outlives the waiter */
  wrt_wait_result result;
  uint32_t woken = 99;
  CHECK_OK(wrt_futex_wait(&word, 1, -1, &result));
  CHECK(result == WRT_WAIT_NOT_EQUAL);
  CHECK_OK(wrt_futex_wait(&word, 0, 0, &result));
  CHECK(result == WRT_WAIT_TIMED_OUT);
  CHECK_STATUS(wrt_futex_wait((const uint32_t*)((const char*)&word + 1), 0, 0, &result),
               WRT_MISALIGNED);
  CHECK_OK(wrt_futex_wake(&word, 1, &woken));
  CHECK(woken == 0);

  futex_waiter w = {&word, WRT_SYSTEM_ERROR, WRT_WAIT_TIMED_OUT};
  pthread_t thread;
  CHECK(pthread_create(&thread, NULL, wait_on_futex, &w) == 0);
  const long long give_up = c_test_now_ns() + C_TEST_PATIENCE_NS;
  woken = 0;
  while (woken == 0) {
    CHECK(c_test_now_ns() < give_up);
    CHECK_OK(wrt_futex_wake(&word, UINT32_MAX, &woken));
    sched_yield();
  }
  CHECK(pthread_join(thread, NULL) == 0);
  CHECK_OK(w.status);
  /* Woken may be spurious in general, but TimedOut means the wake was lost. */
  CHECK(w.result == WRT_WAIT_WOKEN);
}

int main(void) {
  RUN(C1_Wait32AndWait64AreWokenByNotifyFromAnotherThread);
  RUN(C1_NotifyWakesOnlyWaitersOnItsAddress);
  RUN(C1_ConcurrentGrowsOfASharedMemoryEachTakeOnePage);
  RUN(C1_FutexWaitIsWokenByWakeFromAnotherThread);
  return 0;
}
