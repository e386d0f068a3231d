// Contacts (an agent's buyers, sellers and leads) and suppressions (who must not be sent to).
// Every row carries agent_id and every function is scoped by it. The campaign sender's hot
// path uses stream_audience / count_audience and is_suppressed / suppressed_among.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/error.h"
#include "core/types.h"

namespace herald::store {

template <class T>
struct Page;  // store.h

// One of an agent's contacts. Addresses are normalized before they are stored: email trimmed
// (case kept, compared case-insensitively), phone in E.164. Empty string = none.
struct Contact {
  std::string id;
  std::string agent_id;
  std::string name;
  std::string email;              // unique per agent, case-insensitively
  std::string phone;              // E.164, unique per agent
  std::string role = "lead";      // buyer | seller | lead
  std::vector<std::string> tags;  // lowercase, no duplicates
  std::string time_zone;          // IANA name, "" = the platform default
  bool consent_email = false;
  bool consent_sms = false;
  TimePoint created_at;
  TimePoint updated_at;

  // The contact's address on a channel ("" if it has none).
  const std::string& address(Channel c) const { return c == Channel::email ? email : phone; }
  bool consent(Channel c) const { return c == Channel::email ? consent_email : consent_sms; }
};

// Filters for an agent's contact list, newest first.
struct ContactQuery {
  std::string agent_id;
  std::optional<std::string> role;
  std::optional<std::string> tag;
  std::string prefix;  // case-insensitive prefix of the name or the email ("" = any)
  std::string cursor;  // return contacts older than this id
  int limit = 50;
};

// Who a campaign goes to: contacts with an address on `channel` and consent for it, having
// any of `roles` (empty = every role) and any of `tags` (empty = no tag filter).
struct AudienceFilter {
  std::vector<std::string> roles;
  std::vector<std::string> tags;
  Channel channel = Channel::email;
};

// Which fields of a ContactUpsert carry values (the rest keep what the contact has).
enum ContactField : unsigned {
  kFieldName = 1u << 0,
  kFieldEmail = 1u << 1,
  kFieldPhone = 1u << 2,
  kFieldRole = 1u << 3,
  kFieldTags = 1u << 4,
  kFieldTimeZone = 1u << 5,
  kFieldConsentEmail = 1u << 6,
  kFieldConsentSms = 1u << 7,
};

// One imported row: matched to an existing contact by email, else by phone; created when
// neither matches (with `contact.id`, and defaults for the fields not set).
struct ContactUpsert {
  Contact contact;
  unsigned fields = 0;  // ContactField bits
};

// What happened to one upserted row.
struct UpsertResult {
  enum class Kind { inserted, updated, conflict };
  Kind kind = Kind::inserted;
  std::string contact_id;
  std::string reason;  // for conflict
};

enum class SuppressionReason { unsubscribed, bounced, complained, stop, manual };
std::string_view to_string(SuppressionReason r);
std::optional<SuppressionReason> parse_suppression_reason(std::string_view s);

// "Do not send to this address on this channel" for one agent. An address may carry several
// reasons (one row each); any row suppresses it.
struct Suppression {
  std::string id;
  std::string agent_id;
  Channel channel = Channel::email;
  std::string address;  // email lowercased, or E.164
  SuppressionReason reason = SuppressionReason::manual;
  std::string source;  // where it came from: "api", "unsubscribe link", "twilio inbound", …
  std::string detail;
  TimePoint created_at;
};

// Filters for an agent's suppression list, newest first.
struct SuppressionQuery {
  std::string agent_id;
  std::optional<Channel> channel;
  std::optional<SuppressionReason> reason;
  std::string address;  // exact (normalized) address, "" = any
  std::string cursor;   // return suppressions older than this id
  int limit = 50;
};

// The key suppressions are matched on: emails compare case-insensitively (lowercased here),
// phones as given (callers pass E.164).
std::string suppression_key(Channel channel, std::string_view address);

class ContactStore {
 public:
  virtual ~ContactStore() = default;

  // Contacts. create/update fail with Errc::conflict naming "email" or "phone" when another
  // contact of the agent has that address.
  virtual Result<void> create_contact(const Contact& c) = 0;
  virtual Result<void> update_contact(const Contact& c) = 0;
  virtual Result<std::optional<Contact>> find_contact(const std::string& agent_id,
                                                      const std::string& id) = 0;
  // The agent's contact with this email (case-insensitively) or phone (E.164).
  virtual Result<std::optional<Contact>> find_contact_by_address(const std::string& agent_id,
                                                                 Channel channel,
                                                                 const std::string& address) = 0;
  virtual Result<bool> delete_contact(const std::string& agent_id, const std::string& id) = 0;
  virtual Result<Page<Contact>> list_contacts(const ContactQuery& q) = 0;

  // Upserts `rows` in one transaction (the CSV import's batch); one result per row. Rows may
  // match contacts created earlier in the same batch.
  virtual Result<std::vector<UpsertResult>> upsert_contacts(const std::string& agent_id,
                                                            std::span<const ContactUpsert> rows,
                                                            TimePoint now) = 0;

  // The audience, keyset-paginated by contact id: up to `limit` contacts with id greater than
  // `after_contact_id` ("" = from the start), in id order. Suppressed addresses are included
  // (the sender checks suppressions at send time and records them as suppressed).
  virtual Result<std::vector<Contact>> stream_audience(const std::string& agent_id,
                                                       const AudienceFilter& filter,
                                                       const std::string& after_contact_id,
                                                       int limit) = 0;
  virtual Result<std::int64_t> count_audience(const std::string& agent_id,
                                              const AudienceFilter& filter) = 0;

  // Suppressions. add returns false when the (address, reason) was already suppressed (the
  // existing row is kept). The address is normalized with suppression_key.
  virtual Result<bool> add_suppression(const Suppression& s) = 0;
  virtual Result<std::optional<Suppression>> find_suppression(const std::string& agent_id,
                                                              const std::string& id) = 0;
  virtual Result<bool> delete_suppression(const std::string& agent_id, const std::string& id) = 0;
  // Removes the address's suppressions (only those with `reason` when given); returns how many.
  virtual Result<int> remove_suppressions(const std::string& agent_id, Channel channel,
                                          const std::string& address,
                                          std::optional<SuppressionReason> reason) = 0;
  virtual Result<Page<Suppression>> list_suppressions(const SuppressionQuery& q) = 0;
  // Send-time checks. suppressed_among answers a whole batch with one query and returns the
  // suppressed addresses exactly as they were passed in.
  virtual Result<bool> is_suppressed(const std::string& agent_id, Channel channel,
                                     const std::string& address) = 0;
  virtual Result<std::vector<std::string>> suppressed_among(
      const std::string& agent_id, Channel channel, std::span<const std::string> addresses) = 0;
};

}  // namespace herald::store
