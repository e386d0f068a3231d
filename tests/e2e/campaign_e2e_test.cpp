// Campaigns end to end: real `herald serve` and `herald sandbox` processes over real HTTP. A
// crash mid-campaign loses nothing and (where the provider dedupes) duplicates nothing; welcome
// emails never queue behind a campaign; one agent's big campaign does not hold up another's.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <iostream>
#include <set>

#include "delivery/dispatcher.h"
#include "e2e/harness.h"

namespace herald::e2e {
namespace {

using namespace std::chrono_literals;

// Messages one send worker claims per pass, as `herald serve` configures its dispatcher (it
// keeps DispatcherOptions' claim sizes). Outcomes are recorded when a pass ends, so after a
// crash at most workers × this many messages can have reached the provider without Herald
// knowing.
int claim_per_pass() {
  delivery::DispatcherOptions defaults;
  return std::max(defaults.batch, defaults.campaign_batch);
}

constexpr auto kDeadline = 90s;

// Herald's environment for campaign tests: the SMS send window open around the clock, so quiet
// hours never defer a test's messages, plus `extra`.
std::map<std::string, std::string> campaign_env(std::map<std::string, std::string> extra = {}) {
  std::map<std::string, std::string> env = {{"HERALD_SMS_SEND_WINDOW", "00:00-24:00"}};
  for (auto& [k, v] : extra) env[k] = v;
  return env;
}

// An agent with the branding an email campaign needs (company name and postal address).
std::string branded_agent(Client& api, const std::string& company) {
  std::string slug = new_id().substr(24);  // the random tail of a UUIDv7
  auto r = api.post("/api/v1/agents", {{"name", company + " Agent"},
                                       {"email", "agent-" + slug + "@example-realty.com"}});
  EXPECT_EQ(r.status, 201) << r.raw;
  std::string id = r.body["id"];
  auto b = api.put("/api/v1/agents/" + id + "/branding",
                   {{"companyName", company},
                    {"replyEmail", "office-" + slug + "@example-realty.com"},
                    {"postalAddress", "9 Ocean Ave, Santa Monica, CA 90401"}});
  EXPECT_EQ(b.status, 200) << b.raw;
  return id;
}

void connect_email(Client& api, const std::string& agent, const std::string& provider,
                   const std::string& key, const std::string& from) {
  auto r = api.put("/api/v1/agents/" + agent + "/integrations/email",
                   {{"provider", provider}, {"apiKey", key}, {"fromEmail", from}});
  ASSERT_EQ(r.status, 200) << r.raw;
}

void connect_twilio(Client& api, const std::string& agent, const std::string& sid) {
  auto r = api.put("/api/v1/agents/" + agent + "/integrations/sms",
                   {{"provider", "twilio"},
                    {"accountSid", sid},
                    {"authToken", "agenttwilioauthtoken0001"},
                    {"phoneNumber", "+13105551234"}});
  ASSERT_EQ(r.status, 200) << r.raw;
}

std::string email_of(const std::string& prefix, int i) {
  return prefix + std::to_string(i) + "@example.com";
}

// E.164 numbers in a valid San Francisco range, distinct per (base, i).
std::string phone_of(int base, int i) {
  return "+1415" + std::to_string(2000000 + base + i);
}

// Imports `n` buyers tagged `tag`, consenting to email and SMS, via the CSV endpoint.
void import_contacts(Client& api, const std::string& agent, const std::string& tag,
                     const std::string& email_prefix, int phone_base, int n) {
  std::string csv = "name,email,phone,role,tags,consentEmail,consentSms\n";
  for (int i = 0; i < n; ++i) {
    csv += "Buyer " + std::to_string(i) + "," + email_of(email_prefix, i) + "," +
           phone_of(phone_base, i) + ",buyer," + tag + ",yes,yes\n";
  }
  auto r = api.call("POST", "/api/v1/agents/" + agent + "/contacts/import", csv, "text/csv");
  ASSERT_EQ(r.status, 200) << r.raw.substr(0, 500);
  ASSERT_EQ(r.body["imported"], n) << r.raw.substr(0, 500);
}

// Creates and launches a campaign to the contacts tagged `tag`; returns its id.
std::string launch_campaign(Client& api, const std::string& agent, const std::string& channel,
                            const std::string& tag) {
  auto c = api.post("/api/v1/agents/" + agent + "/campaigns",
                    campaign_body(api, agent, channel, tag, "Campaign " + tag));
  EXPECT_EQ(c.status, 201) << c.raw;
  std::string id = c.body.value("id", "");
  auto l = api.post("/api/v1/agents/" + agent + "/campaigns/" + id + "/launch", json::object());
  EXPECT_EQ(l.status, 200) << l.raw;
  return id;
}

json campaign(Client& api, const std::string& agent, const std::string& id) {
  return api.get("/api/v1/agents/" + agent + "/campaigns/" + id).body;
}

std::int64_t sent_count(Client& api, const std::string& agent, const std::string& id) {
  return campaign(api, agent, id)["counts"].value("sent", std::int64_t{0});
}

// Slows every send request to `provider` by `delay_ms` (the sandbox answers late, after it
// has recorded the message).
void slow_provider(Stack& stack, const std::string& provider, int delay_ms) {
  auto f = stack.sandbox().post(
      "/sandbox/faults", {{"provider", provider}, {"delayMs", delay_ms}, {"count", 1000000}});
  ASSERT_EQ(f.status, 201) << f.raw;
}

std::uint64_t provider_count(Stack& stack, const std::string& provider) {
  return stack.sandbox_stats()["byProvider"].value(provider, std::uint64_t{0});
}

// How many messages `to` has received, by the sandbox's own recipient filter.
std::size_t received_by(Stack& stack, const std::string& to) {
  auto r = stack.sandbox().get("/sandbox/messages?to=" + to);
  return r.body["items"].size();
}

json listing(const std::string& email) {
  return {{"address", "742 Evergreen Terrace"},
          {"price", 650000},
          {"seller", {{"name", "Seller " + email}, {"email", email}}}};
}

// Each test runs on both stores (SQLite, PostgreSQL): the parameter names the store.
class CampaignE2e : public ::testing::TestWithParam<std::string> {};

// ---- crash mid-campaign, then restart ----

struct CrashCase {
  std::string provider;  // as the sandbox names it
  std::string channel;
  bool idempotent;         // the provider dedupes re-sends by idempotency key
  std::string rate_limit;  // HERALD_RATE_LIMIT_<PROVIDER>: requests per second per account
  int delay_ms;            // how late the sandbox answers each send request
  // Kill only once Herald has recorded some sends (else: as soon as requests are in flight).
  bool kill_after_first_records;
};

// SIGKILLs `herald serve` while a campaign through the agent's own `c.provider` account is
// partly sent, restarts it on the same data directory, and checks that the campaign finishes
// with every recipient reached. Returns the number of duplicate deliveries.
int crash_mid_campaign(const std::string& store, const CrashCase& c) {
  const int n = 3000;
  const int workers = 2;
  std::string upper = c.provider;
  for (char& ch : upper) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  // The sandbox answers late, so requests are in flight when the kill lands; the account's rate
  // limit spreads the campaign over a few seconds.
  Stack stack(store, campaign_env({{"HERALD_WORKERS", std::to_string(workers)},
                                   {"HERALD_RATE_LIMIT_" + upper, c.rate_limit}}));
  Client api = stack.api();
  std::string agent = branded_agent(api, "Crash Test Realty");
  if (c.provider == "twilio") {
    connect_twilio(api, agent, "AC22222222222222222222222222222222");
  } else {
    std::string key = c.provider == "resend" ? "re_agent_crash_RSND" : "SG.agent-crash-SGRD";
    connect_email(api, agent, c.provider, key, "office@crashtestrealty.com");
  }
  import_contacts(api, agent, "crash", "crash", 0, n);
  slow_provider(stack, c.provider, c.delay_ms);
  std::string id = launch_campaign(api, agent, c.channel, "crash");
  EXPECT_EQ(campaign(api, agent, id)["counts"]["total"], n);

  // Kill once 10% have reached the provider (and, where asked, Herald has recorded 10% as sent)
  // while more are in flight; by then the sandbox must not have 90%. What Herald had recorded
  // as sent just before the kill bounds what it can send again.
  std::uint64_t before_kill = 0;
  std::int64_t recorded_before_kill = 0;
  bool partial = eventually(
      [&] {
        recorded_before_kill = sent_count(api, agent, id);
        before_kill = provider_count(stack, c.provider);
        return before_kill >= n / 10 &&
               before_kill > static_cast<std::uint64_t>(recorded_before_kill) &&
               (!c.kill_after_first_records || recorded_before_kill >= n / 10);
      },
      kDeadline);
  EXPECT_TRUE(partial) << "the campaign never got going; herald log:\n" << stack.herald_log();
  EXPECT_LE(before_kill, static_cast<std::uint64_t>(n * 9 / 10)) << "the kill came too late";
  stack.kill_herald();
  std::uint64_t at_kill = provider_count(stack, c.provider);
  EXPECT_LT(at_kill, static_cast<std::uint64_t>(n)) << "the campaign was done before the kill";

  // Restart on the same data directory with the provider answering at once.
  stack.sandbox().call("DELETE", "/sandbox/faults");
  stack.start_herald();
  api = stack.api();
  json done;
  bool completed = eventually(
      [&] {
        done = campaign(api, agent, id);
        return done["status"] == "completed";
      },
      kDeadline);
  EXPECT_TRUE(completed) << done.dump() << "\nherald log:\n" << stack.herald_log();
  EXPECT_EQ(done["counts"]["total"], n) << done.dump();
  EXPECT_EQ(done["counts"]["sent"], n) << done.dump();
  EXPECT_EQ(done["counts"]["failed"], 0)
      << api.get("/api/v1/agents/" + agent + "/messages?status=failed&limit=1").raw;
  EXPECT_EQ(done["counts"]["queued"], 0) << done.dump();
  EXPECT_EQ(done["counts"]["suppressed"], 0) << done.dump();

  // Every recipient reached; count re-sends.
  auto got = stack.recipient_counts(c.provider);
  int duplicates = 0;
  int missing = 0;
  for (int i = 0; i < n; ++i) {
    std::string to = c.channel == "email" ? email_of("crash", i) : phone_of(0, i);
    auto it = got.find(to);
    if (it == got.end()) {
      ++missing;
      continue;
    }
    if (c.idempotent) {
      EXPECT_EQ(it->second, 1) << to << " received more than once";
    }
    duplicates += it->second - 1;
  }
  EXPECT_EQ(missing, 0) << "recipients never reached";
  EXPECT_EQ(got.size(), static_cast<std::size_t>(n)) << "messages to addresses not in the audience";
  json stats = stack.sandbox_stats();
  if (c.idempotent) {
    EXPECT_EQ(stats["duplicates"], 0) << stats.dump();
  }
  // Only what reached the provider without Herald recording it can go out twice: at most what
  // the workers had claimed, and at most what the provider had beyond Herald's sent count.
  const int window = workers * claim_per_pass();
  EXPECT_LE(duplicates, window);
  EXPECT_LE(duplicates, static_cast<std::int64_t>(at_kill) - recorded_before_kill);
  std::cout << "[ crash/" << c.provider << "/" << store << " ] killed with " << at_kill << " of "
            << n << " at the provider (" << recorded_before_kill << " recorded sent); "
            << duplicates << " duplicate(s) after restart (window " << window << ")\n";
  return duplicates;
}

TEST_P(CampaignE2e, CrashMidCampaignThenRestartSendsEachResendEmailExactlyOnce) {
  // Invariant: a campaign survives a SIGKILL mid-send; Resend's idempotency keys make every
  // recipient get exactly one email.
  int duplicates = crash_mid_campaign(GetParam(), {"resend", "email", true, "4", 500, true});
  RecordProperty("duplicates", duplicates);
}

TEST_P(CampaignE2e, CrashMidCampaignThenRestartReachesEverySendGridRecipient) {
  // Invariant: without idempotency keys (SendGrid) a crash loses nothing, and only messages in
  // flight at the crash (workers × claim) may be delivered twice.
  int duplicates = crash_mid_campaign(GetParam(), {"sendgrid", "email", false, "1", 500, false});
  RecordProperty("duplicates", duplicates);
}

TEST_P(CampaignE2e, CrashMidCampaignThenRestartReachesEveryTwilioRecipient) {
  // Invariant: an SMS campaign through Twilio (no idempotency keys) survives a crash: every
  // recipient reached, re-sends bounded by the in-flight window.
  int duplicates = crash_mid_campaign(GetParam(), {"twilio", "sms", false, "10000", 300, true});
  RecordProperty("duplicates", duplicates);
}

// ---- transactional lane ----

TEST_P(CampaignE2e, WelcomeEmailsGoOutWhileACampaignIsStillSending) {
  // Invariant: a listing's welcome email never waits for a campaign's backlog — neither for
  // another agent nor for the campaign's own agent, which only shares its account's rate budget.
  const int n = 3000;
  // One request per second per Resend account (100 emails per request): the campaign needs
  // ~30 s; the other agent's welcome goes through the platform's account, this agent's through
  // its own, the campaign's.
  Stack stack(GetParam(), campaign_env({{"HERALD_RATE_LIMIT_RESEND", "1"}}));
  Client api = stack.api();
  std::string busy = branded_agent(api, "Busy Realty");
  connect_email(api, busy, "resend", "re_busy_agent_key_BUSY", "matt@busyrealty.com");
  std::string other = branded_agent(api, "Other Realty");
  import_contacts(api, busy, "everyone", "lane", 0, n);
  std::string id = launch_campaign(api, busy, "email", "everyone");

  // The campaign is in full swing: all of it queued, the account's burst spent.
  ASSERT_TRUE(eventually(
      [&] {
        json c = campaign(api, busy, id);
        return c["counts"].value("fannedOut", 0) == n && c["counts"].value("sent", 0) >= 200;
      },
      kDeadline))
      << campaign(api, busy, id).dump();

  ASSERT_EQ(
      api.post("/api/v1/agents/" + other + "/listings", listing("other-seller@example.com")).status,
      201);
  ASSERT_EQ(
      api.post("/api/v1/agents/" + busy + "/listings", listing("busy-seller@example.com")).status,
      201);

  // Note how far the campaign had got when each welcome email reached the provider.
  std::map<std::string, std::int64_t> sent_when_seen;
  bool both = eventually(
      [&] {
        for (const std::string to : {"other-seller@example.com", "busy-seller@example.com"}) {
          // Read after the arrival, so it may count a few more campaign sends, never fewer.
          if (!sent_when_seen.contains(to) && received_by(stack, to) > 0)
            sent_when_seen[to] = sent_count(api, busy, id);
        }
        return sent_when_seen.size() == 2;
      },
      kDeadline);
  ASSERT_TRUE(both) << "welcome emails seen: " << sent_when_seen.size() << "; campaign "
                    << campaign(api, busy, id).dump();
  for (const auto& [to, sent] : sent_when_seen) {
    std::cout << "[ lane ] " << to << " reached the provider when the campaign had sent " << sent
              << " of " << n << "\n";
    EXPECT_LT(sent, n / 2) << to << " waited behind the campaign";
  }
  auto other_welcome = stack.received("other-seller@example.com");
  ASSERT_EQ(other_welcome.size(), 1u);
  EXPECT_EQ(other_welcome[0]["account"], "…0001");  // the platform's Resend key
  auto busy_welcome = stack.received("busy-seller@example.com");
  ASSERT_EQ(busy_welcome.size(), 1u);
  EXPECT_EQ(busy_welcome[0]["account"], "…BUSY");
  EXPECT_EQ(
      api.post("/api/v1/agents/" + busy + "/campaigns/" + id + "/cancel", json::object()).status,
      200);
}

// ---- fairness between agents ----

struct Race {
  std::uint64_t a_at_b_launch = 0;  // A's messages at the provider when B launched
  std::uint64_t a_at_b_done = 0;    // ... when the last of B's reached it
};

// Agent A launches a big email campaign (contacts tagged "big"); once it is all queued and
// reaching the provider, agent B launches a small one ("small", addresses small<i>@…). Both go
// through `provider`, whose sandbox count is A's plus B's.
Race race(Stack& stack, const std::string& provider, const std::string& a, const std::string& b,
          int n_a, int n_b) {
  Client api = stack.api();
  Race out;
  std::string ca = launch_campaign(api, a, "email", "big");
  EXPECT_TRUE(eventually(
      [&] {
        return campaign(api, a, ca)["counts"].value("fannedOut", 0) == n_a &&
               provider_count(stack, provider) > 0;
      },
      kDeadline))
      << campaign(api, a, ca).dump();
  out.a_at_b_launch = provider_count(stack, provider);
  std::string cb = launch_campaign(api, b, "email", "small");
  std::set<int> waiting;
  for (int i = 0; i < n_b; ++i) waiting.insert(i);
  bool arrived = eventually(
      [&] {
        std::erase_if(waiting, [&](int i) { return received_by(stack, email_of("small", i)) > 0; });
        if (!waiting.empty()) return false;
        // Read after B's last arrival, so it may count a few more of A's, never fewer.
        out.a_at_b_done = provider_count(stack, provider) - static_cast<std::uint64_t>(n_b);
        return true;
      },
      kDeadline);
  EXPECT_TRUE(arrived) << waiting.size() << " of B's messages never arrived; B's campaign "
                       << campaign(api, b, cb).dump();
  EXPECT_TRUE(eventually([&] { return campaign(api, b, cb)["status"] == "completed"; }, kDeadline));
  for (int i = 0; i < n_b; ++i) EXPECT_EQ(received_by(stack, email_of("small", i)), 1u) << i;
  EXPECT_EQ(api.post("/api/v1/agents/" + a + "/campaigns/" + ca + "/cancel", json::object()).status,
            200);
  return out;
}

// Agent A's 3,000-recipient campaign, then agent B's 20-recipient one, at 200 emails/s per
// Resend account: each agent through its own account, or both through the platform's. Checks
// that B's went out while A sent less than a third of its campaign.
void expect_small_campaign_not_stuck_behind_big_one(const std::string& store, bool own_accounts,
                                                    const char* label) {
  const int n_a = 3000, n_b = 20;
  Stack stack(store, campaign_env({{"HERALD_RATE_LIMIT_RESEND", "2"}}));  // 200 emails/s each
  Client api = stack.api();
  std::string a = branded_agent(api, "Big Realty");
  std::string b = branded_agent(api, "Small Realty");
  if (own_accounts) {
    connect_email(api, a, "resend", "re_big_agent_key_BIGA", "big@bigrealty.com");
    connect_email(api, b, "resend", "re_small_agent_key_SMLB", "small@smallrealty.com");
  }
  import_contacts(api, a, "big", "big", 0, n_a);
  import_contacts(api, b, "small", "small", 100000, n_b);
  Race r = race(stack, "resend", a, b, n_a, n_b);
  std::cout << "[ " << label << " ] A had " << r.a_at_b_launch << " of " << n_a
            << " at the provider when B launched and " << r.a_at_b_done << " when all " << n_b
            << " of B's had arrived\n";
  EXPECT_LT(r.a_at_b_done - r.a_at_b_launch, static_cast<std::uint64_t>(n_a / 3))
      << "B's campaign waited for A's backlog";
}

TEST_P(CampaignE2e, SmallCampaignIsNotStuckBehindAnotherAgentsBigOneOnItsOwnAccount) {
  // Invariant: each agent spends only its own account's budget: B's small campaign goes out at
  // once while A's big one is held to A's rate limit.
  expect_small_campaign_not_stuck_behind_big_one(GetParam(), /*own_accounts=*/true, "fairness/own");
}

TEST_P(CampaignE2e, SmallCampaignIsNotStuckBehindAnotherAgentsBigOneOnThePlatformsAccount) {
  // Invariant: two branding-only agents share the platform's Resend budget; the one who
  // launches second gets a fair share of it at once instead of waiting for the first one's
  // backlog.
  //
  // (Claims share each pass between the agents with queued messages, and within a pass the
  // agents take turns filling the account's batches, so B's emails ride in A's next request.
  // A fair share of 2 requests/s gets B's 20 emails out within a request or two, while A
  // sends a few hundred; waiting in line behind A's backlog costs A's whole remaining queue.)
  expect_small_campaign_not_stuck_behind_big_one(GetParam(), /*own_accounts=*/false,
                                                 "fairness/shared");
}

HERALD_E2E_STORES(CampaignE2e);

// ---- several processes on one PostgreSQL database ----

// The campaign's JSON, or null while Herald cannot answer (its database is restarting).
json campaign_or_null(Client& api, const std::string& agent, const std::string& id) {
  auto r = api.get("/api/v1/agents/" + agent + "/campaigns/" + id);
  return r.status == 200 ? r.body : json();
}

// Waits for the campaign to complete; returns its last JSON.
json completed_campaign(Client& api, const std::string& agent, const std::string& id) {
  json c;
  eventually(
      [&] {
        c = campaign_or_null(api, agent, id);
        return c.is_object() && c.value("status", "") == "completed";
      },
      kDeadline);
  return c;
}

// How many of the campaign's recipients `to` the sandbox has from `provider` never got, and
// how many got more than one message.
std::pair<int, int> missing_and_twice(Stack& stack, const std::string& provider,
                                      const std::vector<std::string>& to) {
  auto got = stack.recipient_counts(provider);
  int missing = 0, twice = 0;
  for (const std::string& address : to) {
    auto it = got.find(address);
    if (it == got.end()) ++missing;
    if (it != got.end() && it->second > 1) ++twice;
  }
  return {missing, twice};
}

// The addresses import_contacts gives `n` contacts on `channel`.
std::vector<std::string> addresses(const std::string& channel, const std::string& prefix,
                                   int phone_base, int n) {
  std::vector<std::string> out;
  for (int i = 0; i < n; ++i)
    out.push_back(channel == "email" ? email_of(prefix, i) : phone_of(phone_base, i));
  return out;
}

// How many lines of `log` contain `text`.
int lines_with(const std::string& log, const std::string& text) {
  int n = 0;
  for (auto at = log.find(text); at != std::string::npos; at = log.find(text, at + 1)) ++n;
  return n;
}

TEST(CampaignE2ePostgres, WorkerProcessesBesideAServeThatSendsNothingReachEachRecipientOnce) {
  // Invariant: with `herald serve` taking requests only (HERALD_WORKERS=0) and two `herald
  // worker` processes sending from the same database, a welcome email and a campaign through a
  // provider without idempotency keys (SendGrid) reach every recipient exactly once; a worker
  // stops cleanly on SIGTERM.
  const int n = 600;
  Stack stack("postgres", campaign_env({{"HERALD_WORKERS", "0"}}));
  EXPECT_NE(stack.herald_log().find("no send workers in this process"), std::string::npos)
      << stack.herald_log();
  Client api = stack.api();
  std::string agent = branded_agent(api, "Shared Realty");
  connect_email(api, agent, "sendgrid", "SG.shared-agent-key-SHRD", "office@sharedrealty.com");
  import_contacts(api, agent, "shared", "shared", 0, n);
  ASSERT_EQ(api.post("/api/v1/agents/" + agent + "/listings", listing("shared-seller@example.com"))
                .status,
            201);
  std::string id = launch_campaign(api, agent, "email", "shared");
  Process& w1 = stack.start_worker({{"HERALD_WORKERS", "2"}});
  Process& w2 = stack.start_worker({{"HERALD_WORKERS", "2"}});

  json done = completed_campaign(api, agent, id);
  EXPECT_EQ(done.value("status", ""), "completed") << done.dump();
  EXPECT_EQ(done["counts"].value("sent", 0), n) << done.dump();
  auto [missing, twice] = missing_and_twice(stack, "sendgrid", addresses("email", "shared", 0, n));
  EXPECT_EQ(missing, 0) << "recipients never reached";
  EXPECT_EQ(twice, 0) << "recipients reached more than once";
  ASSERT_TRUE(eventually([&] { return received_by(stack, "shared-seller@example.com") > 0; }));
  EXPECT_EQ(received_by(stack, "shared-seller@example.com"), 1u);
  EXPECT_EQ(w1.stop(SIGTERM), 0) << w1.log_text();
  EXPECT_EQ(w2.stop(SIGTERM), 0) << w2.log_text();
  EXPECT_NE(w1.log_text().find("stopping"), std::string::npos) << w1.log_text();
}

TEST(CampaignE2ePostgres, ARestartOfPostgresMidCampaignLosesNothingAndSendsNothingTwice) {
  // Invariant: when the PostgreSQL server restarts under a running `herald serve` in the middle
  // of a campaign, every recipient is still reached exactly once (Twilio has no idempotency
  // keys, so a re-send would show): workers wait for the database with what they sent, then
  // carry on; the outage is logged once, not once per loop.
  const int n = 1500;
  Stack stack("postgres",
              campaign_env({{"HERALD_WORKERS", "2"}, {"HERALD_RATE_LIMIT_TWILIO", "150"}}));
  Client api = stack.api();
  std::string agent = branded_agent(api, "Restart Realty");
  connect_twilio(api, agent, "AC33333333333333333333333333333333");
  import_contacts(api, agent, "restart", "restart", 0, n);
  // One text per request, answered late: requests are in flight when the server goes away.
  slow_provider(stack, "twilio", 300);
  std::string id = launch_campaign(api, agent, "sms", "restart");
  ASSERT_TRUE(eventually([&] { return provider_count(stack, "twilio") >= n / 5; }, kDeadline))
      << "the campaign never got going; herald log:\n"
      << stack.herald_log();

  stack.restart_database();
  const std::uint64_t at_restart = provider_count(stack, "twilio");
  EXPECT_LT(at_restart, static_cast<std::uint64_t>(n * 3 / 4)) << "the restart came too late";

  json done = completed_campaign(api, agent, id);
  EXPECT_EQ(done.value("status", ""), "completed") << done.dump() << "\n" << stack.herald_log();
  ASSERT_TRUE(done.is_object());
  EXPECT_EQ(done["counts"].value("sent", 0), n) << done.dump();
  EXPECT_EQ(done["counts"].value("failed", 0), 0) << done.dump();
  auto [missing, twice] = missing_and_twice(stack, "twilio", addresses("sms", "restart", 0, n));
  EXPECT_EQ(missing, 0) << "recipients never reached";
  EXPECT_EQ(twice, 0) << "recipients reached more than once";
  EXPECT_EQ(stack.recipient_counts("twilio").size(), static_cast<std::size_t>(n));
  const std::string log = stack.herald_log();
  EXPECT_EQ(lines_with(log, "the database cannot be reached"), 1) << log;
  EXPECT_EQ(lines_with(log, "the database answers again"), 1) << log;
  // The tracking worker waits the outage out too, without an error per round.
  EXPECT_EQ(lines_with(log, "tracking: "), 0) << log;
  EXPECT_EQ(lines_with(log, "tracking set-up: "), 0) << log;
  std::cout << "[ pg-restart ] restarted with " << at_restart << " of " << n
            << " at the provider\n";
}

}  // namespace
}  // namespace herald::e2e
