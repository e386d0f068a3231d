// The PostgreSQL store's messages and queue. Claims lock due rows FOR UPDATE SKIP LOCKED in one
// statement (several processes claim side by side, none waits for another's rows), and every
// batch of outcomes is written with a handful of multi-row statements, whatever its size.
#include <algorithm>
#include <map>
#include <set>

#include "store/common/outcomes.h"
#include "store/postgres/pg_store.h"
#include "store/postgres/sql.h"

namespace herald::store::postgres {

namespace {

constexpr Sql kFindMessage{
    "find_message",
    "SELECT id, agent_id, channel, kind, template_key, vars, to_address, to_name, listing_id,"
    " campaign_id, subject, body_text, body_html, status, attempts, next_attempt_at, last_error,"
    " provider_message_id, route_provider, route_via, route_from, route_reply_to, payer,"
    " created_at, updated_at, batch_id, sent_at, sent_http_status FROM messages"
    " WHERE id = $1 AND ($2 = '' OR agent_id = $2)"};
constexpr Sql kMessageHistory{
    "message_history",
    "SELECT at, status, detail, attempt, outcome, http_status, provider, via, payer, route_from,"
    " route_reply_to, provider_message_id FROM message_events WHERE agent_id = $1 AND"
    " message_id = $2 ORDER BY at, seq"};
constexpr Sql kListMessages{
    "list_messages",
    "SELECT id, agent_id, channel, kind, template_key, vars, to_address, to_name, listing_id,"
    " campaign_id, subject, body_text, body_html, status, attempts, next_attempt_at, last_error,"
    " provider_message_id, route_provider, route_via, route_from, route_reply_to, payer,"
    " created_at, updated_at, batch_id FROM messages WHERE agent_id = $1 AND ($2 = '' OR id < $2)"
    " AND ($3 = '' OR channel = $3) AND ($4 = '' OR status = $4) ORDER BY id DESC LIMIT $5"};

// The end of both claims: take the rest of every batch a due message belongs to (so batches
// stay whole), and lease them all. $1 lease_until, $2 worker, $3 now. (No other claim holds a
// batch this one chose, see HERALD_BATCH_FREE: a wait here is for a writer's row lock only.)
#define HERALD_CLAIM_TAIL                                                                        \
  " batch AS (SELECT id, agent_id FROM messages WHERE status IN ('queued', 'retrying') AND"      \
  " batch_id <> '' AND batch_id = ANY (ARRAY(SELECT batch_id FROM due WHERE batch_id <> ''))"    \
  " FOR UPDATE),"                                                                                \
  " picked AS (SELECT id AS pick_id, agent_id AS pick_agent FROM due UNION"                      \
  " SELECT id, agent_id FROM batch)"                                                             \
  " UPDATE messages SET status = 'sending', lease_until = $1, claimed_by = $2, updated_at = $3"  \
  " FROM picked WHERE id = pick_id AND agent_id = pick_agent RETURNING id, agent_id, channel,"   \
  " kind, template_key, vars, to_address, to_name, listing_id, campaign_id, subject, body_text," \
  " body_html, status, attempts, next_attempt_at, last_error, provider_message_id,"              \
  " route_provider, route_via, route_from, route_reply_to, payer, created_at, updated_at,"       \
  " batch_id"
// Messages of paused campaigns stay queued.
#define HERALD_NOT_PAUSED                                                                \
  " AND (m.campaign_id = '' OR NOT EXISTS (SELECT 1 FROM campaigns c WHERE c.agent_id =" \
  " m.agent_id AND c.id = m.campaign_id AND c.status = 'paused'))"
// A batch goes to one claim whole: a claim takes a batched message only if it gets the batch's
// advisory lock (held until the claim commits, when its members are no longer queued). Row
// locks alone would let two claims each take part of a batch, SKIP LOCKED passing the other's.
// (Keyed by a hash: two batches sharing one only wait for each other's claim.)
#define HERALD_BATCH_FREE \
  " AND (m.batch_id = '' OR pg_try_advisory_xact_lock(1214604914, hashtext(m.batch_id)))"

// One lane's due messages in queue order ($4 kind, $5 limit), seeking messages_due.
constexpr Sql kClaimLane{
    "claim_lane",
    "WITH due AS (SELECT m.id, m.agent_id, m.batch_id FROM messages m WHERE m.status IN"
    " ('queued', 'retrying') AND m.kind = $4 AND m.next_attempt_at <= $3" HERALD_NOT_PAUSED
        HERALD_BATCH_FREE
    " ORDER BY m.next_attempt_at, m.id LIMIT $5 FOR UPDATE SKIP LOCKED)," HERALD_CLAIM_TAIL};
// Up to $5 due messages of each agent in $4, seeking messages_due_agent once per agent.
constexpr Sql kClaimAgents{
    "claim_agents",
    "WITH due AS (SELECT d.id, d.agent_id, d.batch_id FROM unnest($4::text[]) AS a(agent_id)"
    " CROSS JOIN LATERAL (SELECT m.id, m.agent_id, m.batch_id FROM messages m WHERE"
    " m.agent_id = a.agent_id AND m.status IN ('queued', 'retrying') AND"
    " m.next_attempt_at <= $3" HERALD_NOT_PAUSED HERALD_BATCH_FREE
    " ORDER BY m.next_attempt_at, m.id LIMIT $5 FOR UPDATE SKIP LOCKED) d)," HERALD_CLAIM_TAIL};
#undef HERALD_CLAIM_TAIL
#undef HERALD_NOT_PAUSED
#undef HERALD_BATCH_FREE

// The agents with queued messages after $1, in id order, at most $2: one seek of
// messages_due_agent per agent, never a read of the queue.
constexpr Sql kAgentsWithQueued{
    "agents_with_queued",
    "WITH RECURSIVE a(id) AS (SELECT (SELECT MIN(agent_id) FROM messages WHERE status IN"
    " ('queued', 'retrying') AND agent_id > $1) UNION ALL SELECT (SELECT MIN(agent_id) FROM"
    " messages WHERE status IN ('queued', 'retrying') AND agent_id > a.id) FROM a WHERE a.id IS"
    " NOT NULL) SELECT id FROM a WHERE id IS NOT NULL LIMIT $2"};

constexpr Sql kAssignBatches{
    "assign_batches",
    "UPDATE messages SET batch_id = b.batch_id FROM unnest($1::text[], $2::text[]) AS"
    " b(id, batch_id) WHERE messages.id = b.id"};
constexpr Sql kRequeueExpired{
    "requeue_expired",
    "UPDATE messages SET status = 'queued', lease_until = 0, claimed_by = '' WHERE status ="
    " 'sending' AND lease_until <= $1"};
constexpr Sql kNextDue{
    "next_due",
    "SELECT LEAST((SELECT MIN(next_attempt_at) FROM messages WHERE kind = 'transactional' AND"
    " status IN ('queued', 'retrying')), (SELECT MIN(next_attempt_at) FROM messages WHERE kind ="
    " 'campaign' AND status IN ('queued', 'retrying')))"};
constexpr Sql kTrySweepLock{"try_sweep_lock", "SELECT pg_try_advisory_xact_lock($1)"};
constexpr Sql kCountByStatus{"count_by_status",
                             "SELECT status, COUNT(*) FROM messages GROUP BY status"};

// A message's attempts and history from message_events rows (after its queued entry and any
// first-try acceptance the row holds).
void read_history(const pqxx::result& rows, MessageDetail& d) {
  for (const pqxx::row& r : rows) {
    const TimePoint at = millis(r[0]);
    const int attempt = static_cast<int>(int64(r[3]));
    if (attempt == 0) {
      d.history.push_back(StatusEvent{
          at, parse_message_status(text(r[1])).value_or(MessageStatus::queued), text(r[2])});
      continue;
    }
    Attempt a;
    a.number = attempt;
    a.at = at;
    a.outcome = text(r[4]);
    a.http_status = static_cast<int>(int64(r[5]));
    a.error = text(r[2]);
    a.route = RouteSummary{text(r[6]), common::parse_via(text(r[7])), text(r[9]), text(r[10]),
                           common::parse_via(text(r[8]))};
    a.provider_message_id = text(r[11]);
    d.attempts.push_back(std::move(a));
  }
}

}  // namespace

Result<void> PgStore::enqueue(std::span<const Message> messages) {
  // One statement: atomic on its own.
  return with_autocommit(pool_, "enqueue", [&](Tx& tx) -> Result<void> {
    insert_messages(tx, messages);
    return {};
  });
}

Result<std::optional<MessageDetail>> PgStore::find_message(const std::string& id,
                                                           const std::string& agent_id) {
  using Found = std::optional<MessageDetail>;
  return with_autocommit(pool_, "find message", [&](Tx& tx) -> Result<Found> {
    const pqxx::result rows = tx.run(kFindMessage, id, agent_id);
    if (rows.empty()) return Found();
    MessageDetail d;
    d.message = read_message(rows[0]);
    const std::int64_t sent_at = int64(rows[0][26]);
    const int sent_http_status = static_cast<int>(int64(rows[0][27]));
    d.history.push_back(StatusEvent{d.message.created_at, MessageStatus::queued, ""});
    // A first-try acceptance lives in the row (see record_outcomes): rebuild its attempt and
    // its "sent" entry exactly as they were recorded.
    if (sent_at > 0 && d.message.route) {
      const RouteSummary& r = *d.message.route;
      d.attempts.push_back(Attempt{1, from_millis(sent_at), r, "accepted", sent_http_status, "",
                                   d.message.provider_message_id});
      d.history.push_back(
          StatusEvent{from_millis(sent_at), MessageStatus::sent, accepted_detail(r.provider)});
    }
    read_history(tx.run(kMessageHistory, d.message.agent_id, id), d);
    std::ranges::stable_sort(d.history, {}, &StatusEvent::at);
    return Found(std::move(d));
  });
}

Result<Page<Message>> PgStore::list_messages(const MessageQuery& q) {
  const std::string channel = q.channel ? std::string(to_string(*q.channel)) : "";
  const std::string status = q.status ? std::string(to_string(*q.status)) : "";
  return with_autocommit(pool_, "list messages", [&](Tx& tx) -> Result<Page<Message>> {
    Page<Message> page;
    for (const pqxx::row& r :
         tx.run(kListMessages, q.agent_id, q.cursor, channel, status, q.limit + 1))
      page.items.push_back(read_message(r));
    if (static_cast<int>(page.items.size()) > q.limit) {
      page.items.pop_back();
      page.next_cursor = page.items.back().id;
    }
    return page;
  });
}

// ---- the queue ----

Result<std::vector<std::string>> PgStore::agents_to_serve() {
  std::lock_guard lock(claim_mu_);
  auto found =
      with_autocommit(pool_, "claim agents", [&](Tx& tx) -> Result<std::vector<std::string>> {
        std::vector<std::string> agents;
        auto find = [&](const std::string& after) {
          const int wanted = kAgentsPerClaim - static_cast<int>(agents.size());
          for (const pqxx::row& r : tx.run(kAgentsWithQueued, after, wanted)) {
            std::string id = text(r[0]);
            if (std::ranges::find(agents, id) != agents.end()) break;  // wrapped around
            agents.push_back(std::move(id));
          }
        };
        find(claim_after_agent_);
        if (static_cast<int>(agents.size()) < kAgentsPerClaim && !claim_after_agent_.empty())
          find("");
        return agents;
      });
  if (!found) return found;
  if (!found->empty())
    claim_after_agent_ =
        static_cast<int>(found->size()) < kAgentsPerClaim ? std::string() : found->back();
  return found;
}

Result<std::vector<Message>> PgStore::claim_due(const ClaimRequest& req) {
  // Any kind (campaign traffic): each agent with queued messages gets an equal share, so one
  // agent's large campaign never fills every pass while another waits.
  std::vector<std::string> agents;
  if (!req.kind) {
    auto found = agents_to_serve();
    if (!found) return fail(found.error());
    if (found->empty()) return std::vector<Message>();
    agents = std::move(*found);
  }
  const int share = std::max(1, req.limit / std::max(1, static_cast<int>(agents.size())));
  // One statement (a CTE locking due rows and an UPDATE … RETURNING): atomic on its own.
  auto claimed = with_autocommit(pool_, "claim", [&](Tx& tx) -> Result<std::vector<Message>> {
    const pqxx::result rows = req.kind
                                  ? tx.run(kClaimLane, ms(req.lease_until), req.worker, ms(req.now),
                                           std::string(to_string(*req.kind)), req.limit)
                                  : tx.run(kClaimAgents, ms(req.lease_until), req.worker,
                                           ms(req.now), text_array(agents), share);
    std::vector<Message> out;
    out.reserve(rows.size());
    for (const pqxx::row& r : rows) out.push_back(read_message(r));
    return out;
  });
  if (!claimed) return claimed;
  // RETURNING gives no order guarantee; keep the queue's order for the caller.
  std::ranges::sort(*claimed, [](const Message& a, const Message& b) {
    return a.next_attempt_at != b.next_attempt_at ? a.next_attempt_at < b.next_attempt_at
                                                  : a.id < b.id;
  });
  return claimed;
}

Result<void> PgStore::assign_batches(std::span<const std::vector<std::string>> batches) {
  // Each message's last batch wins, as when the batches are written one after another.
  std::map<std::string, std::string> batch_of;
  for (const auto& ids : batches)
    for (const std::string& id : ids) batch_of[id] = ids.front();
  if (batch_of.empty()) return {};
  ArrayParam ids, batch_ids;
  for (const auto& [id, batch] : batch_of) {
    ids.text(id);
    batch_ids.text(batch);
  }
  return with_autocommit(pool_, "assign batches", [&](Tx& tx) -> Result<void> {
    tx.run(kAssignBatches, ids.str(), batch_ids.str());
    return {};
  });
}

Result<int> PgStore::requeue_expired(TimePoint now) {
  return with_tx(pool_, "requeue expired", [&](Tx& tx) -> Result<int> {
    const int claims = static_cast<int>(tx.run(kRequeueExpired, ms(now)).affected_rows());
    auto chunks = requeue_expired_chunks(tx, now);
    if (!chunks) return chunks;
    return claims + *chunks;
  });
}

// One process sweeps at a time: the others find the lock taken and skip their turn (the next
// sweep comes soon), so no two processes start, complete or requeue the same rows at once. The
// lock is the transaction's: a process that dies mid-sweep lets go of it with its connection.
Result<SweepReport> PgStore::sweep(TimePoint now, bool requeue) {
  return with_tx(pool_, "scheduler sweep", [&](Tx& tx) -> Result<SweepReport> {
    SweepReport report;
    if (!boolean(tx.run(kTrySweepLock, kSweepLock)[0][0])) return report;
    report.ran = true;
    report.started = start_scheduled_campaigns(tx, now);
    complete_finished_campaigns(tx, now);
    if (!requeue) return report;
    report.requeued = static_cast<int>(tx.run(kRequeueExpired, ms(now)).affected_rows());
    auto chunks = requeue_expired_chunks(tx, now);
    if (!chunks) return fail(chunks.error());
    report.requeued += *chunks;
    return report;
  });
}

// Several processes share the database: a claim whose lease still runs belongs to a live
// process (this one's previous run, if it was this one, let its leases run out).
Result<int> PgStore::recover_interrupted(TimePoint now) {
  return requeue_expired(now);
}

Result<std::optional<TimePoint>> PgStore::next_due_at() {
  return with_autocommit(pool_, "next due", [&](Tx& tx) -> Result<std::optional<TimePoint>> {
    const pqxx::result rows = tx.run(kNextDue);
    if (rows.empty() || rows[0][0].is_null()) return std::optional<TimePoint>();
    return std::optional<TimePoint>(millis(rows[0][0]));
  });
}

Result<std::vector<std::pair<MessageStatus, std::int64_t>>> PgStore::count_by_status() {
  using Counts = std::vector<std::pair<MessageStatus, std::int64_t>>;
  return with_autocommit(pool_, "count by status", [&](Tx& tx) -> Result<Counts> {
    Counts out;
    for (const pqxx::row& r : tx.run(kCountByStatus))
      if (auto s = parse_message_status(text(r[0]))) out.emplace_back(*s, int64(r[1]));
    return out;
  });
}

}  // namespace herald::store::postgres
