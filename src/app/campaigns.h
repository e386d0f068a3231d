// Campaigns: create, launch (scheduled or now), pause, resume, cancel. Fan-out (the send
// workers take the audience in chunks) lives with delivery: delivery/queue.h.
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

}  // namespace herald::app
