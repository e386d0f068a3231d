// Error values returned by fallible functions across Herald (std::expected<T, Error>).
#pragma once

#include <expected>
#include <string>
#include <utility>
#include <vector>

namespace herald {

// What kind of failure an Error is; maps onto HTTP statuses at the API edge.
enum class Errc {
  invalid_input,      // 400/422: the caller sent something wrong (see fields)
  not_found,          // 404
  conflict,           // 409
  unauthorized,       // 401
  forbidden,          // 403
  payload_too_large,  // 413
  unsupported,        // 415 / a provider cannot express a feature
  storage,            // the store failed
  crypto,             // a seal/open or key problem
  provider,           // a provider answered with an error (see provider/http_status)
  network,            // could not reach a peer (timeout, refused)
  config,             // bad configuration (message names the setting)
  internal,           // a bug
};

// One invalid input field: a JSON pointer-ish name ("seller.email") and why.
struct FieldError {
  std::string field;
  std::string message;
};

// A failure: code, human message, and for provider errors the provider, HTTP status and
// whether retrying may help (for storage errors: the database could not be reached, and may
// answer later). Never carries a secret.
struct Error {
  Errc code = Errc::internal;
  std::string message;
  std::vector<FieldError> fields;
  std::string provider;
  int http_status = 0;
  bool retryable = false;

  static Error invalid(std::string field, std::string why) {
    Error e{Errc::invalid_input, "invalid input"};
    e.fields.push_back({std::move(field), std::move(why)});
    return e;
  }
  static Error invalid(std::vector<FieldError> fields) {
    Error e{Errc::invalid_input, "invalid input"};
    e.fields = std::move(fields);
    return e;
  }
  static Error not_found(std::string what) { return Error{Errc::not_found, std::move(what)}; }
  static Error storage(std::string what) { return Error{Errc::storage, std::move(what)}; }
  static Error internal(std::string what) { return Error{Errc::internal, std::move(what)}; }
};

// A value or the Error that kept it from being made. [[nodiscard]]: a failure is handled or
// passed on, never dropped silently (log it where nothing else can be done).
template <class T>
class [[nodiscard]] Result : public std::expected<T, Error> {
 public:
  using std::expected<T, Error>::expected;
  Result(std::expected<T, Error> e) : std::expected<T, Error>(std::move(e)) {}  // NOLINT
};

// Shorthand for returning an error from a function returning Result<T>.
inline std::unexpected<Error> fail(Error e) {
  return std::unexpected<Error>(std::move(e));
}
inline std::unexpected<Error> fail(Errc code, std::string message) {
  return std::unexpected<Error>(Error{code, std::move(message)});
}

}  // namespace herald
