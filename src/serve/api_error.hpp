// An error a request gets back as HTTP: its status and {"error": "...", "field": "..."}. Private to the server.
#pragma once

#include <stdexcept>
#include <string>

namespace vramcalc::serve {

class ApiError : public std::runtime_error {
 public:
  ApiError(int status, const std::string& message, std::string field = "")
      : std::runtime_error(message), status_(status), field_(std::move(field)) {}
  [[nodiscard]] int status() const noexcept { return status_; }
  [[nodiscard]] const std::string& field() const noexcept { return field_; }

 private:
  int status_;
  std::string field_;
};

// 400 naming the request field at fault.
[[noreturn]] inline void bad_field(const std::string& field, const std::string& message) {
  throw ApiError(400, message, field);
}

}  // namespace vramcalc::serve
