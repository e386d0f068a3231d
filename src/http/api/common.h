// Shared pieces of the REST API handlers: JSON input with per-field errors, problem+json
// responses from Errors, time formatting, and the caller's identity.
#pragma once

#include <functional>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "app/app.h"
#include "core/error.h"
#include "http/server/server.h"

namespace herald::api {

using nlohmann::json;

// Who is calling. The platform token and the operator reach every agent; an agent (by
// session or API token) only its own.
struct Principal {
  bool platform = false;   // platform token or operator session: full access
  bool operator_ = false;  // logged in as the operator
  std::string agent_id;
  bool via_session = false;  // cookie-authenticated: state changes need the CSRF token
  std::string csrf_token;
  bool may_access(const std::string& id) const { return platform || agent_id == id; }
};

// A handler that runs only for an authenticated caller.
using ApiHandler = std::function<http::Response(app::App&, const Principal&, http::Request&)>;

// Wraps `h` with authentication, the CSRF check for cookie sessions, and tenant scoping of an
// {id} path parameter: another agent's id answers 404 exactly as an unknown id does.
http::Handler guarded(app::App& app, ApiHandler h);

// Error → application/problem+json with a status for its code and an `errors` list naming
// each invalid field.
http::Response problem(const Error& e);
http::Response ok_json(int status, const json& body);

// True if the request's media type (before any parameters) is one of `types` (lowercase).
bool content_type_is(const http::Request& req, std::initializer_list<std::string_view> types);

// RFC 3339 UTC with milliseconds, e.g. 2026-11-23T21:44:00.123Z.
std::string format_time(TimePoint t);

// Parses RFC 3339 ("2026-11-23T21:44:00Z", fractions and ±hh:mm offsets allowed).
std::optional<TimePoint> parse_time(const std::string& text);

// Reads a JSON object body; collects field errors for wrong types.
class Input {
 public:
  // Fails with a 400-class Error naming "body" when the body is not a JSON object.
  static Result<Input> parse(const std::string& body);
  explicit Input(json j) : j_(std::move(j)) {}

  // A string field ("" when absent). `path` may be nested: "seller.email".
  std::string str(const std::string& path);
  std::optional<double> number(const std::string& path);
  // A whole number given as a number or a string, as text ("587").
  std::optional<std::string> integer_text(const std::string& path);
  std::optional<bool> boolean(const std::string& path);
  // An array of strings (empty when absent).
  std::vector<std::string> strings(const std::string& path);
  bool has(const std::string& path) const;
  // Fails with every type error collected so far.
  Result<void> check() const;

 private:
  const json* find(const std::string& path) const;
  json j_;
  std::vector<FieldError> errors_;
};

}  // namespace herald::api
