// PostgreSQL implementation of ContactStore: contacts (keyed by agent, then id; tags a text[])
// and suppressions (keyed by agent, channel, address, reason, so send-time checks are one seek).
#include <set>
#include <unordered_map>

#include "store/common/conflicts.h"
#include "store/common/text.h"
#include "store/postgres/database.h"
#include "store/postgres/sql.h"
#include "store/store.h"

namespace herald::store::postgres {

namespace {

#define HERALD_CONTACT_COLUMNS                               \
  "agent_id, id, name, email, phone, role, tags, time_zone," \
  " consent_email, consent_sms, created_at, updated_at"

constexpr Sql kInsertContact{
    "insert_contact", "INSERT INTO contacts (" HERALD_CONTACT_COLUMNS
                      ") VALUES ($1, $2, $3, $4, $5, $6, $7::text[], $8, $9, $10, $11, $12)"};
constexpr Sql kUpdateContact{
    "update_contact",
    "UPDATE contacts SET name = $3, email = $4, phone = $5, role = $6, tags = $7::text[],"
    " time_zone = $8, consent_email = $9, consent_sms = $10, updated_at = $11"
    " WHERE agent_id = $1 AND id = $2"};
constexpr Sql kFindContact{"find_contact", "SELECT " HERALD_CONTACT_COLUMNS
                                           " FROM contacts WHERE agent_id = $1 AND id = $2"};
// Emails match case-insensitively for ASCII letters (contacts_email's lower()).
constexpr Sql kContactByEmail{
    "contact_by_email", "SELECT " HERALD_CONTACT_COLUMNS
                        " FROM contacts WHERE agent_id = $1 AND email <> '' AND lower(email) ="
                        " lower($2 COLLATE \"C\")"};
constexpr Sql kContactByPhone{"contact_by_phone",
                              "SELECT " HERALD_CONTACT_COLUMNS
                              " FROM contacts WHERE agent_id = $1 AND phone <> '' AND phone = $2"};
// An import batch's matches, by any of its (lowercased) emails or phones, locked until it ends.
constexpr Sql kImportMatches{
    "import_matches", "SELECT " HERALD_CONTACT_COLUMNS
                      " FROM contacts WHERE agent_id = $1 AND ((email <> '' AND lower(email) ="
                      " ANY($2::text[])) OR (phone <> '' AND phone = ANY($3::text[]))) FOR UPDATE"};
// Many contacts at once; $7 holds each one's tags as an array literal.
#define HERALD_CONTACT_ARRAYS                                                                  \
  "unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[]," \
  " $8::text[], $9::boolean[], $10::boolean[], $11::bigint[], $12::bigint[]) AS u(agent_id,"   \
  " id, name, email, phone, role, tags, time_zone, consent_email, consent_sms, created_at,"    \
  " updated_at)"
constexpr Sql kInsertContacts{
    "insert_contacts",
    "INSERT INTO contacts (" HERALD_CONTACT_COLUMNS
    ") SELECT agent_id, id, name, email, phone, role, tags::text[], time_zone, consent_email,"
    " consent_sms, created_at, updated_at FROM " HERALD_CONTACT_ARRAYS};
constexpr Sql kUpdateContacts{
    "update_contacts",
    "UPDATE contacts c SET name = u.name, email = u.email, phone = u.phone, role = u.role,"
    " tags = u.tags::text[], time_zone = u.time_zone, consent_email = u.consent_email,"
    " consent_sms = u.consent_sms, updated_at = u.updated_at FROM " HERALD_CONTACT_ARRAYS
    " WHERE c.agent_id = u.agent_id AND c.id = u.id"};
#undef HERALD_CONTACT_ARRAYS
constexpr Sql kDeleteContact{"delete_contact",
                             "DELETE FROM contacts WHERE agent_id = $1 AND id = $2"};
// $2 cursor, $3/$4 role filter, $5/$6 tag filter, $7 lowercase prefix of name or email.
constexpr Sql kListContacts{
    "list_contacts",
    "SELECT " HERALD_CONTACT_COLUMNS
    " FROM contacts WHERE agent_id = $1 AND ($2 = '' OR id < $2) AND (NOT $3 OR role = $4)"
    " AND (NOT $5 OR $6 = ANY(tags)) AND ($7 = '' OR starts_with(lower(name), $7) OR"
    " (email <> '' AND starts_with(lower(email), $7))) ORDER BY id DESC LIMIT $8"};
// The audience per channel: $2 after this id, $3 any of these roles, $4 any of these tags
// (empty: any), at most $5; keyset-paginated along the primary key. Counts take $2 and $3.
#define HERALD_AUDIENCE_FILTER(roles, tags)                       \
  " AND (cardinality(" roles "::text[]) = 0 OR role = ANY(" roles \
  "::text[])) AND"                                                \
  " (cardinality(" tags "::text[]) = 0 OR tags && " tags "::text[])"
constexpr Sql kAudienceEmail{
    "audience_email", "SELECT " HERALD_CONTACT_COLUMNS
                      " FROM contacts WHERE agent_id = $1 AND id > $2 AND email <> '' AND"
                      " consent_email" HERALD_AUDIENCE_FILTER("$3", "$4") " ORDER BY id LIMIT $5"};
constexpr Sql kAudienceSms{
    "audience_sms", "SELECT " HERALD_CONTACT_COLUMNS
                    " FROM contacts WHERE agent_id = $1 AND id > $2 AND phone <> '' AND"
                    " consent_sms" HERALD_AUDIENCE_FILTER("$3", "$4") " ORDER BY id LIMIT $5"};
constexpr Sql kCountEmail{"count_audience_email",
                          "SELECT COUNT(*) FROM contacts WHERE agent_id = $1 AND email <> '' AND"
                          " consent_email" HERALD_AUDIENCE_FILTER("$2", "$3")};
constexpr Sql kCountSms{"count_audience_sms",
                        "SELECT COUNT(*) FROM contacts WHERE agent_id = $1 AND phone <> '' AND"
                        " consent_sms" HERALD_AUDIENCE_FILTER("$2", "$3")};
#undef HERALD_AUDIENCE_FILTER
#undef HERALD_CONTACT_COLUMNS

#define HERALD_SUPPRESSION_COLUMNS \
  "id, agent_id, channel, address, reason, source, detail, created_at"
constexpr Sql kFindSuppression{"find_suppression",
                               "SELECT " HERALD_SUPPRESSION_COLUMNS
                               " FROM suppressions WHERE agent_id = $1 AND id = $2"};
constexpr Sql kDeleteSuppression{"delete_suppression",
                                 "DELETE FROM suppressions WHERE agent_id = $1 AND id = $2"};
constexpr Sql kRemoveSuppressions{
    "remove_suppressions",
    "DELETE FROM suppressions WHERE agent_id = $1 AND channel = $2 AND address = $3"
    " AND ($4 = '' OR reason = $4)"};
constexpr Sql kListSuppressions{
    "list_suppressions",
    "SELECT " HERALD_SUPPRESSION_COLUMNS
    " FROM suppressions WHERE agent_id = $1 AND ($2 = '' OR id < $2) AND ($3 = '' OR"
    " channel = $3) AND ($4 = '' OR reason = $4) AND ($5 = '' OR address = $5)"
    " ORDER BY id DESC LIMIT $6"};
#undef HERALD_SUPPRESSION_COLUMNS
constexpr Sql kIsSuppressed{
    "is_suppressed",
    "SELECT 1 FROM suppressions WHERE agent_id = $1 AND channel = $2 AND address = $3 LIMIT 1"};
constexpr Sql kSuppressedAmong{
    "suppressed_among",
    "SELECT DISTINCT address FROM suppressions WHERE agent_id = $1 AND channel = $2"
    " AND address = ANY($3::text[])"};

Contact read_contact(const pqxx::row& r) {
  Contact c;
  c.agent_id = text(r[0]);
  c.id = text(r[1]);
  c.name = text(r[2]);
  c.email = text(r[3]);
  c.phone = text(r[4]);
  c.role = text(r[5]);
  c.tags = text_list(r[6]);
  c.time_zone = text(r[7]);
  c.consent_email = boolean(r[8]);
  c.consent_sms = boolean(r[9]);
  c.created_at = millis(r[10]);
  c.updated_at = millis(r[11]);
  return c;
}

Suppression read_suppression(const pqxx::row& r) {
  Suppression s;
  s.id = text(r[0]);
  s.agent_id = text(r[1]);
  s.channel = parse_channel(text(r[2])).value_or(Channel::email);
  s.address = text(r[3]);
  s.reason = parse_suppression_reason(text(r[4])).value_or(SuppressionReason::manual);
  s.source = text(r[5]);
  s.detail = text(r[6]);
  s.created_at = millis(r[7]);
  return s;
}

// Inserts a contact.
void insert_contact(Tx& tx, const Contact& c) {
  tx.run(kInsertContact, c.agent_id, c.id, c.name, c.email, c.phone, c.role, text_array(c.tags),
         c.time_zone, c.consent_email, c.consent_sms, ms(c.created_at), ms(c.updated_at));
}

// Writes a contact's fields over the stored ones; false if there is no such contact.
bool update_contact_row(Tx& tx, const Contact& c) {
  return tx.run(kUpdateContact, c.agent_id, c.id, c.name, c.email, c.phone, c.role,
                text_array(c.tags), c.time_zone, c.consent_email, c.consent_sms, ms(c.updated_at))
             .affected_rows() > 0;
}

// Reads at most one contact.
std::optional<Contact> one(const pqxx::result& rows) {
  if (rows.empty()) return std::nullopt;
  return read_contact(rows[0]);
}

// The agent's contact with this address on `channel` ("" finds none).
std::optional<Contact> by_address(Tx& tx, const std::string& agent_id, Channel channel,
                                  const std::string& address) {
  if (address.empty()) return std::nullopt;
  return one(
      tx.run(channel == Channel::email ? kContactByEmail : kContactByPhone, agent_id, address));
}

// A conflict naming the field when another contact of the agent has c's email or phone.
std::optional<Error> taken_address(Tx& tx, const Contact& c) {
  if (auto other = by_address(tx, c.agent_id, Channel::email, c.email); other && other->id != c.id)
    return common::address_taken("email", "is already used by another contact (" + other->id + ")");
  if (auto other = by_address(tx, c.agent_id, Channel::sms, c.phone); other && other->id != c.id)
    return common::address_taken("phone", "is already used by another contact (" + other->id + ")");
  return std::nullopt;
}

// A unique-index conflict that a concurrent writer won after taken_address looked, by field.
Error raced(const Error& e) {
  if (e.message.find("contacts_email") != std::string::npos)
    return common::address_taken("email", "is already used by another contact");
  if (e.message.find("contacts_phone") != std::string::npos)
    return common::address_taken("phone", "is already used by another contact");
  return e;
}

// Contacts as the columns of kInsertContacts / kUpdateContacts.
struct ContactArrays {
  ArrayParam agent, id, name, email, phone, role, tags, time_zone, consent_email, consent_sms,
      created, updated;
  std::size_t size = 0;

  void add(const Contact& c) {
    agent.text(c.agent_id);
    id.text(c.id);
    name.text(c.name);
    email.text(c.email);
    phone.text(c.phone);
    role.text(c.role);
    tags.text(text_array(c.tags));
    time_zone.text(c.time_zone);
    consent_email.boolean(c.consent_email);
    consent_sms.boolean(c.consent_sms);
    created.integer(ms(c.created_at));
    updated.integer(ms(c.updated_at));
    ++size;
  }
  void write(Tx& tx, const Sql& st) const {
    if (size == 0) return;
    tx.run(st, agent.str(), id.str(), name.str(), email.str(), phone.str(), role.str(), tags.str(),
           time_zone.str(), consent_email.str(), consent_sms.str(), created.str(), updated.str());
  }
};

// One import batch (ContactStore::upsert_contacts), applied as SQLite applies it row by row, but
// against the contacts its rows can match, read in one statement and followed in memory, then
// written with one INSERT and one UPDATE. A batch that moves an address from one stored contact
// to another is written row by row instead (a multi-row UPDATE checks uniqueness row by row).
class ImportBatch {
 public:
  ImportBatch(Tx& tx, std::string agent_id, std::span<const ContactUpsert> rows, TimePoint now)
      : tx_(tx), agent_id_(std::move(agent_id)), now_(now) {
    std::vector<std::string> emails, phones;
    for (const ContactUpsert& row : rows) {
      if ((row.fields & kFieldEmail) && !row.contact.email.empty())
        emails.push_back(common::ascii_lower(row.contact.email));
      if ((row.fields & kFieldPhone) && !row.contact.phone.empty())
        phones.push_back(row.contact.phone);
    }
    for (const pqxx::row& r :
         tx.run(kImportMatches, agent_id_, text_array(emails), text_array(phones)))
      keep(read_contact(r), false);
  }

  // Applies one row in memory: matched by email, else by phone; created when neither matches.
  UpsertResult apply(const ContactUpsert& row) {
    const Contact& in = row.contact;
    std::optional<std::size_t> by_email, by_phone;
    if (row.fields & kFieldEmail) by_email = find(by_email_, common::ascii_lower(in.email));
    if (row.fields & kFieldPhone) by_phone = find(by_phone_, in.phone);
    if (by_email && by_phone && *by_email != *by_phone)
      return UpsertResult{UpsertResult::Kind::conflict, "",
                          "email belongs to one contact and phone to another"};
    const std::optional<std::size_t> existing = by_email ? by_email : by_phone;
    if (!existing) {
      // A match on neither address: a new contact (it must carry an id from the caller).
      Contact c = in;
      c.agent_id = agent_id_;
      c.created_at = c.updated_at = now_;
      steps_.emplace_back(true, c);
      keep(std::move(c), true);
      return UpsertResult{UpsertResult::Kind::inserted, in.id, ""};
    }
    // An existing contact: the row's values win, fields the row does not set are kept.
    Contact c = contacts_[*existing];
    if (row.fields & kFieldName) c.name = in.name;
    if (row.fields & kFieldEmail) c.email = in.email;
    if (row.fields & kFieldPhone) c.phone = in.phone;
    if (row.fields & kFieldRole) c.role = in.role;
    if (row.fields & kFieldTags) c.tags = in.tags;
    if (row.fields & kFieldTimeZone) c.time_zone = in.time_zone;
    if (row.fields & kFieldConsentEmail) c.consent_email = in.consent_email;
    if (row.fields & kFieldConsentSms) c.consent_sms = in.consent_sms;
    c.updated_at = now_;
    steps_.emplace_back(false, c);
    replace(*existing, std::move(c));
    return UpsertResult{UpsertResult::Kind::updated, contacts_[*existing].id, ""};
  }

  // Writes what the rows did.
  void write() {
    if (moves_addresses_) {
      for (const auto& [insert, c] : steps_)
        insert ? insert_contact(tx_, c) : (void)update_contact_row(tx_, c);
      return;
    }
    ContactArrays inserted, updated;
    for (std::size_t i = 0; i < contacts_.size(); ++i) {
      if (is_new_[i])
        inserted.add(contacts_[i]);
      else if (changed_[i])
        updated.add(contacts_[i]);
    }
    updated.write(tx_, kUpdateContacts);  // first: it may free an address a new contact takes
    inserted.write(tx_, kInsertContacts);
  }

 private:
  static std::optional<std::size_t> find(const std::unordered_map<std::string, std::size_t>& m,
                                         const std::string& key) {
    if (key.empty()) return std::nullopt;
    auto it = m.find(key);
    return it == m.end() ? std::nullopt : std::optional<std::size_t>(it->second);
  }
  void index(std::size_t i) {
    if (!contacts_[i].email.empty()) by_email_[common::ascii_lower(contacts_[i].email)] = i;
    if (!contacts_[i].phone.empty()) by_phone_[contacts_[i].phone] = i;
  }
  void keep(Contact c, bool is_new) {
    contacts_.push_back(std::move(c));
    is_new_.push_back(is_new);
    changed_.push_back(false);
    index(contacts_.size() - 1);
  }
  void replace(std::size_t i, Contact c) {
    Contact& old = contacts_[i];
    const bool email_moved =
        !old.email.empty() && common::ascii_lower(old.email) != common::ascii_lower(c.email);
    const bool phone_moved = !old.phone.empty() && old.phone != c.phone;
    if (email_moved) by_email_.erase(common::ascii_lower(old.email));
    if (phone_moved) by_phone_.erase(old.phone);
    if (!is_new_[i] && (email_moved || phone_moved)) moves_addresses_ = true;
    old = std::move(c);
    changed_[i] = true;
    index(i);
  }

  Tx& tx_;
  std::string agent_id_;
  TimePoint now_;
  std::vector<Contact> contacts_;  // matched and created, in the state the rows leave them
  std::vector<bool> is_new_, changed_;
  std::unordered_map<std::string, std::size_t> by_email_, by_phone_;
  std::vector<std::pair<bool, Contact>> steps_;  // each row's write (insert?, contact), in order
  bool moves_addresses_ = false;
};

// The audience's roles and tags as array parameters (tags lowercased, as they are stored).
std::pair<std::string, std::string> audience_params(const AudienceFilter& f) {
  std::set<std::string> tags;
  for (const auto& t : f.tags) tags.insert(common::ascii_lower(t));
  return {text_array(f.roles), text_array(tags)};
}

class PgContactStore final : public ContactStore {
 public:
  explicit PgContactStore(std::shared_ptr<Database> db) : db_(std::move(db)), pool_(*db_->pool) {}

  // ---- contacts ----

  Result<void> create_contact(const Contact& c) override {
    auto r = with_tx(pool_, "create contact", [&](Tx& tx) -> Result<void> {
      if (auto taken = taken_address(tx, c)) return fail(*taken);
      insert_contact(tx, c);
      return {};
    });
    if (!r && r.error().code == Errc::conflict) return fail(raced(r.error()));
    return r;
  }

  Result<void> update_contact(const Contact& c) override {
    auto r = with_tx(pool_, "update contact", [&](Tx& tx) -> Result<void> {
      if (auto taken = taken_address(tx, c)) return fail(*taken);
      if (!update_contact_row(tx, c)) return fail(Error::not_found("contact not found"));
      return {};
    });
    if (!r && r.error().code == Errc::conflict) return fail(raced(r.error()));
    return r;
  }

  Result<std::optional<Contact>> find_contact(const std::string& agent_id,
                                              const std::string& id) override {
    return with_autocommit(pool_, "find contact", [&](Tx& tx) -> Result<std::optional<Contact>> {
      return one(tx.run(kFindContact, agent_id, id));
    });
  }

  Result<std::optional<Contact>> find_contact_by_address(const std::string& agent_id,
                                                         Channel channel,
                                                         const std::string& address) override {
    return with_autocommit(pool_, "find contact", [&](Tx& tx) -> Result<std::optional<Contact>> {
      return by_address(tx, agent_id, channel, address);
    });
  }

  Result<bool> delete_contact(const std::string& agent_id, const std::string& id) override {
    return with_autocommit(pool_, "delete contact", [&](Tx& tx) -> Result<bool> {
      return tx.run(kDeleteContact, agent_id, id).affected_rows() > 0;
    });
  }

  Result<Page<Contact>> list_contacts(const ContactQuery& q) override {
    const std::string tag = q.tag ? common::ascii_lower(*q.tag) : "";
    return with_autocommit(pool_, "list contacts", [&](Tx& tx) -> Result<Page<Contact>> {
      Page<Contact> page;
      for (const pqxx::row& r :
           tx.run(kListContacts, q.agent_id, q.cursor, q.role.has_value(), q.role.value_or(""),
                  q.tag.has_value(), tag, common::ascii_lower(q.prefix), q.limit + 1))
        page.items.push_back(read_contact(r));
      if (static_cast<int>(page.items.size()) > q.limit) {
        page.items.pop_back();
        page.next_cursor = page.items.back().id;
      }
      return page;
    });
  }

  Result<std::vector<UpsertResult>> upsert_contacts(const std::string& agent_id,
                                                    std::span<const ContactUpsert> rows,
                                                    TimePoint now) override {
    return with_tx(pool_, "upsert contacts", [&](Tx& tx) -> Result<std::vector<UpsertResult>> {
      ImportBatch batch(tx, agent_id, rows, now);
      std::vector<UpsertResult> out;
      out.reserve(rows.size());
      for (const ContactUpsert& row : rows) out.push_back(batch.apply(row));
      batch.write();
      return out;
    });
  }

  Result<std::vector<Contact>> stream_audience(const std::string& agent_id,
                                               const AudienceFilter& filter,
                                               const std::string& after_contact_id,
                                               int limit) override {
    const auto [roles, tags] = audience_params(filter);
    return with_autocommit(pool_, "stream audience", [&](Tx& tx) -> Result<std::vector<Contact>> {
      const pqxx::result rows =
          tx.run(filter.channel == Channel::email ? kAudienceEmail : kAudienceSms, agent_id,
                 after_contact_id, roles, tags, limit);
      std::vector<Contact> out;
      out.reserve(rows.size());
      for (const pqxx::row& r : rows) out.push_back(read_contact(r));
      return out;
    });
  }

  Result<std::int64_t> count_audience(const std::string& agent_id,
                                      const AudienceFilter& filter) override {
    const auto [roles, tags] = audience_params(filter);
    return with_autocommit(pool_, "count audience", [&](Tx& tx) -> Result<std::int64_t> {
      return int64(tx.run(filter.channel == Channel::email ? kCountEmail : kCountSms, agent_id,
                          roles, tags)[0][0]);
    });
  }

  // ---- suppressions ----

  Result<bool> add_suppression(const Suppression& s) override {
    return with_autocommit(pool_, "add suppression", [&](Tx& tx) -> Result<bool> {
      return insert_suppressions(tx, std::span(&s, 1)) > 0;
    });
  }

  Result<std::optional<Suppression>> find_suppression(const std::string& agent_id,
                                                      const std::string& id) override {
    using Found = std::optional<Suppression>;
    return with_autocommit(pool_, "find suppression", [&](Tx& tx) -> Result<Found> {
      const pqxx::result rows = tx.run(kFindSuppression, agent_id, id);
      if (rows.empty()) return Found();
      return Found(read_suppression(rows[0]));
    });
  }

  Result<bool> delete_suppression(const std::string& agent_id, const std::string& id) override {
    return with_autocommit(pool_, "delete suppression", [&](Tx& tx) -> Result<bool> {
      return tx.run(kDeleteSuppression, agent_id, id).affected_rows() > 0;
    });
  }

  Result<int> remove_suppressions(const std::string& agent_id, Channel channel,
                                  const std::string& address,
                                  std::optional<SuppressionReason> reason) override {
    const std::string r = reason ? std::string(to_string(*reason)) : std::string();
    return with_autocommit(pool_, "remove suppressions", [&](Tx& tx) -> Result<int> {
      return static_cast<int>(tx.run(kRemoveSuppressions, agent_id, std::string(to_string(channel)),
                                     suppression_key(channel, address), r)
                                  .affected_rows());
    });
  }

  Result<Page<Suppression>> list_suppressions(const SuppressionQuery& q) override {
    const std::string channel = q.channel ? std::string(to_string(*q.channel)) : "";
    const std::string reason = q.reason ? std::string(to_string(*q.reason)) : "";
    return with_autocommit(pool_, "list suppressions", [&](Tx& tx) -> Result<Page<Suppression>> {
      Page<Suppression> page;
      for (const pqxx::row& r :
           tx.run(kListSuppressions, q.agent_id, q.cursor, channel, reason, q.address, q.limit + 1))
        page.items.push_back(read_suppression(r));
      if (static_cast<int>(page.items.size()) > q.limit) {
        page.items.pop_back();
        page.next_cursor = page.items.back().id;
      }
      return page;
    });
  }

  Result<bool> is_suppressed(const std::string& agent_id, Channel channel,
                             const std::string& address) override {
    return with_autocommit(pool_, "is suppressed", [&](Tx& tx) -> Result<bool> {
      return !tx.run(kIsSuppressed, agent_id, std::string(to_string(channel)),
                     suppression_key(channel, address))
                  .empty();
    });
  }

  Result<std::vector<std::string>> suppressed_among(
      const std::string& agent_id, Channel channel,
      std::span<const std::string> addresses) override {
    std::vector<std::string> out;
    if (addresses.empty()) return out;
    std::vector<std::string> key_of;
    key_of.reserve(addresses.size());
    for (const auto& a : addresses) key_of.push_back(suppression_key(channel, a));
    auto hit =
        with_autocommit(pool_, "suppressed among", [&](Tx& tx) -> Result<std::set<std::string>> {
          std::set<std::string> found;
          for (const pqxx::row& r : tx.run(kSuppressedAmong, agent_id,
                                           std::string(to_string(channel)), text_array(key_of)))
            found.insert(text(r[0]));
          return found;
        });
    if (!hit) return fail(hit.error());
    for (std::size_t i = 0; i < addresses.size(); ++i)
      if (hit->contains(key_of[i])) out.push_back(addresses[i]);
    return out;
  }

 private:
  std::shared_ptr<Database> db_;
  Pool& pool_;
};

}  // namespace

std::unique_ptr<ContactStore> make_contact_store(std::shared_ptr<Database> db) {
  return std::make_unique<PgContactStore>(std::move(db));
}

}  // namespace herald::store::postgres
