// herald: the command-line entry point (serve, worker, sandbox, demo, migrate).
#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>

#include <iostream>

#include "cli/demo.h"
#include "cli/service.h"
#include "sandbox/sandbox.h"

int main(int argc, char** argv) {
  using namespace herald;
  // Stop signals are taken by sigwait in the main thread; block them before threads start.
  cli::block_stop_signals();
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");

  CLI::App app{"Herald: white-label email and SMS for a real-estate agent platform"};
  app.require_subcommand(1);

  std::string listen;
  auto* serve = app.add_subcommand(
      "serve", "Run the API, dashboard, scheduler and send workers (unless HERALD_WORKERS=0)");
  serve->add_option("--listen", listen, "host:port (default HERALD_LISTEN or 127.0.0.1:8080)");

  auto* worker = app.add_subcommand(
      "worker", "Run send workers and the scheduler only, no HTTP (PostgreSQL: beside serve)");

  std::string sandbox_listen = "127.0.0.1:8025";
  std::string smtp_listen = "127.0.0.1:0";
  std::size_t max_bodies = 0;
  auto* sandbox = app.add_subcommand(
      "sandbox", "Emulate Resend, SendGrid, Mailgun and Twilio locally, and a mail server (SMTP)");
  sandbox->add_option("--listen", sandbox_listen, "host:port")->capture_default_str();
  sandbox
      ->add_option("--smtp-listen", smtp_listen,
                   "host:port for the mail server (port 0: any free port, printed at start)")
      ->capture_default_str();
  sandbox->add_option("--max-bodies", max_bodies,
                      "benchmark mode: keep counts plus only the last N message bodies (0 = all)");
  sandbox::EventOptions events;
  sandbox
      ->add_option("--event-queue", events.queue_limit,
                   "messages whose delivery events may wait to be posted; beyond, they are dropped")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  sandbox
      ->add_option("--event-threads", events.threads,
                   "threads posting delivery events to registered receivers")
      ->capture_default_str()
      ->check(CLI::Range(1, 64));

  cli::DemoOptions demo_options;
  auto* demo = app.add_subcommand(
      "demo", "Start the sandbox and the server with the seed's three agents and one on SMTP");
  demo->add_option("--listen", demo_options.listen, "host:port for Herald")->capture_default_str();
  demo->add_option("--sandbox-listen", demo_options.sandbox_listen, "host:port for the sandbox")
      ->capture_default_str();
  demo->add_option("--sandbox-smtp-listen", demo_options.sandbox_smtp_listen,
                   "host:port for the sandbox's mail server (port 0: any free port)")
      ->capture_default_str();
  demo->add_option("--data-dir", demo_options.data_dir, "data directory (wiped at start)")
      ->capture_default_str();
  demo->add_flag("--exit", demo_options.exit_after_setup, "exit once the demo messages are sent");

  auto* migrate = app.add_subcommand("migrate", "Apply pending database migrations and exit");

  CLI11_PARSE(app, argc, argv);
  if (serve->parsed()) return cli::run_serve(listen);
  if (worker->parsed()) return cli::run_worker();
  if (sandbox->parsed()) {
    sandbox::SandboxOptions options;
    options.max_bodies = max_bodies;
    options.events = events;
    return sandbox::run_sandbox_command(sandbox_listen, smtp_listen, options);
  }
  if (demo->parsed()) return cli::run_demo(demo_options);
  if (migrate->parsed()) return cli::run_migrate();
  return 1;
}
