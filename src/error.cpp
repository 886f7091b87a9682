#include "vramcalc/error.hpp"

namespace vramcalc {

void fail_input(const std::string& message) { throw Error(ExitCode::BadInput, message); }

}  // namespace vramcalc
