// Twilio's status callbacks: a form post per status change to the message's StatusCallback,
// signed with the account's auth token (X-Twilio-Signature). Nothing is registered: the URL
// comes with each message. Contract: provider-specs/WEBHOOKS.md § Twilio and
// provider-specs/README.md § Twilio ("Status callback", "Webhook signature").
#include <algorithm>

#include "sandbox/emulators.h"
#include "sandbox/signing.h"

namespace herald::sandbox {

namespace {

using Form = std::vector<std::pair<std::string, std::string>>;

std::string_view status_of(EventKind kind) {
  switch (kind) {
    case EventKind::sent:
      return "sent";
    case EventKind::delivered:
      return "delivered";
    case EventKind::undelivered:
      return "undelivered";
    default:
      return "failed";  // no email events reach Twilio's callbacks
  }
}

// application/x-www-form-urlencoded: unreserved characters as they are, space as '+'.
std::string form_encode(const Form& form) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  auto append = [&](std::string_view s) {
    for (unsigned char c : s) {
      if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
        out += static_cast<char>(c);
      } else if (c == ' ') {
        out += '+';
      } else {
        out += '%';
        out += kHex[c >> 4];
        out += kHex[c & 0x0f];
      }
    }
  };
  for (const auto& [name, value] : form) {
    if (!out.empty()) out += '&';
    append(name);
    out += '=';
    append(value);
  }
  return out;
}

// base64 HMAC-SHA1 under the auth token of the URL followed by every field's name and value,
// sorted by name (then value).
std::string signature(const std::string& token, const std::string& url, Form form) {
  std::ranges::sort(form);
  std::string content = url;
  for (const auto& [name, value] : form) content.append(name).append(value);
  return base64_encode(hmac_sha1(token, content));
}

// The fields of one callback, in the order Twilio writes them.
Form fields_of(const Delivery& d, const Step& step) {
  const std::string status(status_of(step.kind));
  Form form = {{"ApiVersion", "2010-04-01"},
               {"AccountSid", d.account},
               {"SmsSid", d.provider_message_id},
               {"SmsStatus", status},
               {"MessageStatus", status},
               {"To", d.to},
               {"MessageSid", d.provider_message_id},
               {"From", d.from}};
  if (step.error_code != 0) form.emplace_back("ErrorCode", std::to_string(step.error_code));
  return form;
}

}  // namespace

namespace twilio {

std::vector<Post> event_posts(std::span<const EventItem> items, WebhookRegistry& /*registry*/,
                              TimePoint /*now*/) {
  std::vector<Post> posts;
  for (const EventItem& item : items) {
    const Delivery& d = *item.delivery;
    if (d.callback.empty()) continue;
    Form form = fields_of(d, *item.step);
    Post post;
    post.request.method = "POST";
    post.request.url = d.callback;
    post.request.headers = {{"Content-Type", "application/x-www-form-urlencoded"},
                            {"User-Agent", "TwilioProxy/1.1"},
                            {"I-Twilio-Idempotency-Token", item.step->id},
                            {"X-Twilio-Signature", signature(d.secret, d.callback, form)}};
    post.request.body = form_encode(form);
    posts.push_back(std::move(post));
  }
  return posts;
}

}  // namespace twilio

}  // namespace herald::sandbox
