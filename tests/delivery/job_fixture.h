// Jobs made by hand for the stage tests: messages over an agent's route of a given provider,
// without a store, an agent or a template.
#pragma once

#include <deque>
#include <string>

#include "delivery/job.h"

namespace herald::delivery {

// A clock the test moves by hand.
class StageTime final : public TimeSource {
 public:
  TimePoint now() const override { return now_; }
  void advance(std::chrono::milliseconds d) { now_ += d; }

 private:
  TimePoint now_ = from_millis(1'700'000'000'000);
};

class Jobs {
 public:
  // A job for `agent` to `address` over the agent's `provider` account with key `key`, in the
  // provider batch `batch` if given. Ids grow in creation order.
  Job* add(const std::string& agent, ProviderId provider, const std::string& address,
           const std::string& batch = "", const std::string& key = "key-1") {
    Message& m = messages_.emplace_back();
    m.id = "m" + std::to_string(1000 + messages_.size());
    m.agent_id = agent;
    m.channel = provider == "twilio" ? Channel::sms : Channel::email;
    m.to_address = address;
    m.batch_id = batch;
    Job& j = jobs_.emplace_back();
    j.message = &m;
    j.outcome.message_id = m.id;
    Route r;
    r.channel = m.channel;
    r.provider = provider;
    r.via = Via::agent;
    r.from = Mailbox{"Pat", "pat@example.com"};
    r.credentials.provider = provider;
    if (provider == "twilio") {
      r.credentials.params.set("accountSid", "AC" + key);
      r.credentials.secrets.set("authToken", Secret(key));
    } else {
      r.credentials.secrets.set("apiKey", Secret(key));
    }
    r.credentials.base_url = "http://127.0.0.1:1";
    j.route = std::move(r);
    return &j;
  }

 private:
  std::deque<Message> messages_;
  std::deque<Job> jobs_;
};

}  // namespace herald::delivery
