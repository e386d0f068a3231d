// PostgreSQL implementation of CampaignStore. Several processes may fan out one campaign: a take
// locks the campaign's row (SELECT … FOR UPDATE) and moves its cursor only from where the taker
// found it, so no two takers ever take the same recipients.
#include <algorithm>

#include "store/common/chunk_codec.h"
#include "store/postgres/database.h"
#include "store/postgres/sql.h"

namespace herald::store::postgres {

namespace {

#define HERALD_CAMPAIGN_COLUMNS                                                                   \
  "id, agent_id, name, channel, template_key, roles, tags, status, send_at, cursor, fanout_done," \
  " total, created_at, updated_at, listing_id"

constexpr Sql kCreate{
    "create_campaign",
    "INSERT INTO campaigns (id, agent_id, name, channel, template_key, roles, tags, status,"
    " send_at, created_at, updated_at, listing_id) VALUES ($1, $2, $3, $4, $5, $6::text[],"
    " $7::text[], $8, $9, $10, $11, $12)"};
constexpr Sql kFind{"find_campaign", "SELECT " HERALD_CAMPAIGN_COLUMNS
                                     " FROM campaigns WHERE agent_id = $1 AND id = $2"};
constexpr Sql kList{"list_campaigns", "SELECT " HERALD_CAMPAIGN_COLUMNS
                                      " FROM campaigns WHERE agent_id = $1 ORDER BY id DESC"};
constexpr Sql kTransition{
    "transition_campaign",
    "UPDATE campaigns SET status = $1, updated_at = $2, total = CASE WHEN $3 THEN $4 ELSE total"
    " END WHERE agent_id = $5 AND id = $6 AND status = ANY($7::text[])"};
constexpr Sql kStartScheduled{
    "start_scheduled_campaigns",
    "UPDATE campaigns SET status = 'running', updated_at = $1 WHERE status = 'scheduled' AND"
    " send_at <= $1"};
// Least recently served first (a take touches the campaign), so campaigns take turns.
constexpr Sql kDueForFanout{"due_for_fanout",
                            "SELECT " HERALD_CAMPAIGN_COLUMNS
                            " FROM campaigns WHERE status = 'running' AND NOT fanout_done"
                            " ORDER BY updated_at LIMIT $1"};
#undef HERALD_CAMPAIGN_COLUMNS
constexpr Sql kLockCursor{
    "lock_campaign_cursor",
    "SELECT cursor, status FROM campaigns WHERE agent_id = $1 AND id = $2 FOR UPDATE"};
constexpr Sql kMoveCursor{
    "move_campaign_cursor",
    "UPDATE campaigns SET cursor = $1, fanout_done = $2, updated_at = $3, queued_total ="
    " queued_total + $4 WHERE agent_id = $5 AND id = $6"};
constexpr Sql kInsertChunk{
    "insert_chunk",
    "INSERT INTO campaign_chunks (id, agent_id, campaign_id, channel, template_key, listing_id,"
    " created_at, worker, lease_until, messages) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9,"
    " $10)"};
constexpr Sql kUpdateChunk{"update_chunk",
                           "UPDATE campaign_chunks SET messages = $1 WHERE id = $2"};
constexpr Sql kDeleteChunks{"delete_chunks",
                            "DELETE FROM campaign_chunks WHERE id = ANY($1::text[])"};
// Expired chunks, each taken by one process only (another one recovering skips it).
constexpr Sql kExpiredChunks{
    "expired_chunks",
    "SELECT id, agent_id, campaign_id, channel, template_key, listing_id, created_at, messages"
    " FROM campaign_chunks WHERE lease_until <= $1 FOR UPDATE SKIP LOCKED"};
constexpr Sql kCounts{
    "campaign_counts",
    "SELECT queued_total, sent_count, failed_count, suppressed_count FROM campaigns"
    " WHERE agent_id = $1 AND id = $2"};
// The campaign's unsent messages are in the agent's queue (messages_due_agent).
constexpr Sql kCancelUnsent{
    "cancel_unsent",
    "UPDATE messages SET status = 'failed', last_error = 'campaign cancelled', updated_at = $1"
    " WHERE agent_id = $2 AND status IN ('queued', 'retrying') AND campaign_id = $3"};
constexpr Sql kCountCancelled{
    "count_cancelled",
    "UPDATE campaigns SET failed_count = failed_count + $1 WHERE agent_id = $2 AND id = $3"};
constexpr Sql kCompleteFinished{
    "complete_finished_campaigns",
    "UPDATE campaigns SET status = 'completed', updated_at = $1 WHERE status = 'running' AND"
    " fanout_done AND queued_total <= sent_count + failed_count + suppressed_count"};

Campaign read(const pqxx::row& r) {
  Campaign c;
  c.id = text(r[0]);
  c.agent_id = text(r[1]);
  c.name = text(r[2]);
  c.channel = parse_channel(text(r[3])).value_or(Channel::email);
  c.template_key = text(r[4]);
  c.roles = text_list(r[5]);
  c.tags = text_list(r[6]);
  c.status = parse_campaign_status(text(r[7])).value_or(CampaignStatus::draft);
  if (int64(r[8]) > 0) c.send_at = millis(r[8]);
  c.cursor = text(r[9]);
  c.fanout_done = boolean(r[10]);
  c.total = int64(r[11]);
  c.created_at = millis(r[12]);
  c.updated_at = millis(r[13]);
  c.listing_id = text(r[14]);
  return c;
}

// The messages of the chunks in `rows` (kExpiredChunks), due since they were taken; fails on a
// chunk that cannot be read.
Result<std::vector<Message>> decode_chunks(const pqxx::result& rows) {
  std::vector<Message> out;
  for (const pqxx::row& r : rows) {
    Message shared;
    shared.agent_id = text(r[1]);
    shared.campaign_id = text(r[2]);
    shared.channel = parse_channel(text(r[3])).value_or(Channel::email);
    shared.kind = MessageKind::campaign;
    shared.template_key = text(r[4]);
    shared.listing_id = text(r[5]);
    shared.created_at = shared.updated_at = shared.next_attempt_at = millis(r[6]);
    if (!common::decode_chunk(bytes(r[7]), shared, out))
      return fail(Errc::storage, "campaign chunk " + text(r[0]) + " is unreadable");
  }
  return out;
}

class PgCampaignStore final : public CampaignStore {
 public:
  explicit PgCampaignStore(std::shared_ptr<Database> db) : db_(std::move(db)), pool_(*db_->pool) {}

  Result<void> create(const Campaign& c) override {
    return with_autocommit(pool_, "create campaign", [&](Tx& tx) -> Result<void> {
      tx.run(kCreate, c.id, c.agent_id, c.name, std::string(to_string(c.channel)), c.template_key,
             text_array(c.roles), text_array(c.tags), std::string(to_string(c.status)),
             c.send_at ? ms(*c.send_at) : std::int64_t{0}, ms(c.created_at), ms(c.updated_at),
             c.listing_id);
      return {};
    });
  }

  Result<std::optional<Campaign>> find(const std::string& agent_id,
                                       const std::string& id) override {
    return with_autocommit(pool_, "find campaign", [&](Tx& tx) -> Result<std::optional<Campaign>> {
      const pqxx::result rows = tx.run(kFind, agent_id, id);
      if (rows.empty()) return std::optional<Campaign>();
      return std::optional<Campaign>(read(rows[0]));
    });
  }

  Result<std::vector<Campaign>> list(const std::string& agent_id) override {
    return with_autocommit(pool_, "list campaigns", [&](Tx& tx) -> Result<std::vector<Campaign>> {
      std::vector<Campaign> out;
      for (const pqxx::row& r : tx.run(kList, agent_id)) out.push_back(read(r));
      return out;
    });
  }

  Result<bool> transition(const std::string& agent_id, const std::string& id,
                          std::span<const CampaignStatus> from, CampaignStatus to, TimePoint now,
                          std::optional<std::int64_t> total) override {
    ArrayParam allowed;
    for (CampaignStatus f : from) allowed.text(to_string(f));
    return with_autocommit(pool_, "campaign transition", [&](Tx& tx) -> Result<bool> {
      return tx.run(kTransition, std::string(to_string(to)), ms(now), total.has_value(),
                    total.value_or(0), agent_id, id, allowed.str())
                 .affected_rows() > 0;
    });
  }

  Result<std::vector<Campaign>> due_for_fanout(TimePoint /*now*/, int limit) override {
    return with_autocommit(pool_, "campaigns due", [&](Tx& tx) -> Result<std::vector<Campaign>> {
      std::vector<Campaign> out;
      for (const pqxx::row& r : tx.run(kDueForFanout, limit)) out.push_back(read(r));
      return out;
    });
  }

  Result<int> start_scheduled(TimePoint now) override {
    return with_autocommit(pool_, "start scheduled campaigns", [&](Tx& tx) -> Result<int> {
      return start_scheduled_campaigns(tx, now);
    });
  }

  Result<bool> take(const Campaign& c, const std::string& expected_cursor,
                    std::span<const Message> messages, const std::string& cursor, bool done,
                    const ChunkLease& lease, TimePoint now) override {
    return with_tx(pool_, "take campaign recipients", [&](Tx& tx) -> Result<bool> {
      // The cursor moves only from where this taker found it, under the row's lock: a racing
      // taker waits here, then finds the cursor moved and takes nothing.
      const pqxx::result locked = tx.run(kLockCursor, c.agent_id, c.id);
      if (locked.empty() || text(locked[0][0]) != expected_cursor ||
          text(locked[0][1]) != "running")
        return false;
      tx.run(kMoveCursor, cursor, done, ms(now), static_cast<std::int64_t>(messages.size()),
             c.agent_id, c.id);
      if (messages.empty()) return true;
      const Message& first = messages.front();
      tx.run(kInsertChunk, lease.chunk_id, c.agent_id, c.id, std::string(to_string(first.channel)),
             first.template_key, first.listing_id, ms(first.created_at), lease.worker,
             ms(lease.until), pqxx::binarystring(common::encode_chunk(messages)));
      return true;
    });
  }

  Result<void> update_chunk(const std::string& chunk_id,
                            std::span<const Message> messages) override {
    return with_autocommit(pool_, "update campaign chunk", [&](Tx& tx) -> Result<void> {
      tx.run(kUpdateChunk, pqxx::binarystring(common::encode_chunk(messages)), chunk_id);
      return {};
    });
  }

  Result<void> finish_chunks(std::span<const std::string> chunk_ids) override {
    if (chunk_ids.empty()) return {};
    return with_autocommit(pool_, "finish campaign chunks", [&](Tx& tx) -> Result<void> {
      tx.run(kDeleteChunks, text_array(chunk_ids));
      return {};
    });
  }

  Result<int> requeue_expired_chunks(TimePoint now) override {
    return with_tx(pool_, "requeue expired chunks",
                   [&](Tx& tx) { return postgres::requeue_expired_chunks(tx, now); });
  }

  Result<CampaignCounts> counts(const std::string& agent_id, const std::string& id) override {
    return with_autocommit(pool_, "campaign counts", [&](Tx& tx) -> Result<CampaignCounts> {
      CampaignCounts c;
      const pqxx::result rows = tx.run(kCounts, agent_id, id);
      if (rows.empty()) return c;
      c.sent = int64(rows[0][1]);
      c.failed = int64(rows[0][2]);
      c.suppressed = int64(rows[0][3]);
      c.queued = std::max<std::int64_t>(0, int64(rows[0][0]) - c.sent - c.failed - c.suppressed);
      return c;
    });
  }

  Result<std::int64_t> backlog(const std::string& agent_id, const std::string& id) override {
    auto c = counts(agent_id, id);
    if (!c) return fail(c.error());
    return c->queued;
  }

  Result<std::int64_t> cancel_unsent(const std::string& agent_id, const std::string& id,
                                     TimePoint now) override {
    return with_tx(pool_, "cancel unsent", [&](Tx& tx) -> Result<std::int64_t> {
      const auto n =
          static_cast<std::int64_t>(tx.run(kCancelUnsent, ms(now), agent_id, id).affected_rows());
      tx.run(kCountCancelled, n, agent_id, id);
      return n;
    });
  }

  Result<int> complete_finished(TimePoint now) override {
    return with_autocommit(pool_, "complete campaigns", [&](Tx& tx) -> Result<int> {
      return complete_finished_campaigns(tx, now);
    });
  }

 private:
  std::shared_ptr<Database> db_;
  Pool& pool_;
};

}  // namespace

int start_scheduled_campaigns(Tx& tx, TimePoint now) {
  return static_cast<int>(tx.run(kStartScheduled, ms(now)).affected_rows());
}

int complete_finished_campaigns(Tx& tx, TimePoint now) {
  return static_cast<int>(tx.run(kCompleteFinished, ms(now)).affected_rows());
}

Result<int> requeue_expired_chunks(Tx& tx, TimePoint now) {
  const pqxx::result rows = tx.run(kExpiredChunks, ms(now));
  if (rows.empty()) return 0;
  auto queued = decode_chunks(rows);
  if (!queued) return fail(queued.error());
  // Messages whose outcome was recorded before the worker stopped are already in the queue.
  const std::int64_t inserted = insert_messages(tx, *queued, /*skip_existing=*/true);
  ArrayParam ended;
  for (const pqxx::row& r : rows) ended.text(text(r[0]));
  tx.run(kDeleteChunks, ended.str());
  return static_cast<int>(inserted);
}

std::unique_ptr<CampaignStore> make_campaign_store(std::shared_ptr<Database> db) {
  return std::make_unique<PgCampaignStore>(std::move(db));
}

}  // namespace herald::store::postgres
