// C3: the conformance kit against the library's own C++ API
// (library_adapter.hpp) and against its C ABI (c_abi_adapter.hpp), where
// every case must pass. A binary of its own:
// the trap cases install the trap handler in this process, which the
// project's other tests never do outside a death-test child.
#include <gtest/gtest.h>

#include <memory>

#include "c_abi_adapter.hpp"
#include "library_adapter.hpp"

int main(int argc, char** argv) {
  testing::InitGoogleTest(&argc, argv);
  wrt::platform::conformance::register_conformance_tests(
      [] { return std::make_unique<wrt::platform::conformance_test::LibraryAdapter>(); },
      "LibraryConformance");
  wrt::platform::conformance::register_conformance_tests(
      [] { return std::make_unique<wrt::platform::conformance_test::CAbiAdapter>(); },
      "CAbiConformance");
  return RUN_ALL_TESTS();
}
