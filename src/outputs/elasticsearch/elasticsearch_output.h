// Output `elasticsearch`: the bulk API, with an outcome for every item.
//
// Up to `concurrency` bulk requests are on their way at once (libcurl's
// multi interface), round robin over `hosts`, failing over to the next host
// on a connection error. Per item of the answer: 2xx delivered; 409 on
// `create` with `id: auto` delivered (the document is there from an earlier
// attempt); 429 and 5xx retried alone (never the whole request); any other
// status rejected to the failed queue with Elasticsearch's error type and
// reason. For the whole request: 429, 5xx, a refused connection or a
// timeout retry it with backoff; 413 splits it in halves; other statuses
// reject its documents with the answer.
//
// `document_id: auto` (the default) derives each document's _id from its source's identity and
// the event's offset in it, so reading the same input again overwrites
// instead of duplicating.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config/reader.h"
#include "expr/template.h"
#include "outputs/common/http_settings.h"
#include "pipeline/component.h"

namespace bifrost::outputs::elasticsearch {

struct Spec final : pipeline::OutputSpec {
  std::vector<std::string> hosts;  // "http://127.0.0.1:9200", no trailing '/'
  std::optional<expr::Template> index;
  bool create = false;  // action: create
  enum class Id { kAuto, kNone, kTemplate } id = Id::kAuto;
  std::optional<expr::Template> id_template;
  std::string pipeline;
  HttpSettings http;  // compression, auth, tls, batch, timeouts
  std::int64_t concurrency = 2;
  std::unique_ptr<pipeline::Output> build(const pipeline::BuildContext& ctx) const override;
  // A document read again gets the same _id: overwritten, not duplicated.
  bool idempotent() const override { return id != Id::kNone; }
};

std::unique_ptr<pipeline::OutputSpec> parse(config::MapReader& r);

}  // namespace bifrost::outputs::elasticsearch
