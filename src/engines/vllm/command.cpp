#include "vramcalc/engines/vllm/command.hpp"

#include "vramcalc/core/text.hpp"

#include <utility>

namespace vramcalc {

std::vector<std::string> vllm_serve_words(const std::vector<std::string>& method_flags, const ServeOptions& o) {
  auto words = serve_command_head({"vllm", "serve"}, o, method_flags);
  const std::string& kv = o.kv_cache_dtype;
  if (kv == "fp8" || kv == "fp8_e4m3" || kv == "fp8_e5m2") add_flag(words, "--kv-cache-dtype", kv);
  if (o.quantization) {
    std::string q = ascii_lower(*o.quantization);
    if (q == "q8") q = "int8";
    if (q == "q4") q = "gptq";
    add_flag(words, "--quantization", q);
  }
  if (o.ray) add_flag(words, "--distributed-executor-backend", "ray");
  for (const auto& [flag, value] : o.extra_args) {
    words.push_back(flag);
    if (!value.empty()) words.push_back(value);
  }
  return words;
}

}  // namespace vramcalc
