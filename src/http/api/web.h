// Serves the dashboard: /app/<file> from web/ (embedded, or HERALD_WEB_DIR on disk), any
// other /app/* path as index.html (client-side routing), with a strict CSP.
#pragma once

#include <string>

#include "http/server/server.h"

namespace herald::api {

http::Response serve_dashboard(const std::string& web_dir, const std::string& path);

}  // namespace herald::api
