// Contacts, CSV import, suppressions, the public unsubscribe pages (/u/{token}) and Twilio's
// inbound SMS webhook (/webhooks/twilio/{agent}/inbound).
#include "http/api/contacts_api.h"
#include "core/escape.h"

#include <spdlog/spdlog.h>

#include <charconv>

#include "app/contacts.h"
#include "app/contacts_import.h"
#include "app/suppressions.h"
#include "app/unsubscribe.h"
#include "http/api/common.h"
#include "http/api/routes.h"

namespace herald::api {

namespace {

using http::Request;
using http::Response;

std::vector<std::string_view> segments(std::string_view path) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < path.size()) {
    std::size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    if (j > i) out.push_back(path.substr(i, j - i));
    i = j + 1;
  }
  return out;
}

json or_null(const std::string& s) {
  return s.empty() ? json(nullptr) : json(s);
}

json contact_view(const store::Contact& c,
                  std::optional<std::pair<bool, bool>> suppressed = std::nullopt) {
  json j = {{"id", c.id},
            {"agentId", c.agent_id},
            {"name", c.name},
            {"email", or_null(c.email)},
            {"phone", or_null(c.phone)},
            {"role", c.role},
            {"tags", c.tags},
            {"timeZone", or_null(c.time_zone)},
            {"consent", {{"email", c.consent_email}, {"sms", c.consent_sms}}},
            {"createdAt", format_time(c.created_at)},
            {"updatedAt", format_time(c.updated_at)}};
  if (suppressed) j["suppressed"] = {{"email", suppressed->first}, {"sms", suppressed->second}};
  return j;
}

json suppression_view(const store::Suppression& s) {
  return {{"id", s.id},
          {"channel", to_string(s.channel)},
          {"address", s.address},
          {"reason", store::to_string(s.reason)},
          {"source", s.source},
          {"detail", s.detail},
          {"createdAt", format_time(s.created_at)}};
}

json page_view(json items, const std::string& next) {
  return {{"items", std::move(items)}, {"nextCursor", or_null(next)}};
}

// The limit query parameter (1..500, default 50); adds a field error when malformed.
int limit_param(const Request& req, std::vector<FieldError>& errors) {
  int limit = 50;
  if (auto l = req.query_param("limit")) {
    auto [p, ec] = std::from_chars(l->data(), l->data() + l->size(), limit);
    if (ec != std::errc() || p != l->data() + l->size() || limit < 1 || limit > 500) {
      errors.push_back({"limit", "must be an integer from 1 to 500"});
    }
  }
  return limit;
}

Response no_content() {
  Response r;
  r.status = 204;
  return r;
}

// ---- contacts ----

// The JSON fields of a contact; only those present are set.
Result<app::ContactInput> contact_input(const Request& req) {
  auto in = Input::parse(req.body);
  if (!in) return std::unexpected(in.error());
  app::ContactInput c;
  for (auto [name, field] : {std::pair{"name", &c.name},
                             {"email", &c.email},
                             {"phone", &c.phone},
                             {"role", &c.role},
                             {"timeZone", &c.time_zone}}) {
    if (in->has(name)) *field = in->str(name);
  }
  if (in->has("tags")) c.tags = in->strings("tags");
  if (in->has("consent.email")) c.consent_email = in->boolean("consent.email");
  if (in->has("consent.sms")) c.consent_sms = in->boolean("consent.sms");
  if (auto chk = in->check(); !chk) return std::unexpected(chk.error());
  return c;
}

// Whether the contact's email and phone are suppressed.
std::pair<bool, bool> suppressed_flags(app::App& app, const store::Contact& c) {
  auto& s = app.store().contacts();
  bool email =
      !c.email.empty() && s.is_suppressed(c.agent_id, Channel::email, c.email).value_or(false);
  bool sms = !c.phone.empty() && s.is_suppressed(c.agent_id, Channel::sms, c.phone).value_or(false);
  return {email, sms};
}

Response create_contact(app::App& app, const Principal&, Request& req) {
  auto in = contact_input(req);
  if (!in) return problem(in.error());
  auto c = app::create_contact(app, req.param("id"), *in);
  if (!c) return problem(c.error());
  return ok_json(201, contact_view(*c, suppressed_flags(app, *c)))
      .set_header("Location", "/api/v1/agents/" + c->agent_id + "/contacts/" + c->id);
}

Response list_contacts(app::App& app, const Principal&, Request& req) {
  store::ContactQuery q;
  q.agent_id = req.param("id");
  std::vector<FieldError> errors;
  if (auto role = req.query_param("role")) {
    if (*role != "buyer" && *role != "seller" && *role != "lead") {
      errors.push_back({"role", "must be buyer, seller or lead"});
    }
    q.role = *role;
  }
  if (auto tag = req.query_param("tag")) {
    std::string why;
    q.tag = app::normalize_tag(*tag, why);
    if (!q.tag) errors.push_back({"tag", why});
  }
  q.prefix = req.query_param("q").value_or("");
  if (q.prefix.size() > 200) errors.push_back({"q", "must be at most 200 characters"});
  q.cursor = req.query_param("cursor").value_or("");
  q.limit = limit_param(req, errors);
  if (!errors.empty()) return problem(Error::invalid(errors));
  auto page = app::list_contacts(app, q);
  if (!page) return problem(page.error());

  // Suppression flags for the whole page in two queries.
  std::vector<std::string> emails, phones;
  for (const auto& c : page->items) {
    if (!c.email.empty()) emails.push_back(c.email);
    if (!c.phone.empty()) phones.push_back(c.phone);
  }
  auto& store = app.store().contacts();
  auto sup_email = store.suppressed_among(q.agent_id, Channel::email, emails);
  auto sup_sms = store.suppressed_among(q.agent_id, Channel::sms, phones);
  if (!sup_email) return problem(sup_email.error());
  if (!sup_sms) return problem(sup_sms.error());
  auto contains = [](const std::vector<std::string>& v, const std::string& s) {
    return !s.empty() && std::find(v.begin(), v.end(), s) != v.end();
  };
  json items = json::array();
  for (const auto& c : page->items) {
    items.push_back(
        contact_view(c, std::pair{contains(*sup_email, c.email), contains(*sup_sms, c.phone)}));
  }
  return ok_json(200, page_view(std::move(items), page->next_cursor));
}

Response get_contact(app::App& app, const Principal&, Request& req) {
  auto c = app::get_contact(app, req.param("id"), req.param("cid"));
  if (!c) return problem(c.error());
  return ok_json(200, contact_view(*c, suppressed_flags(app, *c)));
}

Response patch_contact(app::App& app, const Principal&, Request& req) {
  auto in = contact_input(req);
  if (!in) return problem(in.error());
  auto c = app::update_contact(app, req.param("id"), req.param("cid"), *in);
  if (!c) return problem(c.error());
  return ok_json(200, contact_view(*c, suppressed_flags(app, *c)));
}

Response delete_contact(app::App& app, const Principal&, Request& req) {
  if (auto r = app::delete_contact(app, req.param("id"), req.param("cid")); !r)
    return problem(r.error());
  return no_content();
}

Response import_contacts(app::App& app, const Principal&, Request& req) {
  if (!content_type_is(req, {"text/csv", "application/csv"})) {
    return problem(Error{Errc::unsupported, "send the file with Content-Type: text/csv"});
  }
  // A large upload arrives spooled to a file; a small one (or without the spool) in memory.
  auto source = req.body_file.empty() ? app::CsvReader::from_string(req.body)
                                      : app::CsvReader::from_file(req.body_file);
  auto report = app::import_contacts_csv(app, req.param("id"), std::move(source));
  if (!report) return problem(report.error());
  json rejected = json::array();
  for (const auto& r : report->rejected)
    rejected.push_back({{"line", r.line}, {"reason", r.reason}});
  return ok_json(200, {{"total", report->total},
                       {"imported", report->imported},
                       {"updated", report->updated},
                       {"rejectedCount", report->rejected_count},
                       {"rejected", std::move(rejected)},
                       {"rejectedTruncated", report->rejected_count > static_cast<std::int64_t>(
                                                                          report->rejected.size())},
                       {"ignoredColumns", report->ignored_columns}});
}

// ---- suppressions ----

Response list_suppressions(app::App& app, const Principal&, Request& req) {
  store::SuppressionQuery q;
  q.agent_id = req.param("id");
  std::vector<FieldError> errors;
  if (auto c = req.query_param("channel")) {
    q.channel = parse_channel(*c);
    if (!q.channel) errors.push_back({"channel", "must be email or sms"});
  }
  if (auto r = req.query_param("reason")) {
    q.reason = store::parse_suppression_reason(*r);
    if (!q.reason)
      errors.push_back({"reason", "must be unsubscribed, bounced, complained, stop or manual"});
  }
  if (auto a = req.query_param("address")) {
    if (!q.channel) errors.push_back({"address", "needs channel (email or sms)"});
    q.address = *a;
  }
  q.cursor = req.query_param("cursor").value_or("");
  q.limit = limit_param(req, errors);
  if (!errors.empty()) return problem(Error::invalid(errors));
  auto page = app::list_suppressions(app, q);
  if (!page) return problem(page.error());
  json items = json::array();
  for (const auto& s : page->items) items.push_back(suppression_view(s));
  return ok_json(200, page_view(std::move(items), page->next_cursor));
}

Response add_suppression(app::App& app, const Principal&, Request& req) {
  auto in = Input::parse(req.body);
  if (!in) return problem(in.error());
  app::NewSuppression s{in->str("channel"), in->str("address"), in->str("reason"),
                        in->str("detail")};
  if (auto chk = in->check(); !chk) return problem(chk.error());
  auto added = app::add_suppression(app, req.param("id"), s);
  if (!added) return problem(added.error());
  const auto& row = added->suppression;
  return ok_json(added->created ? 201 : 200, suppression_view(row))
      .set_header("Location", "/api/v1/agents/" + row.agent_id + "/suppressions/" + row.id);
}

Response delete_suppression(app::App& app, const Principal&, Request& req) {
  if (auto r = app::delete_suppression(app, req.param("id"), req.param("sid")); !r)
    return problem(r.error());
  return no_content();
}

// DELETE …/suppressions?channel=&address= lifts every suppression of one address.
Response delete_suppressions_of_address(app::App& app, const Principal&, Request& req) {
  std::vector<FieldError> errors;
  auto channel_text = req.query_param("channel");
  auto channel = channel_text ? parse_channel(*channel_text) : std::nullopt;
  if (!channel) errors.push_back({"channel", "is required (email or sms)"});
  auto address = req.query_param("address");
  if (!address || address->empty()) errors.push_back({"address", "is required"});
  if (!errors.empty()) return problem(Error::invalid(errors));
  auto n = app::remove_suppressions(app, req.param("id"), *channel, *address);
  if (!n) return problem(n.error());
  return no_content();
}

// ---- public unsubscribe pages ----

// A small self-contained page: no scripts, no external resources, readable on a phone.
Response html_page(int status, const std::string& title, const std::string& body_html) {
  std::string html =
      "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
      "<meta name=\"robots\" content=\"noindex\"><title>" +
      markup_escape(title) +
      "</title><style>"
      "body{font-family:system-ui,-apple-system,Segoe "
      "UI,Roboto,sans-serif;background:#f4f5f7;color:#1f2933;"
      "margin:0;padding:2rem 1rem}"
      "main{max-width:28rem;margin:0 auto;background:#fff;border-radius:8px;padding:2rem;"
      "box-shadow:0 1px 3px rgba(0,0,0,.12)}"
      "h1{font-size:1.4rem;margin:0 0 1rem}p{line-height:1.5}"
      "button{font:inherit;background:#1d4ed8;color:#fff;border:0;border-radius:6px;padding:.7rem "
      "1.4rem;"
      "cursor:pointer}button:focus{outline:3px solid #93c5fd;outline-offset:2px}"
      "</style></head><body><main>" +
      body_html + "</main></body></html>";
  Response r = Response::text(status, std::move(html), "text/html; charset=utf-8");
  r.set_header(
      "Content-Security-Policy",
      "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; "
      "base-uri 'none'");
  r.set_header("Referrer-Policy", "no-referrer");
  r.set_header("X-Content-Type-Options", "nosniff");
  r.set_header("X-Robots-Tag", "noindex");
  return r;
}

std::string what_is_sent(Channel c) {
  return c == Channel::email ? "emails" : "text messages";
}

Response unsubscribe_error(const Error& e) {
  if (e.code == Errc::not_found) {
    return html_page(
        404, "Link not valid",
        "<h1>This link is not valid</h1><p>The unsubscribe link may have been copied incompletely. "
        "Please use the link from the most recent message you received.</p>");
  }
  spdlog::error("unsubscribe page failed: {}", e.message);
  return html_page(
      500, "Something went wrong",
      "<h1>Something went wrong</h1><p>We could not process your request. Please try again in "
      "a few minutes.</p>");
}

Response unsubscribe_get(app::App& app, Request& req) {
  auto page = app::unsubscribe_page(app, req.param("token"));
  if (!page) return unsubscribe_error(page.error());
  std::string who = markup_escape(page->company_name);
  std::string what = what_is_sent(page->target.channel);
  std::string to = markup_escape(page->masked_address);
  if (page->unsubscribed) {
    return html_page(200, "You're unsubscribed",
                     "<h1>You're unsubscribed</h1><p>" + who + " no longer sends " + what + " to " +
                         to + ".</p>");
  }
  // A button, not an automatic action: link scanners that follow GET links unsubscribe nobody.
  return html_page(
      200, "Unsubscribe",
      "<h1>Unsubscribe from " + who + "?</h1><p>Stop " + what + " from " + who + " to " + to +
          ".</p><form method=\"post\"><button type=\"submit\">Unsubscribe</button></form>");
}

Response unsubscribe_post(app::App& app, Request& req) {
  // RFC 8058: a mail provider's one-click POST carries List-Unsubscribe=One-Click (form-encoded
  // or multipart), no cookies. Any POST unsubscribes; the body only tells us who clicked.
  bool one_click = false;
  if (content_type_is(req, {"application/x-www-form-urlencoded"})) {
    for (const auto& [name, value] : http::parse_form(req.body)) {
      one_click = one_click || (name == "List-Unsubscribe" && value == "One-Click");
    }
  } else if (content_type_is(req, {"multipart/form-data"})) {
    one_click = req.body.find("List-Unsubscribe") != std::string::npos &&
                req.body.find("One-Click") != std::string::npos;
  }
  std::string source = one_click ? "one-click" : "unsubscribe page";
  auto page = app::unsubscribe(app, req.param("token"), source);
  if (!page) return unsubscribe_error(page.error());
  return html_page(200, "You're unsubscribed",
                   "<h1>You're unsubscribed</h1><p>" + markup_escape(page->company_name) +
                       " will no longer send " + what_is_sent(page->target.channel) + " to " +
                       markup_escape(page->masked_address) + ".</p>");
}

// ---- Twilio inbound SMS ----

Response twilio_inbound(app::App& app, Request& req) {
  if (!content_type_is(req, {"application/x-www-form-urlencoded"})) {
    return Response::problem(415, "Unsupported Media Type",
                             "expected application/x-www-form-urlencoded");
  }
  app::TwilioInboundRequest in;
  // Twilio signs the URL it was configured with: Herald's public URL plus this path and query.
  in.url = app.config().public_url + req.target;
  in.params = http::parse_form(req.body);
  in.signature = std::string(req.header("X-Twilio-Signature").value_or(""));
  auto twiml = app::handle_twilio_inbound(app, req.param("agent"), in);
  if (!twiml) {
    if (twiml.error().code == Errc::forbidden)
      return Response::problem(403, "Forbidden", "invalid signature");
    return problem(twiml.error());
  }
  return Response::text(200, std::move(*twiml), "text/xml");
}

}  // namespace

bool is_contact_import(std::string_view method, std::string_view path) {
  if (method != "POST") return false;
  auto s = segments(path);
  return s.size() == 6 && s[0] == "api" && s[1] == "v1" && s[2] == "agents" && s[4] == "contacts" &&
         s[5] == "import";
}

http::BodySpool contact_import_spool(app::App& app, std::string dir, std::size_t max_bytes) {
  auto allowed = [&app](const Request& head) {
    if (!is_contact_import(head.method, head.path)) return false;
    // The route's own guard (authentication, CSRF, tenant scope) run on the head alone.
    Request probe = head;
    probe.params["id"] = std::string(segments(head.path)[3]);
    auto check = guarded(app, [](app::App&, const Principal&, Request&) { return no_content(); });
    return check(probe).status == 204;
  };
  return http::BodySpool{std::move(allowed), max_bytes, std::move(dir)};
}

void register_contact_routes(http::Router& r, app::App& app) {
  const std::string base = "/api/v1/agents/{id}";
  r.add("POST", base + "/contacts", guarded(app, create_contact));
  r.add("GET", base + "/contacts", guarded(app, list_contacts));
  r.add("POST", base + "/contacts/import", guarded(app, import_contacts));
  r.add("GET", base + "/contacts/{cid}", guarded(app, get_contact));
  r.add("PATCH", base + "/contacts/{cid}", guarded(app, patch_contact));
  r.add("DELETE", base + "/contacts/{cid}", guarded(app, delete_contact));
  r.add("GET", base + "/suppressions", guarded(app, list_suppressions));
  r.add("POST", base + "/suppressions", guarded(app, add_suppression));
  r.add("DELETE", base + "/suppressions", guarded(app, delete_suppressions_of_address));
  r.add("DELETE", base + "/suppressions/{sid}", guarded(app, delete_suppression));

  // Public: the token is the credential. No session, no CSRF: mail clients post here directly.
  r.add("GET", "/u/{token}", [&app](Request& req) { return unsubscribe_get(app, req); });
  r.add("POST", "/u/{token}", [&app](Request& req) { return unsubscribe_post(app, req); });
  r.add("POST", "/webhooks/twilio/{agent}/inbound",
        [&app](Request& req) { return twilio_inbound(app, req); });
}

}  // namespace herald::api
