#include "delivery/send.h"

namespace herald::delivery {

using providers::OutcomeKind;
using providers::SendOutcome;

HttpRequest build_request(SendUnit& unit) {
  std::vector<OutboundMessage> batch;
  batch.reserve(unit.size());
  for (Job* j : unit) batch.push_back(std::move(*j->outbound));
  const Route& route = *unit.front()->route;
  HttpRequest request = provider_of(route).build_send(route.credentials, batch);
  for (std::size_t k = 0; k < batch.size(); ++k) {
    Job* j = unit[k];
    j->outbound->headers = std::move(batch[k].headers);
    if (!j->outcome.keep_body) j->unrendered = true;
  }
  return request;
}

void classify_answers(const SendUnit& unit, const Result<HttpResponse>& response,
                      std::vector<Answer>& answers) {
  const auto& provider = provider_of(*unit.front()->route);
  std::vector<SendOutcome> got;
  if (response) {
    got = provider.classify_send(*response, unit.size());
  } else {
    got = provider.classify_send(HttpResponse{}, unit.size());
    for (auto& o : got) o.reason = response.error().message;
  }
  got.resize(unit.size(), SendOutcome{OutcomeKind::retryable, "", std::nullopt, "no outcome", 0});
  for (std::size_t k = 0; k < unit.size(); ++k) answers.push_back({unit[k], std::move(got[k])});
}

namespace {

// Ends every message of a unit whose request could not be built or whose answer could not be
// read (the adapter threw): one request carries them all.
void fail_unit(Pass& pass, const SendUnit& unit, const char* what) {
  for (Job* j : unit) fail_internally(pass, *j, what);
}

}  // namespace

std::vector<Answer> send_slice(Pass& pass, net::HttpClient& http, std::span<SendUnit> units) {
  std::vector<HttpRequest> requests;
  std::vector<const SendUnit*> sent;  // the units whose request was built, in request order
  requests.reserve(units.size());
  sent.reserve(units.size());
  for (SendUnit& unit : units) {
    try {
      requests.push_back(build_request(unit));
      sent.push_back(&unit);
    } catch (const std::exception& e) {
      fail_unit(pass, unit, e.what());
    }
  }
  auto responses = http.perform_all(requests);
  std::vector<Answer> answers;
  for (std::size_t g = 0; g < sent.size(); ++g) {
    const std::size_t before = answers.size();
    try {
      classify_answers(*sent[g], responses[g], answers);
    } catch (const std::exception& e) {
      answers.resize(before);
      fail_unit(pass, *sent[g], e.what());
    }
  }
  return answers;
}

}  // namespace herald::delivery
