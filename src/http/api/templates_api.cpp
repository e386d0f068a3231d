// Templates: CRUD, validation and preview.
#include "http/api/common.h"
#include "http/api/routes.h"

namespace herald::api {

void register_template_routes(http::Router&, app::App&) {}

}  // namespace herald::api
