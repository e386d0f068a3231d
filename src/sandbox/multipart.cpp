#include "sandbox/multipart.h"

#include "sandbox/state.h"

namespace herald::sandbox {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

// Splits "a; b=1; c=\"x;y\"" on semicolons outside quotes.
std::vector<std::string_view> split_params(std::string_view s) {
  std::vector<std::string_view> out;
  bool quoted = false;
  std::size_t start = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && quoted) {
      ++i;
    } else if (s[i] == '"') {
      quoted = !quoted;
    } else if (s[i] == ';' && !quoted) {
      out.push_back(trim(s.substr(start, i - start)));
      start = i + 1;
    }
  }
  out.push_back(trim(s.substr(start)));
  return out;
}

// The value of a parameter: unquoted, backslash escapes removed.
std::string param_value(std::string_view v) {
  v = trim(v);
  if (v.size() < 2 || v.front() != '"' || v.back() != '"') return std::string(v);
  std::string out;
  for (std::size_t i = 1; i + 1 < v.size(); ++i) {
    if (v[i] == '\\' && i + 2 < v.size()) ++i;
    out.push_back(v[i]);
  }
  return out;
}

// Looks up `name=` among the parameters of a header value (case-insensitive name).
std::optional<std::string> find_param(std::string_view header_value, std::string_view name) {
  auto params = split_params(header_value);
  for (std::size_t i = 1; i < params.size(); ++i) {
    auto eq = params[i].find('=');
    if (eq != std::string_view::npos && iequals(trim(params[i].substr(0, eq)), name)) {
      return param_value(params[i].substr(eq + 1));
    }
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::string> multipart_boundary(std::string_view content_type) {
  auto params = split_params(content_type);
  if (params.empty() || !iequals(params[0], "multipart/form-data")) return std::nullopt;
  auto b = find_param(content_type, "boundary");
  if (!b || b->empty() || b->size() > 200) return std::nullopt;
  return b;
}

std::optional<std::vector<FormField>> parse_multipart(std::string_view body,
                                                      std::string_view boundary) {
  const std::string delimiter = "--" + std::string(boundary);
  std::vector<FormField> fields;

  // The first delimiter may follow a preamble; later ones follow a CRLF.
  std::size_t pos;
  if (body.starts_with(delimiter)) {
    pos = delimiter.size();
  } else {
    pos = body.find("\r\n" + delimiter);
    if (pos == std::string_view::npos) return std::nullopt;
    pos += 2 + delimiter.size();
  }
  const std::string next_delimiter = "\r\n" + delimiter;
  for (;;) {
    // After a delimiter: "--" closes the body; otherwise optional whitespace and CRLF.
    if (body.substr(pos, 2) == "--") return fields;
    while (pos < body.size() && (body[pos] == ' ' || body[pos] == '\t')) ++pos;
    if (body.substr(pos, 2) != "\r\n") return std::nullopt;
    pos += 2;

    // The part's head, up to an empty line.
    std::size_t head_end = body.find("\r\n\r\n", pos);
    std::size_t content_start;
    std::string_view head;
    if (body.substr(pos, 2) == "\r\n") {  // a part with no header lines at all
      head = {};
      content_start = pos + 2;
    } else {
      if (head_end == std::string_view::npos) return std::nullopt;
      head = body.substr(pos, head_end - pos);
      content_start = head_end + 4;
    }
    std::size_t content_end = body.find(next_delimiter, content_start);
    if (content_end == std::string_view::npos) return std::nullopt;

    FormField field;
    bool named = false;
    std::size_t line_start = 0;
    while (line_start <= head.size()) {
      std::size_t line_end = head.find("\r\n", line_start);
      if (line_end == std::string_view::npos) line_end = head.size();
      std::string_view line = head.substr(line_start, line_end - line_start);
      line_start = line_end + 2;
      auto colon = line.find(':');
      if (colon == std::string_view::npos) continue;
      std::string_view name = trim(line.substr(0, colon));
      std::string_view value = trim(line.substr(colon + 1));
      if (iequals(name, "Content-Disposition")) {
        if (!iequals(split_params(value)[0], "form-data")) return std::nullopt;
        if (auto n = find_param(value, "name")) {
          field.name = std::move(*n);
          named = true;
        }
        if (auto f = find_param(value, "filename")) field.filename = std::move(*f);
      } else if (iequals(name, "Content-Type")) {
        field.content_type = std::string(value);
      }
    }
    if (!named) return std::nullopt;
    field.value = std::string(body.substr(content_start, content_end - content_start));
    fields.push_back(std::move(field));
    pos = content_end + next_delimiter.size();
  }
}

}  // namespace herald::sandbox
