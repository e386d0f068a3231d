#include "http/api/web.h"

#include <fstream>
#include <sstream>

#include "http/api/web_assets.h"

namespace herald::api {

namespace {

std::string content_type(const std::string& path) {
  auto dot = path.rfind('.');
  std::string ext = dot == std::string::npos ? "" : path.substr(dot + 1);
  if (ext == "html") return "text/html; charset=utf-8";
  if (ext == "js" || ext == "mjs") return "text/javascript; charset=utf-8";
  if (ext == "css") return "text/css; charset=utf-8";
  if (ext == "svg") return "image/svg+xml";
  if (ext == "png") return "image/png";
  if (ext == "ico") return "image/x-icon";
  if (ext == "json") return "application/json";
  if (ext == "woff2") return "font/woff2";
  return "application/octet-stream";
}

std::optional<std::string> read_asset(const std::string& web_dir, const std::string& rel) {
  if (!web_dir.empty()) {
    std::ifstream in(web_dir + "/" + rel, std::ios::binary);
    if (!in) return std::nullopt;
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  for (const auto& a : web_assets())
    if (a.path == rel) return std::string(a.data);
  return std::nullopt;
}

}  // namespace

http::Response serve_dashboard(const std::string& web_dir, const std::string& path) {
  // No way out of web/: refuse dot segments and backslashes outright.
  if (path.find("..") != std::string::npos || path.find('\\') != std::string::npos) {
    return http::Response::problem(404, "Not found");
  }
  std::string last = path.substr(path.rfind('/') == std::string::npos ? 0 : path.rfind('/') + 1);
  bool is_file = last.find('.') != std::string::npos;
  std::string rel = is_file ? path : "index.html";
  auto body = read_asset(web_dir, rel);
  if (!body) return http::Response::problem(404, "Not found");
  http::Response r;
  r.status = 200;
  r.body = std::move(*body);
  r.set_header("Content-Type", content_type(rel));
  r.set_header("Cache-Control", "no-cache");
  r.set_header("X-Content-Type-Options", "nosniff");
  r.set_header("Referrer-Policy", "same-origin");
  r.set_header("X-Frame-Options", "DENY");
  r.set_header("Content-Security-Policy",
               "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
               "frame-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
               "form-action 'self'");
  return r;
}

}  // namespace herald::api
