// The sandbox's mail server: the accept loop and the connection loop (read lines → the
// session's reply → write, with an idle timeout) on Asio coroutines and one thread, and the
// two things the session asks of the sandbox: faults, and recording an accepted mail.
#include "sandbox/smtp_sink.h"

#include <spdlog/spdlog.h>

#include <array>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <stdexcept>
#include <thread>
#include <unordered_set>

#include "sandbox/received_mail.h"
#include "sandbox/sandbox.h"
#include "sandbox/smtp_session.h"
#include "sandbox/state.h"

namespace herald::sandbox {

namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;

// The longest line read (a command, an AUTH response or a line of message data). RFC 5321
// asks for 512 and 1000 octets; clients and GMime stay far below this.
constexpr std::size_t kMaxLineBytes = 64 << 10;

void log_task_exception(std::exception_ptr e) {
  if (!e) return;
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& x) {
    spdlog::error("sandbox smtp: connection task failed: {}", x.what());
  } catch (...) {
    spdlog::error("sandbox smtp: connection task failed with an unknown exception");
  }
}

// 530 authentication required, 534 mechanism too weak, 535 credentials invalid (RFC 4954):
// the faults that answer AUTH.
bool is_auth_fault(const Fault& fault) {
  return fault.status == 530 || fault.status == 534 || fault.status == 535;
}

// The reply an injected fault gives: its code, the usual enhanced status code and words, and
// "(injected fault)" so whoever reads the error knows where it came from.
SmtpReply fault_reply(const Fault& fault) {
  const int code = fault.status;
  std::string_view text =
      code < 500 ? "4.3.0 Temporary failure, try again later" : "5.3.0 Transaction failed";
  switch (code) {
    case 421:
      text = "4.3.2 Service not available, closing transmission channel";
      break;
    case 450:
      text = "4.2.1 Mailbox temporarily unavailable";
      break;
    case 452:
      text = "4.3.1 Insufficient system storage";
      break;
    case 530:
      text = "5.7.0 Authentication required";
      break;
    case 534:
      text = "5.7.9 Authentication mechanism is too weak";
      break;
    case 535:
      text = "5.7.8 Authentication credentials invalid";
      break;
    case 550:
      text = "5.1.1 Mailbox unavailable";
      break;
    case 552:
      text = "5.3.4 Message size exceeds fixed limit";
      break;
    case 553:
      text = "5.1.3 Mailbox name not allowed";
      break;
    case 554:
      text = "5.7.1 Transaction failed";
      break;
    default:
      break;
  }
  SmtpReply reply = smtp_reply(code, std::string(text) + " (injected fault)");
  reply.close = code == 421;
  reply.delay = fault.delay;
  return reply;
}

// The recipient as the message's To or Cc shows it ("Name <addr>"), else the bare envelope
// address (a Bcc).
std::string shown_recipient(const ReceivedMail& mail, const std::string& rcpt) {
  for (const MailboxText& m : mail.visible) {
    if (iequals(m.address, rcpt) && !m.display.empty()) return m.display;
  }
  return rcpt;
}

// An accepted mail as the sandbox's records, one per envelope recipient. Herald's SMTP
// provider writes Message-ID <herald message id@sender domain> (providers/smtp.cpp), so the
// part before the last @ is the Herald message id duplicates are counted by.
std::vector<RecordedMessage> records_for(const SmtpMail& envelope, const ReceivedMail& mail,
                                         const std::string& queue_id, TimePoint now) {
  std::string herald_id = mail.message_id.substr(0, mail.message_id.rfind('@'));
  std::vector<RecordedMessage> out;
  for (const std::string& rcpt : envelope.rcpt_to) {
    RecordedMessage m;
    m.provider = kSmtp;
    m.account = envelope.username;
    m.from = mail.from.empty() ? envelope.mail_from : mail.from;
    m.to = shown_recipient(mail, rcpt);
    m.reply_to = mail.reply_to;
    m.subject = mail.subject;
    m.text = mail.text;
    m.html = mail.html;
    m.headers = mail.headers;
    m.herald_message_id = herald_id;
    m.provider_message_id = queue_id;
    m.received_at = now;
    out.push_back(std::move(m));
  }
  return out;
}

}  // namespace

struct SmtpSink::Impl {
  struct Connection;

  Impl(SandboxState& s, SmtpSinkOptions o) : state(s), options(std::move(o)), acceptor(ioc) {}

  asio::awaitable<void> accept_loop();
  asio::awaitable<void> serve(std::shared_ptr<Connection> c);
  // Reads what the client sent next, for at most the idle timeout (then c.timed_out is set).
  asio::awaitable<std::size_t> read_some(std::shared_ptr<Connection> c,
                                         std::array<char, 16384>& into, error_code& ec);
  // Writes a reply after its delay; false if the connection failed or was closed meanwhile.
  asio::awaitable<bool> write(Connection& c, const SmtpReply& reply);
  SmtpSession::Hooks hooks();
  // The end of DATA: a waiting fault refuses the mail, else it is recorded and queued.
  SmtpReply deliver(SmtpMail&& mail);

  SandboxState& state;
  const SmtpSinkOptions options;
  // Live connections, for stop(); only touched on the server's thread. Declared before the
  // io_context: destroying its queued work destroys connections, which unregister here.
  std::unordered_set<Connection*> connections;
  bool started = false;
  bool stopping = false;  // on the server's thread: no new connections
  bool stopped = false;
  std::uint16_t port = 0;
  asio::io_context ioc{1};
  tcp::acceptor acceptor;
  std::thread thread;
};

// One client connection; everything it does runs on the server's one thread.
struct SmtpSink::Impl::Connection : std::enable_shared_from_this<Connection> {
  Connection(Impl& owner, tcp::socket s)
      : impl(owner),
        socket(std::move(s)),
        idle(socket.get_executor()),
        pause(socket.get_executor()),
        session(owner.options, owner.hooks()) {}
  ~Connection() { impl.connections.erase(this); }
  // Ends the connection: a pending read, write or delay completes with an error.
  void close() {
    closed = true;
    error_code ec;
    socket.shutdown(tcp::socket::shutdown_both, ec);
    socket.close(ec);
    idle.cancel();
    pause.cancel();
  }

  Impl& impl;
  tcp::socket socket;
  asio::steady_timer idle;
  asio::steady_timer pause;
  SmtpSession session;
  std::string buffer;  // received bytes not yet handled (at most a partial line)
  bool timed_out = false;
  bool closed = false;
};

SmtpSession::Hooks SmtpSink::Impl::hooks() {
  return {.auth_fault = [this]() -> std::optional<SmtpReply> {
            auto fault = state.faults.take_if(kSmtp, is_auth_fault);
            if (!fault) return std::nullopt;
            return fault_reply(*fault);
          },
          .deliver = [this](SmtpMail&& mail) { return deliver(std::move(mail)); }};
}

SmtpReply SmtpSink::Impl::deliver(SmtpMail&& mail) {
  std::chrono::milliseconds delay{0};
  if (auto fault = state.take_fault(kSmtp)) {
    if (fault->status) return fault_reply(*fault);
    delay = fault->delay;
  }
  const std::string queue_id = random_hex(12);
  state.messages.record(records_for(mail, read_mail(mail.data), queue_id, state.now()));
  SmtpReply reply = smtp_reply(250, "2.0.0 Ok: queued as " + queue_id);
  reply.delay = delay;
  return reply;
}

asio::awaitable<bool> SmtpSink::Impl::write(Connection& c, const SmtpReply& reply) {
  error_code ec;
  if (reply.delay.count() > 0) {
    c.pause.expires_after(reply.delay);
    co_await c.pause.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    if (c.closed) co_return false;
  }
  co_await asio::async_write(c.socket, asio::buffer(reply.text),
                             asio::redirect_error(asio::use_awaitable, ec));
  co_return !ec && !c.closed;
}

asio::awaitable<std::size_t> SmtpSink::Impl::read_some(std::shared_ptr<Connection> c,
                                                       std::array<char, 16384>& into,
                                                       error_code& ec) {
  // The timer cancels the read when it fires, unless a later read moved its deadline on.
  c->idle.expires_after(options.idle_timeout);
  c->idle.async_wait([c](const error_code& e) {
    if (e || c->idle.expiry() > asio::steady_timer::clock_type::now()) return;
    c->timed_out = true;
    error_code ignored;
    c->socket.cancel(ignored);
  });
  std::size_t n = co_await c->socket.async_read_some(asio::buffer(into),
                                                     asio::redirect_error(asio::use_awaitable, ec));
  c->idle.cancel();
  co_return n;
}

asio::awaitable<void> SmtpSink::Impl::serve(std::shared_ptr<Connection> c) {
  if (!co_await write(*c, c->session.greeting())) co_return;
  std::array<char, 16384> chunk;
  for (;;) {
    // Answer every complete line received so far, in order.
    std::size_t used = 0;
    for (auto eol = c->buffer.find('\n'); eol != std::string::npos;
         eol = c->buffer.find('\n', used)) {
      std::string_view line(c->buffer.data() + used, eol - used);
      if (line.ends_with('\r')) line.remove_suffix(1);
      used = eol + 1;
      if (line.size() > kMaxLineBytes) {
        co_await write(*c, c->session.line_too_long());
        co_return;
      }
      auto reply = c->session.on_line(line);
      if (reply && (!co_await write(*c, *reply) || reply->close)) co_return;
    }
    c->buffer.erase(0, used);
    if (c->buffer.size() > kMaxLineBytes) {
      co_await write(*c, c->session.line_too_long());
      co_return;
    }
    // Then wait for more.
    error_code ec;
    std::size_t n = co_await read_some(c, chunk, ec);
    if (c->timed_out) {
      co_await write(*c, c->session.timed_out());
      co_return;
    }
    if (ec || c->closed) co_return;
    c->buffer.append(chunk.data(), n);
  }
}

asio::awaitable<void> SmtpSink::Impl::accept_loop() {
  for (;;) {
    error_code ec;
    tcp::socket socket =
        co_await acceptor.async_accept(asio::redirect_error(asio::use_awaitable, ec));
    if (stopping || !acceptor.is_open()) co_return;
    if (ec) {
      // Out of descriptors or the like: wait a moment instead of spinning.
      asio::steady_timer pause(ioc, std::chrono::milliseconds(10));
      co_await pause.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      continue;
    }
    socket.set_option(tcp::no_delay(true), ec);
    auto connection = std::make_shared<Connection>(*this, std::move(socket));
    connections.insert(connection.get());
    asio::co_spawn(ioc, serve(std::move(connection)), log_task_exception);
  }
}

SmtpSink::SmtpSink(Sandbox& sandbox, SmtpSinkOptions options)
    : impl_(std::make_unique<Impl>(sandbox.state(), std::move(options))) {
  ensure_gmime();
}

SmtpSink::~SmtpSink() {
  stop();
}

std::uint16_t SmtpSink::start() {
  Impl& im = *impl_;
  if (im.stopped) throw std::runtime_error("sandbox smtp: cannot start a stopped server");
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
      throw std::runtime_error("sandbox smtp: cannot resolve " + where + ": " + ec.message());
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
    throw std::runtime_error("sandbox smtp: cannot listen on " + where + ": " + ec.message());
  }
  im.port = im.acceptor.local_endpoint().port();
  asio::co_spawn(im.ioc, im.accept_loop(), log_task_exception);
  im.thread = std::thread([&im] {
    for (;;) {
      try {
        im.ioc.run();
        return;
      } catch (const std::exception& e) {
        spdlog::error("sandbox smtp: server thread caught: {}", e.what());
      }
    }
  });
  im.started = true;
  return im.port;
}

void SmtpSink::stop() {
  Impl& im = *impl_;
  if (im.stopped) return;
  im.stopped = true;
  if (!im.started) return;
  // Close the acceptor and every connection on the server's thread; it then runs out of work.
  asio::post(im.ioc, [&im] {
    im.stopping = true;
    error_code ec;
    im.acceptor.close(ec);
    for (Impl::Connection* c : im.connections) c->close();
  });
  if (im.thread.joinable()) im.thread.join();
}

std::uint16_t SmtpSink::port() const {
  return impl_->port;
}

}  // namespace herald::sandbox
