#include "sources/safetensors_index.hpp"

#include <cmath>
#include <nlohmann/json.hpp>
#include <string>

#include <fmt/format.h>

#include "vramcalc/core/json_relaxed.hpp"
#include "vramcalc/core/limits.hpp"

#include "sources/files.hpp"

namespace vramcalc::detail {
namespace {

using nlohmann::json;
using Shape = SafetensorsIndexFacts::Shape;

constexpr std::size_t kShownValueChars = 80;

// Folds the SAX events of an index into SafetensorsIndexFacts. Only values at depth 1 (members of the root
// object) and depth 2 (members of "metadata" and "weight_map") are looked at; deeper ones are skipped as they
// stream past, so nothing grows with the input but the per-shard totals.
class IndexSax : public nlohmann::json_sax<json> {
 public:
  explicit IndexSax(SafetensorsIndexFacts& facts) : f_(facts) {}

  bool null() override { return scalar(Shape::Null, json(nullptr)); }
  bool boolean(bool val) override { return scalar(Shape::Other, json(val)); }
  bool number_integer(number_integer_t val) override { return scalar(Shape::Other, json(val)); }
  bool number_unsigned(number_unsigned_t val) override { return scalar(Shape::Other, json(val)); }
  bool number_float(number_float_t val, const string_t& /*raw*/) override { return scalar(Shape::Other, json(val)); }
  bool string(string_t& val) override { return scalar(Shape::Other, json(std::move(val))); }
  bool binary(binary_t& /*val*/) override { return scalar(Shape::Other, json(nullptr)); }
  bool start_object(std::size_t /*elements*/) override { return open(Shape::Object, "{...}"); }
  bool start_array(std::size_t /*elements*/) override { return open(Shape::Other, "[...]"); }
  bool end_object() override { return close(); }
  bool end_array() override { return close(); }
  bool key(string_t& val) override {
    if (depth_ == 1) root_key_ = val;
    if (depth_ == 2) member_key_ = std::move(val);
    return true;
  }
  bool parse_error(std::size_t /*position*/, const std::string& /*last_token*/,
                   const json::exception& /*ex*/) override {
    return false;  // the caller parses again with parse_json_relaxed, which reports where and why
  }

 private:
  enum class In { Nothing, Metadata, WeightMap };

  // A value begins at the current depth: a scalar (`value` set) or a container (`shown` is "{...}" or "[...]").
  void value(Shape shape, const json* value, const char* shown) {
    if (depth_ == 0) {
      f_.is_object = shape == Shape::Object && value == nullptr;
      return;
    }
    if (!f_.is_object) return;
    if (depth_ == 1) {
      member(shape);
    } else if (depth_ == 2 && in_ == In::Metadata && member_key_ == "total_size") {
      total_size(value, shown);
    } else if (depth_ == 2 && in_ == In::WeightMap) {
      weight_map_entry(value);
    }
  }

  // "metadata" or "weight_map" at the root: a later one replaces an earlier one, as in a DOM.
  void member(Shape shape) {
    if (root_key_ == "metadata") {
      f_.metadata = shape;
      f_.has_total_size = false;
      f_.total_size.reset();
      f_.total_size_json.clear();
    } else if (root_key_ == "weight_map") {
      f_.weight_map = shape;
      f_.tensors = 0;
      f_.shards.clear();
      f_.non_string_entry.reset();
      f_.empty_entry.reset();
    }
  }

  void total_size(const json* value, const char* shown) {
    f_.has_total_size = true;
    f_.total_size.reset();
    if (value == nullptr) {
      f_.total_size_json = shown;
      return;
    }
    f_.total_size_json = value->dump(-1, ' ', false, json::error_handler_t::replace).substr(0, kShownValueChars);
    if (value->is_number_unsigned()) {
      f_.total_size = value->get<std::uint64_t>();
    } else if (value->is_number_integer() && value->get<std::int64_t>() >= 0) {
      f_.total_size = static_cast<std::uint64_t>(value->get<std::int64_t>());
    } else if (value->is_number_float()) {
      const double d = value->get<double>();
      if (std::isfinite(d) && d >= 0 && d < 18446744073709551616.0 && std::floor(d) == d)
        f_.total_size = static_cast<std::uint64_t>(d);
    }
  }

  void weight_map_entry(const json* value) {
    ++f_.tensors;
    if (value == nullptr || !value->is_string()) {
      if (!f_.non_string_entry) f_.non_string_entry = member_key_;
      return;
    }
    const auto& file = value->get_ref<const std::string&>();
    if (file.empty()) {
      if (!f_.empty_entry) f_.empty_entry = member_key_;
      return;
    }
    f_.shards[file] += member_key_.size() + 100;
  }

  bool scalar(Shape shape, const json& v) {
    value(shape, &v, nullptr);
    return true;
  }
  bool open(Shape shape, const char* shown) {
    value(shape, nullptr, shown);
    if (depth_ == 1 && f_.is_object)
      in_ = shape != Shape::Object      ? In::Nothing
            : root_key_ == "metadata"   ? In::Metadata
            : root_key_ == "weight_map" ? In::WeightMap
                                        : In::Nothing;
    return ++depth_ <= limits::kMaxJsonDepth;
  }
  bool close() {
    if (--depth_ == 1) in_ = In::Nothing;
    return true;
  }

  SafetensorsIndexFacts& f_;
  std::size_t depth_ = 0;
  In in_ = In::Nothing;
  std::string root_key_;
  std::string member_key_;
};

bool read_plain(std::string_view text, SafetensorsIndexFacts& facts) {
  IndexSax sax(facts);
  return json::sax_parse(text.begin(), text.end(), &sax);
}

}  // namespace

SafetensorsIndexFacts read_safetensors_index_facts(std::string_view text, std::string_view origin, ExitCode on_error) {
  SafetensorsIndexFacts facts;
  // nlohmann's lexer ends its input at a NUL byte; parse_json_relaxed reports one as malformed.
  if (text.find('\0') == std::string_view::npos && read_plain(text, facts)) return facts;
  // Malformed, too deep, or holding Python's bare NaN/Infinity (which only the relaxed parser reads): the relaxed
  // parser throws its one-line error, or gives a DOM whose standard spelling is read again. Rare and small.
  const json dom = parse_json_relaxed(text, origin, on_error);
  facts = SafetensorsIndexFacts{};
  read_plain(dom.dump(-1, ' ', false, json::error_handler_t::replace), facts);
  return facts;
}

SafetensorsIndexFacts read_local_safetensors_index(const std::filesystem::path& file, const std::string& shown) {
  const std::string text = read_input_file(file, shown, limits::kMaxIndexBytes, "safetensors indexes");
  SafetensorsIndexFacts facts = read_safetensors_index_facts(text, shown, ExitCode::BadInput);
  if (!facts.is_object) fail_input(fmt::format("{}: safetensors index is not a JSON object", shown));
  return facts;
}

std::optional<std::uint64_t> local_index_total(const SafetensorsIndexFacts& facts, const std::string& shown) {
  if (facts.metadata == SafetensorsIndexFacts::Shape::Other)
    fail_input(fmt::format("{}: \"metadata\" is not a JSON object", shown));
  if (facts.has_total_size && !facts.total_size)
    fail_input(
        fmt::format("{}: metadata.total_size must be a non-negative integer, not {}", shown, facts.total_size_json));
  return facts.total_size;
}

}  // namespace vramcalc::detail
