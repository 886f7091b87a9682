// The `vllm serve` command line of a plan, for every method that sizes vLLM (kaito, vllm, wizard).
#pragma once

#include <string>
#include <vector>

#include "vramcalc/engines/common.hpp"

namespace vramcalc {

// `vllm serve MODEL [--revision R] <the method's flags> [--dtype D] [--kv-cache-dtype fp8...] [--quantization Q]
// [--distributed-executor-backend ray] <a profile's extra args>`, as words. Q8 and Q4 become int8 and gptq; a
// KV cache dtype other than fp8 is a what-if vLLM's flag does not take, so it is left out.
std::vector<std::string> vllm_serve_words(const std::vector<std::string>& method_flags, const ServeOptions& options);

}  // namespace vramcalc
