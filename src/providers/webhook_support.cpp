#include "providers/webhook_support.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <charconv>
#include <chrono>
#include <cmath>

#include "providers/classify.h"

namespace herald::providers {

std::string hmac_sha256(std::string_view key, std::string_view data) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), mac, &length);
  return std::string(reinterpret_cast<const char*>(mac), length);
}

std::string hex_lower(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * bytes.size());
  for (unsigned char b : bytes) {
    out += kHex[b >> 4];
    out += kHex[b & 0x0F];
  }
  return out;
}

bool same_signature(std::string_view a, std::string_view b) {
  return a.size() == b.size() && !a.empty() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

Error unsigned_request(std::string what) {
  return Error{Errc::unauthorized, std::move(what)};
}

Error bad_signature(std::string what) {
  return Error{Errc::forbidden, std::move(what)};
}

Error malformed(std::string field, std::string why) {
  Error e = Error::invalid(std::move(field), std::move(why));
  e.message = "not a webhook body this provider sends: " + e.fields.front().field + " " +
              e.fields.front().message;
  return e;
}

std::optional<TimePoint> parse_unix_seconds(std::string_view text) {
  long long seconds = 0;
  if (text.empty()) return std::nullopt;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), seconds);
  if (ec != std::errc() || end != text.data() + text.size() || seconds < 0) return std::nullopt;
  return TimePoint(std::chrono::seconds(seconds));
}

std::optional<TimePoint> parse_unix_time(const nlohmann::json& value) {
  double seconds = 0;
  if (value.is_number()) {
    seconds = value.get<double>();
  } else if (value.is_string()) {
    const std::string& s = value.get_ref<const std::string&>();
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), seconds);
    if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  } else {
    return std::nullopt;
  }
  // Past 9999-12-31 is not a time any provider means.
  if (!std::isfinite(seconds) || seconds < 0 || seconds > 253402300799.0) return std::nullopt;
  return TimePoint(std::chrono::duration_cast<Clock::duration>(
      std::chrono::duration<double>(std::floor(seconds * 1000.0) / 1000.0)));
}

namespace {

// Reads exactly `n` digits at `at` (advancing it).
std::optional<int> digits(std::string_view text, std::size_t& at, std::size_t n) {
  if (at + n > text.size()) return std::nullopt;
  int value = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const char c = text[at + i];
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + (c - '0');
  }
  at += n;
  return value;
}

bool expect(std::string_view text, std::size_t& at, char c) {
  if (at >= text.size() || text[at] != c) return false;
  ++at;
  return true;
}

}  // namespace

std::optional<TimePoint> parse_rfc3339(std::string_view text) {
  using namespace std::chrono;
  std::size_t at = 0;
  const auto y = digits(text, at, 4);
  if (!y || !expect(text, at, '-')) return std::nullopt;
  const auto mo = digits(text, at, 2);
  if (!mo || !expect(text, at, '-')) return std::nullopt;
  const auto d = digits(text, at, 2);
  if (!d || at >= text.size()) return std::nullopt;
  if (text[at] != 'T' && text[at] != 't' && text[at] != ' ') return std::nullopt;
  ++at;
  const auto h = digits(text, at, 2);
  if (!h || !expect(text, at, ':')) return std::nullopt;
  const auto mi = digits(text, at, 2);
  if (!mi || !expect(text, at, ':')) return std::nullopt;
  const auto s = digits(text, at, 2);
  if (!s || *h > 23 || *mi > 59 || *s > 60) return std::nullopt;
  // Fraction: milliseconds kept, finer digits read and dropped.
  long long millis = 0;
  if (at < text.size() && text[at] == '.') {
    ++at;
    std::size_t count = 0;
    while (at < text.size() && text[at] >= '0' && text[at] <= '9') {
      if (count < 3) millis = millis * 10 + (text[at] - '0');
      ++count;
      ++at;
    }
    if (count == 0) return std::nullopt;
    for (; count < 3; ++count) millis *= 10;
  }
  // Offset: Z, ±HH, ±HH:MM or ±HHMM.
  minutes offset{0};
  if (at >= text.size()) return std::nullopt;
  if (text[at] == 'Z' || text[at] == 'z') {
    ++at;
  } else if (text[at] == '+' || text[at] == '-') {
    const int sign = text[at] == '-' ? -1 : 1;
    ++at;
    const auto oh = digits(text, at, 2);
    if (!oh) return std::nullopt;
    int om = 0;
    if (at < text.size()) {
      expect(text, at, ':');
      const auto m = digits(text, at, 2);
      if (!m) return std::nullopt;
      om = *m;
    }
    offset = minutes(sign * (*oh * 60 + om));
  } else {
    return std::nullopt;
  }
  if (at != text.size()) return std::nullopt;
  const year_month_day date{year(*y), month(static_cast<unsigned>(*mo)),
                            day(static_cast<unsigned>(*d))};
  if (!date.ok()) return std::nullopt;
  const auto t =
      sys_days(date) + hours(*h) + minutes(*mi) + seconds(*s) + milliseconds(millis) - offset;
  return time_point_cast<Clock::duration>(t);
}

Result<void> check_fresh(TimePoint signed_at, TimePoint now, std::string_view what) {
  const auto skew = signed_at > now ? signed_at - now : now - signed_at;
  if (skew > kWebhookTolerance) {
    return fail(bad_signature(
        "stale " + std::string(what) + ": " +
        std::to_string(std::chrono::duration_cast<std::chrono::seconds>(skew).count()) +
        " s from now, more than the 300 s allowed"));
  }
  return {};
}

const nlohmann::json* json_object(const nlohmann::json& parent, std::string_view key) {
  if (!parent.is_object()) return nullptr;
  const auto it = parent.find(key);
  if (it == parent.end() || !it->is_object()) return nullptr;
  return &*it;
}

RegistrationStep ask(HttpRequest request) {
  return RegistrationStep{.request = std::move(request)};
}

RegistrationStep done(std::string key) {
  return RegistrationStep{.key = std::move(key)};
}

RegistrationStep failed(Error error) {
  return RegistrationStep{.error = std::move(error)};
}

RegistrationStep removed() {
  return {};
}

bool succeeded(const HttpResponse& answer) {
  return answer.status >= 200 && answer.status < 300;
}

bool removed_or_gone(const HttpResponse& answer) {
  return succeeded(answer) || answer.status == 404;
}

Error registration_error(const HttpResponse& answer, std::string_view provider_id,
                         std::string_view display_name, std::string_view reason, WebhookTask task) {
  const std::string name(display_name);
  const bool set_up = task == WebhookTask::set_up;
  const std::string doing = set_up ? "set up delivery tracking" : "remove delivery tracking";
  Error e{Errc::provider, {}};
  e.provider = std::string(provider_id);
  e.http_status = answer.status;
  e.retryable = is_transient(answer.status);
  if (answer.status == 0) {
    e.code = Errc::network;
    e.message = "could not reach " + name + " to " + doing;
  } else if (answer.status == 401) {
    e.message = name + " did not accept your account's credentials";
  } else if (answer.status == 403) {
    e.message = name + " did not accept your account's credentials for " +
                (set_up ? "setting up" : "removing") +
                " webhooks (the key may lack that permission)";
  } else {
    const std::string why = clean_reason(reason);
    e.message = name + " refused to " + doing + ": " +
                (why.empty() ? fallback_reason(answer, display_name) : why);
  }
  return e;
}

Error unexpected_answer(const HttpResponse& answer, std::string_view provider_id,
                        std::string_view display_name, std::string_view what) {
  Error e{Errc::provider, std::string(display_name) + " answered without " + std::string(what)};
  e.provider = std::string(provider_id);
  e.http_status = answer.status;
  return e;
}

}  // namespace herald::providers
