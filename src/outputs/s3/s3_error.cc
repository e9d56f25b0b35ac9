#include "outputs/s3/s3_error.h"

#include <algorithm>

namespace bifrost::outputs::s3 {

std::string xml_text(std::string_view xml, std::string_view tag) {
  const std::string open = "<" + std::string(tag) + ">", close = "</" + std::string(tag) + ">";
  const std::size_t from = xml.find(open);
  if (from == std::string_view::npos) return {};
  const std::size_t start = from + open.size();
  const std::size_t end = xml.find(close, start);
  if (end == std::string_view::npos) return {};
  std::string_view raw = xml.substr(start, std::min<std::size_t>(end - start, 512));
  std::string out;
  for (std::size_t i = 0; i < raw.size(); ++i) {
    const char c = raw[i];
    if (c == '&') {
      static constexpr std::pair<std::string_view, char> kEntities[] = {
          {"&lt;", '<'}, {"&gt;", '>'}, {"&amp;", '&'}, {"&quot;", '"'}, {"&apos;", '\''}};
      bool done = false;
      for (const auto& [name, ch] : kEntities) {
        if (raw.substr(i, name.size()) == name) {
          out.push_back(ch);
          i += name.size() - 1;
          done = true;
          break;
        }
      }
      if (done) continue;
    }
    // Control bytes (garbage) become spaces: the reason goes to a log line.
    out.push_back(static_cast<unsigned char>(c) < 0x20 ? ' ' : c);
  }
  return out;
}

S3Failure judge_status(long status, std::string_view body) {
  S3Failure f;
  const std::string code = xml_text(body, "Code");
  const std::string message = xml_text(body, "Message");
  f.transient = status == 408 || status == 429 || status >= 500 || code == "SlowDown" || code == "InternalError" ||
                code == "RequestTimeout" || code == "ServiceUnavailable" || code == "RequestTimeTooSkewed";
  if (!code.empty()) {
    f.reason = "S3 " + code + (message.empty() ? "" : ": " + message) + " (HTTP " + std::to_string(status) + ")";
  } else {
    std::string start(body.substr(0, 200));
    std::replace_if(
        start.begin(), start.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20; }, ' ');
    f.reason = "HTTP " + std::to_string(status) + (start.empty() ? "" : ": " + start);
  }
  return f;
}

}  // namespace bifrost::outputs::s3
