// Campaigns: an agent's message to an audience. Send workers take the audience in chunks straight
// from the campaign's cursor; a chunk is written down (with the cursor's move) before any of it
// is sent and each message is inserted once, with its outcome, so a crash loses nothing and
// resumes where it stopped.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/error.h"
#include "core/message.h"
#include "core/types.h"
#include "store/contacts.h"

namespace herald::store {

enum class CampaignStatus { draft, scheduled, running, paused, completed, cancelled };
std::string_view to_string(CampaignStatus s);
std::optional<CampaignStatus> parse_campaign_status(std::string_view s);

struct Campaign {
  std::string id;
  std::string agent_id;
  std::string name;
  Channel channel = Channel::email;
  std::string template_key;
  std::string listing_id;          // the listing its messages present (listing.*), if any
  std::vector<std::string> roles;  // audience: any of these roles (empty = all)
  std::vector<std::string> tags;   // audience: any of these tags (empty = all)
  CampaignStatus status = CampaignStatus::draft;
  std::optional<TimePoint> send_at;
  std::string cursor;  // last contact id fanned out
  bool fanout_done = false;
  std::int64_t total = 0;  // audience size at launch
  TimePoint created_at;
  TimePoint updated_at;
};

// The contacts a campaign is sent to: its roles and tags, with the channel's address and consent.
inline AudienceFilter audience_of(const Campaign& c) {
  return AudienceFilter{c.roles, c.tags, c.channel};
}

// Who holds a chunk of a campaign's audience taken for sending, and until when: a chunk whose
// lease expired is queued again (see CampaignStore::take).
struct ChunkLease {
  std::string chunk_id;
  std::string worker;
  TimePoint until;
};

// Live counts of a campaign's messages by status.
struct CampaignCounts {
  std::int64_t queued = 0;  // taken or queued, not yet sent, failed or suppressed
  std::int64_t sent = 0;    // sent + delivered
  std::int64_t failed = 0;  // failed + bounced
  std::int64_t suppressed = 0;
};

class CampaignStore {
 public:
  virtual ~CampaignStore() = default;
  virtual Result<void> create(const Campaign& c) = 0;
  virtual Result<std::optional<Campaign>> find(const std::string& agent_id,
                                               const std::string& id) = 0;
  virtual Result<std::vector<Campaign>> list(const std::string& agent_id) = 0;
  // Sets status (and total/send_at when given) if the current status is one of `from`.
  virtual Result<bool> transition(const std::string& agent_id, const std::string& id,
                                  std::span<const CampaignStatus> from, CampaignStatus to,
                                  TimePoint now,
                                  std::optional<std::int64_t> total = std::nullopt) = 0;
  // Campaigns to fan out now: running with fan-out unfinished, least recently served first.
  virtual Result<std::vector<Campaign>> due_for_fanout(TimePoint now, int limit) = 0;
  // Starts scheduled campaigns whose send time has come (the scheduler's sweep); returns how
  // many started.
  virtual Result<int> start_scheduled(TimePoint now) = 0;
  // Takes `messages` (the audience after `expected_cursor` up to `cursor`) for the worker
  // named by `lease` to send now, and moves the cursor (done = audience exhausted), atomically,
  // only if the cursor is still `expected_cursor` (a racing taker takes nothing twice). The
  // messages are not queued: the chunk keeps them until each one's outcome inserts it (see
  // Outcome::fresh), so a sent message is written once. An empty take only records `done`.
  virtual Result<bool> take(const Campaign& c, const std::string& expected_cursor,
                            std::span<const Message> messages, const std::string& cursor, bool done,
                            const ChunkLease& lease, TimePoint now) = 0;
  // Writes a chunk's messages down again (with the batches they were just given), before any
  // of them is sent.
  virtual Result<void> update_chunk(const std::string& chunk_id,
                                    std::span<const Message> messages) = 0;
  // Ends chunks whose outcomes are all recorded.
  virtual Result<void> finish_chunks(std::span<const std::string> chunk_ids) = 0;
  // Queues the messages of chunks whose lease expired (their worker crashed or stalled), with
  // the batches they were given, except those whose outcome was recorded; ends those chunks.
  // Returns how many messages were queued.
  virtual Result<int> requeue_expired_chunks(TimePoint now) = 0;
  virtual Result<CampaignCounts> counts(const std::string& agent_id, const std::string& id) = 0;
  // How many of the campaign's messages are not yet sent (queued, sending, retrying).
  virtual Result<std::int64_t> backlog(const std::string& agent_id, const std::string& id) = 0;
  // Marks a cancelled campaign's unsent messages failed ("campaign cancelled"); returns how many.
  virtual Result<std::int64_t> cancel_unsent(const std::string& agent_id, const std::string& id,
                                             TimePoint now) = 0;
  // Completes running campaigns whose fan-out is done and that have nothing left in flight.
  virtual Result<int> complete_finished(TimePoint now) = 0;
};

}  // namespace herald::store
