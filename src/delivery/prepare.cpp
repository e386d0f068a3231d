#include "delivery/prepare.h"

#include "core/json_parse.h"
#include "core/quiet_hours.h"
#include "delivery/content.h"
#include "delivery/outage.h"

namespace herald::delivery {

namespace {

// The job's agent, opened once per pass.
const Result<Agent>& agent_for(Pass& pass, Sources& sources, const std::string& agent_id) {
  auto it = pass.agents.find(agent_id);
  if (it == pass.agents.end()) it = pass.agents.emplace(agent_id, sources.agent(agent_id)).first;
  return it->second;
}

// Campaign SMS waits for the recipient's local send window (quiet hours): deferred, not
// dropped. True when the job was deferred.
bool defer_for_quiet_hours(Job& job, const nlohmann::json& vars, const QuietHours& quiet,
                           TimePoint now) {
  const Message& m = *job.message;
  if (m.kind != MessageKind::campaign || m.channel != Channel::sms) return false;
  std::string zone =
      vars.is_object() ? vars.value("/contact/timeZone"_json_pointer, std::string()) : "";
  auto next = next_send_time(now, zone, quiet.window, quiet.default_time_zone);
  if (!next) return false;
  job.outcome.status = MessageStatus::queued;
  job.outcome.next_attempt_at = *next;
  job.outcome.events.push_back(
      {now, MessageStatus::queued,
       "quiet hours in " + (zone.empty() ? quiet.default_time_zone : zone)});
  job.done = true;
  return true;
}

// Back to the queue shortly, not an attempt: the database went away while the job was being
// prepared (nothing about the message is wrong).
void wait_for_database(Pass& pass, Job& job) {
  job.outcome.status = MessageStatus::queued;
  job.outcome.next_attempt_at = pass.now + std::chrono::seconds(1);
  job.done = true;
}

// The agent's template if it has one under this key, else the platform's; parsed once per
// pass. Null (the job failed, with the reason) when there is none.
const TemplateRenderer* renderer_for(Pass& pass, Sources& sources, Job& job) {
  const Message& m = *job.message;
  std::string tkey = m.agent_id + "\n" + m.template_key + "\n" + std::string(to_string(m.channel));
  auto rit = pass.renderers.find(tkey);
  if (rit == pass.renderers.end()) {
    auto compiled = sources.template_for(m.agent_id, m.template_key, m.channel);
    if (!compiled && database_unreachable(compiled.error())) {
      wait_for_database(pass, job);
      return nullptr;
    }
    std::optional<TemplateRenderer> r;
    std::string why;
    if (compiled) {
      r.emplace(std::move(*compiled), *job.agent, sources.platform().name);
    } else {
      why = compiled.error().message;
    }
    rit = pass.renderers.emplace(tkey, std::pair{std::move(r), why}).first;
  }
  if (!rit->second.first) {
    finish(job, pass.now, MessageStatus::failed, "cannot render: " + rit->second.second);
    return nullptr;
  }
  return &*rit->second.first;
}

// The job's route; false when there is none. Only the platform's own account can be
// unconfigured; the operator can fix that, so the message waits (an attempt each time).
bool route_job(Pass& pass, const PlatformConfig& platform, Job& job) {
  auto route = resolve_route(*job.agent, job.message->channel, platform);
  if (route && !providers::find_provider(route->provider)) {
    // A provider name Herald does not know (stored by a newer or older version): never a
    // silent default.
    finish(job, pass.now, MessageStatus::failed,
           "the " + std::string(to_string(job.message->channel)) +
               " provider saved in your settings (\"" + route->provider +
               "\") is not one Herald can send with; connect the account again in Settings");
    return false;
  }
  if (route) {
    job.route = std::move(*route);
    return true;
  }
  job.outcome.attempts += 1;
  job.outcome.last_error = route.error().message;
  if (job.outcome.attempts >= pass.retry->max_attempts) {
    finish(job, pass.now, MessageStatus::failed, "no route: " + route.error().message);
  } else {
    job.outcome.status = MessageStatus::retrying;
    job.outcome.next_attempt_at =
        pass.now + pass.retry->delay(job.outcome.attempts, std::nullopt, pass.random());
    job.outcome.events.push_back(
        {pass.now, MessageStatus::retrying, "no route: " + route.error().message});
    job.done = true;
  }
  return false;
}

// The job's outbound message, rendered now unless it may take its batch's skeleton; campaign
// email carries one-click unsubscribe (RFC 8058) plus a mailto fallback.
void prepare_content(Pass& pass, Job& job, const std::string& unsubscribe_url) {
  const Message& m = *job.message;
  const bool campaign_email = m.kind == MessageKind::campaign && m.channel == Channel::email;
  job.outcome.keep_body = !campaign_email;
  job.unrendered = campaign_email && provider_of(*job.route).capabilities().shared_content;
  job.outbound = make_outbound(m, *job.route);
  if (!job.unrendered && !render_job(pass, job)) return;
  if (!campaign_email) return;
  std::string mailto = job.route->reply_to.empty() ? job.route->from.address : job.route->reply_to;
  job.outbound->headers.emplace_back(
      "List-Unsubscribe", "<" + unsubscribe_url + ">, <mailto:" + mailto + "?subject=unsubscribe>");
  job.outbound->headers.emplace_back("List-Unsubscribe-Post", "List-Unsubscribe=One-Click");
}

// Prepares one job (see prepare.h).
void prepare_job(Pass& pass, const PrepareContext& ctx, Job& job) {
  const Message& m = *job.message;
  const Result<Agent>& agent = agent_for(pass, ctx.sources, m.agent_id);
  if (!agent && database_unreachable(agent.error())) {
    wait_for_database(pass, job);
    return;
  }
  if (!agent) {
    finish(job, pass.now, MessageStatus::failed, "cannot load agent: " + agent.error().message);
    return;
  }
  job.agent = &*agent;
  if (ctx.suppressed.contains({m.agent_id, m.channel, m.to_address})) {
    finish(job, pass.now, MessageStatus::suppressed, "this address is on your suppression list");
    return;
  }
  auto vars = parse_json(m.vars_json);
  if (!vars.is_object()) vars = nlohmann::json::object();
  std::string unsubscribe_url;
  if (m.kind == MessageKind::campaign) {
    unsubscribe_url = ctx.sources.unsubscribe_url(m.agent_id, m.channel, m.to_address);
    vars["unsubscribeUrl"] = unsubscribe_url;
  }
  if (defer_for_quiet_hours(job, vars, ctx.quiet_hours, pass.now)) return;
  job.renderer = renderer_for(pass, ctx.sources, job);
  if (job.done) return;  // waits for the database
  if (!job.renderer || !route_job(pass, ctx.sources.platform(), job)) return;
  job.vars = std::move(vars);
  prepare_content(pass, job, unsubscribe_url);
}

}  // namespace

void prepare_jobs(Pass& pass, const PrepareContext& context) {
  pass.jobs.resize(pass.claimed.size());
  for (std::size_t i = 0; i < pass.claimed.size(); ++i) {
    Job& job = pass.jobs[i];
    Message& m = pass.claimed[i];
    job.message = &m;
    job.outcome.message_id = m.id;
    job.outcome.agent_id = m.agent_id;
    job.outcome.attempts = m.attempts;
    if (i >= pass.fresh_from) job.outcome.fresh = &m;
    try {
      prepare_job(pass, context, job);
    } catch (const std::exception& e) {
      fail_internally(pass, job, e.what());
    }
  }
}

}  // namespace herald::delivery
