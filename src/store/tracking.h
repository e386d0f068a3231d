// Delivery tracking's storage: the receivers' durable inbox of verified webhook posts (written
// before a post is answered, so an acknowledged event is never lost) and the normalized events,
// applied to their messages and their recipients' suppressions a round of posts at a time.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/error.h"
#include "core/events.h"
#include "core/http_message.h"
#include "core/types.h"

namespace herald::store {

// A verified webhook post, as it arrived.
struct WebhookPost {
  std::string id;
  std::string provider;    // "resend", …
  std::string owner;       // the account it came for: an agent id, or "platform"
  std::string replay_key;  // the provider's per-request key (Mailgun's token), or empty
  std::string url;
  Headers headers;
  std::string body;
  TimePoint received_at;
};

// A post's events as its provider's webhook twin read them, or why it could not be read.
struct PostEvents {
  const WebhookPost* post = nullptr;  // never null
  std::vector<DeliveryEvent> events;
  std::string unreadable;  // not empty: the post is set aside with this reason
};

struct TrackingPolicy {
  int soft_bounce_limit = 3;  // HERALD_SOFT_BOUNCE_LIMIT: soft bounces in a row that suppress
  // How long an event naming a Herald message not yet written down waits for it. (A campaign
  // message is written whole once its provider has answered; a fast provider may report on it
  // first.) Its post is tried again, sooner while it is young; past this, it is kept unmatched.
  std::chrono::milliseconds early_event_wait = std::chrono::minutes(10);
};

// What applying one post's events did.
struct EventsApplied {
  int recorded = 0;        // new events kept
  int duplicates = 0;      // events seen before (same provider and event key)
  int unmatched = 0;       // events for no message of this owner (kept, without a message)
  int waiting = 0;         // events for a message not written down yet (the post is tried again)
  int status_changes = 0;  // messages whose status moved forward
  int suppressed = 0;      // addresses added to a suppression list
};

// A campaign's delivery results, as its messages' events report them (each message counted
// once per outcome; opens and clicks once per message).
struct CampaignResults {
  std::int64_t delivered = 0;
  std::int64_t bounced = 0;
  std::int64_t complained = 0;
  std::int64_t unsubscribed = 0;
  std::int64_t unique_opens = 0;
  std::int64_t unique_clicks = 0;
};

// An event as kept, for a message's timeline.
struct StoredEvent {
  std::string provider;
  DeliveryEvent event;
  TimePoint received_at;
};

// How one account's delivery events reach Herald. `off` and `manual` need nothing more;
// `pending` waits for the tracking worker to register Herald's receiver with the provider;
// `on` is registered (its key kept sealed); `failing` could not be (the reason says why).
enum class TrackingState { off, manual, pending, on, failing };
std::string_view to_string(TrackingState s);
std::optional<TrackingState> parse_tracking_state(std::string_view s);

// One account's tracking set-up: the agent's own integration on a channel, or the platform's
// account ("platform").
struct TrackingSetup {
  std::string owner;
  Channel channel = Channel::email;
  std::string provider;
  std::string account;  // which account it was set up for (a fingerprint of its credentials)
  TrackingState state = TrackingState::off;
  std::string reason;  // off / failing: why, in words an agent reads
  std::string receiver_url;
  std::string sealed_key;  // the key registration returned, sealed (empty: none)
  std::string key_hint;
  int attempts = 0;   // registrations tried since the last success
  TimePoint next_at;  // pending: not before
  TimePoint updated_at;
};

class TrackingStore {
 public:
  virtual ~TrackingStore() = default;

  // Keeps verified posts until their events are applied, in one transaction (the receivers'
  // group commit: one write for every post that arrived while the last one was written). One
  // answer per post: false (nothing kept) when its replay key was seen before.
  virtual Result<std::vector<bool>> record_posts(std::span<const WebhookPost> posts) = 0;
  Result<bool> record_post(const WebhookPost& post) {
    auto kept = record_posts(std::span(&post, 1));
    if (!kept) return std::unexpected(kept.error());
    return kept->front();
  }
  // Posts not yet applied and not waiting to be tried again after `now`, oldest first.
  virtual Result<std::vector<WebhookPost>> pending_posts(TimePoint now, int limit) = 0;
  // Applies a round of posts in one transaction, each as apply_events says; a post that could
  // not be read is set aside with its reason and not tried again. One answer per post.
  virtual Result<std::vector<EventsApplied>> apply_posts(std::span<const PostEvents> posts,
                                                         const TrackingPolicy& policy,
                                                         TimePoint now) = 0;
  // Applies a post's events and marks it applied. Each event is kept once (by provider and
  // event key) and joined to its message by Herald's id, else by the provider's id, only
  // within the post's owner (an agent's own account reports only that agent's messages; the
  // platform's only messages sent via the platform). A message's status moves only forward
  // (status_after); its recipient's suppression follows suppression_for. An event naming a
  // message that does not exist yet waits (EventsApplied::waiting): the rest are applied and
  // the post is tried again later (policy.early_event_wait).
  Result<EventsApplied> apply_events(const WebhookPost& post, std::span<const DeliveryEvent> events,
                                     const TrackingPolicy& policy, TimePoint now) {
    const PostEvents one{&post, {events.begin(), events.end()}, {}};
    auto applied = apply_posts(std::span(&one, 1), policy, now);
    if (!applied) return std::unexpected(applied.error());
    return applied->front();
  }
  // A message's delivery events, in the order they happened.
  virtual Result<std::vector<StoredEvent>> events_of(const std::string& message_id) = 0;
  virtual Result<CampaignResults> campaign_results(const std::string& agent_id,
                                                   const std::string& campaign_id) = 0;

  // Tracking set-ups, one per owner and channel.
  virtual Result<void> put_setup(const TrackingSetup& setup) = 0;
  virtual Result<std::optional<TrackingSetup>> setup_of(const std::string& owner,
                                                        Channel channel) = 0;
  virtual Result<void> delete_setup(const std::string& owner, Channel channel) = 0;
  // Pending set-ups whose time has come, soonest first.
  virtual Result<std::vector<TrackingSetup>> due_setups(TimePoint now, int limit) = 0;
};

}  // namespace herald::store
