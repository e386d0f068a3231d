// Herald's HTTP server (Boost.Beast on Asio coroutines). Handling a request is a plain
// function from Request to Response, kept apart from the connection and accept loops.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/http_message.h"

namespace herald::http {

// An inbound request, fully read (body included). A request whose body was spooled to disk
// (ServerOptions::spool) has `body` empty and `body_file` naming the file, which the server
// deletes once the response is written.
struct Request {
  std::string method;  // "GET", "POST", ...
  std::string target;  // as sent: path plus query
  std::string path;    // percent-decoded path, no query
  std::string query;   // raw query string, no '?'
  Headers headers;
  std::string body;
  std::string remote_address;
  std::map<std::string, std::string> params;  // path parameters filled by the Router
  std::string body_file;                      // path of the spooled body, "" if in memory

  std::optional<std::string_view> header(std::string_view name) const {
    return find_header(headers, name);
  }
  // Percent-decoded query parameter (first occurrence).
  std::optional<std::string> query_param(std::string_view name) const;
  const std::string& param(const std::string& name) const;
};

// A response. `delay` makes the server wait before writing it (without blocking a thread),
// which the sandbox uses to emulate slow providers.
struct Response {
  int status = 200;
  Headers headers;
  std::string body;
  std::chrono::milliseconds delay{0};

  static Response json(int status, std::string body);
  static Response text(int status, std::string body,
                       std::string content_type = "text/plain; charset=utf-8");
  // application/problem+json (RFC 9457) with a title and optional detail.
  static Response problem(int status, std::string_view title, std::string_view detail = {});
  Response& set_header(std::string name, std::string value);
};

using Handler = std::function<Response(Request&)>;

// Requests allowed a large body (a CSV import, say): the body goes to a temporary file
// (mode 0600) instead of memory, so memory stays bounded whatever the size.
struct BodySpool {
  // Which requests spool, decided once the request head is read: `head` has everything but the
  // body (so a policy may also check credentials and refuse strangers the large limit).
  std::function<bool(const Request& head)> applies;
  std::size_t max_body_bytes = std::size_t{512} << 20;  // larger bodies get 413 problem+json
  std::string dir;  // where the files go (created if missing); "" = $TMPDIR or /tmp
};

struct ServerOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;  // 0 = any free port
  std::size_t threads = 2;
  std::size_t max_body_bytes = 1 << 20;     // larger bodies get 413 problem+json
  std::size_t max_header_bytes = 64 << 10;  // larger request heads get 431 problem+json
  std::chrono::seconds idle_timeout{60};    // keep-alive idle / slow client timeout
  std::optional<BodySpool> spool;           // requests whose bodies go to disk (none by default)
};

// Accepts connections and serves `handler` on its own threads until stopped.
// Exceptions escaping the handler become 500 problem+json (logged, never echoed).
// The handler runs on the server's threads, concurrently for different connections, so it
// must be thread-safe. stop() (and the destructor) must not be called from the handler.
class Server {
 public:
  Server(ServerOptions options, Handler handler);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds and starts serving; returns the bound port. Throws std::runtime_error if it cannot bind.
  std::uint16_t start();
  // Stops accepting, closes connections and joins the threads. Idempotent.
  void stop();
  std::uint16_t port() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Routes by method and path pattern ("/api/v1/agents/{id}/branding"). Unknown paths get 404,
// known paths with another method 405 (with Allow), both as problem+json.
//
// Pattern segments are literals, a parameter `{name}`, a parameter with a literal prefix or
// suffix (`{sid}.json`), or, as the last segment, a catch-all `{name...}` that takes the rest of
// the path. Paths are matched segment by segment on the raw target, each segment then
// percent-decoded, so an encoded `%2F` stays inside its parameter. Empty segments are ignored
// ("//a/" matches "/a"). When several routes match, literal segments win over parameters,
// left to right. Routes are added before serving starts; handle() is then thread-safe.
class Router {
 public:
  void add(std::string method, std::string pattern, Handler handler);
  Response handle(Request& request) const;
  // True if some route matches the path (any method).
  bool matches(std::string_view path) const;
  // Every registered (method, pattern), in registration order; lets tests walk the API.
  std::vector<std::pair<std::string, std::string>> table() const;

 private:
  struct Segment {
    enum class Kind { literal, param, rest };
    Kind kind = Kind::literal;
    std::string text;    // the literal, or the parameter name
    std::string prefix;  // literal text around a parameter ("{sid}.json": suffix ".json")
    std::string suffix;
  };
  struct Route {
    std::string method;
    std::vector<Segment> segments;
    Handler handler;
    std::string pattern;
  };
  // Matches decoded path segments against a route; fills params when given.
  static bool match(const Route& route, const std::vector<std::string>& path,
                    std::map<std::string, std::string>* params);
  // Orders two routes that both match: true if a is more specific than b.
  static bool more_specific(const Route& a, const Route& b);
  std::vector<Route> routes_;
};

// Percent-decodes a URL component ('+' becomes space when form is true).
std::string url_decode(std::string_view in, bool form = false);

// Parses an application/x-www-form-urlencoded body into (name, value) pairs in order.
std::vector<std::pair<std::string, std::string>> parse_form(std::string_view body);

}  // namespace herald::http
