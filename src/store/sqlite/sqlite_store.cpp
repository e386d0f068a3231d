// The embedded SQLite store (WAL). One connection behind a mutex: SQLite has one writer at
// a time anyway, and batching writes per transaction is what keeps it fast.
#include <algorithm>
#include <array>
#include <filesystem>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>

#include "store/common/conflicts.h"
#include "store/common/json_fields.h"
#include "store/common/outcomes.h"
#include "store/common/schema.h"
#include "store/sqlite/database.h"
#include "store/sqlite/migrations.h"
#include "store/sqlite/sqlite_store.h"
#include "store/store.h"

namespace herald::store {
namespace {

using common::first_try_acceptance;
using common::params_json;
using common::parse_params;
using common::parse_secrets;
using common::parse_via;
using common::secrets_json;
using sqlite::Connection;
using sqlite::Statement;
using sqlite::Transaction;

#define TRY HERALD_TRY
#define TRY_VOID HERALD_TRY_VOID

std::int64_t ms(TimePoint t) {
  return to_millis(t);
}

constexpr const char* kMessageColumns =
    "id, agent_id, channel, kind, template_key, vars, to_address, to_name, listing_id, "
    "campaign_id, subject, body_text, body_html, status, attempts, next_attempt_at, last_error, "
    "provider_message_id, route_provider, route_via, route_from, route_reply_to, payer, "
    "created_at, updated_at, batch_id";

constexpr int kMessageColumnCount = 26;

Message read_message(const Statement& s) {
  Message m;
  m.id = s.text(0);
  m.agent_id = s.text(1);
  m.channel = parse_channel(s.text(2)).value_or(Channel::email);
  m.kind = parse_message_kind(s.text(3)).value_or(MessageKind::transactional);
  m.template_key = s.text(4);
  m.vars_json = s.text(5);
  m.to_address = s.text(6);
  m.to_name = s.text(7);
  m.listing_id = s.text(8);
  m.campaign_id = s.text(9);
  m.subject = s.text(10);
  m.text = s.text(11);
  m.html = s.text(12);
  m.status = parse_message_status(s.text(13)).value_or(MessageStatus::queued);
  m.attempts = static_cast<int>(s.int64(14));
  m.next_attempt_at = from_millis(s.int64(15));
  m.last_error = s.text(16);
  m.provider_message_id = s.text(17);
  if (std::string provider = s.text(18); !provider.empty()) {
    m.route = RouteSummary{std::move(provider), parse_via(s.text(19)), s.text(20), s.text(21),
                           parse_via(s.text(22))};
  }
  m.created_at = from_millis(s.int64(23));
  m.updated_at = from_millis(s.int64(24));
  m.batch_id = s.text(25);
  return m;
}

constexpr std::string_view kIntegrationColumns =
    "channel, provider, address, params, secrets, active, status, status_reason, connected_at,"
    " updated_at, rate_limit";

IntegrationRow read_integration(const Statement& s, int c) {
  IntegrationRow r;
  r.channel = parse_channel(s.text(c)).value_or(Channel::email);
  r.provider = s.text(c + 1);
  r.sender = s.text(c + 2);
  r.params = parse_params(s.text(c + 3));
  r.secrets = parse_secrets(s.text(c + 4));
  r.active = s.int64(c + 5) != 0;
  r.status = s.text(c + 6) == "failing" ? IntegrationStatus::failing : IntegrationStatus::ok;
  r.status_reason = s.text(c + 7);
  r.connected_at = from_millis(s.int64(c + 8));
  r.updated_at = from_millis(s.int64(c + 9));
  r.rate_limit = s.real(c + 10);
  return r;
}

// Campaign counters to move with their messages: (agent, campaign) → sent, failed, suppressed.
using CampaignCounts = std::map<std::pair<std::string, std::string>, std::array<std::int64_t, 3>>;
// Outcomes that leave a campaign's message still to be sent, by (agent, campaign).
using CampaignOutcomes = std::map<std::pair<std::string, std::string>, std::vector<const Outcome*>>;

class SqliteStore final : public Store {
 public:
  SqliteStore(std::shared_ptr<sqlite::Database> db, std::shared_ptr<sqlite::Database> inbox)
      : db_(db),
        contacts_(sqlite::make_contact_store(db)),
        templates_(sqlite::make_template_store(db)),
        campaigns_(sqlite::make_campaign_store(db)),
        tracking_(sqlite::make_tracking_store(db, std::move(inbox))) {}

  ContactStore& contacts() override { return *contacts_; }
  TemplateStore& templates() override { return *templates_; }
  CampaignStore& campaigns() override { return *campaigns_; }
  TrackingStore& tracking() override { return *tracking_; }

  // Applies pending migrations, all in one transaction (taken before the version is read, so
  // that processes opening a file together apply each once); with Schema::require_current, only
  // to a new database (one whose schema is behind or ahead is refused, common/schema.h).
  Result<int> run_migrations(Schema schema) {
    std::lock_guard lock(db_->mu);
    Transaction tx(db_->conn);
    TRY_VOID(tx.begin());
    TRY_VOID(
        db_->conn.exec("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, "
                       "name TEXT NOT NULL, applied_at INTEGER NOT NULL)"));
    TRY(current_stmt, db_->conn.prepare("SELECT COALESCE(MAX(version), 0) FROM schema_migrations"));
    current_stmt->step();
    int current = static_cast<int>(current_stmt->int64(0));
    current_stmt->reset();
    const int latest = sqlite::migrations().back().version;
    if (schema == Schema::require_current || current > latest) {
      if (auto e = common::schema_mismatch(current, latest)) return fail(*e);
    }
    for (const auto& m : sqlite::migrations()) {
      if (m.version <= current) continue;
      TRY_VOID(db_->conn.exec(m.sql));
      TRY(ins, db_->conn.prepare("INSERT INTO schema_migrations VALUES (?, ?, ?)"));
      ins->bind(1, m.version).bind(2, m.name).bind(3, ms(Clock::now()));
      TRY_VOID(db_->conn.run(*ins));
      current = m.version;
    }
    TRY_VOID(tx.commit());
    return current;
  }

  // ---- agents ----

  using Store::create_agent;
  Result<void> create_agent(const AgentRow& a, const std::string& password_hash) override {
    std::lock_guard lock(db_->mu);
    TRY(st, db_->conn.prepare(
                "INSERT INTO agents (id, name, email, fallback_to_platform, created_at, updated_at,"
                " password_hash) VALUES (?, ?, ?, ?, ?, ?, ?)"));
    st->bind(1, a.id).bind(2, a.name).bind(3, a.email).bind(4, a.fallback_to_platform);
    st->bind(5, ms(a.created_at)).bind(6, ms(a.created_at)).bind(7, password_hash);
    auto r = db_->conn.run(*st);
    if (!r && r.error().code == Errc::conflict) return fail(common::agent_email_taken());
    return r;
  }

  Result<std::optional<AgentRecord>> find_agent(const std::string& id) override {
    std::lock_guard lock(db_->mu);
    TRY(st, db_->conn.prepare(
                "SELECT a.id, a.name, a.email, a.fallback_to_platform, a.created_at, "
                "b.company_name, b.reply_email, b.sms_phone, b.email_signature, b.website, "
                "b.postal_address FROM agents a LEFT JOIN branding b ON b.agent_id = a.id "
                "WHERE a.id = ?"));
    st->bind(1, id);
    if (st->step() != SQLITE_ROW) return std::optional<AgentRecord>();
    AgentRecord rec;
    rec.agent = AgentRow{st->text(0), st->text(1), st->text(2), st->int64(3) != 0,
                         from_millis(st->int64(4))};
    rec.branding =
        Branding{st->text(5), st->text(6), st->text(7), st->text(8), st->text(9), st->text(10)};
    st->reset();
    TRY(in, db_->conn.prepare("SELECT " + std::string(kIntegrationColumns) +
                              " FROM integrations WHERE agent_id = ?"));
    in->bind(1, id);
    while (in->step() == SQLITE_ROW) {
      IntegrationRow row = read_integration(*in, 0);
      (row.channel == Channel::email ? rec.email : rec.sms) = std::move(row);
    }
    in->reset();
    return std::optional<AgentRecord>(std::move(rec));
  }

  Result<Page<AgentRow>> list_agents(const std::string& cursor, int limit) override {
    std::lock_guard lock(db_->mu);
    TRY(st, db_->conn.prepare("SELECT id, name, email, fallback_to_platform, created_at FROM agents"
                              " WHERE id > ? ORDER BY id LIMIT ?"));
    st->bind(1, cursor).bind(2, limit + 1);
    Page<AgentRow> page;
    while (st->step() == SQLITE_ROW) {
      page.items.push_back(AgentRow{st->text(0), st->text(1), st->text(2), st->int64(3) != 0,
                                    from_millis(st->int64(4))});
    }
    st->reset();
    if (static_cast<int>(page.items.size()) > limit) {
      page.items.pop_back();
      page.next_cursor = page.items.back().id;
    }
    return page;
  }

  Result<void> set_fallback_to_platform(const std::string& agent_id, bool on) override {
    std::lock_guard lock(db_->mu);
    TRY(st, db_->conn.prepare("UPDATE agents SET fallback_to_platform = ? WHERE id = ?"));
    st->bind(1, on).bind(2, agent_id);
    return db_->conn.run(*st);
  }

  Result<void> put_branding(const std::string& agent_id, const Branding& b) override {
    std::lock_guard lock(db_->mu);
    TRY(st, db_->conn.prepare(
                "INSERT INTO branding (agent_id, company_name, reply_email, sms_phone,"
                " email_signature, website, postal_address, updated_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (agent_id) DO UPDATE SET"
                " company_name = excluded.company_name, reply_email = excluded.reply_email,"
                " sms_phone = excluded.sms_phone, email_signature = excluded.email_signature,"
                " website = excluded.website, postal_address = excluded.postal_address,"
                " updated_at = excluded.updated_at"));
    st->bind(1, agent_id).bind(2, b.company_name).bind(3, b.reply_email).bind(4, b.sms_phone);
    st->bind(5, b.email_signature).bind(6, b.website).bind(7, b.postal_address);
    st->bind(8, ms(Clock::now()));
    return db_->conn.run(*st);
  }

  // ---- logins, sessions, API tokens ----

  Result<void> set_password_hash(const std::string& agent_id, const std::string& hash) override {
    std::lock_guard lock(db_->mu);
    TRY(st, db_->conn.prepare("UPDATE agents SET password_hash = ?, updated_at = ? WHERE id = ?"));
    st->bind(1, hash).bind(2, ms(Clock::now())).bind(3, agent_id);
    return db_->conn.run(*st);
  }

  Result<std::optional<LoginRecord>> find_login(const std::string& email) override {
    std::lock_guard lock(db_->mu);
    TRY(st,
        db_->conn.prepare(
            "SELECT id, name, email, fallback_to_platform, created_at, password_hash FROM agents"
            " WHERE email = ? COLLATE NOCASE"));
    st->bind(1, email);
    std::optional<LoginRecord> out;
    if (st->step() == SQLITE_ROW) {
      out = LoginRecord{AgentRow{st->text(0), st->text(1), st->text(2), st->int64(3) != 0,
                                 from_millis(st->int64(4))},
                        st->text(5)};
    }
    st->reset();
    return out;
  }

  Result<void> create_session(const Session& s) override {
    std::lock_guard lock(db_->mu);
    TRY(st,
        db_->conn.prepare(
            "INSERT INTO sessions (token_hash, agent_id, role, csrf_token, created_at, expires_at)"
            " VALUES (?, ?, ?, ?, ?, ?)"));
    st->bind(1, s.token_hash).bind(2, s.agent_id).bind(3, s.role).bind(4, s.csrf_token);
    st->bind(5, ms(s.created_at)).bind(6, ms(s.expires_at));
    return db_->conn.run(*st);
  }

  Result<std::optional<Session>> find_session(const std::string& token_hash,
                                              TimePoint now) override {
    std::lock_guard lock(db_->mu);
    TRY(st,
        db_->conn.prepare(
            "SELECT token_hash, agent_id, role, csrf_token, created_at, expires_at FROM sessions"
            " WHERE token_hash = ? AND revoked_at = 0 AND expires_at > ?"));
    st->bind(1, token_hash).bind(2, ms(now));
    std::optional<Session> out;
    if (st->step() == SQLITE_ROW) {
      out = Session{st->text(0),
                    st->text(1),
                    st->text(2),
                    st->text(3),
                    from_millis(st->int64(4)),
                    from_millis(st->int64(5))};
    }
    st->reset();
    return out;
  }

  Result<void> revoke_session(const std::string& token_hash, TimePoint now) override {
    std::lock_guard lock(db_->mu);
    TRY(st, db_->conn.prepare(
                "UPDATE sessions SET revoked_at = ? WHERE token_hash = ? AND revoked_at = 0"));
    st->bind(1, ms(now)).bind(2, token_hash);
    return db_->conn.run(*st);
  }

  Result<void> create_api_token(const ApiToken& t) override {
    std::lock_guard lock(db_->mu);
    TRY(st, db_->conn.prepare(
                "INSERT INTO api_tokens (id, agent_id, name, token_hash, hint, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?)"));
    st->bind(1, t.id).bind(2, t.agent_id).bind(3, t.name).bind(4, t.token_hash).bind(5, t.hint);
    st->bind(6, ms(t.created_at));
    return db_->conn.run(*st);
  }

  static ApiToken read_token(const Statement& st) {
    ApiToken t{st.text(0),  st.text(1), st.text(2),
               st.text(3),  st.text(4), from_millis(st.int64(5)),
               std::nullopt};
    if (st.int64(6) > 0) t.last_used_at = from_millis(st.int64(6));
    return t;
  }

  Result<std::vector<ApiToken>> list_api_tokens(const std::string& agent_id) override {
    std::lock_guard lock(db_->mu);
    TRY(st,
        db_->conn.prepare(
            "SELECT id, agent_id, name, token_hash, hint, created_at, last_used_at FROM api_tokens"
            " WHERE agent_id = ? AND revoked_at = 0 ORDER BY id"));
    st->bind(1, agent_id);
    std::vector<ApiToken> out;
    while (st->step() == SQLITE_ROW) out.push_back(read_token(*st));
    st->reset();
    return out;
  }

  Result<bool> revoke_api_token(const std::string& agent_id, const std::string& id,
                                TimePoint now) override {
    std::lock_guard lock(db_->mu);
    TRY(st, db_->conn.prepare("UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND agent_id = ? "
                              "AND revoked_at = 0"));
    st->bind(1, ms(now)).bind(2, id).bind(3, agent_id);
    TRY_VOID(db_->conn.run(*st));
    return db_->conn.changes() > 0;
  }

  Result<std::optional<ApiToken>> find_api_token(const std::string& token_hash) override {
    std::lock_guard lock(db_->mu);
    TRY(st,
        db_->conn.prepare(
            "SELECT id, agent_id, name, token_hash, hint, created_at, last_used_at FROM api_tokens"
            " WHERE token_hash = ? AND revoked_at = 0"));
    st->bind(1, token_hash);
    std::optional<ApiToken> out;
    if (st->step() == SQLITE_ROW) out = read_token(*st);
    st->reset();
    return out;
  }

  Result<void> touch_api_token(const std::string& id, TimePoint now) override {
    std::lock_guard lock(db_->mu);
    TRY(st, db_->conn.prepare("UPDATE api_tokens SET last_used_at = ? WHERE id = ?"));
    st->bind(1, ms(now)).bind(2, id);
    return db_->conn.run(*st);
  }

  Result<std::vector<UsageRow>> usage(TimePoint from, TimePoint to) override {
    std::lock_guard lock(db_->mu);
    TRY(st, db_->conn.prepare(
                "SELECT m.agent_id, a.name, m.channel, m.payer, COUNT(*),"
                " SUM(m.status = 'delivered'), SUM(m.status = 'bounced'),"
                " SUM(m.status = 'complained') FROM messages m"
                " JOIN agents a ON a.id = m.agent_id WHERE m.created_at >= ? AND m.created_at < ?"
                " AND m.status IN ('sent','deferred','delivered','bounced','complained')"
                " GROUP BY m.agent_id, m.channel, m.payer ORDER BY a.name, m.agent_id"));
    st->bind(1, ms(from)).bind(2, ms(to));
    std::vector<UsageRow> out;
    while (st->step() == SQLITE_ROW) {
      out.push_back(
          UsageRow{st->text(0), st->text(1), parse_channel(st->text(2)).value_or(Channel::email),
                   parse_via(st->text(3)), st->int64(4), st->int64(5), st->int64(6), st->int64(7)});
    }
    st->reset();
    return out;
  }

  // ---- integrations ----

  Result<void> put_integration(const std::string& agent_id, const IntegrationRow& r) override {
    std::lock_guard lock(db_->mu);
    TRY(st, db_->conn.prepare("INSERT OR REPLACE INTO integrations (agent_id, " +
                              std::string(kIntegrationColumns) +
                              ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"));
    st->bind(1, agent_id).bind(2, to_string(r.channel)).bind(3, r.provider).bind(4, r.sender);
    st->bind(5, params_json(r.params)).bind(6, secrets_json(r.secrets)).bind(7, r.active);
    st->bind(8, to_string(r.status)).bind(9, r.status_reason);
    st->bind(10, ms(r.connected_at)).bind(11, ms(r.updated_at)).bind(12, r.rate_limit);
    return db_->conn.run(*st);
  }

  Result<bool> delete_integration(const std::string& agent_id, Channel channel) override {
    std::lock_guard lock(db_->mu);
    TRY(st, db_->conn.prepare("DELETE FROM integrations WHERE agent_id = ? AND channel = ?"));
    st->bind(1, agent_id).bind(2, to_string(channel));
    TRY_VOID(db_->conn.run(*st));
    return db_->conn.changes() > 0;
  }

  Result<bool> set_integration_active(const std::string& agent_id, Channel channel, bool active,
                                      TimePoint now) override {
    std::lock_guard lock(db_->mu);
    TRY(st, db_->conn.prepare(
                "UPDATE integrations SET active = ?, updated_at = ? WHERE agent_id = ? AND "
                "channel = ?"));
    st->bind(1, active).bind(2, ms(now)).bind(3, agent_id).bind(4, to_string(channel));
    TRY_VOID(db_->conn.run(*st));
    return db_->conn.changes() > 0;
  }

  Result<void> set_integration_status(const std::string& agent_id, Channel channel,
                                      IntegrationStatus status, const std::string& reason,
                                      TimePoint now) override {
    std::lock_guard lock(db_->mu);
    TRY(st,
        db_->conn.prepare("UPDATE integrations SET status = ?, status_reason = ?, updated_at = ?"
                          " WHERE agent_id = ? AND channel = ?"));
    st->bind(1, to_string(status)).bind(2, reason).bind(3, ms(now)).bind(4, agent_id);
    st->bind(5, to_string(channel));
    return db_->conn.run(*st);
  }

  Result<std::vector<SealedSecret>> all_sealed_secrets() override {
    std::lock_guard lock(db_->mu);
    TRY(st, db_->conn.prepare("SELECT agent_id, channel, secrets FROM integrations"));
    std::vector<SealedSecret> out;
    while (st->step() == SQLITE_ROW) {
      const Channel channel = parse_channel(st->text(1)).value_or(Channel::email);
      for (const auto& [field, f] : parse_secrets(st->text(2)))
        out.push_back({st->text(0), channel, field, f.sealed});
    }
    st->reset();
    return out;
  }

  Result<void> replace_sealed_secrets(std::span<const SealedSecret> secrets) override {
    std::lock_guard lock(db_->mu);
    Transaction tx(db_->conn);
    TRY_VOID(tx.begin());
    TRY(st, db_->conn.prepare(
                "UPDATE integrations SET secrets = json_set(secrets, '$.' || json_quote(?) ||"
                " '.sealed', ?) WHERE agent_id = ? AND channel = ?"));
    for (const auto& s : secrets) {
      st->reset();
      st->bind(1, s.field).bind(2, s.sealed).bind(3, s.agent_id).bind(4, to_string(s.channel));
      TRY_VOID(db_->conn.run(*st));
    }
    return tx.commit();
  }

  // ---- listings and messages ----

  Result<void> create_listing(const Listing& l, std::span<const Message> messages) override {
    std::lock_guard lock(db_->mu);
    Transaction tx(db_->conn);
    TRY_VOID(tx.begin());
    TRY(st, db_->conn.prepare(
                "INSERT INTO listings (id, agent_id, address, price, seller_name, seller_email,"
                " seller_phone, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"));
    st->bind(1, l.id).bind(2, l.agent_id).bind(3, l.address).bind(4, l.price);
    st->bind(5, l.seller_name).bind(6, l.seller_email).bind(7, l.seller_phone);
    st->bind(8, ms(l.created_at));
    TRY_VOID(db_->conn.run(*st));
    TRY_VOID(sqlite::insert_messages(db_->conn, messages));
    return tx.commit();
  }

  Result<std::optional<Listing>> find_listing(const std::string& agent_id,
                                              const std::string& id) override {
    std::lock_guard lock(db_->mu);
    TRY(st, db_->conn.prepare(
                "SELECT id, agent_id, address, price, seller_name, seller_email, seller_phone,"
                " created_at FROM listings WHERE agent_id = ? AND id = ?"));
    st->bind(1, agent_id).bind(2, id);
    std::optional<Listing> out;
    if (st->step() == SQLITE_ROW) {
      out = Listing{st->text(0), st->text(1), st->text(2), st->real(3),
                    st->text(4), st->text(5), st->text(6), from_millis(st->int64(7))};
    }
    st->reset();
    return out;
  }

  Result<void> enqueue(std::span<const Message> messages) override {
    std::lock_guard lock(db_->mu);
    Transaction tx(db_->conn);
    TRY_VOID(tx.begin());
    TRY_VOID(sqlite::insert_messages(db_->conn, messages));
    return tx.commit();
  }

  Result<std::optional<MessageDetail>> find_message(const std::string& id,
                                                    const std::string& agent_id) override {
    std::lock_guard lock(db_->mu);
    TRY(st, db_->conn.prepare(std::string("SELECT ") + kMessageColumns +
                              ", sent_at, sent_http_status FROM messages WHERE id = ? AND"
                              " (? = '' OR agent_id = ?)"));
    st->bind(1, id).bind(2, agent_id).bind(3, agent_id);
    if (st->step() != SQLITE_ROW) return std::optional<MessageDetail>();
    MessageDetail d;
    d.message = read_message(*st);
    const std::int64_t sent_at = st->int64(kMessageColumnCount);
    const int sent_http_status = static_cast<int>(st->int64(kMessageColumnCount + 1));
    st->reset();
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
    TRY(ev, db_->conn.prepare(
                "SELECT at, status, detail, attempt, outcome, http_status, provider, via, payer,"
                " route_from, route_reply_to, provider_message_id FROM message_events"
                " WHERE message_id = ? AND agent_id = ? ORDER BY at, rowid"));
    ev->bind(1, id).bind(2, d.message.agent_id);
    while (ev->step() == SQLITE_ROW) {
      TimePoint at = from_millis(ev->int64(0));
      auto status = parse_message_status(ev->text(1)).value_or(MessageStatus::queued);
      int attempt = static_cast<int>(ev->int64(3));
      if (attempt > 0) {
        Attempt a;
        a.number = attempt;
        a.at = at;
        a.outcome = ev->text(4);
        a.http_status = static_cast<int>(ev->int64(5));
        a.error = ev->text(2);
        a.route = RouteSummary{ev->text(6), parse_via(ev->text(7)), ev->text(9), ev->text(10),
                               parse_via(ev->text(8))};
        a.provider_message_id = ev->text(11);
        d.attempts.push_back(std::move(a));
      } else {
        d.history.push_back(StatusEvent{at, status, ev->text(2)});
      }
    }
    ev->reset();
    std::ranges::stable_sort(d.history, {}, &StatusEvent::at);
    return std::optional<MessageDetail>(std::move(d));
  }

  Result<Page<Message>> list_messages(const MessageQuery& q) override {
    std::lock_guard lock(db_->mu);
    TRY(st, db_->conn.prepare(std::string("SELECT ") + kMessageColumns +
                              " FROM messages WHERE agent_id = ? AND (? = '' OR id < ?)"
                              " AND (? = '' OR channel = ?) AND (? = '' OR status = ?)"
                              " ORDER BY id DESC LIMIT ?"));
    std::string channel = q.channel ? std::string(to_string(*q.channel)) : "";
    std::string status = q.status ? std::string(to_string(*q.status)) : "";
    st->bind(1, q.agent_id).bind(2, q.cursor).bind(3, q.cursor);
    st->bind(4, channel).bind(5, channel).bind(6, status).bind(7, status).bind(8, q.limit + 1);
    Page<Message> page;
    while (st->step() == SQLITE_ROW) page.items.push_back(read_message(*st));
    st->reset();
    if (static_cast<int>(page.items.size()) > q.limit) {
      page.items.pop_back();
      page.next_cursor = page.items.back().id;
    }
    return page;
  }

  // ---- the queue ----

  Result<std::vector<Message>> claim_due(const ClaimRequest& req) override {
    std::lock_guard lock(db_->mu);
    Transaction tx(db_->conn);
    TRY_VOID(tx.begin());
    std::string kind = req.kind ? std::string(to_string(*req.kind)) : "";
    std::vector<Message> out;
    int rc = SQLITE_DONE;
    // Due messages in queue order: of one kind (the transactional lane, seeking the
    // (kind, next_attempt_at) index) or of one agent (seeking the per-agent index).
    // Messages of paused campaigns stay queued.
    auto claim = [&](std::string_view column, const std::string& value, int limit) -> Result<void> {
      TRY(st,
          db_->conn.prepare(
              std::string("UPDATE messages SET status = 'sending', lease_until = ?, "
                          "claimed_by = ?, updated_at = ? WHERE id IN (SELECT id FROM messages "
                          "WHERE status IN ('queued','retrying') AND next_attempt_at <= ? AND ") +
              std::string(column) +
              " = ? AND (campaign_id = '' OR campaign_id NOT IN "
              "(SELECT id FROM campaigns WHERE status = 'paused')) "
              "ORDER BY next_attempt_at, id LIMIT ?) RETURNING " +
              kMessageColumns));
      st->bind(1, ms(req.lease_until)).bind(2, req.worker).bind(3, ms(req.now));
      st->bind(4, ms(req.now)).bind(5, value).bind(6, limit);
      while ((rc = st->step()) == SQLITE_ROW) {
        out.push_back(read_message(*st));
        out.back().status = MessageStatus::sending;
      }
      st->reset();
      if (rc != SQLITE_DONE) return fail(db_->conn.error("claim"));
      return {};
    };
    if (req.kind) {
      TRY_VOID(claim("kind", kind, req.limit));
    } else {
      // Any kind (campaign traffic): each agent with queued messages gets an equal share, so
      // one agent's large campaign never fills every pass while another waits. The agents are
      // found by seeking the per-agent index once per agent (never by reading the queue),
      // starting after the agent the previous claim ended with so that every agent gets its
      // turn however many there are.
      std::vector<std::string> agents;
      TRY(st, db_->conn.prepare(
                  "WITH RECURSIVE a(id) AS (SELECT (SELECT MIN(agent_id) FROM messages WHERE status"
                  " IN ('queued','retrying') AND agent_id > ?) UNION ALL SELECT (SELECT"
                  " MIN(agent_id) FROM messages WHERE status IN ('queued','retrying') AND agent_id"
                  " > a.id) FROM a WHERE a.id IS NOT NULL) SELECT id FROM a WHERE id IS NOT NULL"
                  " LIMIT ?"));
      auto find_agents = [&](const std::string& after) -> Result<void> {
        st->reset();
        st->bind(1, after).bind(2, static_cast<int>(kAgentsPerClaim - agents.size()));
        while ((rc = st->step()) == SQLITE_ROW) {
          std::string id = st->text(0);
          if (std::ranges::find(agents, id) != agents.end()) break;  // wrapped around
          agents.push_back(std::move(id));
        }
        st->reset();
        if (rc != SQLITE_DONE && rc != SQLITE_ROW) return fail(db_->conn.error("claim agents"));
        return {};
      };
      TRY_VOID(find_agents(claim_after_agent_));
      if (agents.size() < kAgentsPerClaim && !claim_after_agent_.empty()) TRY_VOID(find_agents(""));
      if (!agents.empty())
        claim_after_agent_ = agents.size() < kAgentsPerClaim ? "" : agents.back();
      int share = std::max(1, req.limit / std::max(1, static_cast<int>(agents.size())));
      for (const std::string& agent : agents) TRY_VOID(claim("agent_id", agent, share));
    }
    // Take the rest of any batch a claimed message belongs to, so batches stay whole.
    nlohmann::json batches = nlohmann::json::array();
    for (const Message& m : out)
      if (!m.batch_id.empty()) batches.push_back(m.batch_id);
    if (!batches.empty()) {
      TRY(more,
          db_->conn.prepare(
              std::string(
                  "UPDATE messages SET status = 'sending', lease_until = ?, claimed_by = ?, "
                  "updated_at = ? WHERE status IN ('queued','retrying') AND batch_id <> '' AND "
                  "batch_id IN "
                  "(SELECT value FROM json_each(?)) RETURNING ") +
              kMessageColumns));
      more->bind(1, ms(req.lease_until))
          .bind(2, req.worker)
          .bind(3, ms(req.now))
          .bind(4, batches.dump());
      while ((rc = more->step()) == SQLITE_ROW) {
        out.push_back(read_message(*more));
        out.back().status = MessageStatus::sending;
      }
      more->reset();
      if (rc != SQLITE_DONE) return fail(db_->conn.error("claim batch"));
    }
    TRY_VOID(tx.commit());
    // RETURNING gives no order guarantee; keep the queue's order for the caller.
    std::sort(out.begin(), out.end(), [](const Message& a, const Message& b) {
      return a.next_attempt_at != b.next_attempt_at ? a.next_attempt_at < b.next_attempt_at
                                                    : a.id < b.id;
    });
    return out;
  }

  Result<void> record_outcomes(std::span<const Outcome> outcomes) override {
    std::lock_guard lock(db_->mu);
    Transaction tx(db_->conn);
    TRY_VOID(tx.begin());
    // One statement per message: status, route, and (when rendered) the content it keeps.
    TRY(up, db_->conn.prepare(
                "UPDATE messages SET status = ?1, attempts = ?2, next_attempt_at = ?3,"
                " last_error = ?4, provider_message_id = ?5, route_provider = ?6, route_via = ?7,"
                " route_from = ?8, route_reply_to = ?9, payer = ?10, lease_until = 0,"
                " claimed_by = '', updated_at = ?11,"
                " subject = CASE WHEN ?14 THEN ?15 ELSE subject END,"
                " body_text = CASE WHEN ?16 THEN ?17 ELSE body_text END,"
                " body_html = CASE WHEN ?16 THEN ?18 ELSE body_html END,"
                " sent_at = CASE WHEN ?19 > 0 THEN ?19 ELSE sent_at END,"
                " sent_http_status = CASE WHEN ?19 > 0 THEN ?20 ELSE sent_http_status END,"
                " provider_id_lookup = ?30"
                " WHERE id = ?12 AND agent_id = ?13 AND status IN ('queued','sending','retrying')"
                " RETURNING campaign_id"));
    // A message taken straight from its campaign's audience is inserted whole, with its
    // outcome; if its chunk was queued meanwhile (lease expired), the queued row takes the
    // outcome as above.
    TRY(put, db_->conn.prepare(
                 "INSERT INTO messages (id, agent_id, channel, kind, template_key, vars,"
                 " to_address, to_name, listing_id, campaign_id, batch_id, created_at, status,"
                 " attempts, next_attempt_at, last_error, provider_message_id, route_provider,"
                 " route_via, route_from, route_reply_to, payer, updated_at, subject, body_text,"
                 " body_html, sent_at, sent_http_status, provider_id_lookup) VALUES (?12, ?13,"
                 " ?21, 'campaign', ?22, ?23, ?24, ?25, ?26, ?27, ?28, ?29, ?1, ?2, ?3, ?4, ?5, ?6,"
                 " ?7, ?8, ?9, ?10, ?11, CASE WHEN ?14 THEN ?15 ELSE '' END,"
                 " CASE WHEN ?16 THEN ?17 ELSE '' END, CASE WHEN ?16 THEN ?18 ELSE '' END, ?19,"
                 " ?20, ?30) ON CONFLICT (id) DO UPDATE SET"
                 " status = ?1, attempts = ?2, next_attempt_at = ?3, last_error = ?4,"
                 " provider_message_id = ?5, route_provider = ?6, route_via = ?7, route_from = ?8,"
                 " route_reply_to = ?9, payer = ?10, lease_until = 0, claimed_by = '',"
                 " updated_at = ?11, subject = CASE WHEN ?14 THEN ?15 ELSE subject END,"
                 " body_text = CASE WHEN ?16 THEN ?17 ELSE body_text END,"
                 " body_html = CASE WHEN ?16 THEN ?18 ELSE body_html END,"
                 " sent_at = CASE WHEN ?19 > 0 THEN ?19 ELSE sent_at END,"
                 " sent_http_status = CASE WHEN ?19 > 0 THEN ?20 ELSE sent_http_status END,"
                 " provider_id_lookup = ?30 WHERE agent_id = ?13 AND status IN"
                 " ('queued','sending','retrying')"));
    std::int64_t now = ms(Clock::now());
    CampaignCounts counted;
    CampaignOutcomes waiting;  // campaign messages still to be sent
    for (const Outcome& o : outcomes) {
      const Attempt* first = first_try_acceptance(o);
      Statement* st = o.fresh ? put : up;
      st->reset();
      // Text is bound in place: the outcome and its message outlive each step (the statements
      // are reset, dropping those references, before this function returns).
      st->bind_ref(1, to_string(o.status)).bind(2, o.attempts).bind(3, ms(o.next_attempt_at));
      st->bind_ref(4, o.last_error).bind_ref(5, o.provider_message_id);
      if (o.route) {
        st->bind_ref(6, o.route->provider).bind_ref(7, to_string(o.route->via));
        st->bind_ref(8, o.route->from).bind_ref(9, o.route->reply_to);
        st->bind_ref(10, to_string(o.route->payer));
      } else {
        st->bind_ref(6, "").bind_ref(7, "").bind_ref(8, "").bind_ref(9, "").bind_ref(10, "");
      }
      st->bind(11, now).bind_ref(12, o.message_id).bind_ref(13, o.agent_id);
      st->bind(14, o.rendered).bind_ref(15, o.subject);
      st->bind(16, o.rendered && o.keep_body).bind_ref(17, o.text).bind_ref(18, o.html);
      st->bind(19, first ? ms(first->at) : std::int64_t{0});
      st->bind(20, first ? first->http_status : 0);
      st->bind(30, o.provider_id_lookup);
      std::string campaign_id;
      if (o.fresh) {
        const Message& m = *o.fresh;
        st->bind_ref(21, to_string(m.channel)).bind_ref(22, m.template_key);
        st->bind_ref(23, m.vars_json).bind_ref(24, m.to_address).bind_ref(25, m.to_name);
        st->bind_ref(26, m.listing_id).bind_ref(27, m.campaign_id).bind_ref(28, m.batch_id);
        st->bind(29, ms(m.created_at));
        TRY_VOID(db_->conn.run(*st));
        if (db_->conn.changes() == 0) continue;  // already final (see below)
        campaign_id = m.campaign_id;
      } else {
        // A message already final (recorded by a worker that re-claimed it after this claim
        // expired) keeps that record.
        int rc = st->step();
        if (rc == SQLITE_DONE) continue;
        if (rc != SQLITE_ROW) return fail(db_->conn.error("record outcome"));
        campaign_id = st->text(0);
        st->reset();
      }
      if (!campaign_id.empty() &&
          (o.status == MessageStatus::queued || o.status == MessageStatus::retrying))
        waiting[{o.agent_id, campaign_id}].push_back(&o);
      if (!campaign_id.empty()) {
        auto& c = counted[{o.agent_id, campaign_id}];
        switch (o.status) {
          case MessageStatus::sent:
          case MessageStatus::delivered:
            ++c[0];
            break;
          case MessageStatus::failed:
          case MessageStatus::bounced:
            ++c[1];
            break;
          case MessageStatus::suppressed:
            ++c[2];
            break;
          default:
            break;  // still on its way
        }
      }
      if (o.suppression) TRY_VOID(sqlite::insert_suppression(db_->conn, *o.suppression));
      if (first) continue;  // its attempt and its one status change are in the row
      for (const Attempt& a : o.attempts_made) TRY_VOID(insert_attempt(o, a));
      for (const StatusEvent& e : o.events)
        TRY_VOID(sqlite::insert_event(db_->conn, o.message_id, o.agent_id, e));
    }
    up->reset();
    put->reset();
    TRY_VOID(fail_cancelled(waiting, counted, now));
    TRY_VOID(add_to_campaign_counts(counted));
    return tx.commit();
  }

  // Campaign messages that are still to be sent end failed if their campaign was cancelled
  // while they were out (cancel_unsent failed those already queued); counted as failed.
  Result<void> fail_cancelled(const CampaignOutcomes& waiting, CampaignCounts& counted,
                              std::int64_t now) {
    if (waiting.empty()) return {};
    TRY(status, db_->conn.prepare("SELECT status FROM campaigns WHERE id = ? AND agent_id = ?"));
    TRY(cancel, db_->conn.prepare(
                    "UPDATE messages SET status = 'failed', last_error = 'campaign cancelled',"
                    " updated_at = ? WHERE id = ? AND agent_id = ? AND status IN"
                    " ('queued','retrying')"));
    for (const auto& [key, list] : waiting) {
      status->reset();
      status->bind(1, key.second).bind(2, key.first);
      bool cancelled = status->step() == SQLITE_ROW && status->text(0) == "cancelled";
      status->reset();
      if (!cancelled) continue;
      for (const Outcome* o : list) {
        cancel->reset();
        cancel->bind(1, now).bind(2, o->message_id).bind(3, o->agent_id);
        TRY_VOID(db_->conn.run(*cancel));
        counted[key][1] += db_->conn.changes();
      }
    }
    return {};
  }

  // Campaign counters move with their messages.
  Result<void> add_to_campaign_counts(const CampaignCounts& counted) {
    if (counted.empty()) return {};
    TRY(count, db_->conn.prepare(
                   "UPDATE campaigns SET sent_count = sent_count + ?, failed_count = failed_count"
                   " + ?, suppressed_count = suppressed_count + ? WHERE id = ? AND agent_id = ?"));
    for (const auto& [key, n] : counted) {
      count->reset();
      count->bind(1, n[0]).bind(2, n[1]).bind(3, n[2]).bind(4, key.second).bind(5, key.first);
      TRY_VOID(db_->conn.run(*count));
    }
    return {};
  }

  Result<void> assign_batches(std::span<const std::vector<std::string>> batches) override {
    std::lock_guard lock(db_->mu);
    Transaction tx(db_->conn);
    TRY_VOID(tx.begin());
    TRY(st, db_->conn.prepare(
                "UPDATE messages SET batch_id = ? WHERE id IN (SELECT value FROM json_each(?))"));
    for (const auto& ids : batches) {
      if (ids.empty()) continue;
      st->reset();
      st->bind(1, ids.front()).bind(2, nlohmann::json(ids).dump());
      TRY_VOID(db_->conn.run(*st));
    }
    return tx.commit();
  }

  Result<int> requeue_expired(TimePoint now) override {
    int n = 0;
    {
      std::lock_guard lock(db_->mu);
      TRY(st, db_->conn.prepare(
                  "UPDATE messages SET status = 'queued', lease_until = 0, claimed_by = '' WHERE "
                  "status = 'sending' AND lease_until <= ?"));
      st->bind(1, ms(now));
      TRY_VOID(db_->conn.run(*st));
      n = static_cast<int>(db_->conn.changes());
    }
    TRY(chunks, campaigns_->requeue_expired_chunks(now));
    return n + chunks;
  }

  // SQLite is owned by this one process (the file is locked to it): whatever was claimed when
  // it last stopped was interrupted, leases running or not.
  Result<int> recover_interrupted(TimePoint now) override {
    return requeue_expired(now + std::chrono::hours(24 * 365 * 100));
  }

  // One process owns the file, and its one scheduler thread sweeps: nobody to take turns with.
  Result<SweepReport> sweep(TimePoint now, bool requeue) override {
    SweepReport report{.ran = true};
    TRY(started, campaigns_->start_scheduled(now));
    report.started = started;
    TRY_VOID(campaigns_->complete_finished(now));
    if (!requeue) return report;
    TRY(requeued, requeue_expired(now));
    report.requeued = requeued;
    return report;
  }

  Result<std::optional<TimePoint>> next_due_at() override {
    std::lock_guard lock(db_->mu);
    // One seek of the (kind, next_attempt_at) index per kind.
    TRY(st, db_->conn.prepare(
                "SELECT MIN(t) FROM (SELECT MIN(next_attempt_at) AS t FROM messages WHERE kind ="
                " 'transactional' AND status IN ('queued','retrying') UNION ALL SELECT"
                " MIN(next_attempt_at) FROM messages WHERE kind = 'campaign' AND status IN"
                " ('queued','retrying'))"));
    std::optional<TimePoint> out;
    if (st->step() == SQLITE_ROW && !st->is_null(0)) out = from_millis(st->int64(0));
    st->reset();
    return out;
  }

  Result<std::vector<std::pair<MessageStatus, std::int64_t>>> count_by_status() override {
    std::lock_guard lock(db_->mu);
    TRY(st, db_->conn.prepare("SELECT status, COUNT(*) FROM messages GROUP BY status"));
    std::vector<std::pair<MessageStatus, std::int64_t>> out;
    while (st->step() == SQLITE_ROW) {
      if (auto s = parse_message_status(st->text(0))) out.emplace_back(*s, st->int64(1));
    }
    st->reset();
    return out;
  }

 private:
  Result<void> insert_attempt(const Outcome& o, const Attempt& a) {
    TRY(st, db_->conn.prepare(
                "INSERT INTO message_events (message_id, agent_id, at, status, detail, attempt,"
                " outcome, http_status, provider, via, payer, route_from, route_reply_to,"
                " provider_message_id) VALUES (?, ?, ?, 'sending', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"));
    st->bind(1, o.message_id).bind(2, o.agent_id).bind(3, ms(a.at)).bind(4, a.error);
    st->bind(5, a.number).bind(6, a.outcome).bind(7, a.http_status);
    st->bind(8, a.route.provider).bind(9, to_string(a.route.via));
    st->bind(10, to_string(a.route.payer)).bind(11, a.route.from).bind(12, a.route.reply_to);
    st->bind(13, a.provider_message_id);
    return db_->conn.run(*st);
  }

  // Agents a campaign claim takes shares for, at most; the next claim starts after the last.
  static constexpr std::size_t kAgentsPerClaim = 64;

  std::shared_ptr<sqlite::Database> db_;
  std::string claim_after_agent_;  // guarded by db_->mu
  std::unique_ptr<ContactStore> contacts_;
  std::unique_ptr<TemplateStore> templates_;
  std::unique_ptr<CampaignStore> campaigns_;
  std::unique_ptr<TrackingStore> tracking_;
};

// "sqlite:<file>" → that file; anything else is a data directory holding herald.db.
Result<std::string> sqlite_path(const std::string& url) {
  std::string path;
  if (url.starts_with("sqlite:")) {
    path = url.substr(7);
  } else {
    std::error_code ec;
    std::filesystem::create_directories(url, ec);
    if (ec)
      return fail(Errc::config, "HERALD_DATA_DIR: cannot create " + url + ": " + ec.message());
    path = (std::filesystem::path(url) / "herald.db").string();
  }
  return path;
}

Result<std::unique_ptr<SqliteStore>> open_sqlite(const std::string& url, Schema schema) {
  TRY(path, sqlite_path(url));
  TRY(conn, Connection::open(path));
  auto db = std::make_shared<sqlite::Database>(std::move(conn));
  TRY(inbox, sqlite::open_inbox(path, *db));
  auto store = std::make_unique<SqliteStore>(db, inbox);
  TRY_VOID(store->run_migrations(schema));
  return store;
}

}  // namespace

namespace sqlite {

Result<std::unique_ptr<Store>> open(const std::string& url, Schema schema) {
  auto s = open_sqlite(url, schema);
  if (!s) return std::unexpected(s.error());
  return std::unique_ptr<Store>(std::move(*s));
}

Result<int> migrate(const std::string& url) {
  TRY(path, sqlite_path(url));
  TRY(conn, Connection::open(path));
  auto db = std::make_shared<sqlite::Database>(std::move(conn));
  TRY(inbox, sqlite::open_inbox(path, *db));
  SqliteStore store(db, inbox);
  return store.run_migrations(Schema::migrate);
}

}  // namespace sqlite

}  // namespace herald::store
