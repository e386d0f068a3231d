// Plain HTTP request/response values shared by providers (which build and classify them),
// the outbound client (which performs them) and the server. No I/O here.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace herald {

using Headers = std::vector<std::pair<std::string, std::string>>;

// Case-insensitive header lookup; the first match wins.
std::optional<std::string_view> find_header(const Headers& headers, std::string_view name);

// An outbound (or inbound) HTTP request. `url` is absolute for outbound requests.
struct HttpRequest {
  std::string method;
  std::string url;
  Headers headers;
  std::string body;

  std::optional<std::string_view> header(std::string_view name) const {
    return find_header(headers, name);
  }
};

// An HTTP response. status 0 means no response was received.
struct HttpResponse {
  int status = 0;
  Headers headers;
  std::string body;

  std::optional<std::string_view> header(std::string_view name) const {
    return find_header(headers, name);
  }
};

}  // namespace herald
