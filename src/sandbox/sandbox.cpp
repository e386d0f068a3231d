// The sandbox: the providers' routes (one file each) plus its own /sandbox endpoints for
// tests and benchmarks: recorded messages, stats, fault injection, and the inbox page.
#include "sandbox/sandbox.h"

#include <nlohmann/json.hpp>

#include "core/json_parse.h"
#include "sandbox/emulators.h"
#include "sandbox/state.h"

namespace herald::sandbox {

namespace {

using nlohmann::json;

constexpr std::size_t kInboxSize = 200;
constexpr std::int64_t kMaxFaultDelayMs = 10 * 60 * 1000;

json optional_json(const std::optional<std::string>& v) {
  return v ? json(*v) : json(nullptr);
}

json message_json(const RecordedMessage& m) {
  json headers = json::object();
  for (const auto& [k, v] : m.headers) headers[k] = v;
  return {
      {"provider", m.provider},
      {"account", m.account},
      {"from", m.from},
      {"to", m.to},
      {"replyTo", optional_json(m.reply_to)},
      {"subject", optional_json(m.subject)},
      {"text", optional_json(m.text)},
      {"html", optional_json(m.html)},
      {"body", optional_json(m.body)},
      {"headers", std::move(headers)},
      {"idempotencyKey", optional_json(m.idempotency_key)},
      {"receivedAt", iso8601(m.received_at)},
      {"providerMessageId", m.provider_message_id},
      {"heraldMessageId", m.herald_message_id.empty() ? json(nullptr) : json(m.herald_message_id)}};
}

json fault_json(const Fault& f) {
  json j = {{"provider", f.provider}, {"count", f.count}};
  if (f.events) {
    j["events"] = {{"duplicate", f.events->duplicate},
                   {"reorder", f.events->reorder},
                   {"delayMs", f.events->delay.count()}};
    return j;
  }
  if (f.status) j["status"] = f.status;
  if (f.retry_after) j["retryAfter"] = *f.retry_after;
  if (f.delay.count() > 0) j["delayMs"] = f.delay.count();
  return j;
}

// Reads an optional integer field within [lo, hi]; sets `error` when present but invalid.
std::optional<std::int64_t> int_field(const json& body, const char* name, std::int64_t lo,
                                      std::int64_t hi, std::string& error) {
  auto it = body.find(name);
  if (it == body.end() || it->is_null()) return std::nullopt;
  if (!it->is_number_integer() || it->get<std::int64_t>() < lo || it->get<std::int64_t>() > hi) {
    error = std::string(name) + " must be an integer from " + std::to_string(lo) + " to " +
            std::to_string(hi);
    return std::nullopt;
  }
  return it->get<std::int64_t>();
}

// Reads an event fault's "events" object ({"duplicate"?, "reorder"?, "delayMs"?}); sets
// `error` when it is not one.
EventFault event_fault(const json& events, std::string& error) {
  EventFault f;
  if (!events.is_object()) {
    error = "events must be an object with duplicate, reorder or delayMs";
    return f;
  }
  for (const auto& [name, value] : events.items()) {
    if (name != "duplicate" && name != "reorder" && name != "delayMs") {
      error = "events has no field " + name + " (duplicate, reorder, delayMs)";
      return f;
    }
    if (name != "delayMs" && !value.is_boolean()) error = "events." + name + " must be a boolean";
  }
  if (!error.empty()) return f;
  f.duplicate = events.value("duplicate", false);
  f.reorder = events.value("reorder", false);
  auto delay = int_field(events, "delayMs", 0, kMaxFaultDelayMs, error);
  f.delay = std::chrono::milliseconds(delay.value_or(0));
  if (error.empty() && !f.duplicate && !f.reorder && f.delay.count() == 0) {
    error = "events must set duplicate, reorder or a delayMs";
  }
  return f;
}

}  // namespace

struct Sandbox::Impl {
  explicit Impl(const SandboxOptions& options) : state(options) {
    add_resend_routes(router, state);
    add_sendgrid_routes(router, state);
    add_mailgun_routes(router, state);
    add_twilio_routes(router, state);
    add_resend_webhook_routes(router, state);
    add_sendgrid_webhook_routes(router, state);
    add_mailgun_webhook_routes(router, state);
    router.add("GET", "/sandbox/messages", [this](http::Request& r) { return list_messages(r); });
    router.add("DELETE", "/sandbox/messages", [this](http::Request&) {
      state.messages.clear();
      return http::Response{204, {}, {}, {}};
    });
    router.add("GET", "/sandbox/stats", [this](http::Request&) { return stats(); });
    router.add("GET", "/sandbox/faults", [this](http::Request&) { return list_faults(); });
    router.add("POST", "/sandbox/faults", [this](http::Request& r) { return add_fault(r); });
    router.add("DELETE", "/sandbox/faults", [this](http::Request&) {
      state.faults.clear();
      state.event_faults.clear();
      return http::Response{204, {}, {}, {}};
    });
    // Registered webhooks survive a reset: they are the accounts' settings, which Herald
    // made once and does not make again.
    router.add("POST", "/sandbox/reset", [this](http::Request&) {
      state.messages.clear();
      state.faults.clear();
      state.event_faults.clear();
      state.idempotency.clear();
      state.events.clear_counts();
      return http::Response{204, {}, {}, {}};
    });
    router.add("GET", "/", [this](http::Request&) { return inbox(); });
  }

  // GET /sandbox/messages?provider=&to=&limit=
  http::Response list_messages(const http::Request& request) {
    std::string provider = request.query_param("provider").value_or("");
    if (!provider.empty() && provider_index(provider) < 0) {
      return http::Response::problem(400, "Invalid query",
                                     "provider must be one of " + provider_names());
    }
    std::size_t limit = 0;
    if (auto l = request.query_param("limit")) {
      try {
        limit = std::stoul(*l);
      } catch (const std::exception&) {
        return http::Response::problem(400, "Invalid query", "limit must be a number");
      }
    }
    auto messages = state.messages.list(provider, request.query_param("to").value_or(""), limit);
    json items = json::array();
    for (const RecordedMessage& m : messages) items.push_back(message_json(m));
    return http::Response::json(200, json_text(json{{"items", std::move(items)}}));
  }

  http::Response stats() {
    StoreStats s = state.messages.stats();
    json by_provider = json::object();
    for (std::size_t i = 0; i < std::size(kProviders); ++i) {
      by_provider[std::string(kProviders[i])] = s.per_provider[i];
    }
    EventStats e = state.events.stats();
    json events = {{"queued", e.queued},
                   {"posted", e.posted},
                   {"failed", e.failed},
                   {"retried", e.retried},
                   {"overflow", e.overflow},
                   {"latency",
                    {{"count", e.latency.count()},
                     {"p50Ms", e.latency.quantile_ms(0.5)},
                     {"p99Ms", e.latency.quantile_ms(0.99)},
                     {"maxMs", e.latency.max_ms()}}}};
    json out = {{"total", s.total},
                {"byProvider", std::move(by_provider)},
                {"duplicates", s.duplicates},
                {"stored", s.stored},
                {"events", std::move(events)}};
    return http::Response::json(200, json_text(out));
  }

  http::Response list_faults() {
    json items = json::array();
    for (const Fault& f : state.faults.list()) items.push_back(fault_json(f));
    for (const Fault& f : state.event_faults.list()) items.push_back(fault_json(f));
    return http::Response::json(200, json_text(json{{"items", std::move(items)}}));
  }

  // POST /sandbox/faults {"provider","status"?,"count"?,"retryAfter"?,"delayMs"?}
  http::Response add_fault(const http::Request& request) {
    json body = parse_json(request.body);
    if (body.is_discarded() || !body.is_object()) {
      return http::Response::problem(400, "Invalid fault", "the body must be a JSON object");
    }
    Fault fault;
    auto provider = body.find("provider");
    if (provider == body.end() || !provider->is_string() ||
        provider_index(provider->get<std::string>()) < 0) {
      return http::Response::problem(400, "Invalid fault",
                                     "provider must be one of " + provider_names());
    }
    fault.provider = provider->get<std::string>();
    if (body.contains("events")) return add_event_fault(body, std::move(fault));
    std::string error;
    auto status = int_field(body, "status", 400, 599, error);
    auto count = int_field(body, "count", 1, 1'000'000'000, error);
    auto retry_after = int_field(body, "retryAfter", 0, 86400, error);
    auto delay = int_field(body, "delayMs", 0, kMaxFaultDelayMs, error);
    if (!error.empty()) return http::Response::problem(400, "Invalid fault", error);
    if (!status && !delay) {
      return http::Response::problem(400, "Invalid fault", "give a status, a delayMs, or both");
    }
    fault.status = static_cast<int>(status.value_or(0));
    fault.count = static_cast<std::uint32_t>(count.value_or(1));
    if (retry_after) fault.retry_after = static_cast<std::uint32_t>(*retry_after);
    fault.delay = std::chrono::milliseconds(delay.value_or(0));
    json out = fault_json(fault);
    state.faults.add(std::move(fault));
    return http::Response::json(201, json_text(out));
  }

  // POST /sandbox/faults {"provider","events":{"duplicate"?,"reorder"?,"delayMs"?},"count"?}:
  // the events of the provider's next `count` messages whose accounts have a receiver.
  http::Response add_event_fault(const json& body, Fault fault) {
    if (fault.provider == kSmtp) {
      return http::Response::problem(400, "Invalid fault", "the smtp provider posts no events");
    }
    for (const char* send_only : {"status", "retryAfter", "delayMs"}) {
      if (body.contains(send_only)) {
        return http::Response::problem(
            400, "Invalid fault",
            std::string(send_only) +
                " is for send faults; an event fault has only events and "
                "count (events.delayMs delays the events)");
      }
    }
    std::string error;
    fault.events = event_fault(body["events"], error);
    auto count = int_field(body, "count", 1, 1'000'000'000, error);
    if (!error.empty()) return http::Response::problem(400, "Invalid fault", error);
    fault.count = static_cast<std::uint32_t>(count.value_or(1));
    json out = fault_json(fault);
    state.event_faults.add(std::move(fault));
    return http::Response::json(201, json_text(out));
  }

  http::Response inbox() {
    auto recent = state.messages.list({}, {}, kInboxSize);
    std::reverse(recent.begin(), recent.end());
    return render_inbox(recent, state.messages.stats());
  }

  SandboxState state;
  http::Router router;
};

Sandbox::Sandbox(SandboxOptions options) : impl_(std::make_unique<Impl>(options)) {}
Sandbox::~Sandbox() = default;

http::Response Sandbox::handle(http::Request& request) {
  return impl_->router.handle(request);
}

bool Sandbox::wait_for_events(std::chrono::milliseconds timeout) {
  return impl_->state.events.wait_idle(timeout);
}

SandboxState& Sandbox::state() {
  return impl_->state;
}

http::Handler Sandbox::handler() {
  return [impl = impl_.get()](http::Request& request) { return impl->router.handle(request); };
}

}  // namespace herald::sandbox
