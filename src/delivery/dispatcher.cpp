#include "delivery/dispatcher.h"

#include <sodium.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <tuple>

#include "app/agents.h"
#include "app/campaigns.h"
#include "app/templates.h"
#include "core/json_parse.h"
#include "core/quiet_hours.h"
#include "core/templates.h"
#include "providers/provider.h"

namespace herald::delivery {

namespace {

using providers::OutcomeKind;
using providers::SendOutcome;

// The adapter of a route's provider. Routes reach the send stages only once prepare has found
// their provider in the registry (an unknown stored provider fails its message there).
const providers::Provider& provider_of(const Route& route) {
  return *providers::find_provider(route.provider);
}

RouteSummary summarize(const Route& r) {
  return RouteSummary{r.provider, r.via, r.from_display(), r.reply_to, r.payer()};
}

// One claimed message on its way through a pass.
struct Job {
  Message* message = nullptr;
  store::Outcome outcome;
  std::optional<Route> route;
  std::optional<OutboundMessage> outbound;
  const Agent* agent = nullptr;
  // For batches that share content (SendGrid, Mailgun): the template and the variables it
  // was rendered with, to build the batch's skeleton and this message's substitutions.
  const app::TemplateRenderer* renderer = nullptr;
  nlohmann::json vars;
  // Campaign email for a provider that shares one content per batch is rendered only if it
  // cannot take its batch's skeleton without (see personalize_same_shape); until then its
  // content is not in `outcome` or `outbound`. Content the log does not keep also leaves with
  // its request, and a re-route renders it again.
  bool unrendered = false;
  bool personalized = false;  // its content is its batch's skeleton plus its substitutions
  bool done = false;          // outcome is final for this pass
  bool recorded = false;      // outcome written (moved out of `outcome`)
};

// Requests per slice of a pass: each slice's outcomes are written before the next goes out.
constexpr std::size_t kRequestsPerSlice = 64;

// A personalized message's substitutions must stay within what the provider takes per
// recipient (SendGrid: 10,000 bytes per personalization, tags included).
constexpr std::size_t kMaxSubstitutionBytes = 9000;

// The message's addresses over `route`; set_content adds what it says.
OutboundMessage make_outbound(const Message& m, const Route& route) {
  OutboundMessage out;
  out.id = m.id;
  out.agent_id = m.agent_id;
  out.channel = m.channel;
  if (m.channel == Channel::email) {
    out.from = route.from;
    out.reply_to = route.reply_to;
    out.to = Mailbox{m.to_name, m.to_address};
  } else {
    out.from_phone = route.from_phone;
    out.to_phone = m.to_address;
  }
  return out;
}

// Rendered content where the message's channel carries it.
void set_content(OutboundMessage& out, Rendered r) {
  if (out.channel == Channel::email) {
    out.subject = std::move(r.subject);
    out.text = std::move(r.text);
    out.html = std::move(r.html);
  } else {
    out.body = std::move(r.body);
  }
}

}  // namespace

Dispatcher::Dispatcher(app::App& app, DispatcherOptions options, ClientFactory make_client)
    : app_(app),
      options_(std::move(options)),
      make_client_(std::move(make_client)),
      limiter_(app.clock()),
      unsubscribe_(std::make_unique<app::UnsubscribeSigner>(app.sealer().current())) {}

Dispatcher::~Dispatcher() {
  stop();
}

void Dispatcher::start() {
  stopping_ = false;
  app_.on_wake([this] { wake(); });
  for (int i = 0; i < options_.workers; ++i) threads_.emplace_back([this, i] { worker_loop(i); });
  scheduler_ = std::thread([this] { scheduler_loop(); });
}

void Dispatcher::stop() {
  {
    std::lock_guard lock(mu_);
    if (stopping_ && threads_.empty()) return;
    stopping_ = true;
  }
  cv_.notify_all();
  for (auto& t : threads_) t.join();
  threads_.clear();
  if (scheduler_.joinable()) scheduler_.join();
  app_.on_wake(nullptr);
}

void Dispatcher::wake() {
  {
    std::lock_guard lock(mu_);
    ++wake_seq_;
  }
  cv_.notify_all();
}

int Dispatcher::run_once(net::HttpClient& http, const std::string& worker) {
  return pass(http, worker);
}

// Starts scheduled campaigns when their time comes, completes finished ones and keeps the
// workers taking running campaigns' audiences (they take it themselves, pass by pass). Also
// returns expired claims and chunks (a crashed or stuck worker's) to the queue now and then.
void Dispatcher::scheduler_loop() {
  auto last_sweep = std::chrono::steady_clock::time_point{};
  while (!stopping_) {
    if (std::chrono::steady_clock::now() - last_sweep > std::chrono::seconds(10)) {
      last_sweep = std::chrono::steady_clock::now();
      if (auto n = app_.store().requeue_expired(app_.clock().now()); n && *n > 0) {
        spdlog::warn("requeued {} message(s) whose claim expired", *n);
      }
    }
    try {
      if (auto n = app::advance_campaigns(app_); !n)
        spdlog::error("campaigns: {}", n.error().message);
    } catch (const std::exception& e) {
      spdlog::error("campaigns failed: {}", e.what());
    }
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, std::chrono::milliseconds(50), [&] { return stopping_.load(); });
  }
}

void Dispatcher::worker_loop(int index) {
  auto http = make_client_();
  std::string name = options_.worker_prefix + std::to_string(index);
  while (!stopping_) {
    std::uint64_t seq;
    {
      std::lock_guard lock(mu_);
      seq = wake_seq_;
    }
    // With more than one worker, worker 0 serves only the transactional lane.
    const bool lane_only = index == 0 && options_.workers > 1;
    int processed = 0;
    try {
      processed = pass(*http, name, lane_only);
    } catch (const std::exception& e) {
      // Claimed messages stay 'sending' and are requeued when their lease expires.
      spdlog::error("worker {}: pass failed: {}", name, e.what());
    }
    if (processed > 0) continue;

    // Sleep until woken, the next message is due, or the idle poll elapses.
    // (The lane's own worker is woken by whatever queues a transactional message; the other
    // workers also take that lane first, so its retries are never left waiting.)
    auto wait = options_.idle_poll;
    if (!lane_only) {
      if (auto due = app_.store().next_due_at(); due && *due) {
        auto until =
            std::chrono::duration_cast<std::chrono::milliseconds>(**due - app_.clock().now());
        // At least a moment: a due message this pass did not claim belongs to a paused
        // campaign, and looking again at once would spin.
        wait = std::min(wait, std::max(until, std::chrono::milliseconds(10)));
      }
    }
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, wait, [&] { return stopping_ || wake_seq_ != seq; });
  }
}

RateLimit Dispatcher::limit_for(const Route& route) const {
  if (route.credentials.rate_limit > 0)
    return {route.credentials.rate_limit, route.credentials.rate_limit * 2};
  if (auto it = options_.rate_limits.find(route.provider);
      it != options_.rate_limits.end() && it->second > 0)
    return {it->second, it->second * 2};
  return default_rate_limit(provider_of(route).info());
}

int Dispatcher::pass(net::HttpClient& http, const std::string& worker, bool transactional_only) {
  store::Store& store = app_.store();
  const PlatformConfig& platform = app_.platform();
  TimePoint now = app_.clock().now();

  // Transactional lane first, so welcome messages never wait behind campaign traffic.
  store::ClaimRequest claim{now, now + options_.lease, worker, options_.batch,
                            MessageKind::transactional};
  auto claimed = store.claim_due(claim);
  // Recipients taken straight from running campaigns' audiences: not in the queue until their
  // outcomes are recorded (one write each), kept meanwhile by their chunks.
  std::vector<app::TakenChunk> chunks;
  std::size_t fresh_from = std::numeric_limits<std::size_t>::max();  // where they start
  if (claimed && claimed->empty() && !transactional_only) {
    // Campaign traffic in bigger passes, so batch APIs get full batches: queued messages that
    // are due (retries, deferrals) first, then the audiences fill the pass.
    claim.kind.reset();
    claim.limit = std::max(options_.batch, options_.campaign_batch);
    claimed = store.claim_due(claim);
    if (claimed && static_cast<int>(claimed->size()) < claim.limit) {
      fresh_from = claimed->size();
      auto taken =
          app::take_campaign_messages(app_, claim.limit - static_cast<int>(claimed->size()), worker,
                                      claim.lease_until, *claimed, chunks);
      if (!taken)
        spdlog::error("worker {}: taking campaign recipients failed: {}", worker,
                      taken.error().message);
    }
  }
  if (!claimed) {
    spdlog::error("worker {}: claim failed: {}", worker, claimed.error().message);
    return 0;
  }
  if (claimed->empty()) return 0;

  // Campaign messages to suppressed addresses (unsubscribed, bounced, complained, STOP) end
  // here: one query per agent and channel in this pass.
  std::map<std::pair<std::string, Channel>, std::vector<std::string>> campaign_addresses;
  for (const Message& m : *claimed) {
    if (m.kind == MessageKind::campaign)
      campaign_addresses[{m.agent_id, m.channel}].push_back(m.to_address);
  }
  std::set<std::tuple<std::string, Channel, std::string>> suppressed;
  for (const auto& [key, addresses] : campaign_addresses) {
    auto hit = store.contacts().suppressed_among(key.first, key.second, addresses);
    if (!hit) {
      spdlog::error("worker {}: suppression check failed: {}", worker, hit.error().message);
      return 0;  // claims expire and are retried; never send unchecked
    }
    for (auto& a : *hit) suppressed.emplace(key.first, key.second, std::move(a));
  }

  // Campaign email of one template differs between recipients only in their values: once a
  // skeleton of the template has reproduced one rendering exactly, a message shaped like that
  // one (see personalize_same_shape) is the skeleton's text with its values put in, without
  // Mustache. The rest are rendered.
  struct Shortcut {
    std::optional<Skeleton> skeleton;
    bool proven = false;
  };
  std::map<const app::TemplateRenderer*, Shortcut> shortcuts;
  auto shortcut_for = [&](const Job& job) -> Shortcut* {
    if (job.message->kind != MessageKind::campaign || job.message->channel != Channel::email)
      return nullptr;
    auto [it, added] = shortcuts.try_emplace(job.renderer);
    if (added) {
      auto skeleton = job.renderer->skeleton(job.vars, [](std::string_view name) {
        return "\x1bherald:" + std::string(name) + "\x1b";
      });
      if (skeleton) it->second.skeleton = std::move(*skeleton);
    }
    return &it->second;
  };
  // Renders a job's content into its outcome and its outbound message; false (the job failed,
  // with the reason) when the template cannot render these variables.
  auto render = [&](Job& job, TimePoint at) {
    Shortcut* shortcut = shortcut_for(job);
    std::optional<Result<Rendered>> fast;
    if (shortcut && shortcut->proven) {
      if (auto subs = personalize_same_shape(*shortcut->skeleton, job.vars)) {
        const Skeleton& k = *shortcut->skeleton;
        fast.emplace(Rendered{substitute(k.parts.subject, k, *subs),
                              substitute(k.parts.text, k, *subs),
                              substitute(k.parts.html, k, *subs), ""});
      }
    }
    auto rendered = fast ? std::move(*fast) : job.renderer->render(job.vars);
    // The skeleton is proven (or not) on the message it was made from: its first rendering.
    if (rendered && shortcut && shortcut->skeleton && !shortcut->proven) {
      shortcut->proven = personalize(*shortcut->skeleton, job.vars, *rendered).has_value();
      if (!shortcut->proven) shortcut->skeleton.reset();
    }
    if (!rendered) {
      std::string why = "cannot render: " + rendered.error().message;
      job.outcome.status = MessageStatus::failed;
      job.outcome.last_error = why;
      job.outcome.events.push_back({at, MessageStatus::failed, std::move(why)});
      job.done = true;
      return false;
    }
    job.outcome.rendered = true;
    job.outcome.subject = rendered->subject;
    // The log keeps the body only where keep_body says so (not campaign email): otherwise the
    // outbound message holds the one copy.
    if (job.outcome.keep_body) {
      job.outcome.text = job.message->channel == Channel::sms ? rendered->body : rendered->text;
      job.outcome.html = rendered->html;
    }
    set_content(*job.outbound, std::move(*rendered));
    job.unrendered = false;
    return true;
  };

  // Open each agent once per pass, and parse each template once per pass.
  std::map<std::string, Result<Agent>> agents;
  std::map<std::string, std::pair<std::optional<app::TemplateRenderer>, std::string>> renderers;
  std::vector<Job> jobs(claimed->size());
  for (std::size_t i = 0; i < claimed->size(); ++i) {
    Job& job = jobs[i];
    Message& m = (*claimed)[i];
    job.message = &m;
    job.outcome.message_id = m.id;
    job.outcome.agent_id = m.agent_id;
    job.outcome.attempts = m.attempts;
    if (i >= fresh_from) job.outcome.fresh = &m;
    auto it = agents.find(m.agent_id);
    if (it == agents.end())
      it = agents.emplace(m.agent_id, app::load_agent(app_, m.agent_id)).first;
    auto finish = [&](MessageStatus status, std::string why) {
      job.outcome.status = status;
      job.outcome.last_error = why;
      job.outcome.events.push_back({now, status, std::move(why)});
      job.done = true;
    };
    if (!it->second) {
      finish(MessageStatus::failed, "cannot load agent: " + it->second.error().message);
      continue;
    }
    job.agent = &*it->second;
    if (suppressed.contains({m.agent_id, m.channel, m.to_address})) {
      finish(MessageStatus::suppressed, "this address is on your suppression list");
      continue;
    }
    auto vars = parse_json(m.vars_json);
    if (!vars.is_object()) vars = nlohmann::json::object();
    std::string unsubscribe_url;
    if (m.kind == MessageKind::campaign) {
      unsubscribe_url =
          app::contact_unsubscribe_url(app_, *unsubscribe_, m.agent_id, m.channel, m.to_address);
      vars["unsubscribeUrl"] = unsubscribe_url;
    }
    // Campaign SMS waits for the recipient's local send window (quiet hours): deferred, not
    // dropped.
    if (m.kind == MessageKind::campaign && m.channel == Channel::sms) {
      std::string zone =
          vars.is_object() ? vars.value("/contact/timeZone"_json_pointer, std::string()) : "";
      const auto& cfg = app_.config();
      if (auto next = next_send_time(now, zone, cfg.sms_window, cfg.default_time_zone)) {
        job.outcome.status = MessageStatus::queued;
        job.outcome.next_attempt_at = *next;
        job.outcome.events.push_back(
            {now, MessageStatus::queued,
             "quiet hours in " + (zone.empty() ? cfg.default_time_zone : zone)});
        job.done = true;
        continue;
      }
    }
    // The agent's template if it has one under this key, else the platform's; parsed once per pass.
    std::string tkey =
        m.agent_id + "\n" + m.template_key + "\n" + std::string(to_string(m.channel));
    auto rit = renderers.find(tkey);
    if (rit == renderers.end()) {
      auto resolved = app::resolve_template(app_, m.agent_id, m.template_key, m.channel);
      std::optional<app::TemplateRenderer> r;
      std::string why;
      if (resolved) {
        r.emplace(std::move(*resolved), *job.agent, platform.name);
      } else {
        why = resolved.error().message;
      }
      rit = renderers.emplace(tkey, std::pair{std::move(r), why}).first;
    }
    if (!rit->second.first) {
      finish(MessageStatus::failed, "cannot render: " + rit->second.second);
      continue;
    }
    job.renderer = &*rit->second.first;
    auto route = resolve_route(*job.agent, m.channel, platform);
    if (!route) {
      // Only the platform's own account can be unconfigured; the operator can fix that, so wait.
      job.outcome.attempts += 1;
      job.outcome.last_error = route.error().message;
      if (job.outcome.attempts >= options_.retry.max_attempts) {
        finish(MessageStatus::failed, "no route: " + route.error().message);
      } else {
        job.outcome.status = MessageStatus::retrying;
        job.outcome.next_attempt_at =
            now + options_.retry.delay(job.outcome.attempts, std::nullopt, randombytes_random());
        job.outcome.events.push_back(
            {now, MessageStatus::retrying, "no route: " + route.error().message});
        job.done = true;
      }
      continue;
    }
    if (!providers::find_provider(route->provider)) {
      // A provider name Herald does not know (stored by a newer or older version): never a
      // silent default.
      finish(MessageStatus::failed, "the " + std::string(to_string(m.channel)) +
                                        " provider saved in your settings (\"" + route->provider +
                                        "\") is not one Herald can send with; connect the account "
                                        "again in Settings");
      continue;
    }
    job.route = std::move(*route);
    job.vars = std::move(vars);
    job.outcome.keep_body = !(m.kind == MessageKind::campaign && m.channel == Channel::email);
    job.unrendered = m.kind == MessageKind::campaign && m.channel == Channel::email &&
                     provider_of(*job.route).capabilities().shared_content;
    job.outbound = make_outbound(m, *job.route);
    if (!job.unrendered && !render(job, now)) continue;
    // Campaign email carries one-click unsubscribe (RFC 8058) plus a mailto fallback.
    if (m.kind == MessageKind::campaign && m.channel == Channel::email) {
      std::string mailto =
          job.route->reply_to.empty() ? job.route->from.address : job.route->reply_to;
      job.outbound->headers.emplace_back("List-Unsubscribe", "<" + unsubscribe_url + ">, <mailto:" +
                                                                 mailto + "?subject=unsubscribe>");
      job.outbound->headers.emplace_back("List-Unsubscribe-Post", "List-Unsubscribe=One-Click");
    }
  }

  std::map<std::pair<std::string, Channel>, IntegrationStatus> integration_status;

  // Writes the outcomes of every job that is final and not yet written.
  bool all_recorded = true;
  auto flush = [&] {
    std::vector<store::Outcome> outcomes;
    for (Job& j : jobs) {
      if (!j.done || j.recorded) continue;
      outcomes.push_back(std::move(j.outcome));
      j.recorded = true;
    }
    if (outcomes.empty()) return;
    if (auto r = store.record_outcomes(outcomes); !r) {
      // The claims expire and the messages are sent again: at-least-once, never lost.
      spdlog::error("worker {}: recording outcomes failed: {}", worker, r.error().message);
      all_recorded = false;
    }
  };

  // Sends every job still open over its current route and applies the outcomes. Jobs whose
  // agent credentials were rejected get a platform route for the next round (fallback).
  auto send_round = [&](std::vector<Job*>& round) {
    // Jobs for the same provider account (and route) share a request where the provider has a
    // batch API (Resend: 100 per call; SendGrid and Mailgun: 1,000 per call when they share
    // their content); the others go one per request, all concurrently.
    // Agents take turns (one message each, in queue order) so that where several agents share
    // an account, its batches and its rate budget are shared between them too.
    {
      std::map<std::string, std::vector<Job*>> by_agent;
      std::vector<std::string> order;
      for (Job* j : round) {
        auto [it, added] = by_agent.try_emplace(j->message->agent_id);
        if (added) order.push_back(j->message->agent_id);
        it->second.push_back(j);
      }
      if (order.size() > 1) {
        round.clear();
        for (std::size_t k = 0;; ++k) {
          bool any = false;
          for (const auto& a : order) {
            auto& list = by_agent[a];
            if (k < list.size()) {
              round.push_back(list[k]);
              any = true;
            }
          }
          if (!any) break;
        }
      }
    }
    std::vector<std::vector<Job*>> groups;
    std::map<std::string, std::size_t> filling;
    std::map<std::size_t, std::set<std::string>> recipients;  // per shared-content group
    for (Job* j : round) {
      const auto caps = provider_of(*j->route).capabilities();
      if (caps.max_batch <= 1) {
        groups.push_back({j});
        continue;
      }
      // A message already sent in a batch goes again in exactly that batch (same key).
      std::string key = !j->message->batch_id.empty() ? "batch|" + j->message->batch_id
                                                      : account_key(j->route->credentials) + "|" +
                                                            std::string(to_string(j->route->via)) +
                                                            "|" + j->route->credentials.base_url;
      if (caps.shared_content) {
        // One from, reply-to and template per request; each address once (SendGrid refuses
        // duplicates, Mailgun keys recipient-variables by address).
        key.append("|").append(j->route->from.formatted());
        key.append("|").append(j->route->reply_to);
        key.append("|").append(std::to_string(reinterpret_cast<std::uintptr_t>(j->renderer)));
      }
      auto it = filling.find(key);
      if (it == filling.end() || groups[it->second].size() >= caps.max_batch) {
        groups.push_back({});
        it = filling.insert_or_assign(key, groups.size() - 1).first;
      }
      if (caps.shared_content) {
        std::string address = j->message->to_address;
        std::ranges::transform(address, address.begin(),
                               [](unsigned char c) { return std::tolower(c); });
        if (!recipients[it->second].insert(std::move(address)).second) {
          groups.push_back({j});
          continue;
        }
      }
      groups[it->second].push_back(j);
    }
    // A shared-content batch is the template rendered once with placeholders (the skeleton)
    // plus each message's values; a message the skeleton cannot reproduce exactly goes alone.
    // Once the skeleton has reproduced one rendered message exactly, the messages shaped like
    // it take their values without being rendered at all; the others are rendered and
    // compared.
    std::vector<std::vector<Job*>> alone;
    for (auto& group : groups) {
      if (group.size() < 2) continue;
      const auto& provider = provider_of(*group.front()->route);
      if (!provider.capabilities().shared_content) continue;
      // In id order (as the request will be), so the first message carries the content.
      std::sort(group.begin(), group.end(),
                [](const Job* a, const Job* b) { return a->message->id < b->message->id; });
      auto placeholder = [&](std::string_view name) { return provider.placeholder(name); };
      auto skeleton = group.front()->renderer->skeleton(group.front()->vars, placeholder);
      bool proven = false;  // the skeleton reproduced a rendered message exactly
      std::vector<Job*> kept;
      for (Job* j : group) {
        std::optional<Substitutions> subs;
        if (skeleton && proven && j->unrendered) subs = personalize_same_shape(*skeleton, j->vars);
        if (skeleton && !subs) {
          if (j->unrendered && !render(*j, now)) continue;  // failed, with the reason
          subs =
              personalize(*skeleton, j->vars,
                          Rendered{j->outbound->subject, j->outbound->text, j->outbound->html, ""});
          proven = proven || subs.has_value();
        }
        std::size_t bytes = 0;
        if (subs) {
          for (std::size_t k = 0; k < subs->size(); ++k)
            bytes += skeleton->slots[k].placeholder.size() + (*subs)[k].second.size();
        }
        if (!subs || bytes > kMaxSubstitutionBytes) {
          if (j->unrendered && !render(*j, now)) continue;
          alone.push_back({j});
          continue;
        }
        if (j->unrendered) {
          // What the log keeps of a campaign email: its subject.
          j->outcome.rendered = true;
          j->outcome.subject = substitute(skeleton->parts.subject, *skeleton, *subs);
          j->personalized = true;
        }
        // The adapter reads the shared content from the batch's first message only; the
        // others drop their copy (a fallback re-route renders them again).
        j->outbound->subject = skeleton->parts.subject;
        j->outbound->text = kept.empty() ? skeleton->parts.text : std::string();
        j->outbound->html = kept.empty() ? skeleton->parts.html : std::string();
        j->outbound->substitutions = std::move(*subs);
        kept.push_back(j);
      }
      group = std::move(kept);
    }
    for (auto& g : alone) groups.push_back(std::move(g));
    // Whatever goes with content of its own (alone, or a batch of one) is rendered now.
    for (auto& group : groups) {
      std::erase_if(group,
                    [&](Job* j) { return j->unrendered && !j->personalized && !render(*j, now); });
    }
    std::erase_if(groups, [](const std::vector<Job*>& g) { return g.empty(); });
    // Each provider account spends only its own budget (one token per request); over it, the
    // messages wait their turn in the queue (not an attempt).
    std::vector<std::vector<Job*>> ready;
    for (auto& group : groups) {
      std::sort(group.begin(), group.end(),
                [](const Job* a, const Job* b) { return a->message->id < b->message->id; });
      const Route& route = *group.front()->route;
      const RateLimit limit = limit_for(route);
      if (auto wait = limiter_.try_acquire(account_key(route.credentials), limit)) {
        for (Job* j : group) {
          j->outcome.status = MessageStatus::queued;
          j->outcome.next_attempt_at = now + *wait;
          j->done = true;
        }
        continue;
      }
      ready.push_back(std::move(group));
    }
    // Where the provider dedupes by idempotency key (Resend), each send unit — a batch, or a
    // single message — is written down before it is sent, so a crash cannot regroup it and
    // change the key. One transaction for the round's new units.
    auto new_unit = [](const std::vector<Job*>& group) {
      const auto& provider = provider_of(*group.front()->route);
      return provider.capabilities().idempotency_keys && group.front()->message->batch_id.empty();
    };
    // Queued members are written down in their rows; members taken from an audience in their
    // chunks, rewritten whole.
    std::vector<bool> unit(ready.size());
    std::vector<std::vector<std::string>> units;
    std::set<std::size_t> rewrite;  // chunks, by index
    for (std::size_t g = 0; g < ready.size(); ++g) unit[g] = new_unit(ready[g]);
    for (std::size_t g = 0; g < ready.size(); ++g) {
      if (!unit[g]) continue;
      const std::string batch = ready[g].front()->message->id;
      std::vector<std::string> ids{batch};  // the first names the batch
      for (Job* j : ready[g]) {
        j->message->batch_id = batch;
        if (j->outcome.fresh) {
          auto at = static_cast<std::size_t>(j->message - claimed->data());
          for (std::size_t c = 0; c < chunks.size(); ++c)
            if (at >= chunks[c].first && at < chunks[c].first + chunks[c].count) rewrite.insert(c);
        } else if (j != ready[g].front()) {
          ids.push_back(j->message->id);
        }
      }
      if (ids.size() > 1 || !ready[g].front()->outcome.fresh) units.push_back(std::move(ids));
    }
    Result<void> assigned;
    if (!units.empty()) assigned = store.assign_batches(units);
    for (std::size_t c : rewrite) {
      if (!assigned) break;
      assigned = store.campaigns().update_chunk(
          chunks[c].id, std::span(*claimed).subspan(chunks[c].first, chunks[c].count));
    }
    if (!assigned) {
      // Not sent unrecorded: back to the queue shortly, without a batch.
      spdlog::error("worker {}: cannot record batches: {}", worker, assigned.error().message);
      std::vector<std::vector<Job*>> kept;
      for (std::size_t g = 0; g < ready.size(); ++g) {
        if (!unit[g]) {
          kept.push_back(std::move(ready[g]));
          continue;
        }
        for (Job* j : ready[g]) {
          j->message->batch_id.clear();
          j->outcome.status = MessageStatus::queued;
          j->outcome.next_attempt_at = now + std::chrono::seconds(1);
          j->done = true;
        }
      }
      ready = std::move(kept);
    }
    // Requests go out a slice at a time and each slice's outcomes are written as soon as it is
    // answered, so a crash re-sends at most one slice per worker (providers without an
    // idempotency key see those twice), not a whole pass.
    std::vector<Job*> fallback;
    for (std::size_t first = 0; first < ready.size(); first += kRequestsPerSlice) {
      const std::size_t last = std::min(ready.size(), first + kRequestsPerSlice);
      std::vector<HttpRequest> requests;
      requests.reserve(last - first);
      for (std::size_t g = first; g < last; ++g) {
        // The request takes the content: the jobs keep only what a re-route needs (their
        // headers; a message whose body the log does not keep is rendered again for it), so a
        // pass holds one copy of each body while its requests are out.
        std::vector<OutboundMessage> batch;
        batch.reserve(ready[g].size());
        for (Job* j : ready[g]) batch.push_back(std::move(*j->outbound));
        const Route& route = *ready[g].front()->route;
        requests.push_back(provider_of(route).build_send(route.credentials, batch));
        for (std::size_t k = 0; k < batch.size(); ++k) {
          Job* j = ready[g][k];
          j->outbound->headers = std::move(batch[k].headers);
          if (!j->outcome.keep_body) j->unrendered = true;
        }
      }
      auto responses = http.perform_all(requests);
      // Per-message outcomes, in request order.
      std::vector<Job*> sent;
      std::vector<SendOutcome> outcomes;
      for (std::size_t g = first; g < last; ++g) {
        const auto& provider = provider_of(*ready[g].front()->route);
        const auto& response = responses[g - first];
        std::vector<SendOutcome> got;
        if (response) {
          got = provider.classify_send(*response, ready[g].size());
        } else {
          got = provider.classify_send(HttpResponse{}, ready[g].size());
          for (auto& o : got) o.reason = response.error().message;
        }
        got.resize(ready[g].size(),
                   SendOutcome{OutcomeKind::retryable, "", std::nullopt, "no outcome", 0});
        for (std::size_t k = 0; k < ready[g].size(); ++k) {
          sent.push_back(ready[g][k]);
          outcomes.push_back(std::move(got[k]));
        }
      }
      for (std::size_t i = 0; i < sent.size(); ++i) {
        Job& j = *sent[i];
        SendOutcome& o = outcomes[i];
        j.outcome.attempts += 1;
        RouteSummary summary = summarize(*j.route);
        j.outcome.route = summary;
        j.outcome.attempts_made.push_back(Attempt{j.outcome.attempts, now, summary,
                                                  std::string(providers::to_string(o.kind)),
                                                  o.http_status, o.reason, o.provider_message_id});
        bool agent_route = j.route->via == Via::agent;
        // The integration's health as this pass knows it, so each change is written once.
        auto key = std::pair{j.message->agent_id, j.message->channel};
        auto known = integration_status.find(key);
        if (known == integration_status.end()) {
          IntegrationStatus st = IntegrationStatus::ok;
          if (const auto& in = j.agent->integration(j.message->channel)) st = in->status;
          known = integration_status.emplace(key, st).first;
        }
        IntegrationStatus& status = known->second;
        switch (o.kind) {
          case OutcomeKind::accepted:
            j.outcome.status = MessageStatus::sent;
            j.outcome.provider_message_id = o.provider_message_id;
            j.outcome.last_error.clear();
            j.outcome.events.push_back(
                {now, MessageStatus::sent, accepted_detail(j.route->provider)});
            if (agent_route && status == IntegrationStatus::failing) {
              (void)store.set_integration_status(j.message->agent_id, j.message->channel,
                                                 IntegrationStatus::ok, "", now);
              status = IntegrationStatus::ok;
            }
            j.done = true;
            break;
          case OutcomeKind::bad_credentials:
            if (agent_route) {
              std::string why = providers::display_name(j.route->provider) +
                                " did not accept your account's credentials: " + o.reason;
              if (status != IntegrationStatus::failing) {
                (void)store.set_integration_status(j.message->agent_id, j.message->channel,
                                                   IntegrationStatus::failing, why, now);
                status = IntegrationStatus::failing;
              }
              if (j.agent->fallback_to_platform) {
                auto platform_route =
                    herald::platform_route(*j.agent, j.message->channel, platform);
                if (platform_route) {
                  // Re-sent with content of its own: one that went out personalized is
                  // rendered by the next round.
                  j.personalized = false;
                  j.outcome.events.push_back(
                      {now, MessageStatus::retrying,
                       why + "; sending through the platform's account instead"});
                  j.route = std::move(*platform_route);
                  Headers extra = std::move(j.outbound->headers);
                  j.outbound = make_outbound(*j.message, *j.route);
                  j.outbound->headers = std::move(extra);
                  if (!j.unrendered) {
                    set_content(*j.outbound, Rendered{j.outcome.subject, j.outcome.text,
                                                      j.outcome.html, j.outcome.text});
                  }
                  fallback.push_back(&j);
                  break;
                }
              }
              j.outcome.status = MessageStatus::failed;
              j.outcome.last_error = why;
              j.outcome.events.push_back({now, MessageStatus::failed, why});
              j.done = true;
              break;
            }
            // The platform's own key was rejected: the operator must fix it; retry meanwhile.
            [[fallthrough]];
          case OutcomeKind::retryable:
            j.outcome.last_error = o.reason;
            if (j.outcome.attempts >= options_.retry.max_attempts) {
              j.outcome.status = MessageStatus::failed;
              j.outcome.events.push_back({now, MessageStatus::failed,
                                          "gave up after " + std::to_string(j.outcome.attempts) +
                                              " attempts: " + o.reason});
            } else {
              j.outcome.status = MessageStatus::retrying;
              j.outcome.next_attempt_at =
                  now +
                  options_.retry.delay(j.outcome.attempts, o.retry_after, randombytes_random());
              j.outcome.events.push_back({now, MessageStatus::retrying, o.reason});
            }
            j.done = true;
            break;
          case OutcomeKind::permanent:
            j.outcome.status = MessageStatus::failed;
            j.outcome.last_error = o.reason;
            j.outcome.events.push_back({now, MessageStatus::failed, o.reason});
            j.done = true;
            break;
        }
      }
      flush();
    }
    round = std::move(fallback);
  };

  std::vector<Job*> round;
  for (Job& j : jobs)
    if (!j.done) round.push_back(&j);
  // Round one over each message's resolved route; round two re-routes rejected agent keys.
  for (int r = 0; r < 2 && !round.empty(); ++r) send_round(round);

  for (Job& j : jobs) j.done = true;  // whatever is left (deferred, failed early) is final now
  flush();
  // Every message of the pass's chunks is in the queue now, with its outcome. (Unrecorded, the
  // chunks stay and are queued again when their lease expires: at-least-once, never lost.)
  if (!chunks.empty() && all_recorded) {
    std::vector<std::string> ids;
    for (const auto& c : chunks) ids.push_back(c.id);
    if (auto r = store.campaigns().finish_chunks(ids); !r)
      spdlog::error("worker {}: cannot end campaign chunks: {}", worker, r.error().message);
  }
  return static_cast<int>(jobs.size());
}

}  // namespace herald::delivery
