// Input validation shared by the API, CSV import and the sandbox.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/error.h"

namespace herald {

// A pragmatic check of an addr-spec (what providers accept): one '@', a non-empty local part
// of allowed characters, a domain of dot-separated labels with a TLD, no spaces, ≤ 254 chars.
bool is_valid_email(std::string_view address);

// Canonical E.164 ("+15551234567") of a phone number written with its country code, or what is
// wrong with it in words for a field error ("is not a valid number for the United States").
Result<std::string> check_phone(std::string_view input);

// Canonical E.164 ("+15551234567") if `input` is a valid phone number written with its
// country code (leading '+'); nullopt otherwise. Uses libphonenumber.
std::optional<std::string> to_e164(std::string_view input);

// True if `url` is an absolute http(s) URL with a host.
bool is_valid_http_url(std::string_view url);

}  // namespace herald
