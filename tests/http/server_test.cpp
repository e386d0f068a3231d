// Protects the HTTP server's contract: requests reach the handler as plain values, connections
// stay alive, limits answer with problem+json, handler failures never leak, delays block no
// thread, and stop() always returns.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <future>
#include <thread>

#include "http/server/server.h"
#include "http/server_test_client.h"

namespace herald::http {
namespace {

using herald::testing::CurlClient;
using herald::testing::RawConnection;
using nlohmann::json;
using namespace std::chrono_literals;

// A server on a free port with the given handler.
struct Running {
  explicit Running(Handler handler, ServerOptions options = {})
      : server(std::move(options), std::move(handler)) {
    port = server.start();
    base = "http://127.0.0.1:" + std::to_string(port);
  }
  Server server;
  std::uint16_t port = 0;
  std::string base;
};

Response echo(Request& r) {
  json j = {{"method", r.method}, {"target", r.target}, {"path", r.path},
            {"query", r.query},   {"body", r.body},     {"remote", r.remote_address}};
  if (auto h = r.header("x-test")) j["xTest"] = *h;
  if (auto q = r.query_param("name")) j["name"] = *q;
  return Response::json(200, j.dump()).set_header("X-Echo", "yes");
}

TEST(Server, StartsOnAFreePortAndReportsIt) {
  // Invariant: port 0 binds any free port, and start()/port() tell which.
  Running s(echo);
  EXPECT_NE(s.port, 0);
  EXPECT_EQ(s.server.port(), s.port);
}

TEST(Server, HandsTheRequestToTheHandlerAsPlainValues) {
  // Invariant: method, raw target, decoded path, raw query, headers, body and peer reach the
  // handler.
  Running s(echo);
  CurlClient c;
  auto r =
      c.request("PUT", s.base + "/a%20b/c?name=J%C3%BCrgen+K&x=1", "hello", {{"X-Test", "value"}});
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.header("X-Echo").value_or(""), "yes");
  EXPECT_EQ(r.header("Content-Type").value_or(""), "application/json");
  json j = json::parse(r.body);
  EXPECT_EQ(j["method"], "PUT");
  EXPECT_EQ(j["target"], "/a%20b/c?name=J%C3%BCrgen+K&x=1");
  EXPECT_EQ(j["path"], "/a b/c");
  EXPECT_EQ(j["query"], "name=J%C3%BCrgen+K&x=1");
  EXPECT_EQ(j["name"], "J\xC3\xBCrgen K");
  EXPECT_EQ(j["body"], "hello");
  EXPECT_EQ(j["xTest"], "value");
  EXPECT_EQ(j["remote"], "127.0.0.1");
}

TEST(Server, KeepsConnectionsAlive) {
  // Invariant: HTTP/1.1 requests on one connection reuse it.
  Running s(echo);
  CurlClient c;
  auto first = c.get(s.base + "/one");
  auto second = c.get(s.base + "/two");
  auto third = c.post(s.base + "/three", "body");
  EXPECT_EQ(first.status, 200);
  EXPECT_EQ(first.new_connections, 1);
  EXPECT_EQ(second.new_connections, 0);
  EXPECT_EQ(third.new_connections, 0);
  EXPECT_EQ(json::parse(third.body)["body"], "body");
}

TEST(Server, AnswersPipelinedRequestsInOrder) {
  // Invariant: requests sent back to back on one connection get their answers in order.
  Running s(echo);
  RawConnection conn(s.port);
  ASSERT_TRUE(
      conn.send("GET /first HTTP/1.1\r\nHost: x\r\n\r\n"
                "POST /second HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc"
                "GET /third HTTP/1.1\r\nHost: x\r\n\r\n"));
  EXPECT_NE(conn.read_response().find("\"path\":\"/first\""), std::string::npos);
  std::string second = conn.read_response();
  EXPECT_NE(second.find("\"path\":\"/second\""), std::string::npos);
  EXPECT_NE(second.find("\"body\":\"abc\""), std::string::npos);
  EXPECT_NE(conn.read_response().find("\"path\":\"/third\""), std::string::npos);
}

TEST(Server, ClosesWhenTheClientAsksOrSpeaksHttp10) {
  // Invariant: "Connection: close" and HTTP/1.0 without keep-alive end the connection.
  Running s(echo);
  {
    RawConnection conn(s.port);
    ASSERT_TRUE(conn.send("GET /x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
    std::string r = conn.read_response();
    EXPECT_NE(r.find("HTTP/1.1 200"), std::string::npos);
    EXPECT_NE(r.find("Connection: close"), std::string::npos);
    EXPECT_TRUE(conn.closed_by_peer(5s));
  }
  {
    RawConnection conn(s.port);
    ASSERT_TRUE(conn.send("GET /x HTTP/1.0\r\n\r\n"));
    EXPECT_NE(conn.read_response().find("HTTP/1.0 200"), std::string::npos);
    EXPECT_TRUE(conn.closed_by_peer(5s));
  }
}

TEST(Server, HandlerMayAskToCloseTheConnection) {
  // Invariant: a handler's "Connection: close" is honoured.
  Running s([](Request&) { return Response::text(200, "bye").set_header("Connection", "close"); });
  RawConnection conn(s.port);
  ASSERT_TRUE(conn.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
  EXPECT_NE(conn.read_response().find("Connection: close"), std::string::npos);
  EXPECT_TRUE(conn.closed_by_peer(5s));
}

TEST(Server, RefusesTooLargeBodiesWith413ProblemJson) {
  // Invariant: a body over the limit gets 413 problem+json before it is read, and the handler never
  // sees it.
  std::atomic<int> calls{0};
  ServerOptions options;
  options.max_body_bytes = 1000;
  Running s(
      [&](Request&) {
        ++calls;
        return Response::text(200, "ok");
      },
      options);
  CurlClient c;
  auto small = c.post(s.base + "/", std::string(1000, 'a'));
  EXPECT_EQ(small.status, 200);
  auto big = c.post(s.base + "/", std::string(5000, 'a'));
  EXPECT_EQ(big.status, 413);
  EXPECT_EQ(big.header("Content-Type").value_or(""), "application/problem+json");
  json p = json::parse(big.body);
  EXPECT_EQ(p["status"], 413);
  EXPECT_EQ(p["title"], "Payload Too Large");
  EXPECT_TRUE(p.contains("type"));
  EXPECT_TRUE(p.contains("detail"));
  EXPECT_EQ(calls.load(), 1);
}

TEST(Server, RefusesOversizedChunkedBodiesAndLargeDeclaredLengthsWithoutExpect) {
  // Invariant: the limit holds for chunked bodies and for clients that do not wait for 100
  // Continue.
  ServerOptions options;
  options.max_body_bytes = 100;
  Running s([](Request&) { return Response::text(200, "ok"); }, options);
  {
    RawConnection conn(s.port);
    ASSERT_TRUE(conn.send("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n"));
    conn.send(std::string(4096, 'x'));
    EXPECT_NE(conn.read_response().find("HTTP/1.1 413"), std::string::npos);
  }
  {
    RawConnection conn(s.port);
    std::string chunk(80, 'y');
    ASSERT_TRUE(conn.send("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n50\r\n" +
                          chunk + "\r\n50\r\n" + chunk + "\r\n0\r\n\r\n"));
    EXPECT_NE(conn.read_response().find("HTTP/1.1 413"), std::string::npos);
  }
}

TEST(Server, ReadsBodiesThatArriveInPieces) {
  // Invariant: a body split across packets (fixed length or chunked) reaches the handler whole.
  Running s(echo);
  RawConnection conn(s.port);
  ASSERT_TRUE(conn.send("POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nhello"));
  std::this_thread::sleep_for(50ms);
  ASSERT_TRUE(conn.send("world"));
  EXPECT_NE(conn.read_response().find("\"body\":\"helloworld\""), std::string::npos);
  ASSERT_TRUE(
      conn.send("POST /b HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab"));
  std::this_thread::sleep_for(50ms);
  ASSERT_TRUE(conn.send("cde\r\n3\r\nfgh\r\n0\r\n\r\n"));
  EXPECT_NE(conn.read_response().find("\"body\":\"abcdefgh\""), std::string::npos);
}

TEST(Server, AnswersExpect100Continue) {
  // Invariant: a client that waits for "100 Continue" is told to go on (curl waits a second
  // otherwise).
  Running s(echo);
  RawConnection conn(s.port);
  ASSERT_TRUE(conn.send(
      "POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n"));
  EXPECT_NE(conn.read_response().find("HTTP/1.1 100 Continue"), std::string::npos);
  ASSERT_TRUE(conn.send("hello"));
  std::string r = conn.read_response();
  EXPECT_NE(r.find("HTTP/1.1 200"), std::string::npos);
  EXPECT_NE(r.find("\"body\":\"hello\""), std::string::npos);
}

TEST(Server, RejectsMalformedRequestsAndHugeHeads) {
  // Invariant: garbage gets 400, an oversized head 431, both as problem+json; the server lives on.
  ServerOptions options;
  options.max_header_bytes = 2048;
  Running s(echo, options);
  {
    RawConnection conn(s.port);
    ASSERT_TRUE(conn.send("THIS IS NOT HTTP\r\n\r\n"));
    std::string r = conn.read_response();
    EXPECT_NE(r.find("HTTP/1.1 400"), std::string::npos);
    EXPECT_NE(r.find("application/problem+json"), std::string::npos);
  }
  {
    RawConnection conn(s.port);
    ASSERT_TRUE(
        conn.send("GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(4096, 'b') + "\r\n\r\n"));
    EXPECT_NE(conn.read_response().find("HTTP/1.1 431"), std::string::npos);
  }
  CurlClient c;
  EXPECT_EQ(c.get(s.base + "/still-up").status, 200);
}

TEST(Server, HandlerExceptionsBecome500WithoutTheirText) {
  // Invariant: an exception from the handler becomes 500 problem+json with a request id, never its
  // message.
  Running s([](Request& r) -> Response {
    if (r.path == "/std") throw std::runtime_error("secret re_live_abcdef leaked");
    if (r.path == "/other") throw 42;
    return Response::text(200, "fine");
  });
  CurlClient c;
  for (std::string path : {"/std", "/other"}) {
    auto r = c.get(s.base + path);
    EXPECT_EQ(r.status, 500);
    EXPECT_EQ(r.header("Content-Type").value_or(""), "application/problem+json");
    EXPECT_EQ(r.body.find("secret"), std::string::npos);
    json p = json::parse(r.body);
    EXPECT_EQ(p["status"], 500);
    std::string id(r.header("X-Request-Id").value_or(""));
    EXPECT_FALSE(id.empty());
    EXPECT_NE(p["detail"].get<std::string>().find(id), std::string::npos);
  }
  // The connection and the server survive.
  auto ok = c.get(s.base + "/fine");
  EXPECT_EQ(ok.status, 200);
  EXPECT_EQ(ok.new_connections, 0);
}

TEST(Server, DelayWaitsWithoutBlockingTheOnlyThread) {
  // Invariant: Response::delay holds the answer back, yet a single-threaded server keeps serving
  // others.
  ServerOptions options;
  options.threads = 1;
  Running s(
      [](Request& r) {
        Response resp = Response::text(200, r.path);
        if (r.path == "/slow") resp.delay = 1500ms;
        return resp;
      },
      options);
  std::atomic<bool> slow_done{false};
  auto start = std::chrono::steady_clock::now();
  auto slow = std::async(std::launch::async, [&] {
    CurlClient c;
    auto r = c.get(s.base + "/slow");
    slow_done = true;
    return r;
  });
  std::this_thread::sleep_for(100ms);  // let the slow request reach its delay
  CurlClient fast;
  for (int i = 0; i < 5; ++i) EXPECT_EQ(fast.get(s.base + "/fast").body, "/fast");
  EXPECT_FALSE(slow_done.load());  // the fast requests were served while the slow one waited
  auto r = slow.get();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "/slow");
  EXPECT_GE(std::chrono::steady_clock::now() - start, 1500ms);
}

TEST(Server, ServesConcurrentClients) {
  // Invariant: many connections at once are all served, each request exactly once.
  std::atomic<int> calls{0};
  Running s([&](Request& r) {
    ++calls;
    return Response::text(200, r.body);
  });
  constexpr int kClients = 16;
  constexpr int kRequests = 50;
  std::vector<std::future<int>> clients;
  for (int t = 0; t < kClients; ++t) {
    clients.push_back(std::async(std::launch::async, [&, t] {
      CurlClient c;
      int ok = 0;
      for (int i = 0; i < kRequests; ++i) {
        std::string body = std::to_string(t) + ":" + std::to_string(i);
        auto r = c.post(s.base + "/", body);
        ok += r.status == 200 && r.body == body;
      }
      return ok;
    }));
  }
  int ok = 0;
  for (auto& f : clients) ok += f.get();
  EXPECT_EQ(ok, kClients * kRequests);
  EXPECT_EQ(calls.load(), kClients * kRequests);
}

TEST(Server, ClosesIdleConnections) {
  // Invariant: a connection idle past idle_timeout is closed by the server.
  ServerOptions options;
  options.idle_timeout = 1s;
  Running s(echo, options);
  RawConnection conn(s.port);
  ASSERT_TRUE(conn.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
  EXPECT_FALSE(conn.read_response().empty());
  EXPECT_TRUE(conn.closed_by_peer(10s));
}

TEST(Server, StopClosesEverythingAndReturns) {
  // Invariant: stop() returns even with idle keep-alive connections and pending delays, and frees
  // the port.
  auto s = std::make_unique<Running>([](Request& r) {
    Response resp = Response::text(200, "x");
    if (r.path == "/slow") resp.delay = 60s;
    return resp;
  });
  std::uint16_t port = s->port;
  RawConnection idle(port);
  ASSERT_TRUE(idle.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
  EXPECT_FALSE(idle.read_response().empty());
  RawConnection waiting(port);
  ASSERT_TRUE(waiting.send("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n"));
  std::this_thread::sleep_for(100ms);

  s->server.stop();
  s->server.stop();  // idempotent
  EXPECT_TRUE(idle.closed_by_peer(5s));
  EXPECT_TRUE(waiting.closed_by_peer(5s));
  EXPECT_THROW(RawConnection{port}, std::runtime_error);
  EXPECT_THROW(s->server.start(), std::runtime_error);
  s.reset();  // the destructor after stop() is fine too
}

TEST(Server, DestructorStopsARunningServer) {
  // Invariant: destroying a running server stops it.
  std::uint16_t port;
  {
    Running s(echo);
    port = s.port;
    CurlClient c;
    EXPECT_EQ(c.get(s.base + "/").status, 200);
  }
  EXPECT_THROW(RawConnection{port}, std::runtime_error);
}

TEST(Server, StartFailsWhenThePortIsTaken) {
  // Invariant: a port in use is a clear error from start(), not a silent non-server.
  Running first(echo);
  ServerOptions options;
  options.port = first.port;
  Server second(options, echo);
  try {
    second.start();
    FAIL() << "start() should have thrown";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find(std::to_string(first.port)), std::string::npos);
  }
}

TEST(Server, ServesTheRouter) {
  // Invariant: a Router plugs in as the handler; 404/405 arrive as problem+json.
  auto router = std::make_shared<Router>();
  router->add("GET", "/items/{id}", [](Request& r) { return Response::text(200, r.param("id")); });
  Running s([router](Request& r) { return router->handle(r); });
  CurlClient c;
  EXPECT_EQ(c.get(s.base + "/items/a%2Fb").body, "a/b");
  auto missing = c.get(s.base + "/nothing");
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(missing.header("Content-Type").value_or(""), "application/problem+json");
  auto wrong = c.request("DELETE", s.base + "/items/1");
  EXPECT_EQ(wrong.status, 405);
  EXPECT_EQ(wrong.header("Allow").value_or(""), "GET");
}

}  // namespace
}  // namespace herald::http
