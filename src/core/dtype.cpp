#include "vramcalc/core/dtype.hpp"
#include "vramcalc/core/text.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <string>

namespace vramcalc {

double dtype_bytes(DType t) {
  switch (t) {
    case DType::Float64: return 8;
    case DType::Float32: return 4;
    case DType::Float16:
    case DType::BFloat16: return 2;
    case DType::Float8E4M3:
    case DType::Float8E5M2:
    case DType::Int8: return 1;
  }
  return 2;
}

std::string_view dtype_name(DType t) {
  switch (t) {
    case DType::Float64: return "float64";
    case DType::Float32: return "float32";
    case DType::Float16: return "float16";
    case DType::BFloat16: return "bfloat16";
    case DType::Float8E4M3: return "fp8_e4m3";
    case DType::Float8E5M2: return "fp8_e5m2";
    case DType::Int8: return "int8";
  }
  return "unknown";
}

std::optional<DType> parse_torch_dtype(std::string_view name) {
  std::string s(name);
  s = ascii_lower(s);
  if (s.rfind("torch.", 0) == 0) s = s.substr(6);
  struct Entry {
    std::string_view name;
    DType type;
  };
  static constexpr std::array kNames = {
      Entry{"float32", DType::Float32},
      Entry{"float", DType::Float32},
      Entry{"fp32", DType::Float32},
      Entry{"f32", DType::Float32},
      Entry{"float16", DType::Float16},
      Entry{"half", DType::Float16},
      Entry{"fp16", DType::Float16},
      Entry{"f16", DType::Float16},
      Entry{"bfloat16", DType::BFloat16},
      Entry{"bf16", DType::BFloat16},
      Entry{"float64", DType::Float64},
      Entry{"double", DType::Float64},
      Entry{"float8_e4m3fn", DType::Float8E4M3},
      Entry{"fp8_e4m3", DType::Float8E4M3},
      Entry{"float8_e5m2", DType::Float8E5M2},
      Entry{"fp8_e5m2", DType::Float8E5M2},
      Entry{"int8", DType::Int8},
  };
  for (const auto& e : kNames)
    if (e.name == s) return e.type;
  return std::nullopt;
}

std::optional<double> safetensors_dtype_bytes(std::string_view name) {
  struct Entry {
    std::string_view name;
    double bytes;
  };
  static constexpr std::array kSizes = {
      Entry{"F64", 8},     Entry{"I64", 8},  Entry{"U64", 8},  Entry{"F32", 4},     Entry{"I32", 4},
      Entry{"U32", 4},     Entry{"F16", 2},  Entry{"BF16", 2}, Entry{"I16", 2},     Entry{"U16", 2},
      Entry{"I8", 1},      Entry{"U8", 1},   Entry{"BOOL", 1}, Entry{"F8_E4M3", 1}, Entry{"F8_E5M2", 1},
      Entry{"F8_E8M0", 1}, Entry{"F4", 0.5}, Entry{"I4", 0.5}, Entry{"U4", 0.5},
  };
  for (const auto& e : kSizes)
    if (e.name == name) return e.bytes;
  return std::nullopt;
}

}  // namespace vramcalc
