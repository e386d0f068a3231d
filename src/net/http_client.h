// Outbound HTTP to providers (libcurl). Keeps connections alive per host.
#pragma once

#include <chrono>
#include <memory>
#include <span>
#include <vector>

#include "core/error.h"
#include "core/http_message.h"

namespace herald::net {

struct ClientOptions {
  std::chrono::milliseconds timeout{15000};
  std::chrono::milliseconds connect_timeout{5000};
  std::size_t max_connections_per_host = 64;
  // A CA bundle to trust instead of the system's (e.g. an internal SMTP relay's); empty: the
  // system's.
  std::string ca_file;
};

// Performs HTTP requests, and SMTP submissions (HttpRequest::mail) over the same connection
// pool. One instance is used by one thread at a time.
class HttpClient {
 public:
  virtual ~HttpClient() = default;

  // Performs one request. A transport failure (refused, timeout, TLS) is an Error with
  // code Errc::network and retryable=true; any HTTP status, 4xx/5xx included, is a response.
  virtual Result<HttpResponse> perform(const HttpRequest& request) = 0;

  // Performs requests concurrently (up to max_connections_per_host at once per host);
  // results are in request order.
  virtual std::vector<Result<HttpResponse>> perform_all(std::span<const HttpRequest> requests) = 0;
};

// A libcurl-backed client (curl multi with keep-alive).
std::unique_ptr<HttpClient> make_curl_client(ClientOptions options = {});

}  // namespace herald::net
