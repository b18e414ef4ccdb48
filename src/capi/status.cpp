// wrt_status, wrt_error_message and the calling thread's last failure.
#include <type_traits>

#include "capi/capi.hpp"

namespace wrt::platform::capi {
namespace {

// The C enum is the ErrorCode enum shifted by one for WRT_OK.
constexpr wrt_status status_for(ErrorCode code) noexcept {
  return static_cast<wrt_status>(static_cast<int>(code) + 1);
}
static_assert(status_for(ErrorCode::InvalidArgument) == WRT_INVALID_ARGUMENT);
static_assert(status_for(ErrorCode::AlreadyAllocated) == WRT_ALREADY_ALLOCATED);
static_assert(status_for(ErrorCode::NotAllocated) == WRT_NOT_ALLOCATED);
static_assert(status_for(ErrorCode::StateMismatch) == WRT_STATE_MISMATCH);
static_assert(status_for(ErrorCode::PointerMismatch) == WRT_POINTER_MISMATCH);
static_assert(status_for(ErrorCode::CapacityExceeded) == WRT_CAPACITY_EXCEEDED);
static_assert(status_for(ErrorCode::OutOfBounds) == WRT_OUT_OF_BOUNDS);
static_assert(status_for(ErrorCode::Misaligned) == WRT_MISALIGNED);
static_assert(status_for(ErrorCode::OutOfMemory) == WRT_OUT_OF_MEMORY);
static_assert(status_for(ErrorCode::SystemError) == WRT_SYSTEM_ERROR);
static_assert(status_for(ErrorCode::Unsupported) == WRT_UNSUPPORTED);
static_assert(status_for(ErrorCode::NotShared) == WRT_NOT_SHARED);

thread_local wrt_error last_error{WRT_OK, 0, "no error"};

}  // namespace

wrt_status fail(ErrorCode code, const char* message, int os_errno) noexcept {
  last_error = {status_for(code), os_errno, message};
  return last_error.status;
}

wrt_status invalid(const char* operation) noexcept {
  return fail(ErrorCode::InvalidArgument, operation, 0);
}

}  // namespace wrt::platform::capi

extern "C" {

const char* wrt_error_message(wrt_status status) WRT_NOEXCEPT {
  const auto raw = wrt::platform::capi::raw_value(status);
  if (raw == WRT_OK) return "OK";
  if (raw < WRT_INVALID_ARGUMENT || raw > WRT_NOT_SHARED) return "unknown wrt_status";
  return wrt::platform::error_code_name(static_cast<wrt::platform::ErrorCode>(raw - 1));
}

wrt_status wrt_last_error(wrt_error* out) WRT_NOEXCEPT {
  if (out == nullptr) return WRT_INVALID_ARGUMENT;
  *out = wrt::platform::capi::last_error;
  return WRT_OK;
}

}  // extern "C"
