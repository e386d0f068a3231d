// The connection and accept loops of Herald's HTTP server: Boost.Beast over Asio C++20
// coroutines, one io_context run by a small thread pool, one strand per connection.
// Only this file includes Beast, so only it pays Beast's compile cost.
#include "http/server/server.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <strings.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/http/file_body.hpp>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <filesystem>
#include <mutex>
#include <random>
#include <stdexcept>
#include <thread>
#include <unordered_set>

namespace herald::http {

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;

// How long a rejected connection (413/431/400) may keep sending before we close it.
constexpr std::chrono::seconds kLingerTimeout{2};
constexpr std::size_t kLingerMaxBytes = 16 << 20;

// Logs an exception that escaped a coroutine (the handler's own exceptions are caught
// earlier; this is for the impossible: allocation failure and the like).
void log_coroutine_exception(std::exception_ptr e) {
  if (!e) return;
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& x) {
    spdlog::error("http server: connection task failed: {}", x.what());
  } catch (...) {
    spdlog::error("http server: connection task failed with an unknown exception");
  }
}

bool is_parse_error(const error_code& ec) {
  return ec.category() == bhttp::make_error_code(bhttp::error::bad_method).category() &&
         ec != bhttp::error::end_of_stream && ec != bhttp::error::partial_message;
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && strncasecmp(a.data(), b.data(), a.size()) == 0;
}

// Errors from writing a spooled body to disk (as opposed to the connection failing).
bool is_storage_error(const error_code& ec) {
  return ec == boost::system::errc::no_space_on_device ||
         ec == boost::system::errc::file_too_large || ec == boost::system::errc::io_error ||
         ec == boost::system::errc::read_only_file_system ||
         ec == boost::system::errc::bad_file_descriptor || ec.value() == EDQUOT;
}

// A spooled body's file, removed when the request is done with (whatever way it ends).
struct SpoolFile {
  std::string path;
  SpoolFile() = default;
  SpoolFile(const SpoolFile&) = delete;
  SpoolFile& operator=(const SpoolFile&) = delete;
  ~SpoolFile() { remove(); }
  void remove() {
    if (!path.empty()) ::unlink(path.c_str());
    path.clear();
  }
};

// Creates a new empty file (mode 0600) in `dir`, or $TMPDIR, or /tmp; returns its descriptor.
int create_spool_file(const std::string& dir, SpoolFile& file) {
  std::string where = dir;
  if (where.empty()) {
    const char* tmp = std::getenv("TMPDIR");
    where = tmp && *tmp ? tmp : "/tmp";
  }
  std::error_code ignored;
  std::filesystem::create_directories(where, ignored);
  std::string name = where + "/herald-body-XXXXXX";
  int fd = ::mkostemp(name.data(), O_CLOEXEC);
  if (fd >= 0) file.path = std::move(name);
  return fd;
}

// The request as plain values, without its body.
template <class Body>
Request to_request(const bhttp::request<Body>& msg, const std::string& remote) {
  Request request;
  request.method = std::string(msg.method_string());
  request.target = std::string(msg.target());
  std::size_t q = request.target.find('?');
  request.path = url_decode(std::string_view(request.target).substr(0, q));
  if (q != std::string::npos) request.query = request.target.substr(q + 1);
  for (const auto& field : msg) {
    request.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
  }
  request.remote_address = remote;
  return request;
}

}  // namespace

struct Server::Impl {
  struct Session;

  Impl(ServerOptions o, Handler h)
      : options(std::move(o)),
        handler(std::move(h)),
        ioc(static_cast<int>(std::max<std::size_t>(1, options.threads))),
        acceptor(asio::make_strand(ioc)),
        id_prefix(static_cast<std::uint32_t>(std::random_device{}())) {}

  asio::awaitable<void> accept_loop();
  asio::awaitable<void> serve(std::shared_ptr<Session> s);
  // Reads a request whose body goes to a temporary file, then answers it. True: keep serving
  // the connection.
  asio::awaitable<bool> serve_spooled(std::shared_ptr<Session> s,
                                      bhttp::request_parser<bhttp::string_body>& head);
  // Calls the handler and writes its response (removing the request's spooled body file, if
  // any, as soon as the handler is done with it). True: keep serving the connection.
  asio::awaitable<bool> respond(std::shared_ptr<Session> s, Request& request, unsigned version,
                                bool keep_alive, SpoolFile* spooled = nullptr);
  // Whether a request with this (parsed) head spools its body to disk.
  template <class Body>
  bool spools(const bhttp::request<Body>& head, const std::string& remote) const {
    if (!options.spool || !options.spool->applies) return false;
    return options.spool->applies(to_request(head, remote));
  }
  // Asks a client waiting on "Expect: 100-continue" to send its body.
  template <class Body>
  asio::awaitable<bool> continue_if_asked(Session& s, const bhttp::request<Body>& head);
  asio::awaitable<void> reject(std::shared_ptr<Session> s, unsigned version, Response response);
  // Writes a response; clears keep_alive if the handler asked to close. False on a write error.
  asio::awaitable<bool> write(Session& s, unsigned version, bool& keep_alive, Response response);
  Response call_handler(Request& request);

  ServerOptions options;
  Handler handler;
  // Declared before the io_context: destroying queued handlers may destroy sessions,
  // which unregister themselves under this mutex.
  std::mutex mutex;
  std::unordered_set<Session*> sessions;  // live connections, for stop()
  bool started = false;
  bool stopping = false;
  std::uint16_t port = 0;
  asio::io_context ioc;
  tcp::acceptor acceptor;  // on its own strand, so stop() can close it safely
  std::vector<std::thread> threads;
  std::uint32_t id_prefix;
  std::atomic<std::uint64_t> next_id{0};
};

// One connection. All its work (the coroutine and stop()'s close) runs on its strand.
struct Server::Impl::Session : std::enable_shared_from_this<Session> {
  Session(Impl& owner, tcp::socket socket)
      : impl(owner), stream(std::move(socket)), delay_timer(stream.get_executor()) {
    error_code ec;
    auto endpoint = stream.socket().remote_endpoint(ec);
    if (!ec) remote = endpoint.address().to_string();
  }
  ~Session() {
    std::lock_guard lock(impl.mutex);
    impl.sessions.erase(this);
  }
  // Ends the connection: pending reads, writes and delays complete with an error.
  void close() {
    closed = true;
    error_code ec;
    stream.socket().shutdown(tcp::socket::shutdown_both, ec);
    stream.close();
    delay_timer.cancel();
  }

  Impl& impl;
  beast::tcp_stream stream;
  asio::steady_timer delay_timer;
  beast::flat_buffer buffer;
  std::string remote;
  bool closed = false;
};

Response Server::Impl::call_handler(Request& request) {
  std::string what;  // copied: the exception is gone once its catch block ends
  try {
    return handler(request);
  } catch (const std::exception& e) {
    what = e.what();
  } catch (...) {
    what = "unknown exception";
  }
  // The exception text may hold anything (even a secret); it goes to the log, never to the client.
  std::string id = fmt::format("{:08x}-{:x}", id_prefix, ++next_id);
  spdlog::error("http server: request {} {} {} failed: {}", id, request.method, request.path, what);
  return Response::problem(500, "Internal Server Error", "request id " + id)
      .set_header("X-Request-Id", id);
}

asio::awaitable<bool> Server::Impl::write(Session& s, unsigned version, bool& keep_alive,
                                          Response response) {
  bhttp::response<bhttp::string_body> res;
  res.version(version);
  res.result(response.status >= 100 && response.status <= 999
                 ? static_cast<unsigned>(response.status)
                 : 500u);
  for (auto& [name, value] : response.headers) {
    // Framing headers are ours to set.
    if (iequals(name, "Content-Length") || iequals(name, "Transfer-Encoding")) continue;
    if (iequals(name, "Connection")) {
      if (iequals(value, "close")) keep_alive = false;
      continue;
    }
    res.insert(beast::string_view(name.data(), name.size()),
               beast::string_view(value.data(), value.size()));
  }
  res.keep_alive(keep_alive);
  res.body() = std::move(response.body);
  res.prepare_payload();
  error_code ec;
  s.stream.expires_after(options.idle_timeout);
  co_await bhttp::async_write(s.stream, res, asio::redirect_error(asio::use_awaitable, ec));
  co_return !ec;
}

asio::awaitable<void> Server::Impl::reject(std::shared_ptr<Session> s, unsigned version,
                                           Response response) {
  bool keep_alive = false;
  if (!co_await write(*s, version, keep_alive, std::move(response))) co_return;
  // Lingering close: stop sending, then read and discard what the client is still sending, so
  // that closing does not reset the connection before the client has read our answer.
  error_code ec;
  s->stream.socket().shutdown(tcp::socket::shutdown_send, ec);
  s->stream.expires_after(kLingerTimeout);
  std::array<char, 16384> scratch;
  std::size_t total = 0;
  while (!ec && total < kLingerMaxBytes) {
    total += co_await s->stream.async_read_some(asio::buffer(scratch),
                                                asio::redirect_error(asio::use_awaitable, ec));
  }
}

template <class Body>
asio::awaitable<bool> Server::Impl::continue_if_asked(Session& s,
                                                      const bhttp::request<Body>& head) {
  auto expect = head[bhttp::field::expect];
  if (!iequals(std::string_view(expect.data(), expect.size()), "100-continue")) co_return true;
  bhttp::response<bhttp::empty_body> go_on{bhttp::status::continue_, head.version()};
  error_code ec;
  co_await bhttp::async_write(s.stream, go_on, asio::redirect_error(asio::use_awaitable, ec));
  co_return !ec;
}

asio::awaitable<void> Server::Impl::serve(std::shared_ptr<Session> s) {
  for (;;) {
    // Read the request head first: an oversized body is refused before it is read, and a
    // client waiting on "Expect: 100-continue" is told to go on.
    bhttp::request_parser<bhttp::string_body> parser;
    parser.header_limit(
        static_cast<std::uint32_t>(std::min<std::size_t>(options.max_header_bytes, UINT32_MAX)));
    // A declared length is checked while the head is parsed, before we know whether the request
    // spools; the in-memory limit is applied again below for requests that do not.
    std::size_t head_body_limit = options.max_body_bytes;
    if (options.spool) head_body_limit = std::max(head_body_limit, options.spool->max_body_bytes);
    parser.body_limit(head_body_limit);
    error_code ec;
    s->stream.expires_after(options.idle_timeout);
    co_await bhttp::async_read_header(s->stream, s->buffer, parser,
                                      asio::redirect_error(asio::use_awaitable, ec));
    // (A declared length over the limit stops the parse just before the head completes.)
    bool spooled = (parser.is_header_done() || ec == bhttp::error::body_limit) &&
                   spools(parser.get(), s->remote);
    if (!ec && spooled) {
      if (!co_await serve_spooled(s, parser)) co_return;
      continue;
    }
    if (!ec && options.spool) {
      auto length = parser.content_length();
      if (length && *length > options.max_body_bytes) {
        ec = bhttp::error::body_limit;
      } else {
        parser.body_limit(options.max_body_bytes);
      }
    }
    // The body usually arrived with the head: parse what is buffered without another
    // asynchronous round trip (which would cost a scheduler hop per request).
    while (!ec && !parser.is_done() && s->buffer.size() > 0) {
      std::size_t used = parser.put(s->buffer.data(), ec);
      s->buffer.consume(used);
      if (ec == bhttp::error::need_more) {
        ec = {};
        break;
      }
      if (used == 0) break;
    }
    if (!ec && !parser.is_done()) {
      if (!co_await continue_if_asked(*s, parser.get())) co_return;
      s->stream.expires_after(options.idle_timeout);
      co_await bhttp::async_read(s->stream, s->buffer, parser,
                                 asio::redirect_error(asio::use_awaitable, ec));
    }
    unsigned version = parser.is_header_done() ? parser.get().version() : 11;
    if (ec == bhttp::error::body_limit) {
      std::size_t limit = spooled ? options.spool->max_body_bytes : options.max_body_bytes;
      co_await reject(
          s, version,
          Response::problem(413, "Payload Too Large",
                            fmt::format("the request body is larger than {} bytes", limit)));
      co_return;
    }
    if (ec == bhttp::error::header_limit) {
      co_await reject(s, version,
                      Response::problem(431, "Request Header Fields Too Large",
                                        fmt::format("the request head is larger than {} bytes",
                                                    options.max_header_bytes)));
      co_return;
    }
    if (ec) {
      if (is_parse_error(ec)) {
        co_await reject(s, version, Response::problem(400, "Bad Request", ec.message()));
      }
      co_return;  // closed by the peer, timed out, or stopped
    }

    // Hand the request to the handler as plain values.
    auto& msg = parser.get();
    Request request = to_request(msg, s->remote);
    request.body = std::move(msg.body());
    if (!co_await respond(s, request, version, msg.keep_alive())) co_return;
  }
}

asio::awaitable<bool> Server::Impl::serve_spooled(std::shared_ptr<Session> s,
                                                  bhttp::request_parser<bhttp::string_body>& head) {
  unsigned version = head.get().version();
  // The body goes to a fresh private file, removed when this request is done.
  SpoolFile file;
  int fd = create_spool_file(options.spool->dir, file);
  if (fd < 0) {
    spdlog::error("http server: cannot create a file for a request body in '{}': {}",
                  options.spool->dir, std::strerror(errno));
    co_await reject(
        s, version,
        Response::problem(507, "Insufficient Storage", "the request body cannot be stored"));
    co_return false;
  }
  bhttp::request_parser<bhttp::file_body> parser(std::move(head));
  parser.body_limit(options.spool->max_body_bytes);
  error_code ec;
  {
    beast::file body_file;
    body_file.native_handle(fd);
    parser.get().body().reset(std::move(body_file), ec);
  }
  if (!ec && !parser.is_done()) {
    if (!co_await continue_if_asked(*s, parser.get())) co_return false;
  }
  // Read piece by piece, so the idle timeout limits each wait, not the whole (large) upload.
  while (!ec && !parser.is_done()) {
    s->stream.expires_after(options.idle_timeout);
    co_await bhttp::async_read_some(s->stream, s->buffer, parser,
                                    asio::redirect_error(asio::use_awaitable, ec));
  }
  if (ec == bhttp::error::body_limit) {
    co_await reject(s, version,
                    Response::problem(413, "Payload Too Large",
                                      fmt::format("the request body is larger than {} bytes",
                                                  options.spool->max_body_bytes)));
    co_return false;
  }
  if (ec) {
    if (is_storage_error(ec)) {
      spdlog::error("http server: cannot store a request body: {}", ec.message());
      co_await reject(
          s, version,
          Response::problem(507, "Insufficient Storage", "the request body cannot be stored"));
    } else if (is_parse_error(ec)) {
      co_await reject(s, version, Response::problem(400, "Bad Request", ec.message()));
    }
    co_return false;
  }
  // Everything is written; the handler reads the file by its path.
  parser.get().body().close();
  auto& msg = parser.get();
  Request request = to_request(msg, s->remote);
  request.body_file = file.path;
  co_return co_await respond(s, request, version, msg.keep_alive(), &file);
}

asio::awaitable<bool> Server::Impl::respond(std::shared_ptr<Session> s, Request& request,
                                            unsigned version, bool keep_alive, SpoolFile* spooled) {
  Response response = call_handler(request);
  if (spooled) spooled->remove();

  // A delayed response waits on a timer, never on a thread.
  error_code ec;
  if (response.delay.count() > 0 && !s->closed) {
    s->delay_timer.expires_after(response.delay);
    co_await s->delay_timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
  if (s->closed) co_return false;
  if (!co_await write(*s, version, keep_alive, std::move(response))) co_return false;
  if (!keep_alive) {
    s->stream.socket().shutdown(tcp::socket::shutdown_send, ec);
    co_return false;
  }
  co_return true;
}

asio::awaitable<void> Server::Impl::accept_loop() {
  for (;;) {
    error_code ec;
    tcp::socket socket = co_await acceptor.async_accept(
        asio::make_strand(ioc), asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      if (ec == asio::error::operation_aborted || !acceptor.is_open()) co_return;
      // E.g. out of file descriptors: back off briefly rather than spin.
      spdlog::warn("http server: accept failed: {}", ec.message());
      asio::steady_timer pause(acceptor.get_executor(), std::chrono::milliseconds(10));
      co_await pause.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      continue;
    }
    socket.set_option(tcp::no_delay(true), ec);
    auto session = std::make_shared<Session>(*this, std::move(socket));
    {
      std::lock_guard lock(mutex);
      if (stopping) continue;  // the session closes its socket as it goes
      sessions.insert(session.get());
    }
    auto executor = session->stream.get_executor();
    asio::co_spawn(executor, serve(std::move(session)), log_coroutine_exception);
  }
}

Server::Server(ServerOptions options, Handler handler)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(handler))) {}

Server::~Server() {
  stop();
}

std::uint16_t Server::start() {
  Impl& im = *impl_;
  std::lock_guard lock(im.mutex);
  if (im.stopping) throw std::runtime_error("http server: cannot start a stopped server");
  if (im.started) return im.port;

  const std::string where = im.options.host + ":" + std::to_string(im.options.port);
  error_code ec;
  tcp::endpoint endpoint;
  auto address = asio::ip::make_address(im.options.host, ec);
  if (!ec) {
    endpoint = tcp::endpoint(address, im.options.port);
  } else {
    tcp::resolver resolver(im.ioc);
    auto results = resolver.resolve(im.options.host, std::to_string(im.options.port), ec);
    if (ec || results.empty()) {
      throw std::runtime_error("http server: cannot resolve " + where + ": " + ec.message());
    }
    endpoint = *results.begin();
  }
  if (im.acceptor.open(endpoint.protocol(), ec); !ec) {
    im.acceptor.set_option(asio::socket_base::reuse_address(true), ec);
    im.acceptor.bind(endpoint, ec);
  }
  if (!ec) im.acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    error_code ignored;
    im.acceptor.close(ignored);
    throw std::runtime_error("http server: cannot listen on " + where + ": " + ec.message());
  }
  im.port = im.acceptor.local_endpoint().port();

  asio::co_spawn(im.acceptor.get_executor(), im.accept_loop(), log_coroutine_exception);
  std::size_t n = std::max<std::size_t>(1, im.options.threads);
  for (std::size_t i = 0; i < n; ++i) {
    im.threads.emplace_back([&im] {
      for (;;) {
        try {
          im.ioc.run();
          return;
        } catch (const std::exception& e) {
          spdlog::error("http server: worker thread caught: {}", e.what());
        }
      }
    });
  }
  im.started = true;
  return im.port;
}

void Server::stop() {
  Impl& im = *impl_;
  {
    std::lock_guard lock(im.mutex);
    if (!im.stopping) {
      im.stopping = true;
      if (im.started) {
        // Close the acceptor and every connection on their own strands; the threads then run
        // out of work and return.
        asio::post(im.acceptor.get_executor(), [&im] {
          error_code ec;
          im.acceptor.close(ec);
        });
        for (Impl::Session* s : im.sessions) {
          if (auto live = s->weak_from_this().lock()) {
            auto executor = live->stream.get_executor();
            asio::post(executor, [live = std::move(live)] { live->close(); });
          }
        }
      }
    }
  }
  for (auto& t : im.threads) {
    if (t.joinable()) t.join();
  }
  im.threads.clear();
}

std::uint16_t Server::port() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->port;
}

}  // namespace herald::http
