#include "wrt/platform/error.hpp"

namespace wrt::platform {

const char* error_code_name(ErrorCode code) noexcept {
  switch (code) {
    case ErrorCode::InvalidArgument:
      return "InvalidArgument";
    case ErrorCode::AlreadyAllocated:
      return "AlreadyAllocated";
    case ErrorCode::NotAllocated:
      return "NotAllocated";
    case ErrorCode::StateMismatch:
      return "StateMismatch";
    case ErrorCode::PointerMismatch:
      return "PointerMismatch";
    case ErrorCode::CapacityExceeded:
      return "CapacityExceeded";
    case ErrorCode::OutOfBounds:
      return "OutOfBounds";
    case ErrorCode::Misaligned:
      return "Misaligned";
    case ErrorCode::OutOfMemory:
      return "OutOfMemory";
    case ErrorCode::SystemError:
      return "SystemError";
    case ErrorCode::Unsupported:
      return "Unsupported";
    case ErrorCode::NotShared:
      return "NotShared";
  }
  return "Unknown";
}

}  // namespace wrt::platform
