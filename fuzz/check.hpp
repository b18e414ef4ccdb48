// What a fuzz harness does when the library disagrees with the model: print
// what was expected and where, then abort, so that libFuzzer (and the corpus
// replay test) reports the input as a finding. A mismatch is a bug, never a
// skipped input.
#pragma once

#include <cstdio>
#include <cstdlib>

namespace wrt::platform::fuzz {

[[noreturn]] inline void fail_check(const char* condition, const char* file, int line) {
  std::fprintf(stderr, "\nFUZZ MODEL MISMATCH: %s\n  at %s:%d\n", condition, file, line);
  std::fflush(stderr);
  std::abort();
}

}  // namespace wrt::platform::fuzz

// Checks `condition` in every build (never compiled out, unlike assert).
#define FUZZ_CHECK(condition)                                                            \
  do {                                                                                   \
    if (!(condition)) ::wrt::platform::fuzz::fail_check(#condition, __FILE__, __LINE__); \
  } while (false)
