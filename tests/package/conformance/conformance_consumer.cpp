// The conformance kit through the installed package: the kit against the
// library's own adapter (the project's tests/conformance/library_adapter.hpp,
// public headers only); exits non-zero when a case fails.
#include <gtest/gtest.h>
#include <wrt/platform/conformance.hpp>

#include <cstdio>
#include <memory>

#include "../../conformance/library_adapter.hpp"

int main(int argc, char** argv) {
  testing::InitGoogleTest(&argc, argv);
  wrt::platform::conformance::register_conformance_tests(
      [] { return std::make_unique<wrt::platform::conformance_test::LibraryAdapter>(); },
      "InstalledKit");
  const int status = RUN_ALL_TESTS();
  for (const auto& id : wrt::platform::conformance::failed_clauses("InstalledKit"))
    std::fprintf(stderr, "conformance_consumer: the kit reports %s\n", id.c_str());
  return status;
}
