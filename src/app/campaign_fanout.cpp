// Campaign fan-out: streams each running campaign's audience into the durable queue, one
// batch per step. The batch and the campaign's cursor commit together, so a crash resumes
// exactly where it stopped; a bounded backlog per campaign keeps the queue (and memory) flat
// and interleaves campaigns so one agent's big send never starves another's.
#include <nlohmann/json.hpp>

#include "app/campaigns.h"
#include "app/listings.h"
#include "core/id.h"

namespace herald::app {

namespace {

// Unsent messages a campaign may have queued before fan-out waits for the workers.
constexpr std::int64_t kBacklog = 20000;

store::AudienceFilter filter_for(const store::Campaign& c) {
  return store::AudienceFilter{c.roles, c.tags, c.channel};
}

std::string first_name(const std::string& name) {
  auto space = name.find(' ');
  return space == std::string::npos ? name : name.substr(0, space);
}

}  // namespace

Result<std::int64_t> count_campaign_audience(App& app, const store::Campaign& c) {
  return app.store().contacts().count_audience(c.agent_id, filter_for(c));
}

Result<int> fan_out_once(App& app, int batch) {
  auto& campaigns = app.store().campaigns();
  TimePoint now = app.clock().now();
  auto due = campaigns.due_for_fanout(now, 16);
  if (!due) return std::unexpected(due.error());
  int queued = 0;
  for (const store::Campaign& c : *due) {
    auto backlog = campaigns.backlog(c.agent_id, c.id);
    if (!backlog) return std::unexpected(backlog.error());
    if (*backlog >= kBacklog) continue;
    auto contacts =
        app.store().contacts().stream_audience(c.agent_id, filter_for(c), c.cursor, batch);
    if (!contacts) return std::unexpected(contacts.error());
    // A campaign about a listing gives every message its listing.* variables.
    nlohmann::json listing;
    if (!c.listing_id.empty()) {
      auto found = app.store().find_listing(c.agent_id, c.listing_id);
      if (!found) return std::unexpected(found.error());
      if (*found) listing = listing_vars(**found);
    }
    std::vector<Message> messages;
    messages.reserve(contacts->size());
    for (const store::Contact& contact : *contacts) {
      Message m;
      m.id = new_id();
      m.agent_id = c.agent_id;
      m.channel = c.channel;
      m.kind = MessageKind::campaign;
      m.template_key = c.template_key;
      nlohmann::json vars = {{"contact",
                              {{"id", contact.id},
                               {"name", contact.name},
                               {"firstName", first_name(contact.name)},
                               {"email", contact.email},
                               {"phone", contact.phone},
                               {"role", contact.role},
                               {"timeZone", contact.time_zone}}}};
      if (!listing.is_null()) vars["listing"] = listing;
      m.vars_json = vars.dump();
      m.listing_id = c.listing_id;
      m.to_address = contact.address(c.channel);
      m.to_name = contact.name;
      m.campaign_id = c.id;
      m.status = MessageStatus::queued;
      m.next_attempt_at = now;
      m.created_at = m.updated_at = now;
      messages.push_back(std::move(m));
    }
    bool done = static_cast<int>(contacts->size()) < batch;
    std::string cursor = contacts->empty() ? c.cursor : contacts->back().id;
    auto moved = campaigns.fan_out(c, c.cursor, messages, cursor, done, now);
    if (!moved) return std::unexpected(moved.error());
    if (*moved) queued += static_cast<int>(messages.size());
  }
  if (auto r = campaigns.complete_finished(now); !r) return std::unexpected(r.error());
  if (queued > 0) app.wake_workers();
  return queued;
}

}  // namespace herald::app
