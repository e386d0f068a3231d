// The providers' delivery-event receivers. Each post is verified with its account's key before
// anything is read, kept durably, and then answered: 200 once kept; 401 unsigned; 403 forged,
// stale or replayed; 404 for an owner or account Herald does not have (406 to Mailgun, which
// then never retries); 415 for the wrong content type. Nothing is kept from a refused post.
#include "app/tracking.h"
#include "http/api/common.h"
#include "http/api/routes.h"

namespace herald::api {

namespace {

using http::Request;
using http::Response;

Response receive(app::App& app, Request& req, const providers::Provider& p) {
  const std::string provider(p.info().id);
  // SMS providers post forms (Twilio); email providers post JSON.
  const bool form = p.info().channel == Channel::sms;
  if (!content_type_is(req, {form ? "application/x-www-form-urlencoded" : "application/json"}))
    return Response::problem(
        415, "Unsupported Media Type",
        form ? "expected application/x-www-form-urlencoded" : "expected application/json");
  // The provider signs (or posts to) the URL it was given: Herald's public URL plus the target.
  providers::WebhookRequest in{app.config().public_url + req.target, req.headers, req.body};
  auto kept = app::receive_webhook(app, provider, req.param("owner"), in);
  if (kept) return Response::text(200, "", "text/plain");
  switch (kept.error().code) {
    case Errc::unauthorized:
      return Response::problem(401, "Unauthorized", "this request is not signed");
    case Errc::forbidden:
      return Response::problem(403, "Forbidden", kept.error().message);
    case Errc::not_found:
      return Response::problem(p.info().webhooks.not_found_status, "Not Found",
                               kept.error().message);
    default:
      return problem(kept.error());
  }
}

}  // namespace

void register_webhook_routes(http::Router& r, app::App& app) {
  for (const providers::Provider* p : providers::all_providers()) {
    if (p->webhook() == nullptr) continue;
    // The same path receiver_url gives the provider (SMS: …/status, beside …/inbound).
    const std::string path = "/webhooks/" + std::string(p->info().id) + "/{owner}" +
                             (p->info().channel == Channel::sms ? "/status" : "");
    r.add("POST", path, [&app, p](Request& req) { return receive(app, req, *p); });
  }
}

}  // namespace herald::api
