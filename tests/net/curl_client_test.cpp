// The libcurl client against a tiny raw-socket HTTP/1.1 server: requests go out exactly as
// built, any HTTP status is a response, transport failures are retryable network errors that
// name no secret, batches come back in request order, and connections are kept alive.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "net/http_client.h"

namespace herald::net {
namespace {

using namespace std::chrono_literals;

// A minimal HTTP/1.1 server for these tests: one thread per connection, keep-alive,
// Content-Length bodies only. It counts accepted connections and the most open at once.
//
// Routes:
//   /hello            200 "hello" with a few response headers
//   /echo             200, body = "METHOD TARGET\n" + "Name: value\n" per request header
//                     (names as received) + "\n" + request body
//   /status/<code>    that status, body "status <code>" (503 adds Retry-After: 7)
//   /item/<i>?d=<ms>  200, body "<i>", answered after <ms> milliseconds
//   /hang             never answers (until the client or the server closes)
//   /close            200 and "Connection: close", then closes
//   /interim          "100 Continue" first, then 200 with X-Final
//   /big/<n>          200 with an n-byte body
class TestServer {
 public:
  TestServer() {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::listen(listen_fd_, 512) != 0) {
      throw std::runtime_error("test server: bind/listen failed");
    }
    socklen_t len = sizeof addr;
    ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    acceptor_ = std::thread([this] { accept_loop(); });
  }

  ~TestServer() {
    stopping_ = true;
    ::shutdown(listen_fd_, SHUT_RDWR);
    acceptor_.join();
    ::close(listen_fd_);
    std::vector<std::thread> threads;
    {
      const std::lock_guard lock(mu_);
      for (const int fd : open_fds_) ::shutdown(fd, SHUT_RDWR);
      threads.swap(threads_);
    }
    for (auto& t : threads) t.join();
  }

  std::string url(std::string_view path) const {
    return "http://127.0.0.1:" + std::to_string(port_) + std::string(path);
  }
  int accepted() const { return accepted_; }
  int max_open() const { return max_open_; }

 private:
  struct Request {
    std::string method;
    std::string target;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
    bool close = false;
  };

  void accept_loop() {
    while (!stopping_) {
      const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) {
        if (stopping_) return;
        continue;
      }
      ++accepted_;
      const std::lock_guard lock(mu_);
      open_fds_.push_back(fd);
      threads_.emplace_back([this, fd] { serve(fd); });
    }
  }

  // Reads one request (head, then a Content-Length body) from `buf` + the socket.
  static bool read_request(int fd, std::string& buf, Request& req) {
    std::size_t head_end;
    while ((head_end = buf.find("\r\n\r\n")) == std::string::npos) {
      if (!read_more(fd, buf)) return false;
    }
    const std::string head = buf.substr(0, head_end);
    buf.erase(0, head_end + 4);
    std::size_t pos = head.find("\r\n");
    const std::string line = head.substr(0, pos);
    const auto sp1 = line.find(' ');
    const auto sp2 = line.find(' ', sp1 + 1);
    req.method = line.substr(0, sp1);
    req.target = line.substr(sp1 + 1, sp2 - sp1 - 1);
    std::size_t content_length = 0;
    while (pos != std::string::npos) {
      const std::size_t start = pos + 2;
      pos = head.find("\r\n", start);
      const std::string h = head.substr(start, pos == std::string::npos ? pos : pos - start);
      const auto colon = h.find(':');
      std::string name = h.substr(0, colon);
      std::string value = h.substr(h.find_first_not_of(' ', colon + 1) == std::string::npos
                                       ? h.size()
                                       : h.find_first_not_of(' ', colon + 1));
      std::string lower = name;
      std::transform(lower.begin(), lower.end(), lower.begin(), ::tolower);
      if (lower == "content-length") content_length = std::stoul(value);
      if (lower == "connection" && value == "close") req.close = true;
      req.headers.emplace_back(std::move(name), std::move(value));
    }
    while (buf.size() < content_length) {
      if (!read_more(fd, buf)) return false;
    }
    req.body = buf.substr(0, content_length);
    buf.erase(0, content_length);
    return true;
  }

  static bool read_more(int fd, std::string& buf) {
    char chunk[65536];
    const ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
    if (n <= 0) return false;
    buf.append(chunk, static_cast<std::size_t>(n));
    return true;
  }

  static void write_all(int fd, std::string_view data) {
    while (!data.empty()) {
      const ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
      if (n <= 0) return;
      data.remove_prefix(static_cast<std::size_t>(n));
    }
  }

  static std::string response(int status, std::string_view body,
                              const std::vector<std::string>& extra, bool head_only = false) {
    std::string out = "HTTP/1.1 " + std::to_string(status) + " X\r\n";
    for (const auto& h : extra) out += h + "\r\n";
    out += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n";
    if (!head_only) out += body;
    return out;
  }

  void serve(int fd) {
    const int open = ++open_;
    int seen = max_open_;
    while (open > seen && !max_open_.compare_exchange_weak(seen, open)) {
    }
    std::string buf;
    Request req;
    while (read_request(fd, buf, req)) {
      const std::string& t = req.target;
      if (t == "/hang") {
        while (read_more(fd, buf)) {
        }
        break;
      }
      if (t == "/hello") {
        write_all(fd,
                  response(200, "hello",
                           {"Content-Type: text/plain", "X-RateLimit-Remaining: 42",
                            "X-MiXeD-Case: yes", "Set-Cookie: a=1", "Set-Cookie: b=2", "X-Empty:"},
                           req.method == "HEAD"));
      } else if (t == "/echo") {
        std::string body = req.method + " " + req.target + "\n";
        for (const auto& [k, v] : req.headers) body += k + ": " + v + "\n";
        body += "\n" + req.body;
        write_all(fd, response(200, body, {}, req.method == "HEAD"));
      } else if (t.starts_with("/status/")) {
        const int code = std::stoi(t.substr(8));
        std::vector<std::string> extra;
        if (code == 503) extra.push_back("Retry-After: 7");
        write_all(fd, response(code, "status " + std::to_string(code), extra));
      } else if (t.starts_with("/item/")) {
        const auto q = t.find("?d=");
        const std::string item = t.substr(6, q == std::string::npos ? q : q - 6);
        if (q != std::string::npos) {
          std::this_thread::sleep_for(std::chrono::milliseconds(std::stoi(t.substr(q + 3))));
        }
        write_all(fd, response(200, item, {}));
      } else if (t == "/close") {
        write_all(fd, response(200, "bye", {"Connection: close"}));
        break;
      } else if (t == "/interim") {
        write_all(fd, "HTTP/1.1 100 Continue\r\nX-Interim: 1\r\n\r\n");
        write_all(fd, response(200, "final", {"X-Final: 1"}));
      } else if (t.starts_with("/big/")) {
        write_all(fd, response(200, std::string(std::stoul(t.substr(5)), 'b'), {}));
      } else {
        write_all(fd, response(404, "no route", {}));
      }
      if (req.close) break;
      req = Request{};
    }
    --open_;
    const std::lock_guard lock(mu_);
    ::close(fd);
    open_fds_.erase(std::find(open_fds_.begin(), open_fds_.end(), fd));
  }

  int listen_fd_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<int> accepted_{0};
  std::atomic<int> open_{0};
  std::atomic<int> max_open_{0};
  std::thread acceptor_;
  std::mutex mu_;
  std::vector<int> open_fds_;
  std::vector<std::thread> threads_;
};

// A port on which nothing listens: bound (so no one else gets it soon) but never listening.
class DeadPort {
 public:
  DeadPort() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    socklen_t len = sizeof addr;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
  }
  ~DeadPort() { ::close(fd_); }
  std::string url(std::string_view path) const {
    return "http://127.0.0.1:" + std::to_string(port_) + std::string(path);
  }

 private:
  int fd_ = -1;
  std::uint16_t port_ = 0;
};

HttpRequest get(std::string url) {
  return HttpRequest{"GET", std::move(url), {}, {}};
}

TEST(CurlClientTest, GetReturnsStatusHeadersAndBody) {
  // Invariant: a GET yields the server's status, body and headers.
  TestServer server;
  auto client = make_curl_client();
  auto r = client->perform(get(server.url("/hello")));
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "hello");
  EXPECT_EQ(r->header("content-type"), "text/plain");
  EXPECT_EQ(r->header("X-RateLimit-Remaining"), "42");
}

TEST(CurlClientTest, PostSendsExactlyTheGivenHeadersAndBody) {
  // Invariant: method, path, headers and body reach the server as built; curl adds no
  // Expect: 100-continue and no form Content-Type of its own.
  TestServer server;
  auto client = make_curl_client();
  const std::string json = R"({"from":"Wright Realty <matt@wrightrealty.com>","to":["a@b.co"]})";
  HttpRequest req{"POST",
                  server.url("/echo"),
                  {{"Authorization", "Bearer SG.key"},
                   {"Content-Type", "application/json"},
                   {"X-Request-Id", "abc-123"},
                   {"Idempotency-Key", "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"}},
                  json};
  auto r = client->perform(req);
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->status, 200);
  const std::string& echo = r->body;
  EXPECT_TRUE(echo.starts_with("POST /echo\n")) << echo;
  EXPECT_NE(echo.find("\nAuthorization: Bearer SG.key\n"), std::string::npos) << echo;
  EXPECT_NE(echo.find("\nContent-Type: application/json\n"), std::string::npos) << echo;
  EXPECT_NE(echo.find("\nX-Request-Id: abc-123\n"), std::string::npos) << echo;
  EXPECT_NE(echo.find("\nIdempotency-Key: 0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b\n"),
            std::string::npos);
  EXPECT_NE(echo.find("\nContent-Length: " + std::to_string(json.size()) + "\n"),
            std::string::npos);
  EXPECT_EQ(echo.find("Expect"), std::string::npos) << echo;
  EXPECT_TRUE(echo.ends_with("\n\n" + json)) << echo;

  // A body without a Content-Type is sent without one (no x-www-form-urlencoded default).
  auto bare = client->perform(HttpRequest{"POST", server.url("/echo"), {}, "a=1"});
  ASSERT_TRUE(bare.has_value());
  EXPECT_EQ(bare->body.find("Content-Type"), std::string::npos) << bare->body;
  EXPECT_TRUE(bare->body.ends_with("\n\na=1"));
}

TEST(CurlClientTest, OtherMethods) {
  // Invariant: PUT/PATCH/DELETE/HEAD are sent as such, with or without a body.
  TestServer server;
  auto client = make_curl_client();
  for (const std::string method : {"PUT", "PATCH", "DELETE"}) {
    auto r = client->perform(HttpRequest{method, server.url("/echo"), {}, "x=1"});
    ASSERT_TRUE(r.has_value()) << method;
    EXPECT_TRUE(r->body.starts_with(method + " /echo\n")) << r->body;
    EXPECT_TRUE(r->body.ends_with("\n\nx=1")) << r->body;
  }
  auto del = client->perform(HttpRequest{"DELETE", server.url("/echo"), {}, ""});
  ASSERT_TRUE(del.has_value());
  EXPECT_TRUE(del->body.starts_with("DELETE /echo\n"));
  EXPECT_EQ(del->body.find("Content-Length"), std::string::npos);

  auto empty_post = client->perform(HttpRequest{"POST", server.url("/echo"), {}, ""});
  ASSERT_TRUE(empty_post.has_value());
  EXPECT_NE(empty_post->body.find("\nContent-Length: 0\n"), std::string::npos);

  auto head = client->perform(HttpRequest{"HEAD", server.url("/hello"), {}, ""});
  ASSERT_TRUE(head.has_value()) << head.error().message;
  EXPECT_EQ(head->status, 200);
  EXPECT_TRUE(head->body.empty());
  EXPECT_EQ(head->header("Content-Length"), "5");
}

TEST(CurlClientTest, ResponseHeadersKeepNamesOrderAndDuplicates) {
  // Invariant: every response header is returned, names as the server sent them, in order.
  TestServer server;
  auto client = make_curl_client();
  auto r = client->perform(get(server.url("/hello")));
  ASSERT_TRUE(r.has_value());
  const Headers expected = {{"Content-Type", "text/plain"}, {"X-RateLimit-Remaining", "42"},
                            {"X-MiXeD-Case", "yes"},        {"Set-Cookie", "a=1"},
                            {"Set-Cookie", "b=2"},          {"X-Empty", ""},
                            {"Content-Length", "5"}};
  EXPECT_EQ(r->headers, expected);
}

TEST(CurlClientTest, InterimResponseHeadersAreDropped) {
  // Invariant: only the final response's headers are returned after a 1xx.
  TestServer server;
  auto client = make_curl_client();
  auto r = client->perform(get(server.url("/interim")));
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "final");
  EXPECT_EQ(r->header("X-Final"), "1");
  EXPECT_EQ(r->header("X-Interim"), std::nullopt);
}

TEST(CurlClientTest, ClientAndServerErrorsAreResponsesNotErrors) {
  // Invariant: 4xx/5xx come back as responses for the provider to classify.
  TestServer server;
  auto client = make_curl_client();
  for (const int code : {400, 401, 403, 404, 409, 422, 429, 500, 502, 503}) {
    auto r = client->perform(get(server.url("/status/" + std::to_string(code))));
    ASSERT_TRUE(r.has_value()) << code << ": " << r.error().message;
    EXPECT_EQ(r->status, code);
    EXPECT_EQ(r->body, "status " + std::to_string(code));
  }
  auto busy = client->perform(get(server.url("/status/503")));
  ASSERT_TRUE(busy.has_value());
  EXPECT_EQ(busy->header("Retry-After"), "7");
  EXPECT_EQ(server.accepted(), 1);
}

TEST(CurlClientTest, ConnectionRefusedIsARetryableNetworkErrorNamingOnlyTheHost) {
  // Invariant: an unreachable peer is Errc::network, retryable, and the message holds no
  // path, query or header (a Twilio path carries the account SID; auth is in headers).
  DeadPort dead;
  auto client = make_curl_client();
  HttpRequest req{"POST",
                  dead.url("/2010-04-01/Accounts/AC0123secret/Messages.json?token=t0ps3cret"),
                  {{"Authorization", "Basic QUMwMTIzOnNlY3JldA=="}},
                  "Body=hello"};
  auto r = client->perform(req);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, Errc::network);
  EXPECT_TRUE(r.error().retryable);
  const std::string& msg = r.error().message;
  EXPECT_NE(msg.find("127.0.0.1"), std::string::npos) << msg;
  for (const char* secret : {"AC0123secret", "t0ps3cret", "QUMwMTIz", "Body=hello", "/2010"}) {
    EXPECT_EQ(msg.find(secret), std::string::npos) << msg;
  }
}

TEST(CurlClientTest, TimeoutIsARetryableNetworkError) {
  // Invariant: a peer that never answers fails after options.timeout as a retryable
  // network error, and the client stays usable afterwards.
  TestServer server;
  ClientOptions opts;
  opts.timeout = 150ms;
  auto client = make_curl_client(opts);
  const auto start = std::chrono::steady_clock::now();
  auto r = client->perform(get(server.url("/hang")));
  const auto took = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, Errc::network);
  EXPECT_TRUE(r.error().retryable);
  EXPECT_NE(r.error().message.find("Timeout"), std::string::npos) << r.error().message;
  EXPECT_LT(took, 5s);  // bounded by the timeout, not by the server

  auto after = client->perform(get(server.url("/hello")));
  ASSERT_TRUE(after.has_value()) << after.error().message;
  EXPECT_EQ(after->status, 200);
}

TEST(CurlClientTest, ARequestsOwnTimeoutShortensTheClients) {
  // Invariant: HttpRequest::timeout bounds that one request below the client's timeout (a
  // caller's budget across several requests), and the next request has the client's again.
  TestServer server;
  auto client = make_curl_client();  // 15 s
  HttpRequest hang = get(server.url("/hang"));
  hang.timeout = 150ms;
  const auto start = std::chrono::steady_clock::now();
  auto r = client->perform(hang);
  const auto took = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, Errc::network);
  EXPECT_LT(took, 5s);  // bounded by the request's timeout, not the client's 15 s

  auto after = client->perform(get(server.url("/hello")));
  ASSERT_TRUE(after.has_value()) << after.error().message;
  EXPECT_EQ(after->status, 200);
}

TEST(CurlClientTest, BadRequestsAreRefusedWithoutSending) {
  // Invariant: a header with CR/LF (request smuggling) or a non-http URL is the caller's
  // error (invalid_input, not retryable) and nothing reaches the network.
  TestServer server;
  auto client = make_curl_client();
  auto injected =
      client->perform(HttpRequest{"GET", server.url("/echo"), {{"X-Name", "a\r\nX-Evil: 1"}}, ""});
  ASSERT_FALSE(injected.has_value());
  EXPECT_EQ(injected.error().code, Errc::invalid_input);
  EXPECT_FALSE(injected.error().retryable);
  auto bad_name = client->perform(HttpRequest{"GET", server.url("/echo"), {{"X Name", "v"}}, ""});
  ASSERT_FALSE(bad_name.has_value());
  EXPECT_EQ(bad_name.error().code, Errc::invalid_input);
  EXPECT_EQ(server.accepted(), 0);

  for (const char* url : {"ftp://127.0.0.1/x", "file:///etc/passwd", "http://"}) {
    auto r = client->perform(get(url));
    ASSERT_FALSE(r.has_value()) << url;
    EXPECT_EQ(r.error().code, Errc::invalid_input) << url << ": " << r.error().message;
    EXPECT_FALSE(r.error().retryable);
  }
}

TEST(CurlClientTest, LargeBodiesBothWays) {
  // Invariant: bodies spanning many reads/writes arrive whole.
  TestServer server;
  auto client = make_curl_client();
  auto down = client->perform(get(server.url("/big/3000000")));
  ASSERT_TRUE(down.has_value()) << down.error().message;
  EXPECT_EQ(down->body, std::string(3'000'000, 'b'));

  const std::string up(2'000'000, 'u');
  auto r = client->perform(HttpRequest{"POST", server.url("/echo"), {}, up});
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_TRUE(r->body.ends_with("\n\n" + up));
}

TEST(CurlClientTest, PerformAllReturnsResultsInRequestOrder) {
  // Invariant: result i belongs to request i, whatever order the answers arrive in, and
  // failures sit in their own positions.
  TestServer server;
  DeadPort dead;
  ClientOptions opts;
  opts.max_connections_per_host = 16;
  auto client = make_curl_client(opts);
  std::vector<HttpRequest> reqs;
  for (int i = 0; i < 200; ++i) {
    // Later requests answer sooner, so completion order differs from request order.
    reqs.push_back(
        get(server.url("/item/" + std::to_string(i) + "?d=" + std::to_string((199 - i) % 5))));
  }
  reqs[17] = get(dead.url("/item/17"));
  reqs[42] = get(server.url("/status/404"));
  reqs[99] = HttpRequest{"GET", server.url("/item/99"), {{"Bad\nName", "v"}}, ""};
  auto results = client->perform_all(reqs);
  ASSERT_EQ(results.size(), reqs.size());
  for (int i = 0; i < 200; ++i) {
    if (i == 17) {
      ASSERT_FALSE(results[i].has_value());
      EXPECT_EQ(results[i].error().code, Errc::network);
    } else if (i == 42) {
      ASSERT_TRUE(results[i].has_value());
      EXPECT_EQ(results[i]->status, 404);
    } else if (i == 99) {
      ASSERT_FALSE(results[i].has_value());
      EXPECT_EQ(results[i].error().code, Errc::invalid_input);
    } else {
      ASSERT_TRUE(results[i].has_value()) << i << ": " << results[i].error().message;
      EXPECT_EQ(results[i]->status, 200);
      EXPECT_EQ(results[i]->body, std::to_string(i));
    }
  }
  EXPECT_TRUE(client->perform_all({}).empty());
}

TEST(CurlClientTest, SequentialRequestsReuseOneConnection) {
  // Invariant: keep-alive: one connection carries many sequential requests.
  TestServer server;
  auto client = make_curl_client();
  for (int i = 0; i < 100; ++i) {
    auto r = client->perform(HttpRequest{"POST", server.url("/echo"), {}, std::to_string(i)});
    ASSERT_TRUE(r.has_value()) << r.error().message;
  }
  EXPECT_EQ(server.accepted(), 1);
}

TEST(CurlClientTest, BatchesUseAtMostMaxConnectionsPerHostAndKeepThem) {
  // Invariant: a batch opens no more than max_connections_per_host connections to a host,
  // and later batches and single requests reuse them instead of reconnecting.
  TestServer server;
  ClientOptions opts;
  opts.max_connections_per_host = 8;
  auto client = make_curl_client(opts);
  std::vector<HttpRequest> reqs;
  for (int i = 0; i < 200; ++i) {
    reqs.push_back(get(server.url("/item/" + std::to_string(i) + "?d=" + (i % 10 ? "0" : "1"))));
  }
  for (const auto& r : client->perform_all(reqs)) ASSERT_TRUE(r.has_value());
  const int after_first = server.accepted();
  EXPECT_GE(after_first, 1);
  EXPECT_LE(after_first, 8);
  EXPECT_LE(server.max_open(), 8);

  for (const auto& r : client->perform_all(reqs)) ASSERT_TRUE(r.has_value());
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(client->perform(get(server.url("/hello"))));
  EXPECT_EQ(server.accepted(), after_first);
  EXPECT_LE(server.max_open(), 8);
}

TEST(CurlClientTest, ServerClosingTheConnectionIsHandled) {
  // Invariant: when the server closes a kept-alive connection, the next request reconnects.
  TestServer server;
  auto client = make_curl_client();
  auto bye = client->perform(get(server.url("/close")));
  ASSERT_TRUE(bye.has_value());
  EXPECT_EQ(bye->body, "bye");
  auto next = client->perform(get(server.url("/hello")));
  ASSERT_TRUE(next.has_value()) << next.error().message;
  EXPECT_EQ(next->body, "hello");
  EXPECT_EQ(server.accepted(), 2);
}

}  // namespace
}  // namespace herald::net
