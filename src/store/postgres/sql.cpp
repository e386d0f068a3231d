#include "store/postgres/sql.h"

#include <cstdio>

namespace herald::store::postgres {

void ArrayParam::real(double v) {
  sep();
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  out_ += buf;
}

std::vector<std::string> text_list(const pqxx::field& f) {
  std::vector<std::string> out;
  if (f.is_null()) return out;
  const std::string_view s(f.c_str(), f.size());
  if (s.size() < 2 || s.front() != '{' || s.back() != '}') return out;
  // Elements are bare (no special characters) or double-quoted with backslash escapes.
  std::size_t i = 1;
  const std::size_t end = s.size() - 1;
  while (i < end) {
    std::string item;
    if (s[i] == '"') {
      for (++i; i < end && s[i] != '"'; ++i) {
        if (s[i] == '\\' && i + 1 < end) ++i;
        item += s[i];
      }
      ++i;  // closing quote
    } else {
      for (; i < end && s[i] != ','; ++i) item += s[i];
    }
    out.push_back(std::move(item));
    if (i < end && s[i] == ',') ++i;
  }
  return out;
}

}  // namespace herald::store::postgres
