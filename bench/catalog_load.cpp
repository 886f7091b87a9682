// Times, in-process, the data-file parsing a plan does: ModelCatalog::load (data/models.json, all of it) and
// load_for (what a plan of a catalog id parses), SkuCatalog::load (data/skus.json, what --sku all parses) and
// load_for (what a plan of one SKU parses), a lookup and a "did you mean" miss. Prints the median and minimum of N
// repetitions of each, wall and CPU time; these are warm figures (the first call in a fresh process costs 2-3 times
// more). Built and run by bench/catalog.sh.
//
//   catalog_load MODELS_JSON SKUS_JSON [N]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <functional>
#include <vector>

#include "vramcalc/sources/catalog.hpp"
#include "vramcalc/sources/sku_catalog.hpp"

namespace {

double cpu_ms() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6;
}

double wall_ms() {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

void measure(const char* what, int n, const std::function<void()>& fn) {
  std::vector<double> wall, cpu;
  fn();  // warm-up: page cache, allocator
  for (int i = 0; i < n; ++i) {
    const double w0 = wall_ms(), c0 = cpu_ms();
    fn();
    cpu.push_back(cpu_ms() - c0);
    wall.push_back(wall_ms() - w0);
  }
  std::sort(wall.begin(), wall.end());
  std::sort(cpu.begin(), cpu.end());
  std::printf("%-34s %10.3f %10.3f %10.3f %10.3f\n", what, wall[wall.size() / 2], wall.front(), cpu[cpu.size() / 2],
              cpu.front());
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fputs("usage: catalog_load MODELS_JSON SKUS_JSON [N]\n", stderr);
    return 2;
  }
  const int n = argc > 3 ? std::max(1, std::atoi(argv[3])) : 200;
  std::printf("%d calls each; ms per call:\n%-34s %10s %10s %10s %10s\n", n, "", "wall med", "wall min", "cpu med",
              "cpu min");
  measure("ModelCatalog::load (models.json)", n, [&] { (void)vramcalc::ModelCatalog::load(argv[1]); });
  measure("ModelCatalog::load_for (one id)", n,
          [&] { (void)vramcalc::ModelCatalog::load_for(argv[1], "meta-llama/Llama-3.1-8B"); });
  measure("SkuCatalog::load (skus.json)", n, [&] { (void)vramcalc::SkuCatalog::load(argv[2]); });
  measure("SkuCatalog::load_for (A100-80G)", n, [&] { (void)vramcalc::SkuCatalog::load_for(argv[2], {"A100-80G"}); });
  measure("SkuCatalog::load_for (an instance)", n,
          [&] { (void)vramcalc::SkuCatalog::load_for(argv[2], {"Standard_NC24ads_A100_v4"}); });
  const auto catalog = vramcalc::ModelCatalog::load(argv[1]);
  measure("find(\"meta-llama/llama-3.1-8b\")", n, [&] { (void)catalog.find("meta-llama/llama-3.1-8b"); });
  measure("suggest(\"llama-3.1-8x\") (a miss)", n, [&] { (void)catalog.suggest("llama-3.1-8x", 3); });
  return 0;
}
