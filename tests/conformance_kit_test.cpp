// C3: the conformance kit's report reads the clause ID of a test name (the
// kit's cases run in wrt_platform_conformance_tests and
// wrt_platform_conformance_naive, see tests/conformance/).
#include <gtest/gtest.h>

#include "wrt/platform/conformance.hpp"

namespace {

using wrt::platform::conformance::clause_of;

TEST(ConformanceKit, C3_TheClauseIdIsTheCapitalsAndDigitsBeforeTheFirstUnderscore) {
  EXPECT_EQ(clause_of("W5_AStoreWithoutANotifyNeverWakesAWaiter"), "W5");
  EXPECT_EQ(clause_of("A10_X"), "A10");
  EXPECT_EQ(clause_of("C3_"), "C3");
  EXPECT_EQ(clause_of("NoClause"), "");
  EXPECT_EQ(clause_of("_W5"), "");
  EXPECT_EQ(clause_of("w5_lower"), "");
  EXPECT_EQ(clause_of("5W_Digit"), "");
  EXPECT_EQ(clause_of(""), "");
}

}  // namespace
