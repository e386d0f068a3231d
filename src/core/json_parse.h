// Parsing JSON text fast into nlohmann documents: simdjson reads the text (request and response
// bodies are mostly long strings, which it scans many bytes at a time, UTF-8 checked) and the
// caller gets the nlohmann document it works with (the sandbox's emulators, provider responses).
#pragma once

#include <nlohmann/json.hpp>
#include <string_view>

namespace herald {

// The JSON document in `text`, as nlohmann::json::parse(text, nullptr, false) would give it
// (a discarded value when the text is not JSON); non-negative integers are unsigned, as there.
nlohmann::json parse_json(std::string_view text);

}  // namespace herald
