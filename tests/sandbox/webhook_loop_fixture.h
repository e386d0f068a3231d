// The whole loop over real HTTP: a sandbox, a receiver that records what the sandbox posts,
// registration driven by Herald's own webhook twins (so the key comes from the sandbox), sends
// built by Herald's own adapters, and every recorded post checked with the twin's verify and
// parse. Shared by the sandbox's webhook tests.
#pragma once

#include <condition_variable>
#include <map>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "core/message.h"
#include "net/http_client.h"
#include "providers/provider.h"
#include "providers/webhook.h"
#include "sandbox/sandbox_fixture.h"
#include "sandbox/state.h"

namespace herald::sandbox::testing {

using providers::WebhookRequest;
using providers::WebhookTwin;

// An HTTP server standing in for Herald's receivers: records every request and answers
// `status` (200 unless set).
class Receiver {
 public:
  Receiver() : server_(http::ServerOptions{}, [this](http::Request& r) { return record(r); }) {
    base_ = "http://127.0.0.1:" + std::to_string(server_.start());
  }
  ~Receiver() { server_.stop(); }

  std::string url(const std::string& path) const { return base_ + path; }
  void answer(int status) { status_ = status; }
  // Answers the next `n` requests with `status`, then `answer`'s status again.
  void fail_next(int n, int status) {
    failing_ = n;
    failure_status_ = status;
  }
  // Every request so far, as a twin sees it (the URL as the sender was given it).
  std::vector<WebhookRequest> posts() const {
    std::lock_guard lock(mutex_);
    return posts_;
  }
  // When each request arrived.
  std::vector<std::chrono::steady_clock::time_point> arrivals() const {
    std::lock_guard lock(mutex_);
    return arrivals_;
  }

 private:
  http::Response record(http::Request& request) {
    {
      std::lock_guard lock(mutex_);
      posts_.push_back({base_ + request.target, request.headers, request.body});
      arrivals_.push_back(std::chrono::steady_clock::now());
    }
    if (failing_.fetch_sub(1) > 0) return http::Response::text(failure_status_.load(), "no");
    return http::Response::text(status_.load(), "ok");
  }

  mutable std::mutex mutex_;
  std::vector<WebhookRequest> posts_;
  std::vector<std::chrono::steady_clock::time_point> arrivals_;
  std::atomic<int> status_{200};
  std::atomic<int> failing_{0};
  std::atomic<int> failure_status_{500};
  http::Server server_;
  std::string base_;
};

// One parsed event as the twin read it.
struct Seen {
  EventType type = EventType::unknown;
  BounceKind bounce = BounceKind::none;
  std::string provider_message_id;
  std::string event_key;
  std::string url;
  std::string reason;
};

class WebhookLoopTest : public SandboxTest {
 protected:
  void SetUp() override {
    SandboxTest::SetUp();
    http_ = net::make_curl_client();
  }

  // The account's credentials at the sandbox (Mailgun: domain mg.example.com; Twilio: the
  // receiver as its status callback URL).
  Credentials credentials(std::string_view provider, const std::string& key = "") const {
    Credentials c;
    c.provider = std::string(provider);
    c.base_url = base_;
    if (provider == "twilio") {
      c.params.set("accountSid", "AC0123456789abcdef0123456789abcdef");
      c.secrets.set("authToken", Secret(key.empty() ? "f00dbabe0123456789abcdef01234567" : key));
      c.status_callback_url = receiver_url(provider);
    } else {
      c.secrets.set("apiKey", Secret(key.empty() ? "key-" + std::string(provider) + "-1234" : key));
    }
    if (provider == "mailgun") c.params.set("domain", "mg.example.com");
    return c;
  }

  std::string receiver_url(std::string_view provider) const {
    return receiver_.url("/webhooks/" + std::string(provider) + "/platform");
  }

  const WebhookTwin& twin(std::string_view provider) const {
    return *providers::provider_for(provider).webhook();
  }

  // Plays the twin's registration against the sandbox; the key it ends with (Twilio: the
  // auth token, as there is nothing to register). Fails the test when it does not end well.
  std::string register_receiver(const Credentials& c) {
    std::vector<HttpResponse> answers;
    for (int i = 0; i < 20; ++i) {
      providers::RegistrationStep step =
          twin(c.provider)
              .register_step(c, receiver_url(c.provider), std::span<const HttpResponse>(answers));
      if (step.error) {
        ADD_FAILURE() << "registration failed: " << step.error->message;
        return {};
      }
      if (step.key) return *step.key;
      if (!step.request) return std::string(c.secrets.get("authToken").reveal());
      requests_.push_back(*step.request);
      auto answer = http_->perform(*step.request);
      answers.push_back(answer ? *answer : HttpResponse{});
    }
    ADD_FAILURE() << "registration did not end after 20 requests";
    return {};
  }

  // Sends `messages` in one request with Herald's adapter; the provider's id for each.
  std::vector<std::string> send_all(const Credentials& c,
                                    std::span<const OutboundMessage> messages) {
    const providers::Provider& p = providers::provider_for(c.provider);
    auto response = http_->perform(p.build_send(c, messages));
    if (!response) {
      ADD_FAILURE() << "send failed: " << response.error().message;
      return std::vector<std::string>(messages.size());
    }
    std::vector<std::string> ids;
    for (const providers::SendOutcome& o : p.classify_send(*response, messages.size())) {
      EXPECT_EQ(o.kind, providers::OutcomeKind::accepted) << response->body;
      ids.push_back(o.provider_message_id);
    }
    return ids;
  }
  std::string send(const Credentials& c, const OutboundMessage& m) {
    return send_all(c, std::span<const OutboundMessage>(&m, 1)).front();
  }

  // Registers, sends one message per outcome rule (events.h) and checks that each message's
  // events arrive, verified with the key registration gave, in order, as the rule says, joined
  // to Herald's id and the provider's.
  void expect_email_outcomes(std::string_view provider) {
    struct Case {
      std::string local;
      std::vector<EventType> types;
    };
    using enum EventType;
    const std::vector<Case> cases = {
        {"dana", {delivered}},           {"bounce-1", {bounced}},
        {"soft-1", {deferred}},          {"complain-1", {delivered, complained}},
        {"open-1", {delivered, opened}}, {"click-1", {delivered, opened, clicked}}};
    Credentials c = credentials(provider);
    const std::string key = register_receiver(c);
    ASSERT_FALSE(key.empty());
    std::map<std::string, std::string> provider_ids;
    for (const Case& k : cases) {
      provider_ids["m-" + k.local] = send(c, email("m-" + k.local, k.local + "@example.com"));
    }
    wait_for_events();
    auto events = seen(provider, key);
    ASSERT_EQ(events.size(), cases.size());
    for (const Case& k : cases) {
      SCOPED_TRACE(k.local);
      const std::vector<Seen>& got = events["m-" + k.local];
      EXPECT_EQ(types(got), k.types);
      for (const Seen& e : got) {
        EXPECT_EQ(e.provider_message_id, bare(provider_ids["m-" + k.local]));
        if (e.type == bounced) {
          EXPECT_EQ(e.bounce, BounceKind::hard);
        }
        if (e.type == clicked) {
          EXPECT_EQ(e.url, "https://wrightrealty.example/listings/12");
        }
      }
    }
    EXPECT_EQ(stats()["events"]["failed"], 0);
    EXPECT_EQ(stats()["events"]["queued"], 0);
  }

  // A provider's message id as its events carry it (Mailgun's without angle brackets).
  static std::string bare(const std::string& id) {
    if (id.size() >= 2 && id.front() == '<' && id.back() == '>') return id.substr(1, id.size() - 2);
    return id;
  }

  static OutboundMessage email(const std::string& id, const std::string& address) {
    OutboundMessage m;
    m.id = id;
    m.channel = Channel::email;
    m.from = Mailbox{"Wright Realty", "matt@mg.example.com"};
    m.to = Mailbox{"", address};
    m.subject = "New listing: 12 Oak St";
    m.text = "See https://wrightrealty.example/listings/12 for photos.";
    m.html = "<p><a href=\"https://wrightrealty.example/listings/12\">Photos</a></p>";
    return m;
  }

  static OutboundMessage sms(const std::string& id, const std::string& number) {
    OutboundMessage m;
    m.id = id;
    m.channel = Channel::sms;
    m.from_phone = "+15017122661";
    m.to_phone = number;
    m.body = "Open house Sat 1-3pm. Reply STOP to opt out.";
    return m;
  }

  // Waits for the sandbox to post everything it has queued.
  void wait_for_events() {
    ASSERT_TRUE(sandbox_->wait_for_events(std::chrono::seconds(20))) << "events still queued";
  }

  // Every post verified with `key` and parsed by the provider's twin, by Herald message id, in
  // the order they arrived. A post the twin refuses fails the test.
  std::map<std::string, std::vector<Seen>> seen(std::string_view provider, const std::string& key) {
    std::map<std::string, std::vector<Seen>> out;
    for (const WebhookRequest& post : receiver_.posts()) {
      auto verified = twin(provider).verify(post, key, Clock::now());
      EXPECT_TRUE(verified.has_value()) << (verified ? "" : verified.error().message) << "\n"
                                        << post.body;
      auto events = twin(provider).parse(post);
      EXPECT_TRUE(events.has_value()) << post.body;
      if (!events) continue;
      for (const DeliveryEvent& e : *events) {
        out[e.message_id].push_back(
            {e.type, e.bounce, e.provider_message_id, e.event_key, e.url, e.reason});
      }
    }
    return out;
  }

  static std::vector<EventType> types(const std::vector<Seen>& events) {
    std::vector<EventType> out;
    for (const Seen& e : events) out.push_back(e.type);
    return out;
  }

  Receiver receiver_;
  std::unique_ptr<net::HttpClient> http_;
  std::vector<HttpRequest> requests_;  // the registration requests, in order
};

}  // namespace herald::sandbox::testing
