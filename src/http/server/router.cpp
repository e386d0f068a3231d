// Router, request/response helpers and URL decoding. No I/O here: everything is a plain
// function of the request, so it is tested without sockets.
#include <strings.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "http/server/server.h"

namespace herald::http {

namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// The path part of a raw target ("/a/b?x=1" -> "/a/b").
std::string_view raw_path(std::string_view target) {
  return target.substr(0, target.find('?'));
}

// Splits a raw path on '/', skipping empty segments, and percent-decodes each segment.
std::vector<std::string> split_path(std::string_view path) {
  std::vector<std::string> out;
  std::size_t i = 0;
  while (i < path.size()) {
    std::size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    if (j > i) out.push_back(url_decode(path.substr(i, j - i)));
    i = j + 1;
  }
  return out;
}

}  // namespace

std::string url_decode(std::string_view in, bool form) {
  std::string out;
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '%' && i + 2 < in.size()) {
      int hi = hex_value(in[i + 1]);
      int lo = hex_value(in[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    // A malformed escape ("%zz", a trailing "%") is kept as is rather than rejected.
    out.push_back(form && c == '+' ? ' ' : c);
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> parse_form(std::string_view body) {
  std::vector<std::pair<std::string, std::string>> out;
  std::size_t i = 0;
  while (i <= body.size()) {
    std::size_t j = body.find('&', i);
    if (j == std::string_view::npos) j = body.size();
    std::string_view pair = body.substr(i, j - i);
    if (!pair.empty()) {
      std::size_t eq = pair.find('=');
      if (eq == std::string_view::npos) {
        out.emplace_back(url_decode(pair, true), std::string());
      } else {
        out.emplace_back(url_decode(pair.substr(0, eq), true),
                         url_decode(pair.substr(eq + 1), true));
      }
    }
    i = j + 1;
  }
  return out;
}

std::optional<std::string> Request::query_param(std::string_view name) const {
  std::string_view q = query;
  std::size_t i = 0;
  while (i <= q.size()) {
    std::size_t j = q.find('&', i);
    if (j == std::string_view::npos) j = q.size();
    std::string_view pair = q.substr(i, j - i);
    std::size_t eq = pair.find('=');
    std::string_view key = pair.substr(0, eq);
    // Compare cheaply first; decode only keys that could match.
    if (!pair.empty() && (key == name || key.find_first_of("%+") != std::string_view::npos) &&
        url_decode(key, true) == name) {
      return eq == std::string_view::npos ? std::string() : url_decode(pair.substr(eq + 1), true);
    }
    i = j + 1;
  }
  return std::nullopt;
}

const std::string& Request::param(const std::string& name) const {
  static const std::string kEmpty;
  auto it = params.find(name);
  return it == params.end() ? kEmpty : it->second;
}

Response Response::json(int status, std::string body) {
  Response r;
  r.status = status;
  r.headers.emplace_back("Content-Type", "application/json");
  r.body = std::move(body);
  return r;
}

Response Response::text(int status, std::string body, std::string content_type) {
  Response r;
  r.status = status;
  r.headers.emplace_back("Content-Type", std::move(content_type));
  r.body = std::move(body);
  return r;
}

Response Response::problem(int status, std::string_view title, std::string_view detail) {
  nlohmann::json j = {{"type", "about:blank"}, {"title", title}, {"status", status}};
  if (!detail.empty()) j["detail"] = detail;
  Response r;
  r.status = status;
  r.headers.emplace_back("Content-Type", "application/problem+json");
  // Replace invalid UTF-8 (e.g. from a decoded path echoed in detail) instead of throwing.
  r.body = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return r;
}

Response& Response::set_header(std::string name, std::string value) {
  for (auto& [k, v] : headers) {
    if (k.size() == name.size() && strncasecmp(k.data(), name.data(), k.size()) == 0) {
      v = std::move(value);
      return *this;
    }
  }
  headers.emplace_back(std::move(name), std::move(value));
  return *this;
}

void Router::add(std::string method, std::string pattern, Handler handler) {
  Route route{std::move(method), {}, std::move(handler), pattern};
  std::string_view p = pattern;
  std::size_t i = 0;
  while (i < p.size()) {
    std::size_t j = p.find('/', i);
    if (j == std::string_view::npos) j = p.size();
    std::string_view s = p.substr(i, j - i);
    i = j + 1;
    if (s.empty()) continue;
    Segment seg;
    std::size_t open = s.find('{');
    std::size_t close = s.find('}');
    if (open == std::string_view::npos || close == std::string_view::npos || close < open) {
      seg.text = std::string(s);
    } else {
      std::string_view name = s.substr(open + 1, close - open - 1);
      seg.prefix = std::string(s.substr(0, open));
      seg.suffix = std::string(s.substr(close + 1));
      if (name.ends_with("...")) {
        seg.kind = Segment::Kind::rest;
        name.remove_suffix(3);
      } else {
        seg.kind = Segment::Kind::param;
      }
      seg.text = std::string(name);
    }
    route.segments.push_back(std::move(seg));
  }
  routes_.push_back(std::move(route));
}

bool Router::match(const Route& route, const std::vector<std::string>& path,
                   std::map<std::string, std::string>* params) {
  const auto& segs = route.segments;
  bool has_rest = !segs.empty() && segs.back().kind == Segment::Kind::rest;
  if (has_rest ? path.size() < segs.size() : path.size() != segs.size()) return false;
  for (std::size_t k = 0; k < segs.size(); ++k) {
    const Segment& seg = segs[k];
    const std::string& got = path[k];
    switch (seg.kind) {
      case Segment::Kind::literal:
        if (got != seg.text) return false;
        break;
      case Segment::Kind::param: {
        std::size_t affix = seg.prefix.size() + seg.suffix.size();
        if (got.size() <= affix || !got.starts_with(seg.prefix) || !got.ends_with(seg.suffix)) {
          return false;
        }
        if (params) {
          (*params)[seg.text] = got.substr(seg.prefix.size(), got.size() - affix);
        }
        break;
      }
      case Segment::Kind::rest:
        if (params) {
          std::string rest = got;
          for (std::size_t r = k + 1; r < path.size(); ++r) rest += "/" + path[r];
          (*params)[seg.text] = std::move(rest);
        }
        return true;
    }
  }
  return true;
}

bool Router::more_specific(const Route& a, const Route& b) {
  auto rank = [](const Segment& s) {
    if (s.kind == Segment::Kind::literal) return 0;
    if (s.kind == Segment::Kind::param) return s.prefix.empty() && s.suffix.empty() ? 2 : 1;
    return 3;
  };
  std::size_t n = std::min(a.segments.size(), b.segments.size());
  for (std::size_t k = 0; k < n; ++k) {
    int ra = rank(a.segments[k]);
    int rb = rank(b.segments[k]);
    if (ra != rb) return ra < rb;
  }
  return a.segments.size() > b.segments.size();
}

Response Router::handle(Request& request) const {
  // Prefer the raw target so that an encoded '/' stays inside its segment.
  std::vector<std::string> path = split_path(request.target.empty() ? std::string_view(request.path)
                                                                    : raw_path(request.target));
  const Route* best = nullptr;
  std::vector<std::string_view> allowed;  // other methods on this path, for 405's Allow
  for (const Route& route : routes_) {
    if (!match(route, path, nullptr)) continue;
    if (route.method == request.method) {
      if (!best || more_specific(route, *best)) best = &route;
    } else if (std::find(allowed.begin(), allowed.end(), route.method) == allowed.end()) {
      allowed.push_back(route.method);
    }
  }
  if (best) {
    request.params.clear();
    match(*best, path, &request.params);
    return best->handler(request);
  }
  if (!allowed.empty()) {
    std::string allow;
    for (std::string_view m : allowed) allow.append(allow.empty() ? "" : ", ").append(m);
    return Response::problem(405, "Method Not Allowed",
                             request.method + " is not allowed on this resource")
        .set_header("Allow", std::move(allow));
  }
  return Response::problem(404, "Not Found", "no resource at " + request.path);
}

bool Router::matches(std::string_view path) const {
  std::vector<std::string> segments = split_path(raw_path(path));
  for (const Route& route : routes_) {
    if (match(route, segments, nullptr)) return true;
  }
  return false;
}

}  // namespace herald::http

namespace herald::http {

std::vector<std::pair<std::string, std::string>> Router::table() const {
  std::vector<std::pair<std::string, std::string>> out;
  out.reserve(routes_.size());
  for (const auto& r : routes_) out.emplace_back(r.method, r.pattern);
  return out;
}

}  // namespace herald::http
