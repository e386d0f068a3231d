#include "app/post_inbox.h"

#include <utility>

namespace herald::app {

Result<bool> PostInbox::keep(store::WebhookPost post) {
  Waiting me{std::move(post), std::nullopt};
  std::unique_lock lock(mu_);
  waiting_.push_back(&me);
  while (!me.kept) {
    if (writing_) {
      written_.wait(lock);
    } else {
      write_waiting(lock);
    }
  }
  return *std::move(me.kept);
}

std::size_t PostInbox::queued() const {
  std::lock_guard lock(mu_);
  return waiting_.size();
}

// Called with the lock held and no write under way: takes every waiting post, writes them
// without the lock (others queue up for the next wave meanwhile), then hands each its answer.
void PostInbox::write_waiting(std::unique_lock<std::mutex>& lock) {
  writing_ = true;
  std::vector<Waiting*> wave = std::exchange(waiting_, {});
  lock.unlock();
  std::vector<store::WebhookPost> posts;
  posts.reserve(wave.size());
  for (Waiting* w : wave) posts.push_back(std::move(w->post));
  Result<std::vector<bool>> kept = fail(Errc::storage, "webhook posts not written");
  try {
    kept = store_.record_posts(posts);
  } catch (const std::exception& e) {  // never leave the wave waiting for an answer
    kept = fail(Errc::storage, std::string("webhook posts not written: ") + e.what());
  }
  lock.lock();
  for (std::size_t i = 0; i < wave.size(); ++i) {
    if (kept) {
      wave[i]->kept = (*kept)[i];
    } else {
      wave[i]->kept = std::unexpected(kept.error());
    }
  }
  writing_ = false;
  written_.notify_all();
}

}  // namespace herald::app
