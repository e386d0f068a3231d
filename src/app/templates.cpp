#include "app/templates.h"

#include <algorithm>
#include <regex>

#include "app/agents.h"
#include "core/id.h"

namespace herald::app {

namespace {

using nlohmann::json;

// What a tid names (see the header for the forms).
struct Ref {
  enum class Kind { agent, platform, effective } kind = Kind::effective;
  std::string id;
  std::string key;
  std::optional<Channel> channel;
};

bool is_slug(const std::string& s) {
  static const std::regex re("^[a-z0-9_-]{1,64}$");
  return std::regex_match(s, re);
}

bool looks_like_uuid(std::string_view s) {
  if (s.size() != 36) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? s[i] != '-' : !std::isxdigit(static_cast<unsigned char>(s[i]))) return false;
  }
  return true;
}

Error template_not_found() {
  return Error::not_found("template not found");
}

std::optional<Ref> parse_ref(const std::string& tid) {
  if (looks_like_uuid(tid)) return Ref{Ref::Kind::agent, tid, "", std::nullopt};
  std::string rest = tid;
  Ref ref;
  if (rest.starts_with("default:")) {
    ref.kind = Ref::Kind::platform;
    rest = rest.substr(8);
  }
  auto colon = rest.find(':');
  if (colon != std::string::npos) {
    ref.channel = parse_channel(rest.substr(colon + 1));
    if (!ref.channel) return std::nullopt;
    rest = rest.substr(0, colon);
  } else if (ref.kind == Ref::Kind::platform) {
    return std::nullopt;
  }
  if (!is_slug(rest)) return std::nullopt;
  ref.key = rest;
  return ref;
}

std::string default_id(std::string_view key, Channel channel) {
  return "default:" + std::string(key) + ":" + std::string(to_string(channel));
}

// Email templates list what a campaign would still need; parsing is cheap next to I/O here.
std::vector<FieldError> gaps_of(Channel channel, const TemplateParts& parts) {
  if (channel != Channel::email) return {};
  auto compiled = CompiledTemplate::compile(channel, parts);
  if (!compiled) return {};
  return compiled->campaign_gaps();
}

TemplateInfo info_of(const BuiltinTemplate& b, bool overridden) {
  TemplateInfo t;
  t.id = default_id(b.key, b.channel);
  t.source = TemplateSource::platform;
  t.key = std::string(b.key);
  t.channel = b.channel;
  t.name = std::string(b.name);
  t.parts = b.parts();
  t.overridden = overridden;
  if (auto compiled = compiled_builtin(b.key, b.channel))
    t.campaign_gaps = compiled->campaign_gaps();
  return t;
}

TemplateInfo info_of(const store::TemplateRow& row) {
  TemplateInfo t;
  t.id = row.id;
  t.source = TemplateSource::agent;
  t.key = row.key;
  t.channel = row.channel;
  t.name = row.name;
  t.parts = {row.subject, row.html, row.text, row.body};
  t.version = row.version;
  t.created_at = row.created_at;
  t.updated_at = row.updated_at;
  t.overrides_default = find_builtin(row.key, row.channel) != nullptr;
  t.campaign_gaps = gaps_of(row.channel, t.parts);
  return t;
}

// The agent's template under (key, channel), else the platform default, else nullopt.
Result<std::optional<TemplateInfo>> effective(App& app, const std::string& agent_id,
                                              const std::string& key, Channel channel) {
  auto row = app.store().templates().find_by_key(agent_id, key, channel);
  if (!row) return std::unexpected(row.error());
  if (*row) return std::optional<TemplateInfo>(info_of(**row));
  if (const BuiltinTemplate* b = find_builtin(key, channel)) {
    return std::optional<TemplateInfo>(info_of(*b, false));
  }
  return std::optional<TemplateInfo>();
}

// Fixes the channel of a <key> ref: the one channel on which the key exists.
Result<Channel> channel_for_key(App& app, const std::string& agent_id, const Ref& ref) {
  if (ref.channel) return *ref.channel;
  std::vector<Channel> found;
  for (Channel c : {Channel::email, Channel::sms}) {
    auto t = effective(app, agent_id, ref.key, c);
    if (!t) return std::unexpected(t.error());
    if (*t) found.push_back(c);
  }
  if (found.empty()) return fail(template_not_found());
  if (found.size() > 1) {
    return fail(Error::invalid("tid", "\"" + ref.key + "\" exists for email and sms; use " +
                                          ref.key + ":email or " + ref.key + ":sms"));
  }
  return found[0];
}

// Validates name and parts; collects every field error.
void check_content(Channel channel, const TemplateInput& in, std::vector<FieldError>& errors) {
  if (in.name) {
    if (in.name->size() > 200) errors.push_back({"name", "must be at most 200 characters"});
    if (std::any_of(in.name->begin(), in.name->end(),
                    [](unsigned char c) { return c < 0x20 || c == 0x7f; })) {
      errors.push_back({"name", "must be a single line without control characters"});
    }
  }
  auto parts = validate_template(channel, {in.subject, in.html, in.text, in.body});
  errors.insert(errors.end(), parts.begin(), parts.end());
}

// A new template's channel, and its parts judged against that channel (they can only be
// judged against one). Empty when the channel is missing or unknown.
std::optional<Channel> check_channel_and_content(const TemplateInput& in,
                                                 std::vector<FieldError>& errors) {
  std::optional<Channel> channel;
  if (!in.channel || in.channel->empty()) {
    errors.push_back({"channel", "is required (email or sms)"});
  } else if (!(channel = parse_channel(*in.channel))) {
    errors.push_back({"channel", "must be email or sms"});
  }
  if (channel) check_content(*channel, in, errors);
  return channel;
}

std::string trimmed(const std::string& s) {
  auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return {};
  auto e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

Result<void> check_room(App& app, const std::string& agent_id) {
  auto n = app.store().templates().count(agent_id);
  if (!n) return std::unexpected(n.error());
  if (*n >= kMaxTemplatesPerAgent) {
    return fail(Errc::conflict, "an agent may have at most " +
                                    std::to_string(kMaxTemplatesPerAgent) +
                                    " templates; delete one first");
  }
  return {};
}

store::TemplateRow new_row(App& app, const std::string& agent_id, const std::string& key,
                           Channel channel, std::string name, const TemplateInput& in) {
  store::TemplateRow row;
  row.id = new_id();
  row.agent_id = agent_id;
  row.key = key;
  row.channel = channel;
  row.name = std::move(name);
  row.subject = in.subject;
  row.html = in.html;
  row.text = in.text;
  row.body = in.body;
  row.version = 1;
  row.created_at = row.updated_at = app.clock().now();
  return row;
}

// Only the agent's name and branding matter for rendering; no secret is opened.
Agent sender_of(const store::AgentRecord& rec) {
  Agent a;
  a.id = rec.agent.id;
  a.name = rec.agent.name;
  a.contact_email = rec.agent.email;
  a.fallback_to_platform = rec.agent.fallback_to_platform;
  a.branding = rec.branding;
  return a;
}

// The caller's sample merged over the defaults; each bad value named ("sample.contact.name").
Result<json> merge_sample(const App& app, const json& sample) {
  json out = default_sample(app);
  if (sample.is_null()) return out;
  if (!sample.is_object()) {
    return fail(
        Error::invalid("sample", "must be an object with contact, listing or unsubscribeUrl"));
  }
  std::vector<FieldError> errors;
  for (const char* group : {"contact", "seller", "listing"}) {
    auto it = sample.find(group);
    if (it == sample.end() || it->is_null()) continue;
    std::string path = std::string("sample.") + group;
    if (!it->is_object()) {
      errors.push_back({path, "must be an object"});
      continue;
    }
    bool ok = true;
    for (const auto& [k, v] : it->items()) {
      if (!(v.is_string() || v.is_number() || v.is_boolean() || v.is_null())) {
        errors.push_back({path + "." + k, "must be a string or a number"});
        ok = false;
      }
    }
    if (!ok) continue;
    json& target = out[group];
    if (!target.is_object()) target = json::object();
    // A sample name or price replaces the derived field too, unless that is given as well.
    if (it->contains("name") && !it->contains("firstName")) target.erase("firstName");
    if (it->contains("price") && !it->contains("priceFormatted")) target.erase("priceFormatted");
    target.merge_patch(*it);
  }
  if (auto it = sample.find("unsubscribeUrl"); it != sample.end() && !it->is_null()) {
    if (!it->is_string()) {
      errors.push_back({"sample.unsubscribeUrl", "must be a string"});
    } else {
      out["unsubscribeUrl"] = *it;
    }
  }
  if (!errors.empty()) return fail(Error::invalid(std::move(errors)));
  return out;
}

Result<Preview> render_preview(App& app, const std::string& agent_id, TemplateInfo info,
                               const json& sample) {
  auto rec = get_agent(app, agent_id);
  if (!rec) return std::unexpected(rec.error());
  auto vars = merge_sample(app, sample);
  if (!vars) return std::unexpected(vars.error());
  auto compiled = CompiledTemplate::compile(info.channel, info.parts);
  if (!compiled) return std::unexpected(compiled.error());
  auto rendered = compiled->render(*vars, SenderContext(sender_of(*rec), app.platform().name));
  if (!rendered) return std::unexpected(rendered.error());
  Preview p;
  p.info = std::move(info);
  p.rendered = std::move(*rendered);
  p.sample = std::move(*vars);
  if (p.info.channel == Channel::sms) p.sms = sms_segments(p.rendered.body);
  return p;
}

}  // namespace

std::string_view to_string(TemplateSource s) {
  return s == TemplateSource::agent ? "agent" : "platform";
}

nlohmann::json default_sample(const App& app) {
  std::string base =
      app.config().public_url.empty() ? "https://example.com" : app.config().public_url;
  return {{"contact",
           {{"name", "Jordan Rivera"},
            {"firstName", "Jordan"},
            {"email", "jordan.rivera@example.com"},
            {"phone", "+14155550123"},
            {"role", "buyer"}}},
          {"listing",
           {{"id", "sample-listing"},
            {"address", "123 Maple Street, Springfield"},
            {"price", 675000},
            {"priceFormatted", "$675,000"},
            {"url", "https://example.com/listings/123-maple-street"}}},
          {"unsubscribeUrl", base + "/u/preview"}};
}

Result<std::vector<TemplateInfo>> list_templates(App& app, const std::string& agent_id,
                                                 std::optional<Channel> channel) {
  if (auto rec = get_agent(app, agent_id); !rec) return std::unexpected(rec.error());
  auto rows = app.store().templates().list(agent_id, channel);
  if (!rows) return std::unexpected(rows.error());
  std::vector<TemplateInfo> out;
  for (const auto& b : builtin_templates()) {
    if (channel && b.channel != *channel) continue;
    bool overridden = std::any_of(rows->begin(), rows->end(), [&](const store::TemplateRow& r) {
      return r.key == b.key && r.channel == b.channel;
    });
    out.push_back(info_of(b, overridden));
  }
  for (const auto& r : *rows) out.push_back(info_of(r));
  // By key, then channel, the platform default before the agent's override.
  std::stable_sort(out.begin(), out.end(), [](const TemplateInfo& a, const TemplateInfo& b) {
    return std::tuple(a.key, a.channel, a.source) < std::tuple(b.key, b.channel, b.source);
  });
  return out;
}

Result<TemplateInfo> get_template(App& app, const std::string& agent_id, const std::string& tid) {
  if (auto rec = get_agent(app, agent_id); !rec) return std::unexpected(rec.error());
  auto ref = parse_ref(tid);
  if (!ref) return fail(template_not_found());
  switch (ref->kind) {
    case Ref::Kind::agent: {
      auto row = app.store().templates().find(agent_id, ref->id);
      if (!row) return std::unexpected(row.error());
      if (!*row) return fail(template_not_found());
      return info_of(**row);
    }
    case Ref::Kind::platform: {
      const BuiltinTemplate* b = find_builtin(ref->key, *ref->channel);
      if (!b) return fail(template_not_found());
      auto row = app.store().templates().find_by_key(agent_id, ref->key, *ref->channel);
      if (!row) return std::unexpected(row.error());
      return info_of(*b, row->has_value());
    }
    case Ref::Kind::effective:
      break;
  }
  auto channel = channel_for_key(app, agent_id, *ref);
  if (!channel) return std::unexpected(channel.error());
  auto t = effective(app, agent_id, ref->key, *channel);
  if (!t) return std::unexpected(t.error());
  if (!*t) return fail(template_not_found());
  return std::move(**t);
}

Result<TemplateInfo> create_template(App& app, const std::string& agent_id,
                                     const TemplateInput& in) {
  std::vector<FieldError> errors;
  std::string key = in.key ? trimmed(*in.key) : std::string();
  if (key.empty()) {
    errors.push_back({"key", "is required"});
  } else if (!is_slug(key)) {
    errors.push_back({"key", "must be 1 to 64 characters of a-z, 0-9, _ and -"});
  } else if (looks_like_uuid(key)) {
    errors.push_back({"key", "must not look like a template id"});
  }
  std::optional<Channel> channel = check_channel_and_content(in, errors);
  if (!errors.empty()) return fail(Error::invalid(std::move(errors)));
  if (auto rec = get_agent(app, agent_id); !rec) return std::unexpected(rec.error());
  if (auto room = check_room(app, agent_id); !room) return std::unexpected(room.error());

  std::string name = in.name ? trimmed(*in.name) : std::string();
  if (name.empty()) {
    const BuiltinTemplate* b = find_builtin(key, *channel);
    name = b ? std::string(b->name) : key;
  }
  store::TemplateRow row = new_row(app, agent_id, key, *channel, std::move(name), in);
  if (auto r = app.store().templates().create(row); !r) return std::unexpected(r.error());
  return info_of(row);
}

Result<SavedTemplate> put_template(App& app, const std::string& agent_id, const std::string& tid,
                                   const TemplateInput& in) {
  if (auto rec = get_agent(app, agent_id); !rec) return std::unexpected(rec.error());
  auto ref = parse_ref(tid);
  if (!ref) return fail(template_not_found());

  // Find what is being replaced: one of the agent's templates, or a default to override.
  std::optional<store::TemplateRow> existing;
  const BuiltinTemplate* base = nullptr;
  std::string key;
  Channel channel = Channel::email;
  if (ref->kind == Ref::Kind::agent) {
    auto row = app.store().templates().find(agent_id, ref->id);
    if (!row) return std::unexpected(row.error());
    if (!*row) return fail(template_not_found());
    existing = std::move(**row);
    key = existing->key;
    channel = existing->channel;
  } else {
    auto c = channel_for_key(app, agent_id, *ref);
    if (!c) return std::unexpected(c.error());
    key = ref->key;
    channel = *c;
    base = find_builtin(key, channel);
    if (ref->kind == Ref::Kind::platform && !base) return fail(template_not_found());
    auto row = app.store().templates().find_by_key(agent_id, key, channel);
    if (!row) return std::unexpected(row.error());
    if (*row) existing = std::move(**row);
    if (!existing && !base) return fail(template_not_found());
  }

  std::vector<FieldError> errors;
  if (in.key && trimmed(*in.key) != key) {
    errors.push_back(
        {"key", "cannot be changed (it is \"" + key + "\"); create a new template instead"});
  }
  if (in.channel && parse_channel(*in.channel) != channel) {
    errors.push_back({"channel", "cannot be changed (it is " + std::string(to_string(channel)) +
                                     "); create a new template instead"});
  }
  check_content(channel, in, errors);
  if (!errors.empty()) return fail(Error::invalid(std::move(errors)));
  std::string name = in.name ? trimmed(*in.name) : std::string();

  if (existing) {
    store::TemplateRow row = *existing;
    if (!name.empty()) row.name = std::move(name);
    row.subject = in.subject;
    row.html = in.html;
    row.text = in.text;
    row.body = in.body;
    row.updated_at = app.clock().now();
    auto saved = app.store().templates().update(row);
    if (!saved) return std::unexpected(saved.error());
    if (!*saved) return fail(template_not_found());  // deleted meanwhile
    return SavedTemplate{info_of(**saved), false};
  }
  if (auto room = check_room(app, agent_id); !room) return std::unexpected(room.error());
  if (name.empty()) name = std::string(base->name);
  store::TemplateRow row = new_row(app, agent_id, key, channel, std::move(name), in);
  if (auto r = app.store().templates().create(row); !r) return std::unexpected(r.error());
  return SavedTemplate{info_of(row), true};
}

Result<void> delete_template(App& app, const std::string& agent_id, const std::string& tid) {
  if (auto rec = get_agent(app, agent_id); !rec) return std::unexpected(rec.error());
  auto ref = parse_ref(tid);
  if (!ref) return fail(template_not_found());
  auto cannot = [] {
    return fail(Errc::conflict,
                "a platform default cannot be deleted; delete your own template with its key to "
                "fall back to the default");
  };
  std::string id;
  if (ref->kind == Ref::Kind::agent) {
    id = ref->id;
  } else {
    auto channel = channel_for_key(app, agent_id, *ref);
    if (!channel) return std::unexpected(channel.error());
    if (ref->kind == Ref::Kind::platform) {
      return find_builtin(ref->key, *channel) ? cannot() : fail(template_not_found());
    }
    auto row = app.store().templates().find_by_key(agent_id, ref->key, *channel);
    if (!row) return std::unexpected(row.error());
    if (!*row) return find_builtin(ref->key, *channel) ? cannot() : fail(template_not_found());
    id = (*row)->id;
  }
  auto removed = app.store().templates().remove(agent_id, id);
  if (!removed) return std::unexpected(removed.error());
  if (!*removed) return fail(template_not_found());
  return {};
}

Result<Preview> preview_template(App& app, const std::string& agent_id, const std::string& tid,
                                 const nlohmann::json& sample) {
  auto info = get_template(app, agent_id, tid);
  if (!info) return std::unexpected(info.error());
  return render_preview(app, agent_id, std::move(*info), sample);
}

Result<Preview> preview_draft(App& app, const std::string& agent_id, const TemplateInput& in,
                              const nlohmann::json& sample) {
  std::vector<FieldError> errors;
  std::optional<Channel> channel = check_channel_and_content(in, errors);
  if (!errors.empty()) return fail(Error::invalid(std::move(errors)));
  TemplateInfo info;
  info.source = TemplateSource::agent;
  info.key = in.key ? trimmed(*in.key) : std::string();
  info.channel = *channel;
  info.name = in.name ? trimmed(*in.name) : std::string();
  info.parts = {in.subject, in.html, in.text, in.body};
  info.campaign_gaps = gaps_of(*channel, info.parts);
  return render_preview(app, agent_id, std::move(info), sample);
}

Result<ResolvedTemplate> resolve_template(App& app, const std::string& agent_id,
                                          const std::string& key_or_id, Channel channel) {
  auto ref = parse_ref(key_or_id);
  if (!ref) return fail(Error::not_found("template \"" + key_or_id + "\" not found"));
  auto wrong_channel = [&](Channel actual) {
    return fail(Error::invalid("template", "\"" + key_or_id + "\" is an " +
                                               std::string(to_string(actual)) + " template, not " +
                                               std::string(to_string(channel))));
  };
  auto from_row = [&](const store::TemplateRow& row) -> Result<ResolvedTemplate> {
    if (row.channel != channel) return wrong_channel(row.channel);
    auto compiled =
        CompiledTemplate::compile(row.channel, {row.subject, row.html, row.text, row.body});
    if (!compiled) return std::unexpected(compiled.error());
    return ResolvedTemplate{
        row.id, row.key, row.channel, TemplateSource::agent, row.version, std::move(*compiled)};
  };
  if (ref->kind == Ref::Kind::agent) {
    auto row = app.store().templates().find(agent_id, ref->id);
    if (!row) return std::unexpected(row.error());
    if (!*row) return fail(Error::not_found("template \"" + key_or_id + "\" not found"));
    return from_row(**row);
  }
  if (ref->channel && *ref->channel != channel) return wrong_channel(*ref->channel);
  if (ref->kind == Ref::Kind::effective) {
    auto row = app.store().templates().find_by_key(agent_id, ref->key, channel);
    if (!row) return std::unexpected(row.error());
    if (*row) return from_row(**row);
  }
  auto compiled = compiled_builtin(ref->key, channel);
  if (!compiled) {
    return fail(Error::not_found("template \"" + ref->key + "\" not found for " +
                                 std::string(to_string(channel))));
  }
  return ResolvedTemplate{default_id(ref->key, channel), ref->key, channel,
                          TemplateSource::platform,      0,        std::move(*compiled)};
}

Result<Rendered> render(const ResolvedTemplate& tmpl, const nlohmann::json& vars,
                        const Agent& agent, std::string_view platform_name) {
  return tmpl.compiled.render(vars, SenderContext(agent, platform_name));
}

}  // namespace herald::app
