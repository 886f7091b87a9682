// Placeholder until the page lands (serve/ui.hpp).
#include "serve/ui.hpp"

namespace vramcalc::serve {

std::string_view ui_page() { return "<!doctype html><title>vram-calc</title><p>vram-calc"; }

}  // namespace vramcalc::serve
