// The PostgreSQL store's agents, logins, integrations and listings, and opening the store.
#include "store/postgres/pg_store.h"

#include "store/common/conflicts.h"
#include "store/common/json_fields.h"
#include "store/common/outcomes.h"
#include "store/postgres/migrations.h"
#include "store/postgres/sql.h"

namespace herald::store::postgres {

namespace {

constexpr Sql kCreateAgent{
    "create_agent",
    "INSERT INTO agents (id, name, email, fallback_to_platform, created_at, updated_at,"
    " password_hash) VALUES ($1, $2, $3, $4, $5, $5, $6)"};
// The agent, its branding and its integrations (one row per integration, at least one row).
constexpr Sql kFindAgent{
    "find_agent",
    "SELECT a.id, a.name, a.email, a.fallback_to_platform, a.created_at, b.company_name,"
    " b.reply_email, b.sms_phone, b.email_signature, b.website, b.postal_address, i.channel,"
    " i.provider, i.address, i.params::text, i.secrets::text, i.active, i.status,"
    " i.status_reason, i.connected_at, i.updated_at, i.rate_limit FROM agents a"
    " LEFT JOIN branding b ON b.agent_id = a.id LEFT JOIN integrations i ON i.agent_id = a.id"
    " WHERE a.id = $1"};
constexpr Sql kListAgents{
    "list_agents",
    "SELECT id, name, email, fallback_to_platform, created_at FROM agents WHERE id > $1"
    " ORDER BY id LIMIT $2"};
constexpr Sql kSetFallback{"set_fallback",
                           "UPDATE agents SET fallback_to_platform = $1 WHERE id = $2"};
constexpr Sql kPutBranding{
    "put_branding",
    "INSERT INTO branding (agent_id, company_name, reply_email, sms_phone, email_signature,"
    " website, postal_address, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
    " ON CONFLICT (agent_id) DO UPDATE SET company_name = excluded.company_name,"
    " reply_email = excluded.reply_email, sms_phone = excluded.sms_phone,"
    " email_signature = excluded.email_signature, website = excluded.website,"
    " postal_address = excluded.postal_address, updated_at = excluded.updated_at"};
constexpr Sql kSetPassword{"set_password",
                           "UPDATE agents SET password_hash = $1, updated_at = $2 WHERE id = $3"};
// Case-insensitive for ASCII letters only, as SQLite's NOCASE.
constexpr Sql kFindLogin{
    "find_login",
    "SELECT id, name, email, fallback_to_platform, created_at, password_hash FROM agents"
    " WHERE lower(email) = lower($1 COLLATE \"C\")"};
constexpr Sql kCreateSession{
    "create_session",
    "INSERT INTO sessions (token_hash, agent_id, role, csrf_token, created_at, expires_at)"
    " VALUES ($1, $2, $3, $4, $5, $6)"};
constexpr Sql kFindSession{
    "find_session",
    "SELECT token_hash, agent_id, role, csrf_token, created_at, expires_at FROM sessions"
    " WHERE token_hash = $1 AND revoked_at = 0 AND expires_at > $2"};
constexpr Sql kRevokeSession{
    "revoke_session",
    "UPDATE sessions SET revoked_at = $1 WHERE token_hash = $2 AND revoked_at = 0"};
constexpr Sql kCreateToken{
    "create_token",
    "INSERT INTO api_tokens (id, agent_id, name, token_hash, hint, created_at)"
    " VALUES ($1, $2, $3, $4, $5, $6)"};
constexpr Sql kListTokens{
    "list_tokens",
    "SELECT id, agent_id, name, token_hash, hint, created_at, last_used_at FROM api_tokens"
    " WHERE agent_id = $1 AND revoked_at = 0 ORDER BY id"};
constexpr Sql kRevokeToken{
    "revoke_token",
    "UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND agent_id = $3 AND revoked_at = 0"};
constexpr Sql kFindToken{
    "find_token",
    "SELECT id, agent_id, name, token_hash, hint, created_at, last_used_at FROM api_tokens"
    " WHERE token_hash = $1 AND revoked_at = 0"};
constexpr Sql kTouchToken{"touch_token", "UPDATE api_tokens SET last_used_at = $1 WHERE id = $2"};
constexpr Sql kUsage{
    "usage",
    "SELECT m.agent_id, a.name, m.channel, m.payer, COUNT(*),"
    " COUNT(*) FILTER (WHERE m.status = 'delivered'), COUNT(*) FILTER (WHERE m.status ="
    " 'bounced'), COUNT(*) FILTER (WHERE m.status = 'complained') FROM messages m"
    " JOIN agents a ON a.id = m.agent_id WHERE m.created_at >= $1 AND m.created_at < $2"
    " AND m.status IN ('sent', 'deferred', 'delivered', 'bounced', 'complained')"
    " GROUP BY m.agent_id, a.name, m.channel, m.payer ORDER BY a.name, m.agent_id"};
constexpr Sql kPutIntegration{
    "put_integration",
    "INSERT INTO integrations (agent_id, channel, provider, address, params, secrets, active,"
    " status, status_reason, connected_at, updated_at, rate_limit) VALUES ($1, $2, $3, $4,"
    " $5::jsonb, $6::jsonb, $7, $8, $9, $10, $11, $12) ON CONFLICT (agent_id, channel) DO UPDATE"
    " SET provider = excluded.provider, address = excluded.address, params = excluded.params,"
    " secrets = excluded.secrets, active = excluded.active, status = excluded.status,"
    " status_reason = excluded.status_reason, connected_at = excluded.connected_at,"
    " updated_at = excluded.updated_at, rate_limit = excluded.rate_limit"};
constexpr Sql kDeleteIntegration{"delete_integration",
                                 "DELETE FROM integrations WHERE agent_id = $1 AND channel = $2"};
constexpr Sql kSetActive{
    "set_integration_active",
    "UPDATE integrations SET active = $1, updated_at = $2 WHERE agent_id = $3 AND channel = $4"};
constexpr Sql kSetStatus{"set_integration_status",
                         "UPDATE integrations SET status = $1, status_reason = $2, updated_at = $3"
                         " WHERE agent_id = $4 AND channel = $5"};
constexpr Sql kAllSecrets{"all_secrets",
                          "SELECT agent_id, channel, secrets::text FROM integrations"};
constexpr Sql kReplaceSecret{
    "replace_secret",
    "UPDATE integrations SET secrets = jsonb_set(secrets, ARRAY[$1::text, 'sealed'],"
    " to_jsonb($2::text)) WHERE agent_id = $3 AND channel = $4"};
constexpr Sql kCreateListing{
    "create_listing",
    "INSERT INTO listings (id, agent_id, address, price, seller_name, seller_email,"
    " seller_phone, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"};
constexpr Sql kFindListing{
    "find_listing",
    "SELECT id, agent_id, address, price, seller_name, seller_email, seller_phone, created_at"
    " FROM listings WHERE agent_id = $1 AND id = $2"};

AgentRow read_agent(const pqxx::row& r) {
  return AgentRow{text(r[0]), text(r[1]), text(r[2]), boolean(r[3]), millis(r[4])};
}

// An integration from find_agent's columns, starting at `c`.
IntegrationRow read_integration(const pqxx::row& r, int c) {
  IntegrationRow i;
  i.channel = parse_channel(text(r[c])).value_or(Channel::email);
  i.provider = text(r[c + 1]);
  i.sender = text(r[c + 2]);
  i.params = common::parse_params(text(r[c + 3]));
  i.secrets = common::parse_secrets(text(r[c + 4]));
  i.active = boolean(r[c + 5]);
  i.status = text(r[c + 6]) == "failing" ? IntegrationStatus::failing : IntegrationStatus::ok;
  i.status_reason = text(r[c + 7]);
  i.connected_at = millis(r[c + 8]);
  i.updated_at = millis(r[c + 9]);
  i.rate_limit = real(r[c + 10]);
  return i;
}

ApiToken read_token(const pqxx::row& r) {
  ApiToken t{text(r[0]), text(r[1]),   text(r[2]),  text(r[3]),
             text(r[4]), millis(r[5]), std::nullopt};
  if (int64(r[6]) > 0) t.last_used_at = millis(r[6]);
  return t;
}

}  // namespace

PgStore::PgStore(std::shared_ptr<Database> db)
    : db_(db),
      pool_(*db->pool),
      contacts_(make_contact_store(db)),
      templates_(make_template_store(db)),
      campaigns_(make_campaign_store(db)),
      tracking_(make_tracking_store(db)) {}

// ---- agents ----

Result<void> PgStore::create_agent(const AgentRow& a, const std::string& password_hash) {
  auto r = with_autocommit(pool_, "create agent", [&](Tx& tx) -> Result<void> {
    tx.run(kCreateAgent, a.id, a.name, a.email, a.fallback_to_platform, ms(a.created_at),
           password_hash);
    return {};
  });
  if (!r && r.error().code == Errc::conflict) return fail(common::agent_email_taken());
  return r;
}

Result<std::optional<AgentRecord>> PgStore::find_agent(const std::string& id) {
  return with_autocommit(pool_, "find agent", [&](Tx& tx) -> Result<std::optional<AgentRecord>> {
    const pqxx::result rows = tx.run(kFindAgent, id);
    if (rows.empty()) return std::optional<AgentRecord>();
    const pqxx::row& r = rows[0];
    AgentRecord rec;
    rec.agent = read_agent(r);
    rec.branding =
        Branding{text(r[5]), text(r[6]), text(r[7]), text(r[8]), text(r[9]), text(r[10])};
    for (const pqxx::row& row : rows) {
      if (row[11].is_null()) continue;  // no integration
      IntegrationRow i = read_integration(row, 11);
      (i.channel == Channel::email ? rec.email : rec.sms) = std::move(i);
    }
    return std::optional<AgentRecord>(std::move(rec));
  });
}

Result<Page<AgentRow>> PgStore::list_agents(const std::string& cursor, int limit) {
  return with_autocommit(pool_, "list agents", [&](Tx& tx) -> Result<Page<AgentRow>> {
    Page<AgentRow> page;
    for (const pqxx::row& r : tx.run(kListAgents, cursor, limit + 1))
      page.items.push_back(read_agent(r));
    if (static_cast<int>(page.items.size()) > limit) {
      page.items.pop_back();
      page.next_cursor = page.items.back().id;
    }
    return page;
  });
}

Result<void> PgStore::set_fallback_to_platform(const std::string& agent_id, bool on) {
  return with_autocommit(pool_, "set fallback", [&](Tx& tx) -> Result<void> {
    tx.run(kSetFallback, on, agent_id);
    return {};
  });
}

Result<void> PgStore::put_branding(const std::string& agent_id, const Branding& b) {
  return with_autocommit(pool_, "put branding", [&](Tx& tx) -> Result<void> {
    tx.run(kPutBranding, agent_id, b.company_name, b.reply_email, b.sms_phone, b.email_signature,
           b.website, b.postal_address, ms(Clock::now()));
    return {};
  });
}

// ---- logins, sessions, API tokens ----

Result<void> PgStore::set_password_hash(const std::string& agent_id, const std::string& hash) {
  return with_autocommit(pool_, "set password", [&](Tx& tx) -> Result<void> {
    tx.run(kSetPassword, hash, ms(Clock::now()), agent_id);
    return {};
  });
}

Result<std::optional<LoginRecord>> PgStore::find_login(const std::string& email) {
  return with_autocommit(pool_, "find login", [&](Tx& tx) -> Result<std::optional<LoginRecord>> {
    const pqxx::result rows = tx.run(kFindLogin, email);
    if (rows.empty()) return std::optional<LoginRecord>();
    return std::optional<LoginRecord>(LoginRecord{read_agent(rows[0]), text(rows[0][5])});
  });
}

Result<void> PgStore::create_session(const Session& s) {
  return with_autocommit(pool_, "create session", [&](Tx& tx) -> Result<void> {
    tx.run(kCreateSession, s.token_hash, s.agent_id, s.role, s.csrf_token, ms(s.created_at),
           ms(s.expires_at));
    return {};
  });
}

Result<std::optional<Session>> PgStore::find_session(const std::string& token_hash, TimePoint now) {
  return with_autocommit(pool_, "find session", [&](Tx& tx) -> Result<std::optional<Session>> {
    const pqxx::result rows = tx.run(kFindSession, token_hash, ms(now));
    if (rows.empty()) return std::optional<Session>();
    const pqxx::row& r = rows[0];
    return std::optional<Session>(
        Session{text(r[0]), text(r[1]), text(r[2]), text(r[3]), millis(r[4]), millis(r[5])});
  });
}

Result<void> PgStore::revoke_session(const std::string& token_hash, TimePoint now) {
  return with_autocommit(pool_, "revoke session", [&](Tx& tx) -> Result<void> {
    tx.run(kRevokeSession, ms(now), token_hash);
    return {};
  });
}

Result<void> PgStore::create_api_token(const ApiToken& t) {
  return with_autocommit(pool_, "create API token", [&](Tx& tx) -> Result<void> {
    tx.run(kCreateToken, t.id, t.agent_id, t.name, t.token_hash, t.hint, ms(t.created_at));
    return {};
  });
}

Result<std::vector<ApiToken>> PgStore::list_api_tokens(const std::string& agent_id) {
  return with_autocommit(pool_, "list API tokens", [&](Tx& tx) -> Result<std::vector<ApiToken>> {
    std::vector<ApiToken> out;
    for (const pqxx::row& r : tx.run(kListTokens, agent_id)) out.push_back(read_token(r));
    return out;
  });
}

Result<bool> PgStore::revoke_api_token(const std::string& agent_id, const std::string& id,
                                       TimePoint now) {
  return with_autocommit(pool_, "revoke API token", [&](Tx& tx) -> Result<bool> {
    return tx.run(kRevokeToken, ms(now), id, agent_id).affected_rows() > 0;
  });
}

Result<std::optional<ApiToken>> PgStore::find_api_token(const std::string& token_hash) {
  return with_autocommit(pool_, "find API token", [&](Tx& tx) -> Result<std::optional<ApiToken>> {
    const pqxx::result rows = tx.run(kFindToken, token_hash);
    if (rows.empty()) return std::optional<ApiToken>();
    return std::optional<ApiToken>(read_token(rows[0]));
  });
}

Result<void> PgStore::touch_api_token(const std::string& id, TimePoint now) {
  return with_autocommit(pool_, "touch API token", [&](Tx& tx) -> Result<void> {
    tx.run(kTouchToken, ms(now), id);
    return {};
  });
}

Result<std::vector<UsageRow>> PgStore::usage(TimePoint from, TimePoint to) {
  return with_autocommit(pool_, "usage", [&](Tx& tx) -> Result<std::vector<UsageRow>> {
    std::vector<UsageRow> out;
    for (const pqxx::row& r : tx.run(kUsage, ms(from), ms(to))) {
      out.push_back(UsageRow{
          text(r[0]), text(r[1]), parse_channel(text(r[2])).value_or(Channel::email),
          common::parse_via(text(r[3])), int64(r[4]), int64(r[5]), int64(r[6]), int64(r[7])});
    }
    return out;
  });
}

// ---- integrations ----

Result<void> PgStore::put_integration(const std::string& agent_id, const IntegrationRow& i) {
  return with_autocommit(pool_, "put integration", [&](Tx& tx) -> Result<void> {
    tx.run(kPutIntegration, agent_id, std::string(to_string(i.channel)), i.provider, i.sender,
           common::params_json(i.params), common::secrets_json(i.secrets), i.active,
           std::string(to_string(i.status)), i.status_reason, ms(i.connected_at), ms(i.updated_at),
           i.rate_limit);
    return {};
  });
}

Result<bool> PgStore::delete_integration(const std::string& agent_id, Channel channel) {
  return with_autocommit(pool_, "delete integration", [&](Tx& tx) -> Result<bool> {
    return tx.run(kDeleteIntegration, agent_id, std::string(to_string(channel))).affected_rows() >
           0;
  });
}

Result<bool> PgStore::set_integration_active(const std::string& agent_id, Channel channel,
                                             bool active, TimePoint now) {
  return with_autocommit(pool_, "set integration active", [&](Tx& tx) -> Result<bool> {
    return tx.run(kSetActive, active, ms(now), agent_id, std::string(to_string(channel)))
               .affected_rows() > 0;
  });
}

Result<void> PgStore::set_integration_status(const std::string& agent_id, Channel channel,
                                             IntegrationStatus status, const std::string& reason,
                                             TimePoint now) {
  return with_autocommit(pool_, "set integration status", [&](Tx& tx) -> Result<void> {
    tx.run(kSetStatus, std::string(to_string(status)), reason, ms(now), agent_id,
           std::string(to_string(channel)));
    return {};
  });
}

Result<std::vector<Store::SealedSecret>> PgStore::all_sealed_secrets() {
  return with_autocommit(pool_, "sealed secrets", [&](Tx& tx) -> Result<std::vector<SealedSecret>> {
    std::vector<SealedSecret> out;
    for (const pqxx::row& r : tx.run(kAllSecrets)) {
      const Channel channel = parse_channel(text(r[1])).value_or(Channel::email);
      for (const auto& [field, f] : common::parse_secrets(text(r[2])))
        out.push_back({text(r[0]), channel, field, f.sealed});
    }
    return out;
  });
}

Result<void> PgStore::replace_sealed_secrets(std::span<const SealedSecret> secrets) {
  // Key rotation, rare: one statement per field, all in one transaction.
  return with_tx(pool_, "replace sealed secrets", [&](Tx& tx) -> Result<void> {
    for (const SealedSecret& s : secrets)
      tx.run(kReplaceSecret, s.field, s.sealed, s.agent_id, std::string(to_string(s.channel)));
    return {};
  });
}

// ---- listings ----

Result<void> PgStore::create_listing(const Listing& l, std::span<const Message> messages) {
  return with_tx(pool_, "create listing", [&](Tx& tx) -> Result<void> {
    tx.run(kCreateListing, l.id, l.agent_id, l.address, l.price, l.seller_name, l.seller_email,
           l.seller_phone, ms(l.created_at));
    insert_messages(tx, messages);
    return {};
  });
}

Result<std::optional<Listing>> PgStore::find_listing(const std::string& agent_id,
                                                     const std::string& id) {
  return with_autocommit(pool_, "find listing", [&](Tx& tx) -> Result<std::optional<Listing>> {
    const pqxx::result rows = tx.run(kFindListing, agent_id, id);
    if (rows.empty()) return std::optional<Listing>();
    const pqxx::row& r = rows[0];
    return std::optional<Listing>(Listing{text(r[0]), text(r[1]), text(r[2]), real(r[3]),
                                          text(r[4]), text(r[5]), text(r[6]), millis(r[7])});
  });
}

// ---- opening ----

namespace {

Result<std::shared_ptr<Database>> connect(const std::string& url, int pool_size_cap) {
  auto parsed = parse_url(url);
  if (!parsed) return fail(parsed.error());
  if (pool_size_cap > 0) parsed->pool_size = std::min(parsed->pool_size, pool_size_cap);
  auto pool = Pool::open(std::move(*parsed));
  if (!pool) return fail(pool.error());
  return std::make_shared<Database>(std::move(*pool));
}

}  // namespace

Result<std::unique_ptr<Store>> open(const std::string& url, Schema schema) {
  auto db = connect(url, 0);
  if (!db) return fail(db.error());
  Pool& pool = *(*db)->pool;
  auto v = schema == Schema::migrate ? run_migrations(pool) : require_current_schema(pool);
  if (!v) return fail(v.error());
  return std::unique_ptr<Store>(std::make_unique<PgStore>(*db));
}

Result<int> migrate(const std::string& url) {
  auto db = connect(url, 1);
  if (!db) return fail(db.error());
  return run_migrations(*(*db)->pool);
}

}  // namespace herald::store::postgres
