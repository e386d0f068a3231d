// Campaigns: create, list, read with live counts, launch / pause / resume / cancel.
#include "app/campaigns.h"
#include "http/api/common.h"
#include "http/api/routes.h"

namespace herald::api {

namespace {

using http::Request;
using http::Response;

json campaign_view(app::App& app, const store::Campaign& c) {
  json j = {{"id", c.id},
            {"agentId", c.agent_id},
            {"name", c.name},
            {"channel", to_string(c.channel)},
            {"template", c.template_key},
            {"listingId", c.listing_id.empty() ? json(nullptr) : json(c.listing_id)},
            {"audience", {{"roles", c.roles}, {"tags", c.tags}}},
            {"status", store::to_string(c.status)},
            {"sendAt", c.send_at ? json(format_time(*c.send_at)) : json(nullptr)},
            {"createdAt", format_time(c.created_at)},
            {"updatedAt", format_time(c.updated_at)}};
  json counts = {{"total", c.total}, {"queued", 0}, {"sent", 0}, {"failed", 0}, {"suppressed", 0}};
  if (auto n = app.store().campaigns().counts(c.agent_id, c.id)) {
    counts["queued"] = n->queued;
    counts["sent"] = n->sent;
    counts["failed"] = n->failed;
    counts["suppressed"] = n->suppressed;
    counts["fannedOut"] = n->queued + n->sent + n->failed + n->suppressed;
  }
  j["counts"] = counts;
  // What the providers' delivery events report (zeros until tracking reports any).
  json results = {{"delivered", 0},    {"bounced", 0},     {"complained", 0},
                  {"unsubscribed", 0}, {"uniqueOpens", 0}, {"uniqueClicks", 0}};
  if (auto r = app.store().tracking().campaign_results(c.agent_id, c.id)) {
    results = {{"delivered", r->delivered},      {"bounced", r->bounced},
               {"complained", r->complained},    {"unsubscribed", r->unsubscribed},
               {"uniqueOpens", r->unique_opens}, {"uniqueClicks", r->unique_clicks}};
  }
  j["results"] = std::move(results);
  return j;
}

Response create(app::App& app, const Principal&, Request& req) {
  auto in = Input::parse(req.body);
  if (!in) return problem(in.error());
  app::NewCampaign c{in->str("name"),
                     in->str("channel"),
                     in->str("template"),
                     in->strings("audience.roles"),
                     in->strings("audience.tags"),
                     std::nullopt,
                     in->str("listingId")};
  std::string send_at = in->str("sendAt");
  if (auto chk = in->check(); !chk) return problem(chk.error());
  if (!send_at.empty()) {
    c.send_at = parse_time(send_at);
    if (!c.send_at)
      return problem(
          Error::invalid("sendAt", "must be an RFC 3339 time, e.g. 2026-12-01T15:00:00Z"));
  }
  auto created = app::create_campaign(app, req.param("id"), c);
  if (!created) return problem(created.error());
  return ok_json(201, campaign_view(app, *created));
}

Response list(app::App& app, const Principal&, Request& req) {
  auto cs = app.store().campaigns().list(req.param("id"));
  if (!cs) return problem(cs.error());
  json items = json::array();
  for (const auto& c : *cs) items.push_back(campaign_view(app, c));
  return ok_json(200, {{"items", items}});
}

Response get(app::App& app, const Principal&, Request& req) {
  auto c = app::get_campaign(app, req.param("id"), req.param("cid"));
  if (!c) return problem(c.error());
  return ok_json(200, campaign_view(app, *c));
}

using Action = Result<store::Campaign> (*)(app::App&, const std::string&, const std::string&);

ApiHandler action(Action f) {
  return [f](app::App& app, const Principal&, Request& req) {
    auto c = f(app, req.param("id"), req.param("cid"));
    if (!c) return problem(c.error());
    return ok_json(200, campaign_view(app, *c));
  };
}

}  // namespace

void register_campaign_routes(http::Router& r, app::App& app) {
  const std::string base = "/api/v1/agents/{id}/campaigns";
  r.add("POST", base, guarded(app, create));
  r.add("GET", base, guarded(app, list));
  r.add("GET", base + "/{cid}", guarded(app, get));
  r.add("POST", base + "/{cid}/launch", guarded(app, action(app::launch_campaign)));
  r.add("POST", base + "/{cid}/pause", guarded(app, action(app::pause_campaign)));
  r.add("POST", base + "/{cid}/resume", guarded(app, action(app::resume_campaign)));
  r.add("POST", base + "/{cid}/cancel", guarded(app, action(app::cancel_campaign)));
}

}  // namespace herald::api
