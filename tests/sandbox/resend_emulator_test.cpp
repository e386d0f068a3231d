// Protects the Resend emulation: what it accepts and records, the errors it answers in
// Resend's shape, and its idempotency-key semantics.
#include "sandbox/sandbox_fixture.h"

namespace herald::sandbox::testing {
namespace {

const std::string kKey = "re_test_key_9876";

class ResendTest : public SandboxTest {
 protected:
  herald::Headers headers(const std::string& key = kKey, bool user_agent = true) {
    herald::Headers h{{"Content-Type", "application/json"}};
    if (!key.empty()) h.emplace_back("Authorization", "Bearer " + key);
    if (user_agent) h.emplace_back("User-Agent", "herald-test/1.0");
    return h;
  }
  HttpResult send(const json& body, herald::Headers extra = {}) {
    auto h = headers();
    h.insert(h.end(), extra.begin(), extra.end());
    return client_.post(url("/emails"), body.dump(), h);
  }
  static json email(const std::string& to = "buyer@example.com", const std::string& id = "m-1") {
    return {{"from", "Sunset Properties <noreply@platform.com>"},
            {"to", {to}},
            {"subject", "Welcome"},
            {"html", "<p>Hi</p>"},
            {"text", "Hi"},
            {"reply_to", "lisa@sunsetprops.com"},
            {"headers", {{"List-Unsubscribe", "<https://x/u/1>"}}},
            {"tags", {{{"name", "herald_message_id"}, {"value", id}}}}};
  }
  static void expect_error(const HttpResult& r, int status, const std::string& name) {
    EXPECT_EQ(r.status, status) << r.body;
    json j = json::parse(r.body);
    EXPECT_EQ(j["statusCode"], status);
    EXPECT_EQ(j["name"], name);
    EXPECT_TRUE(j["message"].is_string());
  }
};

TEST_F(ResendTest, AcceptsAnEmailAndRecordsIt) {
  // Invariant: a valid POST /emails gets {"id": uuid} and one recorded item with every field.
  auto r = send(email());
  ASSERT_EQ(r.status, 200) << r.body;
  std::string id = json::parse(r.body)["id"];
  EXPECT_EQ(id.size(), 36u);
  json items = messages();
  ASSERT_EQ(items.size(), 1u);
  const json& m = items[0];
  EXPECT_EQ(m["provider"], "resend");
  EXPECT_EQ(m["account"], "\u20269876");
  EXPECT_EQ(m["from"], "Sunset Properties <noreply@platform.com>");
  EXPECT_EQ(m["to"], "buyer@example.com");
  EXPECT_EQ(m["replyTo"], "lisa@sunsetprops.com");
  EXPECT_EQ(m["subject"], "Welcome");
  EXPECT_EQ(m["html"], "<p>Hi</p>");
  EXPECT_EQ(m["text"], "Hi");
  EXPECT_EQ(m["headers"]["List-Unsubscribe"], "<https://x/u/1>");
  EXPECT_EQ(m["heraldMessageId"], "m-1");
  EXPECT_EQ(m["providerMessageId"], id);
  EXPECT_TRUE(m["idempotencyKey"].is_null());
  EXPECT_TRUE(m["body"].is_null());
}

TEST_F(ResendTest, RecordsOneItemPerRecipient) {
  // Invariant: `to` as a string or a list; each recipient is one recorded item.
  json e = email();
  e["to"] = {"a@example.com", "B <b@example.com>"};
  ASSERT_EQ(send(e).status, 200);
  e["to"] = "c@example.com";
  ASSERT_EQ(send(e).status, 200);
  json items = messages();
  ASSERT_EQ(items.size(), 3u);
  EXPECT_EQ(items[1]["to"], "B <b@example.com>");
  EXPECT_EQ(messages("?to=b@example.com").size(), 1u);
}

TEST_F(ResendTest, NamesTheMissingField) {
  // Invariant: missing from/to/subject/content → 422 missing_required_field naming the field.
  for (const char* field : {"from", "to", "subject"}) {
    json e = email();
    e.erase(field);
    auto r = send(e);
    expect_error(r, 422, "missing_required_field");
    EXPECT_NE(
        json::parse(r.body)["message"].get<std::string>().find(std::string("`") + field + "`"),
        std::string::npos);
  }
  json e = email();
  e.erase("html");
  e.erase("text");
  expect_error(send(e), 422, "missing_required_field");
  EXPECT_TRUE(messages().empty());
}

TEST_F(ResendTest, ValidatesAddressesTagsAndTheRecipientLimit) {
  // Invariant: bad from → invalid_from_address; bad to, bad tags, >50 recipients →
  // validation_error.
  json e = email();
  e["from"] = "not an address";
  expect_error(send(e), 422, "invalid_from_address");
  e = email();
  e["to"] = {"nobody"};
  expect_error(send(e), 422, "validation_error");
  e = email();
  e["tags"] = {{{"name", "bad tag!"}, {"value", "x"}}};
  expect_error(send(e), 422, "validation_error");
  e = email();
  e["to"] = json::array();
  for (int i = 0; i < 51; ++i) e["to"].push_back("r" + std::to_string(i) + "@example.com");
  expect_error(send(e), 422, "validation_error");
  e["to"].erase(50);
  EXPECT_EQ(send(e).status, 200);
  expect_error(client_.post(url("/emails"), "{not json", headers()), 400, "validation_error");
}

TEST_F(ResendTest, RefusesMissingUserAgentAndBadKeys) {
  // Invariant: no User-Agent → 403 (error 1010); no key → 401 missing_api_key; revoked → 403
  // invalid_api_key.
  auto no_agent = client_.post(url("/emails"), email().dump(), headers(kKey, false));
  EXPECT_EQ(no_agent.status, 403);
  EXPECT_NE(no_agent.body.find("1010"), std::string::npos);
  expect_error(client_.post(url("/emails"), email().dump(), headers("")), 401, "missing_api_key");
  expect_error(client_.post(url("/emails"), email().dump(), headers("revoked_re_123456")), 403,
               "invalid_api_key");
  expect_error(client_.get(url("/domains"), headers("revoked_re_123456")), 403, "invalid_api_key");
  EXPECT_TRUE(messages().empty());
}

TEST_F(ResendTest, DomainsIsTheCredentialCheck) {
  // Invariant: GET /domains is 200 for a full key and 401 restricted_api_key for a sending-only
  // one.
  auto ok = client_.get(url("/domains"), headers());
  ASSERT_EQ(ok.status, 200);
  EXPECT_EQ(json::parse(ok.body)["data"][0]["name"], "example.com");
  expect_error(client_.get(url("/domains"), headers("restricted_re_12345")), 401,
               "restricted_api_key");
}

TEST_F(ResendTest, IdempotencyKeyReplaysWithoutSendingAgain) {
  // Invariant: same key + same body → the first response again and no second recorded message.
  auto first = send(email(), {{"Idempotency-Key", "msg-1"}});
  auto second = send(email(), {{"Idempotency-Key", "msg-1"}});
  ASSERT_EQ(first.status, 200);
  EXPECT_EQ(second.status, 200);
  EXPECT_EQ(second.body, first.body);
  json items = messages();
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0]["idempotencyKey"], "msg-1");
  EXPECT_EQ(stats()["duplicates"], 0);
}

TEST_F(ResendTest, IdempotencyKeyWithADifferentBodyConflicts) {
  // Invariant: same key + different body → 409 invalid_idempotent_request, nothing recorded.
  ASSERT_EQ(send(email(), {{"Idempotency-Key", "msg-2"}}).status, 200);
  expect_error(send(email("other@example.com"), {{"Idempotency-Key", "msg-2"}}), 409,
               "invalid_idempotent_request");
  EXPECT_EQ(messages().size(), 1u);
  // Keys are per API key: another account may use the same key.
  auto h = headers("re_other_account_1");
  h.emplace_back("Idempotency-Key", "msg-2");
  EXPECT_EQ(client_.post(url("/emails"), email("other@example.com").dump(), h).status, 200);
}

TEST_F(ResendTest, FailedRequestsDoNotConsumeTheKey) {
  // Invariant: a request refused by a fault or validation can be retried with the same key.
  ASSERT_EQ(add_fault({{"provider", "resend"}, {"status", 429}}).status, 201);
  EXPECT_EQ(send(email(), {{"Idempotency-Key", "msg-3"}}).status, 429);
  json bad = email();
  bad.erase("to");
  EXPECT_EQ(send(bad, {{"Idempotency-Key", "msg-4"}}).status, 422);
  EXPECT_EQ(send(email(), {{"Idempotency-Key", "msg-3"}}).status, 200);
  EXPECT_EQ(send(email("x@example.com"), {{"Idempotency-Key", "msg-4"}}).status, 200);
  EXPECT_EQ(messages().size(), 2u);
}

TEST_F(ResendTest, RejectsAnOverlongIdempotencyKey) {
  // Invariant: keys must be 1-256 characters (spec) → else 400 invalid_idempotency_key.
  expect_error(send(email(), {{"Idempotency-Key", std::string(257, 'k')}}), 400,
               "invalid_idempotency_key");
}

TEST_F(ResendTest, IdempotencyKeysExpire) {
  // Invariant: after the TTL (24 h by default) a key is new again.
  auto clock = std::make_shared<ManualTime>();
  SandboxOptions options;
  options.clock = clock;
  start(options);
  ASSERT_EQ(send(email(), {{"Idempotency-Key", "old"}}).status, 200);
  clock->advance(std::chrono::hours(23));
  EXPECT_EQ(send(email("z@example.com"), {{"Idempotency-Key", "old"}}).status, 409);
  clock->advance(std::chrono::hours(2));
  EXPECT_EQ(send(email("z@example.com"), {{"Idempotency-Key", "old"}}).status, 200);
  EXPECT_EQ(messages().size(), 2u);
}

TEST_F(ResendTest, BatchRecordsEveryEmail) {
  // Invariant: POST /emails/batch answers {"data":[{id}...]} and records one item per email.
  json batch = {email("a@example.com", "m-a"), email("b@example.com", "m-b"),
                email("c@example.com", "m-c")};
  auto r = client_.post(url("/emails/batch"), batch.dump(), headers());
  ASSERT_EQ(r.status, 200) << r.body;
  json data = json::parse(r.body)["data"];
  ASSERT_EQ(data.size(), 3u);
  json items = messages("?provider=resend");
  ASSERT_EQ(items.size(), 3u);
  EXPECT_EQ(items[2]["to"], "c@example.com");
  EXPECT_EQ(items[2]["providerMessageId"], data[2]["id"]);
  EXPECT_EQ(items[1]["heraldMessageId"], "m-b");
}

TEST_F(ResendTest, BatchValidationStrictAndPermissive) {
  // Invariant: strict (default) refuses the whole batch; permissive sends the valid ones and lists
  // errors by index.
  json bad = email("b@example.com");
  bad.erase("subject");
  json batch = {email("a@example.com"), bad, email("c@example.com")};
  auto strict = client_.post(url("/emails/batch"), batch.dump(), headers());
  expect_error(strict, 422, "missing_required_field");
  EXPECT_NE(strict.body.find("emails[1]"), std::string::npos);
  EXPECT_TRUE(messages().empty());

  auto h = headers();
  h.emplace_back("x-batch-validation", "permissive");
  auto permissive = client_.post(url("/emails/batch"), batch.dump(), h);
  ASSERT_EQ(permissive.status, 200);
  json j = json::parse(permissive.body);
  EXPECT_EQ(j["data"].size(), 2u);
  ASSERT_EQ(j["errors"].size(), 1u);
  EXPECT_EQ(j["errors"][0]["index"], 1);
  EXPECT_EQ(messages().size(), 2u);
}

TEST_F(ResendTest, BatchLimits) {
  // Invariant: at most 100 emails per batch, no attachments, a JSON array body.
  json batch = json::array();
  for (int i = 0; i < 101; ++i) batch.push_back(email());
  expect_error(client_.post(url("/emails/batch"), batch.dump(), headers()), 422,
               "validation_error");
  batch.erase(100);
  EXPECT_EQ(client_.post(url("/emails/batch"), batch.dump(), headers()).status, 200);
  json with_attachment = email();
  with_attachment["attachments"] = json::array({{{"filename", "a.txt"}, {"content", "aGk="}}});
  expect_error(client_.post(url("/emails/batch"), json::array({with_attachment}).dump(), headers()),
               422, "validation_error");
  expect_error(client_.post(url("/emails/batch"), email().dump(), headers()), 422,
               "validation_error");
}

TEST_F(ResendTest, BatchHonoursIdempotencyKeys) {
  // Invariant: a batch replayed with its key is not recorded twice.
  json batch = {email("a@example.com"), email("b@example.com")};
  auto h = headers();
  h.emplace_back("Idempotency-Key", "batch-1");
  auto first = client_.post(url("/emails/batch"), batch.dump(), h);
  auto second = client_.post(url("/emails/batch"), batch.dump(), h);
  EXPECT_EQ(first.body, second.body);
  EXPECT_EQ(messages().size(), 2u);
}

}  // namespace
}  // namespace herald::sandbox::testing
