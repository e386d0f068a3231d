// How both stores keep structured fields as JSON text: an integration's plain and sealed fields,
// string lists (contact tags, campaign roles) and a webhook post's headers. Dialect-free.
#pragma once

#include <string>
#include <vector>

#include "core/http_message.h"
#include "core/types.h"
#include "store/store.h"

namespace herald::store::common {

// Plain fields as stored: a JSON object of strings.
std::string params_json(const Params& params);
// Plain fields read back; anything that is not an object of strings reads as empty.
Params parse_params(const std::string& text);

// Secret fields as stored: {"<field>": {"sealed": "…", "hint": "…"}}.
std::string secrets_json(const FieldMap<SealedField>& secrets);
// Secret fields read back; malformed entries are skipped.
FieldMap<SealedField> parse_secrets(const std::string& text);

// A JSON array of strings read back (non-strings skipped). Fast for what nlohmann writes when
// no string needs escaping, which is what tags always are.
std::vector<std::string> json_list(const std::string& text);

// A post's headers as stored: [[name, value], …], in their order.
std::string headers_json(const Headers& headers);
// Headers read back; malformed entries are skipped.
Headers parse_headers(const std::string& text);

}  // namespace herald::store::common
