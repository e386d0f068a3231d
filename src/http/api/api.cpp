// Routes, authentication and the resource handlers of /api/v1.
#include "http/api/api.h"

#include <sodium.h>
#include <spdlog/spdlog.h>

#include <charconv>
#include <ctime>
#include <map>

#include "app/agents.h"
#include "app/auth.h"
#include "app/listings.h"
#include "http/api/common.h"
#include "http/api/routes.h"
#include "http/api/views.h"
#include "http/api/web.h"

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

constexpr std::string_view kSessionCookie = "herald_session";

// The value of one cookie from the Cookie header.
std::optional<std::string> cookie(const Request& req, std::string_view name) {
  auto header = req.header("Cookie");
  if (!header) return std::nullopt;
  std::string_view h = *header;
  while (!h.empty()) {
    auto semi = h.find(';');
    std::string_view part = h.substr(0, semi);
    while (!part.empty() && part.front() == ' ') part.remove_prefix(1);
    auto eq = part.find('=');
    if (eq != std::string_view::npos && part.substr(0, eq) == name)
      return std::string(part.substr(eq + 1));
    if (semi == std::string_view::npos) break;
    h.remove_prefix(semi + 1);
  }
  return std::nullopt;
}

// Bearer platform token, Bearer agent API token (ht_…), or the dashboard's session cookie.
Result<std::optional<Principal>> authenticate(app::App& app, const Request& req) {
  if (auto auth = req.header("Authorization"); auth && auth->starts_with("Bearer ")) {
    std::string_view token = auth->substr(7);
    if (token_matches(token, app.config().platform_token.reveal())) {
      return std::optional<Principal>(Principal{true, false, "", false, ""});
    }
    if (!token.starts_with("ht_")) return std::optional<Principal>();
    auto id = app::api_token_identity(app, std::string(token));
    if (!id) return std::unexpected(id.error());
    if (!*id) return std::optional<Principal>();
    return std::optional<Principal>(Principal{false, false, (*id)->agent_id, false, ""});
  }
  if (auto token = cookie(req, kSessionCookie)) {
    auto id = app::session_identity(app, *token);
    if (!id) return std::unexpected(id.error());
    if (!*id) return std::optional<Principal>();
    bool op = (*id)->role == "operator";
    return std::optional<Principal>(Principal{op, op, (*id)->agent_id, true, (*id)->csrf_token});
  }
  return std::optional<Principal>();
}

bool is_safe_method(const std::string& m) {
  return m == "GET" || m == "HEAD" || m == "OPTIONS";
}

// A cookie-authenticated state change must echo the session's CSRF token in X-CSRF-Token.
bool csrf_ok(const Principal& who, const Request& req) {
  if (!who.via_session || is_safe_method(req.method)) return true;
  auto sent = req.header("X-CSRF-Token");
  return sent && token_matches(*sent, who.csrf_token);
}

Response unauthorized() {
  auto r = problem(Error{Errc::unauthorized, "send Authorization: Bearer <token>"});
  r.set_header("WWW-Authenticate", "Bearer");
  return r;
}

// The channel in /integrations/{channel}; 404 for anything else.
std::optional<Channel> channel_param(const Request& req) {
  return parse_channel(req.param("channel"));
}

}  // namespace

http::Handler guarded(app::App& app, ApiHandler h) {
  return [&app, h = std::move(h)](Request& req) -> Response {
    auto who = authenticate(app, req);
    if (!who) return problem(who.error());
    if (!*who) return unauthorized();
    if (!csrf_ok(**who, req)) {
      return problem(Error{Errc::forbidden, "missing or wrong X-CSRF-Token header"});
    }
    if (req.params.contains("id") && !(*who)->may_access(req.param("id"))) {
      return problem(Error::not_found("agent not found"));
    }
    return h(app, **who, req);
  };
}

namespace {

// ---- agents ----

// The tracking set-up of an agent's integration on `channel` (nullopt: none, or unreadable).
std::optional<store::TrackingSetup> tracking_setup(app::App& app, const std::string& agent_id,
                                                   Channel channel) {
  auto setup = app.store().tracking().setup_of(agent_id, channel);
  return setup ? *setup : std::nullopt;
}

// An agent's integrations with their tracking set-ups.
json agent_integrations(app::App& app, const store::AgentRecord& rec) {
  return integrations_view(rec, tracking_setup(app, rec.agent.id, Channel::email),
                           tracking_setup(app, rec.agent.id, Channel::sms));
}

Response create_agent(app::App& app, const Principal& who, Request& req) {
  if (!who.platform) return problem(Error{Errc::forbidden, "only the platform creates agents"});
  auto in = Input::parse(req.body);
  if (!in) return problem(in.error());
  app::NewAgent a{in->str("name"), in->str("email"), in->str("password")};
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
  for (const auto& a : page->items) {
    json j = agent_view(a);
    auto rec = app::get_agent(app, a.id);
    if (rec) {
      auto status = [](const std::optional<store::IntegrationRow>& row) -> json {
        if (!row) return nullptr;
        return integration_view(row, std::nullopt)["status"];
      };
      j["integrations"] = {{"email", status(rec->email)}, {"sms", status(rec->sms)}};
    }
    items.push_back(std::move(j));
  }
  return ok_json(
      200, {{"items", items},
            {"nextCursor", page->next_cursor.empty() ? json(nullptr) : json(page->next_cursor)}});
}

Response get_agent(app::App& app, const Principal&, Request& req) {
  auto rec = app::get_agent(app, req.param("id"));
  if (!rec) return problem(rec.error());
  json j = agent_view(rec->agent);
  j["branding"] = branding_view(rec->branding);
  j["integrations"] = agent_integrations(app, *rec);
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
    if (auto r = app.store().set_fallback_to_platform(rec->agent.id, *fallback); !r)
      return problem(r.error());
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
  Branding b{in->str("companyName"),    in->str("replyEmail"), in->str("smsPhone"),
             in->str("emailSignature"), in->str("website"),    in->str("postalAddress")};
  if (auto c = in->check(); !c) return problem(c.error());
  auto saved = app::put_branding(app, req.param("id"), std::move(b));
  if (!saved) return problem(saved.error());
  return ok_json(200, branding_view(*saved));
}

// ---- integrations ----

Response get_integrations(app::App& app, const Principal&, Request& req) {
  auto rec = app::get_agent(app, req.param("id"));
  if (!rec) return problem(rec.error());
  return ok_json(200, agent_integrations(app, *rec));
}

// The connect body: "provider" and the provider's own fields (strings; a port may be a
// number). Without "provider", a channel with one provider means that one (SMS: Twilio).
Result<app::ConnectInput> connect_input(Input& in, Channel channel) {
  app::ConnectInput out;
  out.provider = in.str("provider");
  if (!in.has("provider")) {
    std::vector<const providers::Provider*> on_channel;
    for (const auto* p : providers::all_providers())
      if (p->info().channel == channel) on_channel.push_back(p);
    if (on_channel.size() == 1) out.provider = on_channel.front()->id();
  }
  out.rate_limit = in.number("rateLimitPerSecond");
  if (const auto* provider = providers::find_provider(out.provider)) {
    for (const auto& f : provider->info().fields) {
      const std::string name(f.name);
      if (f.kind == providers::FieldKind::port && in.has(name)) {
        if (auto n = in.integer_text(name)) out.fields.emplace_back(name, std::move(*n));
      } else {
        out.fields.emplace_back(name, in.str(name));
      }
    }
  }
  if (auto c = in.check(); !c) return std::unexpected(c.error());
  return out;
}

Response put_integration(app::App& app, const Principal&, Request& req) {
  auto channel = channel_param(req);
  if (!channel) return problem(Error::not_found("no such integration (email or sms)"));
  auto in = Input::parse(req.body);
  if (!in) return problem(in.error());
  auto input = connect_input(*in, *channel);
  if (!input) return problem(input.error());
  auto row = app::connect_integration(app, req.param("id"), *channel, *input);
  if (!row) return problem(row.error());
  return ok_json(200, integration_view(*row, tracking_setup(app, req.param("id"), *channel)));
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
  return ok_json(200, integration_view(*row, tracking_setup(app, req.param("id"), *channel)));
}

Response delete_integration(app::App& app, net::HttpClient& http, Request& req) {
  auto channel = channel_param(req);
  if (!channel) return problem(Error::not_found("no such integration (email or sms)"));
  if (auto r = app::disconnect(app, req.param("id"), *channel, http); !r) {
    return problem(r.error());
  }
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
  return ok_json(201,
                 {{"id", li.id},
                  {"agentId", li.agent_id},
                  {"address", li.address},
                  {"price", li.price},
                  {"seller",
                   {{"name", li.seller_name},
                    {"email", li.seller_email},
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
    if (ec != std::errc() || q.limit < 1 || q.limit > 500)
      errors.push_back({"limit", "must be an integer from 1 to 500"});
  }
  q.cursor = req.query_param("cursor").value_or("");
  if (!errors.empty()) return problem(Error::invalid(errors));
  if (auto rec = app::get_agent(app, q.agent_id); !rec) return problem(rec.error());
  auto page = app.store().list_messages(q);
  if (!page) return problem(page.error());
  json items = json::array();
  for (const auto& m : page->items) items.push_back(message_view(m));
  return ok_json(
      200, {{"items", items},
            {"nextCursor", page->next_cursor.empty() ? json(nullptr) : json(page->next_cursor)}});
}

Response get_message(app::App& app, const Principal& who, Request& req) {
  // The platform sees any message; an agent only its own (others answer 404).
  auto d = app.store().find_message(req.param("mid"), who.platform ? "" : who.agent_id);
  if (!d) return problem(d.error());
  if (!*d) return problem(Error::not_found("message not found"));
  json view = message_detail_view(**d);
  auto events = app.store().tracking().events_of((*d)->message.id);
  if (!events) return problem(events.error());
  view["deliveryEvents"] = delivery_events_view(*events);
  return ok_json(200, view);
}

// ---- sessions (the dashboard's login) ----

json session_view(const std::string& role, const std::optional<store::AgentRow>& agent,
                  const std::string& csrf) {
  json a = nullptr;
  if (agent) a = {{"id", agent->id}, {"name", agent->name}, {"email", agent->email}};
  return {{"role", role}, {"agent", a}, {"csrfToken", csrf}};
}

std::string session_cookie(const app::App& app, const std::string& value, int max_age) {
  std::string c = std::string(kSessionCookie) + "=" + value +
                  "; Path=/; HttpOnly; SameSite=Lax; Max-Age=" + std::to_string(max_age);
  if (app.config().public_url.starts_with("https://")) c += "; Secure";
  return c;
}

Response create_session(app::App& app, app::LoginThrottle& throttle, Request& req) {
  auto in = Input::parse(req.body);
  if (!in) return problem(in.error());
  std::string email = in->str("email"), password = in->str("password");
  if (auto c = in->check(); !c) return problem(c.error());
  std::vector<FieldError> missing;
  if (email.empty()) missing.push_back({"email", "is required"});
  if (password.empty()) missing.push_back({"password", "is required"});
  if (!missing.empty()) return problem(Error::invalid(missing));
  auto result = app::login(app, throttle, email, password, req.remote_address);
  if (!result) {
    if (result.error().retry_after) {
      Response r = Response::problem(429, "Too many failed logins", result.error().error.message);
      r.set_header("Retry-After", std::to_string(result.error().retry_after->count()));
      return r;
    }
    return problem(result.error().error);
  }
  auto ttl = std::chrono::duration_cast<std::chrono::seconds>(result->session.expires_at -
                                                              result->session.created_at);
  Response r =
      ok_json(200, session_view(result->session.role, result->agent, result->session.csrf_token));
  r.set_header("Set-Cookie",
               session_cookie(app, result->session_token, static_cast<int>(ttl.count())));
  return r;
}

Response get_session(app::App& app, Request& req) {
  auto who = authenticate(app, req);
  if (!who) return problem(who.error());
  if (!*who || !(*who)->via_session) return problem(Error{Errc::unauthorized, "not logged in"});
  std::optional<store::AgentRow> agent;
  if (!(*who)->agent_id.empty()) {
    auto rec = app::get_agent(app, (*who)->agent_id);
    if (!rec) return problem(rec.error());
    agent = rec->agent;
  }
  return ok_json(200,
                 session_view((*who)->operator_ ? "operator" : "agent", agent, (*who)->csrf_token));
}

Response delete_session(app::App& app, Request& req) {
  auto who = authenticate(app, req);
  if (!who) return problem(who.error());
  if (!*who || !(*who)->via_session) return problem(Error{Errc::unauthorized, "not logged in"});
  if (!csrf_ok(**who, req))
    return problem(Error{Errc::forbidden, "missing or wrong X-CSRF-Token header"});
  if (auto r = app::logout(app, *cookie(req, kSessionCookie)); !r) return problem(r.error());
  Response res;
  res.status = 204;
  res.set_header("Set-Cookie", session_cookie(app, "", 0));
  return res;
}

// ---- API tokens ----

json token_view(const store::ApiToken& t) {
  return {{"id", t.id},
          {"name", t.name},
          {"hint", t.hint},
          {"createdAt", format_time(t.created_at)},
          {"lastUsedAt", t.last_used_at ? json(format_time(*t.last_used_at)) : json(nullptr)}};
}

Response list_tokens(app::App& app, const Principal&, Request& req) {
  if (auto rec = app::get_agent(app, req.param("id")); !rec) return problem(rec.error());
  auto tokens = app.store().list_api_tokens(req.param("id"));
  if (!tokens) return problem(tokens.error());
  json items = json::array();
  for (const auto& t : *tokens) items.push_back(token_view(t));
  return ok_json(200, {{"items", items}});
}

Response create_token(app::App& app, const Principal&, Request& req) {
  auto in = Input::parse(req.body);
  if (!in) return problem(in.error());
  std::string name = in->str("name");
  if (auto c = in->check(); !c) return problem(c.error());
  if (auto rec = app::get_agent(app, req.param("id")); !rec) return problem(rec.error());
  auto created = app::create_api_token(app, req.param("id"), name);
  if (!created) return problem(created.error());
  json j = token_view(created->record);
  j["token"] = created->token;
  return ok_json(201, j);
}

Response delete_token(app::App& app, const Principal&, Request& req) {
  auto revoked = app.store().revoke_api_token(req.param("id"), req.param("tid"), app.clock().now());
  if (!revoked) return problem(revoked.error());
  if (!*revoked) return problem(Error::not_found("token not found"));
  Response res;
  res.status = 204;
  return res;
}

}  // namespace

std::shared_ptr<http::Router> make_router(
    app::App& app, std::function<std::unique_ptr<net::HttpClient>()> make_client) {
  auto router = std::make_shared<http::Router>();
  auto& r = *router;
  const std::string base = "/api/v1";
  r.add("GET", "/healthz", [](Request&) { return Response::json(200, R"({"status":"ok"})"); });
  r.add("POST", base + "/agents", guarded(app, create_agent));
  r.add("GET", base + "/agents", guarded(app, list_agents));
  r.add("GET", base + "/agents/{id}", guarded(app, get_agent));
  r.add("PATCH", base + "/agents/{id}", guarded(app, patch_agent));
  r.add("GET", base + "/agents/{id}/branding", guarded(app, get_branding));
  r.add("PUT", base + "/agents/{id}/branding", guarded(app, put_branding));
  r.add("GET", base + "/agents/{id}/integrations", guarded(app, get_integrations));
  r.add("PUT", base + "/agents/{id}/integrations/{channel}", guarded(app, put_integration));
  r.add("PATCH", base + "/agents/{id}/integrations/{channel}", guarded(app, patch_integration));
  // Disconnecting removes Herald's webhook from the provider, through a client of its own.
  r.add("DELETE", base + "/agents/{id}/integrations/{channel}",
        guarded(app, [make_client](app::App& a, const Principal&, Request& req) {
          auto http = make_client();
          return delete_integration(a, *http, req);
        }));
  r.add("POST", base + "/agents/{id}/integrations/{channel}/test",
        guarded(app, [make_client](app::App& a, const Principal&, Request& req) {
          auto http = make_client();
          return test_integration(a, *http, req);
        }));
  r.add("GET", base + "/agents/{id}/routes", guarded(app, get_routes));
  r.add("POST", base + "/agents/{id}/listings", guarded(app, create_listing));
  r.add("GET", base + "/agents/{id}/messages", guarded(app, list_messages));
  r.add("GET", base + "/messages/{mid}", guarded(app, get_message));
  r.add("GET", base + "/agents/{id}/tokens", guarded(app, list_tokens));
  r.add("POST", base + "/agents/{id}/tokens", guarded(app, create_token));
  r.add("DELETE", base + "/agents/{id}/tokens/{tid}", guarded(app, delete_token));
  register_contact_routes(r, app);
  register_template_routes(r, app);
  register_provider_routes(r, app);
  register_admin_routes(r, app);
  register_campaign_routes(r, app);
  register_webhook_routes(r, app);

  auto throttle = std::make_shared<app::LoginThrottle>();
  r.add("POST", base + "/session",
        [&app, throttle](Request& req) { return create_session(app, *throttle, req); });
  r.add("GET", base + "/session", [&app](Request& req) { return get_session(app, req); });
  r.add("DELETE", base + "/session", [&app](Request& req) { return delete_session(app, req); });

  // The dashboard.
  std::string web_dir = app.config().web_dir;
  r.add("GET", "/", [](Request&) {
    Response res;
    res.status = 302;
    res.set_header("Location", "/app/");
    return res;
  });
  r.add("GET", "/app", [web_dir](Request&) { return serve_dashboard(web_dir, ""); });
  r.add("GET", "/app/{path...}",
        [web_dir](Request& req) { return serve_dashboard(web_dir, req.param("path")); });

  return router;
}

http::Handler make_handler(app::App& app,
                           std::function<std::unique_ptr<net::HttpClient>()> make_client) {
  auto router = make_router(app, std::move(make_client));
  return [router](Request& req) {
    Response res = router->handle(req);
    if (!find_header(res.headers, "Cache-Control")) res.set_header("Cache-Control", "no-store");
    return res;
  };
}

}  // namespace herald::api
