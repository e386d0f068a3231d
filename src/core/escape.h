// Escaping text for HTML and XML: & < > " ' become entities (&#39; is valid in both) and
// control characters other than tab and line breaks are dropped.
#pragma once

#include <string>
#include <string_view>

namespace herald {

std::string markup_escape(std::string_view text);

}  // namespace herald
