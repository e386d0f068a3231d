// Twilio's request signature (X-Twilio-Signature): base64 of HMAC-SHA1 keyed with the
// account's Auth Token over the URL Twilio was configured with, followed by every POST
// parameter sorted by name (repeated names by value), each appended as name + value.
// https://www.twilio.com/docs/usage/webhooks/webhooks-security (see provider-specs/README.md).
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace herald::webhooks {

// Form parameters in arrival order (name, value), already percent-decoded.
using FormParams = std::vector<std::pair<std::string, std::string>>;

// The signature Twilio sends for a form-encoded request to `url` with `params`.
std::string twilio_signature(std::string_view auth_token, std::string_view url,
                             std::span<const std::pair<std::string, std::string>> params);

// True if `signature` is the one Twilio computes for this request (constant-time comparison).
// Like Twilio's SDK it also accepts the URL with the default port (:443 / :80) added or removed,
// since Twilio may sign either form.
bool verify_twilio_signature(std::string_view auth_token, std::string_view url,
                             std::span<const std::pair<std::string, std::string>> params,
                             std::string_view signature);

}  // namespace herald::webhooks
