// A real SMTP server for tests: Debian's aiosmtpd (tests/support/smtp_server.py) with AUTH,
// STARTTLS and implicit TLS on a throwaway certificate, on free loopback ports. What it
// receives is read back parsed by Python's own `email` package (tests/support/parse_mime.py).
#pragma once

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "core/id.h"
#include "support/process.h"

namespace herald::test {

class SmtpServer {
 public:
  static constexpr const char* kUser = "herald";
  static constexpr const char* kPassword = "smtp-password";

  SmtpServer() : dir_(std::filesystem::temp_directory_path() / ("herald-smtp-" + new_id())) {
    std::filesystem::create_directories(dir_ / "mail");
    const std::string cert = (dir_ / "cert.pem").string();
    const std::string key = (dir_ / "key.pem").string();
    run("openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost -addext "
        "subjectAltName=IP:127.0.0.1,DNS:localhost -keyout " +
        key + " -out " + cert + " 2>/dev/null");
    server_ = std::make_unique<Process>(
        std::vector<std::string>{"/usr/bin/python3", source("tests/support/smtp_server.py"),
                                 "--dir", (dir_ / "mail").string(), "--cert", cert, "--key", key,
                                 "--user", kUser, "--password", kPassword},
        std::map<std::string, std::string>{}, dir_ / "server.log");
    auto ports = nlohmann::json::parse(server_->wait_for(R"((\{"starttls".*\}))"));
    starttls_port = ports["starttls"];
    tls_port = ports["tls"];
    plain_port = ports["plain"];
  }
  ~SmtpServer() {
    server_.reset();
    std::filesystem::remove_all(dir_);
  }

  int starttls_port = 0;
  int tls_port = 0;
  int plain_port = 0;
  std::string ca_file() const { return (dir_ / "cert.pem").string(); }

  // How many messages have arrived.
  std::size_t count() const {
    std::size_t n = 0;
    for (const auto& e : std::filesystem::directory_iterator(dir_ / "mail"))
      n += e.path().extension() == ".eml";
    return n;
  }

  // The messages received so far, oldest first: {envelope, parsed} per message.
  struct Received {
    nlohmann::json envelope;  // mailFrom, rcptTos, tls, authenticated
    nlohmann::json parsed;    // see parse_mime.py
    std::string raw;
  };
  std::vector<Received> received() const {
    std::vector<std::filesystem::path> files;
    for (const auto& e : std::filesystem::directory_iterator(dir_ / "mail"))
      if (e.path().extension() == ".eml") files.push_back(e.path());
    std::sort(files.begin(), files.end());
    std::vector<Received> out;
    for (const auto& f : files) {
      // Each message is parsed once (a Python run each), however often it is asked for.
      if (auto seen = parsed_.find(f.string()); seen != parsed_.end()) {
        out.push_back(seen->second);
        continue;
      }
      Received r;
      std::filesystem::path env = f;
      env.replace_extension(".json");
      r.envelope = nlohmann::json::parse(read(env));
      r.raw = read(f);
      r.parsed = nlohmann::json::parse(
          run("/usr/bin/python3 " + source("tests/support/parse_mime.py") + " " + f.string()));
      parsed_.emplace(f.string(), r);
      out.push_back(std::move(r));
    }
    return out;
  }
  // Waits until `n` messages have arrived (the server writes each once it has accepted it).
  std::vector<Received> wait_for(std::size_t n) const {
    for (int i = 0; i < 500 && count() < n; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    return received();
  }

 private:
  static std::string source(const std::string& rel) {
    return std::string(HERALD_SOURCE_DIR) + "/" + rel;
  }
  static std::string read(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  static std::string run(const std::string& cmd) {
    FILE* f = popen(cmd.c_str(), "r");
    if (!f) throw std::runtime_error("cannot run " + cmd);
    std::string out;
    char buf[4096];
    std::size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) out.append(buf, n);
    if (pclose(f) != 0) throw std::runtime_error("failed: " + cmd);
    return out;
  }

  std::filesystem::path dir_;
  std::unique_ptr<Process> server_;
  mutable std::map<std::string, Received> parsed_;
};

}  // namespace herald::test
