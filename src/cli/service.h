// Assembles a running Herald (store, keys, workers, HTTP server) from a Config; used by
// `herald serve` and `herald demo`.
#pragma once

#include <memory>
#include <string>

#include "app/app.h"
#include "app/tracking.h"
#include "delivery/dispatcher.h"
#include "http/server/server.h"

namespace herald::cli {

class Service {
 public:
  // Opens the store (running migrations) and loads or creates the master key.
  static Result<std::unique_ptr<Service>> open(app::Config config);
  ~Service();

  // Returns in-flight claims left by a previous process to the queue, starts the workers and
  // the HTTP server. Returns the bound port.
  Result<std::uint16_t> start(const std::string& host, std::uint16_t port);
  void stop();
  app::App& app() { return *app_; }

 private:
  Service() = default;
  SystemTime clock_;
  std::unique_ptr<app::App> app_;
  std::unique_ptr<delivery::Dispatcher> dispatcher_;
  std::unique_ptr<app::TrackingWorker> tracking_;
  std::unique_ptr<http::Server> server_;
};

// Blocks until SIGINT or SIGTERM arrives (the signals must be blocked in all threads first:
// call block_stop_signals() at the start of main).
void block_stop_signals();
int wait_for_stop_signal();

int run_serve(const std::string& listen_override);
int run_migrate();

}  // namespace herald::cli
