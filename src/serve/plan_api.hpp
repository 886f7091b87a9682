// POST /plan: the command line's options as JSON, keyed by the long flag names without dashes
// ({"model": ..., "sku": ..., "max-model-len": ...}), answered with exactly what `vram-calc ... --format json`
// prints for them: one engine, two front ends. Private to the server.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "vramcalc/cli/cli.hpp"

namespace vramcalc::serve {

struct PlanReply {
  std::string body;   // the CLI's JSON
  int exit_code = 0;  // the CLI's: 0 fits, 1 does not fit
};

// The command-line arguments a /plan request stands for (without the program name), `--format json` last. Throws
// ApiError(400) naming the field for a key the server does not take (files, tokens, output shapes) or a value that
// is not a string, number or boolean.
std::vector<std::string> plan_arguments(const nlohmann::json& request);

// Runs the plan. Throws ApiError: 400 naming the field for what the CLI reports as bad input, 502 for a remote
// failure (with the CLI's message), 404 for a model this server cannot get without the Hub (`allow_hub` false).
// `catalogs`: the bundled catalogs, loaded once by the server.
PlanReply plan_request(const nlohmann::json& request, bool allow_hub, const cli::PlanCatalogs& catalogs);

}  // namespace vramcalc::serve
