// A provider's delivery-webhook twin: how its event posts are signed and verified, how their
// events read in Herald's vocabulary (core/events.h), and how Herald registers its receiver
// with the provider's API and removes it again. Like the send adapters, pure: no I/O, no clock
// of its own, no store; the receiver (http/api) and the registration flows (app) do the rest.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "core/events.h"
#include "core/http_message.h"
#include "core/route.h"

namespace herald::providers {

// A webhook post exactly as it arrived: the raw bytes, before anything parses them.
struct WebhookRequest {
  std::string url;  // the public URL the provider posted to (Herald's receiver), query included
  Headers headers;
  std::string body;
  std::optional<std::string_view> header(std::string_view name) const {
    return find_header(headers, name);
  }
};

// How far from Herald's clock a signed timestamp may be (Svix and Mailgun: 5 minutes).
inline constexpr std::chrono::seconds kWebhookTolerance{300};

// One step of registering Herald's receiver with the provider: the next request to make,
// given the answers to the steps so far, or the verification key it ends with (Resend's
// whsec_ secret, SendGrid's public key, Mailgun's signing key), or why it cannot.
// Removing the receiver (unregister_step) takes steps of the same shape that never carry a
// key: neither a request nor an error means it is done.
struct RegistrationStep {
  std::optional<HttpRequest> request;
  std::optional<std::string> key;  // done
  std::optional<Error> error;      // failed (bad credentials, plan without webhooks, …)
};

class WebhookTwin {
 public:
  virtual ~WebhookTwin() = default;

  // Whether `request` was signed with `key` (the account's verification key: Resend's whsec_
  // secret, SendGrid's base64 DER public key, Mailgun's webhook signing key, Twilio's auth
  // token) and is fresh at `now`. Errc::unauthorized when a signature is missing,
  // Errc::forbidden when it is wrong or stale. Constant-time in the secret parts.
  virtual Result<void> verify(const WebhookRequest& request, std::string_view key,
                              TimePoint now) const = 0;

  // The request's replay key, if the provider signs one per request (Mailgun's token): a key
  // seen before is a replay and is refused. Empty: the provider has none.
  virtual std::string replay_key(const WebhookRequest& /*request*/) const { return {}; }

  // The events a verified request carries, normalized (an event Herald does not know becomes
  // EventType::unknown, never an error; each keeps its raw payload, capped). Errc::invalid_input
  // (naming what is wrong) for a body that is not the provider's shape.
  virtual Result<std::vector<DeliveryEvent>> parse(const WebhookRequest& request) const = 0;

  // The next registration step for `credentials`, to point the provider's events for that
  // account at `receiver_url`. Providers whose callbacks are set per message (Twilio's
  // StatusCallback) have no steps: the first call returns a step with neither request nor key.
  virtual RegistrationStep register_step(const Credentials& credentials,
                                         std::string_view receiver_url,
                                         std::span<const HttpResponse> answers) const = 0;

  // The next step of removing what register_step set up for `credentials` at `receiver_url`
  // (an agent disconnects the account), so the provider stops posting to a receiver that no
  // longer knows it; the agent's other webhooks are left as they are. Done (neither request
  // nor error) once nothing at the provider posts there; a webhook already gone counts as
  // removed. Default: nothing to remove (Twilio's callbacks are set per message).
  virtual RegistrationStep unregister_step(const Credentials& /*credentials*/,
                                           std::string_view /*receiver_url*/,
                                           std::span<const HttpResponse> /*answers*/) const {
    return {};
  }
};

}  // namespace herald::providers
