// The send queue as delivery sees it: what a pass claims (queued messages that are due, and
// recipients taken straight from running campaigns' audiences), what it writes down before a
// send and records after, and the scheduler's sweeps. StoreQueue keeps it in a store::Store
// (SQLite today, PostgreSQL next); a test may wrap one to make a step fail.
#pragma once

#include <cstddef>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <tuple>
#include <vector>

#include "core/message.h"
#include "store/store.h"

namespace herald::delivery {

// A chunk of a campaign's audience taken for one pass: `count` messages from `first` in the
// pass's list, kept by the chunk `id` until their outcomes are recorded.
struct TakenChunk {
  std::string id;
  std::size_t first = 0;
  std::size_t count = 0;
};

// Addresses on their agents' suppression lists: (agent, channel, address).
using Suppressed = std::set<std::tuple<std::string, Channel, std::string>>;

class Queue {
 public:
  virtual ~Queue() = default;

  // Due messages (of one lane, or any), leased to the claimer until request.lease_until.
  virtual Result<std::vector<Message>> claim_due(const store::ClaimRequest& request) = 0;
  // Takes up to `limit` recipients from running campaigns (an equal share each, over those
  // whose backlog is not full) and appends them to `out` as messages to send now, leased to
  // `worker` until `lease_until`; each campaign's part is one chunk in `chunks`.
  virtual Result<void> take_campaign_recipients(TimePoint now, int limit, const std::string& worker,
                                                TimePoint lease_until, std::vector<Message>& out,
                                                std::vector<TakenChunk>& chunks) = 0;
  // The suppressed among `messages` that the suppression list holds back: every campaign
  // message (unsubscribed, bounced, complained, STOP, added by hand) and every text message (a
  // STOP holds for every text from that sender: carriers refuse them anyway, Twilio with error
  // 21610). A transactional email (a seller's welcome) still goes to an address that only left
  // the campaigns.
  virtual Result<Suppressed> suppressed(std::span<const Message> messages) = 0;

  // Before a send to a provider that dedupes by key: the batches queued messages were given,
  // in one transaction (each inner list one batch, named by its first id)…
  virtual Result<void> assign_batches(std::span<const std::vector<std::string>> batches) = 0;
  // …and a chunk's messages written down again with theirs.
  virtual Result<void> update_chunk(const std::string& chunk_id,
                                    std::span<const Message> messages) = 0;
  // After: outcomes with their history entries, in one transaction; then the pass's chunks end.
  virtual Result<void> record_outcomes(std::span<const store::Outcome> outcomes) = 0;
  virtual Result<void> finish_chunks(std::span<const std::string> chunk_ids) = 0;
  // An integration's health as its provider's answers show it.
  virtual Result<void> set_integration_status(const std::string& agent_id, Channel channel,
                                              IntegrationStatus status, const std::string& reason,
                                              TimePoint at) = 0;

  // The scheduler's sweeps (store::Store::sweep: one process at a time where several share the
  // store): claims and chunks whose lease expired go back to the queue (returns how many
  // messages); scheduled campaigns whose time has come start and finished ones complete
  // (returns how many running campaigns still have audience to take).
  virtual Result<int> requeue_expired(TimePoint now) = 0;
  virtual Result<int> advance_campaigns(TimePoint now) = 0;
  // When the next queued message is due, if any is.
  virtual Result<std::optional<TimePoint>> next_due_at() = 0;
};

// The queue in a store.
class StoreQueue final : public Queue {
 public:
  explicit StoreQueue(store::Store& store) : store_(store) {}

  Result<std::vector<Message>> claim_due(const store::ClaimRequest& request) override {
    return store_.claim_due(request);
  }
  Result<void> take_campaign_recipients(TimePoint now, int limit, const std::string& worker,
                                        TimePoint lease_until, std::vector<Message>& out,
                                        std::vector<TakenChunk>& chunks) override;
  Result<Suppressed> suppressed(std::span<const Message> messages) override;
  Result<void> assign_batches(std::span<const std::vector<std::string>> batches) override {
    return store_.assign_batches(batches);
  }
  Result<void> update_chunk(const std::string& chunk_id,
                            std::span<const Message> messages) override {
    return store_.campaigns().update_chunk(chunk_id, messages);
  }
  Result<void> record_outcomes(std::span<const store::Outcome> outcomes) override {
    return store_.record_outcomes(outcomes);
  }
  Result<void> finish_chunks(std::span<const std::string> chunk_ids) override {
    return store_.campaigns().finish_chunks(chunk_ids);
  }
  Result<void> set_integration_status(const std::string& agent_id, Channel channel,
                                      IntegrationStatus status, const std::string& reason,
                                      TimePoint at) override {
    return store_.set_integration_status(agent_id, channel, status, reason, at);
  }
  Result<int> requeue_expired(TimePoint now) override;
  Result<int> advance_campaigns(TimePoint now) override;
  Result<std::optional<TimePoint>> next_due_at() override { return store_.next_due_at(); }

 private:
  store::Store& store_;
};

}  // namespace herald::delivery
