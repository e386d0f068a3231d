// Resend emulation: POST /emails, POST /emails/batch, GET /domains.
// Contract: provider-specs/README.md "Resend" and resend/resend.yaml. Errors are
// {"statusCode","name","message"}; clients branch on `name`.
#include <expected>
#include <nlohmann/json.hpp>

#include "core/json_parse.h"
#include "sandbox/emulators.h"

namespace herald::sandbox {

namespace resend {

// Resend's error answer: {"statusCode","name","message"}.
http::Response error(int status, std::string_view name, std::string_view message) {
  nlohmann::json j = {{"statusCode", status}, {"name", name}, {"message", message}};
  return http::Response::json(status, json_text(j));
}
// Checks what Resend checks before anything else. Its edge (Cloudflare) refuses a request
// without User-Agent with 403 "error code: 1010" (docs: api-reference/introduction); then a
// missing key is 401 missing_api_key and a bad one 403 invalid_api_key (docs: errors).
std::expected<std::string, http::Response> authenticate(const http::Request& request) {
  auto agent = request.header("User-Agent");
  if (!agent || agent->empty()) {
    return std::unexpected(http::Response::text(403, "error code: 1010"));
  }
  auto key = bearer_token(request);
  if (!key) {
    return std::unexpected(
        error(401, "missing_api_key",
              "Missing API key in the authorization header. Include the following "
              "header in the request: Authorization: Bearer YOUR_API_KEY"));
  }
  if (is_revoked(*key)) {
    return std::unexpected(error(403, "invalid_api_key", "API key is invalid"));
  }
  return *key;
}

}  // namespace resend

namespace {

using nlohmann::json;
using resend::authenticate;

http::Response error_response(int status, std::string_view name, std::string_view message) {
  return resend::error(status, name, message);
}

constexpr std::size_t kMaxRecipients = 50;  // spec: `to` maxItems 50
constexpr std::size_t kMaxBatch = 100;      // docs: up to 100 emails per batch call
constexpr std::size_t kMaxIdempotencyKey = 256;
constexpr std::string_view kAddressFormat =
    "The email address needs to follow the `email@example.com` or `Name <email@example.com>` "
    "format.";

struct ResendError {
  int status = 422;
  std::string name;
  std::string message;
};

http::Response error_response(const ResendError& e) {
  return error_response(e.status, e.name, e.message);
}

http::Response fault_response(const Fault& fault) {
  int s = fault.status;
  http::Response r;
  if (s == 429) {
    r = error_response(429, "rate_limit_exceeded",
                       "Too many requests. You can only make 2 requests per second. See rate "
                       "limit response headers for more information.");
    r.set_header("ratelimit-limit", "2");
    r.set_header("ratelimit-remaining", "0");
    r.set_header("ratelimit-reset", std::to_string(fault.retry_after.value_or(1)));
  } else if (s >= 500) {
    r = error_response(s, s == 500 ? "application_error" : "internal_server_error",
                       "An unexpected error occurred. Please try again later.");
  } else if (s == 401) {
    r = error_response(401, "missing_api_key", "Missing API key in the authorization header.");
  } else if (s == 403) {
    r = error_response(403, "invalid_api_key", "API key is invalid");
  } else {
    r = error_response(s, "validation_error", "Injected fault.");
  }
  return with_fault(std::move(r), fault);
}

// One email of a request, validated.
struct Email {
  std::string from;
  std::vector<std::string> to;
  std::optional<std::string> reply_to;
  std::string subject;
  std::optional<std::string> text;
  std::optional<std::string> html;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string herald_message_id;
};

ResendError missing(std::string_view field) {
  return {422, "missing_required_field", "Missing `" + std::string(field) + "` field."};
}
ResendError invalid(std::string message) {
  return {422, "validation_error", std::move(message)};
}

// Reads a string-or-array-of-strings address field; nullopt if the shape or an address is wrong.
std::optional<std::vector<std::string>> address_list(const json& v) {
  std::vector<std::string> out;
  if (v.is_string()) {
    out.push_back(v.get<std::string>());
  } else if (v.is_array()) {
    for (const json& item : v) {
      if (!item.is_string()) return std::nullopt;
      out.push_back(item.get<std::string>());
    }
  } else {
    return std::nullopt;
  }
  for (const std::string& a : out) {
    if (!valid_mailbox(a)) return std::nullopt;
  }
  return out;
}

bool valid_tag_text(const json& v) {
  if (!v.is_string()) return false;
  const auto& s = v.get_ref<const std::string&>();
  if (s.empty() || s.size() > 256) return false;
  for (char c : s) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

std::optional<std::string> optional_string(const json& e, const char* name) {
  auto it = e.find(name);
  if (it == e.end() || !it->is_string()) return std::nullopt;
  return it->get<std::string>();
}

// Validates one email object the way POST /emails does (spec /emails requestBody).
std::expected<Email, ResendError> parse_email(const json& e, bool in_batch) {
  if (!e.is_object()) return std::unexpected(invalid("Each email must be a JSON object."));
  Email out;

  auto from = e.find("from");
  if (from == e.end() || from->is_null()) return std::unexpected(missing("from"));
  if (!from->is_string() || !valid_mailbox(from->get_ref<const std::string&>())) {
    return std::unexpected(ResendError{422, "invalid_from_address",
                                       "Invalid `from` field. " + std::string(kAddressFormat)});
  }
  out.from = from->get<std::string>();

  auto to = e.find("to");
  if (to == e.end() || to->is_null() || (to->is_array() && to->empty()) ||
      (to->is_string() && to->get_ref<const std::string&>().empty())) {
    return std::unexpected(missing("to"));
  }
  auto recipients = address_list(*to);
  if (!recipients) {
    return std::unexpected(invalid("Invalid `to` field. " + std::string(kAddressFormat)));
  }
  if (recipients->size() > kMaxRecipients) {
    return std::unexpected(invalid("Too many recipients in the `to` field. The maximum is 50."));
  }
  out.to = std::move(*recipients);

  auto subject = e.find("subject");
  if (subject == e.end() || subject->is_null()) return std::unexpected(missing("subject"));
  if (!subject->is_string())
    return std::unexpected(invalid("The `subject` field must be a string."));
  out.subject = subject->get<std::string>();

  for (const char* field : {"cc", "bcc", "reply_to"}) {
    auto it = e.find(field);
    if (it == e.end() || it->is_null()) continue;
    auto list = address_list(*it);
    if (!list) {
      return std::unexpected(
          invalid("Invalid `" + std::string(field) + "` field. " + std::string(kAddressFormat)));
    }
    if (std::string_view(field) == "reply_to" && !list->empty()) {
      std::string joined;
      for (const auto& a : *list) joined += (joined.empty() ? "" : ", ") + a;
      out.reply_to = std::move(joined);
    }
  }

  out.text = optional_string(e, "text");
  out.html = optional_string(e, "html");
  auto tmpl = e.find("template");
  bool has_template = tmpl != e.end() && tmpl->is_object() && tmpl->contains("id");
  if (!out.text && !out.html && !has_template) {
    return std::unexpected(
        ResendError{422, "missing_required_field", "Missing `html`, `text` or `template` field."});
  }

  if (auto h = e.find("headers"); h != e.end() && !h->is_null()) {
    if (!h->is_object()) return std::unexpected(invalid("The `headers` field must be an object."));
    for (const auto& [name, value] : h->items()) {
      if (!value.is_string()) {
        return std::unexpected(invalid("The value of header `" + name + "` must be a string."));
      }
      out.headers.emplace_back(name, value.get<std::string>());
    }
  }

  if (auto t = e.find("tags"); t != e.end() && !t->is_null()) {
    if (!t->is_array()) return std::unexpected(invalid("The `tags` field must be an array."));
    for (const json& tag : *t) {
      if (!tag.is_object() || !valid_tag_text(tag.value("name", json())) ||
          !valid_tag_text(tag.value("value", json()))) {
        return std::unexpected(
            invalid("Tags should only contain ASCII letters (a-z, A-Z), numbers (0-9), "
                    "underscores (_), or dashes (-), and be at most 256 characters."));
      }
      // Herald puts its message id in this tag.
      if (tag["name"] == "herald_message_id")
        out.herald_message_id = tag["value"].get<std::string>();
    }
  }

  if (in_batch && e.contains("attachments")) {
    return std::unexpected(invalid("The `attachments` field is not supported for batch emails."));
  }
  return out;
}

void add_records(std::vector<RecordedMessage>& out, Email& email, const std::string& id,
                 const std::string& account, const std::optional<std::string>& idempotency_key,
                 TimePoint now) {
  for (std::string& to : email.to) {
    RecordedMessage m;
    m.provider = kResend;
    m.account = account;
    m.from = email.from;
    m.to = std::move(to);
    m.reply_to = email.reply_to;
    m.subject = email.subject;
    m.text = email.text;
    m.html = email.html;
    m.headers = email.headers;
    m.idempotency_key = idempotency_key;
    m.herald_message_id = email.herald_message_id;
    m.provider_message_id = id;
    m.received_at = now;
    out.push_back(std::move(m));
  }
}

// Queues the events of accepted `records` when the account (its API key) has a webhook.
void queue_events(SandboxState& state, const std::string& key,
                  const std::vector<RecordedMessage>& records) {
  if (!state.webhooks.resend.any(key)) return;
  std::vector<Delivery> deliveries;
  for (const RecordedMessage& m : records) {
    deliveries.push_back(delivery_of(m, &resend::event_posts, key));
  }
  state.queue_events(std::move(deliveries), kResend);
}

// Runs `process` under Resend's idempotency rules (docs: dashboard/emails/idempotency-keys):
// the first successful response for (API key, Idempotency-Key) is replayed to a request with
// the same body, without sending again; a different body is 409 invalid_idempotent_request;
// while the first is running, 409 concurrent_idempotent_requests. Failed requests do not
// consume the key, so a retry after a 429 or 5xx goes through.
template <class Process>
http::Response with_idempotency(SandboxState& state, const http::Request& request,
                                const std::string& api_key, Process process) {
  auto header = request.header("Idempotency-Key");
  if (!header) return process(std::optional<std::string>());
  if (header->empty() || header->size() > kMaxIdempotencyKey) {
    return error_response(400, "invalid_idempotency_key", "The key must be between 1-256 chars.");
  }
  std::string key(*header);
  std::string scope = api_key + '\n' + key;
  auto begun = state.idempotency.begin(scope, request.body, state.now());
  switch (begun.outcome) {
    case IdempotencyCache::Outcome::replay:
      return http::Response::json(begun.status, std::move(begun.body));
    case IdempotencyCache::Outcome::conflict:
      return error_response(409, "invalid_idempotent_request",
                            "Same idempotency key used with a different request payload.");
    case IdempotencyCache::Outcome::in_progress:
      return error_response(409, "concurrent_idempotent_requests",
                            "Same idempotency key used while original request is still in "
                            "progress.");
    case IdempotencyCache::Outcome::fresh:
      break;
  }
  http::Response response = process(std::optional<std::string>(key));
  if (response.status >= 200 && response.status < 300) {
    state.idempotency.finish(scope, response.status, response.body);
  } else {
    state.idempotency.abandon(scope);
  }
  return response;
}

// The shared start of both send endpoints: auth, then an injected fault if one is waiting.
// Returns the API key, or the response to send instead; `delay` gets a slow-response fault.
std::expected<std::string, http::Response> begin_send(SandboxState& state,
                                                      const http::Request& request,
                                                      std::chrono::milliseconds& delay) {
  auto key = authenticate(request);
  if (!key) return key;
  if (auto fault = state.take_fault(kResend)) {
    if (fault->status) return std::unexpected(fault_response(*fault));
    delay = fault->delay;
  }
  return key;
}

http::Response send_email(SandboxState& state, http::Request& request) {
  std::chrono::milliseconds delay{0};
  auto key = begin_send(state, request, delay);
  if (!key) return std::move(key.error());
  http::Response response =
      with_idempotency(state, request, *key, [&](const std::optional<std::string>& idem) {
        json body = parse_json(request.body);
        if (body.is_discarded()) {
          return error_response(400, "validation_error", "The request body is not valid JSON.");
        }
        if (!body.is_object()) {
          return error_response(422, "validation_error", "The request body must be an object.");
        }
        auto email = parse_email(body, false);
        if (!email) return error_response(email.error());
        std::string id = random_uuid();
        std::vector<RecordedMessage> records;
        add_records(records, *email, id, key_hint(*key), idem, state.now());
        queue_events(state, *key, records);
        state.messages.record(std::move(records));
        return http::Response::json(200, "{\"id\":\"" + id + "\"}");
      });
  response.delay = delay;
  return response;
}

http::Response send_batch(SandboxState& state, http::Request& request) {
  std::chrono::milliseconds delay{0};
  auto key = begin_send(state, request, delay);
  if (!key) return std::move(key.error());
  http::Response response =
      with_idempotency(state, request, *key, [&](const std::optional<std::string>& idem) {
        // x-batch-validation: strict (default) fails the whole batch on one invalid email;
        // permissive sends the valid ones and lists the others in `errors` (changelog
        // "Batch Validation Modes"; the SDK sends the header on every batch).
        std::string_view mode = request.header("x-batch-validation").value_or("strict");
        bool permissive = iequals(mode, "permissive");
        if (!permissive && !iequals(mode, "strict")) {
          return error_response(422, "validation_error",
                                "The `x-batch-validation` header must be `strict` or "
                                "`permissive`.");
        }
        json body = parse_json(request.body);
        if (body.is_discarded()) {
          return error_response(400, "validation_error", "The request body is not valid JSON.");
        }
        if (!body.is_array()) {
          return error_response(422, "validation_error",
                                "The request body must be an array of emails.");
        }
        if (body.empty()) {
          return error_response(422, "validation_error",
                                "The batch must contain at least one email.");
        }
        if (body.size() > kMaxBatch) {
          return error_response(422, "validation_error",
                                "Too many emails in the batch. The maximum is 100.");
        }
        std::vector<std::expected<Email, ResendError>> emails;
        emails.reserve(body.size());
        for (const json& e : body) emails.push_back(parse_email(e, true));
        json errors = json::array();
        for (std::size_t i = 0; i < emails.size(); ++i) {
          if (emails[i]) continue;
          const ResendError& err = emails[i].error();
          if (!permissive) {
            return error_response(err.status, err.name,
                                  "emails[" + std::to_string(i) + "]: " + err.message);
          }
          errors.push_back({{"index", i}, {"message", err.message}});
        }
        json data = json::array();
        std::vector<RecordedMessage> records;
        std::string account = key_hint(*key);
        TimePoint now = state.now();
        for (auto& email : emails) {
          if (!email) continue;
          std::string id = random_uuid();
          data.push_back({{"id", id}});
          add_records(records, *email, id, account, idem, now);
        }
        queue_events(state, *key, records);
        state.messages.record(std::move(records));
        json out = {{"data", std::move(data)}};
        if (permissive) out["errors"] = std::move(errors);
        return http::Response::json(200, json_text(out));
      });
  response.delay = delay;
  return response;
}

// GET /domains, the read-only credential check. A sending-only key gets 401
// restricted_api_key (docs: errors), which still proves the key is real; here keys beginning
// with "restricted" play that part.
http::Response list_domains(SandboxState&, http::Request& request) {
  auto key = authenticate(request);
  if (!key) return std::move(key.error());
  if (key->starts_with("restricted")) {
    return error_response(401, "restricted_api_key",
                          "This API key is restricted to only send emails.");
  }
  json domain = {{"id", "d91cd9bd-1176-453e-8fc1-35364d380206"},
                 {"name", "example.com"},
                 {"status", "verified"},
                 {"created_at", "2023-04-26 20:21:26.347412+00"},
                 {"region", "us-east-1"},
                 {"capabilities", {{"sending", "enabled"}, {"receiving", "disabled"}}}};
  json out = {{"object", "list"}, {"has_more", false}, {"data", json::array({domain})}};
  return http::Response::json(200, json_text(out));
}

}  // namespace

void add_resend_routes(http::Router& router, SandboxState& state) {
  router.add("POST", "/emails", [&state](http::Request& r) { return send_email(state, r); });
  router.add("POST", "/emails/batch", [&state](http::Request& r) { return send_batch(state, r); });
  router.add("GET", "/domains", [&state](http::Request& r) { return list_domains(state, r); });
}

}  // namespace herald::sandbox
