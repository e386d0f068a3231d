// Recording a batch of outcomes on PostgreSQL in a few multi-row statements (unnest arrays),
// whatever the batch's size: the queued messages' updates, the fresh campaign messages'
// inserts, their history, suppressions, cancelled campaigns' leftovers and campaign counters.
#include <map>
#include <set>

#include "store/common/outcomes.h"
#include "store/postgres/pg_store.h"
#include "store/postgres/sql.h"

namespace herald::store::postgres {

namespace {

// The outcome columns both statements take, as unnest's arguments $1…$20 (then $21: now).
#define HERALD_OUTCOME_ARRAYS                                                                   \
  "unnest($1::text[], $2::text[], $3::text[], $4::integer[], $5::bigint[], $6::text[],"         \
  " $7::text[], $8::text[], $9::text[], $10::text[], $11::text[], $12::text[], $13::boolean[]," \
  " $14::text[], $15::boolean[], $16::text[], $17::text[], $18::bigint[], $19::integer[],"      \
  " $20::boolean[]"
#define HERALD_OUTCOME_NAMES                                                                \
  "o(id, agent_id, status, attempts, next_at, last_error, provider_id, route_provider,"     \
  " route_via, route_from, route_reply_to, payer, rendered, subject, keep_body, body_text," \
  " body_html, sent_at, sent_http_status, lookup)"

// A message already final (recorded by a worker that re-claimed it after this claim expired)
// keeps that record: only messages still queued, sending or retrying take an outcome.
constexpr Sql kUpdateQueued{
    "record_queued",
    "UPDATE messages m SET status = o.status, attempts = o.attempts, next_attempt_at ="
    " o.next_at, last_error = o.last_error, provider_message_id = o.provider_id,"
    " route_provider = o.route_provider, route_via = o.route_via, route_from = o.route_from,"
    " route_reply_to = o.route_reply_to, payer = o.payer, lease_until = 0, claimed_by = '',"
    " updated_at = $21, subject = CASE WHEN o.rendered THEN o.subject ELSE m.subject END,"
    " body_text = CASE WHEN o.keep_body THEN o.body_text ELSE m.body_text END,"
    " body_html = CASE WHEN o.keep_body THEN o.body_html ELSE m.body_html END,"
    " sent_at = CASE WHEN o.sent_at > 0 THEN o.sent_at ELSE m.sent_at END,"
    " sent_http_status = CASE WHEN o.sent_at > 0 THEN o.sent_http_status ELSE"
    " m.sent_http_status END, provider_id_lookup = o.lookup FROM " HERALD_OUTCOME_ARRAYS
    ") AS " HERALD_OUTCOME_NAMES
    " WHERE m.id = o.id AND m.agent_id = o.agent_id AND m.status IN ('queued', 'sending',"
    " 'retrying') RETURNING m.id, m.campaign_id"};

// Messages taken straight from a campaign's audience, inserted whole with their outcome
// ($22…$30: their own columns). One whose chunk was queued meanwhile (its lease expired) is
// there already: it takes the outcome as a queued message does.
constexpr Sql kInsertFresh{
    "record_fresh",
    "INSERT INTO messages (id, agent_id, channel, kind, template_key, vars, to_address, to_name,"
    " listing_id, campaign_id, batch_id, created_at, status, attempts, next_attempt_at,"
    " last_error, provider_message_id, route_provider, route_via, route_from, route_reply_to,"
    " payer, updated_at, subject, body_text, body_html, sent_at, sent_http_status,"
    " provider_id_lookup) SELECT o.id, o.agent_id, f.channel, 'campaign', f.template_key,"
    " f.vars, f.to_address, f.to_name, f.listing_id, f.campaign_id, f.batch_id, f.created_at,"
    " o.status, o.attempts, o.next_at, o.last_error, o.provider_id, o.route_provider,"
    " o.route_via, o.route_from, o.route_reply_to, o.payer, $21, CASE WHEN o.rendered THEN"
    " o.subject ELSE '' END, CASE WHEN o.keep_body THEN o.body_text ELSE '' END, CASE WHEN"
    " o.keep_body THEN o.body_html ELSE '' END, o.sent_at, o.sent_http_status, o.lookup"
    " FROM " HERALD_OUTCOME_ARRAYS ") WITH ORDINALITY AS " HERALD_OUTCOME_NAMES
    " JOIN unnest($22::text[], $23::text[], $24::text[], $25::text[], $26::text[], $27::text[],"
    " $28::text[], $29::text[], $30::bigint[]) WITH ORDINALITY AS f(channel, template_key, vars,"
    " to_address, to_name, listing_id, campaign_id, batch_id, created_at, n) ON f.n ="
    " o.ordinality"
    " ON CONFLICT DO NOTHING RETURNING id, campaign_id"};
#undef HERALD_OUTCOME_ARRAYS
#undef HERALD_OUTCOME_NAMES

// Campaign messages still to be sent whose campaign was cancelled while they were out end
// failed (cancel_unsent failed those already queued).
constexpr Sql kFailCancelled{
    "record_fail_cancelled",
    "UPDATE messages m SET status = 'failed', last_error = 'campaign cancelled', updated_at = $4"
    " FROM unnest($1::text[], $2::text[], $3::text[]) AS w(id, agent_id, campaign_id)"
    " JOIN campaigns c ON c.agent_id = w.agent_id AND c.id = w.campaign_id AND c.status ="
    " 'cancelled' WHERE m.id = w.id AND m.agent_id = w.agent_id AND m.status IN ('queued',"
    " 'retrying') RETURNING m.agent_id, m.campaign_id"};

constexpr Sql kAddCampaignCounts{
    "record_campaign_counts",
    "UPDATE campaigns c SET sent_count = sent_count + d.sent, failed_count = failed_count +"
    " d.failed, suppressed_count = suppressed_count + d.suppressed FROM unnest($1::text[],"
    " $2::text[], $3::bigint[], $4::bigint[], $5::bigint[]) AS d(agent_id, id, sent, failed,"
    " suppressed) WHERE c.agent_id = d.agent_id AND c.id = d.id"};

// Campaign counters to move: (agent, campaign) → sent, failed, suppressed.
using Counted = std::map<std::pair<std::string, std::string>, std::array<std::int64_t, 3>>;

// The columns of a list of outcomes, as kUpdateQueued and kInsertFresh take them.
struct OutcomeArrays {
  ArrayParam id, agent, status, attempts, next_at, last_error, provider_id, route_provider,
      route_via, route_from, route_reply_to, payer, rendered, subject, keep_body, body_text,
      body_html, sent_at, sent_http_status, lookup;
  // The fresh message's own columns.
  ArrayParam channel, template_key, vars, to_address, to_name, listing_id, campaign_id, batch_id,
      created_at;
  std::size_t size = 0;

  void add(const Outcome& o) {
    const Attempt* first = common::first_try_acceptance(o);
    id.text(o.message_id);
    agent.text(o.agent_id);
    status.text(to_string(o.status));
    attempts.integer(o.attempts);
    next_at.integer(ms(o.next_attempt_at));
    last_error.text(o.last_error);
    provider_id.text(o.provider_message_id);
    route_provider.text(o.route ? std::string_view(o.route->provider) : "");
    route_via.text(o.route ? to_string(o.route->via) : "");
    route_from.text(o.route ? std::string_view(o.route->from) : "");
    route_reply_to.text(o.route ? std::string_view(o.route->reply_to) : "");
    payer.text(o.route ? to_string(o.route->payer) : "");
    rendered.boolean(o.rendered);
    subject.text(o.subject);
    keep_body.boolean(o.rendered && o.keep_body);
    body_text.text(o.text);
    body_html.text(o.html);
    sent_at.integer(first ? ms(first->at) : 0);
    sent_http_status.integer(first ? first->http_status : 0);
    lookup.boolean(o.provider_id_lookup);
    ++size;
  }

  void add_fresh(const Outcome& o) {
    add(o);
    const Message& m = *o.fresh;
    channel.text(to_string(m.channel));
    template_key.text(m.template_key);
    vars.text(m.vars_json);
    to_address.text(m.to_address);
    to_name.text(m.to_name);
    listing_id.text(m.listing_id);
    campaign_id.text(m.campaign_id);
    batch_id.text(m.batch_id);
    created_at.integer(ms(m.created_at));
  }

  pqxx::result update(Tx& tx, std::int64_t now) const {
    return tx.run(kUpdateQueued, id.str(), agent.str(), status.str(), attempts.str(), next_at.str(),
                  last_error.str(), provider_id.str(), route_provider.str(), route_via.str(),
                  route_from.str(), route_reply_to.str(), payer.str(), rendered.str(),
                  subject.str(), keep_body.str(), body_text.str(), body_html.str(), sent_at.str(),
                  sent_http_status.str(), lookup.str(), now);
  }

  pqxx::result insert(Tx& tx, std::int64_t now) const {
    return tx.run(kInsertFresh, id.str(), agent.str(), status.str(), attempts.str(), next_at.str(),
                  last_error.str(), provider_id.str(), route_provider.str(), route_via.str(),
                  route_from.str(), route_reply_to.str(), payer.str(), rendered.str(),
                  subject.str(), keep_body.str(), body_text.str(), body_html.str(), sent_at.str(),
                  sent_http_status.str(), lookup.str(), now, channel.str(), template_key.str(),
                  vars.str(), to_address.str(), to_name.str(), listing_id.str(), campaign_id.str(),
                  batch_id.str(), created_at.str());
  }
};

// Splits outcomes into rounds in which each message appears once (a statement can change a row
// only once); nearly always a single round.
std::vector<std::vector<const Outcome*>> rounds_of(std::span<const Outcome> outcomes) {
  std::vector<std::vector<const Outcome*>> rounds;
  std::map<std::string_view, std::size_t> seen;  // message id → rounds it is in
  for (const Outcome& o : outcomes) {
    const std::size_t r = seen[o.message_id]++;
    if (r == rounds.size()) rounds.emplace_back();
    rounds[r].push_back(&o);
  }
  return rounds;
}

// Writes one round's outcomes; returns, for each outcome applied, its message's campaign id.
std::map<const Outcome*, std::string> write_round(Tx& tx, const std::vector<const Outcome*>& round,
                                                  std::int64_t now) {
  OutcomeArrays queued, fresh;
  std::map<std::string_view, const Outcome*> by_id;
  for (const Outcome* o : round) {
    o->fresh ? fresh.add_fresh(*o) : queued.add(*o);
    by_id[o->message_id] = o;
  }
  std::map<const Outcome*, std::string> applied;
  auto note = [&](const pqxx::result& rows) {
    for (const pqxx::row& r : rows) applied[by_id.at(text(r[0]))] = text(r[1]);
  };
  if (queued.size > 0) note(queued.update(tx, now));
  if (fresh.size > 0) {
    note(fresh.insert(tx, now));
    // Fresh messages already there (their chunk was queued) take the outcome in place.
    OutcomeArrays requeued;
    for (const Outcome* o : round)
      if (o->fresh && !applied.contains(o)) requeued.add(*o);
    if (requeued.size > 0) note(requeued.update(tx, now));
  }
  return applied;
}

}  // namespace

Result<void> PgStore::record_outcomes(std::span<const Outcome> outcomes) {
  if (outcomes.empty()) return {};
  return with_tx(pool_, "record outcomes", [&](Tx& tx) -> Result<void> {
    const std::int64_t now = ms(Clock::now());
    Counted counted;
    std::vector<Suppression> suppressions;
    std::vector<EventRow> events;
    ArrayParam wait_id, wait_agent, wait_campaign;  // campaign messages still to be sent
    bool waiting = false;
    for (const auto& round : rounds_of(outcomes)) {
      for (const auto& [o, campaign_id] : write_round(tx, round, now)) {
        if (!campaign_id.empty()) {
          if (common::still_to_send(o->status)) {
            wait_id.text(o->message_id);
            wait_agent.text(o->agent_id);
            wait_campaign.text(campaign_id);
            waiting = true;
          }
          if (auto c = common::campaign_counter(o->status))
            ++counted[{o->agent_id, campaign_id}][static_cast<std::size_t>(*c)];
        }
        if (o->suppression) suppressions.push_back(*o->suppression);
        if (common::first_try_acceptance(*o)) continue;  // its attempt and event are in the row
        for (const Attempt& a : o->attempts_made)
          events.push_back(
              EventRow{o->message_id, o->agent_id, a.at, MessageStatus::sending, "", &a});
        for (const StatusEvent& e : o->events)
          events.push_back(EventRow{o->message_id, o->agent_id, e.at, e.status, e.detail, nullptr});
      }
    }
    insert_suppressions(tx, suppressions);
    insert_events(tx, events);
    if (waiting) {
      for (const pqxx::row& r :
           tx.run(kFailCancelled, wait_id.str(), wait_agent.str(), wait_campaign.str(), now))
        ++counted[{text(r[0]), text(r[1])}]
                 [static_cast<std::size_t>(common::CampaignCounter::failed)];
    }
    if (counted.empty()) return {};
    ArrayParam agent, campaign, sent, failed, suppressed;
    for (const auto& [key, n] : counted) {
      agent.text(key.first);
      campaign.text(key.second);
      sent.integer(n[0]);
      failed.integer(n[1]);
      suppressed.integer(n[2]);
    }
    tx.run(kAddCampaignCounts, agent.str(), campaign.str(), sent.str(), failed.str(),
           suppressed.str());
    return {};
  });
}

}  // namespace herald::store::postgres
