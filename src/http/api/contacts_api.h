// What `herald serve` needs to know about the contact routes beyond registering them: the CSV
// import takes bodies far larger than the API's in-memory limit, spooled to disk.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "app/app.h"
#include "http/server/server.h"

namespace herald::api {

// True for POST /api/v1/agents/{id}/contacts/import.
bool is_contact_import(std::string_view method, std::string_view path);

// The server's body spool for CSV imports: up to `max_bytes` (default 512 MiB), written to
// temporary files under `dir` (e.g. <data dir>/tmp). Only callers allowed to import into the
// agent in the path get it (checked on the request head, exactly as the route checks them),
// so strangers cannot fill the disk: they keep the in-memory limit.
http::BodySpool contact_import_spool(app::App& app, std::string dir,
                                     std::size_t max_bytes = std::size_t{512} << 20);

}  // namespace herald::api
