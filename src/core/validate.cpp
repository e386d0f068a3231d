// Input validation: email addresses, phone numbers (E.164 via libphonenumber), http(s) URLs.
//
// Email rules (ASCII only; what the providers we send through accept):
// - at most 254 characters in total; exactly one '@';
// - local part: 1..64 characters from RFC 5322 atext (letters, digits and
//   !#$%&'*+/=?^_`{|}~-) and '.', with no leading, trailing or consecutive dots. Quoted local
//   parts ("john doe"@x) are refused: providers and users rarely handle them;
// - domain: at most 253 characters, two or more dot-separated labels of 1..63 letters, digits
//   and hyphens, no label starting or ending with '-', no trailing dot; the last label (TLD)
//   has at least two characters and is not all digits. IP literals ([1.2.3.4]) are refused;
// - no spaces, control characters or non-ASCII bytes anywhere. Internationalised addresses
//   (SMTPUTF8) are refused; IDN domains must be given in punycode (xn--...).
// Plus-addressing (jane+listings@example.com) and subdomains are accepted.
#include "core/validate.h"

#include <phonenumbers/phonenumberutil.h>
#include <unicode/locid.h>
#include <unicode/unistr.h>

#include <algorithm>
#include <charconv>

namespace herald {
namespace {

constexpr std::size_t kMaxEmail = 254;
constexpr std::size_t kMaxLocal = 64;
constexpr std::size_t kMaxDomain = 253;
constexpr std::size_t kMaxLabel = 63;
constexpr std::size_t kMaxUrl = 2048;
constexpr std::size_t kMaxPhoneInput = 64;

// A country's English name from its ISO 3166 region code ("US" → "the United States"), by
// ICU's display names; "+<code>" numbering plans without one fall back to the code.
std::string country_name(const std::string& region) {
  if (region.empty() || region == "ZZ" || region == "001") return "this country code";
  icu::UnicodeString name;
  icu::Locale("", region.c_str()).getDisplayCountry(icu::Locale::getEnglish(), name);
  std::string out;
  name.toUTF8String(out);
  if (out.empty() || out == region) return region;
  // Names read with an article in a sentence.
  static constexpr std::string_view kWithThe[] = {"US", "GB", "NL", "PH", "AE", "CZ", "DO", "BS",
                                                  "GM", "CF", "CD", "CG", "KM", "MV", "MH", "SB",
                                                  "VA", "KY", "VG", "VI", "TC", "FK", "MP"};
  if (std::find(std::begin(kWithThe), std::end(kWithThe), region) != std::end(kWithThe))
    return "the " + out;
  return out;
}

bool is_alpha(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_alnum(char c) {
  return is_alpha(c) || is_digit(c);
}

// RFC 5322 atext: the characters allowed in an unquoted local part besides '.'.
bool is_atext(char c) {
  if (is_alnum(c)) return true;
  constexpr std::string_view specials = "!#$%&'*+/=?^_`{|}~-";
  return specials.find(c) != std::string_view::npos;
}

bool valid_local_part(std::string_view local) {
  if (local.empty() || local.size() > kMaxLocal) return false;
  if (local.front() == '.' || local.back() == '.') return false;
  if (local.find("..") != std::string_view::npos) return false;
  return std::all_of(local.begin(), local.end(), [](char c) { return c == '.' || is_atext(c); });
}

// One DNS label (LDH rule): 1..63 letters, digits, hyphens; no hyphen at either end.
// `underscore` also allows '_' (container host names such as "herald_sandbox").
bool valid_label(std::string_view label, bool underscore) {
  if (label.empty() || label.size() > kMaxLabel) return false;
  if (label.front() == '-' || label.back() == '-') return false;
  return std::all_of(label.begin(), label.end(),
                     [&](char c) { return is_alnum(c) || c == '-' || (underscore && c == '_'); });
}

// Dot-separated labels. For email domains (`email`) two or more labels and a non-numeric TLD
// of two or more characters are required; URL hosts may be one label ("localhost") and may
// hold '_'.
bool valid_hostname(std::string_view host, bool email) {
  if (host.empty() || host.size() > kMaxDomain) return false;
  std::size_t labels = 0;
  std::string_view last;
  std::size_t start = 0;
  while (true) {
    const std::size_t dot = host.find('.', start);
    const std::string_view label = host.substr(start, dot - start);
    if (!valid_label(label, !email)) return false;
    ++labels;
    last = label;
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  if (!email) return true;
  return labels >= 2 && last.size() >= 2 && !std::all_of(last.begin(), last.end(), is_digit);
}

// Dotted-quad IPv4, each part 0..255 without leading zeros.
bool valid_ipv4(std::string_view s) {
  int parts = 0;
  std::size_t start = 0;
  while (true) {
    const std::size_t dot = s.find('.', start);
    const std::string_view part = s.substr(start, dot - start);
    if (part.empty() || part.size() > 3 || !std::all_of(part.begin(), part.end(), is_digit)) {
      return false;
    }
    if (part.size() > 1 && part.front() == '0') return false;
    int v = 0;
    std::from_chars(part.data(), part.data() + part.size(), v);
    if (v > 255) return false;
    ++parts;
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return parts == 4;
}

// The inside of an IPv6 literal ("::1", "2001:db8::1"): hex groups and colons, optionally an
// embedded IPv4 tail. A shape check, not a full RFC 4291 parser.
bool valid_ipv6(std::string_view s) {
  if (s.size() < 2 || s.size() > 45) return false;
  std::size_t groups = 0;
  bool compressed = false;
  std::size_t i = 0;
  if (s.starts_with("::")) {
    compressed = true;
    i = 2;
  }
  while (i < s.size()) {
    std::size_t j = i;
    while (j < s.size() && s[j] != ':') ++j;
    const std::string_view group = s.substr(i, j - i);
    if (j == s.size() && group.find('.') != std::string_view::npos) {
      if (!valid_ipv4(group)) return false;
      groups += 2;
      break;
    }
    if (group.empty() || group.size() > 4 || !std::all_of(group.begin(), group.end(), [](char c) {
          return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
        })) {
      return false;
    }
    ++groups;
    if (j == s.size()) break;
    if (s.substr(j).starts_with("::")) {
      if (compressed) return false;
      compressed = true;
      i = j + 2;
      if (i == s.size()) break;
    } else {
      i = j + 1;
      if (i == s.size()) return false;  // trailing single ':'
    }
  }
  return compressed ? groups < 8 : groups == 8;
}

// Characters allowed in a URL's path, query and fragment (RFC 3986 unreserved, reserved and
// '%'); no spaces, controls or raw non-ASCII. Percent signs must start a %XX escape.
bool valid_url_tail(std::string_view tail) {
  constexpr std::string_view allowed = "-._~:/?#[]@!$&'()*+,;=";
  for (std::size_t i = 0; i < tail.size(); ++i) {
    const char c = tail[i];
    if (c == '%') {
      auto hex = [](char h) {
        return is_digit(h) || (h >= 'a' && h <= 'f') || (h >= 'A' && h <= 'F');
      };
      if (i + 2 >= tail.size() || !hex(tail[i + 1]) || !hex(tail[i + 2])) return false;
      i += 2;
      continue;
    }
    if (!is_alnum(c) && allowed.find(c) == std::string_view::npos) return false;
  }
  return true;
}

bool iequals_prefix(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    char c = s[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != prefix[i]) return false;
  }
  return true;
}

}  // namespace

bool is_valid_email(std::string_view address) {
  if (address.empty() || address.size() > kMaxEmail) return false;
  const std::size_t at = address.find('@');
  if (at == std::string_view::npos || address.find('@', at + 1) != std::string_view::npos) {
    return false;
  }
  return valid_local_part(address.substr(0, at)) &&
         valid_hostname(address.substr(at + 1), /*email=*/true);
}

// Accepted input: optional surrounding whitespace, then '+', the country code and the number,
// with spaces, '-', '.', '(' and ')' as separators. Refused: anything without a leading '+'
// (the region is never guessed), letters (vanity numbers like +1-800-FLOWERS), extensions,
// and numbers libphonenumber does not consider valid for their country — which includes the
// NANP 555 area code (+1 555 123 4567), though +1 <real area code> 555-01xx numbers pass.
Result<std::string> check_phone(std::string_view input) {
  constexpr std::string_view ws = " \t\r\n";
  const auto b = input.find_first_not_of(ws);
  if (b == std::string_view::npos) return fail(Errc::invalid_input, "is empty");
  input = input.substr(b, input.find_last_not_of(ws) - b + 1);
  auto wrong = [](std::string why) { return fail(Errc::invalid_input, std::move(why)); };
  if (input.size() > kMaxPhoneInput) return wrong("is too long for a phone number");
  if (input.front() != '+')
    return wrong("must start with + and the country code, e.g. +14155552671");
  const std::string_view rest = input.substr(1);
  const bool plain = std::all_of(rest.begin(), rest.end(), [](char c) {
    return is_digit(c) || c == ' ' || c == '-' || c == '.' || c == '(' || c == ')';
  });
  if (!plain || std::none_of(rest.begin(), rest.end(), is_digit))
    return wrong("may hold only digits, spaces, dashes, dots and brackets after the +");

  using i18n::phonenumbers::PhoneNumber;
  using i18n::phonenumbers::PhoneNumberUtil;
  const PhoneNumberUtil& util = *PhoneNumberUtil::GetInstance();
  PhoneNumber number;
  // Region "ZZ" (unknown): the number must carry its own country code.
  if (util.Parse(std::string(input), "ZZ", &number) != PhoneNumberUtil::NO_PARSING_ERROR)
    return wrong("does not start with a known country code");
  if (number.has_extension()) return wrong("must not have an extension");
  if (!util.IsValidNumber(number)) {
    std::string region;
    util.GetRegionCodeForCountryCode(number.country_code(), &region);
    const std::string country = country_name(region);
    if (!util.IsPossibleNumber(number))
      return wrong("has the wrong number of digits for " + country);
    // E.g. the seed's +1-555-123-4567: well-formed, but 555 numbers are not assigned.
    return wrong("is not a valid number for " + country);
  }
  std::string out;
  util.Format(number, PhoneNumberUtil::E164, &out);
  return out;
}

std::optional<std::string> to_e164(std::string_view input) {
  auto e164 = check_phone(input);
  if (!e164) return std::nullopt;
  return std::move(*e164);
}

// Accepted: http:// or https:// (scheme case-insensitive), then a host — a DNS name (a single
// label such as "localhost" is fine), a dotted IPv4 address or a bracketed IPv6 literal — an
// optional port 1..65535, and an optional path/query/fragment of RFC 3986 characters.
// Refused: other schemes, user:password@ (credentials do not belong in URLs), spaces,
// controls, non-ASCII, and anything longer than 2048 characters.
bool is_valid_http_url(std::string_view url) {
  if (url.size() > kMaxUrl) return false;
  std::size_t scheme_len = 0;
  if (iequals_prefix(url, "https://")) {
    scheme_len = 8;
  } else if (iequals_prefix(url, "http://")) {
    scheme_len = 7;
  } else {
    return false;
  }
  const std::string_view rest = url.substr(scheme_len);
  const std::size_t auth_end = rest.find_first_of("/?#");
  const std::string_view authority = rest.substr(0, auth_end);
  const std::string_view tail =
      auth_end == std::string_view::npos ? std::string_view{} : rest.substr(auth_end);
  if (authority.empty() || authority.find('@') != std::string_view::npos) return false;

  // Split host and port; an IPv6 literal is bracketed and holds colons itself.
  std::string_view host;
  std::string_view port;
  bool have_port = false;
  if (authority.front() == '[') {
    const std::size_t close = authority.find(']');
    if (close == std::string_view::npos || !valid_ipv6(authority.substr(1, close - 1))) {
      return false;
    }
    host = authority.substr(0, close + 1);
    const std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return false;
      port = after.substr(1);
      have_port = true;
    }
  } else {
    const std::size_t colon = authority.find(':');
    host = authority.substr(0, colon);
    if (colon != std::string_view::npos) {
      port = authority.substr(colon + 1);
      have_port = true;
    }
    const bool numeric = !host.empty() && std::all_of(host.begin(), host.end(), [](char c) {
      return is_digit(c) || c == '.';
    });
    if (numeric ? !valid_ipv4(host) : !valid_hostname(host, /*email=*/false)) return false;
  }
  if (have_port) {
    if (port.empty() || port.size() > 5 || !std::all_of(port.begin(), port.end(), is_digit)) {
      return false;
    }
    int p = 0;
    std::from_chars(port.data(), port.data() + port.size(), p);
    if (p < 1 || p > 65535) return false;
  }
  return valid_url_tail(tail);
}

}  // namespace herald
