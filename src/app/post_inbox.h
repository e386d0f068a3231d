// The receivers' group commit. Every verified webhook post is written down before it is
// answered; written one by one, each post is a transaction of its own and the receivers queue
// for the database's writer behind each other and behind the send workers. Here the first
// receiver to arrive writes every post waiting at that moment in one transaction, and those
// that arrive meanwhile wait for the next one: one write per wave, however many receivers.
#pragma once

#include <condition_variable>
#include <mutex>
#include <optional>
#include <vector>

#include "core/error.h"
#include "store/tracking.h"

namespace herald::app {

class PostInbox {
 public:
  explicit PostInbox(store::TrackingStore& store) : store_(store) {}
  PostInbox(const PostInbox&) = delete;
  PostInbox& operator=(const PostInbox&) = delete;

  // Keeps the post durably (returns once its transaction committed). False (nothing kept):
  // its replay key was seen before. Safe from any number of threads.
  Result<bool> keep(store::WebhookPost post);
  // Posts waiting for the next write (not counting a write under way).
  std::size_t queued() const;

 private:
  struct Waiting {
    store::WebhookPost post;
    std::optional<Result<bool>> kept;
  };
  void write_waiting(std::unique_lock<std::mutex>& lock);

  store::TrackingStore& store_;
  mutable std::mutex mu_;
  std::condition_variable written_;
  std::vector<Waiting*> waiting_;
  bool writing_ = false;
};

}  // namespace herald::app
