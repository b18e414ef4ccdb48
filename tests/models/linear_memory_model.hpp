// The byte-array model of a Wasm linear memory that the unit tests,
// property tests and fuzz harnesses check LinearMemory against (docs/SPEC.md
// E3-E5, W4): whether an access is in bounds, the error an atomic access
// gets, the little-endian bytes of a value, and what atomic_rmw and
// atomic_cmpxchg return and store. Written from the clauses, not from the
// implementation: bounds by a checked sum, values byte by byte.
//
// The model wraps modulo 2^N only through __builtin_*_overflow, so the asan
// preset's -fsanitize=integer checks it like any other code
// (sanitizers/ubsan-ignorelist.txt lists nothing of it).
#pragma once

#include <array>
#include <bit>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <type_traits>

#include "wrt/platform/error.hpp"
#include "wrt/platform/linear_memory.hpp"

namespace wrt::platform::models {

// address + size <= length, by a checked sum (not the implementation's trick).
inline bool fits(std::uint64_t address, std::uint64_t size, std::uint64_t length) {
  std::uint64_t end = 0;
  return !__builtin_add_overflow(address, size, &end) && end <= length;
}

// What E4 and W4 predict for an atomic access of `width` bytes at `address`
// of a memory of `length` bytes: Misaligned before OutOfBounds; nullopt when
// it succeeds.
inline std::optional<ErrorCode> atomic_error(std::uint64_t address, std::uint64_t width,
                                             std::uint64_t length) {
  if (address % width != 0) return ErrorCode::Misaligned;
  if (!fits(address, width, length)) return ErrorCode::OutOfBounds;
  return std::nullopt;
}

// What W4 predicts for atomic_wait32 (width 4) or atomic_wait64 (width 8):
// atomic_error's answer, then NotShared on an unshared memory.
inline std::optional<ErrorCode> wait_error(std::uint64_t address, std::uint64_t width,
                                           std::uint64_t length, bool shared) {
  if (auto error = atomic_error(address, width, length)) return error;
  if (!shared) return ErrorCode::NotShared;
  return std::nullopt;
}

// The T whose little-endian encoding is bytes[at, at + sizeof(T)): integers
// assembled byte by byte; float, double and V128 bit-cast (the hosts are
// little-endian).
template <typename T>
T load_le(std::span<const std::uint8_t> bytes, std::uint64_t at) {
  std::array<std::uint8_t, sizeof(T)> encoding;
  for (std::size_t i = 0; i < sizeof(T); ++i) encoding[i] = bytes[at + i];
  if constexpr (std::is_integral_v<T>) {
    T value = 0;
    for (std::size_t i = sizeof(T); i > 0; --i)
      value = static_cast<T>((value << 8) | encoding[i - 1]);
    return value;
  } else {
    return std::bit_cast<T>(encoding);
  }
}

// Writes the little-endian encoding of `value` to bytes[at, at + sizeof(T)).
template <typename T>
void store_le(std::span<std::uint8_t> bytes, std::uint64_t at, T value) {
  if constexpr (std::is_integral_v<T>) {
    for (std::size_t i = 0; i < sizeof(T); ++i)
      bytes[at + i] = static_cast<std::uint8_t>(static_cast<std::uint64_t>(value) >> (8 * i));
  } else {
    const auto encoding = std::bit_cast<std::array<std::uint8_t, sizeof(T)>>(value);
    for (std::size_t i = 0; i < sizeof(T); ++i) bytes[at + i] = encoding[i];
  }
}

// The value atomic_rmw(op, ...) stores over `old`; Add and Sub modulo 2^N.
template <std::unsigned_integral T>
T rmw_result(RmwOp op, T old, T value) {
  T result = value;  // Xchg
  switch (op) {
    case RmwOp::Add:
      (void)__builtin_add_overflow(old, value, &result);
      break;
    case RmwOp::Sub:
      (void)__builtin_sub_overflow(old, value, &result);
      break;
    case RmwOp::And:
      result = static_cast<T>(old & value);
      break;
    case RmwOp::Or:
      result = static_cast<T>(old | value);
      break;
    case RmwOp::Xor:
      result = static_cast<T>(old ^ value);
      break;
    case RmwOp::Xchg:
      break;
  }
  return result;
}

// The value atomic_cmpxchg(address, expected, replacement) stores over
// `old`: the replacement when old equals `expected`, else old unchanged.
template <std::unsigned_integral T>
T cmpxchg_result(T old, T expected, T replacement) {
  return old == expected ? replacement : old;
}

// atomic_rmw<T>(op, at, value) on the model `bytes` (in bounds and
// aligned): returns the old value and stores rmw_result, both little-endian.
template <std::unsigned_integral T>
T rmw(std::span<std::uint8_t> bytes, std::uint64_t at, RmwOp op, T value) {
  const T old = load_le<T>(bytes, at);
  store_le(bytes, at, rmw_result(op, old, value));
  return old;
}

// atomic_cmpxchg<T>(at, expected, replacement) on the model `bytes` (in
// bounds and aligned): returns the old value and stores cmpxchg_result.
template <std::unsigned_integral T>
T cmpxchg(std::span<std::uint8_t> bytes, std::uint64_t at, T expected, T replacement) {
  const T old = load_le<T>(bytes, at);
  store_le(bytes, at, cmpxchg_result(old, expected, replacement));
  return old;
}

}  // namespace wrt::platform::models
