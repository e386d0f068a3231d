#include "delivery/plan.h"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <map>
#include <set>
#include <string>

#include "delivery/content.h"
#include "delivery/rate_limiter.h"

namespace herald::delivery {

namespace {

void sort_by_id(SendUnit& unit) {
  std::sort(unit.begin(), unit.end(),
            [](const Job* a, const Job* b) { return a->message->id < b->message->id; });
}

// The key of the unit a job fills: its batch, else its account and route (and for shared
// content its from, reply-to and template).
std::string unit_key(const Job& j, bool shared_content) {
  std::string key = !j.message->batch_id.empty() ? "batch|" + j.message->batch_id
                                                 : account_key(j.route->credentials) + "|" +
                                                       std::string(to_string(j.route->via)) + "|" +
                                                       j.route->credentials.base_url;
  if (shared_content) {
    // One from, reply-to and template per request; each address once (SendGrid refuses
    // duplicates, Mailgun keys recipient-variables by address).
    key.append("|").append(j.route->from.formatted());
    key.append("|").append(j.route->reply_to);
    key.append("|").append(std::to_string(reinterpret_cast<std::uintptr_t>(j.renderer)));
  }
  return key;
}

std::string lowercase(std::string s) {
  std::ranges::transform(s, s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

// How a job went with its shared-content unit.
enum class Fit { failed, alone, joined };

// Puts `j` into its unit as the skeleton plus its values when the skeleton reproduces its
// rendering exactly (without rendering it once the skeleton is proven), else renders it to
// go alone. `first`: j is the first to join, whose request carries the shared content.
Fit fit_to_skeleton(Pass& pass, Job& j, const Result<Skeleton>& skeleton, bool& proven,
                    bool first) {
  std::optional<Substitutions> subs;
  if (skeleton && proven && j.unrendered) subs = personalize_same_shape(*skeleton, j.vars);
  if (skeleton && !subs) {
    if (j.unrendered && !render_job(pass, j)) return Fit::failed;  // with the reason
    subs = personalize(*skeleton, j.vars,
                       Rendered{j.outbound->subject, j.outbound->text, j.outbound->html, ""});
    proven = proven || subs.has_value();
  }
  std::size_t bytes = 0;
  if (subs) {
    for (std::size_t k = 0; k < subs->size(); ++k)
      bytes += skeleton->slots[k].placeholder.size() + (*subs)[k].second.size();
  }
  if (!subs || bytes > kMaxSubstitutionBytes) {
    if (j.unrendered && !render_job(pass, j)) return Fit::failed;
    return Fit::alone;
  }
  if (j.unrendered) {
    // What the log keeps of a campaign email: its subject.
    j.outcome.rendered = true;
    j.outcome.subject = substitute(skeleton->parts.subject, *skeleton, *subs);
    j.personalized = true;
  }
  // The adapter reads the shared content from the batch's first message only; the others drop
  // their copy (a fallback re-route renders them again).
  j.outbound->subject = skeleton->parts.subject;
  j.outbound->text = first ? skeleton->parts.text : std::string();
  j.outbound->html = first ? skeleton->parts.html : std::string();
  j.outbound->substitutions = std::move(*subs);
  return Fit::joined;
}

// The batch form of `job`'s template, built from its variables; none (its messages go alone)
// when building it throws.
template <class Placeholder>
Result<Skeleton> skeleton_of(const Job& job, const Placeholder& placeholder) {
  try {
    return job.renderer->skeleton(job.vars, placeholder);
  } catch (const std::exception& e) {
    return fail(Error::internal(e.what()));
  }
}

// Personalizes one shared-content unit; the messages that cannot join go to `alone`.
void personalize_unit(Pass& pass, SendUnit& unit, std::vector<SendUnit>& alone) {
  const auto& provider = provider_of(*unit.front()->route);
  // In id order (as the request will be), so the first message carries the content.
  sort_by_id(unit);
  auto placeholder = [&](std::string_view name) { return provider.placeholder(name); };
  auto skeleton = skeleton_of(*unit.front(), placeholder);
  bool proven = false;  // the skeleton reproduced a rendered message exactly
  SendUnit kept;
  for (Job* j : unit) {
    Fit fit = Fit::failed;
    try {
      fit = fit_to_skeleton(pass, *j, skeleton, proven, kept.empty());
    } catch (const std::exception& e) {
      fail_internally(pass, *j, e.what());
    }
    switch (fit) {
      case Fit::failed:
        break;
      case Fit::alone:
        alone.push_back({j});
        break;
      case Fit::joined:
        kept.push_back(j);
        break;
    }
  }
  unit = std::move(kept);
}

}  // namespace

void interleave_agents(std::vector<Job*>& round) {
  std::map<std::string, std::vector<Job*>> by_agent;
  std::vector<std::string> order;
  for (Job* j : round) {
    auto [it, added] = by_agent.try_emplace(j->message->agent_id);
    if (added) order.push_back(j->message->agent_id);
    it->second.push_back(j);
  }
  if (order.size() <= 1) return;
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

std::vector<SendUnit> group_jobs(const std::vector<Job*>& round) {
  std::vector<SendUnit> units;
  std::map<std::string, std::size_t> filling;
  std::map<std::size_t, std::set<std::string>> recipients;  // per shared-content unit
  for (Job* j : round) {
    const auto caps = provider_of(*j->route).capabilities();
    if (caps.max_batch <= 1) {
      units.push_back({j});
      continue;
    }
    std::string key = unit_key(*j, caps.shared_content);
    auto it = filling.find(key);
    if (it == filling.end() || units[it->second].size() >= caps.max_batch) {
      units.push_back({});
      it = filling.insert_or_assign(key, units.size() - 1).first;
    }
    if (caps.shared_content &&
        !recipients[it->second].insert(lowercase(j->message->to_address)).second) {
      units.push_back({j});
      continue;
    }
    units[it->second].push_back(j);
  }
  return units;
}

void personalize_units(Pass& pass, std::vector<SendUnit>& units) {
  std::vector<SendUnit> alone;
  for (auto& unit : units) {
    if (unit.size() < 2 || !provider_of(*unit.front()->route).capabilities().shared_content)
      continue;
    personalize_unit(pass, unit, alone);
  }
  for (auto& u : alone) units.push_back(std::move(u));
  // Whatever goes with content of its own (alone, or a batch of one) is rendered now.
  for (auto& unit : units) {
    std::erase_if(
        unit, [&](Job* j) { return j->unrendered && !j->personalized && !render_job(pass, *j); });
  }
  std::erase_if(units, [](const SendUnit& u) { return u.empty(); });
  for (auto& unit : units) sort_by_id(unit);
}

std::vector<SendUnit> plan_round(Pass& pass, std::vector<Job*>& round) {
  interleave_agents(round);
  std::vector<SendUnit> units = group_jobs(round);
  personalize_units(pass, units);
  return units;
}

}  // namespace herald::delivery
