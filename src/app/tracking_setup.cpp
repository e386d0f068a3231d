#include "app/tracking_setup.h"

#include <algorithm>
#include <functional>
#include <span>
#include <vector>

#include <spdlog/spdlog.h>

#include "app/agents.h"
#include "app/tracking.h"
#include "delivery/rate_limiter.h"

namespace herald::app {

namespace {

// Registration steps one provider may take (Mailgun: a listing, seven webhook types with a
// retry each, the signing key; unregistering, Resend: 20 pages of webhooks and a delete); more
// is a twin that does not converge.
constexpr std::size_t kMaxSteps = 24;
// Registrations tried before a provider that keeps answering "later" is called failing.
constexpr int kMaxAttempts = 8;

// One owner's account on a channel, as its sends see it.
struct Account {
  const providers::Provider* provider = nullptr;  // nullptr: a provider Herald does not know
  Credentials credentials;
};

Result<std::optional<Account>> account_of(App& app, const std::string& owner, Channel channel) {
  Result<Route> route = fail(Error::not_found("no account"));
  if (owner == kPlatformOwner) {
    const PlatformAccount& account = app.platform().account(channel);
    if (account.provider.empty() || !account.missing.empty()) return std::nullopt;
    route = platform_route(Agent{}, channel, app.platform());
  } else {
    auto agent = load_agent(app, owner);
    if (!agent) return std::unexpected(agent.error());
    const auto& own = agent->integration(channel);
    if (!own) return std::nullopt;
    // Tracking is set up for an inactive integration too, so it works the moment it is on.
    Agent probe = *agent;
    (channel == Channel::email ? probe.email : probe.sms)->active = true;
    route = resolve_route(probe, channel, app.platform());
  }
  if (!route) return std::unexpected(route.error());
  return Account{providers::find_provider(route->provider), std::move(route->credentials)};
}

// What the key a registration returned is sealed as (agents.h's labels; no field has this name).
constexpr std::string_view kRegisteredKey = "registeredWebhookKey";

// The set-up `account` needs now, given what was set up before (`previous`).
store::TrackingSetup decide(const App& app, const std::string& owner, Channel channel,
                            const Account& account,
                            const std::optional<store::TrackingSetup>& previous) {
  store::TrackingSetup s;
  s.owner = owner;
  s.channel = channel;
  s.provider = account.credentials.provider;
  s.account = delivery::account_key(account.credentials);
  s.updated_at = s.next_at = app.clock().now();
  const providers::WebhookTwin* twin = account.provider ? account.provider->webhook() : nullptr;
  if (twin == nullptr) {
    s.reason = providers::display_name(s.provider) + " does not report deliveries back to Herald";
    return s;
  }
  const providers::ProviderInfo& info = account.provider->info();
  s.receiver_url = receiver_url(app, *account.provider, owner);
  const bool has_key =
      !account.credentials.secrets.get(std::string(info.webhooks.key_field)).reveal().empty();
  if (info.webhooks.registration_api && has_key) {
    s.state = store::TrackingState::manual;  // a key given by hand: the agent set it up
    return s;
  }
  if (!tracking_blocker(app.config()).empty()) {
    // (The operator's own words, with the setting to change, are in the start-up log.)
    s.reason = app.config().tracking
                   ? "providers send delivery events only to a secure (https) address, which "
                     "this server does not have yet; the platform's operator can set one up"
                   : "delivery tracking is turned off on this server";
    return s;
  }
  if (!info.webhooks.registration_api) {
    s.state = store::TrackingState::on;  // callbacks ride on every send (Twilio)
    return s;
  }
  if (previous && previous->state == store::TrackingState::on && previous->provider == s.provider &&
      previous->account == s.account && previous->receiver_url == s.receiver_url &&
      !previous->sealed_key.empty()) {
    return *previous;
  }
  s.state = store::TrackingState::pending;
  return s;
}

// A twin's steps bound to one account and receiver: its register_step or its unregister_step.
using Steps = std::function<providers::RegistrationStep(std::span<const HttpResponse>)>;

// Plays `next` through `http`: each request asked for is performed and its answer (status 0:
// none came) handed to the next step, until a step asks for nothing more or kMaxSteps have
// run. With a `deadline` (on the app's clock) each request may take only what is left of it,
// and none is sent once nothing is. The last step: a request still in it did not finish.
providers::RegistrationStep run_steps(App& app, net::HttpClient& http, const Steps& next,
                                      std::optional<TimePoint> deadline = std::nullopt) {
  std::vector<HttpResponse> answers;
  providers::RegistrationStep step;
  for (std::size_t i = 0; i <= kMaxSteps; ++i) {
    step = next(answers);
    if (!step.request) break;
    if (deadline) {
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(*deadline - app.clock().now());
      if (left <= std::chrono::milliseconds::zero()) break;
      step.request->timeout = left;
    }
    auto answer = http.perform(*step.request);
    answers.push_back(answer ? std::move(*answer) : HttpResponse{});  // status 0: no answer
  }
  return step;
}

// Whether Herald may have registered a webhook for a set-up in `state`: on, or pending or
// failing, which may have got part of the way (a webhook made whose answer was lost, some of
// Mailgun's types set) or be registering right now.
bool may_have_registered(store::TrackingState state) {
  return state == store::TrackingState::on || state == store::TrackingState::pending ||
         state == store::TrackingState::failing;
}

// The wait before registration attempt `attempts` + 1: 30 s, doubling, at most an hour.
std::chrono::seconds backoff(int attempts) {
  return std::min(std::chrono::seconds(30 << std::min(attempts, 7)), std::chrono::seconds(3600));
}

}  // namespace

Result<std::optional<store::TrackingSetup>> plan_tracking(App& app, const std::string& owner,
                                                          Channel channel) {
  auto& tracking = app.store().tracking();
  app.tracking_keys().forget(owner);  // the account changed: its posts verify with its new key
  auto account = account_of(app, owner, channel);
  if (!account) return std::unexpected(account.error());
  if (!*account) {
    if (auto r = tracking.delete_setup(owner, channel); !r) return std::unexpected(r.error());
    return std::nullopt;
  }
  auto previous = tracking.setup_of(owner, channel);
  if (!previous) return std::unexpected(previous.error());
  store::TrackingSetup setup = decide(app, owner, channel, **account, *previous);
  if (auto r = tracking.put_setup(setup); !r) return std::unexpected(r.error());
  if (setup.state == store::TrackingState::pending) app.wake_tracking();
  return setup;
}

Result<void> plan_platform_tracking(App& app) {
  for (Channel channel : {Channel::email, Channel::sms}) {
    auto planned = plan_tracking(app, std::string(kPlatformOwner), channel);
    if (!planned) return std::unexpected(planned.error());
    if (*planned && (*planned)->state == store::TrackingState::off) {
      const std::string blocked = tracking_blocker(app.config());
      spdlog::info("delivery tracking for the platform's {} account is off: {}",
                   channel == Channel::email ? "email" : "SMS",
                   blocked.empty() ? (*planned)->reason : blocked);
    }
  }
  return {};
}

Result<store::TrackingSetup> register_receiver(App& app, net::HttpClient& http,
                                               store::TrackingSetup setup) {
  auto account = account_of(app, setup.owner, setup.channel);
  if (!account) return std::unexpected(account.error());
  const providers::WebhookTwin* twin =
      *account && (*account)->provider ? (*account)->provider->webhook() : nullptr;
  if (twin == nullptr || (*account)->credentials.provider != setup.provider) {
    // The account changed since this was planned; its own plan replaces this one.
    return fail(Error{Errc::conflict, "the account changed while tracking was being set up"});
  }
  const Credentials& credentials = (*account)->credentials;
  const providers::RegistrationStep step =
      run_steps(app, http, [&](std::span<const HttpResponse> answers) {
        return twin->register_step(credentials, setup.receiver_url, answers);
      });
  setup.updated_at = app.clock().now();
  if (step.key && !step.key->empty()) {
    const Secret key(*step.key);
    setup.sealed_key =
        app.sealer().seal(key.reveal(), setup.owner, seal_label(setup.channel, kRegisteredKey));
    setup.key_hint = key.hint();
    setup.state = store::TrackingState::on;
    setup.reason.clear();
    setup.attempts = 0;
  } else {
    const Error error = step.error ? *step.error
                                   : Error{Errc::provider, providers::display_name(setup.provider) +
                                                               " did not finish setting up "
                                                               "delivery tracking"};
    ++setup.attempts;
    setup.reason = error.message;
    if (error.retryable && setup.attempts < kMaxAttempts) {
      setup.next_at = setup.updated_at + backoff(setup.attempts);
    } else {
      setup.state = store::TrackingState::failing;
    }
    spdlog::warn("delivery tracking for {} ({}): {}", setup.owner, setup.provider, error.message);
  }
  if (auto r = app.store().tracking().put_setup(setup); !r) return std::unexpected(r.error());
  app.tracking_keys().forget(setup.owner);
  return setup;
}

Result<void> unregister_receiver(App& app, net::HttpClient& http, const std::string& owner,
                                 Channel channel, std::chrono::milliseconds budget) {
  // The platform's accounts are the operator's: they keep their receivers.
  if (owner == kPlatformOwner) return {};
  auto setup = app.store().tracking().setup_of(owner, channel);
  if (!setup) return std::unexpected(setup.error());
  if (!*setup || !may_have_registered((*setup)->state)) return {};
  auto account = account_of(app, owner, channel);
  if (!account) return std::unexpected(account.error());
  const providers::WebhookTwin* twin =
      *account && (*account)->provider ? (*account)->provider->webhook() : nullptr;
  // Only the account the set-up was made for holds what was registered (another one connected
  // since has been planned afresh, so this does not happen unless the store was changed by hand).
  if (twin == nullptr || (*account)->credentials.provider != (*setup)->provider ||
      delivery::account_key((*account)->credentials) != (*setup)->account) {
    return {};
  }
  const Credentials& credentials = (*account)->credentials;
  const std::string& receiver = (*setup)->receiver_url;  // as registered, whatever the URL now
  const providers::RegistrationStep step = run_steps(
      app, http,
      [&](std::span<const HttpResponse> answers) {
        return twin->unregister_step(credentials, receiver, answers);
      },
      app.clock().now() + budget);
  if (step.error) return fail(*step.error);
  if (step.request) {
    Error e{Errc::provider, providers::display_name((*setup)->provider) +
                                " did not finish removing delivery tracking in time"};
    e.provider = (*setup)->provider;
    e.retryable = true;
    return fail(std::move(e));
  }
  return {};
}

Result<int> run_due_registrations(App& app, net::HttpClient& http, int limit) {
  auto due = app.store().tracking().due_setups(app.clock().now(), limit);
  if (!due) return std::unexpected(due.error());
  for (store::TrackingSetup& setup : *due) {
    auto done = register_receiver(app, http, std::move(setup));
    if (!done && done.error().code != Errc::conflict) return std::unexpected(done.error());
  }
  return static_cast<int>(due->size());
}

// tracking_key, read from the account and its set-up.
static Result<Secret> read_tracking_key(App& app, std::string_view provider_id,
                                        const std::string& owner) {
  const providers::Provider* provider = providers::find_provider(provider_id);
  if (provider == nullptr || provider->webhook() == nullptr)
    return fail(Error::not_found("no such receiver"));
  const providers::ProviderInfo& info = provider->info();
  const auto none = [&] {
    return fail(
        Error::not_found((owner == kPlatformOwner ? "the platform has no " : "this agent has no ") +
                         std::string(info.display_name) + " account that receives events here"));
  };
  auto account = account_of(app, owner, info.channel);
  if (!account) {
    if (account.error().code == Errc::not_found) return none();
    return std::unexpected(account.error());
  }
  if (!*account || (*account)->credentials.provider != info.id) return none();
  if (Secret own = (*account)->credentials.secrets.get(std::string(info.webhooks.key_field));
      !own.reveal().empty()) {
    return own;
  }
  auto setup = app.store().tracking().setup_of(owner, info.channel);
  if (!setup) return std::unexpected(setup.error());
  if (!*setup || (*setup)->provider != info.id || (*setup)->sealed_key.empty()) return none();
  return app.sealer().open((*setup)->sealed_key, owner, seal_label(info.channel, kRegisteredKey));
}

Result<Secret> tracking_key(App& app, std::string_view provider_id, const std::string& owner) {
  const std::string provider(provider_id);
  const TimePoint now = app.clock().now();
  if (auto kept = app.tracking_keys().find(provider, owner, now)) return std::move(*kept);
  auto key = read_tracking_key(app, provider_id, owner);
  if (key) app.tracking_keys().keep(provider, owner, *key, now);
  return key;
}

}  // namespace herald::app
