// The dashboard's static files (web/), embedded into the binary at build time.
#pragma once

#include <span>
#include <string_view>

namespace herald::api {

struct WebAsset {
  std::string_view path;  // relative to web/, e.g. "index.html", "pages/settings.js"
  std::string_view data;
};

std::span<const WebAsset> web_assets();

}  // namespace herald::api
