// Campaigns: create, launch (scheduled or now), pause, resume, cancel, and fan-out: the send
// workers take the audience in chunks (see campaign_fanout.cpp).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "app/app.h"
#include "store/campaigns.h"

namespace herald::app {

struct NewCampaign {
  std::string name;
  std::string channel;
  std::string template_key;
  std::vector<std::string> roles;
  std::vector<std::string> tags;
  std::optional<TimePoint> send_at;
  std::string listing_id;  // optional: one of the agent's listings, for listing.* variables
};

Result<store::Campaign> create_campaign(App& app, const std::string& agent_id,
                                        const NewCampaign& in);
Result<store::Campaign> get_campaign(App& app, const std::string& agent_id, const std::string& id);

// draft → running (or scheduled when sendAt is in the future). An email campaign needs the
// agent's postal address (CAN-SPAM); the error names branding's postalAddress.
Result<store::Campaign> launch_campaign(App& app, const std::string& agent_id,
                                        const std::string& id);
Result<store::Campaign> pause_campaign(App& app, const std::string& agent_id,
                                       const std::string& id);
Result<store::Campaign> resume_campaign(App& app, const std::string& agent_id,
                                        const std::string& id);
// Stops fan-out and fails every unsent message with "campaign cancelled".
Result<store::Campaign> cancel_campaign(App& app, const std::string& agent_id,
                                        const std::string& id);

// How many contacts the campaign's audience holds now (with the channel's address and consent).
Result<std::int64_t> count_campaign_audience(App& app, const store::Campaign& c);

// A chunk of a campaign's audience taken for one pass: `count` messages from `first` in the
// pass's list, kept by the chunk `id` until their outcomes are recorded.
struct TakenChunk {
  std::string id;
  std::size_t first = 0;
  std::size_t count = 0;
};

// Takes up to `limit` recipients from running campaigns (an equal share each, over those whose
// backlog is not full) and appends them to `out` as messages to send now, leased to `worker`
// until `lease_until`; each campaign's part is one chunk in `chunks`.
Result<void> take_campaign_messages(App& app, int limit, const std::string& worker,
                                    TimePoint lease_until, std::vector<Message>& out,
                                    std::vector<TakenChunk>& chunks);

// The scheduler's step: starts scheduled campaigns whose time has come, completes those with
// nothing left, and wakes the workers while any has audience left to take. Returns how many do.
Result<int> advance_campaigns(App& app);

}  // namespace herald::app
