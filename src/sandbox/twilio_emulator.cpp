// Twilio emulation: POST /2010-04-01/Accounts/{AccountSid}/Messages.json and
// GET /2010-04-01/Accounts/{AccountSid}.json.
// Contract: provider-specs/README.md "Twilio" and twilio/twilio_api_v2010.json. Errors are
// {"code","message","more_info","status"} (SDK RestException); codes from Twilio's error
// dictionary (twilio.com/docs/errors/<code>).
#include <nlohmann/json.hpp>

#include "sandbox/emulators.h"

namespace herald::sandbox {

namespace {

using nlohmann::json;

constexpr std::size_t kMaxBody = 1600;  // characters (error 21617)

http::Response twilio_error(int status, int code, std::string_view message) {
  json j = {{"code", code},
            {"message", message},
            {"more_info", "https://www.twilio.com/docs/errors/" + std::to_string(code)},
            {"status", status}};
  return http::Response::json(status, json_text(j));
}

bool is_hex(std::string_view s) {
  for (char c : s) {
    if (!std::isxdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

// "AC" or "MG" and 32 hex digits (spec patterns).
bool valid_sid(std::string_view sid, std::string_view prefix) {
  return sid.size() == 34 && sid.starts_with(prefix) && is_hex(sid.substr(2));
}

// E.164: '+', a non-zero digit, at most 15 digits in all.
bool e164(std::string_view n) {
  if (n.size() < 3 || n.size() > 16 || n[0] != '+' || n[1] < '1' || n[1] > '9') return false;
  for (char c : n.substr(1)) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

// A recipient: E.164 or a channel address ("whatsapp:+14155550100").
bool valid_recipient(std::string_view to) {
  auto colon = to.find(':');
  return e164(colon == std::string_view::npos ? to : to.substr(colon + 1));
}

// A sender: a recipient-style number, or an alphanumeric sender id (1-11 letters, digits and
// spaces, at least one letter).
bool valid_sender(std::string_view from) {
  if (valid_recipient(from)) return true;
  if (from.empty() || from.size() > 11) return false;
  bool letter = false;
  for (char c : from) {
    if (std::isalpha(static_cast<unsigned char>(c))) {
      letter = true;
    } else if (!std::isdigit(static_cast<unsigned char>(c)) && c != ' ') {
      return false;
    }
  }
  return letter;
}

// The AccountSid must match the path; the username is that sid, or an API key sid (SK...)
// used with the account's sid in the path (spec accountSid_authToken).
std::optional<http::Response> authenticate(const http::Request& request, const std::string& sid) {
  auto credentials = basic_credentials(request);
  if (!credentials || credentials->second.empty() || is_revoked(credentials->second) ||
      (credentials->first != sid && !credentials->first.starts_with("SK"))) {
    return twilio_error(401, 20003, "Authenticate");
  }
  return std::nullopt;
}

std::optional<http::Response> check_account(const http::Request& request, const std::string& sid) {
  if (!valid_sid(sid, "AC")) {
    return twilio_error(404, 20404, "The requested resource " + request.path + " was not found");
  }
  return authenticate(request, sid);
}

http::Response fault_response(const Fault& fault) {
  int s = fault.status;
  http::Response r = s == 429   ? twilio_error(429, 20429, "Too Many Requests")
                     : s == 401 ? twilio_error(401, 20003, "Authenticate")
                     : s == 503 ? twilio_error(503, 20503, "Service Unavailable")
                     : s >= 500 ? twilio_error(s, 20500, "Internal Server Error")
                                : twilio_error(s, 20001, "Injected fault");
  return with_fault(std::move(r), fault);
}

// Segments as Twilio counts them: GSM-7 160 (153 when split), UCS-2 70 (67) for anything else.
int segments(std::string_view body) {
  bool ascii = true;
  std::size_t chars = 0;
  for (unsigned char c : body) {
    if (c >= 0x80) ascii = false;
    if ((c & 0xc0) != 0x80) ++chars;  // count UTF-8 code points
  }
  std::size_t single = ascii ? 160 : 70;
  std::size_t part = ascii ? 153 : 67;
  if (chars <= single) return 1;
  return static_cast<int>((chars + part - 1) / part);
}

std::size_t utf8_length(std::string_view s) {
  std::size_t n = 0;
  for (unsigned char c : s) n += (c & 0xc0) != 0x80;
  return n;
}

// Queues the status callbacks of accepted message `m` to its StatusCallback, signed with the
// auth token the request was made with (Twilio signs with the account's Auth Token).
void queue_events(SandboxState& state, const http::Request& request, const RecordedMessage& m,
                  const std::string& callback) {
  Delivery d = delivery_of(m, &twilio::event_posts, m.account);
  d.sms = true;
  d.account = m.account;
  d.secret = basic_credentials(request).value_or(std::pair<std::string, std::string>()).second;
  d.callback = callback;
  std::vector<Delivery> one;
  one.push_back(std::move(d));
  state.queue_events(std::move(one), kTwilio);
}

http::Response send(SandboxState& state, http::Request& request) {
  const std::string& sid = request.param("sid");
  if (auto denied = check_account(request, sid)) return std::move(*denied);
  std::chrono::milliseconds delay{0};
  if (auto fault = state.take_fault(kTwilio)) {
    if (fault->status) return fault_response(*fault);
    delay = fault->delay;
  }

  auto respond = [&]() -> http::Response {
    auto fields = http::parse_form(request.body);
    auto get = [&](std::string_view name) -> std::optional<std::string> {
      for (auto& [k, v] : fields) {
        if (k == name && !v.empty()) return v;
      }
      return std::nullopt;
    };
    auto to = get("To");
    auto from = get("From");
    auto service = get("MessagingServiceSid");
    auto body = get("Body");
    bool media = get("MediaUrl").has_value() || get("ContentSid").has_value();
    if (!to) return twilio_error(400, 21604, "A 'To' phone number is required.");
    if (!valid_recipient(*to)) {
      return twilio_error(400, 21211, "Invalid 'To' Phone Number: " + *to);
    }
    if (!from && !service) return twilio_error(400, 21603, "A 'From' phone number is required.");
    if (from && !valid_sender(*from)) {
      return twilio_error(400, 21212, "Invalid 'From' Phone Number: " + *from);
    }
    if (service && !valid_sid(*service, "MG")) {
      return twilio_error(400, 21705, "The Messaging Service Sid " + *service + " is invalid.");
    }
    if (from && *from == *to) {
      return twilio_error(400, 21266, "'To' and 'From' number cannot be the same: " + *to);
    }
    if (sms_opted_out(*to))
      return twilio_error(400, 21610, "Attempt to send to unsubscribed recipient");
    if (!body && !media) return twilio_error(400, 21602, "Message body is required.");
    if (body && utf8_length(*body) > kMaxBody) {
      return twilio_error(400, 21617,
                          "The concatenated message body exceeds the 1600 character limit.");
    }

    std::string message_sid = "SM" + random_hex(32);
    TimePoint now = state.now();
    std::string date = rfc2822(now);
    std::size_t num_media = 0;
    for (auto& [k, v] : fields) num_media += k == "MediaUrl";
    std::string base = "/2010-04-01/Accounts/" + sid + "/Messages/" + message_sid;
    // The shape of the spec's `create` example (api.v2010.account.message). A Messaging
    // Service send without From starts as "accepted", the rest as "queued".
    json out = {{"account_sid", sid},
                {"api_version", "2010-04-01"},
                {"body", body.value_or("")},
                {"date_created", date},
                {"date_sent", nullptr},
                {"date_updated", date},
                {"direction", "outbound-api"},
                {"error_code", nullptr},
                {"error_message", nullptr},
                {"from", from ? json(*from) : json(nullptr)},
                {"messaging_service_sid", service ? json(*service) : json(nullptr)},
                {"num_media", std::to_string(num_media)},
                {"num_segments", std::to_string(body ? segments(*body) : 1)},
                {"price", nullptr},
                {"price_unit", "USD"},
                {"sid", message_sid},
                {"status", !from && service ? "accepted" : "queued"},
                {"subresource_uris", {{"media", base + "/Media.json"}}},
                {"to", *to},
                {"uri", base + ".json"}};

    // Herald has no id field at Twilio; it marks its StatusCallback with ?message=<id>
    // (providers/twilio.cpp).
    auto callback = get("StatusCallback");
    std::string herald_id;
    if (callback) {
      auto q = callback->find('?');
      if (q != std::string::npos) {
        http::Request parsed;
        parsed.query = callback->substr(q + 1);
        herald_id = parsed.query_param("message").value_or("");
      }
    }
    RecordedMessage m;
    m.provider = kTwilio;
    m.account = sid;
    m.from = from ? *from : *service;
    m.to = *to;
    m.body = body.value_or("");
    m.herald_message_id = std::move(herald_id);
    m.provider_message_id = message_sid;
    m.received_at = now;
    if (callback) queue_events(state, request, m, *callback);
    std::vector<RecordedMessage> records;
    records.push_back(std::move(m));
    state.messages.record(std::move(records));
    return http::Response::json(201, json_text(out));
  };
  http::Response response = respond();
  response.delay = delay;
  return response;
}

// GET /2010-04-01/Accounts/{sid}.json: the credential check (spec example `fetch`).
http::Response fetch_account(SandboxState&, http::Request& request) {
  const std::string& sid = request.param("sid");
  if (auto denied = check_account(request, sid)) return std::move(*denied);
  std::string base = "/2010-04-01/Accounts/" + sid;
  json out = {{"auth_token", "[Redacted]"},
              {"date_created", "Thu, 30 Jul 2015 20:00:00 +0000"},
              {"date_updated", "Thu, 30 Jul 2015 20:00:00 +0000"},
              {"friendly_name", "Herald sandbox"},
              {"owner_account_sid", sid},
              {"sid", sid},
              {"status", "active"},
              {"subresource_uris", {{"messages", base + "/Messages.json"}}},
              {"type", "Full"},
              {"uri", base + ".json"}};
  return http::Response::json(200, json_text(out));
}

}  // namespace

void add_twilio_routes(http::Router& router, SandboxState& state) {
  router.add("POST", "/2010-04-01/Accounts/{sid}/Messages.json",
             [&state](http::Request& r) { return send(state, r); });
  router.add("GET", "/2010-04-01/Accounts/{sid}.json",
             [&state](http::Request& r) { return fetch_account(state, r); });
}

}  // namespace herald::sandbox
