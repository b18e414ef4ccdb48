// How LinearMemory moves bytes in and out of a memory after its checks
// (docs/SPEC.md, E3-E5). Internal, but installed because the public
// templates use it.
//
// Unshared memories: plain memcpy / memmove / memset. A shared memory may be
// accessed by several threads at once; WebAssembly allows its racing plain
// accesses (a racing value may tear) but in C++ they would be data races, so
// every byte of a shared memory is touched through relaxed std::atomic_ref:
// an aligned access of 2, 4 or 8 bytes (and each aligned half of a V128) as
// one relaxed atomic of that width, bulk operations 8 aligned bytes at a
// time, anything else byte by byte. TSan then
// sees no race, and an aligned plain access never tears against an atomic
// one of the same width.
#pragma once

#include <algorithm>
#include <array>
#include <atomic>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "wrt/platform/memory_type.hpp"

namespace wrt::platform::detail {

template <std::size_t N>
using Bytes = std::array<std::byte, N>;

// The unsigned integer of N bytes (N = 1, 2, 4, 8).
template <std::size_t N>
using UintOf = std::conditional_t<
    N == 1, std::uint8_t,
    std::conditional_t<N == 2, std::uint16_t,
                       std::conditional_t<N == 4, std::uint32_t, std::uint64_t>>>;

// The WebAssembly byte order on every host: a value is stored as its
// little-endian bytes; a V128 is its bytes in memory order.
template <typename T>
constexpr T from_little_endian(Bytes<sizeof(T)> bytes) noexcept {
  if constexpr (std::endian::native == std::endian::big && !std::is_same_v<T, V128>)
    std::reverse(bytes.begin(), bytes.end());
  return std::bit_cast<T>(bytes);
}
template <typename T>
constexpr Bytes<sizeof(T)> to_little_endian(T value) noexcept {
  auto bytes = std::bit_cast<Bytes<sizeof(T)>>(value);
  if constexpr (std::endian::native == std::endian::big && !std::is_same_v<T, V128>)
    std::reverse(bytes.begin(), bytes.end());
  return bytes;
}

// The Word-sized object at `p` (a shared memory's bytes are never const
// objects; atomic_ref needs a non-const referent).
template <typename Word>
std::atomic_ref<Word> word_at(const std::byte* p) noexcept {
  return std::atomic_ref<Word>(*reinterpret_cast<Word*>(const_cast<std::byte*>(p)));
}

inline std::byte load_relaxed(const std::byte* p) noexcept {
  return std::byte{word_at<std::uint8_t>(p).load(std::memory_order_relaxed)};
}
inline void store_relaxed(std::byte* p, std::byte value) noexcept {
  word_at<std::uint8_t>(p).store(std::to_integer<std::uint8_t>(value), std::memory_order_relaxed);
}

// The N bytes at `p`, in memory order.
template <std::size_t N>
Bytes<N> load_bytes(const std::byte* p, bool shared) noexcept {
  Bytes<N> out;
  if (!shared) [[likely]] {
    std::memcpy(out.data(), p, N);
    return out;
  }
  constexpr std::size_t kWord = N < 8 ? N : 8;
  if (reinterpret_cast<std::uintptr_t>(p) % kWord != 0) {
    for (std::size_t i = 0; i < N; ++i) out[i] = load_relaxed(p + i);
    return out;
  }
  for (std::size_t i = 0; i < N; i += kWord) {
    const auto word = word_at<UintOf<kWord>>(p + i).load(std::memory_order_relaxed);
    std::memcpy(out.data() + i, &word, kWord);
  }
  return out;
}

// Writes `bytes` (memory order) to `p`.
template <std::size_t N>
void store_bytes(std::byte* p, const Bytes<N>& bytes, bool shared) noexcept {
  if (!shared) [[likely]] {
    std::memcpy(p, bytes.data(), N);
    return;
  }
  constexpr std::size_t kWord = N < 8 ? N : 8;
  if (reinterpret_cast<std::uintptr_t>(p) % kWord != 0) {
    for (std::size_t i = 0; i < N; ++i) store_relaxed(p + i, bytes[i]);
    return;
  }
  for (std::size_t i = 0; i < N; i += kWord) {
    UintOf<kWord> word;
    std::memcpy(&word, bytes.data() + i, kWord);
    word_at<UintOf<kWord>>(p + i).store(word, std::memory_order_relaxed);
  }
}

// The T stored little-endian at `p`. An unshared memory on a little-endian
// host reads it with one memcpy straight into a T, which compilers make a
// single load; through load_bytes' byte array (whose shared path assembles
// bytes) clang 14 rebuilt every value from its four bytes, 4.4x slower than a
// raw load (docs/BENCHMARKS.md).
template <typename T>
T load_value(const std::byte* p, bool shared) noexcept {
  if constexpr (std::endian::native == std::endian::little) {
    if (!shared) [[likely]] {
      T value;
      std::memcpy(&value, p, sizeof(T));
      return value;
    }
  }
  return from_little_endian<T>(load_bytes<sizeof(T)>(p, shared));
}

// Stores `value` little-endian at `p` (the counterpart of load_value).
template <typename T>
void store_value(std::byte* p, T value, bool shared) noexcept {
  if constexpr (std::endian::native == std::endian::little) {
    if (!shared) [[likely]] {
      std::memcpy(p, &value, sizeof(T));
      return;
    }
  }
  store_bytes(p, to_little_endian(value), shared);
}

// Visits [0, length) in chunks: single bytes up to the first 8-byte
// boundary of `aligned_side`, then whole 8-byte words, then the remaining
// bytes; calls chunk(i, width) with width a std::integral_constant of 1 or
// 8, in increasing order of i, or decreasing when `forward` is false.
template <typename Chunk>
void for_each_chunk(const std::byte* aligned_side, std::size_t length, bool forward,
                    Chunk chunk) noexcept {
  constexpr std::integral_constant<std::size_t, 1> kByte;
  constexpr std::integral_constant<std::size_t, 8> kWord;
  const std::size_t misalignment = reinterpret_cast<std::uintptr_t>(aligned_side) % kWord;
  const std::size_t head = std::min(length, misalignment == 0 ? 0 : kWord - misalignment);
  const std::size_t words_end = head + (length - head) / kWord * kWord;
  if (forward) {
    for (std::size_t i = 0; i < head; ++i) chunk(i, kByte);
    for (std::size_t i = head; i < words_end; i += kWord) chunk(i, kWord);
    for (std::size_t i = words_end; i < length; ++i) chunk(i, kByte);
  } else {
    for (std::size_t i = length; i > words_end; --i) chunk(i - 1, kByte);
    for (std::size_t i = words_end; i > head; i -= kWord) chunk(i - kWord, kWord);
    for (std::size_t i = head; i > 0; --i) chunk(i - 1, kByte);
  }
}

// memmove of `length` bytes. A shared side is accessed with relaxed atomics,
// 8 bytes at a time where the shared side is aligned (the destination's
// alignment is chosen when both are shared; where the other side is shared
// and misaligned, load_bytes/store_bytes fall back to bytes). Chunks go in
// the direction that reads every source byte before it is overwritten: each
// chunk is read whole before it is written, and it only overwrites source
// bytes that an earlier chunk has already read.
inline void move_bytes(std::byte* destination, bool destination_shared, const std::byte* source,
                       bool source_shared, std::size_t length) noexcept {
  if (length == 0) return;
  if (!destination_shared && !source_shared) {
    std::memmove(destination, source, length);
    return;
  }
  for_each_chunk(
      destination_shared ? destination : source, length,
      reinterpret_cast<std::uintptr_t>(destination) <= reinterpret_cast<std::uintptr_t>(source),
      [&](std::size_t i, auto width) {
        store_bytes<width>(destination + i, load_bytes<width>(source + i, source_shared),
                           destination_shared);
      });
}

// memset of `length` bytes; when shared, relaxed atomics, 8 bytes at a time
// once the destination is aligned.
inline void fill_bytes(std::byte* destination, bool shared, std::uint8_t value,
                       std::size_t length) noexcept {
  if (length == 0) return;
  if (!shared) {
    std::memset(destination, value, length);
    return;
  }
  for_each_chunk(destination, length, true, [&](std::size_t i, auto width) {
    Bytes<width> pattern;
    pattern.fill(std::byte{value});
    store_bytes<width>(destination + i, pattern, true);
  });
}

}  // namespace wrt::platform::detail
