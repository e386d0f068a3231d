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

// An inbound request, fully read (body included).
struct Request {
  std::string method;  // "GET", "POST", ...
  std::string target;  // as sent: path plus query
  std::string path;    // percent-decoded path, no query
  std::string query;   // raw query string, no '?'
  Headers headers;
  std::string body;
  std::string remote_address;
  std::map<std::string, std::string> params;  // path parameters filled by the Router

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
  static Response text(int status, std::string body, std::string content_type = "text/plain; charset=utf-8");
  // application/problem+json (RFC 9457) with a title and optional detail.
  static Response problem(int status, std::string_view title, std::string_view detail = {});
  Response& set_header(std::string name, std::string value);
};

using Handler = std::function<Response(Request&)>;

struct ServerOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;  // 0 = any free port
  std::size_t threads = 2;
  std::size_t max_body_bytes = 1 << 20;   // larger bodies get 413 problem+json
  std::chrono::seconds idle_timeout{60};  // keep-alive idle / slow client timeout
};

// Accepts connections and serves `handler` on its own threads until stopped.
// Exceptions escaping the handler become 500 problem+json (logged, never echoed).
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
// known paths with another method 405, both as problem+json.
class Router {
 public:
  void add(std::string method, std::string pattern, Handler handler);
  Response handle(Request& request) const;
  // True if some route matches the path (any method).
  bool matches(std::string_view path) const;

 private:
  struct Route {
    std::string method;
    std::vector<std::string> segments;
    Handler handler;
  };
  std::vector<Route> routes_;
};

// Percent-decodes a URL component ('+' becomes space when form is true).
std::string url_decode(std::string_view in, bool form = false);

// Parses an application/x-www-form-urlencoded body into (name, value) pairs in order.
std::vector<std::pair<std::string, std::string>> parse_form(std::string_view body);

}  // namespace herald::http
