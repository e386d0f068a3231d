// Mailgun: multipart/form-data over POST /v3/{domain}/messages, HTTP Basic `api:<key>`,
// host by region (credentials.base_url). Contract facts and their sources:
// provider-specs/README.md § Mailgun; spec provider-specs/mailgun/mailgun-openapi.yaml.
#include <algorithm>
#include <regex>
#include <string>

#include "providers/adapters.h"
#include "providers/classify.h"
#include "providers/encoding.h"

namespace herald::providers {
namespace {

// Up to 1,000 recipients per request (batch sending: repeated `to` plus recipient-variables,
// provider-specs/README.md § Mailgun "Batch"). A request has one from, subject and body for
// all of them, so a batch is the shared content of a template rendered once, with each
// recipient's values in recipient-variables, written as %recipient.name% in the content.
constexpr std::size_t kMaxBatch = 1000;

std::string recipient_tag(std::string_view name) {
  return "%recipient." + std::string(name) + "%";
}

// The form fields of a send. Everything but the recipients comes from the first message.
FormFields message_fields(std::span<const OutboundMessage> messages) {
  const OutboundMessage& first = messages.front();
  FormFields fields;
  fields.emplace_back("from", first.from.formatted());
  for (const auto& m : messages) fields.emplace_back("to", m.to.formatted());
  fields.emplace_back("subject", first.subject);
  if (!first.text.empty()) fields.emplace_back("text", first.text);
  if (!first.html.empty()) fields.emplace_back("html", first.html);
  if (!first.reply_to.empty()) fields.emplace_back("h:Reply-To", first.reply_to);
  if (messages.size() == 1 && first.substitutions.empty()) {
    for (const auto& [name, value] : first.headers) fields.emplace_back("h:" + name, value);
    // v: variables come back as `user-variables` in every event for the message.
    fields.emplace_back("v:herald_message_id", first.id);
    return fields;
  }
  // Batch: recipient-variables make Mailgun send each `to` its own copy (without them every
  // recipient sees the whole list) and carry each message's substitutions, its id (which a
  // v: variable references per recipient) and the header values that differ per recipient
  // (List-Unsubscribe) (https://documentation.mailgun.com/docs/mailgun/user-manual/
  // sending-messages/batch-sending). UNVERIFIED against the live API that %recipient.x%
  // expands inside v: and h: values (public integrations rely on it for List-Unsubscribe);
  // events also carry (id, recipient).
  nlohmann::json variables = nlohmann::json::object();
  for (const auto& m : messages) {
    nlohmann::json v = {{"herald_message_id", m.id}};
    for (const auto& [name, value] : m.substitutions) v[name] = value;
    variables[m.to.address] = std::move(v);
  }
  for (std::size_t h = 0; h < first.headers.size(); ++h) {
    const auto& [name, value] = first.headers[h];
    bool shared = std::ranges::all_of(messages, [&](const OutboundMessage& m) {
      return h < m.headers.size() && m.headers[h] == first.headers[h];
    });
    if (shared) {
      fields.emplace_back("h:" + name, value);
      continue;
    }
    std::string var = "header" + std::to_string(h);
    for (const auto& m : messages)
      variables[m.to.address][var] = h < m.headers.size() ? m.headers[h].second : "";
    fields.emplace_back("h:" + name, recipient_tag(var));
  }
  fields.emplace_back("recipient-variables", json_body(variables));
  fields.emplace_back("v:herald_message_id", "%recipient.herald_message_id%");
  return fields;
}

// Mailgun's error text: {"message"} for most statuses, but the spec's 401 example is the
// bare string `Forbidden` (as JSON or not), so any shape is accepted.
std::string reason_of(const HttpResponse& response) {
  const auto body = parse_json(response.body);
  if (body && body->is_string() && !body->get<std::string>().empty()) {
    return body->get<std::string>();
  }
  if (body) {
    const std::string message = json_string(*body, "message");
    if (!message.empty()) return message;
  }
  return fallback_reason(response, "Mailgun");
}

// Mailgun documents no rate-limit headers; its 429 text says "… try again after 120
// seconds" (spec 429 example), used when Retry-After is absent.
std::optional<std::chrono::seconds> try_again_after(std::string_view reason) {
  static const std::regex kAfter(R"(try again after (\d{1,9}) seconds?)", std::regex::icase);
  std::match_results<std::string_view::const_iterator> match;
  if (!std::regex_search(reason.begin(), reason.end(), match, kAfter)) return std::nullopt;
  const auto seconds = parse_decimal(std::string_view(&*match[1].first, match[1].length()));
  if (!seconds) return std::nullopt;
  return std::chrono::seconds(*seconds);
}

// Mailgun's id is an RFC 2392 Message-Id in angle brackets; webhooks carry it without.
std::string strip_angle_brackets(std::string id) {
  if (id.size() >= 2 && id.front() == '<' && id.back() == '>') return id.substr(1, id.size() - 2);
  return id;
}

HttpRequest authorized(std::string method, std::string url, const Credentials& credentials) {
  return HttpRequest{
      .method = std::move(method),
      .url = std::move(url),
      .headers = {{"Authorization", basic_auth("api", credentials.secrets.get("apiKey").reveal())},
                  {"User-Agent", std::string(kUserAgent)}},
  };
}

const ProviderInfo kInfo{
    .id = "mailgun",
    .display_name = "Mailgun",
    .channel = Channel::email,
    .fields = {{.name = "apiKey",
                .label = "API Key",
                .kind = FieldKind::secret,
                .placeholder = "key-…",
                .help = "Your Mailgun private API key (Settings → API Security).",
                .max_length = 512,
                .env = "MAILGUN_API_KEY"},
               sender_email_field("An address on your Mailgun sending domain."),
               {.name = "domain",
                .label = "Domain",
                .placeholder = "mg.example.com",
                .help = "The domain you send from, as set up in Mailgun.",
                .pattern = R"(([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63})",
                .pattern_message = "is not a valid domain name, e.g. mg.example.com",
                .max_length = 253,
                .env = "MAILGUN_DOMAIN"},
               {.name = "region",
                .label = "Region",
                .kind = FieldKind::choice,
                .required = false,
                .help = "Where your Mailgun account lives: US or EU.",
                .choices = {{"us", "US (api.mailgun.net)"}, {"eu", "EU (api.eu.mailgun.net)"}},
                .default_value = "us",
                .env = "MAILGUN_REGION"},
               webhook_key_field("HTTP Webhook Signing Key", "",
                                 "Optional: leave empty and Herald sets up webhooks for your "
                                 "domain in Mailgun itself.",
                                 "MAILGUN_WEBHOOK_SIGNING_KEY")},
    .base_url_env = "HERALD_MAILGUN_BASE_URL",
    .default_base_url = "https://api.mailgun.net",
    .rate_limit_env = "HERALD_RATE_LIMIT_MAILGUN",
    .default_rate_limit = 50,
    .max_batch = kMaxBatch,
    .shared_content = true,
    // key-<hex> keys, and the bare 32-hex tokens Mailgun's newer keys start with.
    .redact = {R"(key-[A-Za-z0-9_.\-]{8,})", R"(\b[0-9a-fA-F]{32}\b)"},
    // 406 is the one answer that stops Mailgun's retries (WEBHOOKS.md § Mailgun, "Retries"): a
    // post for an account Herald does not have will never succeed.
    .webhooks = {.delivery_events = true,
                 .signature = "hmac-sha256",
                 .registration_api = true,
                 .not_found_status = 406,
                 // Every event's user-variables carry the v:herald_message_id it was sent with.
                 .events_name_the_message = true},
};

class Mailgun final : public Provider {
 public:
  const ProviderInfo& info() const override { return kInfo; }

  const WebhookTwin* webhook() const override { return &mailgun_webhook(); }

  // An account lives in one region, which fixes the API host; one override (the sandbox)
  // serves both.
  std::string base_url(const Credentials& credentials) const override {
    if (!credentials.base_url.empty()) return credentials.base_url;
    return credentials.params.get("region") == "eu" ? "https://api.eu.mailgun.net"
                                                    : std::string(kInfo.default_base_url);
  }

  std::string placeholder(std::string_view name) const override { return recipient_tag(name); }

  // The spec offers only multipart/form-data for this endpoint (Prism refuses
  // url-encoded bodies with "Supported content types: multipart/form-data").
  HttpRequest build_send(const Credentials& credentials,
                         std::span<const OutboundMessage> messages) const override {
    HttpRequest request =
        authorized("POST",
                   base_url(credentials) + "/v3/" +
                       percent_encode(credentials.params.get("domain")) + "/messages",
                   credentials);
    Multipart form = multipart_form(message_fields(messages));
    request.headers.emplace_back("Content-Type", std::move(form.content_type));
    request.body = std::move(form.body);
    return request;
  }

  std::vector<SendOutcome> classify_send(const HttpResponse& response,
                                         std::size_t count) const override {
    const int status = response.status;
    if (status >= 200 && status < 300) {
      const auto body = parse_json(response.body);
      const std::string id = body ? strip_angle_brackets(json_string(*body, "id")) : "";
      return for_each_message(accepted(status, id), count);
    }
    const std::string reason = reason_of(response);
    // 401: wrong key. 403: a real key without access to this domain. 404 ("Domain not
    // found"): the key's account has no such domain in this region. All three are the
    // integration's settings (key, domain, region) failing, not this message.
    if (status == 401 || status == 403 || status == 404) {
      return for_each_message(bad_credentials(status, reason), count);
    }
    if (status == 429) {
      return for_each_message(retryable(response, reason, try_again_after(reason)), count);
    }
    if (is_transient(status)) return for_each_message(retryable(response, reason), count);
    // 400: a field Mailgun refused ("to parameter is not a valid address", …).
    return for_each_message(permanent(status, reason), count);
  }

  // GET /v4/domains/{name}: read-only, names the very domain Herald will send from, and is
  // answered on the region's host, so a key, domain or region mix-up all show here. A
  // domain *sending* key may only send and is refused here (401/403): Herald asks agents
  // for the account's primary key (https://documentation.mailgun.com/docs/mailgun/
  // api-reference, "two key kinds").
  HttpRequest build_verify(const Credentials& credentials) const override {
    return authorized(
        "GET",
        base_url(credentials) + "/v4/domains/" + percent_encode(credentials.params.get("domain")),
        credentials);
  }

  VerifyOutcome classify_verify(const HttpResponse& response) const override {
    const int status = response.status;
    if (status >= 200 && status < 300) return verify_ok(status, "key is valid for the domain");
    if (status == 401 || status == 403) return verify_rejected(status, reason_of(response));
    if (status == 404) {
      return verify_rejected(status,
                             "domain not found in this account and region: " + reason_of(response));
    }
    if (is_transient(status)) return verify_retryable(status, reason_of(response));
    return verify_failed(status, reason_of(response));
  }
};

}  // namespace

const Provider& mailgun_adapter() {
  static const Mailgun instance;
  return instance;
}

}  // namespace herald::providers
