// GET /ui: one static page embedded in the binary (no external assets) that calls POST /plan and draws the plan.
// Private to the server.
#pragma once

#include <string_view>

namespace vramcalc::serve {

// The page: HTML with its CSS and JavaScript inline (ui_page.cpp assembles it once).
std::string_view ui_page();

// The page's script alone (ui_script.cpp): fills the SKU list, submits the form to POST /plan (also on load when
// the address has a query string) and draws the answer.
std::string_view ui_script();

}  // namespace vramcalc::serve
