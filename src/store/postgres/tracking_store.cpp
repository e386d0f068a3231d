// PostgreSQL implementation of TrackingStore: the receivers' inbox, events applied to their
// messages and recipients' suppressions in one transaction per post, and tracking set-ups.
#include <algorithm>

#include "core/id.h"
#include "store/common/json_fields.h"
#include "store/common/tracking_rules.h"
#include "store/postgres/database.h"
#include "store/postgres/sql.h"

namespace herald::store::postgres {

namespace {

constexpr Sql kRecordPost{
    "record_post",
    "INSERT INTO webhook_posts (id, provider, owner, replay_key, url, headers, body, received_at)"
    " VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7, $8) ON CONFLICT DO NOTHING"};
constexpr Sql kPendingPosts{
    "pending_posts",
    "SELECT id, provider, owner, replay_key, url, headers::text, body, received_at FROM"
    " webhook_posts WHERE applied_at = 0 AND retry_at <= $1 ORDER BY received_at LIMIT $2"};
constexpr Sql kRetryPost{"retry_post", "UPDATE webhook_posts SET retry_at = $1 WHERE id = $2"};
constexpr Sql kAppliedPost{"applied_post",
                           "UPDATE webhook_posts SET applied_at = $1 WHERE id = $2"};
constexpr Sql kRejectPost{"reject_post",
                          "UPDATE webhook_posts SET applied_at = $1, error = $2 WHERE id = $3"};
constexpr Sql kEventsOf{
    "events_of",
    "SELECT provider, event_key, type, bounce, provider_event, provider_message_id, recipient,"
    " occurred_at, received_at, reason, url, raw FROM delivery_events WHERE message_id = $1"
    " AND message_id <> '' ORDER BY occurred_at, received_at"};
constexpr Sql kCampaignResults{
    "campaign_results",
    "SELECT delivered, bounced, complained, unsubscribed, unique_opens, unique_clicks FROM"
    " campaign_results WHERE agent_id = $1 AND campaign_id = $2"};

#define HERALD_SETUP_COLUMNS                                                              \
  "owner, channel, provider, account, state, reason, receiver_url, sealed_key, key_hint," \
  " attempts, next_at, updated_at"
constexpr Sql kPutSetup{
    "put_setup",
    "INSERT INTO tracking_setups (" HERALD_SETUP_COLUMNS
    ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) ON CONFLICT (owner, channel)"
    " DO UPDATE SET provider = excluded.provider, account = excluded.account, state ="
    " excluded.state, reason = excluded.reason, receiver_url = excluded.receiver_url,"
    " sealed_key = excluded.sealed_key, key_hint = excluded.key_hint, attempts ="
    " excluded.attempts, next_at = excluded.next_at, updated_at = excluded.updated_at"};
constexpr Sql kSetupOf{"setup_of", "SELECT " HERALD_SETUP_COLUMNS
                                   " FROM tracking_setups WHERE owner = $1 AND channel = $2"};
constexpr Sql kDeleteSetup{"delete_setup",
                           "DELETE FROM tracking_setups WHERE owner = $1 AND channel = $2"};
constexpr Sql kDueSetups{"due_setups", "SELECT " HERALD_SETUP_COLUMNS
                                       " FROM tracking_setups WHERE state = 'pending' AND"
                                       " next_at <= $1 ORDER BY next_at LIMIT $2"};
#undef HERALD_SETUP_COLUMNS

// The message an event names, within the post's owner: by Herald's id, else by the provider's
// id (which a whole batch may share: the event's recipient picks its row, ASCII letters in any
// case). The platform's account reports only messages sent through it (or not yet recorded).
#define HERALD_TARGET "SELECT id, agent_id, channel, status, to_address, campaign_id FROM messages"
#define HERALD_BY_PROVIDER                                                                    \
  " WHERE route_provider = $2 AND provider_message_id = $1 AND provider_message_id <> '' AND" \
  " provider_id_lookup AND ($3 = '' OR lower(to_address) = lower($3 COLLATE \"C\"))"
#define HERALD_PLATFORM " AND (route_via = 'platform' OR route_via = '')"
constexpr Sql kTargetById{"event_target_by_id", HERALD_TARGET " WHERE id = $1 AND agent_id = $2"};
constexpr Sql kPlatformTargetById{"event_platform_target_by_id",
                                  HERALD_TARGET " WHERE id = $1" HERALD_PLATFORM};
constexpr Sql kTargetByProvider{"event_target_by_provider",
                                HERALD_TARGET HERALD_BY_PROVIDER " AND agent_id = $4 LIMIT 1"};
constexpr Sql kPlatformTargetByProvider{"event_platform_target_by_provider",
                                        HERALD_TARGET HERALD_BY_PROVIDER HERALD_PLATFORM
                                        " LIMIT 1"};
#undef HERALD_TARGET
#undef HERALD_BY_PROVIDER
#undef HERALD_PLATFORM
constexpr Sql kMessageExists{"message_exists", "SELECT 1 FROM messages WHERE id = $1"};

// Kept once per (provider, event key), whichever agent it was matched to.
constexpr Sql kInsertEvent{
    "insert_delivery_event",
    "INSERT INTO delivery_events (provider, event_key, agent_id, message_id, type, bounce,"
    " provider_event, provider_message_id, recipient, occurred_at, received_at, reason, url, raw)"
    " SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10::bigint, $11::bigint, $12, $13, $14"
    " WHERE NOT EXISTS (SELECT 1 FROM delivery_events WHERE provider = $1 AND event_key = $2)"
    " ON CONFLICT DO NOTHING"};
constexpr Sql kSeenResult{
    "seen_campaign_result",
    "SELECT COUNT(*) FROM delivery_events WHERE message_id = $1 AND message_id <> '' AND"
    " type = $2 AND (type <> 'bounced' OR bounce = 'hard')"};
constexpr Sql kBumpResult{
    "bump_campaign_result",
    "INSERT INTO campaign_results (agent_id, campaign_id, delivered, bounced, complained,"
    " unsubscribed, unique_opens, unique_clicks) VALUES ($1, $2, ($3 = 'delivered')::int,"
    " ($3 = 'bounced')::int, ($3 = 'complained')::int, ($3 = 'unsubscribed')::int,"
    " ($3 = 'unique_opens')::int, ($3 = 'unique_clicks')::int) ON CONFLICT (agent_id,"
    " campaign_id) DO UPDATE SET delivered = campaign_results.delivered + excluded.delivered,"
    " bounced = campaign_results.bounced + excluded.bounced, complained ="
    " campaign_results.complained + excluded.complained, unsubscribed ="
    " campaign_results.unsubscribed + excluded.unsubscribed, unique_opens ="
    " campaign_results.unique_opens + excluded.unique_opens, unique_clicks ="
    " campaign_results.unique_clicks + excluded.unique_clicks"};
constexpr Sql kMoveStatus{
    "event_status",
    "UPDATE messages SET status = $1, updated_at = $2, last_error = CASE WHEN $3 <> '' THEN $3"
    " ELSE last_error END WHERE id = $4 AND agent_id = $5"};
constexpr Sql kSoftBounces{
    "soft_bounces",
    "SELECT count FROM soft_bounces WHERE agent_id = $1 AND channel = $2 AND address = $3"};
constexpr Sql kClearSoftBounces{
    "clear_soft_bounces",
    "DELETE FROM soft_bounces WHERE agent_id = $1 AND channel = $2 AND address = $3"};
constexpr Sql kCountSoftBounce{
    "count_soft_bounce",
    "INSERT INTO soft_bounces VALUES ($1, $2, $3, 1) ON CONFLICT (agent_id, channel, address)"
    " DO UPDATE SET count = soft_bounces.count + 1"};

TrackingSetup read_setup(const pqxx::row& r) {
  TrackingSetup s;
  s.owner = text(r[0]);
  s.channel = text(r[1]) == "sms" ? Channel::sms : Channel::email;
  s.provider = text(r[2]);
  s.account = text(r[3]);
  s.state = parse_tracking_state(text(r[4])).value_or(TrackingState::off);
  s.reason = text(r[5]);
  s.receiver_url = text(r[6]);
  s.sealed_key = text(r[7]);
  s.key_hint = text(r[8]);
  s.attempts = static_cast<int>(int64(r[9]));
  s.next_at = millis(r[10]);
  s.updated_at = millis(r[11]);
  return s;
}

StoredEvent read_event(const pqxx::row& r, const std::string& message_id) {
  StoredEvent s;
  s.provider = text(r[0]);
  DeliveryEvent& e = s.event;
  e.event_key = text(r[1]);
  e.type = parse_event_type(text(r[2])).value_or(EventType::unknown);
  const std::string bounce = text(r[3]);
  e.bounce = bounce == "hard"   ? BounceKind::hard
             : bounce == "soft" ? BounceKind::soft
                                : BounceKind::none;
  e.provider_event = text(r[4]);
  e.provider_message_id = text(r[5]);
  e.recipient = text(r[6]);
  e.occurred_at = millis(r[7]);
  s.received_at = millis(r[8]);
  e.reason = text(r[9]);
  e.url = text(r[10]);
  e.raw = text(r[11]);
  e.message_id = message_id;
  return s;
}

// The message an event is about, as applying it needs it.
struct Target {
  std::string id;
  std::string agent_id;
  Channel channel = Channel::email;
  MessageStatus status = MessageStatus::sent;
  std::string to_address;
  std::string campaign_id;
};

// Applies one post's events in the caller's transaction (see TrackingStore::apply_events).
class Applier {
 public:
  Applier(Tx& tx, const WebhookPost& post, const TrackingPolicy& policy, TimePoint now)
      : tx_(tx), post_(post), policy_(policy), now_(now) {}

  void apply(const DeliveryEvent& e);
  const EventsApplied& applied() const { return applied_; }

 private:
  std::optional<Target> find_target(const DeliveryEvent& e);
  bool before_its_answer(const std::optional<Target>& target, const DeliveryEvent& e);
  bool keep(const std::optional<Target>& target, const DeliveryEvent& e, TimePoint at);
  void count_result(const Target& t, const DeliveryEvent& e);
  void move_status(const Target& t, const DeliveryEvent& e, TimePoint at);
  void suppress(const Target& t, const DeliveryEvent& e);

  Tx& tx_;
  const WebhookPost& post_;
  const TrackingPolicy& policy_;
  TimePoint now_;
  EventsApplied applied_;
};

void Applier::apply(const DeliveryEvent& e) {
  const std::optional<Target> target = find_target(e);
  if (now_ - post_.received_at < policy_.early_event_wait && before_its_answer(target, e)) {
    ++applied_.waiting;
    return;
  }
  const TimePoint at = e.occurred_at.value_or(now_);
  if (!keep(target, e, at)) {
    ++applied_.duplicates;
    return;
  }
  ++applied_.recorded;
  if (!target) {
    ++applied_.unmatched;
    return;
  }
  count_result(*target, e);
  move_status(*target, e, at);
  suppress(*target, e);
}

std::optional<Target> Applier::find_target(const DeliveryEvent& e) {
  const bool platform = post_.owner == "platform";
  pqxx::result rows;
  if (!e.message_id.empty()) {
    rows = platform ? tx_.run(kPlatformTargetById, e.message_id)
                    : tx_.run(kTargetById, e.message_id, post_.owner);
  } else if (!e.provider_message_id.empty()) {
    rows = platform ? tx_.run(kPlatformTargetByProvider, e.provider_message_id, post_.provider,
                              e.recipient)
                    : tx_.run(kTargetByProvider, e.provider_message_id, post_.provider, e.recipient,
                              post_.owner);
  }
  if (rows.empty()) return std::nullopt;
  const pqxx::row& r = rows[0];
  return Target{text(r[0]),
                text(r[1]),
                parse_channel(text(r[2])).value_or(Channel::email),
                parse_message_status(text(r[3])).value_or(MessageStatus::sent),
                text(r[4]),
                text(r[5])};
}

// Whether an event came before Herald kept its provider's answer: its message is still on its
// way out (applying it now would make that answer find a message already final, and drop it),
// or, named by Herald's id, not written down at all (a campaign message is written whole with
// its answer). A message of another owner is not early: it is not this post's.
bool Applier::before_its_answer(const std::optional<Target>& target, const DeliveryEvent& e) {
  if (target)
    return target->status == MessageStatus::queued || target->status == MessageStatus::sending;
  if (e.message_id.empty()) return false;
  return tx_.run(kMessageExists, e.message_id).empty();
}

// Keeps the event; false if it was kept before.
bool Applier::keep(const std::optional<Target>& target, const DeliveryEvent& e, TimePoint at) {
  return tx_.run(kInsertEvent, post_.provider, e.event_key, target ? target->agent_id : "",
                 target ? target->id : "", std::string(to_string(e.type)),
                 std::string(to_string(e.bounce)), e.provider_event, e.provider_message_id,
                 e.recipient, ms(at), ms(now_), e.reason, e.url, e.raw)
             .affected_rows() > 0;
}

// A campaign's results count each message once per outcome, on the first event of it.
void Applier::count_result(const Target& t, const DeliveryEvent& e) {
  if (t.campaign_id.empty()) return;
  const char* column = common::result_column(t.status, e);
  if (column == nullptr) return;
  const std::int64_t n = int64(tx_.run(kSeenResult, t.id, std::string(to_string(e.type)))[0][0]);
  if (n != 1) return;  // this event is in already: the first makes the count 1
  tx_.run(kBumpResult, t.agent_id, t.campaign_id, column);
}

// Moves the message's status forward (status_after) and writes the history line.
void Applier::move_status(const Target& t, const DeliveryEvent& e, TimePoint at) {
  const auto next = status_after(t.status, e);
  if (!next) return;
  const bool bad = *next == MessageStatus::bounced || *next == MessageStatus::failed ||
                   *next == MessageStatus::complained || *next == MessageStatus::deferred;
  tx_.run(kMoveStatus, std::string(to_string(*next)), ms(now_), bad ? e.reason : std::string(),
          t.id, t.agent_id);
  const EventRow row{t.id,   t.agent_id, at, *next, common::history_detail(post_.provider, e),
                     nullptr};
  insert_events(tx_, std::span(&row, 1));
  ++applied_.status_changes;
}

// The recipient's suppression, as suppression_for decides from the soft bounces before it.
void Applier::suppress(const Target& t, const DeliveryEvent& e) {
  const std::string address = suppression_key(t.channel, t.to_address);
  const std::string channel(to_string(t.channel));
  const pqxx::result count = tx_.run(kSoftBounces, t.agent_id, channel, address);
  const int before = count.empty() ? 0 : static_cast<int>(int64(count[0][0]));
  const SuppressionDecision d = suppression_for(e, before, policy_.soft_bounce_limit);
  switch (d.action) {
    case SuppressAction::none:
      return;
    case SuppressAction::reset_soft_bounces:
      tx_.run(kClearSoftBounces, t.agent_id, channel, address);
      return;
    case SuppressAction::count_soft_bounce:
      tx_.run(kCountSoftBounce, t.agent_id, channel, address);
      return;
    case SuppressAction::suppress:
      break;
  }
  const Suppression s{new_id(),
                      t.agent_id,
                      t.channel,
                      address,
                      parse_suppression_reason(d.reason).value_or(SuppressionReason::bounced),
                      post_.provider + " event " + e.event_key,
                      common::history_detail(post_.provider, e),
                      now_};
  if (insert_suppressions(tx_, std::span(&s, 1)) > 0) ++applied_.suppressed;
  tx_.run(kClearSoftBounces, t.agent_id, channel, address);
}

// One post's events, in the caller's transaction; the post is then marked applied, set aside
// (unreadable) or given a time to be tried again (an event came before its message).
EventsApplied apply_post(Tx& tx, const PostEvents& p, const TrackingPolicy& policy, TimePoint now) {
  const WebhookPost& post = *p.post;
  if (!p.unreadable.empty()) {
    tx.run(kRejectPost, ms(now), p.unreadable, post.id);
    return {};
  }
  Applier applier(tx, post, policy, now);
  for (const DeliveryEvent& e : p.events) applier.apply(e);
  if (applier.applied().waiting > 0) {
    tx.run(kRetryPost, ms(common::retry_early_post_at(post.received_at, now)), post.id);
  } else {
    tx.run(kAppliedPost, ms(now), post.id);
  }
  return applier.applied();
}

class PgTrackingStore final : public TrackingStore {
 public:
  explicit PgTrackingStore(std::shared_ptr<Database> db) : db_(std::move(db)), pool_(*db_->pool) {}

  Result<std::vector<bool>> record_posts(std::span<const WebhookPost> posts) override {
    return with_tx(pool_, "record webhook posts", [&](Tx& tx) -> Result<std::vector<bool>> {
      std::vector<bool> kept;
      kept.reserve(posts.size());
      for (const WebhookPost& p : posts) {
        kept.push_back(tx.run(kRecordPost, p.id, p.provider, p.owner, p.replay_key, p.url,
                              common::headers_json(p.headers), pqxx::binarystring(p.body),
                              ms(p.received_at))
                           .affected_rows() > 0);
      }
      return kept;
    });
  }

  Result<std::vector<WebhookPost>> pending_posts(TimePoint now, int limit) override {
    return with_autocommit(
        pool_, "pending webhook posts", [&](Tx& tx) -> Result<std::vector<WebhookPost>> {
          std::vector<WebhookPost> out;
          for (const pqxx::row& r : tx.run(kPendingPosts, ms(now), limit)) {
            out.push_back(WebhookPost{text(r[0]), text(r[1]), text(r[2]), text(r[3]), text(r[4]),
                                      common::parse_headers(text(r[5])), bytes(r[6]),
                                      millis(r[7])});
          }
          return out;
        });
  }

  Result<std::vector<EventsApplied>> apply_posts(std::span<const PostEvents> posts,
                                                 const TrackingPolicy& policy,
                                                 TimePoint now) override {
    return with_tx(pool_, "apply delivery events",
                   [&](Tx& tx) -> Result<std::vector<EventsApplied>> {
                     std::vector<EventsApplied> out;
                     out.reserve(posts.size());
                     for (const PostEvents& p : posts)
                       out.push_back(apply_post(tx, p, policy, now));
                     return out;
                   });
  }

  Result<std::vector<StoredEvent>> events_of(const std::string& message_id) override {
    auto out =
        with_autocommit(pool_, "delivery events", [&](Tx& tx) -> Result<std::vector<StoredEvent>> {
          std::vector<StoredEvent> events;
          for (const pqxx::row& r : tx.run(kEventsOf, message_id))
            events.push_back(read_event(r, message_id));
          return events;
        });
    // Providers stamp whole seconds: events of one second read in the order a message lives
    // them (delivered before opened before clicked).
    if (out) common::sort_timeline(*out);
    return out;
  }

  Result<CampaignResults> campaign_results(const std::string& agent_id,
                                           const std::string& campaign_id) override {
    return with_autocommit(pool_, "campaign results", [&](Tx& tx) -> Result<CampaignResults> {
      CampaignResults c;
      const pqxx::result rows = tx.run(kCampaignResults, agent_id, campaign_id);
      if (rows.empty()) return c;
      const pqxx::row& r = rows[0];
      return CampaignResults{int64(r[0]), int64(r[1]), int64(r[2]),
                             int64(r[3]), int64(r[4]), int64(r[5])};
    });
  }

  Result<void> put_setup(const TrackingSetup& t) override {
    return with_autocommit(pool_, "put tracking set-up", [&](Tx& tx) -> Result<void> {
      tx.run(kPutSetup, t.owner, std::string(to_string(t.channel)), t.provider, t.account,
             std::string(to_string(t.state)), t.reason, t.receiver_url, t.sealed_key, t.key_hint,
             t.attempts, ms(t.next_at), ms(t.updated_at));
      return {};
    });
  }

  Result<std::optional<TrackingSetup>> setup_of(const std::string& owner,
                                                Channel channel) override {
    using Found = std::optional<TrackingSetup>;
    return with_autocommit(pool_, "tracking set-up", [&](Tx& tx) -> Result<Found> {
      const pqxx::result rows = tx.run(kSetupOf, owner, std::string(to_string(channel)));
      if (rows.empty()) return Found();
      return Found(read_setup(rows[0]));
    });
  }

  Result<void> delete_setup(const std::string& owner, Channel channel) override {
    return with_autocommit(pool_, "delete tracking set-up", [&](Tx& tx) -> Result<void> {
      tx.run(kDeleteSetup, owner, std::string(to_string(channel)));
      return {};
    });
  }

  Result<std::vector<TrackingSetup>> due_setups(TimePoint now, int limit) override {
    return with_autocommit(pool_, "due tracking set-ups",
                           [&](Tx& tx) -> Result<std::vector<TrackingSetup>> {
                             std::vector<TrackingSetup> out;
                             for (const pqxx::row& r : tx.run(kDueSetups, ms(now), limit))
                               out.push_back(read_setup(r));
                             return out;
                           });
  }

 private:
  std::shared_ptr<Database> db_;
  Pool& pool_;
};

}  // namespace

std::unique_ptr<TrackingStore> make_tracking_store(std::shared_ptr<Database> db) {
  return std::make_unique<PgTrackingStore>(std::move(db));
}

}  // namespace herald::store::postgres
