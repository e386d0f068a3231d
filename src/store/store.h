// The store interface: everything Herald persists, in domain terms. Implementations
// (SQLite, PostgreSQL) live in subfolders; no SQL or dialect leaks out of store/.
// Every tenant-owned row carries agent_id and every send-path query is scoped by it.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/error.h"
#include "core/message.h"
#include "core/types.h"
#include "store/campaigns.h"
#include "store/contacts.h"
#include "store/templates.h"
#include "store/tracking.h"

namespace herald::store {

// An agent's own row (no branding or integrations).
struct AgentRow {
  std::string id;
  std::string name;
  std::string email;
  bool fallback_to_platform = true;
  TimePoint created_at;
};

// A secret field as stored: sealed (AEAD, bound to the agent and the field), with its hint.
struct SealedField {
  std::string sealed;
  std::string hint;
  bool operator==(const SealedField&) const = default;
};

// A connected integration as stored, in one shape for every provider: the provider's id, the
// sender (From address or number), its plain fields, and its secret fields sealed.
struct IntegrationRow {
  Channel channel = Channel::email;
  ProviderId provider;
  std::string sender;
  Params params;
  FieldMap<SealedField> secrets;
  bool active = true;
  IntegrationStatus status = IntegrationStatus::ok;
  std::string status_reason;
  double rate_limit = 0;  // requests per second to this account; 0: the provider's default
  TimePoint connected_at;
  TimePoint updated_at;
};

// An agent with everything route resolution needs, still sealed.
struct AgentRecord {
  AgentRow agent;
  Branding branding;
  std::optional<IntegrationRow> email;
  std::optional<IntegrationRow> sms;
};

// A listing created by the platform for an agent's seller.
struct Listing {
  std::string id;
  std::string agent_id;
  std::string address;
  double price = 0;
  std::string seller_name;
  std::string seller_email;
  std::string seller_phone;
  TimePoint created_at;
};

// A page of results with an opaque cursor for the next page (empty when done).
template <class T>
struct Page {
  std::vector<T> items;
  std::string next_cursor;
};

// Filters for an agent's message log, newest first.
struct MessageQuery {
  std::string agent_id;
  std::optional<Channel> channel;
  std::optional<MessageStatus> status;
  std::string cursor;  // return messages older than this id
  int limit = 50;
};

// What a worker asks for when it claims due messages.
struct ClaimRequest {
  TimePoint now;
  TimePoint lease_until;  // a claim not finished by then may be taken again
  std::string worker;
  int limit = 32;
  std::optional<MessageKind> kind;  // lane; nullopt = any
};

// What one scheduler sweep (Store::sweep) did.
struct SweepReport {
  bool ran = false;  // false: another process sharing the store was sweeping
  int started = 0;   // scheduled campaigns that started
  int requeued = 0;  // messages whose claim or chunk lease had expired, back in the queue
};

// What a worker learned about one message; written together with its history entries.
struct Outcome {
  std::string message_id;
  std::string agent_id;
  MessageStatus status = MessageStatus::sent;
  int attempts = 0;
  TimePoint next_attempt_at;  // for retrying
  std::string last_error;
  std::string provider_message_id;
  // Whether its delivery events may have only the provider's id to find it by (false when
  // the provider's events always name Herald's message; the id is then not indexed).
  bool provider_id_lookup = true;
  std::optional<RouteSummary> route;
  // Rendered content to keep with the message (left unchanged when `rendered` is false).
  // Campaign email keeps its subject only (`keep_body` false): a million copies of one
  // template's body would be most of the database, and the campaign keeps the template.
  bool rendered = false;
  bool keep_body = true;
  std::string subject;
  std::string text;
  std::string html;
  std::vector<Attempt> attempts_made;  // calls made in this pass (1, or 2 with fallback)
  std::vector<StatusEvent> events;     // status changes in this pass
  // An address to suppress with this outcome, in the same transaction (the provider said
  // the recipient opted out).
  std::optional<Suppression> suppression;
  // A message taken straight from a campaign's audience (CampaignStore::take) is not in the
  // queue yet: its outcome inserts it, whole, with this content and batch.
  const Message* fresh = nullptr;
};

// A message with its full history, for the log's detail view.
struct MessageDetail {
  Message message;
  std::vector<Attempt> attempts;
  std::vector<StatusEvent> history;
};

// A login: the agent and its Argon2id password hash (empty: no password set).
struct LoginRecord {
  AgentRow agent;
  std::string password_hash;
};

// A dashboard session. The token itself is never stored, only its hash.
struct Session {
  std::string token_hash;
  std::string agent_id;  // empty for the operator
  std::string role;      // "agent" | "operator"
  std::string csrf_token;
  TimePoint created_at;
  TimePoint expires_at;
};

// An agent's API token (stored as a hash; the hint is its last characters).
struct ApiToken {
  std::string id;
  std::string agent_id;
  std::string name;
  std::string token_hash;
  std::string hint;
  TimePoint created_at;
  std::optional<TimePoint> last_used_at;
};

// Messages counted by agent, channel and payer (for the operator's usage report).
struct UsageRow {
  std::string agent_id;
  std::string agent_name;
  Channel channel = Channel::email;
  Via payer = Via::platform;
  std::int64_t count = 0;  // handed to a provider
  // Of those, what delivery events say became of them (the figures a sender's reputation
  // rests on).
  std::int64_t delivered = 0;
  std::int64_t bounced = 0;
  std::int64_t complained = 0;
};

class Store {
 public:
  virtual ~Store() = default;

  // Agents. create_agent fails with Errc::conflict when the email is taken.
  virtual Result<void> create_agent(const AgentRow& agent, const std::string& password_hash) = 0;
  Result<void> create_agent(const AgentRow& agent) { return create_agent(agent, ""); }
  virtual Result<std::optional<AgentRecord>> find_agent(const std::string& agent_id) = 0;
  virtual Result<Page<AgentRow>> list_agents(const std::string& cursor, int limit) = 0;
  virtual Result<void> set_fallback_to_platform(const std::string& agent_id, bool on) = 0;
  virtual Result<void> put_branding(const std::string& agent_id, const Branding& branding) = 0;

  // Logins, sessions and API tokens.
  virtual Result<void> set_password_hash(const std::string& agent_id, const std::string& hash) = 0;
  virtual Result<std::optional<LoginRecord>> find_login(const std::string& email) = 0;
  virtual Result<void> create_session(const Session& session) = 0;
  // A session that exists, is not revoked and has not expired at `now`.
  virtual Result<std::optional<Session>> find_session(const std::string& token_hash,
                                                      TimePoint now) = 0;
  virtual Result<void> revoke_session(const std::string& token_hash, TimePoint now) = 0;
  virtual Result<void> create_api_token(const ApiToken& token) = 0;
  virtual Result<std::vector<ApiToken>> list_api_tokens(const std::string& agent_id) = 0;
  // Revokes a live token of this agent; false if there is none with that id.
  virtual Result<bool> revoke_api_token(const std::string& agent_id, const std::string& id,
                                        TimePoint now) = 0;
  virtual Result<std::optional<ApiToken>> find_api_token(const std::string& token_hash) = 0;
  virtual Result<void> touch_api_token(const std::string& id, TimePoint now) = 0;

  // Messages that reached a provider (sent, delivered, bounced), created in [from, to),
  // grouped by agent, channel and who paid.
  virtual Result<std::vector<UsageRow>> usage(TimePoint from, TimePoint to) = 0;

  // Integrations, one per (agent, channel). The bool results say whether a row existed.
  virtual Result<void> put_integration(const std::string& agent_id, const IntegrationRow& row) = 0;
  virtual Result<bool> delete_integration(const std::string& agent_id, Channel channel) = 0;
  virtual Result<bool> set_integration_active(const std::string& agent_id, Channel channel,
                                              bool active, TimePoint now) = 0;
  virtual Result<void> set_integration_status(const std::string& agent_id, Channel channel,
                                              IntegrationStatus status, const std::string& reason,
                                              TimePoint now) = 0;
  // Every sealed secret, for key rotation: (agent id, channel, field, sealed value).
  struct SealedSecret {
    std::string agent_id;
    Channel channel;
    std::string field;
    std::string sealed;
  };
  virtual Result<std::vector<SealedSecret>> all_sealed_secrets() = 0;
  virtual Result<void> replace_sealed_secrets(std::span<const SealedSecret> secrets) = 0;

  // Listings: the listing and the messages it causes are written in one transaction.
  virtual Result<void> create_listing(const Listing& listing,
                                      std::span<const Message> messages) = 0;
  virtual Result<std::optional<Listing>> find_listing(const std::string& agent_id,
                                                      const std::string& listing_id) = 0;

  // Messages.
  virtual Result<void> enqueue(std::span<const Message> messages) = 0;
  // A message with its history; scoped to agent_id unless agent_id is empty (platform).
  virtual Result<std::optional<MessageDetail>> find_message(const std::string& message_id,
                                                            const std::string& agent_id) = 0;
  virtual Result<Page<Message>> list_messages(const MessageQuery& query) = 0;

  // The queue. claim_due marks up to `limit` due messages as sending (oldest first) and
  // returns them; record_outcomes writes results in one transaction.
  virtual Result<std::vector<Message>> claim_due(const ClaimRequest& request) = 0;
  virtual Result<void> record_outcomes(std::span<const Outcome> outcomes) = 0;
  // Records that each list of claimed messages goes to the provider together, as a batch named
  // by its first id; all in one transaction. A claim always takes a batch's queued members
  // together, so a retry re-forms the same batch.
  virtual Result<void> assign_batches(std::span<const std::vector<std::string>> batches) = 0;
  // Returns messages whose claim lease expired to the queue; returns how many.
  virtual Result<int> requeue_expired(TimePoint now) = 0;
  // At start-up, before any worker runs: returns to the queue what an earlier run left
  // claimed (messages and campaign chunks); returns how many. A store one process owns
  // (SQLite) takes back every claim, since whoever held them is gone; a store several
  // processes share takes back only expired leases (the live processes hold the rest).
  virtual Result<int> recover_interrupted(TimePoint now) = 0;
  // When the earliest queued/retrying message becomes due (nullopt if none).
  virtual Result<std::optional<TimePoint>> next_due_at() = 0;
  // The scheduler's duties: starts scheduled campaigns whose time came, completes finished
  // ones and, with `requeue`, returns messages whose claim or chunk lease expired to the queue.
  // Where several processes share the store, one of them sweeps at a time; the others skip
  // (SweepReport::ran false) rather than wait.
  virtual Result<SweepReport> sweep(TimePoint now, bool requeue) = 0;
  // Sub-stores (issue 4), sharing this store's database.
  virtual ContactStore& contacts() = 0;
  virtual TemplateStore& templates() = 0;
  virtual CampaignStore& campaigns() = 0;
  virtual TrackingStore& tracking() = 0;

  // Counts of messages by status (all agents), for health and tests.
  virtual Result<std::vector<std::pair<MessageStatus, std::int64_t>>> count_by_status() = 0;
};

// What opening a store does about the database's schema version.
enum class Schema {
  migrate,  // applies pending migrations (`herald migrate`, tests)
  // A new, empty database is set up; one whose schema is behind this binary's migrations (or
  // ahead of them: an older binary) is refused, so that upgrading the schema stays a deliberate
  // step (`herald migrate`) and never happens as a side effect of starting a process.
  require_current,
};

// Opens the store named by `url`: postgres://… or postgresql://… (PostgreSQL; see
// store/postgres/url.h), "sqlite:<path>" or a directory (SQLite file inside).
Result<std::unique_ptr<Store>> open_store(const std::string& url, Schema schema = Schema::migrate);

// Whether several Herald processes may share the database `url` names (PostgreSQL: yes; an
// SQLite file belongs to one process, which takes back every claim when it starts).
bool is_shared(const std::string& url);

// Applies pending migrations and returns the schema version reached; refuses a schema ahead of
// this binary's migrations (a newer herald migrated it).
Result<int> migrate(const std::string& url);

}  // namespace herald::store
