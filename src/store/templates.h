// Message templates per agent and channel, with platform defaults. Issue 4.
#pragma once

namespace herald::store {

class TemplateStore {
 public:
  virtual ~TemplateStore() = default;
};

}  // namespace herald::store
