// SQLite implementation of CampaignStore.
#include <algorithm>
#include <array>
#include <nlohmann/json.hpp>

#include "store/common/chunk_codec.h"
#include "store/common/json_fields.h"
#include "store/sqlite/database.h"

namespace herald::store {

namespace {
constexpr std::array<std::pair<CampaignStatus, std::string_view>, 6> kStatuses{{
    {CampaignStatus::draft, "draft"},
    {CampaignStatus::scheduled, "scheduled"},
    {CampaignStatus::running, "running"},
    {CampaignStatus::paused, "paused"},
    {CampaignStatus::completed, "completed"},
    {CampaignStatus::cancelled, "cancelled"},
}};
}  // namespace

std::string_view to_string(CampaignStatus s) {
  for (const auto& [v, n] : kStatuses)
    if (v == s) return n;
  return "draft";
}

std::optional<CampaignStatus> parse_campaign_status(std::string_view s) {
  for (const auto& [v, n] : kStatuses)
    if (n == s) return v;
  return std::nullopt;
}

namespace sqlite {

#define TRY HERALD_TRY
#define TRY_VOID HERALD_TRY_VOID

// Schema for campaigns (migration 5).
extern const std::string_view kMigrationV5 = R"sql(
CREATE TABLE campaigns (
  id            TEXT PRIMARY KEY,
  agent_id      TEXT NOT NULL REFERENCES agents(id),
  name          TEXT NOT NULL,
  channel       TEXT NOT NULL,
  template_key  TEXT NOT NULL,
  roles         TEXT NOT NULL DEFAULT '[]',
  tags          TEXT NOT NULL DEFAULT '[]',
  status        TEXT NOT NULL,
  send_at       INTEGER NOT NULL DEFAULT 0,
  cursor        TEXT NOT NULL DEFAULT '',
  fanout_done   INTEGER NOT NULL DEFAULT 0,
  total         INTEGER NOT NULL DEFAULT 0,
  created_at    INTEGER NOT NULL,
  updated_at    INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX campaigns_agent ON campaigns(agent_id, id);
CREATE INDEX campaigns_active ON campaigns(status) WHERE status IN ('running','scheduled','paused');
CREATE INDEX messages_campaign ON messages(campaign_id, status) WHERE campaign_id <> '';
)sql";

// Chunks of campaign audiences taken by send workers whose outcomes are not all recorded yet
// (see CampaignStore::take); a row lives for one worker pass. Its messages are one blob: the
// table is a journal, never searched by message.
extern const std::string_view kMigrationV13 = R"sql(
CREATE TABLE campaign_chunks (
  id            TEXT PRIMARY KEY,
  agent_id      TEXT NOT NULL,
  campaign_id   TEXT NOT NULL,
  channel       TEXT NOT NULL,
  template_key  TEXT NOT NULL,
  listing_id    TEXT NOT NULL DEFAULT '',
  created_at    INTEGER NOT NULL,
  worker        TEXT NOT NULL,
  lease_until   INTEGER NOT NULL,
  messages      BLOB NOT NULL
);
CREATE INDEX campaign_chunks_lease ON campaign_chunks(lease_until);
)sql";

namespace {

std::int64_t ms(TimePoint t) {
  return to_millis(t);
}

constexpr const char* kColumns =
    "id, agent_id, name, channel, template_key, roles, tags, status, send_at, cursor, "
    "fanout_done, total, created_at, updated_at, listing_id";

using common::json_list;

Campaign read(const Statement& s) {
  Campaign c;
  c.id = s.text(0);
  c.agent_id = s.text(1);
  c.name = s.text(2);
  c.channel = parse_channel(s.text(3)).value_or(Channel::email);
  c.template_key = s.text(4);
  c.roles = json_list(s.text(5));
  c.tags = json_list(s.text(6));
  c.status = parse_campaign_status(s.text(7)).value_or(CampaignStatus::draft);
  if (s.int64(8) > 0) c.send_at = from_millis(s.int64(8));
  c.cursor = s.text(9);
  c.fanout_done = s.int64(10) != 0;
  c.total = s.int64(11);
  c.created_at = from_millis(s.int64(12));
  c.updated_at = from_millis(s.int64(13));
  c.listing_id = s.text(14);
  return c;
}

using common::decode_chunk;
using common::encode_chunk;

class SqliteCampaignStore final : public CampaignStore {
 public:
  explicit SqliteCampaignStore(std::shared_ptr<Database> db) : db_(std::move(db)) {}

  Result<void> create(const Campaign& c) override {
    std::lock_guard lock(db_->mu);
    TRY(st,
        db_->conn.prepare(
            "INSERT INTO campaigns (id, agent_id, name, channel, template_key, roles, tags, status,"
            " send_at, created_at, updated_at, listing_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?,"
            " ?)"));
    st->bind(1, c.id).bind(2, c.agent_id).bind(3, c.name).bind(4, to_string(c.channel));
    st->bind(5, c.template_key).bind(6, nlohmann::json(c.roles).dump());
    st->bind(7, nlohmann::json(c.tags).dump()).bind(8, to_string(c.status));
    st->bind(9, c.send_at ? ms(*c.send_at) : 0)
        .bind(10, ms(c.created_at))
        .bind(11, ms(c.updated_at))
        .bind(12, c.listing_id);
    return db_->conn.run(*st);
  }

  Result<std::optional<Campaign>> find(const std::string& agent_id,
                                       const std::string& id) override {
    std::lock_guard lock(db_->mu);
    TRY(st, db_->conn.prepare(std::string("SELECT ") + kColumns +
                              " FROM campaigns WHERE id = ? AND agent_id = ?"));
    st->bind(1, id).bind(2, agent_id);
    std::optional<Campaign> out;
    if (st->step() == SQLITE_ROW) out = read(*st);
    st->reset();
    return out;
  }

  Result<std::vector<Campaign>> list(const std::string& agent_id) override {
    std::lock_guard lock(db_->mu);
    TRY(st, db_->conn.prepare(std::string("SELECT ") + kColumns +
                              " FROM campaigns WHERE agent_id = ? ORDER BY id DESC"));
    st->bind(1, agent_id);
    std::vector<Campaign> out;
    while (st->step() == SQLITE_ROW) out.push_back(read(*st));
    st->reset();
    return out;
  }

  Result<bool> transition(const std::string& agent_id, const std::string& id,
                          std::span<const CampaignStatus> from, CampaignStatus to, TimePoint now,
                          std::optional<std::int64_t> total) override {
    std::lock_guard lock(db_->mu);
    nlohmann::json allowed = nlohmann::json::array();
    for (auto f : from) allowed.push_back(to_string(f));
    TRY(st, db_->conn.prepare(
                "UPDATE campaigns SET status = ?, updated_at = ?, total = COALESCE(?, total)"
                " WHERE id = ? AND agent_id = ? AND status IN (SELECT value FROM json_each(?))"));
    st->bind(1, to_string(to)).bind(2, ms(now));
    if (total)
      st->bind(3, *total);
    else
      st->bind_null(3);
    st->bind(4, id).bind(5, agent_id).bind(6, allowed.dump());
    TRY_VOID(db_->conn.run(*st));
    return db_->conn.changes() > 0;
  }

  Result<int> start_scheduled(TimePoint now) override {
    std::lock_guard lock(db_->mu);
    TRY(start,
        db_->conn.prepare(
            "UPDATE campaigns SET status = 'running', updated_at = ? WHERE status = 'scheduled'"
            " AND send_at <= ?"));
    start->bind(1, ms(now)).bind(2, ms(now));
    TRY_VOID(db_->conn.run(*start));
    return static_cast<int>(db_->conn.changes());
  }

  Result<std::vector<Campaign>> due_for_fanout(TimePoint /*now*/, int limit) override {
    std::lock_guard lock(db_->mu);
    TRY(st, db_->conn.prepare(std::string("SELECT ") + kColumns +
                              " FROM campaigns WHERE status = 'running' AND fanout_done = 0"
                              " ORDER BY updated_at LIMIT ?"));
    st->bind(1, limit);
    std::vector<Campaign> out;
    while (st->step() == SQLITE_ROW) out.push_back(read(*st));
    st->reset();
    return out;
  }

  Result<bool> take(const Campaign& c, const std::string& expected_cursor,
                    std::span<const Message> messages, const std::string& cursor, bool done,
                    const ChunkLease& lease, TimePoint now) override {
    std::lock_guard lock(db_->mu);
    Transaction tx(db_->conn);
    TRY_VOID(tx.begin());
    // The cursor moves only from where this take started: a racing take changes nothing.
    TRY(st, db_->conn.prepare(
                "UPDATE campaigns SET cursor = ?, fanout_done = ?, updated_at = ?, queued_total ="
                " queued_total + ? WHERE id = ? AND agent_id = ? AND cursor = ? AND"
                " status = 'running'"));
    st->bind(1, cursor).bind(2, done).bind(3, ms(now));
    st->bind(4, static_cast<std::int64_t>(messages.size())).bind(5, c.id).bind(6, c.agent_id);
    st->bind(7, expected_cursor);
    TRY_VOID(db_->conn.run(*st));
    if (db_->conn.changes() == 0) return false;
    if (!messages.empty()) {
      const Message& first = messages.front();
      TRY(chunk,
          db_->conn.prepare(
              "INSERT INTO campaign_chunks (id, agent_id, campaign_id, channel, template_key,"
              " listing_id, created_at, worker, lease_until, messages) VALUES (?, ?, ?, ?, ?, ?,"
              " ?, ?, ?, ?)"));
      chunk->bind(1, lease.chunk_id).bind(2, c.agent_id).bind(3, c.id);
      chunk->bind(4, to_string(first.channel)).bind(5, first.template_key);
      chunk->bind(6, first.listing_id).bind(7, ms(first.created_at)).bind(8, lease.worker);
      chunk->bind(9, ms(lease.until)).bind_blob(10, encode_chunk(messages));
      TRY_VOID(db_->conn.run(*chunk));
    }
    TRY_VOID(tx.commit());
    return true;
  }

  Result<void> update_chunk(const std::string& chunk_id,
                            std::span<const Message> messages) override {
    std::lock_guard lock(db_->mu);
    TRY(st, db_->conn.prepare("UPDATE campaign_chunks SET messages = ? WHERE id = ?"));
    st->bind_blob(1, encode_chunk(messages)).bind(2, chunk_id);
    return db_->conn.run(*st);
  }

  Result<void> finish_chunks(std::span<const std::string> chunk_ids) override {
    std::lock_guard lock(db_->mu);
    Transaction tx(db_->conn);
    TRY_VOID(tx.begin());
    TRY_VOID(delete_chunks(chunk_ids));
    return tx.commit();
  }

  Result<int> requeue_expired_chunks(TimePoint now) override {
    std::lock_guard lock(db_->mu);
    Transaction tx(db_->conn);
    TRY_VOID(tx.begin());
    TRY(st, db_->conn.prepare(
                "SELECT id, agent_id, campaign_id, channel, template_key, listing_id, created_at,"
                " messages FROM campaign_chunks WHERE lease_until <= ?"));
    st->bind(1, ms(now));
    std::vector<std::string> ended;
    std::vector<Message> queued;
    int rc;
    while ((rc = st->step()) == SQLITE_ROW) {
      Message common;
      common.agent_id = st->text(1);
      common.campaign_id = st->text(2);
      common.channel = parse_channel(st->text(3)).value_or(Channel::email);
      common.kind = MessageKind::campaign;
      common.template_key = st->text(4);
      common.listing_id = st->text(5);
      // Due since they were taken.
      common.created_at = common.updated_at = common.next_attempt_at = from_millis(st->int64(6));
      if (!decode_chunk(st->blob(7), common, queued))
        return fail(Errc::storage, "campaign chunk " + st->text(0) + " is unreadable");
      ended.push_back(st->text(0));
    }
    st->reset();
    if (rc != SQLITE_DONE) return fail(db_->conn.error("expired chunks"));
    // Messages whose outcome was recorded before the worker stopped are already in the queue.
    TRY(inserted, insert_messages(db_->conn, queued, /*skip_existing=*/true));
    TRY_VOID(delete_chunks(ended));
    TRY_VOID(tx.commit());
    return static_cast<int>(inserted);
  }

  Result<CampaignCounts> counts(const std::string& agent_id, const std::string& id) override {
    std::lock_guard lock(db_->mu);
    return counts_locked(agent_id, id);
  }

  Result<std::int64_t> backlog(const std::string& agent_id, const std::string& id) override {
    std::lock_guard lock(db_->mu);
    TRY(c, counts_locked(agent_id, id));
    return c.queued;
  }

  Result<std::int64_t> cancel_unsent(const std::string& agent_id, const std::string& id,
                                     TimePoint now) override {
    std::lock_guard lock(db_->mu);
    Transaction tx(db_->conn);
    TRY_VOID(tx.begin());
    // The campaign's unsent messages are in the agent's queue (its per-agent index).
    TRY(st, db_->conn.prepare(
                "UPDATE messages SET status = 'failed', last_error = 'campaign cancelled', "
                "updated_at = ? WHERE agent_id = ? AND status IN ('queued','retrying') AND"
                " campaign_id = ?"));
    st->bind(1, ms(now)).bind(2, agent_id).bind(3, id);
    TRY_VOID(db_->conn.run(*st));
    std::int64_t n = db_->conn.changes();
    TRY(count,
        db_->conn.prepare("UPDATE campaigns SET failed_count = failed_count + ? WHERE id = ? AND"
                          " agent_id = ?"));
    count->bind(1, n).bind(2, id).bind(3, agent_id);
    TRY_VOID(db_->conn.run(*count));
    TRY_VOID(tx.commit());
    return n;
  }

  Result<int> complete_finished(TimePoint now) override {
    std::lock_guard lock(db_->mu);
    TRY(st, db_->conn.prepare(
                "UPDATE campaigns SET status = 'completed', updated_at = ? WHERE status = 'running'"
                " AND fanout_done = 1 AND queued_total <= sent_count + failed_count +"
                " suppressed_count"));
    st->bind(1, ms(now));
    TRY_VOID(db_->conn.run(*st));
    return static_cast<int>(db_->conn.changes());
  }

 private:
  // Ends chunks (the caller holds the lock and a transaction).
  Result<void> delete_chunks(std::span<const std::string> chunk_ids) {
    TRY(st, db_->conn.prepare("DELETE FROM campaign_chunks WHERE id = ?"));
    for (const std::string& id : chunk_ids) {
      st->reset();
      st->bind(1, id);
      TRY_VOID(db_->conn.run(*st));
    }
    return {};
  }

  // Counts from the campaign's counters (the caller holds the lock).
  Result<CampaignCounts> counts_locked(const std::string& agent_id, const std::string& id) {
    TRY(st, db_->conn.prepare(
                "SELECT queued_total, sent_count, failed_count, suppressed_count FROM campaigns"
                " WHERE id = ? AND agent_id = ?"));
    st->bind(1, id).bind(2, agent_id);
    CampaignCounts c;
    if (st->step() == SQLITE_ROW) {
      c.sent = st->int64(1);
      c.failed = st->int64(2);
      c.suppressed = st->int64(3);
      c.queued = std::max<std::int64_t>(0, st->int64(0) - c.sent - c.failed - c.suppressed);
    }
    st->reset();
    return c;
  }

  std::shared_ptr<Database> db_;
};

}  // namespace

std::unique_ptr<CampaignStore> make_campaign_store(std::shared_ptr<Database> db) {
  return std::make_unique<SqliteCampaignStore>(std::move(db));
}

}  // namespace sqlite
}  // namespace herald::store
