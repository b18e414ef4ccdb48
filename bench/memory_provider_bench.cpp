// PalMemoryProvider read/write (bounds check + copy) against memcpy to and
// from a raw mapping, for range(0) bytes at offset 0.
#include <array>
#include <cstring>
#include <optional>
#include <span>

#include "bench_support.hpp"
#include "wrt/platform/memory_provider.hpp"
#include "wrt/platform/mmap_page_allocator.hpp"

namespace wrt::platform::bench {
namespace {

using Provider = PalMemoryProvider<MmapPageAllocator>;

constexpr std::size_t kLargestAccess = 4096;

// The caller's buffer: the bytes written, or where the bytes read go.
struct Buffer {
  alignas(64) std::array<std::byte, kLargestAccess> bytes{};
};

// A one-page provider with its page already touched, or nullopt.
std::optional<Provider> make_provider() {
  auto provider = Provider::create(MmapPageAllocator(kConfig), 1, std::nullopt);
  if (!provider) return std::nullopt;
  touch_pages(provider->data(), provider->capacity());
  return std::move(*provider);
}

// A one-page read/write raw mapping with its page already touched.
struct RawPage {
  RawPage() : data(raw_map(kWasmPageSize, PROT_READ | PROT_WRITE)) {
    if (data != nullptr) touch_pages(data, kWasmPageSize);
  }
  ~RawPage() {
    if (data != nullptr) munmap(data, kWasmPageSize);
  }
  RawPage(const RawPage&) = delete;
  RawPage& operator=(const RawPage&) = delete;
  std::byte* data;
};

// Checks, after the timed loop, that the last copy really moved the bytes.
bool same_bytes(const std::byte* a, const std::byte* b, std::size_t size) {
  return std::memcmp(a, b, size) == 0;
}

void BM_Write_Ours(benchmark::State& state) {
  const auto size = static_cast<std::size_t>(state.range(0));
  std::optional<Provider> provider = make_provider();
  if (!check(state, provider.has_value(), "create failed")) return;
  Buffer source;
  source.bytes.fill(std::byte{0x5a});
  const std::span<const std::byte> bytes(source.bytes.data(), size);
  for (auto _ : state) {
    if (!check(state, provider->write(0, bytes).has_value(), "write failed")) break;
    benchmark::ClobberMemory();
  }
  check(state, same_bytes(provider->data(), source.bytes.data(), size), "bytes not written");
}

void BM_Write_Memcpy(benchmark::State& state) {
  const auto size = static_cast<std::size_t>(state.range(0));
  RawPage page;
  if (!check(state, page.data != nullptr, "mmap failed")) return;
  Buffer source;
  source.bytes.fill(std::byte{0x5a});
  for (auto _ : state) {
    std::memcpy(page.data, source.bytes.data(), size);
    benchmark::ClobberMemory();
  }
  check(state, same_bytes(page.data, source.bytes.data(), size), "bytes not written");
}

void BM_Read_Ours(benchmark::State& state) {
  const auto size = static_cast<std::size_t>(state.range(0));
  std::optional<Provider> provider = make_provider();
  if (!check(state, provider.has_value(), "create failed")) return;
  Buffer target;
  const std::span<std::byte> bytes(target.bytes.data(), size);
  for (auto _ : state) {
    if (!check(state, provider->read(0, bytes).has_value(), "read failed")) break;
    benchmark::ClobberMemory();
  }
  check(state, same_bytes(provider->data(), target.bytes.data(), size), "bytes not read");
}

void BM_Read_Memcpy(benchmark::State& state) {
  const auto size = static_cast<std::size_t>(state.range(0));
  RawPage page;
  if (!check(state, page.data != nullptr, "mmap failed")) return;
  Buffer target;
  for (auto _ : state) {
    std::memcpy(target.bytes.data(), page.data, size);
    benchmark::ClobberMemory();
  }
  check(state, same_bytes(page.data, target.bytes.data(), size), "bytes not read");
}

// 1 B, 64 B (a cache line) and 4 KiB (an OS page).
void access_sizes(benchmark::internal::Benchmark* b) { b->Arg(1)->Arg(64)->Arg(4096); }
BENCHMARK(BM_Write_Ours)->Apply(access_sizes);
BENCHMARK(BM_Write_Memcpy)->Apply(access_sizes);
BENCHMARK(BM_Read_Ours)->Apply(access_sizes);
BENCHMARK(BM_Read_Memcpy)->Apply(access_sizes);

}  // namespace
}  // namespace wrt::platform::bench
