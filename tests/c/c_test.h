/* A tiny assertion helper for the C ABI's tests (tests written in C, C2):
 * a failed check prints file:line and what failed, and exits 1. Include it
 * first: it asks for POSIX (clock_gettime) before any system header. */
#ifndef WRT_C_TEST_H_
#define WRT_C_TEST_H_

#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <wrt/platform.h>

#define CHECK(condition)                                                            \
  do {                                                                              \
    if (!(condition)) {                                                             \
      fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #condition); \
      exit(1);                                                                      \
    }                                                                               \
  } while (0)

/* `call` must return `expected`; on a mismatch prints both names and the
 * calling thread's wrt_last_error. */
#define CHECK_STATUS(call, expected) \
  c_test_check_status((call), (expected), __FILE__, __LINE__, #call)
#define CHECK_OK(call) CHECK_STATUS(call, WRT_OK)

static inline void c_test_check_status(wrt_status actual, wrt_status expected, const char* file,
                                       int line, const char* call) {
  if (actual == expected) return;
  wrt_error last;
  (void)wrt_last_error(&last);
  fprintf(stderr, "%s:%d: %s returned %s, expected %s (last error: %s, errno %d)\n", file, line,
          call, wrt_error_message(actual), wrt_error_message(expected), last.operation,
          last.os_errno);
  exit(1);
}

/* Runs one case, naming it, as GoogleTest would. */
#define RUN(test)                                \
  do {                                           \
    fprintf(stderr, "[ RUN      ] %s\n", #test); \
    test();                                      \
    fprintf(stderr, "[       OK ] %s\n", #test); \
  } while (0)

/* Generous: only a broken implementation takes this long, even under a
 * sanitizer, qemu or Wine on an oversubscribed machine (as
 * tests/deadline_test_support.hpp). */
#define C_TEST_PATIENCE_NS (20LL * 1000 * 1000 * 1000)

static inline long long c_test_now_ns(void) {
  struct timespec now;
  CHECK(clock_gettime(CLOCK_MONOTONIC, &now) == 0);
  return (long long)now.tv_sec * 1000000000LL + now.tv_nsec;
}

#endif /* WRT_C_TEST_H_ */
