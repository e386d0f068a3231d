// Protects routing and the request/response helpers: patterns, parameters, decoding, 404/405
// problem+json, and form/query parsing. No sockets here.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "http/server/server.h"

namespace herald::http {
namespace {

using nlohmann::json;

Request make(std::string method, std::string target) {
  Request r;
  r.method = std::move(method);
  r.target = std::move(target);
  std::size_t q = r.target.find('?');
  r.path = url_decode(std::string_view(r.target).substr(0, q));
  if (q != std::string::npos) r.query = r.target.substr(q + 1);
  return r;
}

Handler named(std::string name) {
  return [name](Request& r) {
    json params = json::object();
    for (const auto& [k, v] : r.params) params[k] = v;
    return Response::json(200, json{{"route", name}, {"params", params}}.dump());
  };
}

json call(const Router& router, std::string method, std::string target) {
  Request r = make(std::move(method), std::move(target));
  Response resp = router.handle(r);
  json j = json::parse(resp.body);
  j["_status"] = resp.status;
  return j;
}

TEST(Router, MatchesLiteralsAndParameters) {
  // Invariant: {name} segments capture one decoded segment each.
  Router router;
  router.add("GET", "/api/v1/agents/{id}/branding", named("branding"));
  router.add("GET", "/api/v1/agents/{id}", named("agent"));
  auto j = call(router, "GET", "/api/v1/agents/ag%201/branding?x=1");
  EXPECT_EQ(j["route"], "branding");
  EXPECT_EQ(j["params"]["id"], "ag 1");
  EXPECT_EQ(call(router, "GET", "/api/v1/agents/7")["route"], "agent");
}

TEST(Router, KeepsAnEncodedSlashInsideItsParameter) {
  // Invariant: paths split before decoding, so %2F never creates a segment.
  Router router;
  router.add("GET", "/v3/domains/{domain}", named("domain"));
  auto j = call(router, "GET", "/v3/domains/a%2Fb");
  EXPECT_EQ(j["route"], "domain");
  EXPECT_EQ(j["params"]["domain"], "a/b");
}

TEST(Router, SupportsAffixedAndCatchAllParameters) {
  // Invariant: "{sid}.json" captures the sid without the suffix; "{rest...}" takes the remainder.
  Router router;
  router.add("GET", "/2010-04-01/Accounts/{sid}.json", named("account"));
  router.add("POST", "/2010-04-01/Accounts/{sid}/Messages.json", named("messages"));
  router.add("GET", "/static/{file...}", named("static"));
  auto j = call(router, "GET", "/2010-04-01/Accounts/AC123.json");
  EXPECT_EQ(j["route"], "account");
  EXPECT_EQ(j["params"]["sid"], "AC123");
  EXPECT_EQ(call(router, "GET", "/2010-04-01/Accounts/.json")["_status"], 404);
  EXPECT_EQ(call(router, "POST", "/2010-04-01/Accounts/AC1/Messages.json")["params"]["sid"], "AC1");
  auto s = call(router, "GET", "/static/css/site.css");
  EXPECT_EQ(s["route"], "static");
  EXPECT_EQ(s["params"]["file"], "css/site.css");
  EXPECT_EQ(call(router, "GET", "/static")["_status"], 404);
}

TEST(Router, PrefersLiteralSegmentsOverParameters) {
  // Invariant: "/emails/batch" wins over "/emails/{id}" whatever the registration order.
  Router router;
  router.add("POST", "/emails/{id}", named("param"));
  router.add("POST", "/emails/batch", named("batch"));
  EXPECT_EQ(call(router, "POST", "/emails/batch")["route"], "batch");
  EXPECT_EQ(call(router, "POST", "/emails/xyz")["route"], "param");
}

TEST(Router, IgnoresEmptySegments) {
  // Invariant: "//v3/mail/send/" (as some SDKs build it) matches "/v3/mail/send".
  Router router;
  router.add("POST", "/v3/mail/send", named("send"));
  EXPECT_EQ(call(router, "POST", "//v3/mail/send/")["route"], "send");
}

TEST(Router, UnknownPathIs404ProblemJson) {
  // Invariant: no route → 404 application/problem+json with type/title/status/detail.
  Router router;
  router.add("GET", "/a", named("a"));
  Request r = make("GET", "/b");
  Response resp = router.handle(r);
  EXPECT_EQ(resp.status, 404);
  EXPECT_EQ(find_header(resp.headers, "content-type").value_or(""), "application/problem+json");
  json p = json::parse(resp.body);
  EXPECT_EQ(p["status"], 404);
  EXPECT_EQ(p["title"], "Not Found");
  EXPECT_TRUE(p.contains("type"));
  EXPECT_TRUE(p.contains("detail"));
}

TEST(Router, KnownPathWithOtherMethodIs405WithAllow) {
  // Invariant: the path exists but not for this method → 405 listing the allowed methods.
  Router router;
  router.add("GET", "/sandbox/messages", named("list"));
  router.add("DELETE", "/sandbox/messages", named("clear"));
  Request r = make("POST", "/sandbox/messages");
  Response resp = router.handle(r);
  EXPECT_EQ(resp.status, 405);
  EXPECT_EQ(find_header(resp.headers, "Allow").value_or(""), "GET, DELETE");
  EXPECT_EQ(json::parse(resp.body)["status"], 405);
}

TEST(Router, MatchesReportsAnyMethod) {
  // Invariant: matches() answers for a path regardless of method.
  Router router;
  router.add("GET", "/x/{id}", named("x"));
  EXPECT_TRUE(router.matches("/x/1"));
  EXPECT_TRUE(router.matches("/x/1?q=2"));
  EXPECT_FALSE(router.matches("/x"));
  EXPECT_FALSE(router.matches("/y/1"));
}

TEST(Router, FallsBackToPathWhenTargetIsEmpty) {
  // Invariant: a hand-built Request with only `path` still routes.
  Router router;
  router.add("GET", "/a/{b}", named("ab"));
  Request r;
  r.method = "GET";
  r.path = "/a/c";
  EXPECT_EQ(router.handle(r).status, 200);
  EXPECT_EQ(r.param("b"), "c");
  EXPECT_EQ(r.param("missing"), "");
}

TEST(UrlDecode, DecodesEscapesAndOptionallyPlus) {
  // Invariant: %XX decodes, '+' is a space only in forms, malformed escapes stay as written.
  EXPECT_EQ(url_decode("a%20b%2Fc"), "a b/c");
  EXPECT_EQ(url_decode("a+b"), "a+b");
  EXPECT_EQ(url_decode("a+b", true), "a b");
  EXPECT_EQ(url_decode("%e2%82%AC"), "\xE2\x82\xAC");
  EXPECT_EQ(url_decode("100%"), "100%");
  EXPECT_EQ(url_decode("%zz%4"), "%zz%4");
  EXPECT_EQ(url_decode(""), "");
}

TEST(ParseForm, ParsesPairsInOrderWithRepeats) {
  // Invariant: every pair is kept in order, repeated names included, values form-decoded.
  auto f = parse_form("To=%2B15551234567&Body=Hello+world%21&MediaUrl=a&MediaUrl=b&flag&&empty=");
  ASSERT_EQ(f.size(), 6u);
  EXPECT_EQ(f[0], (std::pair<std::string, std::string>{"To", "+15551234567"}));
  EXPECT_EQ(f[1].second, "Hello world!");
  EXPECT_EQ(f[2].second, "a");
  EXPECT_EQ(f[3].second, "b");
  EXPECT_EQ(f[4], (std::pair<std::string, std::string>{"flag", ""}));
  EXPECT_EQ(f[5], (std::pair<std::string, std::string>{"empty", ""}));
  EXPECT_TRUE(parse_form("").empty());
}

TEST(Request, QueryParamDecodesTheFirstMatch) {
  // Invariant: query_param finds a (possibly encoded) name and decodes its first value.
  Request r = make("GET", "/x?provider=resend&to=a%40b.com&to=second&na%6De=v+1&empty=&bare");
  EXPECT_EQ(r.query_param("provider"), "resend");
  EXPECT_EQ(r.query_param("to"), "a@b.com");
  EXPECT_EQ(r.query_param("name"), "v 1");
  EXPECT_EQ(r.query_param("empty"), "");
  EXPECT_EQ(r.query_param("bare"), "");
  EXPECT_EQ(r.query_param("nope"), std::nullopt);
}

TEST(Response, HelpersSetTypeAndBody) {
  // Invariant: json/text/problem set the content type; set_header replaces case-insensitively.
  Response j = Response::json(201, "{}");
  EXPECT_EQ(j.status, 201);
  EXPECT_EQ(find_header(j.headers, "Content-Type").value_or(""), "application/json");
  Response t = Response::text(200, "hi");
  EXPECT_EQ(find_header(t.headers, "Content-Type").value_or(""), "text/plain; charset=utf-8");
  t.set_header("content-type", "text/html");
  EXPECT_EQ(t.headers.size(), 1u);
  EXPECT_EQ(find_header(t.headers, "Content-Type").value_or(""), "text/html");
  Response p = Response::problem(422, "Unprocessable", "the \"to\" field is missing");
  json body = json::parse(p.body);
  EXPECT_EQ(body["type"], "about:blank");
  EXPECT_EQ(body["title"], "Unprocessable");
  EXPECT_EQ(body["status"], 422);
  EXPECT_EQ(body["detail"], "the \"to\" field is missing");
  EXPECT_FALSE(json::parse(Response::problem(400, "Bad").body).contains("detail"));
}

}  // namespace
}  // namespace herald::http
