// Byte-wise text helpers both stores match addresses and prefixes with (ASCII case folding, as
// SQLite's lower() and PostgreSQL's lower() under the "C" collation do). Dialect-free.
#pragma once

#include <string>
#include <string_view>

namespace herald::store::common {

// `s` with ASCII letters lowercased; other bytes unchanged.
inline std::string ascii_lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

// The smallest string greater than every string starting with `prefix` (byte order). UTF-8
// never has a 0xFF byte, so bumping the last byte is enough.
inline std::string prefix_end(std::string prefix) {
  while (!prefix.empty() && static_cast<unsigned char>(prefix.back()) == 0xFF) prefix.pop_back();
  if (!prefix.empty())
    prefix.back() = static_cast<char>(static_cast<unsigned char>(prefix.back()) + 1);
  return prefix;
}

}  // namespace herald::store::common
