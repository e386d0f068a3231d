// SQLite implementation of TemplateStore.
#include "store/common/conflicts.h"
#include "store/sqlite/database.h"
#include "store/templates.h"

namespace herald::store::sqlite {

#define TRY HERALD_TRY
#define TRY_VOID HERALD_TRY_VOID

// Schema for templates (migration 4). One row per (agent, key, channel); a key that matches a
// platform default overrides it for that agent.
extern const std::string_view kMigrationV4 = R"sql(
CREATE TABLE templates (
  id            TEXT PRIMARY KEY,
  agent_id      TEXT NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
  template_key  TEXT NOT NULL,
  channel       TEXT NOT NULL CHECK (channel IN ('email','sms')),
  name          TEXT NOT NULL,
  subject       TEXT NOT NULL DEFAULT '',
  html          TEXT NOT NULL DEFAULT '',
  body_text     TEXT NOT NULL DEFAULT '',
  sms_body      TEXT NOT NULL DEFAULT '',
  version       INTEGER NOT NULL DEFAULT 1,
  created_at    INTEGER NOT NULL,
  updated_at    INTEGER NOT NULL,
  UNIQUE (agent_id, template_key, channel)
) WITHOUT ROWID;
CREATE INDEX templates_agent ON templates(agent_id, id);
)sql";

namespace {

std::int64_t ms(TimePoint t) {
  return to_millis(t);
}

constexpr const char* kColumns =
    "id, agent_id, template_key, channel, name, subject, html, body_text, sms_body, version, "
    "created_at, updated_at";

TemplateRow read(const Statement& s) {
  TemplateRow t;
  t.id = s.text(0);
  t.agent_id = s.text(1);
  t.key = s.text(2);
  t.channel = parse_channel(s.text(3)).value_or(Channel::email);
  t.name = s.text(4);
  t.subject = s.text(5);
  t.html = s.text(6);
  t.text = s.text(7);
  t.body = s.text(8);
  t.version = s.int64(9);
  t.created_at = from_millis(s.int64(10));
  t.updated_at = from_millis(s.int64(11));
  return t;
}

using common::template_key_taken;

class SqliteTemplateStore final : public TemplateStore {
 public:
  explicit SqliteTemplateStore(std::shared_ptr<Database> db) : db_(std::move(db)) {}

  Result<void> create(const TemplateRow& t) override {
    std::lock_guard lock(db_->mu);
    TRY(st, db_->conn.prepare(
                "INSERT INTO templates (id, agent_id, template_key, channel, name, subject, html,"
                " body_text, sms_body, version, created_at, updated_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"));
    st->bind(1, t.id).bind(2, t.agent_id).bind(3, t.key).bind(4, to_string(t.channel));
    st->bind(5, t.name).bind(6, t.subject).bind(7, t.html).bind(8, t.text).bind(9, t.body);
    st->bind(10, t.version).bind(11, ms(t.created_at)).bind(12, ms(t.updated_at));
    auto r = db_->conn.run(*st);
    if (!r && r.error().code == Errc::conflict) return fail(template_key_taken(t));
    return r;
  }

  Result<std::optional<TemplateRow>> find(const std::string& agent_id,
                                          const std::string& id) override {
    std::lock_guard lock(db_->mu);
    return find_locked(agent_id, id);
  }

  Result<std::optional<TemplateRow>> find_by_key(const std::string& agent_id,
                                                 const std::string& key, Channel channel) override {
    std::lock_guard lock(db_->mu);
    TRY(st, db_->conn.prepare(std::string("SELECT ") + kColumns +
                              " FROM templates WHERE agent_id = ? AND template_key = ?"
                              " AND channel = ?"));
    st->bind(1, agent_id).bind(2, key).bind(3, to_string(channel));
    std::optional<TemplateRow> out;
    if (st->step() == SQLITE_ROW) out = read(*st);
    st->reset();
    return out;
  }

  Result<std::vector<TemplateRow>> list(const std::string& agent_id,
                                        std::optional<Channel> channel) override {
    std::lock_guard lock(db_->mu);
    TRY(st, db_->conn.prepare(std::string("SELECT ") + kColumns +
                              " FROM templates WHERE agent_id = ? AND (? = '' OR channel = ?)"
                              " ORDER BY template_key, channel"));
    std::string ch = channel ? std::string(to_string(*channel)) : std::string();
    st->bind(1, agent_id).bind(2, ch).bind(3, ch);
    std::vector<TemplateRow> out;
    while (st->step() == SQLITE_ROW) out.push_back(read(*st));
    st->reset();
    return out;
  }

  Result<std::optional<TemplateRow>> update(const TemplateRow& t) override {
    std::lock_guard lock(db_->mu);
    TRY(st,
        db_->conn.prepare("UPDATE templates SET template_key = ?, name = ?, subject = ?, html = ?,"
                          " body_text = ?, sms_body = ?, version = version + 1, updated_at = ?"
                          " WHERE id = ? AND agent_id = ?"));
    st->bind(1, t.key).bind(2, t.name).bind(3, t.subject).bind(4, t.html).bind(5, t.text);
    st->bind(6, t.body).bind(7, ms(t.updated_at)).bind(8, t.id).bind(9, t.agent_id);
    if (auto r = db_->conn.run(*st); !r) {
      if (r.error().code == Errc::conflict) return fail(template_key_taken(t));
      return std::unexpected(r.error());
    }
    if (db_->conn.changes() == 0) return std::optional<TemplateRow>();
    return find_locked(t.agent_id, t.id);
  }

  Result<bool> remove(const std::string& agent_id, const std::string& id) override {
    std::lock_guard lock(db_->mu);
    TRY(st, db_->conn.prepare("DELETE FROM templates WHERE id = ? AND agent_id = ?"));
    st->bind(1, id).bind(2, agent_id);
    TRY_VOID(db_->conn.run(*st));
    return db_->conn.changes() > 0;
  }

  Result<std::int64_t> count(const std::string& agent_id) override {
    std::lock_guard lock(db_->mu);
    TRY(st, db_->conn.prepare("SELECT COUNT(*) FROM templates WHERE agent_id = ?"));
    st->bind(1, agent_id);
    std::int64_t n = 0;
    if (st->step() == SQLITE_ROW) n = st->int64(0);
    st->reset();
    return n;
  }

 private:
  Result<std::optional<TemplateRow>> find_locked(const std::string& agent_id,
                                                 const std::string& id) {
    TRY(st, db_->conn.prepare(std::string("SELECT ") + kColumns +
                              " FROM templates WHERE id = ? AND agent_id = ?"));
    st->bind(1, id).bind(2, agent_id);
    std::optional<TemplateRow> out;
    if (st->step() == SQLITE_ROW) out = read(*st);
    st->reset();
    return out;
  }

  std::shared_ptr<Database> db_;
};

}  // namespace

std::unique_ptr<TemplateStore> make_template_store(std::shared_ptr<Database> db) {
  return std::make_unique<SqliteTemplateStore>(std::move(db));
}

}  // namespace herald::store::sqlite
