// Shared fixtures for the provider adapter tests: sample messages and credentials, and
// independent decoders for what adapters put on the wire (multipart, form, Basic auth).
#pragma once

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/http_message.h"
#include "core/message.h"
#include "core/route.h"

namespace herald::providers::fixtures {

using Fields = std::vector<std::pair<std::string, std::string>>;

// A rendered campaign email from Wright Realty (the seed's agent with their own account).
inline OutboundMessage email_message(std::string id = "0190b2a4-7c1e-7d3a-9f00-3c4d5e6f7a81",
                                     std::string to_address = "buyer@example.com") {
  OutboundMessage m;
  m.id = std::move(id);
  m.agent_id = "0190b2a4-0000-7000-8000-000000000001";
  m.channel = Channel::email;
  m.from = Mailbox{"Wright Realty", "matt@wrightrealty.com"};
  m.reply_to = "office@wrightrealty.com";
  m.to = Mailbox{"Jane Buyer", std::move(to_address)};
  m.subject = "New listing: 12 Oak St";
  m.text = "A new home just listed.";
  m.html = "<p>A new home just listed.</p>";
  m.headers = {{"List-Unsubscribe", "<https://herald.example/u/abc>"},
               {"List-Unsubscribe-Post", "List-Unsubscribe=One-Click"}};
  return m;
}

// A rendered SMS from the platform's Twilio number.
inline OutboundMessage sms_message(std::string id = "0190b2a4-7c1e-7d3a-9f00-3c4d5e6f7a90") {
  OutboundMessage m;
  m.id = std::move(id);
  m.agent_id = "0190b2a4-0000-7000-8000-000000000002";
  m.channel = Channel::sms;
  m.from_phone = "+15017122661";
  m.to_phone = "+15558675310";
  m.body = "Sunset Properties: open house Sat 1-3pm & snacks. Reply STOP to opt out.";
  m.status_callback = "https://herald.example/webhooks/twilio/status?agent=a1";
  return m;
}

inline Credentials resend_credentials(std::string base_url = "https://api.resend.test") {
  Credentials c;
  c.provider = "resend";
  c.secrets.set("apiKey", Secret("re_TestKey_4f9a8b7c6d5e"));
  c.base_url = std::move(base_url);
  return c;
}

inline Credentials sendgrid_credentials(std::string base_url = "https://api.sendgrid.test") {
  Credentials c;
  c.provider = "sendgrid";
  c.secrets.set("apiKey", Secret("SG.testKeyId123.testSecretPart456789"));
  c.base_url = std::move(base_url);
  return c;
}

inline Credentials mailgun_credentials(std::string base_url = "https://api.eu.mailgun.test") {
  Credentials c;
  c.provider = "mailgun";
  c.secrets.set("apiKey", Secret("key-3ax6xnjp29jd6fds4gc373sgvjxteol0"));
  c.params.set("domain", "mg.wrightrealty.com");
  c.params.set("region", "eu");
  c.base_url = std::move(base_url);
  return c;
}

inline Credentials twilio_credentials(std::string base_url = "https://api.twilio.test") {
  Credentials c;
  c.provider = "twilio";
  c.params.set("accountSid", "AC0123456789abcdef0123456789abcdef");
  c.secrets.set("authToken", Secret("f00dbabe0123456789abcdef01234567"));
  c.base_url = std::move(base_url);
  return c;
}

inline HttpResponse response(int status, std::string body = {}, Headers headers = {}) {
  return HttpResponse{status, std::move(headers), std::move(body)};
}

// Decodes standard base64 (independently of the adapters' encoder).
inline std::string base64_decode(std::string_view text) {
  std::string out(3 * (text.size() / 4) + 3, '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(text.data()),
                                static_cast<int>(text.size()));
  if (n < 0) return "<invalid base64>";
  out.resize(static_cast<std::size_t>(n));
  // EVP_DecodeBlock counts padding as zero bytes; drop one per '='.
  for (auto it = text.rbegin(); it != text.rend() && *it == '='; ++it) out.pop_back();
  return out;
}

// "user:password" from an `Authorization: Basic …` value ("" when not Basic).
inline std::string basic_credentials(std::string_view header_value) {
  constexpr std::string_view kPrefix = "Basic ";
  if (header_value.substr(0, kPrefix.size()) != kPrefix) return {};
  return base64_decode(header_value.substr(kPrefix.size()));
}

inline int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Decodes application/x-www-form-urlencoded (`+` as space, %XX) into ordered pairs.
inline Fields parse_form(std::string_view body) {
  auto decode = [](std::string_view s) {
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
      if (s[i] == '+') {
        out += ' ';
      } else if (s[i] == '%' && i + 2 < s.size() && hex_value(s[i + 1]) >= 0 &&
                 hex_value(s[i + 2]) >= 0) {
        out += static_cast<char>(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2]));
        i += 2;
      } else {
        out += s[i];
      }
    }
    return out;
  };
  Fields fields;
  while (!body.empty()) {
    const auto amp = body.find('&');
    const std::string_view pair = body.substr(0, amp);
    const auto eq = pair.find('=');
    fields.emplace_back(decode(pair.substr(0, eq)),
                        eq == std::string_view::npos ? "" : decode(pair.substr(eq + 1)));
    if (amp == std::string_view::npos) break;
    body.remove_prefix(amp + 1);
  }
  return fields;
}

// Decodes a multipart/form-data request (RFC 7578) into ordered (name, value) pairs,
// failing the test on anything malformed: a missing boundary, a part without a
// Content-Disposition naming it, or a body that does not end with the close delimiter.
inline Fields parse_multipart(const HttpRequest& request) {
  Fields fields;
  const auto content_type = request.header("Content-Type");
  if (!content_type) {
    ADD_FAILURE() << "no Content-Type";
    return fields;
  }
  constexpr std::string_view kPrefix = "multipart/form-data; boundary=";
  if (content_type->substr(0, kPrefix.size()) != kPrefix) {
    ADD_FAILURE() << "not multipart/form-data: " << *content_type;
    return fields;
  }
  const std::string boundary(content_type->substr(kPrefix.size()));
  const std::string delimiter = "--" + boundary;
  std::string_view body = request.body;
  if (body.substr(0, delimiter.size() + 2) != delimiter + "\r\n") {
    ADD_FAILURE() << "body does not start with the boundary";
    return fields;
  }
  body.remove_prefix(delimiter.size() + 2);
  const std::string separator = "\r\n" + delimiter;
  for (;;) {
    const auto end = body.find(separator);
    if (end == std::string_view::npos) {
      ADD_FAILURE() << "unterminated part";
      return fields;
    }
    const std::string_view part = body.substr(0, end);
    const auto blank = part.find("\r\n\r\n");
    if (blank == std::string_view::npos) {
      ADD_FAILURE() << "part without headers: " << part;
      return fields;
    }
    const std::string_view head = part.substr(0, blank);
    constexpr std::string_view kDisposition = "Content-Disposition: form-data; name=\"";
    if (head.substr(0, kDisposition.size()) != kDisposition || head.back() != '"') {
      ADD_FAILURE() << "bad part header: " << head;
      return fields;
    }
    fields.emplace_back(
        std::string(head.substr(kDisposition.size(), head.size() - kDisposition.size() - 1)),
        std::string(part.substr(blank + 4)));
    body.remove_prefix(end + separator.size());
    if (body == "--\r\n") return fields;
    if (body.substr(0, 2) != "\r\n") {
      ADD_FAILURE() << "bad delimiter tail";
      return fields;
    }
    body.remove_prefix(2);
  }
}

// All values of a field, in order.
inline std::vector<std::string> values_of(const Fields& fields, std::string_view name) {
  std::vector<std::string> out;
  for (const auto& [k, v] : fields) {
    if (k == name) out.push_back(v);
  }
  return out;
}

}  // namespace herald::providers::fixtures
