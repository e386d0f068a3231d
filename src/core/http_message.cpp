#include "core/http_message.h"

#include <strings.h>

namespace herald {

std::optional<std::string_view> find_header(const Headers& headers, std::string_view name) {
  for (const auto& [k, v] : headers) {
    if (k.size() == name.size() && strncasecmp(k.data(), name.data(), k.size()) == 0) {
      return std::string_view(v);
    }
  }
  return std::nullopt;
}

}  // namespace herald
