// Message templates per agent and channel. Issue 4. Platform defaults live in code
// (core/templates.h); this store holds each agent's own templates and overrides, one per
// (agent, key, channel). Every query is scoped by agent_id.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/error.h"
#include "core/types.h"

namespace herald::store {

// An agent's template as stored (validated before it gets here).
struct TemplateRow {
  std::string id;  // UUIDv7
  std::string agent_id;
  std::string key;  // slug, [a-z0-9_-]{1,64}; same key as a platform default = override
  Channel channel = Channel::email;
  std::string name;
  std::string subject;       // email
  std::string html;          // email
  std::string text;          // email
  std::string body;          // SMS
  std::int64_t version = 1;  // +1 on every update (lets a sender cache parsed templates)
  TimePoint created_at;
  TimePoint updated_at;
};

class TemplateStore {
 public:
  virtual ~TemplateStore() = default;

  // Inserts a new template. Errc::conflict when the agent already has one with this key and
  // channel.
  virtual Result<void> create(const TemplateRow& row) = 0;
  // The agent's template with this id (nullopt when absent or another agent's).
  virtual Result<std::optional<TemplateRow>> find(const std::string& agent_id,
                                                  const std::string& id) = 0;
  // The agent's template with this key and channel.
  virtual Result<std::optional<TemplateRow>> find_by_key(const std::string& agent_id,
                                                         const std::string& key,
                                                         Channel channel) = 0;
  // The agent's templates ordered by key then channel; all channels when `channel` is empty.
  virtual Result<std::vector<TemplateRow>> list(const std::string& agent_id,
                                                std::optional<Channel> channel) = 0;
  // Replaces name, key and the parts of (row.agent_id, row.id), bumps the version and sets
  // updated_at. Returns the stored row (nullopt when there is none); Errc::conflict when the
  // new key clashes with another of the agent's templates on the same channel.
  virtual Result<std::optional<TemplateRow>> update(const TemplateRow& row) = 0;
  // Deletes the agent's template; false when there was none.
  virtual Result<bool> remove(const std::string& agent_id, const std::string& id) = 0;
  // How many templates the agent has.
  virtual Result<std::int64_t> count(const std::string& agent_id) = 0;
};

}  // namespace herald::store
