// GET /ui: one static page embedded in the binary (no external assets) that calls POST /plan and draws the plan.
// Private to the server.
#pragma once

#include <string_view>

namespace vramcalc::serve {

// The page: HTML with its CSS and JavaScript inline.
std::string_view ui_page();

}  // namespace vramcalc::serve
