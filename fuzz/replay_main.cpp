// Corpus replay without libFuzzer: runs LLVMFuzzerTestOneInput once over
// every file in the files and directories given, so each harness's
// committed corpus is a regression test under any compiler. A model
// mismatch aborts, exactly as it would under the fuzzer.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace {

std::vector<std::filesystem::path> inputs_in(const std::filesystem::path& path) {
  if (!std::filesystem::is_directory(path)) return {path};
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(path))
    if (entry.is_regular_file()) files.push_back(entry.path());
  std::sort(files.begin(), files.end());  // the same order on every run
  return files;
}

std::vector<std::uint8_t> read_file(const std::filesystem::path& path) {
  std::ifstream file(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>()};
}

}  // namespace

int main(int argc, char** argv) {
  std::size_t replayed = 0;
  for (int i = 1; i < argc; ++i) {
    // A mistyped corpus path must fail, not replay one empty input.
    if (!std::filesystem::exists(argv[i])) {
      std::fprintf(stderr, "no such input or corpus: %s\n", argv[i]);
      return 1;
    }
    for (const auto& input : inputs_in(argv[i])) {
      const std::vector<std::uint8_t> bytes = read_file(input);
      LLVMFuzzerTestOneInput(bytes.data(), bytes.size());
      ++replayed;
    }
  }
  std::printf("replayed %zu inputs\n", replayed);
  // An empty corpus would make the test pass without checking anything.
  return replayed > 0 ? 0 : 1;
}
