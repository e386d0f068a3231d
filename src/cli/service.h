// Assembles a running Herald (store, keys, workers, HTTP server) from a Config; used by
// `herald serve`, `herald worker` and `herald demo`.
#pragma once

#include <memory>
#include <string>

#include "app/app.h"
#include "app/tracking.h"
#include "delivery/dispatcher.h"
#include "http/server/server.h"
#include "net/http_client.h"

namespace herald::cli {

class Service {
 public:
  // Opens the store and loads or creates the master key. A new, empty database is set up; one
  // whose schema is behind or ahead of this binary's is refused (`herald migrate` upgrades it).
  static Result<std::unique_ptr<Service>> open(app::Config config);
  ~Service();

  // `herald serve`: returns in-flight claims left by a previous process to the queue, starts the
  // HTTP server, the send workers (unless HERALD_WORKERS=0) with the scheduler, and the tracking
  // worker. Returns the bound port.
  Result<std::uint16_t> start(const std::string& host, std::uint16_t port);
  // `herald worker`: the same without the HTTP server (the send workers always run).
  Result<void> start_worker();
  void stop();
  app::App& app() { return *app_; }

 private:
  Service() = default;
  net::ClientOptions client_options() const;
  Result<void> recover_interrupted();
  Result<std::uint16_t> start_server(const std::string& host, std::uint16_t port);
  void start_dispatcher();
  void start_tracking();

  SystemTime clock_;
  std::unique_ptr<app::App> app_;
  delivery::ClientFactory make_client_;
  std::unique_ptr<delivery::Dispatcher> dispatcher_;
  std::unique_ptr<app::TrackingWorker> tracking_;
  std::unique_ptr<http::Server> server_;
};

// Blocks until SIGINT or SIGTERM arrives (the signals must be blocked in all threads first:
// call block_stop_signals() at the start of main).
void block_stop_signals();
int wait_for_stop_signal();

// The subcommands: each returns the process's exit status.
int run_serve(const std::string& listen_override);
int run_worker();
int run_migrate();

}  // namespace herald::cli
