// Wire encodings shared by the provider adapters: JSON bodies, HTTP Basic/Bearer auth,
// application/x-www-form-urlencoded, multipart/form-data, and the few parsers the
// classifiers need. Pure functions; no I/O. Nothing here throws on bad input.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace herald::providers {

// Ordered (name, value) pairs of a form; names may repeat (Mailgun's `to`).
using FormFields = std::vector<std::pair<std::string, std::string>>;

// Standard base64 (RFC 4648 §4, with padding), via OpenSSL's EVP_EncodeBlock.
std::string base64_encode(std::string_view data);

// Decodes standard base64 (padding required where the length needs it; line breaks are
// ignored), via OpenSSL's EVP_Decode*; nullopt when `text` is not base64.
std::optional<std::string> base64_decode(std::string_view text);

// `Basic base64(user:password)` (RFC 7617).
std::string basic_auth(std::string_view user, std::string_view password);

// `Bearer <token>` (RFC 6750).
std::string bearer_auth(std::string_view token);

// Percent-encodes everything except RFC 3986 unreserved characters (ALPHA DIGIT - . _ ~).
// Safe for a path segment and for a form value.
std::string percent_encode(std::string_view text);

// An application/x-www-form-urlencoded body: name=value pairs joined by `&`, both sides
// percent-encoded (space as %20, which every decoder accepts).
std::string form_urlencode(const FormFields& fields);

// Decodes an application/x-www-form-urlencoded body (`+` as space, %XX escapes) into its
// (name, value) pairs in order; nullopt on a malformed escape.
std::optional<FormFields> form_decode(std::string_view body);

// The first value of `name` in `url`'s query string, percent-decoded ("" when absent).
std::string query_param(std::string_view url, std::string_view name);

// A JSON document as a request body. Invalid UTF-8 in a string is replaced with U+FFFD
// instead of throwing, so a badly encoded template can't crash a worker.
std::string json_body(const nlohmann::json& document);

// Parses a JSON body; nullopt when it is not JSON (e.g. Mailgun's bare `Forbidden`).
std::optional<nlohmann::json> parse_json(std::string_view body);

// A string member of a JSON object, or "" when absent or not a string.
std::string json_string(const nlohmann::json& object, std::string_view key);

// A multipart/form-data body and the Content-Type header value naming its boundary.
struct Multipart {
  std::string content_type;  // multipart/form-data; boundary=...
  std::string body;
};

// Encodes text fields as multipart/form-data (RFC 7578) with the given boundary. Field
// names are escaped per the HTML form-submission algorithm (`"` → %22, CR → %0D, LF → %0A).
Multipart multipart_form(const FormFields& fields, std::string_view boundary);

// Encodes text fields as multipart/form-data with a fresh random boundary that occurs in
// no field (128 random bits from OpenSSL's RAND_bytes).
Multipart multipart_form(const FormFields& fields);

// Lowercase hex SHA-256 of `data`.
std::string sha256_hex(std::string_view data);

// Parses an IMF-fixdate HTTP date (`Sun, 06 Nov 1994 08:49:37 GMT`, RFC 9110 §5.6.7) as
// seconds since the Unix epoch.
std::optional<std::chrono::sys_seconds> parse_http_date(std::string_view text);

// Parses a non-negative decimal integer that is the whole of `text` (surrounding
// blanks allowed).
std::optional<long long> parse_decimal(std::string_view text);

}  // namespace herald::providers
