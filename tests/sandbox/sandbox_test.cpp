// Protects the sandbox's own endpoints: recorded messages and filters, clearing, stats and
// duplicate detection, fault injection, the inbox page, benchmark mode, and concurrency.
#include <future>

#include "sandbox/sandbox_fixture.h"

namespace herald::sandbox::testing {
namespace {

using namespace std::chrono_literals;

const herald::Headers kResend{{"Authorization", "Bearer re_test_key_1234"},
                              {"User-Agent", "herald-test/1.0"},
                              {"Content-Type", "application/json"}};
const herald::Headers kSendGrid{{"Authorization", "Bearer SG.test.key-5678"},
                                {"Content-Type", "application/json"}};
const std::string kTwilioSid = "AC0123456789abcdef0123456789abcdef";

json resend_email(const std::string& to, const std::string& herald_id) {
  return {{"from", "a@platform.com"},
          {"to", to},
          {"subject", "S"},
          {"text", "T"},
          {"tags", {{{"name", "herald_message_id"}, {"value", herald_id}}}}};
}

json sendgrid_mail(const std::string& to, const std::string& herald_id) {
  return {{"personalizations",
           {{{"to", {{{"email", to}}}}, {"custom_args", {{"herald_message_id", herald_id}}}}}},
          {"from", {{"email", "a@platform.com"}}},
          {"subject", "S"},
          {"content", {{{"type", "text/plain"}, {"value", "T"}}}}};
}

class SandboxEndpointsTest : public SandboxTest {
 protected:
  HttpResult resend(const std::string& to, const std::string& herald_id = "") {
    return client_.post(url("/emails"),
                        resend_email(to, herald_id.empty() ? "x" : herald_id).dump(), kResend);
  }
  HttpResult sendgrid(const std::string& to, const std::string& herald_id) {
    return client_.post(url("/v3/mail/send"), sendgrid_mail(to, herald_id).dump(), kSendGrid);
  }
  HttpResult twilio(const std::string& to, const std::string& callback = "") {
    std::string form = "To=" + to + "&From=%2B15017122661&Body=Hi";
    if (!callback.empty()) form += "&StatusCallback=" + callback;
    return client_.post(url("/2010-04-01/Accounts/" + kTwilioSid + "/Messages.json"), form,
                        {{"Content-Type", "application/x-www-form-urlencoded"}},
                        kTwilioSid + ":token");
  }
};

TEST_F(SandboxEndpointsTest, MessagesHaveTheDocumentedShape) {
  // Invariant: every item carries exactly the documented fields; the account is a hint, never the
  // key.
  ASSERT_EQ(resend("a@example.com").status, 200);
  json item = messages()[0];
  for (const char* field :
       {"provider", "account", "from", "to", "replyTo", "subject", "text", "html", "body",
        "headers", "idempotencyKey", "receivedAt", "providerMessageId", "heraldMessageId"}) {
    EXPECT_TRUE(item.contains(field)) << field;
  }
  EXPECT_TRUE(item["to"].is_string());
  EXPECT_TRUE(item["headers"].is_object());
  EXPECT_EQ(item["account"], "\u20261234");
  EXPECT_EQ(client_.get(url("/sandbox/messages")).body.find("re_test_key"), std::string::npos);
  std::string received = item["receivedAt"];
  EXPECT_EQ(received.size(), 24u);
  EXPECT_EQ(received.back(), 'Z');
}

TEST_F(SandboxEndpointsTest, FiltersByProviderAndRecipient) {
  // Invariant: ?provider= and ?to= narrow the list; ?limit= keeps the newest.
  ASSERT_EQ(resend("a@example.com").status, 200);
  ASSERT_EQ(sendgrid("b@example.com", "m-b").status, 202);
  ASSERT_EQ(twilio("%2B15558675310").status, 201);
  EXPECT_EQ(messages().size(), 3u);
  EXPECT_EQ(messages("?provider=sendgrid").size(), 1u);
  EXPECT_EQ(messages("?provider=twilio")[0]["to"], "+15558675310");
  EXPECT_EQ(messages("?to=a%40example.com")[0]["provider"], "resend");
  EXPECT_TRUE(messages("?provider=mailgun").empty());
  json newest = messages("?limit=1");
  ASSERT_EQ(newest.size(), 1u);
  EXPECT_EQ(newest[0]["provider"], "twilio");
  EXPECT_EQ(client_.get(url("/sandbox/messages?provider=pigeon")).status, 400);
}

TEST_F(SandboxEndpointsTest, DeleteClearsMessagesAndCounts) {
  // Invariant: DELETE /sandbox/messages forgets messages, counts and duplicates.
  ASSERT_EQ(resend("a@example.com", "m-1").status, 200);
  ASSERT_EQ(resend("a@example.com", "m-1").status, 200);
  EXPECT_EQ(stats()["duplicates"], 1);
  EXPECT_EQ(client_.request("DELETE", url("/sandbox/messages")).status, 204);
  EXPECT_TRUE(messages().empty());
  json s = stats();
  EXPECT_EQ(s["total"], 0);
  EXPECT_EQ(s["duplicates"], 0);
  ASSERT_EQ(resend("a@example.com", "m-1").status, 200);
  EXPECT_EQ(stats()["duplicates"], 0);
}

TEST_F(SandboxEndpointsTest, StatsCountPerProviderAndDuplicates) {
  // Invariant: a Herald message id seen twice for one provider and recipient is one duplicate,
  // whichever provider field carried it (Resend tag, SendGrid custom_args, Twilio ?message=).
  ASSERT_EQ(resend("a@example.com", "m-1").status, 200);
  ASSERT_EQ(resend("a@example.com", "m-1").status, 200);
  ASSERT_EQ(resend("a@example.com", "m-2").status, 200);
  ASSERT_EQ(sendgrid("a@example.com", "m-1").status, 202);  // other provider: not a duplicate
  ASSERT_EQ(sendgrid("a@example.com", "m-1").status, 202);
  ASSERT_EQ(twilio("%2B15558675310", "https%3A%2F%2Fh%2Fw%3Fmessage%3Dm-9").status, 201);
  ASSERT_EQ(twilio("%2B15558675310", "https%3A%2F%2Fh%2Fw%3Fmessage%3Dm-9").status, 201);
  ASSERT_EQ(twilio("%2B15558675310").status, 201);  // no id: never a duplicate
  ASSERT_EQ(twilio("%2B15558675310").status, 201);
  json s = stats();
  EXPECT_EQ(s["total"], 9);
  EXPECT_EQ(s["byProvider"]["resend"], 3);
  EXPECT_EQ(s["byProvider"]["sendgrid"], 2);
  EXPECT_EQ(s["byProvider"]["mailgun"], 0);
  EXPECT_EQ(s["byProvider"]["twilio"], 4);
  EXPECT_EQ(s["duplicates"], 3);
}

TEST_F(SandboxEndpointsTest, FaultsAnswerInTheProvidersShapeAndCountDown) {
  // Invariant: a fault hits the next `count` sends of its provider only, with Retry-After and the
  // real error shape.
  auto created =
      add_fault({{"provider", "sendgrid"}, {"status", 429}, {"count", 2}, {"retryAfter", 7}});
  ASSERT_EQ(created.status, 201) << created.body;
  auto listed = json::parse(client_.get(url("/sandbox/faults")).body)["items"];
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0]["count"], 2);

  ASSERT_EQ(resend("a@example.com").status, 200);  // other providers are untouched
  for (int i = 0; i < 2; ++i) {
    auto r = sendgrid("b@example.com", "m-b");
    EXPECT_EQ(r.status, 429);
    EXPECT_EQ(r.header("Retry-After").value_or(""), "7");
    EXPECT_EQ(json::parse(r.body)["errors"][0]["message"], "too many requests");
    if (i == 0) {
      EXPECT_EQ(json::parse(client_.get(url("/sandbox/faults")).body)["items"][0]["count"], 1);
    }
  }
  EXPECT_EQ(sendgrid("b@example.com", "m-b").status, 202);
  EXPECT_TRUE(json::parse(client_.get(url("/sandbox/faults")).body)["items"].empty());
  EXPECT_EQ(stats()["byProvider"]["sendgrid"], 1);
}

TEST_F(SandboxEndpointsTest, FaultShapesPerProvider) {
  // Invariant: 5xx faults use each provider's error body; credential checks are never faulted.
  ASSERT_EQ(add_fault({{"provider", "resend"}, {"status", 503}}).status, 201);
  ASSERT_EQ(add_fault({{"provider", "twilio"}, {"status", 500}}).status, 201);
  ASSERT_EQ(add_fault({{"provider", "mailgun"}, {"status", 429}, {"retryAfter", 3}}).status, 201);
  EXPECT_EQ(client_.get(url("/domains"), kResend).status, 200);  // not a send endpoint
  auto r = resend("a@example.com");
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(json::parse(r.body)["statusCode"], 503);
  auto t = twilio("%2B15558675310");
  EXPECT_EQ(t.status, 500);
  EXPECT_EQ(json::parse(t.body)["code"], 20500);
  auto m = client_.post_form(
      url("/v3/mg.example.com/messages"),
      {{"from", "a@mg.example.com"}, {"to", "b@example.com"}, {"subject", "s"}, {"text", "t"}}, {},
      "api:key-1");
  EXPECT_EQ(m.status, 429);
  EXPECT_EQ(m.header("Retry-After").value_or(""), "3");
  EXPECT_NE(json::parse(m.body)["message"].get<std::string>().find("try again after 3 seconds"),
            std::string::npos);
  EXPECT_TRUE(messages().empty());
}

TEST_F(SandboxEndpointsTest, DelayFaultAnswersSlowlyButNormally) {
  // Invariant: a delay-only fault holds the normal answer back; the message is still recorded.
  ASSERT_EQ(add_fault({{"provider", "resend"}, {"delayMs", 400}}).status, 201);
  auto start = std::chrono::steady_clock::now();
  auto r = resend("a@example.com");
  EXPECT_EQ(r.status, 200);
  EXPECT_GE(std::chrono::steady_clock::now() - start, 400ms);
  EXPECT_EQ(messages().size(), 1u);
}

TEST_F(SandboxEndpointsTest, FaultsCanBeClearedAndAreValidated) {
  // Invariant: DELETE /sandbox/faults removes all; bad fault requests are 400 problem+json.
  ASSERT_EQ(add_fault({{"provider", "resend"}, {"status", 500}, {"count", 5}}).status, 201);
  EXPECT_EQ(client_.request("DELETE", url("/sandbox/faults")).status, 204);
  EXPECT_EQ(resend("a@example.com").status, 200);
  for (const json& bad :
       {json{{"provider", "pigeon"}, {"status", 500}}, json{{"provider", "resend"}},
        json{{"provider", "resend"}, {"status", 200}},
        json{{"provider", "resend"}, {"status", 500}, {"count", 0}},
        json{{"provider", "resend"}, {"delayMs", -1}}}) {
    auto r = add_fault(bad);
    EXPECT_EQ(r.status, 400) << bad.dump();
    EXPECT_EQ(r.header("Content-Type").value_or(""), "application/problem+json");
  }
}

TEST_F(SandboxEndpointsTest, ResetForgetsEverything) {
  // Invariant: POST /sandbox/reset clears messages, faults and idempotency keys.
  auto h = kResend;
  h.emplace_back("Idempotency-Key", "k");
  ASSERT_EQ(client_.post(url("/emails"), resend_email("a@example.com", "m").dump(), h).status, 200);
  ASSERT_EQ(add_fault({{"provider", "resend"}, {"status", 500}}).status, 201);
  EXPECT_EQ(client_.post(url("/sandbox/reset"), "").status, 204);
  EXPECT_TRUE(messages().empty());
  EXPECT_EQ(client_.post(url("/emails"), resend_email("b@example.com", "m").dump(), h).status, 200);
}

TEST_F(SandboxEndpointsTest, InboxPageListsNewestFirstEscaped) {
  // Invariant: GET / is HTML, newest first, with every value escaped.
  json e = resend_email("first@example.com", "m-1");
  ASSERT_EQ(client_.post(url("/emails"), e.dump(), kResend).status, 200);
  e = resend_email("second@example.com", "m-2");
  e["subject"] = "<script>alert(1)</script>";
  ASSERT_EQ(client_.post(url("/emails"), e.dump(), kResend).status, 200);
  auto page = client_.get(url("/"));
  EXPECT_EQ(page.status, 200);
  EXPECT_EQ(page.header("Content-Type").value_or(""), "text/html; charset=utf-8");
  EXPECT_EQ(page.body.find("<script>"), std::string::npos);
  EXPECT_NE(page.body.find("&lt;script&gt;"), std::string::npos);
  EXPECT_LT(page.body.find("second@example.com"), page.body.find("first@example.com"));
}

TEST_F(SandboxEndpointsTest, BenchmarkModeKeepsCountsAndOnlyTheLastBodies) {
  // Invariant: with max_bodies N, counts and duplicate detection cover everything, bodies only the
  // last N.
  SandboxOptions options;
  options.max_bodies = 3;
  start(options);
  for (int i = 0; i < 10; ++i) {
    ASSERT_EQ(resend("r" + std::to_string(i) + "@example.com", "m-" + std::to_string(i)).status,
              200);
  }
  ASSERT_EQ(resend("r0@example.com", "m-0").status, 200);  // a duplicate of an evicted body
  json s = stats();
  EXPECT_EQ(s["total"], 11);
  EXPECT_EQ(s["stored"], 3);
  EXPECT_EQ(s["duplicates"], 1);
  json items = messages();
  ASSERT_EQ(items.size(), 3u);
  EXPECT_EQ(items[0]["to"], "r8@example.com");
  EXPECT_EQ(items[1]["to"], "r9@example.com");
  EXPECT_EQ(items[2]["to"], "r0@example.com");
}

TEST_F(SandboxEndpointsTest, ConcurrentSendsAreAllRecorded) {
  // Invariant: concurrent clients on every provider lose no message and count no false duplicate.
  constexpr int kClients = 8;
  constexpr int kEach = 40;
  std::vector<std::future<int>> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.push_back(std::async(std::launch::async, [&, c] {
      CurlClient client;
      int ok = 0;
      for (int i = 0; i < kEach; ++i) {
        std::string id = std::to_string(c) + "-" + std::to_string(i);
        if (c % 2 == 0) {
          ok += client.post(url("/emails"), resend_email("a@example.com", id).dump(), kResend)
                    .status == 200;
        } else {
          ok +=
              client
                  .post(url("/v3/mail/send"), sendgrid_mail("a@example.com", id).dump(), kSendGrid)
                  .status == 202;
        }
      }
      return ok;
    }));
  }
  int ok = 0;
  for (auto& f : clients) ok += f.get();
  EXPECT_EQ(ok, kClients * kEach);
  json s = stats();
  EXPECT_EQ(s["total"], kClients * kEach);
  EXPECT_EQ(s["duplicates"], 0);
  EXPECT_EQ(messages().size(), static_cast<std::size_t>(kClients * kEach));
}

TEST_F(SandboxEndpointsTest, UnknownPathsAndMethodsAreProblems) {
  // Invariant: unknown paths are 404 and wrong methods 405, as problem+json.
  EXPECT_EQ(client_.get(url("/v9/nothing")).status, 404);
  auto r = client_.request("PUT", url("/sandbox/messages"));
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(r.header("Content-Type").value_or(""), "application/problem+json");
}

}  // namespace
}  // namespace herald::sandbox::testing
