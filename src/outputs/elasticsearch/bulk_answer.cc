#include "outputs/elasticsearch/bulk_answer.h"

#include <string>

namespace bifrost::outputs::elasticsearch {

namespace {

core::Result<void, Error> not_an_answer(std::span<const std::uint32_t> items, pipeline::DeliveryReport& report,
                                        const char* why) {
  for (std::uint32_t i : items) report.set(i, pipeline::Outcome::kRetry, why);
  return core::fail(Errc::kNotAnAnswer, why);
}

}  // namespace

core::Result<void, Error> judge_bulk_answer(std::string_view answer, std::span<const std::uint32_t> items,
                                            bool create_with_auto_ids, simdjson::dom::parser& parser,
                                            pipeline::DeliveryReport& report) {
  simdjson::dom::element doc;
  if (parser.parse(answer.data(), answer.size()).get(doc) != simdjson::SUCCESS) {
    return not_an_answer(items, report, "the bulk answer is not JSON");
  }
  bool errors = true;
  if (doc["errors"].get(errors) == simdjson::SUCCESS && !errors) return {};
  simdjson::dom::array answers;
  if (doc["items"].get(answers) != simdjson::SUCCESS || answers.size() != items.size()) {
    return not_an_answer(items, report, "the bulk answer has no item per document");
  }
  std::size_t k = 0;
  std::string reason;
  for (simdjson::dom::element item : answers) {
    const std::uint32_t i = items[k++];
    simdjson::dom::object outer;
    if (item.get(outer) != simdjson::SUCCESS || outer.size() == 0) {
      report.set(i, pipeline::Outcome::kRetry, "an unreadable bulk item");
      continue;
    }
    simdjson::dom::element result = (*outer.begin()).value;
    std::int64_t status = 0;
    if (result["status"].get(status) != simdjson::SUCCESS) status = 0;
    if (status >= 200 && status < 300) continue;
    if (status == 409 && create_with_auto_ids) continue;  // there from an earlier attempt
    std::string_view type, why;
    if (result["error"]["type"].get(type) != simdjson::SUCCESS) type = "error";
    if (result["error"]["reason"].get(why) != simdjson::SUCCESS) why = "(no reason given)";
    reason.assign("Elasticsearch ").append(std::to_string(status)).append(" ").append(type).append(": ").append(why);
    const bool transient = status == 429 || status >= 500 || status == 0;
    report.set(i, transient ? pipeline::Outcome::kRetry : pipeline::Outcome::kRejected, reason);
  }
  return {};  // documents to retry are retried alone; the rest of the batch goes on
}

}  // namespace bifrost::outputs::elasticsearch
