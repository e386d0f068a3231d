// Templates: list (platform defaults and the agent's own), create, read, replace, delete, and
// preview with the agent's branding. Template ids are described in app/templates.h.
#include "app/templates.h"
#include "http/api/common.h"
#include "http/api/routes.h"

namespace herald::api {

namespace {

using http::Request;
using http::Response;

// problem() for a template error. problem() reads a lone "body" field as a malformed request
// body (400); for templates "body" is the SMS body, so an invalid one stays a 422.
Response template_problem(const Error& e) {
  Response r = problem(e);
  if (e.code == Errc::invalid_input && r.status == 400) {
    json j = json::parse(r.body, nullptr, false);
    if (j.is_object()) {
      j["status"] = 422;
      j["title"] = "Invalid input";
      r.body = j.dump();
    }
    r.status = 422;
  }
  return r;
}

json errors_json(const std::vector<FieldError>& errors) {
  json out = json::array();
  for (const auto& e : errors) out.push_back({{"field", e.field}, {"message", e.message}});
  return out;
}

// One template; `full` adds its parts (the list leaves them out to stay small).
json template_view(const std::string& agent_id, const app::TemplateInfo& t, bool full) {
  json j = {{"id", t.id},
            {"agentId", agent_id},
            {"source", app::to_string(t.source)},
            {"key", t.key},
            {"channel", to_string(t.channel)},
            {"name", t.name},
            {"version", t.version},
            {"createdAt", t.created_at ? json(format_time(*t.created_at)) : json(nullptr)},
            {"updatedAt", t.updated_at ? json(format_time(*t.updated_at)) : json(nullptr)}};
  if (t.source == app::TemplateSource::platform) {
    j["overridden"] = t.overridden;
  } else {
    j["overrides"] = t.overrides_default
                         ? json("default:" + t.key + ":" + std::string(to_string(t.channel)))
                         : json(nullptr);
  }
  if (t.channel == Channel::email) {
    j["subject"] = t.parts.subject;
    if (full) {
      j["html"] = t.parts.html;
      j["text"] = t.parts.text;
    }
    j["campaignReady"] = t.campaign_gaps.empty();
    j["campaignGaps"] = errors_json(t.campaign_gaps);
  } else {
    if (full) j["body"] = t.parts.body;
    j["campaignReady"] = true;
  }
  return j;
}

json preview_view(const std::string& agent_id, const app::Preview& p) {
  auto part = [&](bool present, const std::string& s) { return present ? json(s) : json(nullptr); };
  bool email = p.info.channel == Channel::email;
  json j = {{"template", template_view(agent_id, p.info, false)},
            {"channel", to_string(p.info.channel)},
            {"subject", part(email, p.rendered.subject)},
            {"html", part(email && !p.info.parts.html.empty(), p.rendered.html)},
            {"text", part(email && !p.info.parts.text.empty(), p.rendered.text)},
            {"body", part(!email, p.rendered.body)},
            {"sample", p.sample}};
  if (p.sms) {
    j["sms"] = {{"encoding", p.sms->encoding},
                {"characters", p.sms->characters},
                {"segments", p.sms->segments}};
  }
  return j;
}

// Reads the template fields of a body. Parts are strings; key, channel and name may be absent.
Result<app::TemplateInput> read_input(Input& in) {
  app::TemplateInput t;
  auto opt = [&](const char* field) -> std::optional<std::string> {
    if (!in.has(field)) return std::nullopt;
    return in.str(field);
  };
  t.key = opt("key");
  t.channel = opt("channel");
  t.name = opt("name");
  t.subject = in.str("subject");
  t.html = in.str("html");
  t.text = in.str("text");
  t.body = in.str("body");
  if (auto c = in.check(); !c) return std::unexpected(c.error());
  return t;
}

Response list(app::App& app, const Principal&, Request& req) {
  std::optional<Channel> channel;
  if (auto c = req.query_param("channel"); c && !c->empty()) {
    channel = parse_channel(*c);
    if (!channel) return problem(Error::invalid("channel", "must be email or sms"));
  }
  auto items = app::list_templates(app, req.param("id"), channel);
  if (!items) return template_problem(items.error());
  json out = json::array();
  for (const auto& t : *items) out.push_back(template_view(req.param("id"), t, false));
  json variables = json::object();
  for (Channel c : {Channel::email, Channel::sms}) {
    json names = json::array();
    for (auto v : template_variables(c)) names.push_back(v);
    variables[std::string(to_string(c))] = std::move(names);
  }
  return ok_json(200, {{"items", out}, {"variables", variables}});
}

Response create(app::App& app, const Principal&, Request& req) {
  auto in = Input::parse(req.body);
  if (!in) return problem(in.error());
  auto input = read_input(*in);
  if (!input) return template_problem(input.error());
  auto t = app::create_template(app, req.param("id"), *input);
  if (!t) return template_problem(t.error());
  return ok_json(201, template_view(req.param("id"), *t, true))
      .set_header("Location", "/api/v1/agents/" + req.param("id") + "/templates/" + t->id);
}

Response get(app::App& app, const Principal&, Request& req) {
  auto t = app::get_template(app, req.param("id"), req.param("tid"));
  if (!t) return template_problem(t.error());
  return ok_json(200, template_view(req.param("id"), *t, true));
}

Response put(app::App& app, const Principal&, Request& req) {
  auto in = Input::parse(req.body);
  if (!in) return problem(in.error());
  auto input = read_input(*in);
  if (!input) return template_problem(input.error());
  auto saved = app::put_template(app, req.param("id"), req.param("tid"), *input);
  if (!saved) return template_problem(saved.error());
  auto r = ok_json(saved->created ? 201 : 200, template_view(req.param("id"), saved->info, true));
  if (saved->created) {
    r.set_header("Location", "/api/v1/agents/" + req.param("id") + "/templates/" + saved->info.id);
  }
  return r;
}

Response remove(app::App& app, const Principal&, Request& req) {
  if (auto r = app::delete_template(app, req.param("id"), req.param("tid")); !r) {
    return template_problem(r.error());
  }
  http::Response r;
  r.status = 204;
  return r;
}

// The optional {"sample": {…}} of a preview request; an empty body means no sample.
Result<json> sample_of(const std::string& body) {
  if (body.empty()) return json(nullptr);
  auto in = Input::parse(body);
  if (!in) return std::unexpected(in.error());
  json j = json::parse(body, nullptr, false);
  return j.contains("sample") ? j["sample"] : json(nullptr);
}

Response preview(app::App& app, const Principal&, Request& req) {
  auto sample = sample_of(req.body);
  if (!sample) return problem(sample.error());
  auto p = app::preview_template(app, req.param("id"), req.param("tid"), *sample);
  if (!p) return template_problem(p.error());
  return ok_json(200, preview_view(req.param("id"), *p));
}

Response preview_draft(app::App& app, const Principal&, Request& req) {
  auto in = Input::parse(req.body);
  if (!in) return problem(in.error());
  auto input = read_input(*in);
  if (!input) return template_problem(input.error());
  auto sample = sample_of(req.body);
  if (!sample) return problem(sample.error());
  auto p = app::preview_draft(app, req.param("id"), *input, *sample);
  if (!p) return template_problem(p.error());
  return ok_json(200, preview_view(req.param("id"), *p));
}

}  // namespace

void register_template_routes(http::Router& r, app::App& app) {
  const std::string base = "/api/v1/agents/{id}/templates";
  r.add("GET", base, guarded(app, list));
  r.add("POST", base, guarded(app, create));
  // An unsaved template rendered for the editor's live preview.
  r.add("POST", base + "/preview", guarded(app, preview_draft));
  r.add("GET", base + "/{tid}", guarded(app, get));
  r.add("PUT", base + "/{tid}", guarded(app, put));
  r.add("DELETE", base + "/{tid}", guarded(app, remove));
  r.add("POST", base + "/{tid}/preview", guarded(app, preview));
}

}  // namespace herald::api
