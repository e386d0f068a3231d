#include "app/listings.h"

#include <cmath>

#include <nlohmann/json.hpp>

#include "app/agents.h"
#include "core/id.h"
#include "core/templates.h"
#include "core/validate.h"

namespace herald::app {

nlohmann::json listing_vars(const store::Listing& listing) {
  return herald::listing_vars(listing.id, listing.address, listing.price);
}

Result<ListingCreated> create_listing(App& app, const std::string& agent_id, const NewListing& in) {
  std::vector<FieldError> errors;
  if (in.address.empty()) errors.push_back({"address", "is required"});
  if (in.address.size() > 500) errors.push_back({"address", "must be at most 500 characters"});
  if (!in.price) {
    errors.push_back({"price", "is required"});
  } else if (!std::isfinite(*in.price) || *in.price < 0 || *in.price > 1e12) {
    errors.push_back({"price", "must be a non-negative number of dollars"});
  }
  if (in.seller_name.empty()) errors.push_back({"seller.name", "is required"});
  if (in.seller_name.size() > 200)
    errors.push_back({"seller.name", "must be at most 200 characters"});
  if (in.seller_email.empty()) {
    errors.push_back({"seller.email", "is required"});
  } else if (!is_valid_email(in.seller_email)) {
    errors.push_back({"seller.email", "is not a valid email address"});
  }
  std::string phone;
  if (!in.seller_phone.empty()) {
    auto e164 = check_phone(in.seller_phone);
    if (!e164) {
      errors.push_back({"seller.phone", e164.error().message});
    } else {
      phone = *e164;
    }
  }
  if (!errors.empty()) return fail(Error::invalid(std::move(errors)));
  if (auto rec = get_agent(app, agent_id); !rec) return std::unexpected(rec.error());

  TimePoint now = app.clock().now();
  ListingCreated out;
  out.listing = store::Listing{new_id(),       agent_id,        in.address, *in.price,
                               in.seller_name, in.seller_email, phone,      now};
  nlohmann::json vars = {
      {"seller", {{"name", in.seller_name}, {"email", in.seller_email}, {"phone", phone}}},
      {"listing", listing_vars(out.listing)},
  };
  std::string vars_json = vars.dump();
  auto welcome = [&](Channel channel, const std::string& to) {
    Message m;
    m.id = new_id();
    m.agent_id = agent_id;
    m.channel = channel;
    m.kind = MessageKind::transactional;
    m.template_key = "seller_welcome";
    m.vars_json = vars_json;
    m.to_address = to;
    m.to_name = in.seller_name;
    m.listing_id = out.listing.id;
    m.status = MessageStatus::queued;
    m.next_attempt_at = now;
    m.created_at = m.updated_at = now;
    return m;
  };
  out.messages.push_back(welcome(Channel::email, in.seller_email));
  if (!phone.empty()) out.messages.push_back(welcome(Channel::sms, phone));
  if (auto r = app.store().create_listing(out.listing, out.messages); !r) {
    return std::unexpected(r.error());
  }
  app.wake_workers();
  return out;
}

}  // namespace herald::app
