// Writing and reading messages, shared by the store, its campaign chunks and tracking.
#include "store/common/outcomes.h"
#include "store/postgres/database.h"
#include "store/postgres/sql.h"

namespace herald::store::postgres {

namespace {

constexpr const char* kInsert =
    "INSERT INTO messages (id, agent_id, channel, kind, template_key, vars, to_address, to_name,"
    " listing_id, campaign_id, subject, body_text, body_html, status, attempts, next_attempt_at,"
    " created_at, updated_at, batch_id) SELECT * FROM unnest($1::text[], $2::text[],"
    " $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[],"
    " $10::text[], $11::text[], $12::text[], $13::text[], $14::text[], $15::integer[],"
    " $16::bigint[], $17::bigint[], $17::bigint[], $18::text[])";
constexpr Sql kInsertMessages{"insert_messages", kInsert};
const std::string kInsertSkipping = std::string(kInsert) + " ON CONFLICT DO NOTHING";
const Sql kInsertMessagesSkipping{"insert_messages_skipping", kInsertSkipping.c_str()};

constexpr Sql kInsertEvents{
    "insert_events",
    "INSERT INTO message_events (message_id, agent_id, at, status, detail, attempt, outcome,"
    " http_status, provider, via, payer, route_from, route_reply_to, provider_message_id)"
    " SELECT message_id, agent_id, at, status, detail, attempt, outcome, http_status, provider,"
    " via, payer, route_from, route_reply_to, provider_message_id FROM unnest($1::text[],"
    " $2::text[], $3::bigint[], $4::text[], $5::text[], $6::integer[], $7::text[],"
    " $8::integer[], $9::text[], $10::text[], $11::text[], $12::text[], $13::text[],"
    " $14::text[]) WITH ORDINALITY AS e(message_id, agent_id, at, status, detail, attempt,"
    " outcome, http_status, provider, via, payer, route_from, route_reply_to,"
    " provider_message_id, n) ORDER BY n"};

constexpr Sql kInsertSuppressions{
    "insert_suppressions",
    "INSERT INTO suppressions (id, agent_id, channel, address, reason, source, detail,"
    " created_at) SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[],"
    " $5::text[], $6::text[], $7::text[], $8::bigint[]) ON CONFLICT DO NOTHING"};

}  // namespace

const char* const kMessageColumns =
    "id, agent_id, channel, kind, template_key, vars, to_address, to_name, listing_id, "
    "campaign_id, subject, body_text, body_html, status, attempts, next_attempt_at, last_error, "
    "provider_message_id, route_provider, route_via, route_from, route_reply_to, payer, "
    "created_at, updated_at, batch_id";

Message read_message(const pqxx::row& r, int c) {
  Message m;
  m.id = text(r[c + 0]);
  m.agent_id = text(r[c + 1]);
  m.channel = parse_channel(text(r[c + 2])).value_or(Channel::email);
  m.kind = parse_message_kind(text(r[c + 3])).value_or(MessageKind::transactional);
  m.template_key = text(r[c + 4]);
  m.vars_json = text(r[c + 5]);
  m.to_address = text(r[c + 6]);
  m.to_name = text(r[c + 7]);
  m.listing_id = text(r[c + 8]);
  m.campaign_id = text(r[c + 9]);
  m.subject = text(r[c + 10]);
  m.text = text(r[c + 11]);
  m.html = text(r[c + 12]);
  m.status = parse_message_status(text(r[c + 13])).value_or(MessageStatus::queued);
  m.attempts = static_cast<int>(int64(r[c + 14]));
  m.next_attempt_at = millis(r[c + 15]);
  m.last_error = text(r[c + 16]);
  m.provider_message_id = text(r[c + 17]);
  if (std::string provider = text(r[c + 18]); !provider.empty()) {
    m.route = RouteSummary{std::move(provider), common::parse_via(text(r[c + 19])), text(r[c + 20]),
                           text(r[c + 21]), common::parse_via(text(r[c + 22]))};
  }
  m.created_at = millis(r[c + 23]);
  m.updated_at = millis(r[c + 24]);
  m.batch_id = text(r[c + 25]);
  return m;
}

std::int64_t insert_messages(Tx& tx, std::span<const Message> messages, bool skip_existing) {
  if (messages.empty()) return 0;
  ArrayParam id, agent, channel, kind, key, vars, to, name, listing, campaign, subject, body_text,
      body_html, status, attempts, due, created, batch;
  for (const Message& m : messages) {
    id.text(m.id);
    agent.text(m.agent_id);
    channel.text(to_string(m.channel));
    kind.text(to_string(m.kind));
    key.text(m.template_key);
    vars.text(m.vars_json);
    to.text(m.to_address);
    name.text(m.to_name);
    listing.text(m.listing_id);
    campaign.text(m.campaign_id);
    subject.text(m.subject);
    body_text.text(m.text);
    body_html.text(m.html);
    status.text(to_string(m.status));
    attempts.integer(m.attempts);
    due.integer(ms(m.next_attempt_at));
    created.integer(ms(m.created_at));
    batch.text(m.batch_id);
    // No history row for "queued": the log derives it from created_at (one write per message).
  }
  auto r = tx.run(skip_existing ? kInsertMessagesSkipping : kInsertMessages, id.str(), agent.str(),
                  channel.str(), kind.str(), key.str(), vars.str(), to.str(), name.str(),
                  listing.str(), campaign.str(), subject.str(), body_text.str(), body_html.str(),
                  status.str(), attempts.str(), due.str(), created.str(), batch.str());
  return static_cast<std::int64_t>(r.affected_rows());
}

void insert_events(Tx& tx, std::span<const EventRow> rows) {
  if (rows.empty()) return;
  ArrayParam id, agent, at, status, detail, attempt, outcome, http, provider, via, payer, from,
      reply_to, provider_id;
  for (const EventRow& e : rows) {
    id.text(e.message_id);
    agent.text(e.agent_id);
    at.integer(ms(e.at));
    const Attempt* a = e.attempt;
    status.text(a ? "sending" : to_string(e.status));
    detail.text(a ? a->error : e.detail);
    attempt.integer(a ? a->number : 0);
    outcome.text(a ? a->outcome : "");
    http.integer(a ? a->http_status : 0);
    provider.text(a ? a->route.provider : "");
    via.text(a ? to_string(a->route.via) : "");
    payer.text(a ? to_string(a->route.payer) : "");
    from.text(a ? a->route.from : "");
    reply_to.text(a ? a->route.reply_to : "");
    provider_id.text(a ? a->provider_message_id : "");
  }
  tx.run(kInsertEvents, id.str(), agent.str(), at.str(), status.str(), detail.str(), attempt.str(),
         outcome.str(), http.str(), provider.str(), via.str(), payer.str(), from.str(),
         reply_to.str(), provider_id.str());
}

std::int64_t insert_suppressions(Tx& tx, std::span<const Suppression> rows) {
  if (rows.empty()) return 0;
  ArrayParam id, agent, channel, address, reason, source, detail, created;
  for (const Suppression& s : rows) {
    id.text(s.id);
    agent.text(s.agent_id);
    channel.text(to_string(s.channel));
    address.text(suppression_key(s.channel, s.address));
    reason.text(to_string(s.reason));
    source.text(s.source);
    detail.text(s.detail);
    created.integer(ms(s.created_at));
  }
  auto r = tx.run(kInsertSuppressions, id.str(), agent.str(), channel.str(), address.str(),
                  reason.str(), source.str(), detail.str(), created.str());
  return static_cast<std::int64_t>(r.affected_rows());
}

}  // namespace herald::store::postgres
