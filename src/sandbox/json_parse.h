// Parsing request bodies in the sandbox: simdjson reads the text (a batch of rendered emails
// is mostly long strings, which it scans many bytes at a time, UTF-8 checked) and the emulators
// get the nlohmann document they validate.
#pragma once

#include <nlohmann/json.hpp>
#include <string_view>

namespace herald::sandbox {

// The JSON document in `text`, as nlohmann::json::parse(text, nullptr, false) would give it
// (a discarded value when the text is not JSON); non-negative integers are unsigned, as there.
nlohmann::json parse_json(std::string_view text);

}  // namespace herald::sandbox
