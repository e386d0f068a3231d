#include "store/sqlite/migrations.h"

#include "store/sqlite/database.h"

#include <array>

namespace herald::store::sqlite {

namespace {

// Times are Unix milliseconds. Ids are UUIDv7 text, so id order is creation order.
constexpr std::string_view kV1 = R"sql(
CREATE TABLE agents (
  id                    TEXT PRIMARY KEY,
  name                  TEXT NOT NULL,
  email                 TEXT NOT NULL UNIQUE,
  fallback_to_platform  INTEGER NOT NULL DEFAULT 1,
  created_at            INTEGER NOT NULL,
  updated_at            INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE branding (
  agent_id         TEXT PRIMARY KEY REFERENCES agents(id) ON DELETE CASCADE,
  company_name     TEXT NOT NULL DEFAULT '',
  reply_email      TEXT NOT NULL DEFAULT '',
  sms_phone        TEXT NOT NULL DEFAULT '',
  email_signature  TEXT NOT NULL DEFAULT '',
  website          TEXT NOT NULL DEFAULT '',
  postal_address   TEXT NOT NULL DEFAULT '',
  updated_at       INTEGER NOT NULL
) WITHOUT ROWID;

-- One integration per agent and channel; the secret is sealed (AEAD), only a hint is plain.
CREATE TABLE integrations (
  agent_id       TEXT NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
  channel        TEXT NOT NULL CHECK (channel IN ('email','sms')),
  provider       TEXT NOT NULL,
  secret_sealed  TEXT NOT NULL,
  secret_hint    TEXT NOT NULL,
  account_sid    TEXT NOT NULL DEFAULT '',
  address        TEXT NOT NULL DEFAULT '',
  domain         TEXT NOT NULL DEFAULT '',
  region         TEXT NOT NULL DEFAULT 'us',
  active         INTEGER NOT NULL DEFAULT 1,
  status         TEXT NOT NULL DEFAULT 'ok',
  status_reason  TEXT NOT NULL DEFAULT '',
  connected_at   INTEGER NOT NULL,
  updated_at     INTEGER NOT NULL,
  PRIMARY KEY (agent_id, channel)
) WITHOUT ROWID;

CREATE TABLE listings (
  id            TEXT PRIMARY KEY,
  agent_id      TEXT NOT NULL REFERENCES agents(id),
  address       TEXT NOT NULL,
  price         REAL NOT NULL,
  seller_name   TEXT NOT NULL,
  seller_email  TEXT NOT NULL DEFAULT '',
  seller_phone  TEXT NOT NULL DEFAULT '',
  created_at    INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX listings_agent ON listings(agent_id, id);

-- The durable queue and the message log in one table.
CREATE TABLE messages (
  id                   TEXT PRIMARY KEY,
  agent_id             TEXT NOT NULL,
  channel              TEXT NOT NULL,
  kind                 TEXT NOT NULL,
  template_key         TEXT NOT NULL DEFAULT '',
  vars                 TEXT NOT NULL DEFAULT '{}',
  to_address           TEXT NOT NULL,
  to_name              TEXT NOT NULL DEFAULT '',
  listing_id           TEXT NOT NULL DEFAULT '',
  campaign_id          TEXT NOT NULL DEFAULT '',
  subject              TEXT NOT NULL DEFAULT '',
  body_text            TEXT NOT NULL DEFAULT '',
  body_html            TEXT NOT NULL DEFAULT '',
  status               TEXT NOT NULL,
  attempts             INTEGER NOT NULL DEFAULT 0,
  next_attempt_at      INTEGER NOT NULL,
  lease_until          INTEGER NOT NULL DEFAULT 0,
  claimed_by           TEXT NOT NULL DEFAULT '',
  last_error           TEXT NOT NULL DEFAULT '',
  provider_message_id  TEXT NOT NULL DEFAULT '',
  route_provider       TEXT NOT NULL DEFAULT '',
  route_via            TEXT NOT NULL DEFAULT '',
  route_from           TEXT NOT NULL DEFAULT '',
  route_reply_to       TEXT NOT NULL DEFAULT '',
  payer                TEXT NOT NULL DEFAULT '',
  created_at           INTEGER NOT NULL,
  updated_at           INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX messages_due ON messages(kind, next_attempt_at) WHERE status IN ('queued','retrying');
CREATE INDEX messages_sending ON messages(lease_until) WHERE status = 'sending';
CREATE INDEX messages_agent ON messages(agent_id, id);

-- Status history and provider attempts (attempt > 0 marks a call to a provider).
CREATE TABLE message_events (
  message_id           TEXT NOT NULL,
  agent_id             TEXT NOT NULL,
  at                   INTEGER NOT NULL,
  status               TEXT NOT NULL,
  detail               TEXT NOT NULL DEFAULT '',
  attempt              INTEGER NOT NULL DEFAULT 0,
  outcome              TEXT NOT NULL DEFAULT '',
  http_status          INTEGER NOT NULL DEFAULT 0,
  provider             TEXT NOT NULL DEFAULT '',
  via                  TEXT NOT NULL DEFAULT '',
  payer                TEXT NOT NULL DEFAULT '',
  route_from           TEXT NOT NULL DEFAULT '',
  route_reply_to       TEXT NOT NULL DEFAULT '',
  provider_message_id  TEXT NOT NULL DEFAULT ''
);
CREATE INDEX message_events_message ON message_events(message_id, at);
)sql";

// Logins: password hashes (Argon2id strings), sessions and API tokens (stored as hashes).
constexpr std::string_view kV2 = R"sql(
ALTER TABLE agents ADD COLUMN password_hash TEXT NOT NULL DEFAULT '';

CREATE TABLE sessions (
  token_hash    TEXT PRIMARY KEY,
  agent_id      TEXT NOT NULL DEFAULT '',
  role          TEXT NOT NULL CHECK (role IN ('agent','operator')),
  csrf_token    TEXT NOT NULL,
  created_at    INTEGER NOT NULL,
  expires_at    INTEGER NOT NULL,
  revoked_at    INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
CREATE INDEX sessions_agent ON sessions(agent_id);

CREATE TABLE api_tokens (
  id            TEXT PRIMARY KEY,
  agent_id      TEXT NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
  name          TEXT NOT NULL,
  token_hash    TEXT NOT NULL UNIQUE,
  hint          TEXT NOT NULL,
  created_at    INTEGER NOT NULL,
  last_used_at  INTEGER NOT NULL DEFAULT 0,
  revoked_at    INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
CREATE INDEX api_tokens_agent ON api_tokens(agent_id, id);

CREATE INDEX messages_usage ON messages(created_at, agent_id);
)sql";

// Batch membership: messages sent together keep their batch, so a retry after a crash sends
// the very same batch (same provider idempotency key) instead of regrouping.
constexpr std::string_view kV6 = R"sql(
ALTER TABLE messages ADD COLUMN batch_id TEXT NOT NULL DEFAULT '';
CREATE INDEX messages_batch ON messages(batch_id) WHERE batch_id <> '';
)sql";

constexpr std::string_view kV7 = R"sql(
ALTER TABLE integrations ADD COLUMN rate_limit REAL NOT NULL DEFAULT 0;
)sql";

// Campaign counts by agent, campaign and status (superseded by the counters of migration 12,
// which drops this index).
constexpr std::string_view kV8 = R"sql(
DROP INDEX messages_campaign;
CREATE INDEX messages_campaign ON messages(campaign_id, agent_id, status) WHERE campaign_id <> '';
)sql";

// Fair claiming: the agents with queued messages, found by seeking this index once per agent,
// and each agent's due messages in order.
constexpr std::string_view kV9 = R"sql(
CREATE INDEX messages_due_agent ON messages(agent_id, next_attempt_at)
  WHERE status IN ('queued','retrying');
)sql";

constexpr std::string_view kV10 = R"sql(
ALTER TABLE campaigns ADD COLUMN listing_id TEXT NOT NULL DEFAULT '';
)sql";

// A message the provider accepted on its first attempt keeps that attempt in its own row (when
// and with which HTTP status; the route and provider id are already there) instead of two
// history rows: most messages take that path, and it is a third of their writes.
constexpr std::string_view kV11 = R"sql(
ALTER TABLE messages ADD COLUMN sent_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN sent_http_status INTEGER NOT NULL DEFAULT 0;
)sql";

// Live campaign counts kept as counters on the campaign, moved in the same transaction as the
// messages they count (fan-out, outcomes, cancel), instead of an index on every message's
// status: that index was rewritten at each status change (three per message), and counting
// through it grew with the campaign. Existing campaigns are counted once here.
constexpr std::string_view kV12 = R"sql(
ALTER TABLE campaigns ADD COLUMN queued_total INTEGER NOT NULL DEFAULT 0;
ALTER TABLE campaigns ADD COLUMN sent_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE campaigns ADD COLUMN failed_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE campaigns ADD COLUMN suppressed_count INTEGER NOT NULL DEFAULT 0;
UPDATE campaigns SET (queued_total, sent_count, failed_count, suppressed_count) =
  (SELECT COUNT(*), TOTAL(m.status IN ('sent','delivered')), TOTAL(m.status IN ('failed','bounced')),
          TOTAL(m.status = 'suppressed')
   FROM messages m WHERE m.campaign_id = campaigns.id AND m.campaign_id <> ''
   AND m.agent_id = campaigns.agent_id);
DROP INDEX messages_campaign;
)sql";

// A batch's members are looked up only while some are still to be sent (a claim takes the rest
// of a batch): sent messages, most of them, leave the batch index.
constexpr std::string_view kV14 = R"sql(
DROP INDEX messages_batch;
CREATE INDEX messages_batch ON messages(batch_id) WHERE batch_id <> '' AND status IN ('queued','retrying');
)sql";

// Integrations in one shape for every provider: the provider's plain fields as a JSON object
// (Mailgun's domain and region, Twilio's accountSid) and its secret fields sealed, each with its
// hint (email: apiKey, SMS: authToken: the only secrets before this). Sealed values move as they
// are: their associated data names the field (email.api_key, sms.auth_token), unchanged.
constexpr std::string_view kV15 = R"sql(
ALTER TABLE integrations ADD COLUMN params TEXT NOT NULL DEFAULT '{}';
ALTER TABLE integrations ADD COLUMN secrets TEXT NOT NULL DEFAULT '{}';
UPDATE integrations SET
  params = CASE provider
    WHEN 'mailgun' THEN json_object('domain', domain, 'region', region)
    WHEN 'twilio' THEN json_object('accountSid', account_sid)
    ELSE '{}' END,
  secrets = json_object(CASE channel WHEN 'email' THEN 'apiKey' ELSE 'authToken' END,
                        json_object('sealed', secret_sealed, 'hint', secret_hint));
ALTER TABLE integrations DROP COLUMN secret_sealed;
ALTER TABLE integrations DROP COLUMN secret_hint;
ALTER TABLE integrations DROP COLUMN account_sid;
ALTER TABLE integrations DROP COLUMN domain;
ALTER TABLE integrations DROP COLUMN region;
)sql";

}  // namespace

std::span<const Migration> migrations() {
  // Later migrations live beside the sub-store that owns their tables.
  static const std::array<Migration, 20> kMigrations{{
      {1, "initial schema", kV1},
      {2, "logins: passwords, sessions, API tokens", kV2},
      {3, "contacts and suppressions", kMigrationV3},
      {4, "templates", kMigrationV4},
      {5, "campaigns", kMigrationV5},
      {6, "message batches", kV6},
      {7, "per-integration rate limits", kV7},
      {8, "campaign counts from the index", kV8},
      {9, "fair claiming per agent", kV9},
      {10, "campaigns about a listing", kV10},
      {11, "first attempts kept in the message row", kV11},
      {12, "campaign counters", kV12},
      {13, "campaign chunks taken straight from the audience", kMigrationV13},
      {14, "batch index of unsent messages only", kV14},
      {15, "integrations in one shape for every provider", kV15},
      {16, "delivery tracking: webhook inbox, events, soft bounces, campaign results",
       kMigrationV16},
      {17, "delivery tracking set-ups per account", kMigrationV17},
      {18, "provider ids indexed only where events may need them", kMigrationV18},
      {19, "webhook posts waiting for their messages", kMigrationV19},
      {20, "webhook posts moved to their own file", kMigrationV20},
  }};
  return kMigrations;
}

}  // namespace herald::store::sqlite
