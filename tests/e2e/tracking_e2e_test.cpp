// Delivery tracking end to end, real `herald serve` and `herald sandbox` processes over real
// HTTP: an agent connects an account and Herald registers its receiver with the provider's API
// by itself (the sandbox emulates each provider's registration and then posts signed events
// as that provider does); a campaign then ends with delivered, bounced, complained, opened and
// clicked counts, each message's timeline, and the bounced and complaining addresses on the
// agent's suppression list. The sandbox's events follow the recipient (README § "Delivery
// events from the sandbox"): bounce… hard-bounces, soft… defers, complain… complains,
// open… / click… open and click after delivery.
#include <gtest/gtest.h>

#include <set>

#include "e2e/harness.h"

namespace herald::e2e {
namespace {

using namespace std::chrono_literals;

constexpr auto kDeadline = 60s;

std::string new_agent(Client& api, const std::string& company) {
  const std::string slug = new_id().substr(24);
  auto r = api.post("/api/v1/agents", {{"name", company + " Agent"},
                                       {"email", "agent-" + slug + "@tracking-realty.com"}});
  EXPECT_EQ(r.status, 201) << r.raw;
  const std::string id = r.body.value("id", "");
  auto b =
      api.put("/api/v1/agents/" + id + "/branding",
              {{"companyName", company}, {"postalAddress", "9 Ocean Ave, Santa Monica, CA 90401"}});
  EXPECT_EQ(b.status, 200) << b.raw;
  return id;
}

json integration(Client& api, const std::string& agent, const std::string& channel) {
  return api.get("/api/v1/agents/" + agent + "/integrations").body[channel];
}

// Waits until the integration's tracking is on (Herald registered with the provider).
void expect_tracking_on(Client& api, const std::string& agent, const std::string& channel) {
  json tracking;
  const bool on = eventually(
      [&] {
        tracking = integration(api, agent, channel)["tracking"];
        return tracking.value("status", "") == "on";
      },
      kDeadline);
  ASSERT_TRUE(on) << tracking.dump();
  EXPECT_EQ(tracking["setUpBy"], "herald");
  EXPECT_TRUE(tracking["receiverUrl"].get<std::string>().ends_with(agent) ||
              tracking["receiverUrl"].get<std::string>().ends_with(agent + "/status"))
      << tracking.dump();
}

void import_csv(Client& api, const std::string& agent, const std::string& csv, int n) {
  auto r = api.call("POST", "/api/v1/agents/" + agent + "/contacts/import", csv, "text/csv");
  ASSERT_EQ(r.status, 200) << r.raw;
  ASSERT_EQ(r.body["imported"], n) << r.raw;
}

std::string launch(Client& api, const std::string& agent, const std::string& channel) {
  auto c = api.post("/api/v1/agents/" + agent + "/campaigns",
                    campaign_body(api, agent, channel, "tracked", "Tracked " + channel));
  EXPECT_EQ(c.status, 201) << c.raw;
  const std::string id = c.body.value("id", "");
  auto l = api.post("/api/v1/agents/" + agent + "/campaigns/" + id + "/launch", json::object());
  EXPECT_EQ(l.status, 200) << l.raw;
  return id;
}

// The agent's messages by recipient address.
std::map<std::string, json> messages_by_recipient(Client& api, const std::string& agent) {
  std::map<std::string, json> out;
  auto r = api.get("/api/v1/agents/" + agent + "/messages?limit=100");
  EXPECT_EQ(r.status, 200) << r.raw;
  for (const auto& m : r.body["items"]) out[m["to"].get<std::string>()] = m;
  return out;
}

// The status of the message to `to` ("" when there is none yet).
std::string status_of(const std::map<std::string, json>& by, const std::string& to) {
  const auto it = by.find(to);
  return it == by.end() ? "" : it->second.value("status", "");
}

std::set<std::pair<std::string, std::string>> suppressed(Client& api, const std::string& agent) {
  std::set<std::pair<std::string, std::string>> out;
  const auto r = api.get("/api/v1/agents/" + agent + "/suppressions");  // outlives the loop
  for (const auto& s : r.body["items"])
    out.emplace(s["address"].get<std::string>(), s["reason"].get<std::string>());
  return out;
}

class TrackingE2e : public ::testing::TestWithParam<std::string> {};

TEST_P(TrackingE2e, HeraldRegistersItsReceiverAndACampaignEndsWithEveryOutcome) {
  const std::string provider = GetParam();
  Stack stack;
  Client api = stack.api();
  const std::string agent = new_agent(api, "Tracked " + provider);
  json body = {{"provider", provider},
               {"apiKey", provider == "sendgrid"  ? "SG.tracked_key_0001.abcdefghijklmnop"
                          : provider == "mailgun" ? "key-tracked0001tracked0001tracked01"
                                                  : "re_tracked_key_0001"},
               {"fromEmail", "office@mg.tracked-realty.com"}};
  if (provider == "mailgun") body["domain"] = "mg.tracked-realty.com";
  auto put = api.put("/api/v1/agents/" + agent + "/integrations/email", body);
  ASSERT_EQ(put.status, 200) << put.raw;
  // The worker may already have registered it by the time the answer is written.
  const std::string first = put.body["tracking"]["status"];
  EXPECT_TRUE(first == "settingUp" || first == "on") << put.raw;
  expect_tracking_on(api, agent, "email");

  const std::vector<std::string> people = {"ok0",       "bounce1", "soft2",
                                           "complain3", "open4",   "click5"};
  std::string csv = "name,email,role,tags,consentEmail\n";
  for (const auto& p : people) csv += p + "," + p + "@example.com,buyer,tracked,yes\n";
  import_csv(api, agent, csv, static_cast<int>(people.size()));
  const std::string campaign = launch(api, agent, "email");

  // Live results as the events come back.
  json results;
  const bool settled = eventually(
      [&] {
        results = api.get("/api/v1/agents/" + agent + "/campaigns/" + campaign).body["results"];
        return results.value("delivered", 0) == 4 && results.value("bounced", 0) == 1 &&
               results.value("complained", 0) == 1 && results.value("uniqueOpens", 0) == 2 &&
               results.value("uniqueClicks", 0) == 1;
      },
      kDeadline);
  EXPECT_TRUE(settled) << results.dump() << "\n" << stack.herald_log().substr(0, 4000);

  auto by = messages_by_recipient(api, agent);
  EXPECT_EQ(by["ok0@example.com"]["status"], "delivered");
  EXPECT_EQ(by["bounce1@example.com"]["status"], "bounced");
  EXPECT_EQ(by["soft2@example.com"]["status"], "deferred");
  EXPECT_EQ(by["complain3@example.com"]["status"], "complained");
  EXPECT_EQ(by["click5@example.com"]["status"], "delivered");  // opens never move a status

  // The timeline of the clicked message: delivered, opened, clicked, in order.
  auto detail = api.get("/api/v1/messages/" + by["click5@example.com"]["id"].get<std::string>());
  std::vector<std::string> types;
  for (const auto& e : detail.body["deliveryEvents"]) types.push_back(e["type"]);
  EXPECT_EQ(types, (std::vector<std::string>{"delivered", "opened", "clicked"})) << detail.raw;

  // Suppressed: the hard bounce and the complaint, nobody else (one soft bounce is not enough).
  const auto list = suppressed(api, agent);
  EXPECT_TRUE(list.contains({"bounce1@example.com", "bounced"}))
      << api.get("/api/v1/agents/" + agent + "/suppressions").raw;
  EXPECT_TRUE(list.contains({"complain3@example.com", "complained"}));
  EXPECT_EQ(list.size(), 2u);

  // The message log filters by the new statuses.
  auto bounced = api.get("/api/v1/agents/" + agent + "/messages?status=bounced");
  ASSERT_EQ(bounced.body["items"].size(), 1u) << bounced.raw;
  EXPECT_EQ(bounced.body["items"][0]["to"], "bounce1@example.com");
}

TEST_P(TrackingE2e, DuplicatedAndReorderedEventsLeaveEveryMessageRight) {
  // The complaints users make of other systems: the same event twice counted twice, a late
  // delivered overwriting a complaint. The sandbox posts every event twice, last first.
  const std::string provider = GetParam();
  Stack stack;
  Client api = stack.api();
  const std::string agent = new_agent(api, "Shuffled " + provider);
  json body = {{"provider", provider},
               {"apiKey", "key-shuffled0001shuffled0001shuffle"},
               {"fromEmail", "office@mg.shuffled-realty.com"}};
  if (provider == "mailgun") body["domain"] = "mg.shuffled-realty.com";
  if (provider == "resend") body["apiKey"] = "re_shuffled_key_0001";
  if (provider == "sendgrid") body["apiKey"] = "SG.shuffled_key_0001.abcdefghijklmnop";
  ASSERT_EQ(api.put("/api/v1/agents/" + agent + "/integrations/email", body).status, 200);
  expect_tracking_on(api, agent, "email");
  auto fault =
      stack.sandbox().post("/sandbox/faults", {{"provider", provider},
                                               {"events", {{"duplicate", true}, {"reorder", true}}},
                                               {"count", 100}});
  ASSERT_LT(fault.status, 300) << fault.raw;
  import_csv(api, agent,
             "name,email,role,tags,consentEmail\n"
             "Ann,ok0@example.com,buyer,tracked,yes\n"
             "Cid,complain1@example.com,buyer,tracked,yes\n"
             "Eve,click2@example.com,buyer,tracked,yes\n",
             3);
  const std::string campaign = launch(api, agent, "email");
  json results;
  const bool settled = eventually(
      [&] {
        results = api.get("/api/v1/agents/" + agent + "/campaigns/" + campaign).body["results"];
        return results.value("delivered", 0) == 3 && results.value("complained", 0) == 1 &&
               results.value("uniqueClicks", 0) == 1;
      },
      kDeadline);
  ASSERT_TRUE(settled) << results.dump();
  // Give the trailing duplicates time to arrive, then check nothing counted twice.
  const auto events_of = [&](const std::string& to) {
    auto by = messages_by_recipient(api, agent);
    return api.get("/api/v1/messages/" + by[to]["id"].get<std::string>()).body["deliveryEvents"];
  };
  EXPECT_TRUE(eventually([&] { return events_of("click2@example.com").size() == 3; }, 10s));
  std::this_thread::sleep_for(500ms);
  EXPECT_EQ(events_of("ok0@example.com").size(), 1u);
  EXPECT_EQ(events_of("complain1@example.com").size(), 2u);
  EXPECT_EQ(events_of("click2@example.com").size(), 3u);
  auto by = messages_by_recipient(api, agent);
  EXPECT_EQ(status_of(by, "complain1@example.com"), "complained") << "a late delivered won";
  results = api.get("/api/v1/agents/" + agent + "/campaigns/" + campaign).body["results"];
  EXPECT_EQ(results["delivered"], 3) << results.dump();
  EXPECT_EQ(results["complained"], 1);
  EXPECT_EQ(results["uniqueOpens"], 1);
  EXPECT_EQ(results["uniqueClicks"], 1);
}

INSTANTIATE_TEST_SUITE_P(EmailProviders, TrackingE2e,
                         ::testing::Values("resend", "sendgrid", "mailgun"));

TEST(TrackingE2eDisconnect, DisconnectingTakesHeraldsWebhookBackFromTheProvider) {
  // Invariant: DELETE …/integrations/email on a running server removes the webhook Herald
  // registered for the account from the provider (here SendGrid's Event Webhook settings,
  // as the sandbox lists them), and the agent is disconnected.
  Stack stack;
  Client api = stack.api();
  const std::string agent = new_agent(api, "Leaving");
  const std::string key = "SG.leaving_key_0001.abcdefghijklmnop";
  auto put =
      api.put("/api/v1/agents/" + agent + "/integrations/email",
              {{"provider", "sendgrid"}, {"apiKey", key}, {"fromEmail", "office@leaving.com"}});
  ASSERT_EQ(put.status, 200) << put.raw;
  expect_tracking_on(api, agent, "email");
  const std::string receiver = integration(api, agent, "email")["tracking"]["receiverUrl"];
  Client provider = stack.sandbox(key);
  auto before = provider.get("/v3/user/webhooks/event/settings/all");
  ASSERT_EQ(before.status, 200) << before.raw;
  ASSERT_EQ(before.body["webhooks"].size(), 1u) << before.raw;
  EXPECT_EQ(before.body["webhooks"][0]["url"], receiver);

  auto gone = api.del("/api/v1/agents/" + agent + "/integrations/email");
  ASSERT_EQ(gone.status, 204) << gone.raw;
  auto after = provider.get("/v3/user/webhooks/event/settings/all");
  ASSERT_EQ(after.status, 200) << after.raw;
  EXPECT_TRUE(after.body["webhooks"].empty()) << after.raw;
  EXPECT_TRUE(integration(api, agent, "email").is_null());
}

TEST(TrackingE2eSms, TwilioStatusCallbacksMarkEachTextDeliveredOrNot) {
  Stack stack(std::map<std::string, std::string>{{"HERALD_SMS_SEND_WINDOW", "00:00-24:00"}});
  Client api = stack.api();
  const std::string agent = new_agent(api, "Tracked SMS");
  auto put = api.put("/api/v1/agents/" + agent + "/integrations/sms",
                     {{"provider", "twilio"},
                      {"accountSid", "AC22222222222222222222222222222222"},
                      {"authToken", "trackedtwilioauthtoken01"},
                      {"phoneNumber", "+13105551234"}});
  ASSERT_EQ(put.status, 200) << put.raw;
  EXPECT_EQ(put.body["tracking"]["status"], "on") << put.raw;
  // 415-201-2001 is delivered; a number ending 0005 is unknown to its carrier (30005).
  import_csv(api, agent,
             "name,phone,role,tags,consentSms\n"
             "Ann,+14152012001,buyer,tracked,yes\n"
             "Ben,+14152010005,buyer,tracked,yes\n",
             2);
  launch(api, agent, "sms");
  std::map<std::string, json> by;
  const bool settled = eventually(
      [&] {
        by = messages_by_recipient(api, agent);
        return status_of(by, "+14152012001") == "delivered" &&
               status_of(by, "+14152010005") == "failed";
      },
      kDeadline);
  EXPECT_TRUE(settled) << by["+14152012001"].dump() << "\n" << by["+14152010005"].dump();
  auto detail = api.get("/api/v1/messages/" + by["+14152010005"]["id"].get<std::string>());
  bool explained = false;
  for (const auto& e : detail.body["deliveryEvents"])
    explained |= e.value("reason", "").find("unknown or inactive number") != std::string::npos;
  EXPECT_TRUE(explained) << detail.raw;
}

}  // namespace
}  // namespace herald::e2e
