// Shared fixtures for the webhook twin tests: requests as they arrive, injected times, the
// signature vectors file, and a driver that plays a twin's registration (and unregistration)
// steps against scripted answers.
#pragma once

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/error.h"
#include "providers/provider.h"
#include "providers/webhook.h"

namespace herald::providers::fixtures {

inline WebhookRequest post(std::string url, Headers headers, std::string body) {
  return WebhookRequest{std::move(url), std::move(headers), std::move(body)};
}

// The instant `seconds` after the Unix epoch.
inline TimePoint at(long long seconds) {
  return TimePoint(std::chrono::seconds(seconds));
}

inline const WebhookTwin& twin_of(std::string_view provider) {
  const WebhookTwin* twin = provider_for(provider).webhook();
  if (twin == nullptr) {
    ADD_FAILURE() << provider << " has no webhook twin";
    std::abort();
  }
  return *twin;
}

// webhook-signature-vectors.json from provider-specs (HERALD_PROVIDER_SPECS, else the folder
// beside the repository's parent), or nullopt when it is not there.
inline std::optional<nlohmann::json> signature_vectors() {
  const char* env = std::getenv("HERALD_PROVIDER_SPECS");
  const std::filesystem::path dir =
      env ? std::filesystem::path(env)
          : std::filesystem::path(HERALD_SOURCE_DIR) / ".." / "shared" / "provider-specs";
  std::ifstream in(dir / "webhook-signature-vectors.json");
  if (!in) return std::nullopt;
  return nlohmann::json::parse(in);
}

// Whether `result` failed with `code` (printing the error otherwise).
template <class T>
::testing::AssertionResult failed_with(const Result<T>& result, Errc code) {
  if (result.has_value()) return ::testing::AssertionFailure() << "succeeded";
  if (result.error().code != code) {
    return ::testing::AssertionFailure()
           << "failed with code " << static_cast<int>(result.error().code) << ": "
           << result.error().message;
  }
  return ::testing::AssertionSuccess() << result.error().message;
}

// A registration (or unregistration) played to its end: every request the twin asked for, in
// order, and the step it ended with (a key, an error, or neither).
struct Registration {
  std::vector<HttpRequest> requests;
  RegistrationStep last;
};

// A provider API scripted by the test: the answer to each request.
using Answerer = std::function<HttpResponse(const HttpRequest&)>;

// An API that gives every request the same `answer` (a refusal, no answer at all).
inline Answerer always(HttpResponse answer) {
  return [answer = std::move(answer)](const HttpRequest&) { return answer; };
}

// Plays a twin's steps (`next`: register_step or unregister_step bound to an account and a
// receiver), answering each request with `answer`; stops after 24 requests (tracking_setup.cpp's
// kMaxSteps: a twin that never ends fails the test).
inline Registration play_steps(
    const std::function<RegistrationStep(std::span<const HttpResponse>)>& next,
    const Answerer& answer) {
  Registration r;
  std::vector<HttpResponse> answers;
  for (int i = 0; i <= 24; ++i) {
    RegistrationStep step = next(answers);
    if (!step.request) {
      r.last = std::move(step);
      return r;
    }
    r.requests.push_back(*step.request);
    answers.push_back(answer(*step.request));
  }
  ADD_FAILURE() << "the twin's steps did not end after 24 requests";
  return r;
}

// Plays `twin`'s registration of `receiver_url` for `credentials` against `answer`.
inline Registration register_with(const WebhookTwin& twin, const Credentials& credentials,
                                  std::string_view receiver_url, const Answerer& answer) {
  return play_steps(
      [&](std::span<const HttpResponse> answers) {
        return twin.register_step(credentials, receiver_url, answers);
      },
      answer);
}

// Plays `twin`'s removal of `receiver_url` for `credentials` against `answer`.
inline Registration unregister_with(const WebhookTwin& twin, const Credentials& credentials,
                                    std::string_view receiver_url, const Answerer& answer) {
  return play_steps(
      [&](std::span<const HttpResponse> answers) {
        return twin.unregister_step(credentials, receiver_url, answers);
      },
      answer);
}

// Whether a played unregistration ended done: no request left, no error, no key.
inline ::testing::AssertionResult removed(const Registration& r) {
  if (r.last.error) return ::testing::AssertionFailure() << "failed: " << r.last.error->message;
  if (r.last.key) return ::testing::AssertionFailure() << "ended with a key";
  return ::testing::AssertionSuccess();
}

}  // namespace herald::providers::fixtures
