#include "model/group_sink.hpp"

#include <fmt/format.h>

#include "vramcalc/core/error.hpp"
#include "vramcalc/core/units.hpp"

namespace vramcalc::detail {

namespace {

// More parameters than this in one config is not a model but a typo.
constexpr std::uint64_t kMaxTotalParams = 1'000'000'000'000'000ULL;  // 10^15

}  // namespace

void GroupSink::add(std::string name, WeightRole role, int layer, std::uint64_t matrices, std::uint64_t rows,
                    std::uint64_t cols, std::uint64_t extra) {
  const std::uint64_t params = checked_add(
      checked_mul(checked_mul(matrices, rows, "parameter count"), cols, "parameter count"), extra, "parameter count");
  total_ = checked_add(total_, params, "parameter count");
  if (total_ > kMaxTotalParams)
    fail_input(fmt::format(
        "{}: the config describes more than 10^15 parameters: check the layer, width and expert counts", origin_));
  if (out_ != nullptr) out_->push_back(WeightGroup{std::move(name), role, layer, matrices, rows, cols, extra});
}

void GroupSink::swiglu(const std::string& prefix, const char* const (&names)[3], WeightRole role, int layer,
                       std::uint64_t hidden, std::uint64_t inter) {
  linear(prefix + names[0], role, layer, inter, hidden);
  linear(prefix + names[1], role, layer, inter, hidden);
  linear(prefix + names[2], role, layer, hidden, inter);
}

}  // namespace vramcalc::detail
