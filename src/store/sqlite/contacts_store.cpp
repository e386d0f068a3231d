// SQLite implementation of ContactStore: contacts (clustered by agent, then id) and
// suppressions (clustered by agent, channel, address, so send-time checks are one seek).
#include <algorithm>
#include <array>
#include <nlohmann/json.hpp>
#include <set>
#include <unordered_map>

#include "store/common/conflicts.h"
#include "store/common/json_fields.h"
#include "store/common/text.h"
#include "store/sqlite/database.h"
#include "store/store.h"

namespace herald::store {

using common::ascii_lower;

namespace {
constexpr std::array<std::pair<SuppressionReason, std::string_view>, 5> kReasons{{
    {SuppressionReason::unsubscribed, "unsubscribed"},
    {SuppressionReason::bounced, "bounced"},
    {SuppressionReason::complained, "complained"},
    {SuppressionReason::stop, "stop"},
    {SuppressionReason::manual, "manual"},
}};

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}
}  // namespace

std::string_view to_string(SuppressionReason r) {
  for (const auto& [v, n] : kReasons)
    if (v == r) return n;
  return "manual";
}

std::optional<SuppressionReason> parse_suppression_reason(std::string_view s) {
  for (const auto& [v, n] : kReasons)
    if (n == s) return v;
  return std::nullopt;
}

std::string suppression_key(Channel channel, std::string_view address) {
  address = trim(address);
  return channel == Channel::email ? ascii_lower(address) : std::string(address);
}

namespace sqlite {

#define TRY HERALD_TRY
#define TRY_VOID HERALD_TRY_VOID

// Schema for contacts and suppressions (migration 3). Tags are kept as a JSON array of
// lowercase strings that never contain '"' or '\', so instr(tags, '"vip"') matches exactly
// one whole tag: filtering needs no join and the import writes one row per contact.
extern const std::string_view kMigrationV3 = R"sql(
CREATE TABLE contacts (
  agent_id       TEXT NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
  id             TEXT NOT NULL,
  name           TEXT NOT NULL DEFAULT '',
  email          TEXT NOT NULL DEFAULT '',
  phone          TEXT NOT NULL DEFAULT '',
  role           TEXT NOT NULL DEFAULT 'lead' CHECK (role IN ('buyer','seller','lead')),
  tags           TEXT NOT NULL DEFAULT '[]',
  time_zone      TEXT NOT NULL DEFAULT '',
  consent_email  INTEGER NOT NULL DEFAULT 0,
  consent_sms    INTEGER NOT NULL DEFAULT 0,
  created_at     INTEGER NOT NULL,
  updated_at     INTEGER NOT NULL,
  PRIMARY KEY (agent_id, id)
) WITHOUT ROWID;
CREATE UNIQUE INDEX contacts_email ON contacts(agent_id, lower(email)) WHERE email <> '';
CREATE UNIQUE INDEX contacts_phone ON contacts(agent_id, phone) WHERE phone <> '';

CREATE TABLE suppressions (
  agent_id    TEXT NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
  channel     TEXT NOT NULL CHECK (channel IN ('email','sms')),
  address     TEXT NOT NULL,
  reason      TEXT NOT NULL
              CHECK (reason IN ('unsubscribed','bounced','complained','stop','manual')),
  id          TEXT NOT NULL,
  source      TEXT NOT NULL DEFAULT '',
  detail      TEXT NOT NULL DEFAULT '',
  created_at  INTEGER NOT NULL,
  PRIMARY KEY (agent_id, channel, address, reason)
) WITHOUT ROWID;
CREATE UNIQUE INDEX suppressions_id ON suppressions(agent_id, id);
)sql";

namespace {

std::int64_t ms(TimePoint t) {
  return to_millis(t);
}

constexpr const char* kContactColumns =
    "agent_id, id, name, email, phone, role, tags, time_zone, consent_email, consent_sms, "
    "created_at, updated_at";

using common::json_list;
using common::prefix_end;

// Runs a "… ORDER BY id DESC LIMIT ?" query for one page: binds `params` and then limit + 1,
// reads rows with `read`, and sets next_cursor when there is more. The caller holds the lock.
template <class T, class Read>
Result<Page<T>> read_page(Connection& conn, const std::string& sql,
                          const std::vector<std::string>& params, int limit, Read read) {
  TRY(st, conn.prepare(sql));
  int i = 1;
  for (const auto& p : params) st->bind(i++, p);
  st->bind(i, limit + 1);
  Page<T> page;
  while (st->step() == SQLITE_ROW) page.items.push_back(read(*st));
  st->reset();
  if (static_cast<int>(page.items.size()) > limit) {
    page.items.pop_back();
    page.next_cursor = page.items.back().id;
  }
  return page;
}

Contact read_contact(const Statement& s) {
  Contact c;
  c.agent_id = s.text(0);
  c.id = s.text(1);
  c.name = s.text(2);
  c.email = s.text(3);
  c.phone = s.text(4);
  c.role = s.text(5);
  c.tags = json_list(s.text(6));
  c.time_zone = s.text(7);
  c.consent_email = s.int64(8) != 0;
  c.consent_sms = s.int64(9) != 0;
  c.created_at = from_millis(s.int64(10));
  c.updated_at = from_millis(s.int64(11));
  return c;
}

// Binds the contact's columns in kContactColumns order starting at `first`.
void bind_contact(Statement& st, const Contact& c) {
  st.bind(1, c.agent_id).bind(2, c.id).bind(3, c.name).bind(4, c.email).bind(5, c.phone);
  st.bind(6, c.role).bind(7, nlohmann::json(c.tags).dump()).bind(8, c.time_zone);
  st.bind(9, c.consent_email).bind(10, c.consent_sms).bind(11, ms(c.created_at));
  st.bind(12, ms(c.updated_at));
}

constexpr const char* kSuppressionColumns =
    "id, agent_id, channel, address, reason, source, detail, created_at";

Suppression read_suppression(const Statement& s) {
  Suppression x;
  x.id = s.text(0);
  x.agent_id = s.text(1);
  x.channel = parse_channel(s.text(2)).value_or(Channel::email);
  x.address = s.text(3);
  x.reason = parse_suppression_reason(s.text(4)).value_or(SuppressionReason::manual);
  x.source = s.text(5);
  x.detail = s.text(6);
  x.created_at = from_millis(s.int64(7));
  return x;
}

// The SQL conditions of an audience (after "agent_id = ?1"), with their parameters.
struct AudienceSql {
  std::string where;
  std::vector<std::string> params;
};

AudienceSql audience_sql(const AudienceFilter& f) {
  AudienceSql a;
  a.where = f.channel == Channel::email ? " AND email <> '' AND consent_email = 1"
                                        : " AND phone <> '' AND consent_sms = 1";
  std::set<std::string> roles(f.roles.begin(), f.roles.end());
  if (!roles.empty()) {
    a.where += " AND role IN (";
    bool first = true;
    for (const auto& r : roles) {
      a.where += first ? "?" : ", ?";
      first = false;
      a.params.push_back(r);
    }
    a.where += ")";
  }
  std::set<std::string> tags;
  for (const auto& t : f.tags) tags.insert(ascii_lower(t));
  if (!tags.empty()) {
    a.where += " AND (";
    bool first = true;
    for (const auto& t : tags) {
      a.where += first ? "instr(tags, ?) > 0" : " OR instr(tags, ?) > 0";
      first = false;
      a.params.push_back(nlohmann::json(t).dump());  // the tag as it appears in the JSON array
    }
    a.where += ")";
  }
  return a;
}

class SqliteContactStore final : public ContactStore {
 public:
  explicit SqliteContactStore(std::shared_ptr<Database> db) : db_(std::move(db)) {}

  // ---- contacts ----

  Result<void> create_contact(const Contact& c) override {
    std::lock_guard lock(db_->mu);
    TRY_VOID(check_unique(c));
    TRY(st, db_->conn.prepare(std::string("INSERT INTO contacts (") + kContactColumns +
                              ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"));
    bind_contact(*st, c);
    return db_->conn.run(*st);
  }

  Result<void> update_contact(const Contact& c) override {
    std::lock_guard lock(db_->mu);
    TRY_VOID(check_unique(c));
    TRY_VOID(update_locked(c));
    if (db_->conn.changes() == 0) return fail(Error::not_found("contact not found"));
    return {};
  }

  Result<std::optional<Contact>> find_contact(const std::string& agent_id,
                                              const std::string& id) override {
    std::lock_guard lock(db_->mu);
    TRY(st, db_->conn.prepare(std::string("SELECT ") + kContactColumns +
                              " FROM contacts WHERE agent_id = ? AND id = ?"));
    st->bind(1, agent_id).bind(2, id);
    return one(*st);
  }

  Result<std::optional<Contact>> find_contact_by_address(const std::string& agent_id,
                                                         Channel channel,
                                                         const std::string& address) override {
    std::lock_guard lock(db_->mu);
    return by_address(agent_id, channel, address);
  }

  Result<bool> delete_contact(const std::string& agent_id, const std::string& id) override {
    std::lock_guard lock(db_->mu);
    TRY(st, db_->conn.prepare("DELETE FROM contacts WHERE agent_id = ? AND id = ?"));
    st->bind(1, agent_id).bind(2, id);
    TRY_VOID(db_->conn.run(*st));
    return db_->conn.changes() > 0;
  }

  Result<Page<Contact>> list_contacts(const ContactQuery& q) override {
    std::string sql =
        std::string("SELECT ") + kContactColumns + " FROM contacts WHERE agent_id = ?";
    std::vector<std::string> params{q.agent_id};
    if (!q.cursor.empty()) {
      sql += " AND id < ?";
      params.push_back(q.cursor);
    }
    if (q.role) {
      sql += " AND role = ?";
      params.push_back(*q.role);
    }
    if (q.tag) {
      sql += " AND instr(tags, ?) > 0";
      params.push_back(nlohmann::json(ascii_lower(*q.tag)).dump());
    }
    if (!q.prefix.empty()) {
      std::string lo = ascii_lower(q.prefix), hi = prefix_end(lo);
      sql +=
          " AND ((lower(name) >= ? AND lower(name) < ?) OR"
          " (email <> '' AND lower(email) >= ? AND lower(email) < ?))";
      params.insert(params.end(), {lo, hi, lo, hi});
    }
    sql += " ORDER BY id DESC LIMIT ?";
    std::lock_guard lock(db_->mu);
    return read_page<Contact>(db_->conn, sql, params, q.limit, read_contact);
  }

  Result<std::vector<UpsertResult>> upsert_contacts(const std::string& agent_id,
                                                    std::span<const ContactUpsert> rows,
                                                    TimePoint now) override {
    std::lock_guard lock(db_->mu);
    Transaction tx(db_->conn);
    TRY_VOID(tx.begin());
    std::vector<UpsertResult> out;
    out.reserve(rows.size());
    for (const auto& row : rows) {
      TRY(r, upsert_one(agent_id, row, now));
      out.push_back(std::move(r));
    }
    TRY_VOID(tx.commit());
    return out;
  }

  Result<std::vector<Contact>> stream_audience(const std::string& agent_id,
                                               const AudienceFilter& filter,
                                               const std::string& after_contact_id,
                                               int limit) override {
    AudienceSql a = audience_sql(filter);
    std::string sql = std::string("SELECT ") + kContactColumns +
                      " FROM contacts WHERE agent_id = ? AND id > ?" + a.where +
                      " ORDER BY id LIMIT ?";
    std::lock_guard lock(db_->mu);
    TRY(st, db_->conn.prepare(sql));
    st->bind(1, agent_id).bind(2, after_contact_id);
    int i = 3;
    for (const auto& p : a.params) st->bind(i++, p);
    st->bind(i, limit);
    std::vector<Contact> out;
    out.reserve(static_cast<std::size_t>(std::max(0, std::min(limit, 10000))));
    while (st->step() == SQLITE_ROW) out.push_back(read_contact(*st));
    st->reset();
    return out;
  }

  Result<std::int64_t> count_audience(const std::string& agent_id,
                                      const AudienceFilter& filter) override {
    AudienceSql a = audience_sql(filter);
    std::string sql = "SELECT COUNT(*) FROM contacts WHERE agent_id = ?" + a.where;
    std::lock_guard lock(db_->mu);
    TRY(st, db_->conn.prepare(sql));
    st->bind(1, agent_id);
    int i = 2;
    for (const auto& p : a.params) st->bind(i++, p);
    std::int64_t n = st->step() == SQLITE_ROW ? st->int64(0) : 0;
    st->reset();
    return n;
  }

  // ---- suppressions ----

  Result<bool> add_suppression(const Suppression& s) override {
    std::lock_guard lock(db_->mu);
    return insert_suppression(db_->conn, s);
  }

  Result<std::optional<Suppression>> find_suppression(const std::string& agent_id,
                                                      const std::string& id) override {
    std::lock_guard lock(db_->mu);
    TRY(st, db_->conn.prepare(std::string("SELECT ") + kSuppressionColumns +
                              " FROM suppressions WHERE agent_id = ? AND id = ?"));
    st->bind(1, agent_id).bind(2, id);
    std::optional<Suppression> out;
    if (st->step() == SQLITE_ROW) out = read_suppression(*st);
    st->reset();
    return out;
  }

  Result<bool> delete_suppression(const std::string& agent_id, const std::string& id) override {
    std::lock_guard lock(db_->mu);
    TRY(st, db_->conn.prepare("DELETE FROM suppressions WHERE agent_id = ? AND id = ?"));
    st->bind(1, agent_id).bind(2, id);
    TRY_VOID(db_->conn.run(*st));
    return db_->conn.changes() > 0;
  }

  Result<int> remove_suppressions(const std::string& agent_id, Channel channel,
                                  const std::string& address,
                                  std::optional<SuppressionReason> reason) override {
    std::lock_guard lock(db_->mu);
    TRY(st, db_->conn.prepare(
                "DELETE FROM suppressions WHERE agent_id = ? AND channel = ? AND address = ?"
                " AND (? = '' OR reason = ?)"));
    std::string r = reason ? std::string(to_string(*reason)) : std::string();
    st->bind(1, agent_id).bind(2, to_string(channel)).bind(3, suppression_key(channel, address));
    st->bind(4, r).bind(5, r);
    TRY_VOID(db_->conn.run(*st));
    return static_cast<int>(db_->conn.changes());
  }

  Result<Page<Suppression>> list_suppressions(const SuppressionQuery& q) override {
    std::string sql =
        std::string("SELECT ") + kSuppressionColumns + " FROM suppressions WHERE agent_id = ?";
    std::vector<std::string> params{q.agent_id};
    if (!q.cursor.empty()) {
      sql += " AND id < ?";
      params.push_back(q.cursor);
    }
    if (q.channel) {
      sql += " AND channel = ?";
      params.emplace_back(to_string(*q.channel));
    }
    if (q.reason) {
      sql += " AND reason = ?";
      params.emplace_back(to_string(*q.reason));
    }
    if (!q.address.empty()) {
      sql += " AND address = ?";
      params.push_back(q.address);
    }
    sql += " ORDER BY id DESC LIMIT ?";
    std::lock_guard lock(db_->mu);
    return read_page<Suppression>(db_->conn, sql, params, q.limit, read_suppression);
  }

  Result<bool> is_suppressed(const std::string& agent_id, Channel channel,
                             const std::string& address) override {
    std::lock_guard lock(db_->mu);
    TRY(st, db_->conn.prepare(
                "SELECT 1 FROM suppressions WHERE agent_id = ? AND channel = ? AND address = ?"
                " LIMIT 1"));
    st->bind(1, agent_id).bind(2, to_string(channel)).bind(3, suppression_key(channel, address));
    bool found = st->step() == SQLITE_ROW;
    st->reset();
    return found;
  }

  Result<std::vector<std::string>> suppressed_among(
      const std::string& agent_id, Channel channel,
      std::span<const std::string> addresses) override {
    std::vector<std::string> out;
    if (addresses.empty()) return out;
    nlohmann::json keys = nlohmann::json::array();
    std::vector<std::string> key_of;
    key_of.reserve(addresses.size());
    for (const auto& a : addresses) {
      key_of.push_back(suppression_key(channel, a));
      keys.push_back(key_of.back());
    }
    std::set<std::string> hit;
    {
      std::lock_guard lock(db_->mu);
      TRY(st, db_->conn.prepare(
                  "SELECT DISTINCT address FROM suppressions WHERE agent_id = ? AND channel = ?"
                  " AND address IN (SELECT value FROM json_each(?))"));
      st->bind(1, agent_id).bind(2, to_string(channel)).bind(3, keys.dump());
      while (st->step() == SQLITE_ROW) hit.insert(st->text(0));
      st->reset();
    }
    for (std::size_t i = 0; i < addresses.size(); ++i)
      if (hit.contains(key_of[i])) out.push_back(addresses[i]);
    return out;
  }

 private:
  // Reads at most one contact from a prepared, bound statement.
  static Result<std::optional<Contact>> one(Statement& st) {
    std::optional<Contact> out;
    if (st.step() == SQLITE_ROW) out = read_contact(st);
    st.reset();
    return out;
  }

  Result<std::optional<Contact>> by_address(const std::string& agent_id, Channel channel,
                                            const std::string& address) {
    if (address.empty()) return std::optional<Contact>();
    const std::string sql =
        std::string("SELECT ") + kContactColumns +
        (channel == Channel::email
             ? " FROM contacts WHERE agent_id = ? AND email <> '' AND lower(email) = lower(?)"
             : " FROM contacts WHERE agent_id = ? AND phone <> '' AND phone = ?");
    TRY(st, db_->conn.prepare(sql));
    st->bind(1, agent_id).bind(2, address);
    return one(*st);
  }

  // Fails with a conflict naming the field when another contact has c's email or phone.
  Result<void> check_unique(const Contact& c) {
    TRY(by_email, by_address(c.agent_id, Channel::email, c.email));
    if (by_email && by_email->id != c.id) {
      return fail(common::address_taken(
          "email", "is already used by another contact (" + by_email->id + ")"));
    }
    TRY(by_phone, by_address(c.agent_id, Channel::sms, c.phone));
    if (by_phone && by_phone->id != c.id) {
      return fail(common::address_taken(
          "phone", "is already used by another contact (" + by_phone->id + ")"));
    }
    return {};
  }

  Result<void> update_locked(const Contact& c) {
    TRY(st, db_->conn.prepare(
                "UPDATE contacts SET name = ?3, email = ?4, phone = ?5, role = ?6, tags = ?7,"
                " time_zone = ?8, consent_email = ?9, consent_sms = ?10, updated_at = ?12"
                " WHERE agent_id = ?1 AND id = ?2"));
    bind_contact(*st, c);
    return db_->conn.run(*st);
  }

  Result<UpsertResult> upsert_one(const std::string& agent_id, const ContactUpsert& row,
                                  TimePoint now) {
    const Contact& in = row.contact;
    std::optional<Contact> by_email, by_phone;
    if (row.fields & kFieldEmail) {
      TRY(found, by_address(agent_id, Channel::email, in.email));
      by_email = std::move(found);
    }
    if (row.fields & kFieldPhone) {
      TRY(found, by_address(agent_id, Channel::sms, in.phone));
      by_phone = std::move(found);
    }
    if (by_email && by_phone && by_email->id != by_phone->id) {
      return UpsertResult{UpsertResult::Kind::conflict, "",
                          "email belongs to one contact and phone to another"};
    }
    std::optional<Contact>& existing = by_email ? by_email : by_phone;
    if (!existing) {
      // A match on neither address: a new contact (it must carry an id from the caller).
      Contact c = in;
      c.agent_id = agent_id;
      c.created_at = c.updated_at = now;
      TRY(st, db_->conn.prepare(std::string("INSERT INTO contacts (") + kContactColumns +
                                ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"));
      bind_contact(*st, c);
      TRY_VOID(db_->conn.run(*st));
      return UpsertResult{UpsertResult::Kind::inserted, c.id, ""};
    }
    // An existing contact: the row's values win, fields the row does not set are kept.
    Contact c = std::move(*existing);
    if (row.fields & kFieldName) c.name = in.name;
    if (row.fields & kFieldEmail) c.email = in.email;
    if (row.fields & kFieldPhone) c.phone = in.phone;
    if (row.fields & kFieldRole) c.role = in.role;
    if (row.fields & kFieldTags) c.tags = in.tags;
    if (row.fields & kFieldTimeZone) c.time_zone = in.time_zone;
    if (row.fields & kFieldConsentEmail) c.consent_email = in.consent_email;
    if (row.fields & kFieldConsentSms) c.consent_sms = in.consent_sms;
    c.updated_at = now;
    TRY_VOID(update_locked(c));
    return UpsertResult{UpsertResult::Kind::updated, c.id, ""};
  }

  std::shared_ptr<Database> db_;
};

}  // namespace

Result<bool> insert_suppression(Connection& conn, const Suppression& s) {
  TRY(st, conn.prepare(std::string("INSERT INTO suppressions (") + kSuppressionColumns +
                       ") VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING"));
  st->bind(1, s.id).bind(2, s.agent_id).bind(3, to_string(s.channel));
  st->bind(4, suppression_key(s.channel, s.address)).bind(5, to_string(s.reason));
  st->bind(6, s.source).bind(7, s.detail).bind(8, ms(s.created_at));
  TRY_VOID(conn.run(*st));
  return conn.changes() > 0;
}

std::unique_ptr<ContactStore> make_contact_store(std::shared_ptr<Database> db) {
  return std::make_unique<SqliteContactStore>(std::move(db));
}

}  // namespace sqlite
}  // namespace herald::store
