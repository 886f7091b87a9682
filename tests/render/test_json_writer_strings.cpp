// The JSON writer's strings (src/render/json_writer.cpp), which it checks 8 bytes at a time for bytes to escape: every
// byte value, at every place of a string, is written as nlohmann's dump() writes it, YAML's unsafe characters escaped.
#include <catch2/catch.hpp>

#include <string>

#include <nlohmann/json.hpp>

#include "render/json_sections.hpp"

using vramcalc::render_detail::dump_json;
using vramcalc::render_detail::escape_yaml_unsafe;

TEST_CASE("JSON writer: every byte at every place of a string is escaped as nlohmann escapes it", "[render][json]") {
  for (int byte = 0; byte < 256; ++byte) {
    for (std::size_t at = 0; at < 20; ++at) {
      std::string text(20, 'a');
      text[at] = static_cast<char>(byte);
      INFO("byte " << byte << " at " << at);
      const nlohmann::json j = text;
      CHECK(dump_json(j, -1) == escape_yaml_unsafe(j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)));
    }
  }
  // Valid UTF-8 among plain bytes, and the characters YAML refuses (U+2028, U+FEFF): kept, and escaped.
  const nlohmann::json j = std::string("plain text \xc3\xa9\xe2\x80\xa8 more plain text \xef\xbb\xbf end \"q\"");
  CHECK(dump_json(j, -1) == escape_yaml_unsafe(j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)));
}
