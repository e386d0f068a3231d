// Writing messages, shared by the store and its campaign chunks.
#include "store/sqlite/database.h"

namespace herald::store::sqlite {

#define TRY HERALD_TRY
#define TRY_VOID HERALD_TRY_VOID

namespace {
std::int64_t ms(TimePoint t) {
  return to_millis(t);
}
}  // namespace

Result<std::int64_t> insert_messages(Connection& conn, std::span<const Message> messages,
                                     bool skip_existing) {
  TRY(st,
      conn.prepare(std::string(skip_existing ? "INSERT OR IGNORE" : "INSERT") +
                   " INTO messages (id, agent_id, channel, kind, template_key, vars,"
                   " to_address, to_name, listing_id, campaign_id, subject, body_text,"
                   " body_html, status, attempts, next_attempt_at, created_at, updated_at,"
                   " batch_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"));
  std::int64_t inserted = 0;
  for (const Message& m : messages) {
    st->reset();
    st->bind(1, m.id).bind(2, m.agent_id).bind(3, to_string(m.channel));
    st->bind(4, to_string(m.kind)).bind(5, m.template_key).bind(6, m.vars_json);
    st->bind(7, m.to_address).bind(8, m.to_name).bind(9, m.listing_id).bind(10, m.campaign_id);
    st->bind(11, m.subject).bind(12, m.text).bind(13, m.html).bind(14, to_string(m.status));
    st->bind(15, m.attempts).bind(16, ms(m.next_attempt_at)).bind(17, ms(m.created_at));
    st->bind(18, ms(m.created_at)).bind(19, m.batch_id);
    TRY_VOID(conn.run(*st));
    inserted += conn.changes();
    // No history row for "queued": the log derives it from created_at (one write per message).
  }
  return inserted;
}

Result<void> insert_event(Connection& conn, const std::string& id, const std::string& agent_id,
                          const StatusEvent& e) {
  TRY(st, conn.prepare("INSERT INTO message_events (message_id, agent_id, at, status, detail)"
                       " VALUES (?, ?, ?, ?, ?)"));
  st->bind(1, id).bind(2, agent_id).bind(3, ms(e.at)).bind(4, to_string(e.status));
  st->bind(5, e.detail);
  return conn.run(*st);
}

}  // namespace herald::store::sqlite
