// Contacts, CSV import, suppressions and unsubscribe pages.
#include "http/api/common.h"
#include "http/api/routes.h"

namespace herald::api {

void register_contact_routes(http::Router&, app::App&) {}

}  // namespace herald::api
