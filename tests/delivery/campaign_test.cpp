// Campaigns end to end in one process: workers taking audiences in chunks, sending through the
// sandbox over real HTTP, lifecycle (launch / pause / resume / cancel), chunks of a stopped
// worker queued again, and no duplicates on resume.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>

#include "app/agents.h"
#include "app/campaigns.h"
#include "app/delivery_sources.h"
#include "app/listings.h"
#include "app/templates.h"
#include "core/id.h"
#include "delivery/dispatcher.h"
#include "net/http_client.h"
#include "sandbox/sandbox.h"
#include "store/sqlite/db.h"
#include "support/accounts.h"

namespace herald::delivery {
namespace {

namespace fs = std::filesystem;

class CampaignTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = std::make_unique<http::Server>(http::ServerOptions{}, sandbox_.handler());
    url_ = "http://127.0.0.1:" + std::to_string(server_->start());
    dir_ = fs::temp_directory_path() / ("herald-campaign-" + new_id());
    app::Config config;
    config.database_url = dir_.string();
    config.public_url = "https://herald.example.com";
    auto& p = config.platform;
    test::platform_email(p);
    test::all_providers_at(p, url_);
    auto store = store::open_store(dir_.string());
    ASSERT_TRUE(store.has_value());
    app_ = std::make_unique<app::App>(config, std::move(*store),
                                      secrets::Sealer(secrets::MasterKey::generate()), clock_);
    DispatcherOptions options;
    options.batch = 64;
    options.rate_limits["resend"] = 100000;
    dispatcher_ = std::make_unique<Dispatcher>(app::dispatcher_parts(*app_), options,
                                               [] { return net::make_curl_client(); });
    http_ = net::make_curl_client();
    agent_ = app::create_agent(*app_, {"Lisa Park", "lisa@sunsetprops.com"})->id;
    ASSERT_TRUE(app::put_branding(*app_, agent_,
                                  Branding{"Sunset Properties", "lisa@sunsetprops.com", "", "", "",
                                           "9 Ocean Ave, Santa Monica, CA"}));
  }
  void TearDown() override {
    dispatcher_.reset();
    app_.reset();
    server_->stop();
    fs::remove_all(dir_);
  }

  void contacts(int n, const std::string& role = "buyer") {
    for (int i = 0; i < n; ++i) {
      store::Contact c;
      c.id = new_id();
      c.agent_id = agent_;
      c.name = "Buyer " + std::to_string(i);
      c.email = role + std::to_string(i) + "@example.com";
      c.role = role;
      c.consent_email = true;
      c.created_at = c.updated_at = clock_.now();
      ASSERT_TRUE(app_->store().contacts().create_contact(c).has_value());
    }
  }

  store::Campaign campaign(const std::vector<std::string>& roles = {"buyer"}) {
    auto c = app::create_campaign(
        *app_, agent_, {"November update", "email", "market_update", roles, {}, std::nullopt});
    EXPECT_TRUE(c.has_value()) << (c ? "" : c.error().message);
    return *c;
  }

  // Runs the scheduler's step and send passes until nothing moves.
  void drain() {
    for (int i = 0; i < 1000; ++i) {
      auto active = queue().advance_campaigns(clock_.now());
      ASSERT_TRUE(active.has_value()) << active.error().message;
      if (dispatcher_->run_once(*http_) == 0) {
        ASSERT_TRUE(
            queue().advance_campaigns(clock_.now()).has_value());  // completes what finished
        return;
      }
    }
  }

  // A dispatcher whose passes take `n` messages at most.
  std::unique_ptr<Dispatcher> small_passes(int n) {
    DispatcherOptions options;
    options.batch = n;
    options.campaign_batch = n;
    options.rate_limits["resend"] = 100000;
    return std::make_unique<Dispatcher>(app::dispatcher_parts(*app_), options,
                                        [] { return net::make_curl_client(); });
  }

  void contact(const std::string& name, const std::string& email) {
    store::Contact c;
    c.id = new_id();
    c.agent_id = agent_;
    c.name = name;
    c.email = email;
    c.role = "buyer";
    c.consent_email = true;
    c.created_at = c.updated_at = clock_.now();
    ASSERT_TRUE(app_->store().contacts().create_contact(c).has_value());
  }

  // Checks every delivered message against the oracle — the template rendered for that one
  // message, as a single send would carry it — and returns the delivered items.
  nlohmann::json expect_each_rendered_exactly() {
    auto agent = app::load_agent(*app_, agent_);
    EXPECT_TRUE(agent.has_value());
    auto resolved = app::resolve_template(*app_, agent_, "market_update", Channel::email);
    EXPECT_TRUE(resolved.has_value());
    TemplateRenderer renderer(resolved->compiled, *agent, app_->platform().name);
    auto items = sandbox_messages();
    std::set<std::string> unsubscribe_links;
    for (const auto& item : items) {
      auto detail = app_->store().find_message(item["heraldMessageId"].get<std::string>(), agent_);
      EXPECT_TRUE(detail.has_value() && detail->has_value());
      if (!detail || !*detail) continue;
      const Message& m = (*detail)->message;
      EXPECT_EQ(m.status, MessageStatus::sent);
      std::string header = item["headers"]["List-Unsubscribe"].get<std::string>();
      std::string link = header.substr(1, header.find('>') - 1);
      EXPECT_TRUE(link.starts_with("https://herald.example.com/u/")) << header;
      unsubscribe_links.insert(link);
      auto vars = nlohmann::json::parse(m.vars_json);
      vars["unsubscribeUrl"] = link;
      auto expected = renderer.render(vars);
      EXPECT_TRUE(expected.has_value());
      if (!expected) continue;
      EXPECT_EQ(item["subject"], expected->subject);
      EXPECT_EQ(item["html"], expected->html);
      EXPECT_EQ(item["text"], expected->text);
      EXPECT_EQ(m.subject, expected->subject) << "the log keeps the subject";
      EXPECT_TRUE(m.html.empty()) << "campaign bodies are not copied into every message";
    }
    EXPECT_EQ(unsubscribe_links.size(), items.size());
    return items;
  }

  // The queue the dispatcher works on (the app's store).
  StoreQueue queue() { return StoreQueue(app_->store()); }

  // Takes `n` recipients of the running campaigns as a worker would, leased until `lease`.
  std::vector<Message> take(int n, TimePoint lease, std::vector<TakenChunk>& chunks) {
    std::vector<Message> taken;
    auto r = queue().take_campaign_recipients(clock_.now(), n, "w1", lease, taken, chunks);
    EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().message);
    return taken;
  }

  // A worker's outcome for a message it took from an audience (one attempt).
  store::Outcome taken_outcome(const Message& m, MessageStatus status) {
    store::Outcome o;
    o.message_id = m.id;
    o.agent_id = m.agent_id;
    o.status = status;
    o.attempts = 1;
    o.next_attempt_at = clock_.now();
    o.fresh = &m;
    return o;
  }

  nlohmann::json sandbox_messages() {
    auto r = http_->perform(HttpRequest{"GET", url_ + "/sandbox/messages", {}, ""});
    return nlohmann::json::parse(r->body)["items"];
  }

  SystemTime clock_;
  sandbox::Sandbox sandbox_;
  std::unique_ptr<http::Server> server_;
  std::string url_;
  fs::path dir_;
  std::unique_ptr<app::App> app_;
  std::unique_ptr<Dispatcher> dispatcher_;
  std::unique_ptr<net::HttpClient> http_;
  std::string agent_;
};

TEST_F(CampaignTest, EveryRecipientInTheAudienceGetsExactlyOneBrandedMessage) {
  // Invariant: a launched campaign reaches each audience member once, via the resolved route.
  contacts(60, "buyer");
  contacts(5, "seller");
  auto c = campaign({"buyer"});
  auto launched = app::launch_campaign(*app_, agent_, c.id);
  ASSERT_TRUE(launched.has_value()) << launched.error().message;
  EXPECT_EQ(launched->total, 60);
  drain();
  auto items = sandbox_messages();
  ASSERT_EQ(items.size(), 60u);
  std::set<std::string> to;
  for (const auto& m : items) {
    to.insert(m["to"].get<std::string>());
    EXPECT_EQ(m["from"], "Sunset Properties <noreply@platform.com>");
    EXPECT_NE(m["html"].get<std::string>().find("9 Ocean Ave, Santa Monica, CA"),
              std::string::npos);
  }
  EXPECT_EQ(to.size(), 60u);
  auto done = app::get_campaign(*app_, agent_, c.id);
  EXPECT_EQ(done->status, store::CampaignStatus::completed);
  auto counts = app_->store().campaigns().counts(agent_, c.id);
  EXPECT_EQ(counts->sent, 60);
  EXPECT_EQ(counts->queued, 0);
}

// SendGrid and Mailgun batch a campaign as one shared content with per-recipient values.
class SharedContentCampaignTest : public CampaignTest,
                                  public ::testing::WithParamInterface<const char*> {
 protected:
  // Connects the agent's own account of the provider under test (a revoked key when asked).
  void connect(bool revoked = false) {
    std::string provider = GetParam();
    std::string key = provider == "sendgrid" ? "SG.agent-key-0001" : "key-agent-1";
    if (revoked) key = "revoked-" + key;
    test::EmailAccount connect{provider, key, "lisa@sunsetprops.com",
                               provider == "mailgun" ? "mg.sunsetprops.com" : "", ""};
    ASSERT_TRUE(test::connect_email(*app_, agent_, connect).has_value());
  }
};

TEST_P(SharedContentCampaignTest, EachRecipientGetsExactlyItsOwnRenderingFromBatchedRequests) {
  // Invariant: batching through substitutions changes nothing a recipient sees: each delivered
  // message equals the message's own single rendering (stored in the log), with its own
  // unsubscribe link and List-Unsubscribe header, and requests carry many recipients.
  // Contacts without a name render a different greeting ("Hi there"), so they cannot share the
  // batch's skeleton and go alone. Names that HTML escapes are rendered and compared before
  // they join the batch (the rest take their values without a render).
  connect();
  contacts(40, "buyer");
  for (int i = 0; i < 3; ++i) contact("", "nameless" + std::to_string(i) + "@example.com");
  contact("Buyer O'Hara", "ohara@example.com");
  contact("Buyer <Smith> & Sons", "smith@example.com");
  auto c = campaign({"buyer"});
  ASSERT_TRUE(app::launch_campaign(*app_, agent_, c.id).has_value());
  dispatcher_->run_once(*http_);  // takes the whole audience in one pass
  drain();

  auto items = expect_each_rendered_exactly();
  ASSERT_EQ(items.size(), 45u);
  std::set<std::string> to, requests;
  for (const auto& item : items) {
    to.insert(item["to"].get<std::string>());
    requests.insert(item["providerMessageId"].get<std::string>());
    bool nameless = item["to"].get<std::string>().starts_with("nameless");
    std::string html = item["html"].get<std::string>();
    EXPECT_NE(html.find(nameless ? "Hi there," : "Hi Buyer,"), std::string::npos) << html;
  }
  EXPECT_EQ(to.size(), 45u);
  // 42 named recipients in one request, each nameless one alone.
  EXPECT_EQ(requests.size(), 4u);
}

TEST_P(SharedContentCampaignTest, ARevokedKeyReRoutesBatchedRecipientsWithTheirOwnContent) {
  // Invariant: recipients batched through substitutions whose agent key is rejected go out via
  // the platform with exactly their own rendering (the platform's Resend takes no skeleton).
  connect(/*revoked=*/true);
  contacts(12, "buyer");
  contact("Buyer O'Hara", "ohara@example.com");
  auto c = campaign({"buyer"});
  ASSERT_TRUE(app::launch_campaign(*app_, agent_, c.id).has_value());
  drain();
  auto items = expect_each_rendered_exactly();
  ASSERT_EQ(items.size(), 13u);
  for (const auto& item : items) {
    EXPECT_EQ(item["provider"], "resend");
    auto detail = app_->store().find_message(item["heraldMessageId"].get<std::string>(), agent_);
    ASSERT_EQ((*detail)->attempts.size(), 2u);
    EXPECT_EQ((*detail)->attempts[0].outcome, "bad_credentials");
    EXPECT_EQ(item["from"], "Sunset Properties <noreply@platform.com>");
  }
}

INSTANTIATE_TEST_SUITE_P(Providers, SharedContentCampaignTest,
                         ::testing::Values("sendgrid", "mailgun"));

TEST_F(CampaignTest, EachResendRecipientGetsExactlyItsOwnRendering) {
  // Invariant: campaign email rendered through the template's proven skeleton (values put into
  // its text, no Mustache) is byte for byte the message's own rendering; recipients whose values
  // HTML escapes, or whose greeting differs, are rendered and equal theirs too.
  contacts(30, "buyer");
  contact("", "nameless@example.com");
  contact("Buyer O'Hara", "ohara@example.com");
  contact("Buyer <Smith> & Sons", "smith@example.com");
  auto c = campaign({"buyer"});
  ASSERT_TRUE(app::launch_campaign(*app_, agent_, c.id).has_value());
  drain();
  auto items = expect_each_rendered_exactly();
  ASSERT_EQ(items.size(), 33u);
  for (const auto& item : items) EXPECT_EQ(item["provider"], "resend");
}

TEST_F(CampaignTest, ALateOutcomeForAFinishedMessageChangesNeitherItNorTheCounts) {
  // Invariant: live counts move exactly once per message: an outcome recorded by a worker
  // whose claim expired (the message was re-claimed and finished meanwhile) is ignored.
  contacts(5);
  auto c = campaign();
  ASSERT_TRUE(app::launch_campaign(*app_, agent_, c.id).has_value());
  drain();
  auto counts = app_->store().campaigns().counts(agent_, c.id);
  ASSERT_EQ(counts->sent, 5);
  auto log = app_->store().list_messages({agent_, std::nullopt, std::nullopt, "", 1});
  ASSERT_EQ(log->items.size(), 1u);
  store::Outcome late;
  late.message_id = log->items[0].id;
  late.agent_id = agent_;
  late.status = MessageStatus::failed;
  late.attempts = 2;
  late.last_error = "timed out";
  ASSERT_TRUE(app_->store().record_outcomes(std::vector<store::Outcome>{late}).has_value());
  auto after = app_->store().campaigns().counts(agent_, c.id);
  EXPECT_EQ(after->sent, 5);
  EXPECT_EQ(after->failed, 0);
  EXPECT_EQ(after->queued, 0);
  auto detail = app_->store().find_message(late.message_id, agent_);
  EXPECT_EQ((*detail)->message.status, MessageStatus::sent);
}

TEST_F(CampaignTest, EmailCampaignWithoutPostalAddressRefusesToLaunch) {
  // Invariant: no campaign email goes out without the agent's postal address (CAN-SPAM).
  ASSERT_TRUE(app::put_branding(*app_, agent_, Branding{"Sunset Properties"}));
  contacts(3);
  auto c = campaign();
  auto r = app::launch_campaign(*app_, agent_, c.id);
  ASSERT_FALSE(r.has_value());
  ASSERT_EQ(r.error().fields.size(), 1u);
  EXPECT_EQ(r.error().fields[0].field, "postalAddress");
  EXPECT_EQ(app::get_campaign(*app_, agent_, c.id)->status, store::CampaignStatus::draft);
}

TEST_F(CampaignTest, PausedCampaignSendsNothingUntilResumed) {
  // Invariant: pause stops taking the audience and sending; resume finishes it, each once.
  contacts(40);
  auto c = campaign();
  auto dispatcher = small_passes(25);
  ASSERT_TRUE(app::launch_campaign(*app_, agent_, c.id));
  ASSERT_EQ(dispatcher->run_once(*http_), 25);
  ASSERT_TRUE(app::pause_campaign(*app_, agent_, c.id));
  EXPECT_EQ(dispatcher->run_once(*http_), 0);
  EXPECT_EQ(sandbox_messages().size(), 25u);
  ASSERT_TRUE(app::resume_campaign(*app_, agent_, c.id));
  drain();
  auto items = sandbox_messages();
  std::set<std::string> to;
  for (const auto& m : items) to.insert(m["to"].get<std::string>());
  EXPECT_EQ(items.size(), 40u);
  EXPECT_EQ(to.size(), 40u);
}

TEST_F(CampaignTest, CancelFailsUnsentMessagesAndStopsFanOut) {
  // Invariant: cancel ends the campaign: nothing more of its audience is taken, and every
  // message waiting for a retry reaches a terminal state.
  contacts(40);
  auto c = campaign();
  auto dispatcher = small_passes(25);
  ASSERT_TRUE(http_
                  ->perform(HttpRequest{"POST",
                                        url_ + "/sandbox/faults",
                                        {{"Content-Type", "application/json"}},
                                        R"({"provider":"resend","status":500,"count":1})"})
                  .has_value());
  ASSERT_TRUE(app::launch_campaign(*app_, agent_, c.id));
  ASSERT_EQ(dispatcher->run_once(*http_), 25);  // one batch of 25, answered 500: retrying
  ASSERT_EQ(app_->store().campaigns().counts(agent_, c.id)->queued, 25);
  ASSERT_TRUE(app::cancel_campaign(*app_, agent_, c.id));
  drain();
  EXPECT_TRUE(sandbox_messages().empty());
  auto counts = app_->store().campaigns().counts(agent_, c.id);
  EXPECT_EQ(counts->failed, 25);
  EXPECT_EQ(counts->queued, 0);
  EXPECT_EQ(app::get_campaign(*app_, agent_, c.id)->status, store::CampaignStatus::cancelled);
  auto again = app::resume_campaign(*app_, agent_, c.id);
  ASSERT_FALSE(again.has_value());
  EXPECT_EQ(again.error().code, Errc::conflict);
}

TEST_F(CampaignTest, ACampaignCancelledWhileAPassIsOutEndsWhatThatPassLeftUnsent) {
  // Invariant: cancel fails every unsent message, also those a worker had out at that moment:
  // the ones it sent stay sent, the ones it would retry end "campaign cancelled".
  contacts(10);
  auto c = campaign();
  ASSERT_TRUE(app::launch_campaign(*app_, agent_, c.id));
  std::vector<TakenChunk> chunks;
  std::vector<Message> taken = take(10, clock_.now() + std::chrono::minutes(2), chunks);
  ASSERT_EQ(taken.size(), 10u);
  ASSERT_TRUE(app::cancel_campaign(*app_, agent_, c.id));
  std::vector<store::Outcome> outcomes;
  for (std::size_t i = 0; i < 10; ++i)
    outcomes.push_back(
        taken_outcome(taken[i], i < 4 ? MessageStatus::sent : MessageStatus::retrying));
  ASSERT_TRUE(app_->store().record_outcomes(outcomes).has_value());
  auto counts = app_->store().campaigns().counts(agent_, c.id);
  EXPECT_EQ(counts->sent, 4);
  EXPECT_EQ(counts->failed, 6);
  EXPECT_EQ(counts->queued, 0);
  for (std::size_t i = 4; i < 10; ++i) {
    auto detail = app_->store().find_message(taken[i].id, agent_);
    ASSERT_TRUE(detail.has_value() && detail->has_value());
    EXPECT_EQ((*detail)->message.status, MessageStatus::failed);
    EXPECT_EQ((*detail)->message.last_error, "campaign cancelled");
  }
  drain();
  EXPECT_TRUE(sandbox_messages().empty());
}

TEST_F(CampaignTest, AStaleTakeCannotTakeTheSameRecipientsTwice) {
  // Invariant: two takes from the same cursor (racing workers) take the recipients once.
  contacts(10);
  auto c = campaign();
  ASSERT_TRUE(app::launch_campaign(*app_, agent_, c.id));
  auto running = *app::get_campaign(*app_, agent_, c.id);
  auto& store = app_->store().campaigns();
  std::vector<Message> batch(1);
  batch[0].id = new_id();
  batch[0].agent_id = agent_;
  batch[0].to_address = "x@example.com";
  batch[0].campaign_id = c.id;
  batch[0].kind = MessageKind::campaign;
  batch[0].created_at = batch[0].next_attempt_at = clock_.now();
  store::ChunkLease lease{new_id(), "w1", clock_.now() + std::chrono::minutes(2)};
  EXPECT_TRUE(*store.take(running, running.cursor, batch, "cursor-1", false, lease, clock_.now()));
  batch[0].id = new_id();
  lease.chunk_id = new_id();
  EXPECT_FALSE(*store.take(running, running.cursor, batch, "cursor-1", false, lease, clock_.now()));
  EXPECT_EQ(store.backlog(agent_, c.id).value(), 1);
}

TEST_F(CampaignTest, AStoppedWorkersChunkIsQueuedAgainWithItsBatchesAndNothingRecordedIsLost) {
  // Invariant: recipients taken by a worker that stops (crash, stall) are queued when its lease
  // expires, in the batches they were given (same idempotency keys), except those whose outcome
  // was recorded; each is sent once and the counts add up.
  contacts(30);
  auto c = campaign();
  ASSERT_TRUE(app::launch_campaign(*app_, agent_, c.id));
  std::vector<TakenChunk> chunks;
  TimePoint lease = clock_.now();  // a lease that ends now, as a stopped worker's would
  std::vector<Message> taken = take(30, lease, chunks);
  ASSERT_EQ(taken.size(), 30u);
  ASSERT_EQ(chunks.size(), 1u);
  // The worker batched the first 20 under one key, recorded the first 5 as sent, then stopped.
  for (std::size_t i = 0; i < 20; ++i) taken[i].batch_id = taken[0].id;
  auto& campaigns = app_->store().campaigns();
  ASSERT_TRUE(campaigns.update_chunk(chunks[0].id, taken).has_value());
  std::vector<store::Outcome> recorded;
  for (std::size_t i = 0; i < 5; ++i)
    recorded.push_back(taken_outcome(taken[i], MessageStatus::sent));
  ASSERT_TRUE(app_->store().record_outcomes(recorded).has_value());
  EXPECT_EQ(campaigns.counts(agent_, c.id)->queued, 25);

  EXPECT_EQ(*app_->store().requeue_expired(lease - std::chrono::seconds(1)), 0)
      << "the lease has not expired";
  EXPECT_EQ(*app_->store().requeue_expired(lease), 25);
  EXPECT_EQ(*app_->store().requeue_expired(lease), 0) << "the chunk ended";
  for (std::size_t i = 0; i < 30; ++i) {
    auto detail = app_->store().find_message(taken[i].id, agent_);
    ASSERT_TRUE(detail.has_value() && detail->has_value()) << i;
    const Message& m = (*detail)->message;
    EXPECT_EQ(m.status, i < 5 ? MessageStatus::sent : MessageStatus::queued) << i;
    EXPECT_EQ(m.batch_id, i < 20 ? taken[0].id : "") << i;
    EXPECT_EQ(m.to_address, taken[i].to_address);
    EXPECT_EQ(m.vars_json, taken[i].vars_json);
    EXPECT_EQ(m.campaign_id, c.id);
  }
  // A late outcome from the stopped worker still lands on the queued row, once.
  store::Outcome late = taken_outcome(taken[7], MessageStatus::sent);
  ASSERT_TRUE(app_->store().record_outcomes(std::vector<store::Outcome>{late, late}).has_value());
  EXPECT_EQ(campaigns.counts(agent_, c.id)->sent, 6);

  drain();
  auto counts = campaigns.counts(agent_, c.id);
  EXPECT_EQ(counts->sent, 30);
  EXPECT_EQ(counts->queued, 0);
  EXPECT_EQ(sandbox_messages().size(), 24u) << "the 6 recorded as sent are not sent again";
  EXPECT_EQ(app::get_campaign(*app_, agent_, c.id)->status, store::CampaignStatus::completed);
}

TEST_F(CampaignTest, CampaignEmailCarriesOneClickUnsubscribeThatSuppressesTheNextCampaign) {
  // Invariant: List-Unsubscribe (https + mailto) and RFC 8058's One-Click header are present;
  // the link unsubscribes, and the next campaign records that address as suppressed.
  contacts(3);
  auto first = campaign();
  ASSERT_TRUE(app::launch_campaign(*app_, agent_, first.id));
  drain();
  auto items = sandbox_messages();
  ASSERT_EQ(items.size(), 3u);
  const auto& headers = items[0]["headers"];
  ASSERT_TRUE(headers.contains("List-Unsubscribe")) << items[0].dump();
  std::string lu = headers["List-Unsubscribe"];
  EXPECT_EQ(lu.rfind("<https://herald.example.com/u/", 0), 0u) << lu;
  EXPECT_NE(lu.find("<mailto:"), std::string::npos);
  EXPECT_EQ(headers["List-Unsubscribe-Post"], "List-Unsubscribe=One-Click");
  std::string url = lu.substr(1, lu.find('>') - 1);
  EXPECT_NE(items[0]["html"].get<std::string>().find(url), std::string::npos);

  std::string token = url.substr(url.rfind('/') + 1);
  auto done = app::unsubscribe(*app_, token, "one-click");
  ASSERT_TRUE(done.has_value()) << done.error().message;
  std::string who = done->target.address;

  ASSERT_TRUE(
      http_->perform(HttpRequest{"DELETE", url_ + "/sandbox/messages", {}, ""}).has_value());
  auto second = campaign();
  ASSERT_TRUE(app::launch_campaign(*app_, agent_, second.id));
  drain();
  auto again = sandbox_messages();
  EXPECT_EQ(again.size(), 2u);
  for (const auto& m : again) EXPECT_EQ(m["to"].get<std::string>().find(who), std::string::npos);
  auto counts = app_->store().campaigns().counts(agent_, second.id);
  EXPECT_EQ(counts->suppressed, 1);
  EXPECT_EQ(counts->sent, 2);
}

TEST_F(CampaignTest, ACampaignAboutAListingGivesEveryMessageTheListingsVariables) {
  // Invariant: "just listed" campaigns render listing.* from the listing they name; a listing
  // that is not the agent's is refused naming listingId.
  contacts(3, "buyer");
  auto listing = app::create_listing(
      *app_, agent_, {"12 Oak St, Santa Monica", 1250000.0, "Sam Seller", "sam@example.com", ""});
  ASSERT_TRUE(listing.has_value()) << listing.error().message;
  app::NewCampaign in{"Just listed",      "email", "new_listing", {"buyer"}, {}, std::nullopt,
                      listing->listing.id};
  auto c = app::create_campaign(*app_, agent_, in);
  ASSERT_TRUE(c.has_value()) << c.error().message;
  EXPECT_EQ(c->listing_id, listing->listing.id);
  ASSERT_TRUE(app::launch_campaign(*app_, agent_, c->id).has_value());
  drain();
  int campaign_mail = 0;
  for (const auto& m : sandbox_messages()) {
    if (m["to"].get<std::string>().find("sam@example.com") != std::string::npos)
      continue;  // the seller's welcome email
    ++campaign_mail;
    EXPECT_EQ(m["subject"], "New listing: 12 Oak St, Santa Monica at $1,250,000");
  }
  EXPECT_EQ(campaign_mail, 3);

  in.listing_id = new_id();
  auto bad = app::create_campaign(*app_, agent_, in);
  ASSERT_FALSE(bad.has_value());
  ASSERT_EQ(bad.error().fields.size(), 1u);
  EXPECT_EQ(bad.error().fields[0].field, "listingId");
}

TEST_F(CampaignTest, ACampaignWhoseTemplateShowsAListingNeedsOne) {
  // Invariant: a campaign whose template uses listing.* is neither created nor launched
  // without a listing (its messages would read "open house at ."), naming listingId; the same
  // holds when the template gained listing.* after the campaign was created.
  contacts(2, "buyer");
  auto none = app::create_campaign(
      *app_, agent_, {"Just listed", "email", "new_listing", {"buyer"}, {}, std::nullopt});
  ASSERT_FALSE(none.has_value());
  ASSERT_EQ(none.error().fields.size(), 1u);
  EXPECT_EQ(none.error().fields[0].field, "listingId");
  EXPECT_NE(none.error().fields[0].message.find("listing"), std::string::npos);

  app::TemplateInput plain;
  plain.body = "{{agent.companyName}}: open house this weekend. Reply STOP to opt out.";
  ASSERT_TRUE(app::put_template(*app_, agent_, "default:open_house:sms", plain).has_value());
  auto c = app::create_campaign(*app_, agent_,
                                {"Open house", "sms", "open_house", {"buyer"}, {}, std::nullopt});
  ASSERT_TRUE(c.has_value()) << c.error().message;
  app::TemplateInput with_listing;
  with_listing.body = "Open house at {{listing.address}}. Reply STOP to opt out.";
  ASSERT_TRUE(app::put_template(*app_, agent_, "default:open_house:sms", with_listing).has_value());
  auto launched = app::launch_campaign(*app_, agent_, c->id);
  ASSERT_FALSE(launched.has_value());
  ASSERT_EQ(launched.error().fields.size(), 1u);
  EXPECT_EQ(launched.error().fields[0].field, "listingId");
  EXPECT_EQ(app::get_campaign(*app_, agent_, c->id)->status, store::CampaignStatus::draft);
}

TEST_F(CampaignTest, SchedulingWaitsForSendAt) {
  // Invariant: a campaign with a future sendAt is scheduled, not sent early.
  contacts(3);
  auto c = app::create_campaign(
      *app_, agent_,
      {"Later", "email", "market_update", {"buyer"}, {}, clock_.now() + std::chrono::hours(2)});
  ASSERT_TRUE(c.has_value());
  auto launched = app::launch_campaign(*app_, agent_, c->id);
  ASSERT_TRUE(launched.has_value());
  EXPECT_EQ(launched->status, store::CampaignStatus::scheduled);
  EXPECT_EQ(*queue().advance_campaigns(clock_.now()), 0);
  EXPECT_EQ(dispatcher_->run_once(*http_), 0);
  EXPECT_TRUE(sandbox_messages().empty());
}

// The plan steps of a statement on the tables that grow with traffic that read a whole table
// (or a whole index), sort, or walk all of an agent's messages to find a few.
std::vector<std::string> scans_of_big_tables(const std::string& sql, const std::string& plan) {
  std::vector<std::string> bad;
  bool big = false;
  for (const char* table : {"messages", "message_events", "contacts", "suppressions"})
    big = big || sql.find(std::string("FROM ") + table) != std::string::npos ||
          sql.find(std::string("UPDATE ") + table) != std::string::npos;
  if (!big) return bad;
  // The message log pages through an agent's messages newest first: that is its index.
  bool log_page = sql.find("ORDER BY id DESC LIMIT") != std::string::npos;
  std::istringstream lines(plan);
  for (std::string line; std::getline(lines, line);) {
    for (const char* table : {"messages", "message_events", "contacts", "suppressions"}) {
      std::string scan = std::string("SCAN ") + table;
      auto at = line.find(scan);
      if (at != std::string::npos &&
          (at + scan.size() == line.size() || line[at + scan.size()] == ' '))
        bad.push_back(line);
    }
    if (line.find("TEMP B-TREE") != std::string::npos) bad.push_back(line);
    if (!log_page && line.find("INDEX messages_agent (agent_id=?)") != std::string::npos)
      bad.push_back(line);
  }
  return bad;
}

TEST_F(CampaignTest, TheSendPathSeeksItsIndexesAndNeverScansTheQueue) {
  // Invariant: every statement on the send path (fan-out, claims of both lanes, batches,
  // outcomes, live counts, pause / cancel, the welcome email, the message log) seeks an index;
  // none reads the whole queue or sorts it, so its cost does not grow with a campaign's size.
  // (A partial index is only used when the query repeats its WHERE term, which a bound
  // parameter cannot imply: counts once scanned every message of the agent.)
  store::sqlite::audit_query_plans(true);
  contacts(60, "buyer");
  auto c = campaign({"buyer"});
  auto other = campaign({"buyer"});
  ASSERT_TRUE(app::launch_campaign(*app_, agent_, c.id).has_value());
  ASSERT_TRUE(app::launch_campaign(*app_, agent_, other.id).has_value());
  ASSERT_TRUE(queue().advance_campaigns(clock_.now()).has_value());
  ASSERT_GT(small_passes(25)->run_once(*http_), 0);
  ASSERT_TRUE(app::pause_campaign(*app_, agent_, c.id).has_value());
  EXPECT_TRUE(app_->store().next_due_at().has_value());
  ASSERT_TRUE(app::resume_campaign(*app_, agent_, c.id).has_value());
  ASSERT_TRUE(app::cancel_campaign(*app_, agent_, other.id).has_value());
  ASSERT_TRUE(app::create_listing(*app_, agent_,
                                  {"12 Oak St", 900000.0, "Sam Seller", "sam@example.com", ""})
                  .has_value());
  drain();
  EXPECT_EQ(app_->store().campaigns().counts(agent_, c.id)->sent, 60);
  EXPECT_TRUE(app_->store().requeue_expired(clock_.now()).has_value());
  auto log = app_->store().list_messages({agent_, std::nullopt, std::nullopt, "", 20});
  ASSERT_TRUE(log.has_value());
  ASSERT_TRUE(app_->store().find_message(log->items.front().id, agent_).has_value());
  auto plans = store::sqlite::audited_query_plans();
  store::sqlite::audit_query_plans(false);

  ASSERT_GT(plans.size(), 20u) << "the audit saw the workload's statements";
  for (const auto& [sql, plan] : plans) {
    EXPECT_TRUE(scans_of_big_tables(sql, plan).empty()) << sql << "\n" << plan;
  }
}

}  // namespace
}  // namespace herald::delivery
