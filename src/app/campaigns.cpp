#include "app/campaigns.h"

#include <algorithm>
#include <array>

#include "app/agents.h"
#include "app/templates.h"
#include "core/id.h"

namespace herald::app {

namespace {

using store::Campaign;
using store::CampaignStatus;

Error campaign_not_found() {
  return Error::not_found("campaign not found");
}

// Applies a status change allowed only from `from`; a refused change names the current status.
Result<Campaign> move(App& app, const std::string& agent_id, const std::string& id,
                      std::initializer_list<CampaignStatus> from, CampaignStatus to,
                      std::optional<std::int64_t> total = std::nullopt) {
  auto& campaigns = app.store().campaigns();
  std::vector<CampaignStatus> allowed(from);
  auto changed = campaigns.transition(agent_id, id, allowed, to, app.clock().now(), total);
  if (!changed) return std::unexpected(changed.error());
  auto c = get_campaign(app, agent_id, id);
  if (!c) return c;
  if (!*changed) {
    return fail(Errc::conflict, "campaign is " + std::string(store::to_string(c->status)) +
                                    "; it cannot become " + std::string(store::to_string(to)));
  }
  return c;
}

}  // namespace

Result<std::int64_t> count_campaign_audience(App& app, const Campaign& c) {
  return app.store().contacts().count_audience(c.agent_id, store::audience_of(c));
}

namespace {

// A campaign whose template shows a listing's details, created or launched without one: every
// message would read "…open house at ." instead.
Error needs_listing() {
  return Error::invalid("listingId",
                        "is required: the template shows a listing's details (its address, "
                        "price…), so choose the listing this campaign is about");
}

}  // namespace

Result<Campaign> create_campaign(App& app, const std::string& agent_id, const NewCampaign& in) {
  std::vector<FieldError> errors;
  if (in.name.empty()) errors.push_back({"name", "is required"});
  if (in.name.size() > 200) errors.push_back({"name", "must be at most 200 characters"});
  auto channel = parse_channel(in.channel);
  if (!channel) errors.push_back({"channel", "must be email or sms"});
  if (in.template_key.empty()) errors.push_back({"template", "is required"});
  static const std::array<std::string_view, 3> kRoles{"buyer", "seller", "lead"};
  for (const auto& r : in.roles) {
    if (std::find(kRoles.begin(), kRoles.end(), r) == kRoles.end()) {
      errors.push_back({"audience.roles", "must contain only buyer, seller or lead"});
      break;
    }
  }
  if (in.tags.size() > 50) errors.push_back({"audience.tags", "must have at most 50 tags"});
  if (in.send_at && *in.send_at > app.clock().now() + std::chrono::days(366)) {
    errors.push_back({"sendAt", "must be within a year"});
  }
  if (!errors.empty()) return fail(Error::invalid(std::move(errors)));
  if (auto rec = get_agent(app, agent_id); !rec) return std::unexpected(rec.error());
  // The template must exist on this channel, and campaign email must carry the unsubscribe
  // link and postal address.
  auto tmpl = resolve_template(app, agent_id, in.template_key, *channel);
  if (!tmpl) {
    if (tmpl.error().code == Errc::storage) return std::unexpected(tmpl.error());
    return fail(Error::invalid("template", tmpl.error().message));
  }
  if (*channel == Channel::email) {
    auto gaps = tmpl->compiled.campaign_gaps();
    if (!gaps.empty()) {
      return fail(Error::invalid("template", "is not ready for campaigns: " + gaps.front().field +
                                                 " " + gaps.front().message));
    }
  }

  if (in.listing_id.empty() && tmpl->compiled.uses_object("listing")) return fail(needs_listing());
  if (!in.listing_id.empty()) {
    auto listing = app.store().find_listing(agent_id, in.listing_id);
    if (!listing) return std::unexpected(listing.error());
    if (!*listing) return fail(Error::invalid("listingId", "is not one of this agent's listings"));
  }

  Campaign c;
  c.id = new_id();
  c.listing_id = in.listing_id;
  c.agent_id = agent_id;
  c.name = in.name;
  c.channel = *channel;
  c.template_key = in.template_key;
  c.roles = in.roles;
  for (auto t : in.tags) {
    std::transform(t.begin(), t.end(), t.begin(),
                   [](unsigned char ch) { return std::tolower(ch); });
    c.tags.push_back(std::move(t));
  }
  c.send_at = in.send_at;
  c.created_at = c.updated_at = app.clock().now();
  if (auto r = app.store().campaigns().create(c); !r) return std::unexpected(r.error());
  return c;
}

Result<Campaign> get_campaign(App& app, const std::string& agent_id, const std::string& id) {
  auto c = app.store().campaigns().find(agent_id, id);
  if (!c) return std::unexpected(c.error());
  if (!*c) return fail(campaign_not_found());
  return std::move(**c);
}

Result<Campaign> launch_campaign(App& app, const std::string& agent_id, const std::string& id) {
  auto c = get_campaign(app, agent_id, id);
  if (!c) return c;
  auto rec = get_agent(app, agent_id);
  if (!rec) return std::unexpected(rec.error());
  if (c->channel == Channel::email && rec->branding.postal_address.empty()) {
    Error e = Error::invalid("postalAddress",
                             "is required to launch an email campaign: add your postal address in "
                             "Settings → Branding (CAN-SPAM requires it in every campaign email)");
    return fail(std::move(e));
  }
  // The template may have changed since the campaign was created.
  if (c->listing_id.empty()) {
    auto tmpl = resolve_template(app, agent_id, c->template_key, c->channel);
    if (!tmpl) {
      if (tmpl.error().code == Errc::storage) return std::unexpected(tmpl.error());
      return fail(Error::invalid("template", tmpl.error().message));
    }
    if (tmpl->compiled.uses_object("listing")) return fail(needs_listing());
  }
  auto total = count_campaign_audience(app, *c);
  if (!total) return std::unexpected(total.error());
  bool later = c->send_at && *c->send_at > app.clock().now();
  auto launched = move(app, agent_id, id, {CampaignStatus::draft},
                       later ? CampaignStatus::scheduled : CampaignStatus::running, *total);
  if (launched && !later) app.wake_workers();  // the workers take its audience now
  return launched;
}

Result<Campaign> pause_campaign(App& app, const std::string& agent_id, const std::string& id) {
  return move(app, agent_id, id, {CampaignStatus::running, CampaignStatus::scheduled},
              CampaignStatus::paused);
}

Result<Campaign> resume_campaign(App& app, const std::string& agent_id, const std::string& id) {
  auto c = move(app, agent_id, id, {CampaignStatus::paused}, CampaignStatus::running);
  if (c) app.wake_workers();
  return c;
}

Result<Campaign> cancel_campaign(App& app, const std::string& agent_id, const std::string& id) {
  auto c = move(app, agent_id, id,
                {CampaignStatus::draft, CampaignStatus::scheduled, CampaignStatus::running,
                 CampaignStatus::paused},
                CampaignStatus::cancelled);
  if (!c) return c;
  if (auto n = app.store().campaigns().cancel_unsent(agent_id, id, app.clock().now()); !n) {
    return std::unexpected(n.error());
  }
  return c;
}

}  // namespace herald::app
