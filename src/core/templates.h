// Message templates (Mustache) rendered with the agent's branding. Pure: no I/O.
#pragma once

#include <string>
#include <string_view>

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

// Renders a built-in template ("seller_welcome") for a channel with `vars` (a JSON object)
// merged over the branding variables. HTML output escapes variables; text and SMS do not.
Result<Rendered> render_builtin(std::string_view template_key, Channel channel,
                                const nlohmann::json& vars, const Agent& agent,
                                std::string_view platform_name);

// Renders one Mustache template string against a JSON context.
Result<std::string> render_mustache(std::string_view tmpl, const nlohmann::json& context,
                                    bool html_escape);

}  // namespace herald
