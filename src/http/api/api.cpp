// Routes, authentication and the resource handlers of /api/v1.
#include "http/api/api.h"

#include <sodium.h>
#include <spdlog/spdlog.h>

#include <charconv>

#include "app/agents.h"
#include "app/listings.h"
#include "http/api/common.h"
#include "http/api/views.h"

namespace herald::api {

namespace {

using http::Request;
using http::Response;

// Constant-time comparison of a presented token with the expected one.
bool token_matches(std::string_view presented, const std::string& expected) {
  if (expected.empty()) return false;
  unsigned char a[crypto_generichash_BYTES], b[crypto_generichash_BYTES];
  crypto_generichash(a, sizeof a, reinterpret_cast<const unsigned char*>(presented.data()),
                     presented.size(), nullptr, 0);
  crypto_generichash(b, sizeof b, reinterpret_cast<const unsigned char*>(expected.data()),
                     expected.size(), nullptr, 0);
  return sodium_memcmp(a, b, sizeof a) == 0;
}

std::optional<Principal> authenticate(const app::App& app, const Request& req) {
  auto auth = req.header("Authorization");
  if (!auth || !auth->starts_with("Bearer ")) return std::nullopt;
  std::string_view token = auth->substr(7);
  if (token_matches(token, app.config().platform_token.reveal())) return Principal{true, ""};
  return std::nullopt;
}

Response unauthorized() {
  auto r = problem(Error{Errc::unauthorized, "send Authorization: Bearer <token>"});
  r.set_header("WWW-Authenticate", "Bearer");
  return r;
}

// The channel in /integrations/{channel}; 404 for anything else.
std::optional<Channel> channel_param(const Request& req) { return parse_channel(req.param("channel")); }

using Handler = std::function<Response(app::App&, const Principal&, Request&)>;

// Wraps a handler with authentication and tenant scoping of {id}: another agent's id
// answers 404, exactly as an unknown id does, so ids cannot be probed.
http::Handler guarded(app::App& app, Handler h) {
  return [&app, h = std::move(h)](Request& req) -> Response {
    auto who = authenticate(app, req);
    if (!who) return unauthorized();
    if (req.params.contains("id") && !who->may_access(req.param("id"))) {
      return problem(Error::not_found("agent not found"));
    }
    return h(app, *who, req);
  };
}

// ---- agents ----

Response create_agent(app::App& app, const Principal& who, Request& req) {
  if (!who.platform) return problem(Error{Errc::forbidden, "only the platform creates agents"});
  auto in = Input::parse(req.body);
  if (!in) return problem(in.error());
  app::NewAgent a{in->str("name"), in->str("email")};
  if (auto c = in->check(); !c) return problem(c.error());
  auto row = app::create_agent(app, a);
  if (!row) return problem(row.error());
  return ok_json(201, agent_view(*row)).set_header("Location", "/api/v1/agents/" + row->id);
}

Response list_agents(app::App& app, const Principal& who, Request& req) {
  if (!who.platform) return problem(Error{Errc::forbidden, "only the platform lists agents"});
  int limit = 50;
  if (auto l = req.query_param("limit")) {
    auto [p, ec] = std::from_chars(l->data(), l->data() + l->size(), limit);
    if (ec != std::errc() || limit < 1 || limit > 500) {
      return problem(Error::invalid("limit", "must be an integer from 1 to 500"));
    }
  }
  auto page = app.store().list_agents(req.query_param("cursor").value_or(""), limit);
  if (!page) return problem(page.error());
  json items = json::array();
  for (const auto& a : page->items) items.push_back(agent_view(a));
  return ok_json(200, {{"items", items},
                       {"nextCursor", page->next_cursor.empty() ? json(nullptr) : json(page->next_cursor)}});
}

Response get_agent(app::App& app, const Principal&, Request& req) {
  auto rec = app::get_agent(app, req.param("id"));
  if (!rec) return problem(rec.error());
  json j = agent_view(rec->agent);
  j["branding"] = branding_view(rec->branding);
  j["integrations"] = integrations_view(*rec);
  return ok_json(200, j);
}

Response patch_agent(app::App& app, const Principal&, Request& req) {
  auto in = Input::parse(req.body);
  if (!in) return problem(in.error());
  auto fallback = in->boolean("fallbackToPlatform");
  if (auto c = in->check(); !c) return problem(c.error());
  auto rec = app::get_agent(app, req.param("id"));
  if (!rec) return problem(rec.error());
  if (fallback) {
    if (auto r = app.store().set_fallback_to_platform(rec->agent.id, *fallback); !r) return problem(r.error());
    rec->agent.fallback_to_platform = *fallback;
  }
  return ok_json(200, agent_view(rec->agent));
}

Response get_branding(app::App& app, const Principal&, Request& req) {
  auto rec = app::get_agent(app, req.param("id"));
  if (!rec) return problem(rec.error());
  return ok_json(200, branding_view(rec->branding));
}

Response put_branding(app::App& app, const Principal&, Request& req) {
  auto in = Input::parse(req.body);
  if (!in) return problem(in.error());
  Branding b{in->str("companyName"), in->str("replyEmail"),    in->str("smsPhone"),
             in->str("emailSignature"), in->str("website"), in->str("postalAddress")};
  if (auto c = in->check(); !c) return problem(c.error());
  auto saved = app::put_branding(app, req.param("id"), std::move(b));
  if (!saved) return problem(saved.error());
  return ok_json(200, branding_view(*saved));
}

// ---- integrations ----

Response get_integrations(app::App& app, const Principal&, Request& req) {
  auto rec = app::get_agent(app, req.param("id"));
  if (!rec) return problem(rec.error());
  return ok_json(200, integrations_view(*rec));
}

Response put_integration(app::App& app, const Principal&, Request& req) {
  auto channel = channel_param(req);
  if (!channel) return problem(Error::not_found("no such integration (email or sms)"));
  auto in = Input::parse(req.body);
  if (!in) return problem(in.error());
  Result<store::IntegrationRow> row;
  if (*channel == Channel::email) {
    app::EmailConnect e{in->str("provider"), in->str("apiKey"), in->str("fromEmail"),
                        in->str("domain"), in->str("region")};
    if (auto c = in->check(); !c) return problem(c.error());
    row = app::connect_email(app, req.param("id"), e);
  } else {
    app::SmsConnect s{in->has("provider") ? in->str("provider") : "twilio", in->str("accountSid"),
                      in->str("authToken"), in->str("phoneNumber")};
    if (auto c = in->check(); !c) return problem(c.error());
    row = app::connect_sms(app, req.param("id"), s);
  }
  if (!row) return problem(row.error());
  return ok_json(200, integration_view(*row));
}

Response patch_integration(app::App& app, const Principal&, Request& req) {
  auto channel = channel_param(req);
  if (!channel) return problem(Error::not_found("no such integration (email or sms)"));
  auto in = Input::parse(req.body);
  if (!in) return problem(in.error());
  auto active = in->boolean("active");
  if (auto c = in->check(); !c) return problem(c.error());
  if (!active) return problem(Error::invalid("active", "is required (true or false)"));
  auto row = app::set_integration_active(app, req.param("id"), *channel, *active);
  if (!row) return problem(row.error());
  return ok_json(200, integration_view(*row));
}

Response delete_integration(app::App& app, const Principal&, Request& req) {
  auto channel = channel_param(req);
  if (!channel) return problem(Error::not_found("no such integration (email or sms)"));
  if (auto r = app::disconnect(app, req.param("id"), *channel); !r) return problem(r.error());
  Response res;
  res.status = 204;
  return res;
}

Response test_integration(app::App& app, net::HttpClient& http, Request& req) {
  auto channel = channel_param(req);
  if (!channel) return problem(Error::not_found("no such integration (email or sms)"));
  auto outcome = app::test_integration(app, req.param("id"), *channel, http);
  if (!outcome) return problem(outcome.error());
  return ok_json(200, {{"ok", outcome->ok},
                       {"badCredentials", outcome->bad_credentials},
                       {"retryable", outcome->retryable},
                       {"detail", outcome->detail},
                       {"httpStatus", outcome->http_status}});
}

Response get_routes(app::App& app, const Principal&, Request& req) {
  auto r = app::routes(app, req.param("id"));
  if (!r) return problem(r.error());
  return ok_json(200, {{"email", route_view(r->email)}, {"sms", route_view(r->sms)}});
}

// ---- listings and messages ----

Response create_listing(app::App& app, const Principal&, Request& req) {
  auto in = Input::parse(req.body);
  if (!in) return problem(in.error());
  app::NewListing l{in->str("address"), in->number("price"), in->str("seller.name"),
                    in->str("seller.email"), in->str("seller.phone")};
  if (auto c = in->check(); !c) return problem(c.error());
  auto created = app::create_listing(app, req.param("id"), l);
  if (!created) return problem(created.error());
  json messages = json::array();
  for (const auto& m : created->messages) messages.push_back(message_view(m));
  const auto& li = created->listing;
  return ok_json(201, {{"id", li.id},
                       {"agentId", li.agent_id},
                       {"address", li.address},
                       {"price", li.price},
                       {"seller", {{"name", li.seller_name}, {"email", li.seller_email},
                                   {"phone", li.seller_phone.empty() ? json(nullptr) : json(li.seller_phone)}}},
                       {"createdAt", format_time(li.created_at)},
                       {"messages", messages}});
}

Response list_messages(app::App& app, const Principal&, Request& req) {
  store::MessageQuery q;
  q.agent_id = req.param("id");
  std::vector<FieldError> errors;
  if (auto c = req.query_param("channel")) {
    q.channel = parse_channel(*c);
    if (!q.channel) errors.push_back({"channel", "must be email or sms"});
  }
  if (auto s = req.query_param("status")) {
    q.status = parse_message_status(*s);
    if (!q.status) errors.push_back({"status", "is not a message status"});
  }
  if (auto l = req.query_param("limit")) {
    auto [p, ec] = std::from_chars(l->data(), l->data() + l->size(), q.limit);
    if (ec != std::errc() || q.limit < 1 || q.limit > 500) errors.push_back({"limit", "must be an integer from 1 to 500"});
  }
  q.cursor = req.query_param("cursor").value_or("");
  if (!errors.empty()) return problem(Error::invalid(errors));
  if (auto rec = app::get_agent(app, q.agent_id); !rec) return problem(rec.error());
  auto page = app.store().list_messages(q);
  if (!page) return problem(page.error());
  json items = json::array();
  for (const auto& m : page->items) items.push_back(message_view(m));
  return ok_json(200, {{"items", items},
                       {"nextCursor", page->next_cursor.empty() ? json(nullptr) : json(page->next_cursor)}});
}

Response get_message(app::App& app, const Principal& who, Request& req) {
  // The platform sees any message; an agent only its own (others answer 404).
  auto d = app.store().find_message(req.param("mid"), who.platform ? "" : who.agent_id);
  if (!d) return problem(d.error());
  if (!*d) return problem(Error::not_found("message not found"));
  return ok_json(200, message_detail_view(**d));
}

}  // namespace

http::Handler make_handler(app::App& app,
                           std::function<std::unique_ptr<net::HttpClient>()> make_client) {
  auto router = std::make_shared<http::Router>();
  auto& r = *router;
  const std::string base = "/api/v1";
  r.add("GET", "/healthz", [](Request&) { return Response::json(200, R"({"status":"ok"})"); });
  r.add("GET", "/readyz", [&app](Request&) {
    auto counts = app.store().count_by_status();
    if (!counts) return problem(Error{Errc::storage, "store unavailable"});
    return Response::json(200, R"({"status":"ready"})");
  });
  r.add("POST", base + "/agents", guarded(app, create_agent));
  r.add("GET", base + "/agents", guarded(app, list_agents));
  r.add("GET", base + "/agents/{id}", guarded(app, get_agent));
  r.add("PATCH", base + "/agents/{id}", guarded(app, patch_agent));
  r.add("GET", base + "/agents/{id}/branding", guarded(app, get_branding));
  r.add("PUT", base + "/agents/{id}/branding", guarded(app, put_branding));
  r.add("GET", base + "/agents/{id}/integrations", guarded(app, get_integrations));
  r.add("PUT", base + "/agents/{id}/integrations/{channel}", guarded(app, put_integration));
  r.add("PATCH", base + "/agents/{id}/integrations/{channel}", guarded(app, patch_integration));
  r.add("DELETE", base + "/agents/{id}/integrations/{channel}", guarded(app, delete_integration));
  r.add("POST", base + "/agents/{id}/integrations/{channel}/test",
        guarded(app, [make_client](app::App& a, const Principal&, Request& req) {
          auto http = make_client();
          return test_integration(a, *http, req);
        }));
  r.add("GET", base + "/agents/{id}/routes", guarded(app, get_routes));
  r.add("POST", base + "/agents/{id}/listings", guarded(app, create_listing));
  r.add("GET", base + "/agents/{id}/messages", guarded(app, list_messages));
  r.add("GET", base + "/messages/{mid}", guarded(app, get_message));

  return [router](Request& req) {
    Response res = router->handle(req);
    if (!find_header(res.headers, "Cache-Control")) res.set_header("Cache-Control", "no-store");
    return res;
  };
}

}  // namespace herald::api
