// Error reporting for every fallible call in wrt-platform.
//
// The library builds with -fno-exceptions: a call that can fail returns
// Result<T>, a tl::expected holding either the value or an Error. An Error
// says what went wrong (ErrorCode), which operation failed (a static message)
// and, when the OS refused, the errno read immediately after the failing call.
#pragma once

#include <tl/expected.hpp>

namespace wrt::platform {

enum class ErrorCode {
  InvalidArgument,   // an argument is outside its documented domain
  AlreadyAllocated,  // allocate() on an allocator that already holds a memory
  NotAllocated,      // grow()/deallocate() on an allocator that holds no memory
  StateMismatch,     // the caller's view (e.g. current_pages) differs from ours
  PointerMismatch,   // deallocate() with a pointer or size we did not hand out
  CapacityExceeded,  // a request beyond a limit, or byte arithmetic that would overflow
  OutOfBounds,       // a memory access past the committed bytes
  Misaligned,        // an address or offset without the required alignment
  OutOfMemory,       // the OS answered ENOMEM
  SystemError,       // the OS failed with another errno (see Error::os_errno)
  Unsupported,       // the platform cannot do this
  NotShared,         // memory.atomic.wait on a memory that is not shared
};

// Returns the enumerator's name ("InvalidArgument", ...); never null.
const char* error_code_name(ErrorCode code) noexcept;

class Error {
 public:
  // `message` must have static storage duration and name the operation.
  constexpr Error(ErrorCode code, const char* message, int os_errno = 0) noexcept
      : code_(code),
        message_(message != nullptr ? message : "wrt-platform error"),
        os_errno_(os_errno) {}

  constexpr ErrorCode code() const noexcept { return code_; }
  // The errno of the failing OS call; 0 when the OS was not involved.
  constexpr int os_errno() const noexcept { return os_errno_; }
  // Static text naming the failing operation; never null.
  constexpr const char* message() const noexcept { return message_; }

  // Errors compare by code and errno; the message is informative only.
  friend constexpr bool operator==(const Error& a, const Error& b) noexcept {
    return a.code_ == b.code_ && a.os_errno_ == b.os_errno_;
  }

 private:
  ErrorCode code_;
  const char* message_;
  int os_errno_;
};

template <typename T>
using Result = tl::expected<T, Error>;

}  // namespace wrt::platform
