#include "vramcalc/core/error.hpp"

#include "vramcalc/core/printable.hpp"

namespace vramcalc {

Error::Error(ExitCode code, const std::string& message) : std::runtime_error(printable_line(message)), code_(code) {}

void fail_input(const std::string& message) { throw Error(ExitCode::BadInput, message); }

}  // namespace vramcalc
