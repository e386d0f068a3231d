// Test clients for the HTTP server and the sandbox: a plain libcurl client (one easy handle,
// so its connection is kept alive between requests) and a raw TCP connection for the cases
// a well-behaved client cannot produce (pipelining, oversized heads, idling).
#pragma once

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "core/http_message.h"

namespace herald::testing {

struct HttpResult {
  long status = 0;
  std::string body;
  Headers headers;
  long new_connections = 0;  // connections curl had to open for this request

  std::optional<std::string_view> header(std::string_view name) const {
    return find_header(headers, name);
  }
};

// One multipart/form-data part (curl_mime), for Mailgun-style requests.
struct FormPart {
  std::string name;
  std::string value;
  std::string filename;  // non-empty: sent as a file part
};

class CurlClient {
 public:
  CurlClient() : curl_(curl_easy_init()) {
    if (!curl_) throw std::runtime_error("curl_easy_init failed");
  }
  ~CurlClient() { curl_easy_cleanup(curl_); }
  CurlClient(const CurlClient&) = delete;
  CurlClient& operator=(const CurlClient&) = delete;

  // Performs one request. `userpwd` ("user:password") adds HTTP Basic auth.
  HttpResult request(const std::string& method, const std::string& url,
                     const std::string& body = {}, const Headers& headers = {},
                     const std::string& userpwd = {}, const std::vector<FormPart>* form = nullptr) {
    curl_easy_reset(curl_);
    HttpResult result;
    curl_easy_setopt(curl_, CURLOPT_URL, url.c_str());
    curl_easy_setopt(curl_, CURLOPT_CUSTOMREQUEST, method.c_str());
    curl_easy_setopt(curl_, CURLOPT_TIMEOUT_MS, 20000L);
    curl_easy_setopt(curl_, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl_, CURLOPT_WRITEFUNCTION, &CurlClient::on_body);
    curl_easy_setopt(curl_, CURLOPT_WRITEDATA, &result.body);
    curl_easy_setopt(curl_, CURLOPT_HEADERFUNCTION, &CurlClient::on_header);
    curl_easy_setopt(curl_, CURLOPT_HEADERDATA, &result.headers);
    curl_mime* mime = nullptr;
    if (form) {
      mime = curl_mime_init(curl_);
      for (const FormPart& p : *form) {
        curl_mimepart* part = curl_mime_addpart(mime);
        curl_mime_name(part, p.name.c_str());
        curl_mime_data(part, p.value.data(), p.value.size());
        if (!p.filename.empty()) curl_mime_filename(part, p.filename.c_str());
      }
      curl_easy_setopt(curl_, CURLOPT_MIMEPOST, mime);
    } else if (!body.empty() || method == "POST" || method == "PUT") {
      curl_easy_setopt(curl_, CURLOPT_POSTFIELDS, body.data());
      curl_easy_setopt(curl_, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
    }
    if (method == "HEAD") curl_easy_setopt(curl_, CURLOPT_NOBODY, 1L);
    if (!userpwd.empty()) curl_easy_setopt(curl_, CURLOPT_USERPWD, userpwd.c_str());
    curl_slist* list = nullptr;
    for (const auto& [k, v] : headers) {
      std::string line = v.empty() ? k + ";" : k + ": " + v;
      list = curl_slist_append(list, line.c_str());
    }
    if (list) curl_easy_setopt(curl_, CURLOPT_HTTPHEADER, list);
    CURLcode rc = curl_easy_perform(curl_);
    curl_slist_free_all(list);
    if (mime) curl_mime_free(mime);
    if (rc != CURLE_OK) throw std::runtime_error(std::string("curl: ") + curl_easy_strerror(rc));
    curl_easy_getinfo(curl_, CURLINFO_RESPONSE_CODE, &result.status);
    curl_easy_getinfo(curl_, CURLINFO_NUM_CONNECTS, &result.new_connections);
    return result;
  }

  HttpResult get(const std::string& url, const Headers& headers = {}) {
    return request("GET", url, {}, headers);
  }
  HttpResult post(const std::string& url, const std::string& body, const Headers& headers = {},
                  const std::string& userpwd = {}) {
    return request("POST", url, body, headers, userpwd);
  }
  HttpResult post_form(const std::string& url, const std::vector<FormPart>& form,
                       const Headers& headers = {}, const std::string& userpwd = {}) {
    return request("POST", url, {}, headers, userpwd, &form);
  }

 private:
  static size_t on_body(char* data, size_t size, size_t n, void* out) {
    static_cast<std::string*>(out)->append(data, size * n);
    return size * n;
  }
  static size_t on_header(char* data, size_t size, size_t n, void* out) {
    std::string_view line(data, size * n);
    auto* headers = static_cast<Headers*>(out);
    if (line.starts_with("HTTP/")) headers->clear();  // a new response (after 100 Continue)
    auto colon = line.find(':');
    if (colon != std::string_view::npos) {
      std::string_view value = line.substr(colon + 1);
      while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) {
        value.remove_prefix(1);
      }
      while (!value.empty() && (value.back() == '\r' || value.back() == '\n')) {
        value.remove_suffix(1);
      }
      headers->emplace_back(std::string(line.substr(0, colon)), std::string(value));
    }
    return size * n;
  }
  CURL* curl_;
};

// A raw TCP connection to 127.0.0.1:port.
class RawConnection {
 public:
  explicit RawConnection(std::uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd_ < 0 || ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      if (fd_ >= 0) ::close(fd_);
      fd_ = -1;
      throw std::runtime_error("connect failed");
    }
  }
  ~RawConnection() {
    if (fd_ >= 0) ::close(fd_);
  }
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;

  // Sends all bytes; false if the peer closed or reset the connection.
  bool send(std::string_view data) {
    while (!data.empty()) {
      ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      data.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
  }

  // Reads one HTTP response (head plus a Content-Length body). Empty on close or timeout.
  std::string read_response(std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    for (;;) {
      auto head_end = buffer_.find("\r\n\r\n");
      if (head_end != std::string::npos) {
        std::size_t length = 0;
        std::string head = buffer_.substr(0, head_end);
        std::string lower = head;
        for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        auto cl = lower.find("\r\ncontent-length:");
        if (cl != std::string::npos) length = std::stoul(head.substr(cl + 17));
        std::size_t total = head_end + 4 + length;
        if (buffer_.size() >= total) {
          std::string out = buffer_.substr(0, total);
          buffer_.erase(0, total);
          return out;
        }
      }
      if (!fill(timeout)) return {};
    }
  }

  // True if the peer closes the connection within the timeout (pending data is discarded).
  bool closed_by_peer(std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      pollfd p{fd_, POLLIN, 0};
      int left = static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                      deadline - std::chrono::steady_clock::now())
                                      .count());
      if (::poll(&p, 1, std::max(left, 0)) <= 0) return false;
      char tmp[4096];
      ssize_t n = ::recv(fd_, tmp, sizeof tmp, 0);
      if (n <= 0) return true;
    }
    return false;
  }

 private:
  bool fill(std::chrono::milliseconds timeout) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(timeout.count())) <= 0) return false;
    char tmp[16384];
    ssize_t n = ::recv(fd_, tmp, sizeof tmp, 0);
    if (n <= 0) return false;
    buffer_.append(tmp, static_cast<std::size_t>(n));
    return true;
  }
  int fd_ = -1;
  std::string buffer_;
};

}  // namespace herald::testing
