#include "providers/encoding.h"

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

// RapidJSON's writer scans strings 16 bytes at a time with SSE2 (part of every x86-64 CPU).
#if defined(__SSE2__) && !defined(RAPIDJSON_SSE2)
#define RAPIDJSON_SSE2
#endif
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <simdjson.h>

#include "core/json_parse.h"

#include <charconv>
#include <ctime>

namespace herald::providers {

std::string base64_encode(std::string_view data) {
  // EVP_EncodeBlock writes 4 bytes per 3 input bytes plus a terminating NUL.
  std::string out(4 * ((data.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(data.data()),
                                static_cast<int>(data.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

std::optional<std::string> base64_decode(std::string_view text) {
  EVP_ENCODE_CTX* ctx = EVP_ENCODE_CTX_new();
  if (ctx == nullptr) return std::nullopt;
  std::string out(3 * (text.size() / 4) + 3, '\0');
  int n = 0;
  int tail = 0;
  EVP_DecodeInit(ctx);
  const bool ok =
      EVP_DecodeUpdate(ctx, reinterpret_cast<unsigned char*>(out.data()), &n,
                       reinterpret_cast<const unsigned char*>(text.data()),
                       static_cast<int>(text.size())) >= 0 &&
      EVP_DecodeFinal(ctx, reinterpret_cast<unsigned char*>(out.data()) + n, &tail) == 1;
  EVP_ENCODE_CTX_free(ctx);
  if (!ok) return std::nullopt;
  out.resize(static_cast<std::size_t>(n + tail));
  return out;
}

std::string basic_auth(std::string_view user, std::string_view password) {
  std::string credentials;
  credentials.reserve(user.size() + 1 + password.size());
  credentials.append(user).append(":").append(password);
  std::string header = "Basic " + base64_encode(credentials);
  // The joined plaintext held a secret; don't leave it in freed memory.
  OPENSSL_cleanse(credentials.data(), credentials.size());
  return header;
}

std::string bearer_auth(std::string_view token) {
  return "Bearer " + std::string(token);
}

static bool is_unreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

std::string percent_encode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (unsigned char c : text) {
    if (is_unreserved(c)) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0x0F];
    }
  }
  return out;
}

std::string form_urlencode(const FormFields& fields) {
  std::string out;
  for (const auto& [name, value] : fields) {
    if (!out.empty()) out += '&';
    out += percent_encode(name);
    out += '=';
    out += percent_encode(value);
  }
  return out;
}

static int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// `+` as space and %XX escapes; nullopt on a truncated or non-hex escape.
static std::optional<std::string> form_unescape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out += ' ';
    } else if (s[i] == '%') {
      if (i + 2 >= s.size()) return std::nullopt;  // "%" or "%A" at the end
      const int hi = hex_digit(s[i + 1]);
      const int lo = hex_digit(s[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

std::optional<FormFields> form_decode(std::string_view body) {
  FormFields fields;
  while (!body.empty()) {
    const auto amp = body.find('&');
    const std::string_view pair = body.substr(0, amp);
    if (!pair.empty()) {
      const auto eq = pair.find('=');
      auto name = form_unescape(pair.substr(0, eq));
      auto value = form_unescape(eq == std::string_view::npos ? "" : pair.substr(eq + 1));
      if (!name || !value) return std::nullopt;
      fields.emplace_back(std::move(*name), std::move(*value));
    }
    if (amp == std::string_view::npos) break;
    body.remove_prefix(amp + 1);
  }
  return fields;
}

std::string query_param(std::string_view url, std::string_view name) {
  const auto question = url.find('?');
  if (question == std::string_view::npos) return {};
  std::string_view query = url.substr(question + 1);
  query = query.substr(0, query.find('#'));
  const auto fields = form_decode(query);
  if (!fields) return {};
  for (const auto& [k, v] : *fields) {
    if (k == name) return v;
  }
  return {};
}

namespace {

// Writes `j` with RapidJSON's writer; false where it cannot (binary values, which no request
// holds). Floating-point numbers keep nlohmann's spelling.
template <class Writer>
bool write_json(Writer& w, const nlohmann::json& j) {
  using Type = nlohmann::json::value_t;
  switch (j.type()) {
    case Type::object:
      w.StartObject();
      for (auto it = j.begin(); it != j.end(); ++it) {
        const std::string& key = it.key();
        w.Key(key.data(), static_cast<rapidjson::SizeType>(key.size()));
        if (!write_json(w, it.value())) return false;
      }
      return w.EndObject();
    case Type::array:
      w.StartArray();
      for (const auto& v : j)
        if (!write_json(w, v)) return false;
      return w.EndArray();
    case Type::string: {
      const auto& s = j.get_ref<const std::string&>();
      return w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
    }
    case Type::boolean:
      return w.Bool(j.get<bool>());
    case Type::number_integer:
      return w.Int64(j.get<std::int64_t>());
    case Type::number_unsigned:
      return w.Uint64(j.get<std::uint64_t>());
    case Type::number_float: {
      std::string number = j.dump();
      return w.RawValue(number.data(), number.size(), rapidjson::kNumberType);
    }
    case Type::null:
      return w.Null();
    default:
      return false;
  }
}

}  // namespace

std::string json_body(const nlohmann::json& document) {
  // Request bodies are mostly long strings (a batch of rendered emails): RapidJSON copies the
  // runs that need no escaping 16 bytes at a time, several times faster than nlohmann's
  // byte-by-byte escaper. It passes bytes through, so the result is checked to be UTF-8
  // (simdjson); a value that is not is written by nlohmann with U+FFFD for the bad bytes.
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  if (write_json(writer, document) && simdjson::validate_utf8(buffer.GetString(), buffer.GetSize()))
    return std::string(buffer.GetString(), buffer.GetSize());
  return document.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::optional<nlohmann::json> parse_json(std::string_view body) {
  auto parsed = herald::parse_json(body);
  if (parsed.is_discarded()) return std::nullopt;
  return parsed;
}

std::string json_string(const nlohmann::json& object, std::string_view key) {
  if (!object.is_object()) return {};
  auto it = object.find(key);
  if (it == object.end() || !it->is_string()) return {};
  return it->get<std::string>();
}

// A form field name inside Content-Disposition's quoted-string (HTML's escaping rules).
static std::string escape_field_name(std::string_view name) {
  std::string out;
  for (char c : name) {
    if (c == '"') {
      out += "%22";
    } else if (c == '\r') {
      out += "%0D";
    } else if (c == '\n') {
      out += "%0A";
    } else {
      out += c;
    }
  }
  return out;
}

Multipart multipart_form(const FormFields& fields, std::string_view boundary) {
  Multipart m;
  m.content_type = "multipart/form-data; boundary=" + std::string(boundary);
  for (const auto& [name, value] : fields) {
    m.body.append("--").append(boundary).append("\r\n");
    m.body.append("Content-Disposition: form-data; name=\"")
        .append(escape_field_name(name))
        .append("\"\r\n\r\n");
    m.body.append(value).append("\r\n");
  }
  m.body.append("--").append(boundary).append("--\r\n");
  return m;
}

// A boundary of 32 random hex digits behind a fixed prefix (70 chars max per RFC 2046).
static std::string random_boundary() {
  unsigned char bytes[16];
  if (RAND_bytes(bytes, sizeof bytes) != 1) {
    // OpenSSL's CSPRNG failing to seed means the process cannot do any crypto at all.
    std::abort();
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "herald-";
  for (unsigned char b : bytes) {
    out += kHex[b >> 4];
    out += kHex[b & 0x0F];
  }
  return out;
}

Multipart multipart_form(const FormFields& fields) {
  // A collision with 128 random bits is practically impossible, but cheap to rule out.
  for (;;) {
    std::string boundary = random_boundary();
    bool clash = false;
    for (const auto& [name, value] : fields) {
      if (value.find(boundary) != std::string::npos || name.find(boundary) != std::string::npos) {
        clash = true;
        break;
      }
    }
    if (!clash) return multipart_form(fields, boundary);
  }
}

std::string sha256_hex(std::string_view data) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * sizeof digest);
  for (unsigned char b : digest) {
    out += kHex[b >> 4];
    out += kHex[b & 0x0F];
  }
  return out;
}

static std::string_view trim_blanks(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::optional<std::chrono::sys_seconds> parse_http_date(std::string_view text) {
  const std::string s(trim_blanks(text));
  std::tm tm{};
  // strptime uses the C locale's day and month names here (the process never sets another).
  const char* end = strptime(s.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm);
  if (end == nullptr || *end != '\0') return std::nullopt;
  const std::time_t t = timegm(&tm);
  if (t == static_cast<std::time_t>(-1)) return std::nullopt;
  return std::chrono::sys_seconds(std::chrono::seconds(t));
}

std::optional<long long> parse_decimal(std::string_view text) {
  text = trim_blanks(text);
  if (text.empty()) return std::nullopt;
  long long value = 0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || ptr != text.data() + text.size() || value < 0) return std::nullopt;
  return value;
}

}  // namespace herald::providers
