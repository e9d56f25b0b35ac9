#include "outputs/elasticsearch/elasticsearch_output.h"

#include <curl/curl.h>
#include <simdjson.h>
#include <zlib.h>

#include <array>
#include <cstdio>
#include <span>

#include "config/expr_reader.h"
#include "core/json.h"
#include "core/log.h"
#include "core/time.h"
#include "outputs/common/http_answer.h"
#include "outputs/common/http_url.h"

namespace bifrost::outputs::elasticsearch {

namespace {

constexpr std::size_t kMaxConcurrency = 16;

bool gzip(std::string_view in, std::string& out) {
  z_stream z{};
  if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) return false;
  out.resize(deflateBound(&z, in.size()) + 32);
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  int rc = deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  return rc == Z_STREAM_END;
}

std::size_t collect(char* data, std::size_t size, std::size_t n, void* user) {
  static_cast<std::string*>(user)->append(data, size * n);
  return size * n;
}

// A connection error: another host may answer.
bool connection_error(CURLcode c) {
  return c == CURLE_COULDNT_CONNECT || c == CURLE_COULDNT_RESOLVE_HOST || c == CURLE_SEND_ERROR ||
         c == CURLE_RECV_ERROR || c == CURLE_GOT_NOTHING;
}

class ElasticsearchOutput final : public pipeline::Output {
 public:
  ElasticsearchOutput(const Spec& spec, std::string id) : spec_(spec), id_(std::move(id)) {
    std::string key = read_secret(spec.api_key, spec.api_key_file, secret_error_);
    password_ = read_secret(spec.password, spec.password_file, secret_error_);
    if (!secret_error_.empty()) core::log::error(id_, secret_error_);
    headers_ = curl_slist_append(headers_, "Content-Type: application/x-ndjson");
    if (spec.gzip) headers_ = curl_slist_append(headers_, "Content-Encoding: gzip");
    if (!key.empty()) headers_ = curl_slist_append(headers_, ("Authorization: ApiKey " + key).c_str());
    headers_ = curl_slist_append(headers_, "Expect:");  // no 100-continue round trip
    multi_ = curl_multi_init();
    window_ = static_cast<std::size_t>(spec.concurrency);
    for (std::size_t i = 0; i <= window_; ++i) {
      Flight& f = flights_[i];
      f.easy = curl_easy_init();
      curl_easy_setopt(f.easy, CURLOPT_PRIVATE, &f);
      curl_easy_setopt(f.easy, CURLOPT_HTTPHEADER, headers_);
      curl_easy_setopt(f.easy, CURLOPT_WRITEFUNCTION, &collect);
      curl_easy_setopt(f.easy, CURLOPT_WRITEDATA, &f.response);
      curl_easy_setopt(f.easy, CURLOPT_TIMEOUT_MS, static_cast<long>(spec.timeout_ns / 1'000'000));
      curl_easy_setopt(f.easy, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(spec.connect_timeout_ns / 1'000'000));
      curl_easy_setopt(f.easy, CURLOPT_NOSIGNAL, 1L);
      curl_easy_setopt(f.easy, CURLOPT_TCP_NODELAY, 1L);
      curl_easy_setopt(f.easy, CURLOPT_ACCEPT_ENCODING, "");
      if (!spec.user.empty()) {
        curl_easy_setopt(f.easy, CURLOPT_USERNAME, spec.user.c_str());
        curl_easy_setopt(f.easy, CURLOPT_PASSWORD, password_.c_str());
      }
      if (!spec.ca_file.empty()) curl_easy_setopt(f.easy, CURLOPT_CAINFO, spec.ca_file.c_str());
      if (!spec.verify) {
        curl_easy_setopt(f.easy, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(f.easy, CURLOPT_SSL_VERIFYHOST, 0L);
      }
    }
  }

  ~ElasticsearchOutput() override {
    for (std::size_t i = 0; i <= window_; ++i) {
      if (flights_[i].added) curl_multi_remove_handle(multi_, flights_[i].easy);
      curl_easy_cleanup(flights_[i].easy);
    }
    curl_multi_cleanup(multi_);
    curl_slist_free_all(headers_);
  }

  void encode(const core::Batch& batch, core::OutputSlot& slot) const override {
    thread_local core::Rfc3339Cache cache;
    thread_local std::string scratch;
    slot.encoded.clear();
    slot.ends.clear();
    // auto ids need a source identity; events read back from a disk buffer
    // or the failed queue have none: Elasticsearch makes their ids.
    const bool auto_id = spec_.id == Spec::Id::kAuto && (batch.source_id != 0 || !batch.source.empty());
    const std::uint64_t source_key = batch.source_id != 0 ? batch.source_id : fnv1a(batch.source);
    for (std::uint32_t i : slot.selected) {
      const core::Event& e = batch.events[i];
      slot.encoded.append(spec_.create ? "{\"create\":{\"_index\":" : "{\"index\":{\"_index\":");
      scratch.clear();
      spec_.index->render(e, scratch);
      core::append_json_string(slot.encoded, scratch);
      if (auto_id) {
        char id[48];
        int n = std::snprintf(id, sizeof id, "%016llx-%llx", static_cast<unsigned long long>(source_key),
                              static_cast<unsigned long long>(e.offset));
        slot.encoded.append(",\"_id\":\"").append(id, static_cast<std::size_t>(n)).append("\"");
      } else if (spec_.id == Spec::Id::kTemplate) {
        scratch.clear();
        spec_.id_template->render(e, scratch);
        if (!scratch.empty()) {
          slot.encoded.append(",\"_id\":");
          core::append_json_string(slot.encoded, scratch);
        }
      }
      slot.encoded.append("}}\n");
      core::append_event_json(slot.encoded, e, cache);
      slot.encoded.push_back('\n');
      slot.ends.push_back(static_cast<std::uint32_t>(slot.encoded.size()));
    }
  }

  std::size_t in_flight() const override { return window_; }

  std::uint64_t begin(const core::Batch&, const core::OutputSlot& slot) override {
    std::uint64_t r = 0;
    while (flights_[r].busy) ++r;  // never more than window_ + 1 begun
    Flight& f = flights_[r];
    f.busy = true;
    f.slot = &slot;
    f.next = 0;
    f.report.reset(slot.selected.size());
    if (!secret_error_.empty()) {
      for (std::size_t i = 0; i < slot.selected.size(); ++i) f.report.set(i, pipeline::Outcome::kRetry, secret_error_);
      f.next = slot.selected.size();
      return r;
    }
    take_next(f);
    if (!f.items.empty()) start(f);
    return r;
  }

  void end(std::uint64_t ticket, pipeline::DeliveryReport& report) override {
    Flight& f = flights_[ticket];
    while (!f.items.empty()) {
      wait(f);
      if (!finish(f, f.items)) {
        hold_back(f);
        break;
      }
      take_next(f);
      if (!f.items.empty()) start(f);
    }
    std::swap(report, f.report);
    f.busy = false;
  }

  void write(const core::Batch& batch, const core::OutputSlot& slot, pipeline::DeliveryReport& report) override {
    end(begin(batch, slot), report);
  }

 private:
  struct Flight {
    CURL* easy = nullptr;
    bool added = false;
    bool busy = false;
    bool done = false;
    CURLcode result = CURLE_OK;
    long status = 0;
    std::size_t host = 0;
    std::size_t hosts_tried = 0;
    const core::OutputSlot* slot = nullptr;
    std::size_t next = 0;                // the next slot index not yet in a request
    std::vector<std::uint32_t> items;    // slot indexes of the request on its way
    std::string body, packed, response;  // packed: the gzipped body
    pipeline::DeliveryReport report;
  };

  static std::uint64_t fnv1a(std::string_view s) {
    std::uint64_t h = 1469598103934665603ull;
    for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
    return h;
  }

  std::string_view doc(const Flight& f, std::size_t i) const {
    std::size_t b = i == 0 ? 0 : f.slot->ends[i - 1];
    return std::string_view(f.slot->encoded).substr(b, f.slot->ends[i] - b);
  }

  // The next request's items: up to max_events and max_bytes (at least one).
  void take_next(Flight& f) {
    f.items.clear();
    std::size_t bytes = 0;
    const std::size_t n = f.slot->selected.size();
    while (f.next < n && f.items.size() < static_cast<std::size_t>(spec_.max_events)) {
      std::size_t len = doc(f, f.next).size();
      if (!f.items.empty() && bytes + len > spec_.max_bytes) break;
      f.items.push_back(static_cast<std::uint32_t>(f.next++));
      bytes += len;
    }
    f.hosts_tried = 0;
  }

  // Starts a bulk request with these items on the flight's handle.
  void start(Flight& f, std::span<const std::uint32_t> items) {
    f.body.clear();
    for (std::uint32_t i : items) f.body.append(doc(f, i));
    const std::string* body = &f.body;
    if (spec_.gzip && gzip(f.body, f.packed)) body = &f.packed;
    f.host = next_host_++ % spec_.hosts.size();
    url_ = spec_.hosts[f.host] + "/_bulk";
    if (!spec_.pipeline.empty()) url_ += "?pipeline=" + spec_.pipeline;
    curl_easy_setopt(f.easy, CURLOPT_URL, url_.c_str());
    curl_easy_setopt(f.easy, CURLOPT_POSTFIELDS, body->data());
    curl_easy_setopt(f.easy, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body->size()));
    f.response.clear();
    f.done = false;
    f.status = 0;
    curl_multi_add_handle(multi_, f.easy);
    f.added = true;
  }
  void start(Flight& f) { start(f, f.items); }

  // Drives every request on its way until f's is done.
  void wait(Flight& f) {
    while (!f.done) {
      int running = 0;
      curl_multi_perform(multi_, &running);
      int left = 0;
      while (CURLMsg* m = curl_multi_info_read(multi_, &left)) {
        if (m->msg != CURLMSG_DONE) continue;
        Flight* g = nullptr;
        curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, reinterpret_cast<char**>(&g));
        g->result = m->data.result;
        curl_easy_getinfo(m->easy_handle, CURLINFO_RESPONSE_CODE, &g->status);
        curl_multi_remove_handle(multi_, m->easy_handle);
        g->added = false;
        g->done = true;
      }
      if (!f.done) curl_multi_poll(multi_, nullptr, 0, 100, nullptr);
    }
  }

  // Sends these items now and waits for them (a split, a failover).
  bool send_now(Flight& f, std::span<const std::uint32_t> items) {
    start(f, items);
    wait(f);
    return finish(f, items);
  }

  // Judges the answer to the request of `items`; false when they are to
  // be retried (then nothing after them may go ahead).
  bool finish(Flight& f, std::span<const std::uint32_t> items) {
    if (f.result != CURLE_OK) {
      std::string reason =
          std::string("request to ") + spec_.hosts[f.host] + " failed: " + curl_easy_strerror(f.result);
      if (connection_error(f.result) && ++f.hosts_tried < spec_.hosts.size()) {
        core::log::warn(id_, reason, "; trying the next host");
        std::vector<std::uint32_t> again(items.begin(), items.end());
        return send_now(f, again);
      }
      for (std::uint32_t i : items) f.report.set(i, pipeline::Outcome::kRetry, reason);
      return false;
    }
    const long status = f.status;
    if (status >= 200 && status < 300) return judge_items(f, items);
    std::string reason = http_failure(status, f.response);
    if (status == 413 && items.size() > 1) {
      core::log::info(id_, "HTTP 413 for a bulk request of ", items.size(), " documents: sending it in two halves");
      std::vector<std::uint32_t> all(items.begin(), items.end());
      const std::size_t half = all.size() / 2;
      std::span<const std::uint32_t> a(all.data(), half), b(all.data() + half, all.size() - half);
      if (!send_now(f, a)) {
        for (std::uint32_t i : b) f.report.set(i, pipeline::Outcome::kRetry, "waiting behind a failed request");
        return false;
      }
      return send_now(f, b);
    }
    if (transient_status(status)) {
      for (std::uint32_t i : items) f.report.set(i, pipeline::Outcome::kRetry, reason);
      return false;
    }
    for (std::uint32_t i : items) f.report.set(i, pipeline::Outcome::kRejected, reason);
    return true;
  }

  // A 2xx bulk answer: one outcome per item.
  bool judge_items(Flight& f, std::span<const std::uint32_t> items) {
    simdjson::dom::element doc;
    if (parser_.parse(f.response).get(doc) != simdjson::SUCCESS) {
      for (std::uint32_t i : items) f.report.set(i, pipeline::Outcome::kRetry, "the bulk answer is not JSON");
      return false;
    }
    bool errors = true;
    if (doc["errors"].get(errors) == simdjson::SUCCESS && !errors) return true;
    simdjson::dom::array answers;
    if (doc["items"].get(answers) != simdjson::SUCCESS || answers.size() != items.size()) {
      for (std::uint32_t i : items)
        f.report.set(i, pipeline::Outcome::kRetry, "the bulk answer has no item per document");
      return false;
    }
    std::size_t k = 0;
    std::string reason;
    for (simdjson::dom::element item : answers) {
      const std::uint32_t i = items[k++];
      simdjson::dom::object outer;
      if (item.get(outer) != simdjson::SUCCESS || outer.size() == 0) {
        f.report.set(i, pipeline::Outcome::kRetry, "an unreadable bulk item");
        continue;
      }
      simdjson::dom::element result = (*outer.begin()).value;
      std::int64_t status = 0;
      if (result["status"].get(status) != simdjson::SUCCESS) status = 0;
      if (status >= 200 && status < 300) continue;
      if (status == 409 && spec_.create && spec_.id == Spec::Id::kAuto) continue;  // there from an earlier attempt
      std::string_view type, why;
      if (result["error"]["type"].get(type) != simdjson::SUCCESS) type = "error";
      if (result["error"]["reason"].get(why) != simdjson::SUCCESS) why = "(no reason given)";
      reason.assign("Elasticsearch ").append(std::to_string(status)).append(" ").append(type).append(": ").append(why);
      const bool transient = status == 429 || status >= 500 || status == 0;
      f.report.set(i, transient ? pipeline::Outcome::kRetry : pipeline::Outcome::kRejected, reason);
    }
    return true;  // items to retry are retried alone; the rest of the batch goes on
  }

  // After a request to retry: what has not been sent waits behind it.
  void hold_back(Flight& f) {
    const std::size_t n = f.slot->selected.size();
    for (std::size_t i = f.next; i < n; ++i)
      f.report.set(i, pipeline::Outcome::kRetry, "waiting behind a failed request");
    f.next = n;
    f.items.clear();
  }

  const Spec& spec_;
  std::string id_;
  std::string password_;
  std::string secret_error_;
  curl_slist* headers_ = nullptr;
  CURLM* multi_ = nullptr;
  std::size_t window_ = 2;
  std::size_t next_host_ = 0;
  std::string url_;
  simdjson::dom::parser parser_;
  std::array<Flight, kMaxConcurrency + 1> flights_;
};

}  // namespace

std::unique_ptr<pipeline::Output> Spec::build(const pipeline::BuildContext& ctx) const {
  static const bool curl_ready = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
  (void)curl_ready;
  return std::make_unique<ElasticsearchOutput>(*this, ctx.component);
}

std::unique_ptr<pipeline::OutputSpec> parse(config::MapReader& r) {
  auto s = std::make_unique<Spec>();
  auto hosts =
      r.get("hosts", "list of URLs", "", "Elasticsearch nodes, http(s)://host:port; round robin, failover", true);
  s->index = config::read_template(r, "index", "bifrost-%Y.%m.%d", "the index (a template; dates from the event time)");
  s->create =
      r.choice("action", "index", {"index", "create"}, "index (overwrite) or create (data streams)") == "create";
  // Not `id`: that key names the component itself.
  auto id =
      r.get("document_id", "string", "auto", "_id: auto (from the source identity and offset), none, or a template");
  s->pipeline = r.string("pipeline", "", "an ingest pipeline");
  auto auth = r.get("auth", "map", "", "{user: U, password: P | password_file: F} or {api_key: K | api_key_file: F}");
  auto tls = r.get("tls", "map", "", "{ca_file: F, verify: true}");
  s->gzip = r.choice("compression", "none", {"none", "gzip"}, "compression of request bodies") == "gzip";
  auto batch = r.get("batch", "map", "", "{max_events: 2048, max_bytes: 10MiB}: documents per bulk request at most");
  s->concurrency = r.integer("concurrency", s->concurrency, 1, kMaxConcurrency, "bulk requests on their way at once");
  s->timeout_ns = r.duration_ns("timeout", s->timeout_ns, "time limit of a bulk request");
  s->connect_timeout_ns = r.duration_ns("connect_timeout", s->connect_timeout_ns, "time limit to connect");
  if (r.describing()) return s;

  if (hosts) {
    auto add = [&](const config::Node& n) {
      if (auto u = parse_http_url(n)) {
        std::string h = u->scheme_host_port + u->path;
        while (!h.empty() && h.back() == '/') h.pop_back();
        s->hosts.push_back(h);
      }
    };
    if (hosts->is_sequence()) {
      for (std::size_t i = 0; i < hosts->yaml().size(); ++i) add(hosts->element(i));
      if (hosts->yaml().size() == 0) hosts->error("needs at least one host");
    } else {
      add(*hosts);
    }
  }
  if (id) {
    if (auto text = id->scalar("auto, none or a template")) {
      if (*text == "auto") {
        s->id = Spec::Id::kAuto;
      } else if (*text == "none") {
        s->id = Spec::Id::kNone;
      } else if (auto t = config::parse_template(*id)) {
        s->id = Spec::Id::kTemplate;
        s->id_template = std::move(*t);
      }
    }
  }
  if (auth) {
    config::MapReader a(*auth);
    s->user = a.string("user", "", "basic auth user");
    s->password = a.string("password", "", "basic auth password");
    s->password_file = a.string("password_file", "", "a file holding the password");
    s->api_key = a.string("api_key", "", "an API key (base64 id:key)");
    s->api_key_file = a.string("api_key_file", "", "a file holding the API key");
    a.finish();
    const bool basic = !s->user.empty(), key = !s->api_key.empty() || !s->api_key_file.empty();
    if (basic == key) auth->error("auth needs user (with password or password_file) or api_key (or api_key_file)");
  }
  if (tls) {
    config::MapReader t(*tls);
    s->ca_file = t.string("ca_file", "", "CA certificates to verify the server with");
    s->verify = t.boolean("verify", s->verify, "verify the server's certificate and name");
    t.finish();
  }
  read_batch_limits(batch, "documents", s->max_events, s->max_bytes);
  if (!s->index) s->index = std::get<expr::Template>(expr::Template::parse("bifrost"));
  return s;
}

}  // namespace bifrost::outputs::elasticsearch
