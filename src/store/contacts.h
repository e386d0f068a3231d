// Contacts (an agent's buyers, sellers and leads) and suppressions (who must not be sent to).
// Issue 4. Owned by the contacts work; see store.h for conventions (agent_id scoping).
#pragma once

namespace herald::store {

class ContactStore {
 public:
  virtual ~ContactStore() = default;
};

}  // namespace herald::store
