// Message templates (Mustache) rendered with the agent's branding. Pure: no I/O.
//
// A template is checked once, when it is saved (validate_template), parsed once
// (CompiledTemplate::compile) and then rendered for every message without parsing or
// checking again. HTML output escapes every variable; subject, text and SMS output do not.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/types.h"

namespace herald {

// What a template renders to: subject/text/html for email, body for SMS.
struct Rendered {
  std::string subject;
  std::string text;
  std::string html;
  std::string body;
};

// The variables every template sees about the sender: agent.companyName, agent.signature,
// agent.website, agent.replyEmail, agent.postalAddress, agent.phone, agent.name,
// platform.name. `companyName` falls back to the platform name.
nlohmann::json branding_vars(const Agent& agent, std::string_view platform_name);

// Renders a built-in template ("seller_welcome", "new_listing", …) for a channel with `vars`
// (contact / seller / listing / unsubscribeUrl) and the agent's branding. HTML output escapes
// variables; text and SMS do not. Errc::not_found when there is no such built-in.
Result<Rendered> render_builtin(std::string_view template_key, Channel channel,
                                const nlohmann::json& vars, const Agent& agent,
                                std::string_view platform_name);

// Renders one Mustache template string against a JSON context (parses it every call).
Result<std::string> render_mustache(std::string_view tmpl, const nlohmann::json& context,
                                    bool html_escape);

// A template's source parts: email uses subject, html and text; SMS uses body.
struct TemplateParts {
  std::string subject;
  std::string html;
  std::string text;
  std::string body;
};

// Limits on a template's source.
inline constexpr std::size_t kMaxSubjectChars = 200;   // Unicode characters
inline constexpr std::size_t kMaxSmsBodyChars = 1600;  // Unicode characters (10 segments)
inline constexpr std::size_t kMaxHtmlBytes = 256 * 1024;
inline constexpr std::size_t kMaxTextBytes = 256 * 1024;

// The variables a template may use on `channel`, as dotted names ("contact.firstName").
// `seller.*` mirrors `contact.*` (the seller of a listing, for seller_welcome);
// `unsubscribeUrl` exists for email only (SMS recipients reply STOP).
std::span<const std::string_view> template_variables(Channel channel);

// Checks a template before it is saved: Mustache syntax; every variable, section and
// inverted section names a known variable (or a field of an enclosing object section);
// no unescaped output ({{{x}}} or {{&x}}) in HTML; no partials; the parts the channel needs
// (email: subject and html or text; SMS: body) and none of the other channel's; a one-line
// subject; size limits. Every problem names its field ("subject", "html", "text", "body")
// and, for variables, the variable. Empty: the template is valid.
std::vector<FieldError> validate_template(Channel channel, const TemplateParts& parts);

// One agent's branding variables (agent.*, platform.name), converted once so that rendering
// many messages for the same agent does not rebuild them.
class SenderContext {
 public:
  SenderContext(const Agent& agent, std::string_view platform_name);
  struct Impl;
  const Impl& impl() const { return *impl_; }

 private:
  std::shared_ptr<const Impl> impl_;
};

struct Skeleton;

// A template parsed once and rendered many times. Copies share the parsed form; rendering is
// const and safe from several threads at once (no lambdas or partials ever reach the data).
class CompiledTemplate {
 public:
  // Parses every non-empty part. Does not validate variables: call validate_template first
  // (templates are validated when saved, never per message).
  static Result<CompiledTemplate> compile(Channel channel, const TemplateParts& parts);

  Channel channel() const;
  // Whether `field` ("subject", "html", "text", "body") mentions `variable` in any tag.
  bool uses(std::string_view field, std::string_view variable) const;
  // Whether any part mentions `object` or one of its fields ("listing": listing.address, a
  // {{#listing}} section…): a message from it needs that object to say anything.
  bool uses_object(std::string_view object) const;
  // What an email template lacks for campaigns: each non-empty body part (html, text) must
  // use unsubscribeUrl and agent.postalAddress. Empty for SMS and for compliant email.
  std::vector<FieldError> campaign_gaps() const;

  // Renders with `vars` — {"contact":{…}, "seller":{…}, "listing":{…}, "unsubscribeUrl":…};
  // other keys are ignored — over the sender's branding. contact.firstName is derived from
  // contact.name and listing.priceFormatted from listing.price when absent; contact and
  // seller stand in for each other. Empty strings count as false in sections. Line breaks in
  // the rendered subject become spaces (it is a header).
  Result<Rendered> render(const nlohmann::json& vars, const SenderContext& sender) const;

  // Batch personalization (see Skeleton): renders once with `vars`, with a placeholder where
  // each of the message's own non-empty string values goes. `placeholder` turns a slot name
  // ("h3" for HTML, "t3" for subject and text) into the provider's tag for it.
  Result<Skeleton> skeleton(const nlohmann::json& vars, const SenderContext& sender,
                            const std::function<std::string(std::string_view)>& placeholder) const;

 private:
  struct Impl;
  std::shared_ptr<const Impl> impl_;
};

// A compiled template bound to one sender's branding, for rendering a batch: the branding
// variables are converted once instead of once per message. Safe to render from many threads.
class TemplateRenderer {
 public:
  TemplateRenderer(CompiledTemplate compiled, const Agent& agent, std::string_view platform_name)
      : compiled_(std::move(compiled)), sender_(agent, platform_name) {}
  Result<Rendered> render(const nlohmann::json& vars) const {
    return compiled_.render(vars, sender_);
  }
  // The batch form of render (see Skeleton), built from one message's `vars`.
  Result<Skeleton> skeleton(const nlohmann::json& vars,
                            const std::function<std::string(std::string_view)>& placeholder) const;

 private:
  CompiledTemplate compiled_;
  SenderContext sender_;
};

// One message's values for a Skeleton's slots: (slot name, value), in slot order.
using Substitutions = std::vector<std::pair<std::string, std::string>>;

// A template rendered once for a whole batch, for providers that substitute per-recipient
// values into one shared content (SendGrid `substitutions`, Mailgun `recipient-variables`):
// the parts hold a placeholder wherever a message's own value goes, each slot names where
// that value comes from (a path into the message's variables, derived fields included) and
// whether it lands in HTML (escaped) or in subject/text (as is).
struct Skeleton {
  struct Slot {
    std::string name;         // "h3" | "t3"
    std::string placeholder;  // the provider's tag for it, as written into `parts`
    std::vector<std::string> path;
    bool html = false;
  };
  Rendered parts;
  std::vector<Slot> slots;
  // The variables it was rendered from (derived fields included), each non-empty string
  // replaced by its stand-in: what personalize_same_shape compares other messages with.
  nlohmann::json shape;
};

// One message's values for `skeleton`, or nothing when the skeleton cannot reproduce this
// message exactly (a section that depends on its values, a value that is not a string…):
// the substituted skeleton is compared with `full`, the message's own rendering, so a
// personalized send is byte-for-byte what a single send would have been.
std::optional<Substitutions> personalize(const Skeleton& skeleton, const nlohmann::json& vars,
                                         const Rendered& full);

// personalize without rendering the message: its values when its variables have exactly the
// skeleton's shape — the same keys, a non-empty string wherever the skeleton's source had one,
// the very same value everywhere else — so every section, inverted section and fallback to
// branding goes the same way and only those strings differ. Nothing when the shape differs,
// when an HTML value would escape (the template may print it unescaped: {{{…}}}), or when a
// plain value has a line break (a subject turns those into spaces): then render the message
// and call personalize. Only for a skeleton that reproduced its own source exactly (check that
// with personalize once per skeleton).
std::optional<Substitutions> personalize_same_shape(const Skeleton& skeleton,
                                                    const nlohmann::json& vars);

// `text` with each slot's placeholder replaced by its value (what the provider does).
std::string substitute(std::string_view text, const Skeleton& skeleton,
                       const Substitutions& values);

// How many Mustache parses this process has done (a test hook: rendering a compiled
// template must not add any).
std::uint64_t template_parse_count();

// A platform default template shipped in code. Every agent sees it and may override it with
// its own template under the same key and channel.
struct BuiltinTemplate {
  std::string_view key;
  Channel channel = Channel::email;
  std::string_view name;
  std::string_view subject;
  std::string_view html;
  std::string_view text;
  std::string_view body;
  bool campaign = false;  // meant for campaigns: carries the unsubscribe link and postal address

  TemplateParts parts() const {
    return {std::string(subject), std::string(html), std::string(text), std::string(body)};
  }
};

// Every built-in, in a stable order.
std::span<const BuiltinTemplate> builtin_templates();
const BuiltinTemplate* find_builtin(std::string_view key, Channel channel);
// The built-in, parsed once per process. Errc::not_found when there is none.
Result<CompiledTemplate> compiled_builtin(std::string_view key, Channel channel);

// How an SMS body will travel: GSM-7 (160 characters, 153 per part when split) or UCS-2
// (70, 67 per part) as soon as one character is outside the GSM 03.38 alphabet.
struct SmsSegments {
  std::string_view encoding;  // "GSM-7" | "UCS-2"
  int characters = 0;         // in the encoding's units (GSM extension characters count 2)
  int segments = 0;
};
SmsSegments sms_segments(std::string_view body);

// "$1,234,567" (rounded to whole dollars).
std::string format_usd(double amount);

// The listing.* variables of a message about a listing (priceFormatted included).
nlohmann::json listing_vars(std::string_view id, std::string_view address, double price);

}  // namespace herald
