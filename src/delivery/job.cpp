#include "delivery/job.h"

#include <spdlog/spdlog.h>

namespace herald::delivery {

void finish(Job& job, TimePoint at, MessageStatus status, std::string why) {
  job.outcome.status = status;
  job.outcome.last_error = why;
  job.outcome.events.push_back({at, status, std::move(why)});
  job.done = true;
}

void fail_internally(Pass& pass, Job& job, std::string_view what, bool counted) {
  spdlog::error("worker {}: message {}: {}", pass.worker, job.message->id, what);
  if (!counted) job.outcome.attempts += 1;
  std::string why = "internal error: " + std::string(what);
  const int attempts = job.outcome.attempts;
  if (attempts >= pass.retry->max_attempts) {
    job.outcome.status = MessageStatus::failed;
    job.outcome.events.push_back(
        {pass.now, MessageStatus::failed,
         "gave up after " + std::to_string(attempts) + " attempts: " + why});
  } else {
    job.outcome.status = MessageStatus::retrying;
    job.outcome.next_attempt_at =
        pass.now + pass.retry->delay(attempts, std::nullopt, pass.random());
    job.outcome.events.push_back({pass.now, MessageStatus::retrying, why});
  }
  job.outcome.last_error = std::move(why);
  job.done = true;
}

}  // namespace herald::delivery
