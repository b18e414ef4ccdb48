// Registration of the kit's cases with GoogleTest and the report of the
// clauses that failed.
#include "kit.hpp"

#include <algorithm>
#include <string>
#include <utility>

#include "wrt/platform/conformance.hpp"

namespace wrt::platform::conformance {

namespace kit {

std::unique_ptr<Memory> make_memory(Adapter& adapter, const MemoryType& type) {
  auto memory = adapter.create_memory(type);
  if (!memory) {
    ADD_FAILURE() << "create_memory(initial " << type.initial_pages << ", shared " << type.shared
                  << "): " << error_code_name(memory.error().code()) << ": "
                  << memory.error().message();
    return nullptr;
  }
  if (*memory == nullptr) ADD_FAILURE() << "create_memory returned a null memory";
  return std::move(*memory);
}

std::vector<std::byte> read_all(const Memory& memory) {
  std::vector<std::byte> bytes(static_cast<std::size_t>(memory.size() * kPage));
  const auto read = memory.read(0, bytes);
  EXPECT_TRUE(read.has_value()) << "read of every byte below size()";
  return bytes;
}

namespace {

class KitTest : public testing::Test {
 public:
  KitTest(std::shared_ptr<const AdapterFactory> factory, const Case& test_case)
      : factory_(std::move(factory)), case_(test_case) {}

  void TestBody() override {
    const auto adapter = (*factory_)();
    ASSERT_NE(adapter, nullptr) << "the adapter factory returned null";
    const Capabilities capabilities = adapter->capabilities();
    if (case_.needs != Needs::Nothing && !capabilities.traps)
      GTEST_SKIP() << "the implementation declares no traps (Capabilities::traps)";
    if (case_.needs == Needs::Guard && capabilities.guard_bytes == 0)
      GTEST_SKIP() << "the implementation declares no guard region (Capabilities::guard_bytes)";
    case_.run(*adapter);
  }

 private:
  std::shared_ptr<const AdapterFactory> factory_;
  const Case& case_;
};

}  // namespace
}  // namespace kit

void register_conformance_tests(AdapterFactory factory, std::string_view suite_name) {
  const auto shared_factory = std::make_shared<const AdapterFactory>(std::move(factory));
  const std::string suite(suite_name);
  for (const auto cases : {kit::memory_cases(), kit::futex_cases(), kit::trap_cases()}) {
    for (const kit::Case& test_case : cases) {
      testing::RegisterTest(suite.c_str(), test_case.name, nullptr, nullptr, __FILE__, __LINE__,
                            [shared_factory, &test_case]() -> testing::Test* {
                              return new kit::KitTest(shared_factory, test_case);
                            });
    }
  }
}

std::string_view clause_of(std::string_view test_name) noexcept {
  const auto end = test_name.find('_');
  if (end == std::string_view::npos || end == 0) return {};
  const std::string_view id = test_name.substr(0, end);
  const bool letters_then_digits =
      id.front() >= 'A' && id.front() <= 'Z' && std::all_of(id.begin(), id.end(), [](char c) {
        return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
      });
  return letters_then_digits ? id : std::string_view{};
}

std::vector<std::string> failed_clauses(std::string_view suite_name) {
  std::vector<std::string> failed;
  const testing::UnitTest& unit = *testing::UnitTest::GetInstance();
  for (int i = 0; i < unit.total_test_suite_count(); ++i) {
    const testing::TestSuite& suite = *unit.GetTestSuite(i);
    if (suite_name != suite.name()) continue;
    for (int j = 0; j < suite.total_test_count(); ++j) {
      const testing::TestInfo& info = *suite.GetTestInfo(j);
      if (info.should_run() && info.result()->Failed()) failed.emplace_back(clause_of(info.name()));
    }
  }
  std::sort(failed.begin(), failed.end());
  failed.erase(std::unique(failed.begin(), failed.end()), failed.end());
  return failed;
}

}  // namespace wrt::platform::conformance
