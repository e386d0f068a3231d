#include "delivery/outage.h"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace herald::delivery {

bool Outage::failed(const Error& e) {
  if (!database_unreachable(e)) return false;
  std::lock_guard lock(mu_);
  ++failures_;
  if (!down_) {
    down_ = true;
    since_ = std::chrono::steady_clock::now();
    if (log_)
      spdlog::error("the database cannot be reached ({}); sending waits, and tries again",
                    e.message);
  }
  return true;
}

void Outage::succeeded() {
  std::lock_guard lock(mu_);
  failures_ = 0;
  if (!down_) return;
  down_ = false;
  const auto away = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - since_);
  if (log_)
    spdlog::info("the database answers again (it was away for {} ms); sending resumes",
                 away.count());
}

bool Outage::active() const {
  std::lock_guard lock(mu_);
  return down_;
}

std::chrono::milliseconds Outage::backoff() const {
  std::lock_guard lock(mu_);
  const int doublings = std::clamp(failures_ - 1, 0, 6);
  return std::min(std::chrono::milliseconds(100) * (1 << doublings),
                  std::chrono::milliseconds(5000));
}

}  // namespace herald::delivery
