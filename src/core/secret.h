// A string holding a secret (API key, auth token) in memory: wiped on destruction, never
// printed. Use reveal() only where the plaintext is handed to a provider request.
#pragma once

#include <sodium.h>

#include <string>
#include <string_view>
#include <utility>

namespace herald {

class Secret {
 public:
  Secret() = default;
  explicit Secret(std::string value) : value_(std::move(value)) {}
  Secret(const Secret&) = default;
  Secret& operator=(const Secret&) = default;
  // Moves copy and then wipe the source: a short string lives in its inline buffer, which
  // std::move would leave behind unwiped.
  Secret(Secret&& o) noexcept : value_(o.value_) { o.wipe(); }
  Secret& operator=(Secret&& o) noexcept {
    if (this != &o) {
      wipe();
      value_ = o.value_;
      o.wipe();
    }
    return *this;
  }
  ~Secret() { wipe(); }

  // The plaintext; keep its uses few and obvious.
  const std::string& reveal() const { return value_; }
  bool empty() const { return value_.empty(); }

  // A display hint: "…" plus the last 4 characters (empty when too short to hint safely).
  std::string hint() const {
    if (value_.size() < 12) return "…";
    return "…" + value_.substr(value_.size() - 4);
  }

 private:
  void wipe() {
    if (!value_.empty()) sodium_memzero(value_.data(), value_.size());
    value_.clear();
  }
  std::string value_;
};

}  // namespace herald
