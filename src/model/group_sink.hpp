// The one way the model layer appends weight groups: checked arithmetic, a cap on the total, and (for MTP layers)
// counting without appending. Every family's builder uses it. Private to the model layer.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "vramcalc/model/architecture.hpp"

namespace vramcalc::detail {

// Appends weight groups (or, for MTP layers, only sums them) with checked arithmetic.
class GroupSink {
 public:
  // Groups go to `out`; nullptr: they are only counted (total()).
  GroupSink(std::vector<WeightGroup>* out, std::string origin) : out_(out), origin_(std::move(origin)) {}

  void add(std::string name, WeightRole role, int layer, std::uint64_t matrices, std::uint64_t rows, std::uint64_t cols,
           std::uint64_t extra);
  // One linear layer out x in (a bias adds `out`).
  void linear(std::string name, WeightRole role, int layer, std::uint64_t out, std::uint64_t in, bool bias = false) {
    add(std::move(name), role, layer, 1, out, in, bias ? out : 0);
  }
  // `count` routed experts, each an out x in matrix, with optional biases.
  void experts(std::string name, int layer, std::uint64_t count, std::uint64_t out, std::uint64_t in,
               bool bias = false) {
    add(std::move(name), WeightRole::Experts, layer, count, out, in, bias ? count * out : 0);
  }
  // Parameters outside matrices: norms, biases, sinks, tables.
  void vec(std::string name, WeightRole role, int layer, std::uint64_t n) {
    add(std::move(name), role, layer, 0, 0, 0, n);
  }
  // A SwiGLU feed-forward block: gate and up (inter x hidden), down (hidden x inter), under three names.
  void swiglu(const std::string& prefix, const char* const (&names)[3], WeightRole role, int layer,
              std::uint64_t hidden, std::uint64_t inter);
  [[nodiscard]] std::uint64_t total() const { return total_; }

 private:
  std::vector<WeightGroup>* out_;
  std::string origin_;
  std::uint64_t total_ = 0;
};

}  // namespace vramcalc::detail
