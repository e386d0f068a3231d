// `herald demo`: the sandbox plus Herald with the seed's three agents and a fourth whose email
// goes through its own mail server (the sandbox's SMTP listener), a listing each.
#pragma once

#include <string>

namespace herald::cli {

struct DemoOptions {
  std::string listen = "127.0.0.1:8080";
  std::string sandbox_listen = "127.0.0.1:8025";
  // Any free port by default: the demo connects its fourth agent to whichever port it gets.
  std::string sandbox_smtp_listen = "127.0.0.1:0";
  std::string data_dir = "./var/demo";
  bool exit_after_setup = false;
};

int run_demo(const DemoOptions& options);

}  // namespace herald::cli
