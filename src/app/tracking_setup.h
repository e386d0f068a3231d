// Setting up delivery tracking for an account: when an agent connects an integration (and for
// the platform's accounts at start-up), Herald decides how that account's events will reach
// it (a key given by hand, Twilio's per-message callbacks, or registering its receiver with
// the provider's API) and keeps the outcome as a store::TrackingSetup; the tracking worker runs
// the registrations, retrying a provider that could not be reached. When an agent disconnects,
// the receiver Herald registered is removed from the provider again.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "app/app.h"
#include "core/secret.h"
#include "net/http_client.h"
#include "store/tracking.h"

namespace herald::app {

// Decides and stores the set-up of `owner`'s account on `channel` (an agent id, or
// kPlatformOwner for the platform's account) as it is connected now: a registration already
// done for the same account and receiver is kept; anything new waits for the worker (which is
// woken). No account: the set-up is removed and nullopt returned.
Result<std::optional<store::TrackingSetup>> plan_tracking(App& app, const std::string& owner,
                                                          Channel channel);

// Plans the platform's accounts (start-up).
Result<void> plan_platform_tracking(App& app);

// Registers Herald's receiver for one pending set-up with its provider, through `http`; the
// set-up moves to on (its key sealed), back to pending later (the provider could not be reached
// or answered "try later"; attempts counted), or failing (with the provider's reason).
Result<store::TrackingSetup> register_receiver(App& app, net::HttpClient& http,
                                               store::TrackingSetup setup);

// How long removing a receiver from its provider may take in all when an agent disconnects
// (the agent waits for it; a provider that answers does so in well under a second a request).
inline constexpr std::chrono::milliseconds kUnregisterBudget{5000};

// Removes from the provider the webhook Herald registered for `owner`'s account on `channel`, so
// the provider stops posting events for it, through `http` within `budget` in all (on the
// app's clock). Runs while the account is still connected: it needs its credentials. Nothing
// to remove (ok) unless the set-up says Herald may have registered (on, pending or failing;
// not off, nor manual: a key given by hand means the agent set the webhook up), nor for the
// platform's accounts, which no agent's disconnect touches. The error says why in plain words
// (the provider refused, could not be reached, or did not finish in time), without secrets.
Result<void> unregister_receiver(App& app, net::HttpClient& http, const std::string& owner,
                                 Channel channel,
                                 std::chrono::milliseconds budget = kUnregisterBudget);

// Runs up to `limit` due registrations; returns how many ran.
Result<int> run_due_registrations(App& app, net::HttpClient& http, int limit);

// The key that verifies `provider_id`'s posts for `owner`: the account's key field (a key given
// by hand, or Twilio's Auth Token), else the key its registration returned.
// Errc::not_found when the owner has no such account or it has no key yet.
Result<Secret> tracking_key(App& app, std::string_view provider_id, const std::string& owner);

}  // namespace herald::app
