#include "store/postgres/migrations.h"

#include <array>

#include "store/common/schema.h"
#include "store/postgres/sql.h"
#include "store/postgres/tx.h"

namespace herald::store::postgres {

namespace {

// The whole schema as the SQLite store has it after its migration 19, in PostgreSQL's terms
// (no PostgreSQL deployment predates it). Times are Unix milliseconds (BIGINT), as in SQLite,
// so 0 keeps meaning "never". Text compares byte-wise (COLLATE "C"), as SQLite's does, so ids
// order and page the same whatever the database's locale.
//
// Tenant tables (those with agent_id) carry agent_id in their primary key and every unique
// constraint, and reference each other with it, so they can be distributed by agent_id
// (Citus). Tables looked up by their own id alone (messages, chunks, API tokens) put the id
// first in the key.
constexpr std::string_view kV1 = R"sql(
CREATE TABLE agents (
  id                    TEXT COLLATE "C" PRIMARY KEY,
  name                  TEXT COLLATE "C" NOT NULL,
  email                 TEXT COLLATE "C" NOT NULL UNIQUE,
  fallback_to_platform  BOOLEAN NOT NULL DEFAULT TRUE,
  created_at            BIGINT NOT NULL,
  updated_at            BIGINT NOT NULL,
  password_hash         TEXT COLLATE "C" NOT NULL DEFAULT ''
);
CREATE INDEX agents_login ON agents (lower(email));

CREATE TABLE branding (
  agent_id         TEXT COLLATE "C" PRIMARY KEY REFERENCES agents (id) ON DELETE CASCADE,
  company_name     TEXT COLLATE "C" NOT NULL DEFAULT '',
  reply_email      TEXT COLLATE "C" NOT NULL DEFAULT '',
  sms_phone        TEXT COLLATE "C" NOT NULL DEFAULT '',
  email_signature  TEXT COLLATE "C" NOT NULL DEFAULT '',
  website          TEXT COLLATE "C" NOT NULL DEFAULT '',
  postal_address   TEXT COLLATE "C" NOT NULL DEFAULT '',
  updated_at       BIGINT NOT NULL
);

-- One integration per agent and channel in one shape for every provider: plain fields as a
-- JSON object, secret fields sealed ({"apiKey": {"sealed": …, "hint": …}}).
CREATE TABLE integrations (
  agent_id       TEXT COLLATE "C" NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
  channel        TEXT COLLATE "C" NOT NULL CHECK (channel IN ('email', 'sms')),
  provider       TEXT COLLATE "C" NOT NULL,
  address        TEXT COLLATE "C" NOT NULL DEFAULT '',
  params         JSONB NOT NULL DEFAULT '{}',
  secrets        JSONB NOT NULL DEFAULT '{}',
  active         BOOLEAN NOT NULL DEFAULT TRUE,
  status         TEXT COLLATE "C" NOT NULL DEFAULT 'ok',
  status_reason  TEXT COLLATE "C" NOT NULL DEFAULT '',
  rate_limit     DOUBLE PRECISION NOT NULL DEFAULT 0,
  connected_at   BIGINT NOT NULL,
  updated_at     BIGINT NOT NULL,
  PRIMARY KEY (agent_id, channel)
);

CREATE TABLE listings (
  agent_id      TEXT COLLATE "C" NOT NULL REFERENCES agents (id),
  id            TEXT COLLATE "C" NOT NULL,
  address       TEXT COLLATE "C" NOT NULL,
  price         DOUBLE PRECISION NOT NULL,
  seller_name   TEXT COLLATE "C" NOT NULL,
  seller_email  TEXT COLLATE "C" NOT NULL DEFAULT '',
  seller_phone  TEXT COLLATE "C" NOT NULL DEFAULT '',
  created_at    BIGINT NOT NULL,
  PRIMARY KEY (agent_id, id)
);

CREATE TABLE sessions (
  token_hash    TEXT COLLATE "C" NOT NULL,
  agent_id      TEXT COLLATE "C" NOT NULL DEFAULT '',  -- '' for the operator
  role          TEXT COLLATE "C" NOT NULL CHECK (role IN ('agent', 'operator')),
  csrf_token    TEXT COLLATE "C" NOT NULL,
  created_at    BIGINT NOT NULL,
  expires_at    BIGINT NOT NULL,
  revoked_at    BIGINT NOT NULL DEFAULT 0,
  PRIMARY KEY (token_hash, agent_id)
);
CREATE INDEX sessions_agent ON sessions (agent_id);

CREATE TABLE api_tokens (
  id            TEXT COLLATE "C" NOT NULL,
  agent_id      TEXT COLLATE "C" NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
  name          TEXT COLLATE "C" NOT NULL,
  token_hash    TEXT COLLATE "C" NOT NULL,
  hint          TEXT COLLATE "C" NOT NULL,
  created_at    BIGINT NOT NULL,
  last_used_at  BIGINT NOT NULL DEFAULT 0,
  revoked_at    BIGINT NOT NULL DEFAULT 0,
  PRIMARY KEY (id, agent_id),
  UNIQUE (token_hash, agent_id)
);
CREATE INDEX api_tokens_agent ON api_tokens (agent_id, id);

-- The durable queue and the message log in one table. A message accepted on its first try
-- keeps that attempt in its own row (sent_at, sent_http_status) instead of history rows.
CREATE TABLE messages (
  id                   TEXT COLLATE "C" NOT NULL,
  agent_id             TEXT COLLATE "C" NOT NULL,
  channel              TEXT COLLATE "C" NOT NULL,
  kind                 TEXT COLLATE "C" NOT NULL,
  template_key         TEXT COLLATE "C" NOT NULL DEFAULT '',
  vars                 TEXT COLLATE "C" NOT NULL DEFAULT '{}',
  to_address           TEXT COLLATE "C" NOT NULL,
  to_name              TEXT COLLATE "C" NOT NULL DEFAULT '',
  listing_id           TEXT COLLATE "C" NOT NULL DEFAULT '',
  campaign_id          TEXT COLLATE "C" NOT NULL DEFAULT '',
  batch_id             TEXT COLLATE "C" NOT NULL DEFAULT '',
  subject              TEXT COLLATE "C" NOT NULL DEFAULT '',
  body_text            TEXT COLLATE "C" NOT NULL DEFAULT '',
  body_html            TEXT COLLATE "C" NOT NULL DEFAULT '',
  status               TEXT COLLATE "C" NOT NULL,
  attempts             INTEGER NOT NULL DEFAULT 0,
  next_attempt_at      BIGINT NOT NULL,
  lease_until          BIGINT NOT NULL DEFAULT 0,
  claimed_by           TEXT COLLATE "C" NOT NULL DEFAULT '',
  last_error           TEXT COLLATE "C" NOT NULL DEFAULT '',
  provider_message_id  TEXT COLLATE "C" NOT NULL DEFAULT '',
  provider_id_lookup   BOOLEAN NOT NULL DEFAULT TRUE,
  route_provider       TEXT COLLATE "C" NOT NULL DEFAULT '',
  route_via            TEXT COLLATE "C" NOT NULL DEFAULT '',
  route_from           TEXT COLLATE "C" NOT NULL DEFAULT '',
  route_reply_to       TEXT COLLATE "C" NOT NULL DEFAULT '',
  payer                TEXT COLLATE "C" NOT NULL DEFAULT '',
  sent_at              BIGINT NOT NULL DEFAULT 0,
  sent_http_status     INTEGER NOT NULL DEFAULT 0,
  created_at           BIGINT NOT NULL,
  updated_at           BIGINT NOT NULL,
  PRIMARY KEY (id, agent_id)
) WITH (autovacuum_vacuum_scale_factor = 0.02, autovacuum_analyze_scale_factor = 0.02);
-- Due messages per lane and per agent, in claim order (claims lock them FOR UPDATE SKIP LOCKED).
CREATE INDEX messages_due ON messages (kind, next_attempt_at, id)
  WHERE status IN ('queued', 'retrying');
CREATE INDEX messages_due_agent ON messages (agent_id, next_attempt_at, id)
  WHERE status IN ('queued', 'retrying');
CREATE INDEX messages_sending ON messages (lease_until) WHERE status = 'sending';
CREATE INDEX messages_agent ON messages (agent_id, id);
CREATE INDEX messages_usage ON messages (created_at, agent_id);
-- A batch's members, only while some are still to be sent.
CREATE INDEX messages_batch ON messages (batch_id)
  WHERE batch_id <> '' AND status IN ('queued', 'retrying');
-- Provider ids, only of messages whose delivery events may name nothing else.
CREATE INDEX messages_provider_id ON messages (route_provider, provider_message_id)
  WHERE provider_message_id <> '' AND provider_id_lookup;

-- Status history and provider attempts (attempt > 0 marks a call to a provider); seq keeps
-- the order they were written in.
CREATE TABLE message_events (
  agent_id             TEXT COLLATE "C" NOT NULL,
  message_id           TEXT COLLATE "C" NOT NULL,
  seq                  BIGINT GENERATED ALWAYS AS IDENTITY,
  at                   BIGINT NOT NULL,
  status               TEXT COLLATE "C" NOT NULL,
  detail               TEXT COLLATE "C" NOT NULL DEFAULT '',
  attempt              INTEGER NOT NULL DEFAULT 0,
  outcome              TEXT COLLATE "C" NOT NULL DEFAULT '',
  http_status          INTEGER NOT NULL DEFAULT 0,
  provider             TEXT COLLATE "C" NOT NULL DEFAULT '',
  via                  TEXT COLLATE "C" NOT NULL DEFAULT '',
  payer                TEXT COLLATE "C" NOT NULL DEFAULT '',
  route_from           TEXT COLLATE "C" NOT NULL DEFAULT '',
  route_reply_to       TEXT COLLATE "C" NOT NULL DEFAULT '',
  provider_message_id  TEXT COLLATE "C" NOT NULL DEFAULT '',
  PRIMARY KEY (agent_id, message_id, seq)
);

-- Contacts and suppressions. Tags are lowercase; an email is unique per agent in any case.
CREATE TABLE contacts (
  agent_id       TEXT COLLATE "C" NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
  id             TEXT COLLATE "C" NOT NULL,
  name           TEXT COLLATE "C" NOT NULL DEFAULT '',
  email          TEXT COLLATE "C" NOT NULL DEFAULT '',
  phone          TEXT COLLATE "C" NOT NULL DEFAULT '',
  role           TEXT COLLATE "C" NOT NULL DEFAULT 'lead' CHECK (role IN ('buyer', 'seller', 'lead')),
  tags           TEXT[] COLLATE "C" NOT NULL DEFAULT '{}',
  time_zone      TEXT COLLATE "C" NOT NULL DEFAULT '',
  consent_email  BOOLEAN NOT NULL DEFAULT FALSE,
  consent_sms    BOOLEAN NOT NULL DEFAULT FALSE,
  created_at     BIGINT NOT NULL,
  updated_at     BIGINT NOT NULL,
  PRIMARY KEY (agent_id, id)
);
CREATE UNIQUE INDEX contacts_email ON contacts (agent_id, lower(email)) WHERE email <> '';
CREATE UNIQUE INDEX contacts_phone ON contacts (agent_id, phone) WHERE phone <> '';

CREATE TABLE suppressions (
  agent_id    TEXT COLLATE "C" NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
  channel     TEXT COLLATE "C" NOT NULL CHECK (channel IN ('email', 'sms')),
  address     TEXT COLLATE "C" NOT NULL,
  reason      TEXT COLLATE "C" NOT NULL
              CHECK (reason IN ('unsubscribed', 'bounced', 'complained', 'stop', 'manual')),
  id          TEXT COLLATE "C" NOT NULL,
  source      TEXT COLLATE "C" NOT NULL DEFAULT '',
  detail      TEXT COLLATE "C" NOT NULL DEFAULT '',
  created_at  BIGINT NOT NULL,
  PRIMARY KEY (agent_id, channel, address, reason),
  UNIQUE (agent_id, id)
);

-- An agent's templates: one per (agent, key, channel); a platform default's key overrides it.
CREATE TABLE templates (
  agent_id      TEXT COLLATE "C" NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
  id            TEXT COLLATE "C" NOT NULL,
  template_key  TEXT COLLATE "C" NOT NULL,
  channel       TEXT COLLATE "C" NOT NULL CHECK (channel IN ('email', 'sms')),
  name          TEXT COLLATE "C" NOT NULL,
  subject       TEXT COLLATE "C" NOT NULL DEFAULT '',
  html          TEXT COLLATE "C" NOT NULL DEFAULT '',
  body_text     TEXT COLLATE "C" NOT NULL DEFAULT '',
  sms_body      TEXT COLLATE "C" NOT NULL DEFAULT '',
  version       BIGINT NOT NULL DEFAULT 1,
  created_at    BIGINT NOT NULL,
  updated_at    BIGINT NOT NULL,
  PRIMARY KEY (agent_id, id),
  UNIQUE (agent_id, template_key, channel)
);

-- Campaigns, with live counters moved in the same transaction as the messages they count.
CREATE TABLE campaigns (
  agent_id          TEXT COLLATE "C" NOT NULL REFERENCES agents (id),
  id                TEXT COLLATE "C" NOT NULL,
  name              TEXT COLLATE "C" NOT NULL,
  channel           TEXT COLLATE "C" NOT NULL,
  template_key      TEXT COLLATE "C" NOT NULL,
  listing_id        TEXT COLLATE "C" NOT NULL DEFAULT '',
  roles             TEXT[] COLLATE "C" NOT NULL DEFAULT '{}',
  tags              TEXT[] COLLATE "C" NOT NULL DEFAULT '{}',
  status            TEXT COLLATE "C" NOT NULL,
  send_at           BIGINT NOT NULL DEFAULT 0,
  cursor            TEXT COLLATE "C" NOT NULL DEFAULT '',
  fanout_done       BOOLEAN NOT NULL DEFAULT FALSE,
  total             BIGINT NOT NULL DEFAULT 0,
  queued_total      BIGINT NOT NULL DEFAULT 0,
  sent_count        BIGINT NOT NULL DEFAULT 0,
  failed_count      BIGINT NOT NULL DEFAULT 0,
  suppressed_count  BIGINT NOT NULL DEFAULT 0,
  created_at        BIGINT NOT NULL,
  updated_at        BIGINT NOT NULL,
  PRIMARY KEY (agent_id, id)
);
CREATE INDEX campaigns_active ON campaigns (status)
  WHERE status IN ('running', 'scheduled', 'paused');

-- Chunks of campaign audiences taken by send workers, until their outcomes are recorded. The
-- messages are one blob: the table is a journal, never searched by message.
CREATE TABLE campaign_chunks (
  id            TEXT COLLATE "C" NOT NULL,
  agent_id      TEXT COLLATE "C" NOT NULL,
  campaign_id   TEXT COLLATE "C" NOT NULL,
  channel       TEXT COLLATE "C" NOT NULL,
  template_key  TEXT COLLATE "C" NOT NULL,
  listing_id    TEXT COLLATE "C" NOT NULL DEFAULT '',
  created_at    BIGINT NOT NULL,
  worker        TEXT COLLATE "C" NOT NULL,
  lease_until   BIGINT NOT NULL,
  messages      BYTEA NOT NULL,
  PRIMARY KEY (id, agent_id)
);
CREATE INDEX campaign_chunks_lease ON campaign_chunks (lease_until);

-- Delivery tracking: the receivers' inbox (owner is an agent id or 'platform'), the events,
-- soft-bounce runs, per-campaign results and per-account set-ups.
CREATE TABLE webhook_posts (
  id            TEXT COLLATE "C" PRIMARY KEY,
  provider      TEXT COLLATE "C" NOT NULL,
  owner         TEXT COLLATE "C" NOT NULL,
  replay_key    TEXT COLLATE "C" NOT NULL DEFAULT '',
  url           TEXT COLLATE "C" NOT NULL,
  headers       JSONB NOT NULL DEFAULT '[]',
  body          BYTEA NOT NULL,
  received_at   BIGINT NOT NULL,
  applied_at    BIGINT NOT NULL DEFAULT 0,
  retry_at      BIGINT NOT NULL DEFAULT 0,
  error         TEXT COLLATE "C" NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX webhook_posts_replay ON webhook_posts (provider, replay_key)
  WHERE replay_key <> '';
CREATE INDEX webhook_posts_pending ON webhook_posts (received_at) WHERE applied_at = 0;

-- An event is kept once per provider and event key; agent_id ('' while unmatched) completes
-- the key for distribution, and the store checks the (provider, event_key) prefix itself.
CREATE TABLE delivery_events (
  provider             TEXT COLLATE "C" NOT NULL,
  event_key            TEXT COLLATE "C" NOT NULL,
  agent_id             TEXT COLLATE "C" NOT NULL DEFAULT '',
  message_id           TEXT COLLATE "C" NOT NULL DEFAULT '',
  type                 TEXT COLLATE "C" NOT NULL,
  bounce               TEXT COLLATE "C" NOT NULL DEFAULT '',
  provider_event       TEXT COLLATE "C" NOT NULL DEFAULT '',
  provider_message_id  TEXT COLLATE "C" NOT NULL DEFAULT '',
  recipient            TEXT COLLATE "C" NOT NULL DEFAULT '',
  occurred_at          BIGINT NOT NULL,
  received_at          BIGINT NOT NULL,
  reason               TEXT COLLATE "C" NOT NULL DEFAULT '',
  url                  TEXT COLLATE "C" NOT NULL DEFAULT '',
  raw                  TEXT COLLATE "C" NOT NULL DEFAULT '',
  PRIMARY KEY (provider, event_key, agent_id)
);
CREATE INDEX delivery_events_message ON delivery_events (message_id, occurred_at)
  WHERE message_id <> '';

CREATE TABLE soft_bounces (
  agent_id  TEXT COLLATE "C" NOT NULL,
  channel   TEXT COLLATE "C" NOT NULL,
  address   TEXT COLLATE "C" NOT NULL,
  count     INTEGER NOT NULL,
  PRIMARY KEY (agent_id, channel, address)
);

CREATE TABLE campaign_results (
  agent_id        TEXT COLLATE "C" NOT NULL,
  campaign_id     TEXT COLLATE "C" NOT NULL,
  delivered       BIGINT NOT NULL DEFAULT 0,
  bounced         BIGINT NOT NULL DEFAULT 0,
  complained      BIGINT NOT NULL DEFAULT 0,
  unsubscribed    BIGINT NOT NULL DEFAULT 0,
  unique_opens    BIGINT NOT NULL DEFAULT 0,
  unique_clicks   BIGINT NOT NULL DEFAULT 0,
  PRIMARY KEY (agent_id, campaign_id)
);

CREATE TABLE tracking_setups (
  owner         TEXT COLLATE "C" NOT NULL,
  channel       TEXT COLLATE "C" NOT NULL,
  provider      TEXT COLLATE "C" NOT NULL,
  account       TEXT COLLATE "C" NOT NULL DEFAULT '',
  state         TEXT COLLATE "C" NOT NULL,
  reason        TEXT COLLATE "C" NOT NULL DEFAULT '',
  receiver_url  TEXT COLLATE "C" NOT NULL DEFAULT '',
  sealed_key    TEXT COLLATE "C" NOT NULL DEFAULT '',
  key_hint      TEXT COLLATE "C" NOT NULL DEFAULT '',
  attempts      INTEGER NOT NULL DEFAULT 0,
  next_at       BIGINT NOT NULL DEFAULT 0,
  updated_at    BIGINT NOT NULL,
  PRIMARY KEY (owner, channel)
);
CREATE INDEX tracking_setups_due ON tracking_setups (next_at) WHERE state = 'pending';
)sql";

// Every process takes this advisory lock (an arbitrary constant) while it migrates.
constexpr std::int64_t kMigrationLock = 0x48657261'6c644d67;  // "HeraldMg"

constexpr Sql kCreateTable{"migrations_create",
                           "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY"
                           " KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)"};
constexpr Sql kLock{"migrations_lock", "SELECT pg_advisory_xact_lock($1)"};
constexpr Sql kCurrent{"migrations_current",
                       "SELECT COALESCE(MAX(version), 0) FROM schema_migrations"};
constexpr Sql kApplied{"migrations_applied", "INSERT INTO schema_migrations VALUES ($1, $2, $3)"};

}  // namespace

std::span<const Migration> migrations() {
  static const std::array<Migration, 1> kMigrations{{
      {1, "schema of SQLite migration 19", kV1},
  }};
  return kMigrations;
}

namespace {

// The schema version, read under the migrations' lock (held until the transaction ends).
int locked_version(Tx& tx) {
  // The table is created under the lock too: concurrent CREATE IF NOT EXISTS may collide.
  tx.run(kLock, kMigrationLock);
  tx.run(kCreateTable);
  return static_cast<int>(int64(tx.run(kCurrent)[0][0]));
}

void apply(Tx& tx, const Migration& m) {
  tx.run_script(std::string(m.sql));
  tx.run(kApplied, m.version, std::string(m.name), ms(Clock::now()));
}

}  // namespace

Result<int> run_migrations(Pool& pool) {
  // One transaction per migration, each under the lock, so that processes migrating together
  // apply each one once.
  const int latest = migrations().back().version;
  auto step = [latest](Tx& tx, const Migration* m) -> Result<int> {
    const int current = locked_version(tx);
    if (current > latest) return fail(*common::schema_mismatch(current, latest));
    if (m == nullptr || m->version <= current) return current;
    apply(tx, *m);
    return m->version;
  };
  int reached = 0;
  for (const Migration& m : migrations()) {
    auto r = with_tx(pool, "migrate", [&](Tx& tx) { return step(tx, &m); });
    if (!r) return fail(r.error());
    reached = std::max(reached, *r);
  }
  auto r = with_tx(pool, "migrate", [&](Tx& tx) { return step(tx, nullptr); });
  if (!r) return fail(r.error());
  return std::max(reached, *r);
}

Result<int> require_current_schema(Pool& pool) {
  const int latest = migrations().back().version;
  return with_tx(pool, "check the schema version", [&](Tx& tx) -> Result<int> {
    const int current = locked_version(tx);
    if (auto e = common::schema_mismatch(current, latest)) return fail(*e);
    if (current == latest) return latest;
    for (const Migration& m : migrations()) apply(tx, m);
    return latest;
  });
}

}  // namespace herald::store::postgres
