// Command-line options, parsed and validated. Private to the CLI.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "vramcalc/hub.hpp"
#include "vramcalc/report.hpp"

namespace vramcalc::cli {

enum class Command { Plan, ListSkus, ListModels, Help, Version };
enum class Format { Table, Json };

struct Options {
  Command command = Command::Plan;
  Format format = Format::Table;
  std::string model;
  std::string sku;
  WeightSettings weights;
  ReportSettings report;
  HubOptions hub;
  std::string help_text;
};

// Parses argv. Throws Error(BadInput) with a one-line message for anything CLI11 or our checks reject.
Options parse_options(int argc, char** argv);

std::string version_string();

}  // namespace vramcalc::cli
