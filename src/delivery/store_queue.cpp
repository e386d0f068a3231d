// The queue in a store, with campaign fan-out: send workers take each running campaign's
// audience in chunks straight from its cursor (one transaction writes the chunk down and moves
// the cursor, so a crash resumes exactly where it stopped), campaigns sharing each pass;
// messages reach the queue only with their outcomes. A bounded backlog per campaign (deferred,
// rate-limited and retrying messages) keeps the queue, and memory, flat.
#include <algorithm>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>

#include "core/id.h"
#include "core/templates.h"
#include "delivery/queue.h"

namespace herald::delivery {

namespace {

// Unsent messages a campaign may have before taking more of its audience waits.
constexpr std::int64_t kBacklog = 20000;

std::string first_name(const std::string& name) {
  auto space = name.find(' ');
  return space == std::string::npos ? name : name.substr(0, space);
}

// The message a campaign sends one contact, with the contact's (and listing's) variables.
Message campaign_message(const store::Campaign& c, const store::Contact& contact,
                         const nlohmann::json& listing, TimePoint now) {
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
  m.status = MessageStatus::sending;
  m.next_attempt_at = now;
  m.created_at = m.updated_at = now;
  return m;
}

}  // namespace

Result<void> StoreQueue::take_campaign_recipients(TimePoint now, int limit,
                                                  const std::string& worker, TimePoint lease_until,
                                                  std::vector<Message>& out,
                                                  std::vector<TakenChunk>& chunks) {
  // One taker at a time in this process: takers would otherwise race for the same cursors and
  // the losers' work would be thrown away.
  static std::mutex mu;
  std::lock_guard lock(mu);
  auto& campaigns = store_.campaigns();
  // Least recently served first (a take touches the campaign), so campaigns take turns.
  auto due = campaigns.due_for_fanout(now, 16);
  if (!due) return std::unexpected(due.error());
  std::vector<const store::Campaign*> open;
  for (const store::Campaign& c : *due) {
    // Over its backlog (deferred, rate-limited or retrying messages), a campaign waits.
    auto backlog = campaigns.backlog(c.agent_id, c.id);
    if (!backlog) return std::unexpected(backlog.error());
    if (*backlog < kBacklog) open.push_back(&c);
  }
  if (open.empty() || limit <= 0) return {};
  // Each open campaign gets an equal share of the pass, so one agent's big campaign never
  // holds back another's.
  const int share = std::max(1, limit / static_cast<int>(open.size()));
  for (const store::Campaign* c : open) {
    auto contacts =
        store_.contacts().stream_audience(c->agent_id, store::audience_of(*c), c->cursor, share);
    if (!contacts) return std::unexpected(contacts.error());
    // A campaign about a listing gives every message its listing.* variables.
    nlohmann::json listing;
    if (!c->listing_id.empty()) {
      auto found = store_.find_listing(c->agent_id, c->listing_id);
      if (!found) return std::unexpected(found.error());
      if (*found) listing = listing_vars((*found)->id, (*found)->address, (*found)->price);
    }
    const std::size_t first = out.size();
    for (const store::Contact& contact : *contacts)
      out.push_back(campaign_message(*c, contact, listing, now));
    const std::size_t count = out.size() - first;
    bool done = static_cast<int>(count) < share;
    std::string cursor = contacts->empty() ? c->cursor : contacts->back().id;
    store::ChunkLease lease{new_id(), worker, lease_until};
    auto taken = campaigns.take(*c, c->cursor, std::span(out).subspan(first, count), cursor, done,
                                lease, now);
    if (!taken || !*taken) out.resize(first);  // nothing taken: another process moved the cursor
    if (!taken) return std::unexpected(taken.error());
    if (*taken && count > 0) chunks.push_back(TakenChunk{lease.chunk_id, first, count});
  }
  return {};
}

Result<Suppressed> StoreQueue::suppressed(std::span<const Message> messages) {
  std::map<std::pair<std::string, Channel>, std::vector<std::string>> checked;
  for (const Message& m : messages) {
    if (m.kind == MessageKind::campaign || m.channel == Channel::sms)
      checked[{m.agent_id, m.channel}].push_back(m.to_address);
  }
  Suppressed suppressed;
  // One query per agent and channel.
  for (const auto& [key, addresses] : checked) {
    auto hit = store_.contacts().suppressed_among(key.first, key.second, addresses);
    if (!hit) return std::unexpected(hit.error());
    for (auto& a : *hit) suppressed.emplace(key.first, key.second, std::move(a));
  }
  return suppressed;
}

Result<int> StoreQueue::requeue_expired(TimePoint now) {
  auto swept = store_.sweep(now, /*requeue=*/true);
  if (!swept) return std::unexpected(swept.error());
  return swept->requeued;
}

Result<int> StoreQueue::advance_campaigns(TimePoint now) {
  if (auto swept = store_.sweep(now, /*requeue=*/false); !swept)
    return std::unexpected(swept.error());
  auto due = store_.campaigns().due_for_fanout(now, 16);
  if (!due) return std::unexpected(due.error());
  return static_cast<int>(due->size());
}

}  // namespace herald::delivery
