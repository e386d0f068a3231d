// GET /api/v1/providers: the providers Herald can send through, as their registry entries
// describe them (fields, limits, capabilities). The dashboard draws its Integrations cards from it.
#include "http/api/common.h"
#include "http/api/routes.h"
#include "http/api/views.h"
#include "providers/provider.h"

namespace herald::api {

namespace {

http::Response list_providers(app::App&, const Principal&, http::Request& req) {
  const auto channel = req.query_param("channel");
  json items = json::array();
  for (const providers::Provider* p : providers::all_providers()) {
    if (channel && !channel->empty() && to_string(p->info().channel) != *channel) continue;
    items.push_back(provider_view(*p));
  }
  return ok_json(200, {{"items", std::move(items)}});
}

}  // namespace

void register_provider_routes(http::Router& router, app::App& app) {
  router.add("GET", "/api/v1/providers", guarded(app, list_providers));
}

}  // namespace herald::api
