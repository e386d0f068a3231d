// One emulation per provider, each in its own file: it registers the provider's real paths
// on the sandbox's router. Internal to src/sandbox.
#pragma once

#include "http/server/server.h"
#include "sandbox/state.h"

namespace herald::sandbox {

// Resend: POST /emails, POST /emails/batch, GET /domains (resend_emulator.cpp).
void add_resend_routes(http::Router& router, SandboxState& state);
// SendGrid: POST /v3/mail/send, GET /v3/scopes (sendgrid_emulator.cpp).
void add_sendgrid_routes(http::Router& router, SandboxState& state);
// Mailgun: POST /v3/{domain}/messages, GET /v3/domains/{domain}, GET /v4/domains
// (mailgun_emulator.cpp).
void add_mailgun_routes(http::Router& router, SandboxState& state);
// Twilio: POST /2010-04-01/Accounts/{sid}/Messages.json, GET /2010-04-01/Accounts/{sid}.json
// (twilio_emulator.cpp).
void add_twilio_routes(http::Router& router, SandboxState& state);

// The inbox page at GET / (inbox.cpp).
http::Response render_inbox(const std::vector<RecordedMessage>& newest_first,
                            const StoreStats& stats);

}  // namespace herald::sandbox
