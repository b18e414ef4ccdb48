// Properties of the memory pool's pure plans (src/pool/pool_plan.hpp), checked
// page by page against a map of what each OS page of a slot must undergo:
// a reset touches every committed page exactly once (zeroed in place or
// discarded, the image with the rest) and keeps it accessible (M2, M3, M6); a
// commit makes exactly the new memory accessible from what the last tenant
// left, replacing a mapped image that is not the wanted one (M3, M6, A10); an image's mapping
// covers its bytes with whole OS pages and at most one partial page at each end (M4).
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <cstddef>
#include <cstdint>
#include <vector>

#include "pool/pool_plan.hpp"

namespace wrt::platform::proptest {
namespace {

using detail::ByteRange;

constexpr std::size_t kOsPage = 4096;
constexpr std::size_t kOsPagesPerWasmPage = kWasmPageSize / kOsPage;

// How many times each OS page in [0, pages) is covered by the ranges.
std::vector<int> coverage(std::size_t pages, std::initializer_list<ByteRange> ranges) {
  std::vector<int> count(pages, 0);
  for (const ByteRange& r : ranges) {
    RC_ASSERT(r.offset % kOsPage == 0);
    RC_ASSERT(r.bytes % kOsPage == 0);
    for (std::size_t p = r.offset / kOsPage; p < r.end() / kOsPage; ++p) {
      RC_ASSERT(p < pages);
      ++count[p];
    }
  }
  return count;
}

// A page-aligned image range inside [0, committed), or none.
ByteRange image_within(std::size_t committed_pages) {
  if (committed_pages == 0 || *rc::gen::arbitrary<bool>()) return {};
  const auto first = *rc::gen::inRange<std::size_t>(0, committed_pages);
  const auto count = *rc::gen::inRange<std::size_t>(1, committed_pages - first + 1);
  return {first * kOsPage, count * kOsPage};
}

RC_GTEST_PROP(PoolPlanProp, M2_M3_ResetTouchesEveryCommittedPageExactlyOnce, ()) {
  const std::size_t committed = *rc::gen::inRange<std::size_t>(0, 9) * kOsPagesPerWasmPage;
  const std::size_t keep = *rc::gen::inRange<std::size_t>(0, 10 * kOsPagesPerWasmPage) * kOsPage;
  const ByteRange image = image_within(committed);
  const auto plan = detail::plan_reset(committed * kOsPage, keep, image);

  // Zeroed or discarded: every committed page once, none twice.
  const auto touched = coverage(committed, {plan.zero, plan.discard});
  for (std::size_t p = 0; p < committed; ++p) RC_ASSERT(touched[p] == 1);
  // The zeroed prefix is no longer than keep and ends before the image.
  RC_ASSERT(plan.zero.offset == 0u);
  RC_ASSERT(plan.zero.bytes <= keep);
  if (!image.empty()) RC_ASSERT(plan.zero.bytes <= image.offset);
  // Everything committed stays accessible (M6).
  RC_ASSERT(plan.accessible_after == committed * kOsPage);
  // As much is kept as the rules allow.
  std::size_t expected_kept = std::min(keep, committed * kOsPage);
  if (!image.empty()) expected_kept = std::min(expected_kept, image.offset);
  RC_ASSERT(plan.zero.bytes == expected_kept);
}

RC_GTEST_PROP(PoolPlanProp, M3_M6_A10_CommitMakesExactlyTheNewMemoryAccessible, ()) {
  const std::size_t committed = *rc::gen::inRange<std::size_t>(0, 9) * kOsPagesPerWasmPage;
  const std::size_t accessible = *rc::gen::inRange<std::size_t>(0, 10 * kOsPagesPerWasmPage);
  const ByteRange wanted = image_within(committed);
  // What the last tenant left mapped lies within what it left accessible;
  // half the time it is the wanted image, when that fits there.
  ByteRange mapped = image_within(accessible);
  const bool same_image =
      !wanted.empty() && wanted.end() <= accessible * kOsPage && *rc::gen::arbitrary<bool>();
  if (same_image) mapped = wanted;
  const auto plan =
      detail::plan_commit(committed * kOsPage, accessible * kOsPage, mapped, wanted, same_image);
  const std::size_t span = std::max(committed, accessible);

  // After the plan each page of the memory is accessible: left so, mapped as
  // the image or committed; nothing past it is; the wanted image is mapped.
  std::vector<int> state(span, 0);  // 0 inaccessible, 1 accessible, 2 wanted image
  for (std::size_t p = 0; p < accessible; ++p) state[p] = 1;
  if (same_image)
    for (std::size_t p = mapped.offset / kOsPage; p < mapped.end() / kOsPage; ++p) state[p] = 2;
  for (std::size_t p = plan.unmap.offset / kOsPage; p < plan.unmap.end() / kOsPage; ++p)
    state[p] = 0;
  for (std::size_t p = plan.image.offset / kOsPage; p < plan.image.end() / kOsPage; ++p)
    state[p] = 2;
  if (!same_image) RC_ASSERT(plan.unmap == mapped);
  const auto committed_now = coverage(span, {plan.commit.before, plan.commit.after});
  const auto decommitted = coverage(span, {plan.decommit});
  for (std::size_t p = 0; p < span; ++p) {
    RC_ASSERT(committed_now[p] <= 1);
    RC_ASSERT(committed_now[p] == 0 || state[p] != 2);  // never over the image
    const bool accessible_after = (state[p] + committed_now[p] > 0) && decommitted[p] == 0;
    RC_ASSERT(accessible_after == (p < committed));
    const bool in_wanted = p >= wanted.offset / kOsPage && p < wanted.end() / kOsPage;
    RC_ASSERT((state[p] == 2) == in_wanted);
  }
}

RC_GTEST_PROP(PoolPlanProp, M4_TheImageMappingCoversItsBytesWithWholePages, ()) {
  const auto offset = *rc::gen::inRange<std::uint64_t>(0, 5 * kWasmPageSize);
  const auto bytes = *rc::gen::inRange<std::size_t>(0, 6 * kOsPage);
  const auto layout = detail::plan_image(offset, bytes, kOsPage);
  RC_ASSERT(layout.has_value());
  RC_ASSERT(layout->end == offset + bytes);
  if (bytes == 0) {
    RC_ASSERT(layout->map_bytes == 0u);
    return;
  }
  RC_ASSERT(layout->map_offset % kOsPage == 0);
  RC_ASSERT(layout->map_bytes % kOsPage == 0);
  RC_ASSERT(layout->map_offset <= offset);
  RC_ASSERT(offset - layout->map_offset < kOsPage);  // starts in the first mapped page
  RC_ASSERT(layout->map_offset + layout->map_bytes >= layout->end);
  RC_ASSERT(layout->map_offset + layout->map_bytes - layout->end < kOsPage);  // ends in the last
  RC_ASSERT(layout->data_in_file() + bytes <= layout->map_bytes);
}

}  // namespace
}  // namespace wrt::platform::proptest
