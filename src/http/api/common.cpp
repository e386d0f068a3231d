#include "http/api/common.h"

#include <cctype>
#include <cstring>
#include <ctime>

namespace herald::api {

namespace {

int status_for(Errc code) {
  switch (code) {
    case Errc::invalid_input:
      return 422;
    case Errc::not_found:
      return 404;
    case Errc::conflict:
      return 409;
    case Errc::unauthorized:
      return 401;
    case Errc::forbidden:
      return 403;
    case Errc::payload_too_large:
      return 413;
    case Errc::unsupported:
      return 415;
    case Errc::provider:
    case Errc::network:
      return 502;
    case Errc::config:
      return 503;
    default:
      return 500;
  }
}

const char* title_for(int status) {
  switch (status) {
    case 400:
      return "Malformed request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not found";
    case 409:
      return "Conflict";
    case 413:
      return "Payload too large";
    case 415:
      return "Unsupported media type";
    case 422:
      return "Invalid input";
    case 502:
      return "Provider error";
    case 503:
      return "Service not configured";
    default:
      return "Internal error";
  }
}

}  // namespace

http::Response problem(const Error& e) {
  int status = status_for(e.code);
  // A request body that is not JSON at all is malformed (400), not merely invalid (422).
  if (e.code == Errc::invalid_input && e.http_status == 400) status = 400;
  json body = {{"type", "about:blank"}, {"title", title_for(status)}, {"status", status}};
  // Internal and storage details stay in the logs.
  if (status < 500 || status == 502 || status == 503) body["detail"] = e.message;
  if (!e.fields.empty()) {
    json errors = json::array();
    for (const auto& f : e.fields) errors.push_back({{"field", f.field}, {"message", f.message}});
    body["errors"] = std::move(errors);
    body["detail"] = e.fields.size() == 1 ? e.fields[0].field + " " + e.fields[0].message
                                          : std::to_string(e.fields.size()) + " fields are invalid";
  }
  http::Response r;
  r.status = status;
  r.body = body.dump();
  r.set_header("Content-Type", "application/problem+json");
  return r;
}

http::Response ok_json(int status, const json& body) {
  return http::Response::json(status, body.dump());
}

std::string format_time(TimePoint t) {
  auto ms = to_millis(t);
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[40];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  char out[48];
  std::snprintf(out, sizeof out, "%s.%03dZ", buf, static_cast<int>(ms % 1000));
  return out;
}

Result<Input> Input::parse(const std::string& body) {
  auto malformed = [](std::string why) {
    Error e = Error::invalid("body", std::move(why));
    e.http_status = 400;
    return fail(std::move(e));
  };
  if (body.empty()) return malformed("is empty; send a JSON object");
  json j = json::parse(body, nullptr, false);
  if (j.is_discarded()) return malformed("is not valid JSON");
  if (!j.is_object()) return malformed("must be a JSON object");
  return Input(std::move(j));
}

const json* Input::find(const std::string& path) const {
  const json* cur = &j_;
  std::size_t start = 0;
  while (true) {
    auto dot = path.find('.', start);
    std::string key =
        path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (!cur->is_object()) return nullptr;
    auto it = cur->find(key);
    if (it == cur->end()) return nullptr;
    cur = &*it;
    if (dot == std::string::npos) return cur;
    start = dot + 1;
  }
}

bool Input::has(const std::string& path) const {
  const json* v = find(path);
  return v && !v->is_null();
}

std::string Input::str(const std::string& path) {
  const json* v = find(path);
  if (!v || v->is_null()) return {};
  if (!v->is_string()) {
    errors_.push_back({path, "must be a string"});
    return {};
  }
  return v->get<std::string>();
}

std::optional<std::string> Input::integer_text(const std::string& path) {
  const json* v = find(path);
  if (!v || v->is_null()) return std::nullopt;
  if (v->is_string()) return v->get<std::string>();
  if (!v->is_number_integer()) {
    errors_.push_back({path, "must be a whole number"});
    return std::nullopt;
  }
  return std::to_string(v->get<long long>());
}

std::optional<double> Input::number(const std::string& path) {
  const json* v = find(path);
  if (!v || v->is_null()) return std::nullopt;
  if (!v->is_number()) {
    errors_.push_back({path, "must be a number"});
    return std::nullopt;
  }
  return v->get<double>();
}

std::optional<bool> Input::boolean(const std::string& path) {
  const json* v = find(path);
  if (!v || v->is_null()) return std::nullopt;
  if (!v->is_boolean()) {
    errors_.push_back({path, "must be true or false"});
    return std::nullopt;
  }
  return v->get<bool>();
}

std::vector<std::string> Input::strings(const std::string& path) {
  const json* v = find(path);
  std::vector<std::string> out;
  if (!v || v->is_null()) return out;
  if (!v->is_array()) {
    errors_.push_back({path, "must be an array of strings"});
    return out;
  }
  for (const auto& item : *v) {
    if (!item.is_string()) {
      errors_.push_back({path, "must be an array of strings"});
      return {};
    }
    out.push_back(item.get<std::string>());
  }
  return out;
}

std::optional<TimePoint> parse_time(const std::string& text) {
  std::tm tm{};
  const char* rest = strptime(text.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
  if (!rest) return std::nullopt;
  auto t = Clock::from_time_t(timegm(&tm));
  if (*rest == '.') {
    int digits = 0, ms = 0;
    for (++rest; std::isdigit(static_cast<unsigned char>(*rest)); ++rest, ++digits) {
      if (digits < 3) ms = ms * 10 + (*rest - '0');
    }
    if (digits == 0) return std::nullopt;
    for (int d = digits; d < 3; ++d) ms *= 10;
    t += std::chrono::milliseconds(ms);
  }
  if (*rest == 'Z' || *rest == 'z') return rest[1] == '\0' ? std::optional(t) : std::nullopt;
  int hh = 0, mm = 0;
  char sign = *rest;
  if ((sign != '+' && sign != '-') || std::sscanf(rest + 1, "%2d:%2d", &hh, &mm) != 2 ||
      std::strlen(rest) != 6) {
    return std::nullopt;
  }
  auto offset = std::chrono::hours(hh) + std::chrono::minutes(mm);
  return sign == '+' ? t - offset : t + offset;
}

Result<void> Input::check() const {
  if (!errors_.empty()) return fail(Error::invalid(errors_));
  return {};
}

// True if the request's media type (before any parameters) is one of `types`.
bool content_type_is(const http::Request& req, std::initializer_list<std::string_view> types) {
  auto ct = req.header("Content-Type");
  if (!ct) return false;
  std::string_view v = *ct;
  v = v.substr(0, v.find(';'));
  while (!v.empty() && v.back() == ' ') v.remove_suffix(1);
  for (auto t : types) {
    if (v.size() == t.size() && std::equal(v.begin(), v.end(), t.begin(),
                                           [](char a, char b) { return std::tolower(a) == b; })) {
      return true;
    }
  }
  return false;
}

}  // namespace herald::api
