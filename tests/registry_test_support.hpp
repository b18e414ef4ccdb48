// The trap registry filled up by a test (T6, M1), and emptied again on every
// path: an ASSERT that ends the test early still gives the entries back, so
// one failure does not leave later tests of the binary with a full registry.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "trap/fault_registry.hpp"

namespace wrt::platform::registry_testing {

// Claims every free registry entry; release() or the destructor gives them back.
class AllFreeEntries {
 public:
  AllFreeEntries() {
    while (auto slot = trap::claim_slot()) taken_.push_back(*slot);
  }
  ~AllFreeEntries() { release(); }
  AllFreeEntries(const AllFreeEntries&) = delete;
  AllFreeEntries& operator=(const AllFreeEntries&) = delete;

  std::size_t size() const { return taken_.size(); }
  void release() {
    for (const std::uint32_t slot : taken_) trap::release_slot(slot);
    taken_.clear();
  }

 private:
  std::vector<std::uint32_t> taken_;
};

}  // namespace wrt::platform::registry_testing
