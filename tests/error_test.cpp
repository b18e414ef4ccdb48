// Error and error_code_name(): the Names section of docs/SPEC.md.
#include <gtest/gtest.h>

#include <cerrno>
#include <cstring>
#include <string_view>
#include <utility>

#include "wrt/platform/error.hpp"

namespace wrt::platform {
namespace {

constexpr std::pair<ErrorCode, std::string_view> kNames[] = {
    {ErrorCode::InvalidArgument, "InvalidArgument"},
    {ErrorCode::AlreadyAllocated, "AlreadyAllocated"},
    {ErrorCode::NotAllocated, "NotAllocated"},
    {ErrorCode::StateMismatch, "StateMismatch"},
    {ErrorCode::PointerMismatch, "PointerMismatch"},
    {ErrorCode::CapacityExceeded, "CapacityExceeded"},
    {ErrorCode::OutOfBounds, "OutOfBounds"},
    {ErrorCode::Misaligned, "Misaligned"},
    {ErrorCode::OutOfMemory, "OutOfMemory"},
    {ErrorCode::SystemError, "SystemError"},
    {ErrorCode::Unsupported, "Unsupported"},
    {ErrorCode::NotShared, "NotShared"},
};

TEST(ErrorNames, Names_EveryCodeIsNamedAfterItsEnumerator) {
  for (const auto& [code, name] : kNames) {
    const char* got = error_code_name(code);
    ASSERT_NE(got, nullptr);
    EXPECT_EQ(std::string_view(got), name);
  }
}

TEST(ErrorNames, Names_AValueOutsideTheEnumIsUnknownNotNull) {
  // An ErrorCode read from a corrupted or newer source: still printable.
  const char* got = error_code_name(static_cast<ErrorCode>(1000));
  ASSERT_NE(got, nullptr);
  EXPECT_STREQ(got, "Unknown");
}

TEST(ErrorValue, Names_CarriesCodeErrnoAndMessage) {
  static constexpr char kMessage[] = "mmap: reserve failed";
  const Error e(ErrorCode::OutOfMemory, kMessage, ENOMEM);
  EXPECT_EQ(e.code(), ErrorCode::OutOfMemory);
  EXPECT_EQ(e.os_errno(), ENOMEM);
  EXPECT_EQ(e.message(), kMessage);
  EXPECT_EQ(Error(ErrorCode::OutOfBounds, kMessage).os_errno(), 0);
}

TEST(ErrorValue, Names_MessageIsNeverNull) {
  const Error e(ErrorCode::SystemError, nullptr, EIO);
  ASSERT_NE(e.message(), nullptr);
  EXPECT_GT(std::strlen(e.message()), 0u);
}

TEST(ErrorValue, Names_ErrorsCompareByCodeAndErrnoNotMessage) {
  EXPECT_EQ(Error(ErrorCode::SystemError, "a", EIO), Error(ErrorCode::SystemError, "b", EIO));
  EXPECT_NE(Error(ErrorCode::SystemError, "a", EIO), Error(ErrorCode::SystemError, "a", EBADF));
  EXPECT_NE(Error(ErrorCode::SystemError, "a", EIO), Error(ErrorCode::OutOfMemory, "a", EIO));
}

}  // namespace
}  // namespace wrt::platform
