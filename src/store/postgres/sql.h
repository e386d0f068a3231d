// Small conversions between Herald's values and PostgreSQL's text forms: array literals for
// multi-row statements (unnest), and typed reads of result fields.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <pqxx/binarystring>
#include <pqxx/field>
#include <pqxx/result>
#include <pqxx/row>

#include "core/clock.h"

namespace herald::store::postgres {

// Builds a PostgreSQL array literal ({"a","b"} or {1,2}) one element at a time, for a
// $n::text[] / $n::bigint[] / $n::boolean[] parameter.
class ArrayParam {
 public:
  // A text element, quoted and escaped.
  void text(std::string_view s) {
    sep();
    out_ += '"';
    for (char c : s) {
      if (c == '"' || c == '\\') out_ += '\\';
      out_ += c;
    }
    out_ += '"';
  }
  // An integer element.
  void integer(std::int64_t v) {
    sep();
    out_ += std::to_string(v);
  }
  // A boolean element.
  void boolean(bool v) {
    sep();
    out_ += v ? 't' : 'f';
  }
  // A floating-point element, exactly (17 significant digits).
  void real(double v);
  // The literal, closed.
  std::string str() const { return out_ + '}'; }

 private:
  void sep() {
    if (out_.size() > 1) out_ += ',';
  }
  std::string out_ = "{";
};

// A text array literal of `items`.
template <class Range>
std::string text_array(const Range& items) {
  ArrayParam a;
  for (const auto& s : items) a.text(s);
  return a.str();
}

// Reads a text field ("" for NULL).
inline std::string text(const pqxx::field& f) {
  return f.is_null() ? std::string() : std::string(f.c_str(), f.size());
}
// Reads an integer field (0 for NULL).
inline std::int64_t int64(const pqxx::field& f) {
  return f.is_null() ? 0 : f.as<std::int64_t>();
}
// Reads a BOOLEAN field (false for NULL).
inline bool boolean(const pqxx::field& f) {
  return !f.is_null() && f.c_str()[0] == 't';
}
// Reads a DOUBLE PRECISION field (0 for NULL).
inline double real(const pqxx::field& f) {
  return f.is_null() ? 0 : f.as<double>();
}
// Reads a BIGINT of Unix milliseconds.
inline TimePoint millis(const pqxx::field& f) {
  return from_millis(int64(f));
}
// Reads a BYTEA field's bytes.
inline std::string bytes(const pqxx::field& f) {
  return f.is_null() ? std::string() : pqxx::binarystring(f).str();
}
// Reads a text[] field ({a,"b c"} → a, b c). Elements are never NULL in Herald's arrays.
std::vector<std::string> text_list(const pqxx::field& f);

// Unix milliseconds, the unit every time column holds (as the SQLite store).
inline std::int64_t ms(TimePoint t) {
  return to_millis(t);
}

}  // namespace herald::store::postgres
