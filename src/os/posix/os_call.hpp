// How every POSIX call site in src/os/ asks the seam first and reports a
// failure: shared by os_memory.cpp and os_pool.cpp.
#pragma once

#include <cerrno>

#include "os/seam.hpp"
#include "wrt/platform/error.hpp"

namespace wrt::platform::prim {

// Makes the call unless the seam fails it. Returns 0 on success, else the
// errno, read before anything else can overwrite it.
template <typename Call>
int os_call(OsCall which, Call&& call) noexcept {
  if (const int injected = intercept(which)) return injected;
  return call() ? 0 : errno;
}

// ENOMEM -> OutOfMemory, anything else -> SystemError, with the errno.
inline Error os_error(int error, const char* message) noexcept {
  return Error(error == ENOMEM ? ErrorCode::OutOfMemory : ErrorCode::SystemError, message, error);
}

}  // namespace wrt::platform::prim
