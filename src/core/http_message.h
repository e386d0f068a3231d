// Plain HTTP request/response values shared by providers (which build and classify them),
// the outbound client (which performs them) and the server. No I/O here.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace herald {

using Headers = std::vector<std::pair<std::string, std::string>>;

// Case-insensitive header lookup; the first match wins.
std::optional<std::string_view> find_header(const Headers& headers, std::string_view name);

// A mail submission over SMTP, carried by an HttpRequest whose url is smtp://host:port/<ehlo
// name> (STARTTLS as `require_tls` says) or smtps://host:port/<ehlo name> (implicit TLS) and
// whose body is the whole message (RFC 5322). With no recipients it is a credential check:
// connect, TLS, AUTH, NOOP, QUIT.
struct MailEnvelope {
  std::string mail_from;
  std::vector<std::string> rcpt_to;
  std::string username;  // empty: no AUTH
  std::string password;
  bool require_tls = true;  // smtp://: STARTTLS or fail (never plain text unless false)
  // Mails to this server under this login in flight at once, across every client in the
  // process (a server counts its connections per login); 0: only the client's per-host limit.
  std::size_t max_connections = 0;
};

// An outbound (or inbound) HTTP request. `url` is absolute for outbound requests.
struct HttpRequest {
  std::string method;
  std::string url;
  Headers headers;
  std::string body;
  // Set: an SMTP submission instead of HTTP (method and headers are not sent). Its answer is
  // an HttpResponse whose status is the server's last reply code (250, 451, 535, …) and whose
  // body is that reply's text.
  std::optional<MailEnvelope> mail;
  // Set: the most this request may take, connecting included, when that is less than the
  // client's own timeout (what is left of a caller's budget across several requests).
  std::optional<std::chrono::milliseconds> timeout;

  std::optional<std::string_view> header(std::string_view name) const {
    return find_header(headers, name);
  }
};

// An HTTP response. status 0 means no response was received.
struct HttpResponse {
  int status = 0;
  Headers headers;
  std::string body;
  // From the start of the transfer to its last byte (connecting included).
  std::chrono::microseconds elapsed{0};

  std::optional<std::string_view> header(std::string_view name) const {
    return find_header(headers, name);
  }
};

}  // namespace herald
