// SQLite implementation of TrackingStore (migrations 16, 17, 18 and 19).
#include <nlohmann/json.hpp>

#include <algorithm>

#include "core/id.h"
#include "store/common/json_fields.h"
#include "store/common/tracking_rules.h"
#include "store/sqlite/database.h"

namespace herald::store {

namespace {
constexpr std::array<std::string_view, 5> kStates = {"off", "manual", "pending", "on", "failing"};
}  // namespace

std::string_view to_string(TrackingState s) {
  return kStates[static_cast<std::size_t>(s)];
}

std::optional<TrackingState> parse_tracking_state(std::string_view s) {
  for (std::size_t i = 0; i < kStates.size(); ++i) {
    if (kStates[i] == s) return static_cast<TrackingState>(i);
  }
  return std::nullopt;
}

namespace sqlite {

#define TRY HERALD_TRY
#define TRY_VOID HERALD_TRY_VOID

// Schema for delivery tracking (migration 16): the receivers' inbox, the events, soft-bounce
// runs, and per-campaign results.
extern const std::string_view kMigrationV16 = R"sql(
CREATE TABLE webhook_posts (
  id            TEXT PRIMARY KEY,
  provider      TEXT NOT NULL,
  owner         TEXT NOT NULL,
  replay_key    TEXT NOT NULL DEFAULT '',
  url           TEXT NOT NULL,
  headers       TEXT NOT NULL DEFAULT '[]',
  body          BLOB NOT NULL,
  received_at   INTEGER NOT NULL,
  applied_at    INTEGER NOT NULL DEFAULT 0,
  error         TEXT NOT NULL DEFAULT ''
) WITHOUT ROWID;
CREATE UNIQUE INDEX webhook_posts_replay ON webhook_posts(provider, replay_key)
  WHERE replay_key <> '';
CREATE INDEX webhook_posts_pending ON webhook_posts(received_at) WHERE applied_at = 0;
CREATE TABLE delivery_events (
  provider             TEXT NOT NULL,
  event_key            TEXT NOT NULL,
  message_id           TEXT NOT NULL DEFAULT '',
  agent_id             TEXT NOT NULL DEFAULT '',
  type                 TEXT NOT NULL,
  bounce               TEXT NOT NULL DEFAULT '',
  provider_event       TEXT NOT NULL DEFAULT '',
  provider_message_id  TEXT NOT NULL DEFAULT '',
  recipient            TEXT NOT NULL DEFAULT '',
  occurred_at          INTEGER NOT NULL,
  received_at          INTEGER NOT NULL,
  reason               TEXT NOT NULL DEFAULT '',
  url                  TEXT NOT NULL DEFAULT '',
  raw                  TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (provider, event_key)
) WITHOUT ROWID;
CREATE INDEX delivery_events_message ON delivery_events(message_id, occurred_at)
  WHERE message_id <> '';
CREATE INDEX messages_provider_id ON messages(route_provider, provider_message_id)
  WHERE provider_message_id <> '';
CREATE TABLE soft_bounces (
  agent_id  TEXT NOT NULL,
  channel   TEXT NOT NULL,
  address   TEXT NOT NULL,
  count     INTEGER NOT NULL,
  PRIMARY KEY (agent_id, channel, address)
) WITHOUT ROWID;
CREATE TABLE campaign_results (
  agent_id        TEXT NOT NULL,
  campaign_id     TEXT NOT NULL,
  delivered       INTEGER NOT NULL DEFAULT 0,
  bounced         INTEGER NOT NULL DEFAULT 0,
  complained      INTEGER NOT NULL DEFAULT 0,
  unsubscribed    INTEGER NOT NULL DEFAULT 0,
  unique_opens    INTEGER NOT NULL DEFAULT 0,
  unique_clicks   INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (agent_id, campaign_id)
) WITHOUT ROWID;
)sql";

// Tracking set-ups per account (tracking.h: TrackingSetup).
extern const std::string_view kMigrationV17 = R"sql(
CREATE TABLE tracking_setups (
  owner         TEXT NOT NULL,
  channel       TEXT NOT NULL,
  provider      TEXT NOT NULL,
  account       TEXT NOT NULL DEFAULT '',
  state         TEXT NOT NULL,
  reason        TEXT NOT NULL DEFAULT '',
  receiver_url  TEXT NOT NULL DEFAULT '',
  sealed_key    TEXT NOT NULL DEFAULT '',
  key_hint      TEXT NOT NULL DEFAULT '',
  attempts      INTEGER NOT NULL DEFAULT 0,
  next_at       INTEGER NOT NULL DEFAULT 0,
  updated_at    INTEGER NOT NULL,
  PRIMARY KEY (owner, channel)
) WITHOUT ROWID;
CREATE INDEX tracking_setups_due ON tracking_setups(next_at) WHERE state = 'pending';
)sql";

// Messages whose provider's events always name them (provider_id_lookup = 0) leave the
// provider-id index: their ids are unique and random, so every insert touched another page.
// Messages already sent keep their place in it.
extern const std::string_view kMigrationV18 = R"sql(
ALTER TABLE messages ADD COLUMN provider_id_lookup INTEGER NOT NULL DEFAULT 1;
DROP INDEX messages_provider_id;
CREATE INDEX messages_provider_id ON messages(route_provider, provider_message_id)
  WHERE provider_message_id <> '' AND provider_id_lookup = 1;
)sql";

// A post with an event for a message not written down yet is tried again at retry_at.
extern const std::string_view kMigrationV19 = R"sql(
ALTER TABLE webhook_posts ADD COLUMN retry_at INTEGER NOT NULL DEFAULT 0;
)sql";

namespace {

constexpr std::string_view kSetupColumns =
    "owner, channel, provider, account, state, reason, receiver_url, sealed_key, key_hint,"
    " attempts, next_at, updated_at";

TrackingSetup setup_at(Statement& st) {
  TrackingSetup s;
  s.owner = st.text(0);
  s.channel = st.text(1) == "sms" ? Channel::sms : Channel::email;
  s.provider = st.text(2);
  s.account = st.text(3);
  s.state = parse_tracking_state(st.text(4)).value_or(TrackingState::off);
  s.reason = st.text(5);
  s.receiver_url = st.text(6);
  s.sealed_key = st.text(7);
  s.key_hint = st.text(8);
  s.attempts = static_cast<int>(st.int64(9));
  s.next_at = from_millis(st.int64(10));
  s.updated_at = from_millis(st.int64(11));
  return s;
}

// The message an event is about, as the join needs it.
struct Target {
  std::string id;
  std::string agent_id;
  Channel channel = Channel::email;
  MessageStatus status = MessageStatus::sent;
  std::string to_address;
  std::string campaign_id;
};

using common::headers_json;
using common::history_detail;
using common::parse_headers;

class SqliteTrackingStore final : public TrackingStore {
 public:
  SqliteTrackingStore(std::shared_ptr<Database> db, std::shared_ptr<Database> inbox)
      : db_(std::move(db)), inbox_(std::move(inbox)) {}

  Result<std::vector<bool>> record_posts(std::span<const WebhookPost> posts) override {
    std::lock_guard lock(inbox_->mu);
    Transaction tx(inbox_->conn);
    TRY_VOID(tx.begin());
    std::vector<bool> kept;
    kept.reserve(posts.size());
    for (const WebhookPost& p : posts) {
      TRY(st, inbox_->conn.prepare(
                  "INSERT INTO webhook_posts (id, provider, owner, replay_key, url, headers, body,"
                  " received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING"));
      st->bind(1, p.id).bind(2, p.provider).bind(3, p.owner).bind(4, p.replay_key).bind(5, p.url);
      st->bind(6, headers_json(p.headers)).bind_blob(7, p.body).bind(8, to_millis(p.received_at));
      TRY_VOID(inbox_->conn.run(*st));
      kept.push_back(inbox_->conn.changes() > 0);
    }
    TRY_VOID(tx.commit());
    return kept;
  }

  Result<std::vector<WebhookPost>> pending_posts(TimePoint now, int limit) override {
    std::lock_guard lock(inbox_->mu);
    TRY(st, inbox_->conn.prepare("SELECT id, provider, owner, replay_key, url, headers, body,"
                                 " received_at FROM webhook_posts WHERE applied_at = 0"
                                 " AND retry_at <= ? ORDER BY received_at LIMIT ?"));
    st->bind(1, to_millis(now)).bind(2, limit);
    std::vector<WebhookPost> out;
    int rc;
    while ((rc = st->step()) == SQLITE_ROW) {
      out.push_back(WebhookPost{st->text(0), st->text(1), st->text(2), st->text(3), st->text(4),
                                parse_headers(st->text(5)), st->blob(6),
                                from_millis(st->int64(7))});
    }
    st->reset();
    if (rc != SQLITE_DONE) return fail(inbox_->conn.error("pending webhook posts"));
    return out;
  }

  Result<std::vector<EventsApplied>> apply_posts(std::span<const PostEvents> posts,
                                                 const TrackingPolicy& policy,
                                                 TimePoint now) override {
    std::vector<EventsApplied> out(posts.size());
    {
      std::lock_guard lock(db_->mu);
      Transaction tx(db_->conn);
      TRY_VOID(tx.begin());
      for (std::size_t i = 0; i < posts.size(); ++i) {
        if (!posts[i].unreadable.empty()) continue;
        for (const DeliveryEvent& e : posts[i].events)
          TRY_VOID(apply_one(*posts[i].post, e, policy, now, out[i]));
      }
      TRY_VOID(tx.commit());
    }
    TRY_VOID(mark_posts(posts, out, now));
    return out;
  }

  Result<std::vector<StoredEvent>> events_of(const std::string& message_id) override {
    std::lock_guard lock(db_->mu);
    TRY(st, db_->conn.prepare(
                "SELECT provider, event_key, type, bounce, provider_event, provider_message_id,"
                " recipient, occurred_at, received_at, reason, url, raw FROM delivery_events"
                " WHERE message_id = ? AND message_id <> '' ORDER BY occurred_at"));
    st->bind(1, message_id);
    std::vector<StoredEvent> out;
    int rc;
    while ((rc = st->step()) == SQLITE_ROW) {
      StoredEvent s;
      s.provider = st->text(0);
      DeliveryEvent& e = s.event;
      e.event_key = st->text(1);
      e.type = parse_event_type(st->text(2)).value_or(EventType::unknown);
      const std::string bounce = st->text(3);
      e.bounce = bounce == "hard"   ? BounceKind::hard
                 : bounce == "soft" ? BounceKind::soft
                                    : BounceKind::none;
      e.provider_event = st->text(4);
      e.provider_message_id = st->text(5);
      e.recipient = st->text(6);
      e.occurred_at = from_millis(st->int64(7));
      s.received_at = from_millis(st->int64(8));
      e.reason = st->text(9);
      e.url = st->text(10);
      e.raw = st->text(11);
      e.message_id = message_id;
      out.push_back(std::move(s));
    }
    st->reset();
    if (rc != SQLITE_DONE) return fail(db_->conn.error("delivery events"));
    // Providers stamp whole seconds (SendGrid, Twilio's order of posts): events of one second
    // read in the order a message lives them (delivered before opened before clicked).
    common::sort_timeline(out);
    return out;
  }

  Result<CampaignResults> campaign_results(const std::string& agent_id,
                                           const std::string& campaign_id) override {
    std::lock_guard lock(db_->mu);
    TRY(st, db_->conn.prepare("SELECT delivered, bounced, complained, unsubscribed, unique_opens,"
                              " unique_clicks FROM campaign_results WHERE agent_id = ?"
                              " AND campaign_id = ?"));
    st->bind(1, agent_id).bind(2, campaign_id);
    CampaignResults r;
    const int rc = st->step();
    if (rc == SQLITE_ROW)
      r = {st->int64(0), st->int64(1), st->int64(2), st->int64(3), st->int64(4), st->int64(5)};
    st->reset();
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) return fail(db_->conn.error("campaign results"));
    return r;
  }

  Result<void> put_setup(const TrackingSetup& t) override {
    std::lock_guard lock(db_->mu);
    TRY(st,
        db_->conn.prepare("INSERT OR REPLACE INTO tracking_setups (" + std::string(kSetupColumns) +
                          ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"));
    st->bind(1, t.owner).bind(2, to_string(t.channel)).bind(3, t.provider).bind(4, t.account);
    st->bind(5, to_string(t.state)).bind(6, t.reason).bind(7, t.receiver_url);
    st->bind(8, t.sealed_key).bind(9, t.key_hint).bind(10, t.attempts);
    st->bind(11, to_millis(t.next_at)).bind(12, to_millis(t.updated_at));
    return db_->conn.run(*st);
  }

  Result<std::optional<TrackingSetup>> setup_of(const std::string& owner,
                                                Channel channel) override {
    std::lock_guard lock(db_->mu);
    TRY(st, db_->conn.prepare("SELECT " + std::string(kSetupColumns) +
                              " FROM tracking_setups WHERE owner = ? AND channel = ?"));
    st->bind(1, owner).bind(2, to_string(channel));
    std::optional<TrackingSetup> out;
    const int rc = st->step();
    if (rc == SQLITE_ROW) out = setup_at(*st);
    st->reset();
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) return fail(db_->conn.error("tracking set-up"));
    return out;
  }

  Result<void> delete_setup(const std::string& owner, Channel channel) override {
    std::lock_guard lock(db_->mu);
    TRY(st, db_->conn.prepare("DELETE FROM tracking_setups WHERE owner = ? AND channel = ?"));
    st->bind(1, owner).bind(2, to_string(channel));
    return db_->conn.run(*st);
  }

  Result<std::vector<TrackingSetup>> due_setups(TimePoint now, int limit) override {
    std::lock_guard lock(db_->mu);
    TRY(st, db_->conn.prepare("SELECT " + std::string(kSetupColumns) +
                              " FROM tracking_setups WHERE state = 'pending' AND next_at <= ?"
                              " ORDER BY next_at LIMIT ?"));
    st->bind(1, to_millis(now)).bind(2, limit);
    std::vector<TrackingSetup> out;
    int rc;
    while ((rc = st->step()) == SQLITE_ROW) out.push_back(setup_at(*st));
    st->reset();
    if (rc != SQLITE_DONE) return fail(db_->conn.error("due tracking set-ups"));
    return out;
  }

 private:
  // The message `e` is about, within the post's owner: by Herald's id, else the provider's.
  Result<std::optional<Target>> find_target(const WebhookPost& post, const DeliveryEvent& e) {
    // The joins' four statements (by id or the provider's id; an agent's or the platform's),
    // spelled once. (Repeating the partial index's terms lets SQLite use it.) A provider's id
    // may be shared by a whole batch (SendGrid, Mailgun): the event's recipient picks its row.
    static const std::string kSelect =
        "SELECT id, agent_id, channel, status, to_address, campaign_id FROM messages WHERE ";
    static const std::string kById = "id = ?1";
    static const std::string kByProvider =
        "route_provider = ?3 AND provider_message_id = ?1 AND provider_message_id <> '' AND"
        " provider_id_lookup = 1 AND (?4 = '' OR to_address = ?4 COLLATE NOCASE)";
    // (A message still in flight has no route recorded yet: the platform's account may report
    // on it before Herald has written down that the platform's account sent it.)
    static const std::string kPlatform = " AND (route_via = 'platform' OR route_via = '')";
    static const std::string kSql[2][2] = {
        {kSelect + kById + " AND agent_id = ?2", kSelect + kById + kPlatform},
        {kSelect + kByProvider + " AND agent_id = ?2 LIMIT 1",
         kSelect + kByProvider + kPlatform + " LIMIT 1"}};
    const bool platform = post.owner == "platform";
    Statement* st = nullptr;
    if (!e.message_id.empty()) {
      TRY(by_id, db_->conn.prepare(kSql[0][platform]));
      by_id->bind(1, e.message_id);
      st = by_id;
    } else if (!e.provider_message_id.empty()) {
      TRY(by_provider, db_->conn.prepare(kSql[1][platform]));
      by_provider->bind(1, e.provider_message_id).bind(3, post.provider).bind(4, e.recipient);
      st = by_provider;
    } else {
      return std::optional<Target>();
    }
    if (!platform) st->bind(2, post.owner);
    std::optional<Target> out;
    const int rc = st->step();
    if (rc == SQLITE_ROW) {
      out = Target{st->text(0),
                   st->text(1),
                   parse_channel(st->text(2)).value_or(Channel::email),
                   parse_message_status(st->text(3)).value_or(MessageStatus::sent),
                   st->text(4),
                   st->text(5)};
    }
    st->reset();
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) return fail(db_->conn.error("find event message"));
    return out;
  }

  // Whether an event came before Herald kept its provider's answer: its message is still on
  // its way out (applying it now would make that answer find a message already final, and drop
  // it), or, named by Herald's id, not written down at all (a campaign message is written whole
  // with its answer). A message of another owner is not early: it is not this post's.
  Result<bool> before_its_answer(const std::optional<Target>& target, const DeliveryEvent& e) {
    if (target)
      return target->status == MessageStatus::queued || target->status == MessageStatus::sending;
    if (e.message_id.empty()) return false;
    TRY(st, db_->conn.prepare("SELECT 1 FROM messages WHERE id = ?"));
    st->bind(1, e.message_id);
    const int rc = st->step();
    st->reset();
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) return fail(db_->conn.error("find event message"));
    return rc == SQLITE_DONE;
  }

  // Once their events are committed: each post is done, set aside for good (it could not be
  // read), or to be tried again later (an event came before its message was written down).
  Result<void> mark_posts(std::span<const PostEvents> posts, std::span<const EventsApplied> applied,
                          TimePoint now) {
    std::lock_guard lock(inbox_->mu);
    Transaction tx(inbox_->conn);
    TRY_VOID(tx.begin());
    for (std::size_t i = 0; i < posts.size(); ++i) {
      const WebhookPost& post = *posts[i].post;
      const bool later = posts[i].unreadable.empty() && applied[i].waiting > 0;
      TRY(st, inbox_->conn.prepare(
                  "UPDATE webhook_posts SET applied_at = ?, retry_at = ?, error = ? WHERE id = ?"));
      st->bind(1, later ? 0 : to_millis(now));
      st->bind(2, later ? to_millis(common::retry_early_post_at(post.received_at, now)) : 0);
      st->bind(3, posts[i].unreadable).bind(4, post.id);
      TRY_VOID(inbox_->conn.run(*st));
    }
    return tx.commit();
  }

  Result<void> apply_one(const WebhookPost& post, const DeliveryEvent& e,
                         const TrackingPolicy& policy, TimePoint now, EventsApplied& applied) {
    TRY(target, find_target(post, e));
    if (now - post.received_at < policy.early_event_wait) {
      TRY(early, before_its_answer(target, e));
      if (early) {
        ++applied.waiting;
        return {};
      }
    }
    const TimePoint at = e.occurred_at.value_or(now);
    TRY(ins, db_->conn.prepare(
                 "INSERT INTO delivery_events (provider, event_key, message_id, agent_id, type,"
                 " bounce, provider_event, provider_message_id, recipient, occurred_at,"
                 " received_at, reason, url, raw) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                 " ON CONFLICT DO NOTHING"));
    ins->bind(1, post.provider).bind(2, e.event_key);
    ins->bind(3, target ? target->id : std::string()).bind(4, target ? target->agent_id : "");
    ins->bind(5, to_string(e.type)).bind(6, to_string(e.bounce)).bind(7, e.provider_event);
    ins->bind(8, e.provider_message_id).bind(9, e.recipient).bind(10, to_millis(at));
    ins->bind(11, to_millis(now)).bind(12, e.reason).bind(13, e.url).bind(14, e.raw);
    TRY_VOID(db_->conn.run(*ins));
    if (db_->conn.changes() == 0) {
      ++applied.duplicates;
      return {};
    }
    ++applied.recorded;
    if (!target) {
      ++applied.unmatched;
      return {};
    }
    TRY_VOID(count_result(*target, e));
    if (auto next = status_after(target->status, e)) {
      TRY(up, db_->conn.prepare(
                  "UPDATE messages SET status = ?, updated_at = ?,"
                  " last_error = CASE WHEN ? <> '' THEN ? ELSE last_error END WHERE id = ?"));
      const bool bad = *next == MessageStatus::bounced || *next == MessageStatus::failed ||
                       *next == MessageStatus::complained || *next == MessageStatus::deferred;
      const std::string why = bad ? e.reason : std::string();
      up->bind(1, to_string(*next)).bind(2, to_millis(now)).bind(3, why).bind(4, why);
      up->bind(5, target->id);
      TRY_VOID(db_->conn.run(*up));
      TRY_VOID(insert_event(db_->conn, target->id, target->agent_id,
                            StatusEvent{at, *next, history_detail(post.provider, e)}));
      ++applied.status_changes;
    }
    return suppress(post, *target, e, policy, now, applied);
  }

  // A campaign's results: each message counted once per outcome, on the first event of it
  // (delivered, hard bounce, complaint, open, click, unsubscribe), whatever order the events
  // arrive in: a delivered that comes after a complaint moves no status but still counts (a
  // complaint means it arrived); one after a bounce or failure does not.
  Result<void> count_result(const Target& t, const DeliveryEvent& e) {
    if (t.campaign_id.empty()) return {};
    const char* column = common::result_column(t.status, e);
    if (column == nullptr) return {};
    // (`message_id <> ''` repeats the partial index's term, so SQLite seeks it.)
    TRY(seen, db_->conn.prepare("SELECT COUNT(*) FROM delivery_events WHERE message_id = ?"
                                " AND message_id <> '' AND type = ?"
                                " AND (type <> 'bounced' OR bounce = 'hard')"));
    seen->bind(1, t.id).bind(2, to_string(e.type));
    const int rc = seen->step();
    const std::int64_t n = rc == SQLITE_ROW ? seen->int64(0) : 0;
    seen->reset();
    if (rc != SQLITE_ROW) return fail(db_->conn.error("count campaign results"));
    if (n != 1) return {};  // this event is in already: the first makes the count 1
    return bump(t, column);
  }

  Result<void> bump(const Target& t, std::string_view column) {
    const std::string c(column);
    TRY(st, db_->conn.prepare("INSERT INTO campaign_results (agent_id, campaign_id, " + c +
                              ") VALUES (?, ?, 1) ON CONFLICT (agent_id, campaign_id) DO UPDATE"
                              " SET " +
                              c + " = " + c + " + 1"));
    st->bind(1, t.agent_id).bind(2, t.campaign_id);
    return db_->conn.run(*st);
  }

  Result<void> suppress(const WebhookPost& post, const Target& t, const DeliveryEvent& e,
                        const TrackingPolicy& policy, TimePoint now, EventsApplied& applied) {
    const std::string address = suppression_key(t.channel, t.to_address);
    TRY(count,
        db_->conn.prepare(
            "SELECT count FROM soft_bounces WHERE agent_id = ? AND channel = ? AND address = ?"));
    count->bind(1, t.agent_id).bind(2, to_string(t.channel)).bind(3, address);
    const int rc = count->step();
    const int before = rc == SQLITE_ROW ? static_cast<int>(count->int64(0)) : 0;
    count->reset();
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) return fail(db_->conn.error("soft bounces"));
    const SuppressionDecision d = suppression_for(e, before, policy.soft_bounce_limit);
    switch (d.action) {
      case SuppressAction::none:
        return {};
      case SuppressAction::reset_soft_bounces:
      case SuppressAction::count_soft_bounce: {
        const bool reset = d.action == SuppressAction::reset_soft_bounces;
        TRY(st, db_->conn.prepare(
                    reset ? "DELETE FROM soft_bounces WHERE agent_id = ?1 AND channel = ?2"
                            " AND address = ?3"
                          : "INSERT INTO soft_bounces VALUES (?1, ?2, ?3, 1) ON CONFLICT"
                            " (agent_id, channel, address) DO UPDATE SET count = count + 1"));
        st->bind(1, t.agent_id).bind(2, to_string(t.channel)).bind(3, address);
        return db_->conn.run(*st);
      }
      case SuppressAction::suppress:
        break;
    }
    Suppression s{new_id(),
                  t.agent_id,
                  t.channel,
                  address,
                  parse_suppression_reason(d.reason).value_or(SuppressionReason::bounced),
                  post.provider + " event " + e.event_key,
                  history_detail(post.provider, e),
                  now};
    TRY(added, insert_suppression(db_->conn, s));
    if (added) ++applied.suppressed;
    TRY(clear, db_->conn.prepare(
                   "DELETE FROM soft_bounces WHERE agent_id = ? AND channel = ? AND address = ?"));
    clear->bind(1, t.agent_id).bind(2, to_string(t.channel)).bind(3, address);
    return db_->conn.run(*clear);
  }

  std::shared_ptr<Database> db_;
  std::shared_ptr<Database> inbox_;  // the receivers' posts (webhook_inbox.cpp)
};

}  // namespace

std::unique_ptr<TrackingStore> make_tracking_store(std::shared_ptr<Database> db,
                                                   std::shared_ptr<Database> inbox) {
  return std::make_unique<SqliteTrackingStore>(std::move(db), std::move(inbox));
}

}  // namespace sqlite
}  // namespace herald::store
