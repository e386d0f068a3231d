// The PostgreSQL store: several Herald processes may share one database, so every claim is a
// lease taken with FOR UPDATE SKIP LOCKED, and nothing is taken back from a live process. Its
// methods live in pg_store.cpp (agents, logins, integrations, listings) and queue.cpp (messages
// and the queue).
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "store/postgres/database.h"
#include "store/store.h"

namespace herald::store::postgres {

// The advisory lock a scheduler sweep holds for its transaction (an arbitrary constant, beside
// the migrations' own): one process sweeps at a time.
constexpr std::int64_t kSweepLock = 0x48657261'6c645377;  // "HeraldSw"

// Opens the store named by a postgres:// URL (see url.h); schema: see store::Schema.
Result<std::unique_ptr<Store>> open(const std::string& url, Schema schema);
// Applies pending migrations to the database named by a postgres:// URL; returns the version.
Result<int> migrate(const std::string& url);

// Store on PostgreSQL; its sub-stores share its pool.
class PgStore final : public Store {
 public:
  explicit PgStore(std::shared_ptr<Database> db);

  ContactStore& contacts() override { return *contacts_; }
  TemplateStore& templates() override { return *templates_; }
  CampaignStore& campaigns() override { return *campaigns_; }
  TrackingStore& tracking() override { return *tracking_; }

  // ---- agents, logins, sessions, API tokens (pg_store.cpp) ----
  using Store::create_agent;
  Result<void> create_agent(const AgentRow& agent, const std::string& password_hash) override;
  Result<std::optional<AgentRecord>> find_agent(const std::string& agent_id) override;
  Result<Page<AgentRow>> list_agents(const std::string& cursor, int limit) override;
  Result<void> set_fallback_to_platform(const std::string& agent_id, bool on) override;
  Result<void> put_branding(const std::string& agent_id, const Branding& branding) override;
  Result<void> set_password_hash(const std::string& agent_id, const std::string& hash) override;
  Result<std::optional<LoginRecord>> find_login(const std::string& email) override;
  Result<void> create_session(const Session& session) override;
  Result<std::optional<Session>> find_session(const std::string& token_hash,
                                              TimePoint now) override;
  Result<void> revoke_session(const std::string& token_hash, TimePoint now) override;
  Result<void> create_api_token(const ApiToken& token) override;
  Result<std::vector<ApiToken>> list_api_tokens(const std::string& agent_id) override;
  Result<bool> revoke_api_token(const std::string& agent_id, const std::string& id,
                                TimePoint now) override;
  Result<std::optional<ApiToken>> find_api_token(const std::string& token_hash) override;
  Result<void> touch_api_token(const std::string& id, TimePoint now) override;
  Result<std::vector<UsageRow>> usage(TimePoint from, TimePoint to) override;

  // ---- integrations and listings (pg_store.cpp) ----
  Result<void> put_integration(const std::string& agent_id, const IntegrationRow& row) override;
  Result<bool> delete_integration(const std::string& agent_id, Channel channel) override;
  Result<bool> set_integration_active(const std::string& agent_id, Channel channel, bool active,
                                      TimePoint now) override;
  Result<void> set_integration_status(const std::string& agent_id, Channel channel,
                                      IntegrationStatus status, const std::string& reason,
                                      TimePoint now) override;
  Result<std::vector<SealedSecret>> all_sealed_secrets() override;
  Result<void> replace_sealed_secrets(std::span<const SealedSecret> secrets) override;
  Result<void> create_listing(const Listing& listing, std::span<const Message> messages) override;
  Result<std::optional<Listing>> find_listing(const std::string& agent_id,
                                              const std::string& listing_id) override;

  // ---- messages and the queue (queue.cpp) ----
  Result<void> enqueue(std::span<const Message> messages) override;
  Result<std::optional<MessageDetail>> find_message(const std::string& message_id,
                                                    const std::string& agent_id) override;
  Result<Page<Message>> list_messages(const MessageQuery& query) override;
  Result<std::vector<Message>> claim_due(const ClaimRequest& request) override;
  Result<void> record_outcomes(std::span<const Outcome> outcomes) override;
  Result<void> assign_batches(std::span<const std::vector<std::string>> batches) override;
  Result<int> requeue_expired(TimePoint now) override;
  Result<int> recover_interrupted(TimePoint now) override;
  Result<std::optional<TimePoint>> next_due_at() override;
  Result<SweepReport> sweep(TimePoint now, bool requeue) override;
  Result<std::vector<std::pair<MessageStatus, std::int64_t>>> count_by_status() override;

 private:
  // The agents a campaign-lane claim shares the pass between, starting after the last agent
  // served (so every agent gets its turn however many there are).
  Result<std::vector<std::string>> agents_to_serve();

  // Agents a campaign claim takes shares for, at most; the next claim starts after the last.
  static constexpr int kAgentsPerClaim = 64;

  std::shared_ptr<Database> db_;
  Pool& pool_;
  std::mutex claim_mu_;
  std::string claim_after_agent_;  // guarded by claim_mu_
  std::unique_ptr<ContactStore> contacts_;
  std::unique_ptr<TemplateStore> templates_;
  std::unique_ptr<CampaignStore> campaigns_;
  std::unique_ptr<TrackingStore> tracking_;
};

}  // namespace herald::store::postgres
