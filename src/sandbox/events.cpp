#include "sandbox/events.h"

#include <algorithm>

#include "sandbox/state.h"

namespace herald::sandbox {

Outcome email_outcome(std::string_view address) {
  std::string_view local = address.substr(0, address.find('@'));
  using enum EventKind;
  if (istarts_with(local, "bounce")) return {{bounced}};
  if (istarts_with(local, "soft")) return {{deferred}};
  if (istarts_with(local, "complain")) return {{delivered, complained}};
  if (istarts_with(local, "open")) return {{delivered, opened}};
  if (istarts_with(local, "click")) return {{delivered, opened, clicked}};
  return {{delivered}};
}

Outcome sms_outcome(std::string_view number) {
  using enum EventKind;
  if (number.size() >= 4 && number.substr(number.size() - 4, 3) == "000") {
    switch (number.back()) {
      case '3':
      case '5':
      case '6':
      case '7':
      case '8':
        return {{sent, undelivered}, 30000 + (number.back() - '0')};
      default:
        break;
    }
  }
  return {{sent, delivered}};
}

bool sms_opted_out(std::string_view number) {
  return number.ends_with("21610");
}

std::vector<Step> schedule(const Delivery& delivery, TimePoint now) {
  Outcome outcome = delivery.sms ? sms_outcome(delivery.to) : email_outcome(delivery.to);
  std::vector<Step> steps;
  for (std::size_t i = 0; i < outcome.events.size(); ++i) {
    // A millisecond apart, so each event's time says which came first even when reordered.
    Step step{outcome.events[i], random_hex(32), now + std::chrono::milliseconds(i)};
    if (step.kind == EventKind::undelivered) step.error_code = outcome.error_code;
    steps.push_back(std::move(step));
  }
  if (delivery.fault.reorder) std::ranges::reverse(steps);
  if (delivery.fault.duplicate) {
    std::vector<Step> twice;
    for (const Step& s : steps) {
      twice.push_back(s);
      twice.push_back(s);
    }
    steps = std::move(twice);
  }
  return steps;
}

}  // namespace herald::sandbox
