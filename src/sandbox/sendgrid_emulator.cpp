// SendGrid emulation: POST /v3/mail/send and GET /v3/scopes.
// Contract: provider-specs/README.md "SendGrid" and sendgrid/tsg_mail_v3.json. Success is
// 202 with an empty body and the id in X-Message-Id; errors are
// {"errors":[{"message","field","help"}]}, all validation errors of a request at once.
#include <nlohmann/json.hpp>
#include <unordered_set>

#include "core/json_parse.h"
#include "sandbox/emulators.h"

namespace herald::sandbox {

namespace {

using nlohmann::json;

constexpr std::size_t kMaxPersonalizations = 1000;  // spec maxItems
constexpr std::size_t kMaxRecipients = 1000;        // to + cc + bcc per request (errors page)
constexpr std::string_view kHelpBase =
    "http://sendgrid.com/docs/API_Reference/Web_API_v3/Mail/errors.html";

struct FieldError {
  std::string message;
  std::string field;  // empty: null
  std::string help;   // empty: null
};

http::Response errors_response(int status, const std::vector<FieldError>& errors) {
  json list = json::array();
  for (const FieldError& e : errors) {
    list.push_back({{"message", e.message},
                    {"field", e.field.empty() ? json(nullptr) : json(e.field)},
                    {"help", e.help.empty() ? json(nullptr) : json(e.help)}});
  }
  return http::Response::json(status, json_text(json{{"errors", std::move(list)}}));
}
http::Response error_response(int status, std::string message) {
  return errors_response(status, {{std::move(message), {}, {}}});
}

http::Response fault_response(const Fault& fault) {
  int s = fault.status;
  std::string message = s == 429   ? "too many requests"
                        : s == 401 ? "authorization required"
                        : s == 403 ? "access forbidden"
                        : s == 413 ? "Payload Too Large"
                        : s >= 500 ? "internal error"
                                   : "Bad Request";
  http::Response r = error_response(s, message);
  if (s == 429) {
    r.set_header("X-RateLimit-Limit", "600");
    r.set_header("X-RateLimit-Remaining", "0");
    auto reset =
        std::chrono::duration_cast<std::chrono::seconds>(
            Clock::now().time_since_epoch() + std::chrono::seconds(fault.retry_after.value_or(1)))
            .count();
    r.set_header("X-RateLimit-Reset", std::to_string(reset));
  }
  return with_fault(std::move(r), fault);
}

// o[key] if o is an object holding a string there, else `fallback` (never throws).
std::string str(const json& o, const char* key, std::string fallback = {}) {
  if (!o.is_object()) return fallback;
  auto it = o.find(key);
  return it != o.end() && it->is_string() ? it->get<std::string>() : fallback;
}

std::string help(std::string_view anchor) {
  return std::string(kHelpBase) + std::string(anchor);
}

// "Name <email>" or "email" from an {email, name} object.
std::string mailbox(const json& o) {
  std::string email = str(o, "email");
  std::string name = str(o, "name");
  return name.empty() ? email : name + " <" + email + ">";
}

bool valid_email_object(const json& o) {
  return o.is_object() && o.contains("email") && o["email"].is_string() &&
         valid_mailbox(o["email"].get_ref<const std::string&>()) &&
         email_address(o["email"].get_ref<const std::string&>()) ==
             o["email"].get_ref<const std::string&>();
}

void add_headers(std::vector<std::pair<std::string, std::string>>& out, const json& headers) {
  if (!headers.is_object()) return;
  for (const auto& [name, value] : headers.items()) {
    if (!value.is_string()) continue;
    bool replaced = false;
    for (auto& [k, v] : out) {
      if (iequals(k, name)) {
        v = value.get<std::string>();
        replaced = true;
      }
    }
    if (!replaced) out.emplace_back(name, value.get<std::string>());
  }
}

// Validates a mail/send body (spec PostMailSend plus the documented cross-field rules);
// returns every error found, as SendGrid does.
std::vector<FieldError> validate(const json& body) {
  std::vector<FieldError> errors;
  static const json kAbsent;
  // A reference into the body (a conditional with a temporary on one side would copy it).
  auto member = [&](const char* key) -> const json& {
    auto it = body.find(key);
    return it == body.end() ? kAbsent : *it;
  };
  const json& ps = member("personalizations");
  bool has_template = body.contains("template_id") && body["template_id"].is_string() &&
                      !body["template_id"].get_ref<const std::string&>().empty();
  bool top_subject = body.contains("subject") && body["subject"].is_string() &&
                     !body["subject"].get_ref<const std::string&>().empty();

  if (!ps.is_array() || ps.empty()) {
    errors.push_back(
        {"The personalizations field is required and must have at least one "
         "personalization.",
         "personalizations", help("#-Personalizations-Errors")});
  } else if (ps.size() > kMaxPersonalizations) {
    errors.push_back(
        {"The personalizations field is limited to 1000 personalizations per API "
         "request. You can either use more than one API request or use the "
         "recipient_variables field.",
         "personalizations", help("#-Personalizations-Errors")});
  } else {
    std::size_t recipients = 0;
    bool every_subject = true;
    for (std::size_t i = 0; i < ps.size(); ++i) {
      const json& p = ps[i];
      std::string at = "personalizations." + std::to_string(i);
      if (!p.is_object()) {
        errors.push_back(
            {"Each personalization must be an object.", at, help("#-Personalizations-Errors")});
        continue;
      }
      if (!(p.contains("subject") && p["subject"].is_string() &&
            !p["subject"].get_ref<const std::string&>().empty())) {
        every_subject = false;
      }
      if (!p.contains("to") || !p["to"].is_array() || p["to"].empty()) {
        errors.push_back(
            {"The to array is required for all personalization objects, and must "
             "have at least one email object with a valid email address.",
             at + ".to", help("#message.personalizations.to")});
      }
      if (p.contains("substitutions")) {
        const json& subs = p["substitutions"];
        std::size_t bytes = 0;
        bool strings = subs.is_object();
        if (strings) {
          for (const auto& [tag, value] : subs.items()) {
            if (!value.is_string())
              strings = false;
            else
              bytes += tag.size() + value.get_ref<const std::string&>().size();
          }
        }
        if (!strings) {
          errors.push_back({"Substitutions must be an object of string values.",
                            at + ".substitutions",
                            help("#message.personalizations.substitutions")});
        } else if (bytes > 10000) {
          errors.push_back(
              {"The total size of substitutions in a personalization may not exceed "
               "10,000 bytes.",
               at + ".substitutions", help("#message.personalizations.substitutions")});
        }
      }
      std::unordered_set<std::string> seen;
      for (const char* kind : {"to", "cc", "bcc"}) {
        if (!p.contains(kind) || !p[kind].is_array()) continue;
        const json& list = p[kind];
        for (std::size_t j = 0; j < list.size(); ++j) {
          ++recipients;
          if (!valid_email_object(list[j])) {
            errors.push_back({"Does not contain a valid address.",
                              at + "." + kind + "." + std::to_string(j) + ".email",
                              help("#message.personalizations")});
            continue;
          }
          std::string address = list[j]["email"].get<std::string>();
          for (char& c : address)
            c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
          if (!seen.insert(address).second) {
            errors.push_back(
                {"Each email address in the personalization block should be unique "
                 "between to, cc, and bcc. We found the first duplicate instance "
                 "of [" +
                     list[j]["email"].get<std::string>() + "] in the " + at + "." + kind +
                     " field.",
                 at + "." + kind, help("#message.recipient-errors")});
          }
        }
      }
    }
    if (recipients > kMaxRecipients) {
      errors.push_back(
          {"The total number of recipients must be no more than 1000. This includes "
           "all recipients defined within the to, cc, and bcc parameters, across "
           "each object that you include in the personalizations array.",
           "personalizations", help("#message.recipient-errors")});
    }
    if (!top_subject && !every_subject && !has_template) {
      errors.push_back(
          {"The subject is required. You can get around this requirement if you use "
           "a template with a subject defined or if every personalization has a "
           "subject defined.",
           "subject", help("#message.subject")});
    }
  }

  if (!body.contains("from") || !body["from"].is_object() || !body["from"].contains("email")) {
    errors.push_back(
        {"The from object must be provided for every email send. It is an object "
         "that requires the email parameter, but may also contain a name parameter.  "
         "e.g. {\"email\" : \"example@example.com\"}  or {\"email\" : "
         "\"example@example.com\", \"name\" : \"Example Recipient\"}",
         "from.email", help("#message.from")});
  } else if (!valid_email_object(body["from"])) {
    errors.push_back(
        {"The from email does not contain a valid address.", "from.email", help("#message.from")});
  }

  if (!has_template) {
    const json& content = member("content");
    if (!content.is_array() || content.empty()) {
      errors.push_back(
          {"Unless a valid template_id is provided, the content parameter is "
           "required. There must be at least one defined content block. We "
           "typically suggest both text/plain and text/html blocks are included, "
           "but only one block is required.",
           "content", help("#message.content")});
    } else {
      for (std::size_t i = 0; i < content.size(); ++i) {
        const json& c = content[i];
        std::string at = "content." + std::to_string(i);
        if (!c.is_object() || !c.contains("type") || !c["type"].is_string() ||
            c["type"].get_ref<const std::string&>().empty()) {
          errors.push_back({"The content type must be a string at least one character in length.",
                            at + ".type", help("#message.content.type")});
        }
        if (!c.is_object() || !c.contains("value") || !c["value"].is_string() ||
            c["value"].get_ref<const std::string&>().empty()) {
          errors.push_back(
              {"The content value must be a string at least one character in "
               "length.",
               at + ".value", help("#message.content.value")});
        }
      }
    }
  }

  if (body.contains("reply_to") && body.contains("reply_to_list")) {
    errors.push_back({"The reply_to and reply_to_list fields cannot both be set.", "reply_to",
                      help("#message.reply_to")});
  } else if (body.contains("reply_to") && !valid_email_object(body["reply_to"])) {
    errors.push_back({"The reply_to email does not contain a valid address.", "reply_to.email",
                      help("#message.reply_to")});
  }
  return errors;
}

// One recorded item per `to` of every personalization.
std::vector<RecordedMessage> records(const json& body, const std::string& account,
                                     const std::string& message_id, TimePoint now) {
  std::optional<std::string> text;
  std::optional<std::string> html;
  if (body.contains("content") && body["content"].is_array()) {
    for (const json& c : body["content"]) {
      std::string type = str(c, "type");
      if (type == "text/plain" && !text) text = str(c, "value");
      if (type == "text/html" && !html) html = str(c, "value");
    }
  }
  std::optional<std::string> reply_to;
  if (body.contains("reply_to")) {
    reply_to = mailbox(body["reply_to"]);
  } else if (body.contains("reply_to_list") && body["reply_to_list"].is_array()) {
    std::string joined;
    for (const json& r : body["reply_to_list"]) joined += (joined.empty() ? "" : ", ") + mailbox(r);
    reply_to = joined;
  }
  std::string from = mailbox(body["from"]);
  std::string top_subject = str(body, "subject");
  // Herald's id is in personalizations[].custom_args; a top-level object is accepted too
  // (the real API takes one, though the spec types it as a string).
  std::string top_herald_id;
  if (body.contains("custom_args")) top_herald_id = str(body["custom_args"], "herald_message_id");
  std::vector<RecordedMessage> out;
  for (const json& p : body["personalizations"]) {
    std::vector<std::pair<std::string, std::string>> headers;
    if (body.contains("headers")) add_headers(headers, body["headers"]);
    if (p.contains("headers")) add_headers(headers, p["headers"]);
    std::string subject = str(p, "subject", top_subject);
    // Substitutions apply to the subject and the text and html content (mail-send docs).
    const json* subs = p.contains("substitutions") && p["substitutions"].is_object()
                           ? &p["substitutions"]
                           : nullptr;
    auto sub = [&](std::string v) {
      if (!subs) return v;
      for (const auto& [tag, value] : subs->items()) {
        if (tag.empty() || !value.is_string()) continue;
        for (std::size_t at = v.find(tag); at != std::string::npos;
             at = v.find(tag, at + value.get_ref<const std::string&>().size())) {
          v.replace(at, tag.size(), value.get_ref<const std::string&>());
        }
      }
      return v;
    };
    auto sub_opt = [&](const std::optional<std::string>& v) {
      return v ? std::optional<std::string>(sub(*v)) : std::nullopt;
    };
    std::string herald_id = top_herald_id;
    if (p.contains("custom_args")) {
      herald_id = str(p["custom_args"], "herald_message_id", herald_id);
    }
    for (const json& to : p["to"]) {
      RecordedMessage m;
      m.provider = kSendGrid;
      m.account = account;
      m.from = from;
      m.to = mailbox(to);
      m.reply_to = reply_to;
      m.subject = sub(subject);
      m.text = sub_opt(text);
      m.html = sub_opt(html);
      m.headers = headers;
      m.herald_message_id = herald_id;
      m.provider_message_id = message_id;
      m.received_at = now;
      out.push_back(std::move(m));
    }
  }
  return out;
}

// Queues the events of accepted `records` when the account (its API key) has Event Webhooks.
void queue_events(SandboxState& state, const std::string& key,
                  const std::vector<RecordedMessage>& records) {
  if (!state.webhooks.sendgrid.any(key)) return;
  std::vector<Delivery> deliveries;
  for (const RecordedMessage& m : records) {
    deliveries.push_back(delivery_of(m, &sendgrid::event_posts, key));
  }
  state.queue_events(std::move(deliveries), kSendGrid);
}

http::Response send(SandboxState& state, http::Request& request) {
  std::string key;
  if (auto denied = sendgrid::authenticate(request, key)) return std::move(*denied);
  std::chrono::milliseconds delay{0};
  if (auto fault = state.take_fault(kSendGrid)) {
    if (fault->status) return fault_response(*fault);
    delay = fault->delay;
  }
  http::Response response;
  json body = parse_json(request.body);
  if (body.is_discarded() || !body.is_object()) {
    response = errors_response(400, {{"Bad Request", {}, {}}});
  } else if (auto errors = validate(body); !errors.empty()) {
    response = errors_response(400, errors);
  } else {
    // Sandbox mode validates without sending: 200, nothing delivered (docs: sandbox mode).
    const json* settings = body.contains("mail_settings") ? &body["mail_settings"] : nullptr;
    bool sandbox_mode = settings && settings->is_object() && settings->contains("sandbox_mode") &&
                        (*settings)["sandbox_mode"].is_object() &&
                        (*settings)["sandbox_mode"].value("enable", json(false)) == json(true);
    if (sandbox_mode) {
      response = http::Response{200, {}, {}, {}};
    } else {
      std::string message_id = random_base64url(22);
      auto accepted = records(body, key_hint(key), message_id, state.now());
      queue_events(state, key, accepted);
      state.messages.record(std::move(accepted));
      response = http::Response{202, {{"X-Message-Id", message_id}}, {}, {}};
    }
  }
  response.delay = delay;
  return response;
}

// GET /v3/scopes: the credential check (sendgrid/tsg_scopes_v3.json); Herald looks for mail.send.
http::Response scopes(SandboxState&, http::Request& request) {
  std::string key;
  if (auto denied = sendgrid::authenticate(request, key)) return std::move(*denied);
  json out = {{"scopes", {"mail.send", "mail.batch.read", "user.profile.read", "scopes.read"}}};
  return http::Response::json(200, json_text(out));
}

}  // namespace

namespace sendgrid {

http::Response error(int status, std::string message) {
  return error_response(status, std::move(message));
}

// 401 answers as documented on the v3 "responses" page.
std::optional<http::Response> authenticate(const http::Request& request, std::string& key) {
  auto token = bearer_token(request);
  if (!token) return error(401, "authorization required");
  if (is_revoked(*token)) {
    return error(401, "The provided authorization grant is invalid, expired, or revoked");
  }
  key = std::move(*token);
  return std::nullopt;
}

}  // namespace sendgrid

void add_sendgrid_routes(http::Router& router, SandboxState& state) {
  router.add("POST", "/v3/mail/send", [&state](http::Request& r) { return send(state, r); });
  router.add("GET", "/v3/scopes", [&state](http::Request& r) { return scopes(state, r); });
}

}  // namespace herald::sandbox
