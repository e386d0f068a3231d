#include "delivery/content.h"

namespace herald::delivery {

namespace {

// Campaign email of one template differs between recipients only in their values: once a
// skeleton of the template has reproduced one rendering exactly, a message shaped like that
// one (see personalize_same_shape) is the skeleton's text with its values put in, without
// Mustache. The rest are rendered.
Shortcut* shortcut_for(Pass& pass, const Job& job) {
  if (job.message->kind != MessageKind::campaign || job.message->channel != Channel::email)
    return nullptr;
  auto [it, added] = pass.shortcuts.try_emplace(job.renderer);
  if (added) {
    auto skeleton = job.renderer->skeleton(
        job.vars, [](std::string_view name) { return "\x1bherald:" + std::string(name) + "\x1b"; });
    if (skeleton) it->second.skeleton = std::move(*skeleton);
  }
  return &it->second;
}

// The job's rendering: through its template's proven skeleton when it has the skeleton's
// shape, else by Mustache (which proves or drops a skeleton on its first rendering).
Result<Rendered> rendering(Pass& pass, const Job& job) {
  Shortcut* shortcut = shortcut_for(pass, job);
  if (shortcut && shortcut->proven) {
    if (auto subs = personalize_same_shape(*shortcut->skeleton, job.vars)) {
      const Skeleton& k = *shortcut->skeleton;
      return Rendered{substitute(k.parts.subject, k, *subs), substitute(k.parts.text, k, *subs),
                      substitute(k.parts.html, k, *subs), ""};
    }
  }
  auto rendered = job.renderer->render(job.vars);
  // The skeleton is proven (or not) on the message it was made from: its first rendering.
  if (rendered && shortcut && shortcut->skeleton && !shortcut->proven) {
    shortcut->proven = personalize(*shortcut->skeleton, job.vars, *rendered).has_value();
    if (!shortcut->proven) shortcut->skeleton.reset();
  }
  return rendered;
}

// render_job's work, which may throw.
bool render_into(Pass& pass, Job& job) {
  auto rendered = rendering(pass, job);
  if (!rendered) {
    finish(job, pass.now, MessageStatus::failed, "cannot render: " + rendered.error().message);
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
}

}  // namespace

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

void set_content(OutboundMessage& out, Rendered r) {
  if (out.channel == Channel::email) {
    out.subject = std::move(r.subject);
    out.text = std::move(r.text);
    out.html = std::move(r.html);
  } else {
    out.body = std::move(r.body);
  }
}

bool render_job(Pass& pass, Job& job) {
  try {
    return render_into(pass, job);
  } catch (const std::exception& e) {
    fail_internally(pass, job, e.what());
    return false;
  }
}

}  // namespace herald::delivery
