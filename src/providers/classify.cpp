#include "providers/classify.h"

#include <regex>

#include "providers/encoding.h"

namespace herald::providers {

bool is_transient(int http_status) {
  return http_status == 0 || http_status == 408 || http_status == 429 || http_status >= 500;
}

SendOutcome accepted(int http_status, std::string provider_message_id) {
  SendOutcome o;
  o.kind = OutcomeKind::accepted;
  o.provider_message_id = std::move(provider_message_id);
  o.http_status = http_status;
  return o;
}

SendOutcome retryable(const HttpResponse& response, std::string_view reason,
                      std::optional<std::chrono::seconds> fallback) {
  SendOutcome o;
  o.kind = OutcomeKind::retryable;
  o.retry_after = parse_retry_after(response);
  if (!o.retry_after) o.retry_after = fallback;
  o.reason = clean_reason(reason);
  o.http_status = response.status;
  return o;
}

SendOutcome permanent(int http_status, std::string_view reason) {
  SendOutcome o;
  o.kind = OutcomeKind::permanent;
  o.reason = clean_reason(reason);
  o.http_status = http_status;
  return o;
}

SendOutcome bad_credentials(int http_status, std::string_view reason) {
  SendOutcome o;
  o.kind = OutcomeKind::bad_credentials;
  o.reason = clean_reason(reason);
  o.http_status = http_status;
  return o;
}

std::vector<SendOutcome> for_each_message(const SendOutcome& outcome, std::size_t count) {
  return std::vector<SendOutcome>(count, outcome);
}

VerifyOutcome verify_ok(int http_status, std::string_view detail) {
  return VerifyOutcome{.ok = true, .detail = clean_reason(detail), .http_status = http_status};
}

VerifyOutcome verify_rejected(int http_status, std::string_view detail) {
  return VerifyOutcome{
      .bad_credentials = true, .detail = clean_reason(detail), .http_status = http_status};
}

VerifyOutcome verify_retryable(int http_status, std::string_view detail) {
  return VerifyOutcome{
      .retryable = true, .detail = clean_reason(detail), .http_status = http_status};
}

VerifyOutcome verify_failed(int http_status, std::string_view detail) {
  return VerifyOutcome{.detail = clean_reason(detail), .http_status = http_status};
}

std::string clean_reason(std::string_view text) {
  constexpr std::size_t kMaxReason = 500;
  std::string s(text);
  for (char& c : s) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) c = ' ';
  }
  // Every registered provider's key shapes (ProviderInfo::redact).
  static const std::regex kKeyLike = [] {
    std::string alternatives;
    for (const Provider* p : all_providers()) {
      for (std::string_view pattern : p->info().redact) {
        if (!alternatives.empty()) alternatives += '|';
        alternatives.append("(?:").append(pattern).append(")");
      }
    }
    return std::regex(alternatives.empty() ? std::string("$^") : alternatives);
  }();
  s = std::regex_replace(s, kKeyLike, "[redacted]");
  const auto first = s.find_first_not_of(' ');
  if (first == std::string::npos) return {};
  s.erase(0, first);
  s.erase(s.find_last_not_of(' ') + 1);
  if (s.size() > kMaxReason) {
    s.resize(kMaxReason);
    // Don't leave half a UTF-8 sequence at the cut.
    while (!s.empty() && (static_cast<unsigned char>(s.back()) & 0xC0) == 0x80) s.pop_back();
    if (!s.empty() && (static_cast<unsigned char>(s.back()) & 0x80) != 0) s.pop_back();
    s += "…";
  }
  return s;
}

// What a status means, in words an agent reads (the status itself stays in the attempt log).
static std::string plain_status(int status, std::string_view provider) {
  const std::string p(provider);
  if (status == 401) return p + " did not accept the credentials";
  if (status == 403) return p + " refused the request for this account";
  if (status == 404) return p + " could not find what was asked for";
  if (status == 408 || status == 504) return p + " took too long to answer";
  if (status == 413) return "the message is too large for " + p;
  if (status == 429) return p + " asked to slow down (too many requests)";
  if (status >= 500) return p + " had a problem on its side";
  if (status >= 400) return p + " refused the message as invalid";
  return p + " gave an unexpected answer";
}

std::string fallback_reason(const HttpResponse& response, std::string_view provider) {
  if (response.status == 0) return "no response from " + std::string(provider);
  std::string reason = plain_status(response.status, provider);
  constexpr std::size_t kMaxExcerpt = 200;
  const std::string excerpt = clean_reason(std::string_view(response.body).substr(0, kMaxExcerpt));
  // A JSON body that held no usable message is not worth quoting.
  if (!excerpt.empty() && !parse_json(response.body)) reason += ": " + excerpt;
  return reason;
}

}  // namespace herald::providers
