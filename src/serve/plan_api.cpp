// POST /plan (serve/plan_api.hpp): JSON options to the command line's arguments, through the CLI's own plan path.
#include "serve/plan_api.hpp"

#include <algorithm>
#include <array>
#include <cctype>

#include <fmt/format.h>

#include "serve/api_error.hpp"
#include "vramcalc/cli/cli.hpp"
#include "vramcalc/core/error.hpp"

namespace vramcalc::serve {

namespace {

// Options a request may not set: they read local files or secrets, change what is printed, or are the server's to
// decide (network use).
constexpr std::array kRefused = {"profile", "token",   "ca-bundle",       "format",  "emit", "force",
                                 "offline", "refresh", "connect-timeout", "timeout", "help", "help-all",
                                 "version", "man",     "completions",     "f"};

bool plain_key(const std::string& key) {
  return !key.empty() && key.size() <= 64 && key.front() != '-' && std::all_of(key.begin(), key.end(), [](char c) {
    return std::islower(static_cast<unsigned char>(c)) != 0 || std::isdigit(static_cast<unsigned char>(c)) != 0 ||
           c == '-' || c == '_' || c == 'O';
  });
}

// The flag a CLI message names first ("--max-model-len: ..."), as a request key; "" when none.
std::string field_of(const std::string& message, const nlohmann::json& request) {
  for (std::size_t at = message.find("--"); at != std::string::npos; at = message.find("--", at + 2)) {
    std::size_t end = at + 2;
    while (end < message.size() && (std::isalnum(static_cast<unsigned char>(message[end])) != 0 || message[end] == '-'))
      ++end;
    const std::string name = message.substr(at + 2, end - at - 2);
    if (!name.empty()) {
      std::string underscored = name;
      std::replace(underscored.begin(), underscored.end(), '-', '_');
      if (request.contains(underscored)) return underscored;
      return name;
    }
  }
  return "";
}

}  // namespace

std::vector<std::string> plan_arguments(const nlohmann::json& request) {
  if (!request.is_object()) bad_field("", "the request body must be a JSON object of options");
  std::vector<std::string> args;
  for (const auto& [key, value] : request.items()) {
    if (!plain_key(key)) bad_field(key, fmt::format("'{}' is not an option name (the long flag without dashes)", key));
    std::string flag = key;
    std::replace(flag.begin(), flag.end(), '_', '-');
    if (std::find(kRefused.begin(), kRefused.end(), flag) != kRefused.end())
      bad_field(key, fmt::format("'{}' cannot be set through the API", key));
    const std::string dashed = fmt::format("{}{}", flag.size() == 1 ? "-" : "--", flag);
    if (value.is_boolean()) {
      if (value.get<bool>()) args.push_back(dashed);
    } else if (value.is_string()) {
      args.insert(args.end(), {dashed, value.get<std::string>()});
    } else if (value.is_number()) {
      args.insert(args.end(), {dashed, value.dump()});
    } else if (value.is_array()) {  // a list flag: comma-joined, as on the command line
      std::string joined;
      for (const auto& item : value) {
        if (!item.is_string() && !item.is_number())
          bad_field(key, fmt::format("'{}': a list of strings or numbers", key));
        if (!joined.empty()) joined += ',';
        joined += item.is_string() ? item.get<std::string>() : item.dump();
      }
      args.insert(args.end(), {dashed, joined});
    } else if (!value.is_null()) {
      bad_field(key, fmt::format("'{}' must be a string, a number, a boolean or a list", key));
    }
  }
  args.insert(args.end(), {"--format", "json"});
  return args;
}

PlanReply plan_request(const nlohmann::json& request, bool allow_hub, const cli::PlanCatalogs& catalogs) {
  const std::vector<std::string> args = plan_arguments(request);
  try {
    const cli::CommandOutput out = cli::run_plan_command(args, /*local_paths=*/false, &catalogs);
    return {out.out, out.exit_code};
  } catch (const Error& e) {
    if (e.code() == ExitCode::RemoteFailed && !allow_hub)
      throw ApiError(404,
                     fmt::format("{} (this server answers from its bundled catalog and caches; it fetches from the Hub "
                                 "only when started with --allow-hub)",
                                 e.what()),
                     "model");
    if (e.code() == ExitCode::RemoteFailed) throw ApiError(502, e.what(), "model");
    throw ApiError(400, e.what(), field_of(e.what(), request));
  }
}

}  // namespace vramcalc::serve
