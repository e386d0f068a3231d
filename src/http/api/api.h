// The REST API under /api/v1, plus /healthz and /readyz.
#pragma once

#include "app/app.h"
#include "http/server/server.h"
#include "net/http_client.h"

namespace herald::api {

// The API's router (every route registered); make_handler wraps it.
std::shared_ptr<http::Router> make_router(
    app::App& app, std::function<std::unique_ptr<net::HttpClient>()> make_client);

// Builds the request handler for `herald serve`. `make_client` supplies outbound HTTP
// clients for credential checks ("Test connection") and for removing Herald's webhook from the
// provider when an integration is disconnected.
http::Handler make_handler(app::App& app,
                           std::function<std::unique_ptr<net::HttpClient>()> make_client);

}  // namespace herald::api
