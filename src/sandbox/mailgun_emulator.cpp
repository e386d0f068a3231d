// Mailgun emulation: POST /v3/{domain}/messages, GET /v3/domains/{domain}, GET /v4/domains.
// Contract: provider-specs/README.md "Mailgun" and mailgun/mailgun-openapi.yaml. US and EU
// differ only by host, so both are served here. Errors are {"message": "..."} except 401,
// whose body is the bare string "Forbidden".
#include <nlohmann/json.hpp>

#include "core/json_parse.h"
#include "sandbox/emulators.h"
#include "sandbox/multipart.h"

namespace herald::sandbox {

namespace {

using mailgun::Fields;
using nlohmann::json;

constexpr std::size_t kMaxRecipients = 1000;  // batch sending: at most 1,000 recipients

http::Response message_response(int status, std::string_view message) {
  return http::Response::json(status, json_text(json{{"message", message}}));
}

// HTTP Basic with user "api" and the key as password (spec basicAuth).
std::optional<http::Response> authenticate(const http::Request& request, std::string& key) {
  auto credentials = basic_credentials(request);
  if (!credentials || credentials->first != "api" || credentials->second.empty() ||
      is_revoked(credentials->second)) {
    return http::Response::text(401, "Forbidden");
  }
  key = std::move(credentials->second);
  return std::nullopt;
}

http::Response fault_response(const Fault& fault, std::string_view domain) {
  int s = fault.status;
  http::Response r;
  if (s == 401) {
    r = http::Response::text(401, "Forbidden");
  } else if (s == 429) {
    r = message_response(429, "Domain " + std::string(domain) +
                                  " is not allowed to send: account-requests-per-sec limit "
                                  "exceeded, try again after " +
                                  std::to_string(fault.retry_after.value_or(1)) + " seconds");
  } else if (s >= 500) {
    r = message_response(s, "Internal Server Error");
  } else if (s == 403) {
    r = message_response(403, "Domain " + std::string(domain) + " is not allowed to send");
  } else {
    r = message_response(s, "Injected fault");
  }
  return with_fault(std::move(r), fault);
}

// The request's form fields, from multipart/form-data (what the spec and the SDK use) or
// x-www-form-urlencoded (what many clients send, e.g. Python requests' data=); nullopt if a
// multipart body is malformed.
std::optional<Fields> read_fields(const http::Request& request) {
  std::string_view type = request.header("Content-Type").value_or("");
  Fields fields;
  if (istarts_with(type, "multipart/form-data")) {
    auto boundary = multipart_boundary(type);
    if (!boundary) return std::nullopt;
    auto parts = parse_multipart(request.body, *boundary);
    if (!parts) return std::nullopt;
    for (FormField& p : *parts) fields.emplace_back(std::move(p.name), std::move(p.value));
  } else if (istarts_with(type, "application/x-www-form-urlencoded")) {
    fields = http::parse_form(request.body);
  }
  return fields;
}

const std::string* first(const Fields& fields, std::string_view name) {
  for (const auto& [k, v] : fields) {
    if (k == name && !v.empty()) return &v;
  }
  return nullptr;
}

// Every address of a repeatable, comma-separated field (to, cc, bcc).
std::vector<std::string> addresses(const Fields& fields, std::string_view name) {
  std::vector<std::string> out;
  for (const auto& [k, v] : fields) {
    if (k != name) continue;
    for (std::string& a : split_addresses(v)) out.push_back(std::move(a));
  }
  return out;
}

// Replaces %recipient.NAME% with the recipient's variable (batch sending).
std::string substitute(std::string text, const json* vars) {
  if (!vars || text.find("%recipient.") == std::string::npos) return text;
  std::string out;
  std::size_t i = 0;
  while (i < text.size()) {
    std::size_t start = text.find("%recipient.", i);
    if (start == std::string::npos) break;
    std::size_t end = text.find('%', start + 11);
    if (end == std::string::npos) break;
    std::string name = text.substr(start + 11, end - start - 11);
    out.append(text, i, start - i);
    auto it = vars->find(name);
    if (it != vars->end()) {
      out += it->is_string() ? it->get<std::string>() : json_text(*it);
    } else {
      out.append(text, start, end - start + 1);
    }
    i = end + 1;
  }
  out.append(text, i, std::string::npos);
  return out;
}

std::optional<std::string> maybe(const Fields& fields, std::string_view name) {
  const std::string* v = first(fields, name);
  return v ? std::optional<std::string>(*v) : std::nullopt;
}

// Queues the events of accepted `records` when the domain has webhooks in this account.
void queue_events(SandboxState& state, const std::string& key, const std::string& domain,
                  const std::vector<RecordedMessage>& records) {
  std::string scope = mailgun_scope(key, domain);
  if (!state.webhooks.mailgun.any(scope)) return;
  std::vector<Delivery> deliveries;
  for (const RecordedMessage& m : records) {
    Delivery d = delivery_of(m, &mailgun::event_posts, scope);
    d.account = key;
    d.domain = domain;
    deliveries.push_back(std::move(d));
  }
  state.queue_events(std::move(deliveries), kMailgun);
}

http::Response send(SandboxState& state, http::Request& request) {
  std::string key;
  if (auto denied = authenticate(request, key)) return std::move(*denied);
  const std::string& domain = request.param("domain");
  if (domain.find('.') == std::string::npos) {
    return message_response(404, "Domain not found: " + domain);
  }
  std::chrono::milliseconds delay{0};
  if (auto fault = state.take_fault(kMailgun)) {
    if (fault->status) return fault_response(*fault, domain);
    delay = fault->delay;
  }

  auto respond = [&]() -> http::Response {
    auto fields = read_fields(request);
    if (!fields) return message_response(400, "Malformed multipart/form-data body");
    // Checked in this order, one message at a time, as Mailgun answers.
    const std::string* from = first(*fields, "from");
    if (!from) return message_response(400, "'from' parameter is missing");
    if (!valid_mailbox(*from)) {
      return message_response(
          400, "'from' parameter is not a valid address. please check documentation");
    }
    std::vector<std::string> to = addresses(*fields, "to");
    if (to.empty()) return message_response(400, "'to' parameter is missing");
    for (const std::string& a : to) {
      if (!valid_mailbox(a)) {
        return message_response(
            400, "'to' parameter is not a valid address. please check documentation");
      }
    }
    std::size_t total =
        to.size() + addresses(*fields, "cc").size() + addresses(*fields, "bcc").size();
    if (total > kMaxRecipients) {
      return message_response(400, "Too many recipients: the maximum is 1000");
    }
    const std::string* subject = first(*fields, "subject");
    if (!subject) return message_response(400, "'subject' parameter is missing");
    if (!first(*fields, "text") && !first(*fields, "html") && !first(*fields, "amp-html") &&
        !first(*fields, "template")) {
      return message_response(
          400,
          "Need at least one of 'text', 'html', 'amp-html' or 'template' parameters specified");
    }
    json recipient_variables = json::object();
    if (const std::string* rv = first(*fields, "recipient-variables")) {
      recipient_variables = parse_json(*rv);
      if (recipient_variables.is_discarded() || !recipient_variables.is_object()) {
        return message_response(400, "'recipient-variables' parameter is not a valid JSON");
      }
    }

    // Mailgun ids are RFC 2392 Message-Ids, wrapped in <> in the send response.
    TimePoint now = state.now();
    std::string stamp = iso8601(now);  // "2026-01-02T03:04:05.678Z" -> "20260102030405"
    std::string digits;
    for (char c : stamp.substr(0, 19)) {
      if (c >= '0' && c <= '9') digits.push_back(c);
    }
    std::string id = "<" + digits + "." + random_hex(16) + "@" + domain + ">";

    bool test_mode = iequals(maybe(*fields, "o:testmode").value_or(""), "yes");
    if (!test_mode) {
      std::vector<std::pair<std::string, std::string>> headers;
      for (const auto& [k, v] : *fields) {
        if (k.starts_with("h:")) headers.emplace_back(k.substr(2), v);
      }
      std::optional<std::string> reply_to;
      for (const auto& [k, v] : headers) {
        if (iequals(k, "Reply-To")) reply_to = v;
      }
      std::string account = key_hint(key);
      std::vector<RecordedMessage> records;
      records.reserve(to.size());
      for (std::string& recipient : to) {
        auto vars_it = recipient_variables.find(email_address(recipient));
        const json* vars =
            vars_it != recipient_variables.end() && vars_it->is_object() ? &*vars_it : nullptr;
        auto sub = [&](const std::optional<std::string>& v) {
          return v ? std::optional<std::string>(substitute(*v, vars)) : std::nullopt;
        };
        RecordedMessage m;
        m.provider = kMailgun;
        m.account = account;
        m.from = *from;
        m.to = std::move(recipient);
        m.reply_to = reply_to;
        m.subject = substitute(*subject, vars);
        m.text = sub(maybe(*fields, "text"));
        m.html = sub(maybe(*fields, "html"));
        m.headers = headers;
        for (auto& h : m.headers) h.second = substitute(std::move(h.second), vars);
        // Herald's id is in v:herald_message_id (possibly "%recipient.herald_message_id%").
        m.herald_message_id = substitute(maybe(*fields, "v:herald_message_id").value_or(""), vars);
        m.provider_message_id = id;
        m.received_at = now;
        records.push_back(std::move(m));
      }
      queue_events(state, key, domain, records);
      state.messages.record(std::move(records));
    }
    return http::Response::json(200,
                                json_text(json{{"id", id}, {"message", "Queued. Thank you."}}));
  };
  http::Response response = respond();
  response.delay = delay;
  return response;
}

json domain_json(const std::string& name) {
  return {{"created_at", "Thu, 13 Oct 2011 18:02:00 GMT"},
          {"id", "5a1c1d5f1a2b3c4d5e6f7a8b"},
          {"is_disabled", false},
          {"name", name},
          {"require_tls", false},
          {"skip_verification", false},
          {"smtp_login", "postmaster@" + name},
          {"spam_action", "disabled"},
          {"state", "active"},
          {"type", "custom"},
          {"web_prefix", "email"},
          {"web_scheme", "https"},
          {"wildcard", false}};
}

// GET /v3/domains/{domain} and /v4/domains/{domain}: credential checks that need the primary key.
http::Response get_domain(SandboxState&, http::Request& request) {
  std::string key;
  if (auto denied = authenticate(request, key)) return std::move(*denied);
  const std::string& domain = request.param("domain");
  if (domain.find('.') == std::string::npos) {
    return message_response(404, "Domain not found: " + domain);
  }
  json out = {{"domain", domain_json(domain)},
              {"receiving_dns_records", json::array()},
              {"sending_dns_records", json::array()}};
  return http::Response::json(200, json_text(out));
}

// GET /v4/domains (and /v3/domains): the list, also a credential check.
http::Response list_domains(SandboxState&, http::Request& request) {
  std::string key;
  if (auto denied = authenticate(request, key)) return std::move(*denied);
  json out = {{"total_count", 1}, {"items", json::array({domain_json("mg.example.com")})}};
  return http::Response::json(200, json_text(out));
}

}  // namespace

namespace mailgun {

std::optional<http::Response> authenticate(const http::Request& request, std::string& key) {
  return sandbox::authenticate(request, key);
}

http::Response message(int status, std::string_view text) {
  return message_response(status, text);
}

std::optional<Fields> read_fields(const http::Request& request) {
  return sandbox::read_fields(request);
}

}  // namespace mailgun

void add_mailgun_routes(http::Router& router, SandboxState& state) {
  router.add("POST", "/v3/{domain}/messages",
             [&state](http::Request& r) { return send(state, r); });
  for (const char* path : {"/v3/domains/{domain}", "/v4/domains/{domain}"}) {
    router.add("GET", path, [&state](http::Request& r) { return get_domain(state, r); });
  }
  for (const char* path : {"/v3/domains", "/v4/domains"}) {
    router.add("GET", path, [&state](http::Request& r) { return list_domains(state, r); });
  }
}

}  // namespace herald::sandbox
