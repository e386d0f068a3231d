#include "cli/service.h"

#include <signal.h>
#include <spdlog/spdlog.h>

#include <cstdlib>
#include <iostream>

#include "app/delivery_sources.h"
#include "app/tracking_setup.h"
#include "http/api/api.h"
#include "http/api/contacts_api.h"
#include "net/http_client.h"
#include "store/store.h"

namespace herald::cli {

Result<std::unique_ptr<Service>> Service::open(app::Config config) {
  auto key = secrets::load_master_key(config.master_key, config.master_key_file);
  if (!key) return std::unexpected(key.error());
  if (key->generated) {
    spdlog::warn(
        "no master key was configured: generated a new one at {} (mode 0600); back it up, "
        "or set HERALD_MASTER_KEY",
        key->source);
  }
  // A new database is set up; one on another schema version waits for `herald migrate`.
  auto store = store::open_store(config.database_url, store::Schema::require_current);
  if (!store) return std::unexpected(store.error());
  std::unique_ptr<Service> s(new Service());
  s->app_ = std::make_unique<app::App>(std::move(config), std::move(*store),
                                       secrets::Sealer(std::move(key->key)), s->clock_);
  s->make_client_ = [options = s->client_options()] { return net::make_curl_client(options); };
  return s;
}

Service::~Service() {
  stop();
}

net::ClientOptions Service::client_options() const {
  net::ClientOptions options;
  options.ca_file = app_->config().ca_file;
  return options;
}

Result<std::uint16_t> Service::start(const std::string& host, std::uint16_t port) {
  if (auto r = recover_interrupted(); !r) return std::unexpected(r.error());
  auto listening = start_server(host, port);
  if (!listening) return listening;
  // HERALD_WORKERS=0: this process serves only; `herald worker` processes send.
  if (app_->config().workers > 0) {
    start_dispatcher();
  } else {
    spdlog::info(
        "no send workers in this process (HERALD_WORKERS=0): herald worker processes send");
  }
  // The platform's accounts register their receivers (when tracking can be on) before the
  // worker that runs registrations starts.
  if (auto planned = app::plan_platform_tracking(*app_); !planned) {
    return std::unexpected(planned.error());
  }
  start_tracking();
  return listening;
}

Result<void> Service::start_worker() {
  if (auto r = recover_interrupted(); !r) return std::unexpected(r.error());
  start_dispatcher();
  start_tracking();
  return {};
}

// What an earlier run left claimed goes back to the queue (at-least-once; Resend dedupes by
// key); the store knows whose claims those can be (on PostgreSQL only expired leases: the
// other processes sharing it hold the rest).
Result<void> Service::recover_interrupted() {
  auto n = app_->store().recover_interrupted(app_->clock().now());
  if (!n) return std::unexpected(n.error());
  if (*n > 0) spdlog::warn("requeued {} message(s) interrupted by the previous shutdown", *n);
  return {};
}

Result<std::uint16_t> Service::start_server(const std::string& host, std::uint16_t port) {
  const app::Config& cfg = app_->config();
  http::ServerOptions so;
  so.host = host;
  so.port = port;
  // Handlers are plain functions that may wait for the database (SQLite has one writer): with
  // two threads, two delivery-event posts waiting behind a campaign's write stalled every other
  // request. Sixteen let receivers queue while the rest is served (benchmark, 100k events:
  // 1,877 → 4,690 acknowledged/s, receiver p99 798 → 126 ms).
  so.threads = 16;
  so.max_body_bytes = cfg.max_body_bytes;
  // CSV contact imports stream to a temp file (bounded memory), after their own auth check.
  so.spool = api::contact_import_spool(*app_, cfg.data_dir + "/tmp");
  server_ = std::make_unique<http::Server>(so, api::make_handler(*app_, make_client_));
  std::uint16_t listening = 0;
  try {
    listening = server_->start();
  } catch (const std::exception& e) {
    return fail(Errc::config, std::string("cannot listen on ") + host + ":" + std::to_string(port) +
                                  ": " + e.what());
  }
  // Port 0 (tests) picks a free port: the public URL (links, receivers) follows the real one.
  // Nothing has been told the address yet, so no request is reading the configuration.
  if (port == 0) {
    if (auto r = app_->use_listen(host + ":" + std::to_string(listening)); !r)
      return std::unexpected(r.error());
  }
  return listening;
}

void Service::start_dispatcher() {
  dispatcher_ = std::make_unique<delivery::Dispatcher>(
      app::dispatcher_parts(*app_), app::dispatcher_options(app_->config()), make_client_);
  dispatcher_->start();
}

void Service::start_tracking() {
  tracking_ = std::make_unique<app::TrackingWorker>(*app_, make_client_);
  tracking_->start();
}

void Service::stop() {
  if (server_) server_->stop();
  if (dispatcher_) dispatcher_->stop();
  if (tracking_) tracking_->stop();
  server_.reset();
  dispatcher_.reset();
  tracking_.reset();
}

void block_stop_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

int wait_for_stop_signal() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  int sig = 0;
  sigwait(&set, &sig);
  return sig;
}

static Result<app::Config> config_from_env() {
  return app::load_config(&std::getenv);
}

int run_serve(const std::string& listen_override) {
  auto config = config_from_env();
  if (!config) {
    std::cerr << "herald: " << config.error().message << "\n";
    return 2;
  }
  if (!listen_override.empty()) {
    if (auto used = app::use_listen(*config, listen_override, "--listen"); !used) {
      std::cerr << "herald: " << used.error().message << "\n";
      return 2;
    }
  }
  auto listen = app::parse_listen(config->listen, "--listen");
  if (!listen) {
    std::cerr << "herald: " << listen.error().message << "\n";
    return 2;
  }
  if (config->platform_token.empty()) {
    std::cerr << "herald: HERALD_PLATFORM_TOKEN is not set; the API needs it to authenticate the "
                 "platform backend\n";
    return 2;
  }
  auto service = Service::open(std::move(*config));
  if (!service) {
    std::cerr << "herald: " << service.error().message << "\n";
    return 2;
  }
  auto port = (*service)->start(listen->first, listen->second);
  if (!port) {
    std::cerr << "herald: " << port.error().message << "\n";
    return 2;
  }
  std::cout << "herald listening on http://" << listen->first << ":" << *port << std::endl;
  int sig = wait_for_stop_signal();
  spdlog::info("signal {} received: stopping", sig);
  (*service)->stop();
  return 0;
}

int run_worker() {
  auto config = config_from_env();
  if (!config) {
    std::cerr << "herald: " << config.error().message << "\n";
    return 2;
  }
  // An SQLite file belongs to the one `herald serve` that sends from it (it takes back every
  // claim when it starts): a second process sending from it would send twice.
  if (!store::is_shared(config->database_url)) {
    std::cerr
        << "herald: herald worker needs a database several processes share: set "
           "HERALD_DATABASE_URL to a postgres:// URL (on SQLite, herald serve sends itself)\n";
    return 2;
  }
  if (config->workers == 0) {
    std::cerr << "herald: HERALD_WORKERS must be 1 or more for herald worker (0 leaves it "
                 "nothing to do)\n";
    return 2;
  }
  // Links in messages and receiver URLs must name the servers that answer them, not a worker.
  if (!config->public_url_set) {
    spdlog::warn(
        "HERALD_PUBLIC_URL is not set: links in messages use {} (from HERALD_LISTEN); "
        "set it to the address of the herald serve processes",
        config->public_url);
  }
  const int workers = config->workers;
  auto service = Service::open(std::move(*config));
  if (!service) {
    std::cerr << "herald: " << service.error().message << "\n";
    return 2;
  }
  if (auto started = (*service)->start_worker(); !started) {
    std::cerr << "herald: " << started.error().message << "\n";
    return 2;
  }
  std::cout << "herald worker running with " << workers << " send worker(s)" << std::endl;
  int sig = wait_for_stop_signal();
  spdlog::info("signal {} received: stopping", sig);
  (*service)->stop();
  return 0;
}

int run_migrate() {
  auto config = config_from_env();
  if (!config) {
    std::cerr << "herald: " << config.error().message << "\n";
    return 2;
  }
  auto version = store::migrate(config->database_url);
  if (!version) {
    std::cerr << "herald: " << version.error().message << "\n";
    return 2;
  }
  std::cout << "schema at version " << *version << "\n";
  return 0;
}

}  // namespace herald::cli
