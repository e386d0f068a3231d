#include "store/postgres/url.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <string_view>

namespace herald::store::postgres {

namespace {

constexpr std::string_view kSetting = "HERALD_DATABASE_URL";
constexpr int kMaxPoolSize = 100;

Error malformed(std::string_view why) {
  return Error{Errc::config, std::string(kSetting) +
                                 ": not a valid PostgreSQL URL (expected "
                                 "postgres://user:password@host:port/database): " +
                                 std::string(why)};
}

// %XX escapes decoded (a malformed escape is kept as it is).
std::string percent_decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      out.push_back(static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16)));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

// The parts of the URL after "://", split as libpq splits them: the user info ends at the first
// '@' met before any '/'; the hosts end at '/' or '?'; the database at '?'.
struct Parts {
  std::string_view userinfo;  // user[:password], may be empty
  std::string_view hosts;     // host[:port][,host[:port]…]
  std::string_view database;
  std::string_view query;
  bool has_userinfo = false;
};

Parts split(std::string_view rest) {
  Parts p;
  if (const std::size_t at = rest.find_first_of("@/");
      at != std::string_view::npos && rest[at] == '@') {
    p.has_userinfo = true;
    p.userinfo = rest.substr(0, at);
    rest.remove_prefix(at + 1);
  }
  const std::size_t host_end = rest.find_first_of("/?");
  p.hosts = rest.substr(0, host_end);
  rest = host_end == std::string_view::npos ? std::string_view() : rest.substr(host_end);
  if (rest.starts_with('/')) {
    const std::size_t q = rest.find('?');
    p.database = rest.substr(1, q == std::string_view::npos ? std::string_view::npos : q - 1);
    rest = q == std::string_view::npos ? std::string_view() : rest.substr(q);
  }
  if (rest.starts_with('?')) p.query = rest.substr(1);
  return p;
}

// Every spelling of what could be the password, generously: whatever lies between "://" and
// the last '@' (a password may hold '@', '/' or ':' unescaped, even if libpq will not take it),
// and what follows the first ':' there, raw and decoded.
void note_password(std::string_view rest, PgUrl& out) {
  const std::size_t at = rest.rfind('@');
  if (at == std::string_view::npos) return;
  const std::string_view userinfo = rest.substr(0, at);
  out.secrets.emplace_back(userinfo);
  if (const std::size_t colon = userinfo.find(':'); colon != std::string_view::npos) {
    out.secrets.emplace_back(userinfo.substr(colon + 1));
    out.secrets.push_back(percent_decode(userinfo.substr(colon + 1)));
  }
}

// Checks each host[:port] of a comma-separated list; an empty list means the local socket.
Result<void> check_hosts(std::string_view hosts) {
  // An '@' here means a password with an unescaped '@': part of it would be taken for a host.
  if (hosts.find('@') != std::string_view::npos)
    return fail(malformed("an '@' in the password must be written %40"));
  while (!hosts.empty()) {
    const std::size_t comma = hosts.find(',');
    std::string_view one = hosts.substr(0, comma);
    hosts = comma == std::string_view::npos ? std::string_view() : hosts.substr(comma + 1);
    std::string_view port;
    if (one.starts_with('[')) {
      const std::size_t close = one.find(']');
      if (close == std::string_view::npos) return fail(malformed("an IPv6 host lacks its ']'"));
      if (close + 1 < one.size()) {
        if (one[close + 1] != ':') return fail(malformed("text after an IPv6 host"));
        port = one.substr(close + 2);
      }
    } else if (const std::size_t colon = one.find(':'); colon != std::string_view::npos) {
      port = one.substr(colon + 1);
    }
    if (!port.empty()) {
      int n = 0;
      auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), n);
      if (ec != std::errc() || end != port.data() + port.size() || n < 1 || n > 65535)
        return fail(malformed("the port is not a number from 1 to 65535"));
    }
  }
  return {};
}

// Takes Herald's own options out of the query (libpq refuses names it does not know) and notes
// a password given as an option.
Result<std::string> take_options(std::string_view query, PgUrl& out) {
  std::string kept;
  while (!query.empty()) {
    const std::size_t amp = query.find('&');
    std::string_view kv = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (kv.empty()) continue;
    const std::size_t eq = kv.find('=');
    const std::string_view key = kv.substr(0, eq);
    const std::string_view value = eq == std::string_view::npos ? "" : kv.substr(eq + 1);
    if (key == "password") {
      out.secrets.emplace_back(value);
      out.secrets.push_back(percent_decode(value));
    }
    if (key == "pool_size") {
      int n = 0;
      auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
      if (ec != std::errc() || end != value.data() + value.size() || n < 1 || n > kMaxPoolSize)
        return fail(malformed("pool_size must be a whole number from 1 to 100"));
      out.pool_size = n;
      continue;
    }
    if (!kept.empty()) kept += '&';
    kept.append(kv);
  }
  return kept;
}

}  // namespace

bool is_postgres_url(const std::string& url) {
  return url.starts_with("postgres://") || url.starts_with("postgresql://");
}

Result<PgUrl> parse_url(const std::string& url) {
  if (!is_postgres_url(url)) return fail(malformed("it must start with postgres://"));
  const std::string_view scheme = url.starts_with("postgres://") ? "postgres://" : "postgresql://";
  const std::string_view rest = std::string_view(url).substr(scheme.size());
  const Parts p = split(rest);
  PgUrl out;
  note_password(rest, out);
  std::string_view user = p.userinfo.substr(0, p.userinfo.find(':'));
  if (auto r = check_hosts(p.hosts); !r) return fail(r.error());
  auto query = take_options(p.query, out);
  if (!query) return fail(query.error());
  // Empty strings would mask everything; duplicates cost nothing but are dropped anyway.
  std::erase_if(out.secrets, [](const std::string& s) { return s.empty(); });
  std::ranges::sort(out.secrets, [](const auto& a, const auto& b) { return a.size() > b.size(); });
  out.secrets.erase(std::unique(out.secrets.begin(), out.secrets.end()), out.secrets.end());

  std::string options = *query;
  // Fail fast where a host does not answer (libpq waits for TCP's own timeout otherwise).
  if (options.find("connect_timeout=") == std::string::npos)
    options += std::string(options.empty() ? "" : "&") + "connect_timeout=10";
  if (options.find("application_name=") == std::string::npos) options += "&application_name=herald";
  out.conninfo = std::string(scheme);
  if (p.has_userinfo) out.conninfo.append(p.userinfo).append("@");
  out.conninfo.append(p.hosts).append("/").append(p.database).append("?").append(options);

  const bool has_password = p.userinfo.find(':') != std::string_view::npos;
  out.shown = std::string(scheme) +
              (user.empty() ? "" : percent_decode(user) + (has_password ? ":***@" : "@")) +
              std::string(p.hosts.empty() ? "localhost" : p.hosts) + "/" +
              percent_decode(p.database);
  out.shown = redact(out.shown, out);
  return out;
}

std::string redact(std::string text, const PgUrl& url) {
  for (const std::string& secret : url.secrets) {
    for (std::size_t at = text.find(secret); at != std::string::npos;
         at = text.find(secret, at + 3))
      text.replace(at, secret.size(), "***");
  }
  return text;
}

}  // namespace herald::store::postgres
