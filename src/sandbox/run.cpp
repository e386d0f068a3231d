// `herald sandbox`: serves the sandbox over HTTP and SMTP until SIGINT or SIGTERM.
#include <pthread.h>
#include <signal.h>

#include <charconv>
#include <iostream>
#include <thread>

#include "sandbox/sandbox.h"

namespace herald::sandbox {

namespace {

struct Listen {
  std::string host;
  std::uint16_t port = 0;
};

// Parses "host:port", ":port", "port" or "[v6]:port".
std::optional<Listen> parse_listen(std::string_view s) {
  Listen out{"127.0.0.1", 0};
  std::string_view port = s;
  if (s.starts_with('[')) {
    auto close = s.find(']');
    if (close == std::string_view::npos || s.substr(close + 1, 1) != ":") return std::nullopt;
    out.host = std::string(s.substr(1, close - 1));
    port = s.substr(close + 2);
  } else if (auto colon = s.rfind(':'); colon != std::string_view::npos) {
    if (s.find(':') != colon) return std::nullopt;  // a bare IPv6 address needs brackets
    if (colon > 0) out.host = std::string(s.substr(0, colon));
    port = s.substr(colon + 1);
  }
  unsigned value = 0;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (port.empty() || ec != std::errc() || end != port.data() + port.size() || value > 65535 ||
      out.host.empty()) {
    return std::nullopt;
  }
  out.port = static_cast<std::uint16_t>(value);
  return out;
}

// A host as written in a URL: an IPv6 address in brackets.
std::string url_host(const std::string& host) {
  return host.find(':') != std::string::npos ? "[" + host + "]" : host;
}

}  // namespace

int run_sandbox(const SandboxServeOptions& options) {
  // Block the stop signals before any server thread starts, so only sigwait() below sees them.
  sigset_t stop_signals;
  sigset_t previous;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, &previous);

  int code = 0;
  {
    Sandbox sandbox(options.sandbox);
    http::ServerOptions server_options;
    server_options.host = options.host;
    server_options.port = options.port;
    server_options.threads = std::max<std::size_t>(1, options.threads);
    server_options.max_body_bytes = kSandboxMaxBodyBytes;
    http::Server server(server_options, sandbox.handler());
    SmtpSink smtp(sandbox, options.smtp);
    try {
      std::uint16_t port = server.start();
      std::uint16_t smtp_port = smtp.start();
      std::cout << "sandbox listening on http://" << url_host(options.host) << ":" << port << "\n"
                << "sandbox SMTP listening on smtp://" << url_host(options.smtp.host) << ":"
                << smtp_port << " (login " << options.smtp.username << " / "
                << options.smtp.password << ")" << std::endl;
      int signal = 0;
      sigwait(&stop_signals, &signal);
      smtp.stop();
      server.stop();
    } catch (const std::exception& e) {
      std::cerr << "herald sandbox: " << e.what() << std::endl;
      code = 1;
    }
  }
  pthread_sigmask(SIG_SETMASK, &previous, nullptr);
  return code;
}

int run_sandbox(const std::string& host, std::uint16_t port) {
  SandboxServeOptions options;
  options.host = host;
  options.port = port;
  return run_sandbox(options);
}

int run_sandbox_command(const std::string& listen, const std::string& smtp_listen,
                        SandboxOptions options) {
  auto parsed = parse_listen(listen);
  auto smtp = parse_listen(smtp_listen);
  if (!parsed || !smtp) {
    std::cerr << "herald sandbox: " << (parsed ? "--smtp-listen" : "--listen")
              << " must be HOST:PORT (e.g. 127.0.0.1:" << (parsed ? "2525" : "8025") << "), got \""
              << (parsed ? smtp_listen : listen) << "\"" << std::endl;
    return 2;
  }
  SandboxServeOptions serve;
  serve.host = parsed->host;
  serve.port = parsed->port;
  serve.threads = std::max(1u, std::thread::hardware_concurrency());
  serve.sandbox = std::move(options);
  serve.smtp.host = smtp->host;
  serve.smtp.port = smtp->port;
  return run_sandbox(serve);
}

}  // namespace herald::sandbox
