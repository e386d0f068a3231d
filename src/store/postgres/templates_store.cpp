// PostgreSQL implementation of TemplateStore: one row per (agent, key, channel).
#include "store/common/conflicts.h"
#include "store/postgres/database.h"
#include "store/postgres/sql.h"

namespace herald::store::postgres {

namespace {

#define HERALD_TEMPLATE_COLUMNS                                                             \
  "id, agent_id, template_key, channel, name, subject, html, body_text, sms_body, version," \
  " created_at, updated_at"

constexpr Sql kCreate{"create_template",
                      "INSERT INTO templates (" HERALD_TEMPLATE_COLUMNS
                      ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"};
constexpr Sql kFind{"find_template", "SELECT " HERALD_TEMPLATE_COLUMNS
                                     " FROM templates WHERE agent_id = $1 AND id = $2"};
constexpr Sql kFindByKey{"find_template_by_key",
                         "SELECT " HERALD_TEMPLATE_COLUMNS
                         " FROM templates WHERE agent_id = $1 AND template_key = $2 AND"
                         " channel = $3"};
constexpr Sql kList{"list_templates", "SELECT " HERALD_TEMPLATE_COLUMNS
                                      " FROM templates WHERE agent_id = $1 AND ($2 = '' OR"
                                      " channel = $2) ORDER BY template_key, channel"};
// The stored row comes back, so an update is one round trip.
constexpr Sql kUpdate{
    "update_template",
    "UPDATE templates SET template_key = $3, name = $4, subject = $5, html = $6, body_text = $7,"
    " sms_body = $8, version = version + 1, updated_at = $9 WHERE agent_id = $1 AND id = $2"
    " RETURNING " HERALD_TEMPLATE_COLUMNS};
constexpr Sql kRemove{"remove_template", "DELETE FROM templates WHERE agent_id = $1 AND id = $2"};
constexpr Sql kCount{"count_templates", "SELECT COUNT(*) FROM templates WHERE agent_id = $1"};
#undef HERALD_TEMPLATE_COLUMNS

TemplateRow read(const pqxx::row& r) {
  TemplateRow t;
  t.id = text(r[0]);
  t.agent_id = text(r[1]);
  t.key = text(r[2]);
  t.channel = parse_channel(text(r[3])).value_or(Channel::email);
  t.name = text(r[4]);
  t.subject = text(r[5]);
  t.html = text(r[6]);
  t.text = text(r[7]);
  t.body = text(r[8]);
  t.version = int64(r[9]);
  t.created_at = millis(r[10]);
  t.updated_at = millis(r[11]);
  return t;
}

std::optional<TemplateRow> one(const pqxx::result& rows) {
  if (rows.empty()) return std::nullopt;
  return read(rows[0]);
}

class PgTemplateStore final : public TemplateStore {
 public:
  explicit PgTemplateStore(std::shared_ptr<Database> db) : db_(std::move(db)), pool_(*db_->pool) {}

  Result<void> create(const TemplateRow& t) override {
    auto r = with_autocommit(pool_, "create template", [&](Tx& tx) -> Result<void> {
      tx.run(kCreate, t.id, t.agent_id, t.key, std::string(to_string(t.channel)), t.name, t.subject,
             t.html, t.text, t.body, t.version, ms(t.created_at), ms(t.updated_at));
      return {};
    });
    if (!r && r.error().code == Errc::conflict) return fail(common::template_key_taken(t));
    return r;
  }

  Result<std::optional<TemplateRow>> find(const std::string& agent_id,
                                          const std::string& id) override {
    return with_autocommit(pool_, "find template",
                           [&](Tx& tx) -> Result<std::optional<TemplateRow>> {
                             return one(tx.run(kFind, agent_id, id));
                           });
  }

  Result<std::optional<TemplateRow>> find_by_key(const std::string& agent_id,
                                                 const std::string& key, Channel channel) override {
    return with_autocommit(
        pool_, "find template", [&](Tx& tx) -> Result<std::optional<TemplateRow>> {
          return one(tx.run(kFindByKey, agent_id, key, std::string(to_string(channel))));
        });
  }

  Result<std::vector<TemplateRow>> list(const std::string& agent_id,
                                        std::optional<Channel> channel) override {
    const std::string ch = channel ? std::string(to_string(*channel)) : std::string();
    return with_autocommit(pool_, "list templates",
                           [&](Tx& tx) -> Result<std::vector<TemplateRow>> {
                             std::vector<TemplateRow> out;
                             for (const pqxx::row& r : tx.run(kList, agent_id, ch))
                               out.push_back(read(r));
                             return out;
                           });
  }

  Result<std::optional<TemplateRow>> update(const TemplateRow& t) override {
    auto r = with_autocommit(
        pool_, "update template", [&](Tx& tx) -> Result<std::optional<TemplateRow>> {
          return one(tx.run(kUpdate, t.agent_id, t.id, t.key, t.name, t.subject, t.html, t.text,
                            t.body, ms(t.updated_at)));
        });
    if (!r && r.error().code == Errc::conflict) return fail(common::template_key_taken(t));
    return r;
  }

  Result<bool> remove(const std::string& agent_id, const std::string& id) override {
    return with_autocommit(pool_, "remove template", [&](Tx& tx) -> Result<bool> {
      return tx.run(kRemove, agent_id, id).affected_rows() > 0;
    });
  }

  Result<std::int64_t> count(const std::string& agent_id) override {
    return with_autocommit(pool_, "count templates", [&](Tx& tx) -> Result<std::int64_t> {
      return int64(tx.run(kCount, agent_id)[0][0]);
    });
  }

 private:
  std::shared_ptr<Database> db_;
  Pool& pool_;
};

}  // namespace

std::unique_ptr<TemplateStore> make_template_store(std::shared_ptr<Database> db) {
  return std::make_unique<PgTemplateStore>(std::move(db));
}

}  // namespace herald::store::postgres
