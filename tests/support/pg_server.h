// A throwaway PostgreSQL 15 cluster for a test binary, started on first use and stopped when the
// binary's tests end (a gtest Environment), with a fresh database per test. HERALD_TEST_PG_URL
// names a server to use instead (its user must be allowed to create databases). Without either,
// every PostgreSQL test fails saying why: nothing is skipped silently.
#pragma once

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <expected>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <random>
#include <sstream>
#include <string>
#include <thread>

#include <pqxx/connection>
#include <pqxx/nontransaction>

namespace herald::test {

class PgServer {
 public:
  // The binary's one server, started the first time a test asks for it.
  static PgServer& instance() {
    static PgServer server;
    return server;
  }

  // Creates an empty database for one test; returns its URL, or why there is no server.
  std::expected<std::string, std::string> create_database() {
    std::lock_guard lock(mu_);
    if (!started_) start();
    if (!error_.empty()) return std::unexpected(error_);
    const std::string name = "t_" + random_hex();
    try {
      pqxx::connection admin(admin_url_);
      pqxx::nontransaction(admin).exec("CREATE DATABASE " + name);
    } catch (const std::exception& e) {
      return std::unexpected("cannot create a test database on " + admin_url_ + ": " + e.what());
    }
    return url_of(name);
  }

  // Drops a database create_database made (its connections are closed by force).
  void drop_database(const std::string& url) {
    std::lock_guard lock(mu_);
    const std::string name = url.substr(url.rfind('/') + 1);
    try {
      pqxx::connection admin(admin_url_);
      pqxx::nontransaction(admin).exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)");
    } catch (const std::exception&) {
      // A database left behind in a throwaway cluster harms nothing.
    }
  }

  // Restarts the cluster this binary started (fast shutdown: every connection is dropped, as in
  // a real restart or failover) on the same port with the same data; returns why not, if not.
  std::expected<void, std::string> restart() {
    std::lock_guard lock(mu_);
    if (postmaster_ <= 0)
      return std::unexpected("no PostgreSQL server of this test binary's to restart" +
                             (error_.empty() ? std::string() : ": " + error_));
    stop_postmaster();
    launch(kBin, port_);
    if (postmaster_ <= 0) return std::unexpected("PostgreSQL did not start again: " + error_);
    return {};
  }

  // Stops the cluster this binary started (fast shutdown) and deletes its files.
  void stop() {
    std::lock_guard lock(mu_);
    stop_postmaster();
    if (!dir_.empty()) {
      std::error_code ec;
      std::filesystem::remove_all(dir_, ec);
      dir_.clear();
    }
  }

 private:
  PgServer() = default;
  ~PgServer() { stop(); }

  static inline const std::filesystem::path kBin = "/usr/lib/postgresql/15/bin";

  // Fast shutdown (SIGINT) of the postmaster, waiting until it is gone.
  void stop_postmaster() {
    if (postmaster_ <= 0) return;
    ::kill(postmaster_, SIGINT);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (::kill(postmaster_, 0) == 0 && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    postmaster_ = -1;
  }

  static std::string random_hex() {
    static std::mt19937_64 rng(std::random_device{}());
    std::ostringstream out;
    out << std::hex << rng() << rng();
    return out.str();
  }

  std::string url_of(const std::string& database) const {
    const std::string base = admin_url_.substr(0, admin_url_.rfind('/'));
    return base + "/" + database;
  }

  void start() {
    started_ = true;
    if (const char* url = std::getenv("HERALD_TEST_PG_URL"); url && *url) {
      admin_url_ = url;
      return;
    }
    const std::filesystem::path& bin = kBin;
    if (!std::filesystem::exists(bin / "initdb")) {
      error_ = "PostgreSQL 15 is not installed (no " + (bin / "initdb").string() +
               "): install it (scripts/install-deps.sh --test installs `postgresql`) or set "
               "HERALD_TEST_PG_URL to a server where the tests may create databases";
      return;
    }
    if (!make_dir()) return;
    if (!run(
            bin / "initdb",
            "-D " + (dir_ / "data").string() + " -A trust --no-sync -E UTF8 --locale=C -U postgres",
            "initdb.log"))
      return;
    for (int attempt = 0; attempt < 3 && postmaster_ <= 0; ++attempt) launch(bin, free_port());
  }

  // A temporary directory the server's user owns (PostgreSQL refuses to run as root).
  bool make_dir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "herald-pg-XXXXXX").string();
    if (!mkdtemp(pattern.data())) {
      error_ = "cannot create a temporary directory for PostgreSQL";
      return false;
    }
    dir_ = pattern;
    if (geteuid() == 0) {
      const passwd* pw = getpwnam("postgres");
      if (!pw || chown(dir_.c_str(), pw->pw_uid, pw->pw_gid) != 0) {
        error_ = "running as root, PostgreSQL needs the `postgres` user to own " + dir_.string();
        return false;
      }
    }
    return true;
  }

  // Runs a PostgreSQL program (as `postgres` when root); its output goes to `log` in dir_.
  bool run(const std::filesystem::path& program, const std::string& args, const std::string& log) {
    const std::string as = geteuid() == 0 ? "runuser -u postgres -- " : "";
    const std::string cmd =
        as + program.string() + " " + args + " > " + (dir_ / log).string() + " 2>&1";
    if (std::system(cmd.c_str()) == 0) return true;
    std::ifstream in(dir_ / log);
    std::stringstream text;
    text << in.rdbuf();
    error_ = program.filename().string() + " failed: " + cmd + "\n" + text.str();
    return false;
  }

  // Starts the postmaster on `port`, its socket in dir_, without fsync (a test cluster).
  void launch(const std::filesystem::path& bin, int port) {
    port_ = port;
    const std::string options = "-p " + std::to_string(port) + " -k " + dir_.string() +
                                " -c listen_addresses=127.0.0.1 -c fsync=off"
                                " -c synchronous_commit=off -c full_page_writes=off";
    if (!run(bin / "pg_ctl",
             "-D " + (dir_ / "data").string() + " -l " + (dir_ / "postgres.log").string() +
                 " -w -t 60 -o \"" + options + "\" start",
             "pg_ctl.log"))
      return;
    std::ifstream pid_file(dir_ / "data" / "postmaster.pid");
    pid_file >> postmaster_;
    admin_url_ = "postgres://postgres@127.0.0.1:" + std::to_string(port) + "/postgres";
    error_.clear();
  }

  // A TCP port nothing listens on right now.
  static int free_port() {
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    int port = 0;
    if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
        getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0)
      port = ntohs(addr.sin_port);
    close(fd);
    return port;
  }

  std::mutex mu_;
  bool started_ = false;
  std::string error_;  // why there is no server ("" when there is)
  std::string admin_url_;
  std::filesystem::path dir_;
  pid_t postmaster_ = -1;
  int port_ = 0;
};

// Stops the cluster when the binary's tests end.
class PgEnvironment : public ::testing::Environment {
 public:
  void TearDown() override { PgServer::instance().stop(); }
};

inline ::testing::Environment* const kPgEnvironment =
    ::testing::AddGlobalTestEnvironment(new PgEnvironment);

}  // namespace herald::test
