// Template services: an agent's templates over the platform defaults — list, create, replace,
// delete, preview — and, for senders, resolving a template once and rendering it per message.
//
// Template ids ("tid"):
//   <uuid>                    one of the agent's own templates
//   default:<key>:<channel>   a platform default, e.g. default:new_listing:email
//   <key>:<channel>           the effective template: the agent's override, else the default
//   <key>                     the same, when the key exists on one channel only
// An agent's template whose key and channel match a default overrides it; deleting the
// override falls back to the default.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "app/app.h"
#include "core/templates.h"

namespace herald::app {

// Where a template comes from.
enum class TemplateSource { platform, agent };
std::string_view to_string(TemplateSource s);

// A template as an agent sees it: a platform default or one of its own.
struct TemplateInfo {
  std::string id;
  TemplateSource source = TemplateSource::platform;
  std::string key;
  Channel channel = Channel::email;
  std::string name;
  TemplateParts parts;
  std::int64_t version = 0;             // agent templates: 1, 2, …; platform defaults: 0
  std::optional<TimePoint> created_at;  // agent templates only
  std::optional<TimePoint> updated_at;
  bool overridden = false;  // platform: the agent has its own template under this key/channel
  bool overrides_default = false;         // agent: this template replaces a platform default
  std::vector<FieldError> campaign_gaps;  // email: what a campaign would still need
};

// What the API accepts to create or replace a template. Absent optional fields: on create,
// name defaults to the default's name or the key; on replace, key, channel and name keep their
// values (key and channel cannot change). The parts are always replaced as given.
struct TemplateInput {
  std::optional<std::string> key;
  std::optional<std::string> channel;
  std::optional<std::string> name;
  std::string subject;
  std::string html;
  std::string text;
  std::string body;
};

// The most templates one agent may own.
inline constexpr std::int64_t kMaxTemplatesPerAgent = 500;

// Platform defaults and the agent's templates, defaults first within each key; one channel
// when `channel` is given.
Result<std::vector<TemplateInfo>> list_templates(App& app, const std::string& agent_id,
                                                 std::optional<Channel> channel);
// One template by tid; Errc::not_found when there is none for this agent.
Result<TemplateInfo> get_template(App& app, const std::string& agent_id, const std::string& tid);
// Validates and saves a new template (Errc::invalid_input naming each field and variable;
// Errc::conflict when the agent already has this key on this channel).
Result<TemplateInfo> create_template(App& app, const std::string& agent_id,
                                     const TemplateInput& input);

// The result of a replace: `created` when it made a new override of a platform default.
struct SavedTemplate {
  TemplateInfo info;
  bool created = false;
};
// Replaces the agent's template `tid`. A default's tid (default:<key>:<channel>, or
// <key>:<channel> without an override) creates or replaces the agent's override.
Result<SavedTemplate> put_template(App& app, const std::string& agent_id, const std::string& tid,
                                   const TemplateInput& input);
// Deletes the agent's template; a platform default cannot be deleted (Errc::conflict).
Result<void> delete_template(App& app, const std::string& agent_id, const std::string& tid);

// A rendered preview with the sample it used.
struct Preview {
  TemplateInfo info;  // for drafts: id empty, source agent
  Rendered rendered;
  nlohmann::json sample;  // the variables rendered (defaults merged with the caller's)
  std::optional<SmsSegments> sms;
};
// Renders template `tid` with the agent's branding and `sample` ({"contact":{…},
// "listing":{…}, "unsubscribeUrl":…}) merged over sensible sample data.
Result<Preview> preview_template(App& app, const std::string& agent_id, const std::string& tid,
                                 const nlohmann::json& sample);
// Validates and renders an unsaved template (the editor's live preview).
Result<Preview> preview_draft(App& app, const std::string& agent_id, const TemplateInput& input,
                              const nlohmann::json& sample);
// The sample variables a preview uses when the caller gives none.
nlohmann::json default_sample(const App& app);

// ---- for senders (campaigns, the dispatcher) ----

// A template chosen for one agent and channel and parsed once: render it for every message.
// Cheap to copy; copies share the parsed form, which is safe to render from many threads.
struct ResolvedTemplate {
  std::string id;  // the agent template's id, or default:<key>:<channel>
  std::string key;
  Channel channel = Channel::email;
  TemplateSource source = TemplateSource::platform;
  std::int64_t version = 0;  // changes whenever the agent edits the template
  CompiledTemplate compiled;
};

// Resolves `key_or_id` (any tid form above, or a bare key) for the agent on `channel`: the
// agent's override first, then the platform default. Errc::not_found when neither exists;
// Errc::invalid_input when an id names a template of the other channel.
Result<ResolvedTemplate> resolve_template(App& app, const std::string& agent_id,
                                          const std::string& key_or_id, Channel channel);

// Renders one message: `vars` holds contact / listing / unsubscribeUrl (see
// CompiledTemplate::render); branding comes from `agent`. No parsing, no validation.
Result<Rendered> render(const ResolvedTemplate& tmpl, const nlohmann::json& vars,
                        const Agent& agent, std::string_view platform_name);

}  // namespace herald::app
