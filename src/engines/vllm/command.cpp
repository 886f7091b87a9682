#include "vramcalc/engines/vllm/command.hpp"

#include "vramcalc/core/text.hpp"

#include <utility>

namespace vramcalc {

std::vector<std::string> vllm_serve_words(const std::vector<std::string>& method_flags, const ServeOptions& o) {
  std::vector<std::string> words{"vllm", "serve", o.model};
  auto add = [&words](const char* flag, std::string value) {
    words.emplace_back(flag);
    words.push_back(std::move(value));
  };
  if (o.revision) add("--revision", *o.revision);
  words.insert(words.end(), method_flags.begin(), method_flags.end());
  if (o.dtype) add("--dtype", *o.dtype);
  const std::string& kv = o.kv_cache_dtype;
  if (kv == "fp8" || kv == "fp8_e4m3" || kv == "fp8_e5m2") add("--kv-cache-dtype", kv);
  if (o.quantization) {
    std::string q = ascii_lower(*o.quantization);
    if (q == "q8") q = "int8";
    if (q == "q4") q = "gptq";
    add("--quantization", q);
  }
  if (o.ray) add("--distributed-executor-backend", "ray");
  for (const auto& [flag, value] : o.extra_args) {
    words.push_back(flag);
    if (!value.empty()) words.push_back(value);
  }
  return words;
}

}  // namespace vramcalc
